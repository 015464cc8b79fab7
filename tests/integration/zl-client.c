/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zl-client: a small sd-bus client of com.zlayer.Runtime1 for the
 * integration suite and the demo.
 *
 *   zl-client ADDRESS call METHOD SIGNATURE [ARG…]
 *       calls a Manager method; arguments as busctl takes them
 *       ("as 2 a b", "a{sv} 1 username s bob"). Prints the reply like
 *       busctl's dump, or "ERROR <name>: <message>" and exits 1.
 *   zl-client ADDRESS run [--service NAME] [--env K=V]… [--keep] IMAGE [-- CMD…]
 *       pulls, creates, starts, waits, prints the logs (stdout entries to
 *       stdout, stderr entries to stderr), removes the container and exits
 *       with its exit code (prints "exit_code=N reason=R" on stderr).
 *   zl-client ADDRESS watch [SECONDS]
 *       prints one line per ContainerNew / ContainerStateChanged /
 *       ContainerRemoved / ImageNew / ImageRemoved signal and per
 *       PropertiesChanged of a container, until SECONDS (default 60) passed
 *       or SIGTERM.
 * ADDRESS is a D-Bus address, or "system". */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#define SERVICE "com.zlayer.Runtime1"
#define PATH "/com/zlayer/Runtime1"
#define MANAGER "com.zlayer.Runtime1.Manager"

static int connect_bus(const char *address, sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        if (strcmp(address, "system") == 0)
                return sd_bus_open_system(ret);
        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_negotiate_fds(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return 0;
}

/* Length of the single complete type at the start of @s, 0 if invalid. */
static size_t complete_type_len(const char *s) {
        size_t n;
        int depth;

        switch (*s) {
        case 'a':
                n = complete_type_len(s + 1);
                return n ? n + 1 : 0;
        case '(':
        case '{': {
                char open = *s, close = *s == '(' ? ')' : '}';
                depth = 0;
                for (n = 0; s[n]; n++) {
                        if (s[n] == open)
                                depth++;
                        else if (s[n] == close && --depth == 0)
                                return n + 1;
                }
                return 0;
        }
        case 'y': case 'b': case 'n': case 'q': case 'i': case 'u': case 'x':
        case 't': case 'd': case 's': case 'o': case 'g': case 'v': case 'h':
                return 1;
        default:
                return 0;
        }
}

static int append_one(sd_bus_message *m, const char *type, size_t len, char ***args);

static int next_arg(char ***args, const char **ret) {
        if (!**args) {
                fprintf(stderr, "zl-client: too few arguments for the signature\n");
                return -EINVAL;
        }
        *ret = *(*args)++;
        return 0;
}

static int append_basic(sd_bus_message *m, char type, const char *v) {
        char *end = NULL;
        errno = 0;
        switch (type) {
        case 's': case 'o': case 'g':
                return sd_bus_message_append_basic(m, type, v);
        case 'b': {
                int b = strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "1") == 0;
                return sd_bus_message_append_basic(m, type, &b);
        }
        case 'd': {
                double d = strtod(v, &end);
                if (errno || !end || *end)
                        return -EINVAL;
                return sd_bus_message_append_basic(m, type, &d);
        }
        case 'y': case 'q': case 'u': case 't': {
                unsigned long long u = strtoull(v, &end, 0);
                if (errno || !end || *end)
                        return -EINVAL;
                if (type == 'y') { uint8_t x = u; return sd_bus_message_append_basic(m, type, &x); }
                if (type == 'q') { uint16_t x = u; return sd_bus_message_append_basic(m, type, &x); }
                if (type == 'u') { uint32_t x = u; return sd_bus_message_append_basic(m, type, &x); }
                uint64_t x = u;
                return sd_bus_message_append_basic(m, type, &x);
        }
        case 'h': {
                /* a file descriptor number of this process: `h 3 3<file` */
                long fd = strtol(v, &end, 10);
                int x = (int) fd;
                if (errno || !end || *end || fd < 0 || fd > INT32_MAX)
                        return -EINVAL;
                return sd_bus_message_append_basic(m, type, &x);
        }
        case 'n': case 'i': case 'x': {
                long long l = strtoll(v, &end, 0);
                if (errno || !end || *end)
                        return -EINVAL;
                if (type == 'n') { int16_t x = l; return sd_bus_message_append_basic(m, type, &x); }
                if (type == 'i') { int32_t x = l; return sd_bus_message_append_basic(m, type, &x); }
                int64_t x = l;
                return sd_bus_message_append_basic(m, type, &x);
        }
        default:
                return -EOPNOTSUPP;
        }
}

static int append_seq(sd_bus_message *m, const char *sig, size_t siglen, char ***args) {
        size_t i = 0;
        while (i < siglen) {
                size_t n = complete_type_len(sig + i);
                int r;
                if (n == 0 || i + n > siglen)
                        return -EINVAL;
                r = append_one(m, sig + i, n, args);
                if (r < 0)
                        return r;
                i += n;
        }
        return 0;
}

static int append_one(sd_bus_message *m, const char *type, size_t len, char ***args) {
        char contents[256];
        const char *v = NULL;
        int r;

        if (len >= sizeof contents)
                return -E2BIG;
        if (type[0] == 'a') {
                unsigned long count;
                r = next_arg(args, &v);
                if (r < 0)
                        return r;
                count = strtoul(v, NULL, 10);
                memcpy(contents, type + 1, len - 1);
                contents[len - 1] = 0;
                r = sd_bus_message_open_container(m, 'a', contents);
                if (r < 0)
                        return r;
                for (unsigned long k = 0; k < count; k++) {
                        r = append_one(m, contents, len - 1, args);
                        if (r < 0)
                                return r;
                }
                return sd_bus_message_close_container(m);
        }
        if (type[0] == '(' || type[0] == '{') {
                memcpy(contents, type + 1, len - 2);
                contents[len - 2] = 0;
                r = sd_bus_message_open_container(m, type[0] == '(' ? 'r' : 'e', contents);
                if (r < 0)
                        return r;
                r = append_seq(m, contents, len - 2, args);
                if (r < 0)
                        return r;
                return sd_bus_message_close_container(m);
        }
        if (type[0] == 'v') {
                r = next_arg(args, &v);
                if (r < 0)
                        return r;
                r = sd_bus_message_open_container(m, 'v', v);
                if (r < 0)
                        return r;
                r = append_seq(m, v, strlen(v), args);
                if (r < 0)
                        return r;
                return sd_bus_message_close_container(m);
        }
        r = next_arg(args, &v);
        if (r < 0)
                return r;
        return append_basic(m, type[0], v);
}

static int print_error(const sd_bus_error *e, int r) {
        if (sd_bus_error_is_set(e))
                printf("ERROR %s: %s\n", e->name, e->message ? e->message : "");
        else
                printf("ERROR errno: %s\n", strerror(-r));
        fflush(stdout);
        return 1;
}

static int cmd_call(sd_bus *bus, int argc, char **argv) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        char **args;
        int r;

        if (argc < 2) {
                fprintf(stderr, "usage: zl-client ADDRESS call METHOD SIGNATURE [ARG…]\n");
                return 2;
        }
        r = sd_bus_message_new_method_call(bus, &m, SERVICE, PATH, MANAGER, argv[0]);
        if (r < 0)
                goto fail;
        args = argv + 2;
        r = append_seq(m, argv[1], strlen(argv[1]), &args);
        if (r < 0 || *args) {
                fprintf(stderr, "zl-client: arguments do not match signature %s\n", argv[1]);
                sd_bus_message_unref(m);
                return 2;
        }
        r = sd_bus_call(bus, m, 120 * 1000000ULL, &error, &reply);
        sd_bus_message_unref(m);
        if (r < 0) {
                r = print_error(&error, r);
                sd_bus_error_free(&error);
                return r;
        }
        sd_bus_message_dump(reply, stdout, 0);
        sd_bus_message_unref(reply);
        return 0;
fail:
        fprintf(stderr, "zl-client: %s\n", strerror(-r));
        return 2;
}

static void json_string(FILE *f, const char *s) {
        fputc('"', f);
        for (; *s; s++) {
                unsigned char c = *s;
                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c < 0x20)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
        fputc('"', f);
}

static int cmd_run(sd_bus *bus, int argc, char **argv) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *service = "zlclient", *image = NULL, *id_tmp, *stream, *line;
        const char *reason = "", *sig = "";
        char **cmd = NULL, *spec = NULL, *id = NULL;
        char *envs[64];
        size_t nenv = 0, speclen = 0;
        bool keep = false;
        int32_t exit_code = -1;
        uint64_t ts, finished;
        int r, i, ncmd = 0;
        FILE *f;

        for (i = 0; i < argc; i++) {
                if (strcmp(argv[i], "--service") == 0 && i + 1 < argc)
                        service = argv[++i];
                else if (strcmp(argv[i], "--env") == 0 && i + 1 < argc && nenv < 64)
                        envs[nenv++] = argv[++i];
                else if (strcmp(argv[i], "--keep") == 0)
                        keep = true;
                else if (strcmp(argv[i], "--") == 0) {
                        cmd = argv + i + 1;
                        ncmd = argc - i - 1;
                        break;
                } else if (!image)
                        image = argv[i];
                else {
                        fprintf(stderr, "zl-client run: unexpected argument %s\n", argv[i]);
                        return 2;
                }
        }
        if (!image) {
                fprintf(stderr, "usage: zl-client ADDRESS run [--service NAME] [--env K=V] [--keep] IMAGE [-- CMD…]\n");
                return 2;
        }

        f = open_memstream(&spec, &speclen);
        if (!f)
                return 2;
        fputs("{\"image\":{\"name\":", f);
        json_string(f, image);
        fputs("}", f);
        if (ncmd > 0) {
                fputs(",\"command\":{\"entrypoint\":[", f);
                for (i = 0; i < ncmd; i++) {
                        if (i)
                                fputc(',', f);
                        json_string(f, cmd[i]);
                }
                fputs("]}", f);
        }
        if (nenv > 0) {
                fputs(",\"env\":{", f);
                for (size_t k = 0; k < nenv; k++) {
                        char *eq = strchr(envs[k], '=');
                        if (!eq)
                                continue;
                        *eq = 0;
                        if (k)
                                fputc(',', f);
                        json_string(f, envs[k]);
                        fputc(':', f);
                        json_string(f, eq + 1);
                        *eq = '=';
                }
                fputs("}", f);
        }
        fputs("}", f);
        fclose(f);

        r = sd_bus_call_method(bus, SERVICE, PATH, MANAGER, "PullImage", &error, &reply,
                               "ssa{sv}", image, "", 0);
        if (r < 0)
                goto fail;
        reply = sd_bus_message_unref(reply);

        r = sd_bus_call_method(bus, SERVICE, PATH, MANAGER, "CreateContainer", &error, &reply,
                               "sus", service, (uint32_t) getpid(), spec);
        if (r < 0)
                goto fail;
        r = sd_bus_message_read(reply, "so", &id_tmp, NULL);
        if (r < 0)
                goto fail;
        id = strdup(id_tmp);
        reply = sd_bus_message_unref(reply);
        fprintf(stderr, "container %s\n", id);

        r = sd_bus_call_method(bus, SERVICE, PATH, MANAGER, "StartContainer", &error, NULL, "s", id);
        if (r < 0)
                goto fail;
        r = sd_bus_call_method(bus, SERVICE, PATH, MANAGER, "WaitContainer", &error, &reply,
                               "ss", id, "");
        if (r < 0)
                goto fail;
        r = sd_bus_message_read(reply, "isst", &exit_code, &reason, &sig, &finished);
        if (r < 0)
                goto fail;
        fprintf(stderr, "exit_code=%" PRIi32 " reason=%s signal=%s\n", exit_code, reason, sig);
        reply = sd_bus_message_unref(reply);

        r = sd_bus_call_method(bus, SERVICE, PATH, MANAGER, "GetContainerLogs", &error, &reply,
                               "st", id, (uint64_t) 0);
        if (r < 0)
                goto fail;
        r = sd_bus_message_enter_container(reply, 'a', "(tss)");
        if (r < 0)
                goto fail;
        while ((r = sd_bus_message_read(reply, "(tss)", &ts, &stream, &line)) > 0)
                fprintf(strcmp(stream, "stderr") == 0 ? stderr : stdout, "%s\n", line);
        if (r < 0)
                goto fail;
        reply = sd_bus_message_unref(reply);
        fflush(stdout);

        if (!keep) {
                r = sd_bus_call_method(bus, SERVICE, PATH, MANAGER, "RemoveContainer", &error, NULL,
                                       "sb", id, 1);
                if (r < 0)
                        goto fail;
        }
        free(id);
        free(spec);
        return exit_code < 0 ? 125 : exit_code;
fail:
        print_error(&error, r);
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        free(id);
        free(spec);
        return 125;
}

static void print_variant(sd_bus_message *m) {
        char type;
        const char *contents;
        union { uint8_t y; int b; int16_t n; uint16_t q; int32_t i; uint32_t u;
                int64_t x; uint64_t t; double d; const char *s; } v;

        if (sd_bus_message_peek_type(m, &type, &contents) <= 0)
                return;
        if (type == 'a' || type == 'r' || type == 'e' || type == 'v') {
                printf("<%c%s>", type, contents);
                sd_bus_message_skip(m, NULL);
                return;
        }
        if (sd_bus_message_read_basic(m, type, &v) < 0)
                return;
        switch (type) {
        case 's': case 'o': case 'g': printf("\"%s\"", v.s); break;
        case 'b': printf("%s", v.b ? "true" : "false"); break;
        case 'y': printf("%u", v.y); break;
        case 'n': printf("%d", v.n); break;
        case 'q': printf("%u", v.q); break;
        case 'i': printf("%" PRIi32, v.i); break;
        case 'u': printf("%" PRIu32, v.u); break;
        case 'x': printf("%" PRIi64, v.x); break;
        case 't': printf("%" PRIu64, v.t); break;
        case 'd': printf("%g", v.d); break;
        default: printf("?");
        }
}

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *member = sd_bus_message_get_member(m);
        const char *s1, *s2;
        int32_t code;

        if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.Properties", "PropertiesChanged")) {
                const char *iface, *name;
                if (sd_bus_message_read(m, "s", &iface) < 0)
                        return 0;
                printf("PropertiesChanged %s %s", sd_bus_message_get_path(m), iface);
                if (sd_bus_message_enter_container(m, 'a', "{sv}") >= 0) {
                        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                                if (sd_bus_message_read(m, "s", &name) < 0)
                                        break;
                                const char *c;
                                char t;
                                if (sd_bus_message_peek_type(m, &t, &c) < 0 ||
                                    sd_bus_message_enter_container(m, 'v', c) < 0)
                                        break;
                                printf(" %s=", name);
                                print_variant(m);
                                sd_bus_message_exit_container(m);
                                sd_bus_message_exit_container(m);
                        }
                        sd_bus_message_exit_container(m);
                }
                printf("\n");
        } else if (strcmp(member, "ContainerStateChanged") == 0 &&
                   sd_bus_message_read(m, "ssi", &s1, &s2, &code) >= 0)
                printf("ContainerStateChanged %s %s %" PRIi32 "\n", s1, s2, code);
        else if ((strcmp(member, "ContainerNew") == 0 || strcmp(member, "ContainerRemoved") == 0) &&
                 sd_bus_message_read(m, "so", &s1, &s2) >= 0)
                printf("%s %s %s\n", member, s1, s2);
        else if (strcmp(member, "ImageNew") == 0 && sd_bus_message_read(m, "ss", &s1, &s2) >= 0)
                printf("ImageNew %s %s\n", s1, s2);
        else if (strcmp(member, "ImageRemoved") == 0 && sd_bus_message_read(m, "s", &s1) >= 0)
                printf("ImageRemoved %s\n", s1);
        else
                printf("%s\n", member);
        fflush(stdout);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int cmd_watch(sd_bus *bus, int argc, char **argv) {
        sd_event *event = NULL;
        uint64_t secs = argc > 0 ? strtoull(argv[0], NULL, 10) : 60, now;
        sigset_t ss;
        int r;

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigprocmask(SIG_BLOCK, &ss, NULL);

        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, 0);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, SERVICE, PATH, MANAGER, NULL, on_signal, NULL);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, SERVICE, NULL, "org.freedesktop.DBus.Properties",
                                        "PropertiesChanged", on_signal, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_now(event, CLOCK_MONOTONIC, &now);
        if (r >= 0)
                r = sd_event_add_time(event, NULL, CLOCK_MONOTONIC, now + secs * 1000000ULL, 0,
                                      on_timeout, NULL);
        if (r < 0) {
                fprintf(stderr, "zl-client watch: %s\n", strerror(-r));
                return 2;
        }
        /* the matches are installed: tell the caller it may start acting */
        printf("WATCHING\n");
        fflush(stdout);
        r = sd_event_loop(event);
        sd_bus_detach_event(bus);
        sd_event_unref(event);
        return r < 0 ? 2 : 0;
}

int main(int argc, char **argv) {
        sd_bus *bus = NULL;
        int r;

        if (argc < 3) {
                fprintf(stderr, "usage: zl-client ADDRESS call|run|watch …\n");
                return 2;
        }
        r = connect_bus(argv[1], &bus);
        if (r < 0) {
                fprintf(stderr, "zl-client: cannot connect to %s: %s\n", argv[1], strerror(-r));
                return 2;
        }
        if (strcmp(argv[2], "call") == 0)
                r = cmd_call(bus, argc - 3, argv + 3);
        else if (strcmp(argv[2], "run") == 0)
                r = cmd_run(bus, argc - 3, argv + 3);
        else if (strcmp(argv[2], "watch") == 0)
                r = cmd_watch(bus, argc - 3, argv + 3);
        else {
                fprintf(stderr, "zl-client: unknown command %s\n", argv[2]);
                r = 2;
        }
        sd_bus_flush_close_unref(bus);
        return r;
}
