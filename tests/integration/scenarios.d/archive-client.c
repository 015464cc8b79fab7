/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helper of archive.sh: the Archive* methods take and return fds, which
 * busctl cannot stream.
 *   archive-client ADDRESS head ID PATH
 *   archive-client ADDRESS get ID PATH OUT          (OUT "-": count the bytes only)
 *   archive-client ADDRESS put ID PATH TARFILE [KEY=true|false …]   (bool options)
 *   archive-client ADDRESS export ID OUT
 * Prints the reply as JSON, or "ERROR name: message" and exits 1. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#define DEST "com.zlayer.Runtime1"
#define PATH "/com/zlayer/Runtime1"
#define IFACE "com.zlayer.Runtime1.Manager"

static long long drain(int fd, const char *out) {
        static char buf[1 << 17];
        long long total = 0;
        int dst = -1;
        ssize_t n;

        if (strcmp(out, "-") != 0 && (dst = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
                return perror(out), -1;
        while ((n = read(fd, buf, sizeof(buf))) > 0) {
                total += n;
                if (dst >= 0 && write(dst, buf, (size_t) n) != n)
                        return perror(out), -1;
        }
        if (n < 0)
                return perror("read"), -1;
        if (dst >= 0)
                close(dst);
        return total;
}

static int print_stat(sd_bus_message *reply) {
        const char *name, *mtime, *link;
        int64_t size;
        uint32_t mode;
        int r = sd_bus_message_read(reply, "sxuss", &name, &size, &mode, &mtime, &link);

        if (r < 0)
                return r;
        printf("{\"name\":\"%s\",\"size\":%lld,\"mode\":%u,\"mtime\":\"%s\",\"link_target\":\"%s\"}\n", name,
               (long long) size, mode, mtime, link);
        return 0;
}

int main(int argc, char **argv) {
        sd_bus *bus = NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *cmd;
        int r, fd, tar = -1;

        if (argc < 4) {
                fprintf(stderr, "usage: archive-client ADDRESS head|get|put|export ID …\n");
                return 2;
        }
        cmd = argv[2];
        if ((r = sd_bus_new(&bus)) < 0 || (r = sd_bus_set_address(bus, argv[1])) < 0 ||
            (r = sd_bus_set_bus_client(bus, 1)) < 0 || (r = sd_bus_negotiate_fds(bus, 1)) < 0 ||
            (r = sd_bus_start(bus)) < 0) {
                fprintf(stderr, "bus: %s\n", strerror(-r));
                return 2;
        }
        if (!strcmp(cmd, "head") && argc == 5)
                r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, IFACE, "ArchiveHead") < 0 ? -1
                        : sd_bus_message_append(m, "ss", argv[3], argv[4]);
        else if (!strcmp(cmd, "get") && argc == 6)
                r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, IFACE, "ArchiveGet") < 0 ? -1
                        : sd_bus_message_append(m, "ss", argv[3], argv[4]);
        else if (!strcmp(cmd, "export") && argc == 5)
                r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, IFACE, "ExportContainer") < 0 ? -1
                        : sd_bus_message_append(m, "s", argv[3]);
        else if (!strcmp(cmd, "put") && argc >= 6) {
                tar = open(argv[5], O_RDONLY | O_CLOEXEC);
                if (tar < 0)
                        return perror(argv[5]), 2;
                r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, IFACE, "ArchivePut");
                if (r >= 0)
                        r = sd_bus_message_append(m, "ssh", argv[3], argv[4], tar);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "{sv}");
                for (int i = 6; r >= 0 && i < argc; i++) {
                        char *eq = strchr(argv[i], '=');
                        if (!eq)
                                return fprintf(stderr, "option %s: KEY=true|false\n", argv[i]), 2;
                        *eq = 0;
                        r = sd_bus_message_append(m, "{sv}", argv[i], "b", strcmp(eq + 1, "true") == 0);
                }
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        } else {
                fprintf(stderr, "bad command line\n");
                return 2;
        }
        if (r < 0) {
                fprintf(stderr, "building the call: %s\n", strerror(-r));
                return 2;
        }
        r = sd_bus_call(bus, m, 600 * 1000000ULL, &error, &reply);
        if (r < 0) {
                printf("ERROR %s: %s\n", error.name, error.message ? error.message : "");
                return 1;
        }
        if (!strcmp(cmd, "head"))
                r = print_stat(reply);
        else if (!strcmp(cmd, "put"))
                printf("{\"ok\":true}\n");
        else {
                const char *name = "", *mtime = "", *link = "";
                int64_t size = 0;
                uint32_t mode = 0;
                long long n;

                if ((r = sd_bus_message_read(reply, "h", &fd)) < 0)
                        return 2;
                fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (!strcmp(cmd, "get") && (r = sd_bus_message_read(reply, "sxuss", &name, &size, &mode, &mtime, &link)) < 0)
                        return 2;
                name = strdup(name), mtime = strdup(mtime), link = strdup(link);
                /* the reply's copy of the fd must go, or the stream never ends */
                sd_bus_message_unref(reply);
                reply = NULL;
                n = drain(fd, argv[!strcmp(cmd, "get") ? 5 : 4]);
                if (n < 0)
                        return 2;
                if (!strcmp(cmd, "get"))
                        printf("{\"name\":\"%s\",\"size\":%lld,\"mode\":%u,\"mtime\":\"%s\",\"link_target\":\"%s\",\"bytes\":%lld}\n",
                               name, (long long) size, mode, mtime, link, n);
                else
                        printf("{\"bytes\":%lld}\n", n);
        }
        return r < 0 ? 2 : 0;
}
