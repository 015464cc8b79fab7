/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* attach-client: drives AttachContainer / ResizeContainerTTY like a person
 * at a terminal would, for scenarios.d/attach.sh.
 *
 *   attach-client ADDRESS shell ID
 *       A tty container running /bin/sh: a first attacher (stdin, logs) and a
 *       second one (output only); a typed command's output must reach both;
 *       ResizeContainerTTY(40, 100) then `stty size` must print "40 100";
 *       `exit 7` must end the first attacher's stream (EOF/EIO). Exit 0 when
 *       all held.
 *   attach-client ADDRESS cat ID TEXT
 *       A stdin_open container running cat: writes TEXT through the attach
 *       socket and reads multiplexed frames until TEXT came back on stdout;
 *       prints "frame <stream> <length>" per frame. Exit 100 on a bad frame.
 *   attach-client ADDRESS hold ID SECONDS
 *       Attaches (output only), prints "attached", holds the fd SECONDS. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#define SERVICE "com.zlayer.Runtime1"
#define PATH "/com/zlayer/Runtime1"
#define MANAGER "com.zlayer.Runtime1.Manager"
#define TIMEOUT_MS 15000

static sd_bus *bus;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs("attach-client: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        exit(1);
}

static int attach(const char *id, bool in, bool out, bool err, bool logs) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int fd, r;

        r = sd_bus_call_method(bus, SERVICE, PATH, MANAGER, "AttachContainer", &error, &reply, "sa{sv}", id, 4,
                               "stdin", "b", in, "stdout", "b", out, "stderr", "b", err, "logs", "b", logs);
        if (r < 0) {
                printf("ERROR %s: %s\n", error.name ?: "errno", error.message ?: strerror(-r));
                exit(2);
        }
        if (sd_bus_message_read(reply, "h", &fd) < 0 || (fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
                die("reading the attach fd");
        sd_bus_message_unref(reply);
        return fd;
}

typedef struct Buf {
        char data[65536];
        size_t len;
        bool eof;
} Buf;

/* Reads @fd into @b until @want appears (or EOF when @want is NULL). */
static bool read_until(int fd, Buf *b, const char *want) {
        for (;;) {
                b->data[b->len] = '\0';
                if (want && strstr(b->data, want))
                        return true;
                if (b->eof)
                        return !want;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int n = poll(&p, 1, TIMEOUT_MS);
                if (n <= 0)
                        return false;
                if (b->len + 1 >= sizeof(b->data)) {   /* keep the tail */
                        memmove(b->data, b->data + sizeof(b->data) / 2, b->len - sizeof(b->data) / 2);
                        b->len -= sizeof(b->data) / 2;
                }
                ssize_t k = read(fd, b->data + b->len, sizeof(b->data) - 1 - b->len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)   /* EIO on a PTY master once the container closed its terminal */
                        b->eof = true;
                else
                        b->len += (size_t) k;
        }
}

static void type(int fd, const char *s) {
        if (write(fd, s, strlen(s)) != (ssize_t) strlen(s))
                die("typing: %m");
}

static int do_shell(const char *id) {
        static Buf b1, b2;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int fd1 = attach(id, true, true, true, true);
        int fd2 = attach(id, false, true, false, false);
        int r;

        /* the quotes keep the echoed command line from matching */
        type(fd1, "echo hel''lo-$((6*7))\n");
        if (!read_until(fd1, &b1, "hello-42"))
                die("first attacher did not see hello-42, got: %s", b1.data);
        if (!read_until(fd2, &b2, "hello-42"))
                die("second attacher did not see hello-42, got: %s", b2.data);
        printf("both attachers saw hello-42\n");

        r = sd_bus_call_method(bus, SERVICE, PATH, MANAGER, "ResizeContainerTTY", &error, NULL, "sqq", id, 40, 100);
        if (r < 0)
                die("ResizeContainerTTY: %s", error.message ?: strerror(-r));
        type(fd1, "stty size\n");
        if (!read_until(fd1, &b1, "40 100"))
                die("stty size did not print 40 100, got: %s", b1.data);
        printf("stty size: 40 100\n");
        close(fd2);

        type(fd1, "exit 7\n");
        b1.len = 0;
        if (!read_until(fd1, &b1, NULL))
                die("the attach fd did not end after exit");
        printf("stream ended\n");
        return 0;
}

static int do_cat(const char *id, const char *text) {
        int fd = attach(id, true, true, true, false);
        static char got[65536];
        size_t got_len = 0;

        type(fd, text);
        while (!strstr(got, text)) {
                uint8_t h[8];
                uint32_t len;
                struct pollfd p = { .fd = fd, .events = POLLIN };

                if (poll(&p, 1, TIMEOUT_MS) <= 0)
                        die("no echo of the text within %d ms, got '%s'", TIMEOUT_MS, got);
                if (read(fd, h, 8) != 8)
                        die("short frame header");
                memcpy(&len, h + 4, 4);
                len = be32toh(len);
                if ((h[0] != 1 && h[0] != 2) || h[1] || h[2] || h[3] || len == 0 || got_len + len >= sizeof(got))
                        return 100;
                for (size_t k = 0; k < len;) {
                        ssize_t n = read(fd, got + got_len + k, len - k);
                        if (n <= 0)
                                die("short frame");
                        k += (size_t) n;
                }
                if (h[0] == 1)
                        got_len += len;
                got[got_len] = '\0';
                printf("frame %u %u\n", h[0], len);
        }
        printf("echoed: %s", got);
        return 0;
}

int main(int argc, char **argv) {
        int r;

        if (argc < 4)
                die("usage: attach-client ADDRESS shell|cat|hold ID [ARG]");
        r = strcmp(argv[1], "system") == 0 ? sd_bus_open_system(&bus) : sd_bus_new(&bus);
        if (r >= 0 && strcmp(argv[1], "system") != 0) {
                (void) sd_bus_set_address(bus, argv[1]);
                (void) sd_bus_set_bus_client(bus, 1);
                (void) sd_bus_negotiate_fds(bus, 1);
                r = sd_bus_start(bus);
        }
        if (r < 0)
                die("connecting to %s: %s", argv[1], strerror(-r));
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (strcmp(argv[2], "shell") == 0)
                return do_shell(argv[3]);
        if (strcmp(argv[2], "cat") == 0 && argc == 5)
                return do_cat(argv[3], argv[4]);
        if (strcmp(argv[2], "hold") == 0 && argc == 5) {
                int fd = attach(argv[3], false, true, true, false);
                printf("attached\n");
                sleep((unsigned) atoi(argv[4]));
                close(fd);
                return 0;
        }
        die("unknown mode %s", argv[2]);
}
