/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Verbs that read: logs inspect top diff port stats info version. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>

#include "config.h"
#include "errors.h"
#include "format.h"
#include "stream.h"
#include "table.h"
#include "zlayerctl.h"

#define HELP_OPTION { "help", no_argument, NULL, 'h' }

int print_logs(const char *id, uint64_t tail, uint64_t since, uint64_t until, bool timestamps,
               size_t skip, size_t *ret_count, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *stream, *line;
        uint64_t ts;
        size_t n = 0;
        int r;

        r = ctl_call(CALL_DEFAULT, "GetContainerLogs", error, &reply, "st", id, tail);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(tss)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(tss)", &ts, &stream, &line)) > 0) {
                FILE *f = streq(stream, "stderr") ? stderr : stdout;
                char buf[64];

                if (n++ < skip)
                        continue;
                if ((since && ts < since) || (until && ts > until))
                        continue;
                if (timestamps)
                        fprintf(f, "%s ", format_timestamp(ts, buf, sizeof buf));
                fprintf(f, "%s\n", line);
        }
        if (r < 0)
                return r;
        fflush(stdout);
        fflush(stderr);
        if (ret_count)
                *ret_count = n;
        return 0;
}

int open_log_fd(const char *id, bool follow, uint64_t tail, uint64_t since, uint64_t until, bool timestamps,
                int *ret_fd, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        sd_bus *bus;
        int fd, r;

        r = ctl_bus(&bus);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, ZL_BUS_NAME, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, "OpenContainerLogs");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", id);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}{sv}", "follow", "b", (int) follow, "timestamps", "b", (int) timestamps);
        if (r >= 0 && tail > 0)
                r = sd_bus_message_append(m, "{sv}", "tail", "t", tail);
        if (r >= 0 && since > 0)
                r = sd_bus_message_append(m, "{sv}", "since", "x", (int64_t) (since / USEC_PER_SEC));
        if (r >= 0 && until > 0)
                r = sd_bus_message_append(m, "{sv}", "until", "x", (int64_t) (until / USEC_PER_SEC));
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_call(bus, m, CALL_DEFAULT, error, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0)
                return r;
        fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

/* OpenContainerLogs with follow, copied to stdout/stderr until the stream ends. */
int open_log_stream(const char *id, uint64_t tail, uint64_t since, uint64_t until, bool timestamps,
                    sd_bus_error *error) {
        _cleanup_close_ int fd = -1;
        int r;

        r = open_log_fd(id, true, tail, since, until, timestamps, &fd, error);
        if (r < 0)
                return r;
        return demux_stream(fd, STDOUT_FILENO, STDERR_FILENO);
}

int verb_logs(int argc, char **argv) {
        static const struct option options[] = {
                { "follow",     no_argument,       NULL, 'f' },
                { "tail",       required_argument, NULL, 'n' },
                { "timestamps", no_argument,       NULL, 't' },
                { "since",      required_argument, NULL, 'S' },
                { "until",      required_argument, NULL, 'U' },
                HELP_OPTION,
                {}
        };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        bool follow = false, timestamps = false;
        uint64_t tail = 0, since = 0, until = 0, now = now_usec();
        char *end;
        int c, r;

        while ((c = getopt_long(argc, argv, "fn:th", options, NULL)) >= 0)
                switch (c) {
                case 'f': follow = true; break;
                case 't': timestamps = true; break;
                case 'n':
                        if (streq(optarg, "all"))
                                tail = 0;
                        else {
                                errno = 0;
                                tail = strtoull(optarg, &end, 10);
                                if (errno || *end || optarg[0] == '-' || !optarg[0])
                                        return usage_error(argv[0], "invalid --tail value '%s'", optarg);
                                if (tail == 0) {
                                        /* docker: --tail 0 prints nothing; GetContainerLogs' 0 is "all" */
                                        return 0;
                                }
                        }
                        break;
                case 'S':
                        if (parse_time_arg(optarg, now, &since) < 0)
                                return usage_error(argv[0], "invalid --since value '%s'", optarg);
                        break;
                case 'U':
                        if (parse_time_arg(optarg, now, &until) < 0)
                                return usage_error(argv[0], "invalid --until value '%s'", optarg);
                        break;
                case 'h':
                        printf("Usage: zlayerctl logs [-f] [-t] [-n|--tail N] [--since T] [--until T] CONTAINER\n");
                        return 0;
                default:
                        return usage_error(argv[0], "bad option");
                }
        if (optind + 1 != argc)
                return usage_error(argv[0], "requires exactly 1 argument (CONTAINER)");
        if (follow) {
                r = open_log_stream(argv[optind], tail, since, until, timestamps, &error);
                if (r < 0)
                        return ctl_fail(&error, r, "logs -f");
                return 0;
        }
        r = print_logs(argv[optind], tail, since, until, timestamps, 0, NULL, &error);
        return r < 0 ? ctl_fail(&error, r, "logs") : 0;
}

/* Calls @method(s name) → s json; prints NULL on NotFound (so the caller
 * tries the other kind), the exit code otherwise. */
static int inspect_one(const char *method, const char *name, json_object **ret, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *text;
        int r;

        *ret = NULL;
        r = ctl_call(CALL_DEFAULT, method, error, &reply, "s", name);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0)
                return r;
        *ret = json_tokener_parse(text);
        return *ret ? 0 : -EBADMSG;
}

int verb_inspect(int argc, char **argv) {
        static const struct option options[] = { { "type", required_argument, NULL, 'T' }, HELP_OPTION, {} };
        _cleanup_(json_object_putp) json_object *arr = json_object_new_array();
        const char *type = NULL;
        int c, ret = 0;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'T':
                        if (!streq(optarg, "container") && !streq(optarg, "image"))
                                return usage_error(argv[0], "--type must be container or image, not '%s'", optarg);
                        type = optarg;
                        break;
                case 'h':
                        printf("Usage: zlayerctl inspect [--type container|image] NAME...\n");
                        return 0;
                default:
                        return usage_error(argv[0], "bad option");
                }
        if (optind >= argc)
                return usage_error(argv[0], "requires at least 1 argument (NAME)");
        if (!arr)
                return EXIT_ZL;
        for (int i = optind; i < argc; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                json_object *j = NULL;
                int r = -ENOENT;

                if (type && streq(type, "image"))
                        r = inspect_one("InspectImage", argv[i], &j, &error);
                else
                        r = inspect_one("InspectContainer", argv[i], &j, &error);
                /* not a container (or containers cannot be inspected yet): try an image */
                if (r < 0 && !type && (sd_bus_error_has_name(&error, ZL_ERROR_NOT_FOUND) ||
                                       sd_bus_error_has_name(&error, ZL_ERROR_UNSUPPORTED))) {
                        _cleanup_(sd_bus_error_free) sd_bus_error e2 = SD_BUS_ERROR_NULL;
                        int r2 = inspect_one("InspectImage", argv[i], &j, &e2);

                        if (r2 >= 0 || sd_bus_error_has_name(&error, ZL_ERROR_UNSUPPORTED)) {
                                /* the image answer, or its error when containers cannot say */
                                sd_bus_error_free(&error);
                                sd_bus_error_move(&error, &e2);
                                r = r2;
                        } else if (sd_bus_error_has_name(&e2, ZL_ERROR_NOT_FOUND)) {
                                fprintf(stderr, "Error: No such object: %s\n", argv[i]);
                                ret = EXIT_ZL;
                                continue;
                        }
                }
                if (r < 0) {
                        ret = ctl_fail(&error, r, "inspect");
                        continue;
                }
                json_object_array_add(arr, j);
        }
        if (json_object_array_length(arr) > 0 || ret == 0)
                print_json(arr);
        return ret;
}

/* The verbs below print what a method returns; until the daemon has the
 * method, they print its Unsupported error (exit 125). */

int verb_top(int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_strv_free_ char **titles = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        sd_bus *bus;
        int r;

        if (argc < 2)
                return usage_error(argv[0], "requires at least 1 argument (CONTAINER [ps OPTIONS])");
        r = ctl_bus(&bus);
        if (r < 0)
                return EXIT_ZL;
        r = sd_bus_message_new_method_call(bus, &m, ZL_BUS_NAME, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, "TopContainer");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[1]);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, argv + 2);
        if (r >= 0)
                r = sd_bus_call(bus, m, CALL_DEFAULT, &error, &reply);
        if (r >= 0)
                r = sd_bus_message_read_strv(reply, &titles);
        if (r < 0)
                return ctl_fail(&error, r, "top");
        t = table_new(strv_length(titles), (const char *const *) titles);
        if (!t)
                return EXIT_ZL;
        r = sd_bus_message_enter_container(reply, 'a', "as");
        while (r >= 0 && (r = sd_bus_message_at_end(reply, false)) == 0) {
                _cleanup_strv_free_ char **row = NULL;
                r = sd_bus_message_read_strv(reply, &row);
                if (r < 0)
                        break;
                if (strv_length(row) != strv_length(titles))
                        continue;
                r = table_add_row(t, (const char *const *) row);
        }
        if (r < 0)
                return ctl_fail(NULL, r, "top");
        table_print(t, stdout, true);
        return 0;
}

int verb_diff(int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        uint8_t kind;
        int r;

        if (argc != 2)
                return usage_error(argv[0], "requires exactly 1 argument (CONTAINER)");
        r = ctl_call(CALL_DEFAULT, "GetContainerChanges", &error, &reply, "s", argv[1]);
        if (r < 0)
                return ctl_fail(&error, r, "diff");
        r = sd_bus_message_enter_container(reply, 'a', "(sy)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sy)", &path, &kind)) > 0)
                printf("%c %s\n", kind == 1 ? 'A' : kind == 2 ? 'D' : 'C', path);
        return r < 0 ? ctl_fail(NULL, r, "diff") : 0;
}

/* port CONTAINER [PRIVATE_PORT[/PROTO]]: every mapping, or (as docker) the
 * host side of one container port; a port that is not published fails. */
int verb_port(int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *proto, *host_ip, *want_proto = "tcp";
        unsigned long want = 0;
        uint16_t cport, hport;
        unsigned n = 0;
        int r;

        if (argc < 2 || argc > 3)
                return usage_error(argv[0], "requires 1 or 2 arguments (CONTAINER [PRIVATE_PORT[/PROTO]])");
        if (argc == 3) {
                char *end;
                errno = 0;
                want = strtoul(argv[2], &end, 10);
                if (errno || end == argv[2] || argv[2][0] == '-' || want == 0 || want > UINT16_MAX ||
                    (*end && !streq(end, "/tcp") && !streq(end, "/udp")))
                        return usage_error(argv[0], "invalid port '%s' (PORT, PORT/tcp or PORT/udp)", argv[2]);
                if (*end)
                        want_proto = end + 1;
        }
        r = ctl_call(CALL_DEFAULT, "GetContainerPorts", &error, &reply, "s", argv[1]);
        if (r < 0)
                return ctl_fail(&error, r, "port");
        r = sd_bus_message_enter_container(reply, 'a', "(qssq)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(qssq)", &cport, &proto, &host_ip, &hport)) > 0) {
                const char *ip = isempty(host_ip) ? "0.0.0.0" : host_ip;
                if (want == 0)
                        printf("%u/%s -> %s:%u\n", cport, proto, ip, hport);
                else if (cport == want && streq(proto, want_proto))
                        printf("%s:%u\n", ip, hport);
                else
                        continue;
                n++;
        }
        if (r < 0)
                return ctl_fail(NULL, r, "port");
        if (want != 0 && n == 0) {
                fprintf(stderr, "Error: No public port '%lu/%s' published for %s\n", want, want_proto, argv[1]);
                return EXIT_ZL;
        }
        return 0;
}

typedef struct StatsRow {
        uint64_t mem, limit, pids, cpu_ns, sampled_usec;
} StatsRow;

static int stats_sample(const char *id, StatsRow *ret, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        StatsRow s = {};
        const char *key;
        uint64_t v;
        int r;

        r = ctl_call(CALL_DEFAULT, "GetContainerStats", error, &reply, "s", id);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                r = sd_bus_message_read(reply, "s", &key);
                if (r >= 0 && (streq(key, "mem_used_bytes") || streq(key, "mem_limit_bytes") ||
                               streq(key, "pids_current") || streq(key, "cpu_total_ns"))) {
                        r = sd_bus_message_read(reply, "v", "t", &v);
                        if (streq(key, "mem_used_bytes")) s.mem = v;
                        else if (streq(key, "mem_limit_bytes")) s.limit = v;
                        else if (streq(key, "pids_current")) s.pids = v;
                        else s.cpu_ns = v;
                } else if (r >= 0)
                        r = sd_bus_message_skip(reply, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r < 0)
                return r;
        s.sampled_usec = now_usec();
        *ret = s;
        return 0;
}

/* CPU % as Docker shows it: CPU time used between two samples over the wall
 * time between them (100 % = one CPU busy). "--" for the first sample. */
static void stats_add_row(Table *t, const char *id, const StatsRow *prev, const StatsRow *cur) {
        char mem[32], lim[32], usage[80], pids[32], cpu[32], memp[32];

        snprintf(usage, sizeof usage, "%s / %s", format_size_human(cur->mem, mem, sizeof mem),
                 cur->limit ? format_size_human(cur->limit, lim, sizeof lim) : "unlimited");
        snprintf(pids, sizeof pids, "%" PRIu64, cur->pids);
        if (prev && cur->sampled_usec > prev->sampled_usec && cur->cpu_ns >= prev->cpu_ns)
                snprintf(cpu, sizeof cpu, "%.2f%%",
                         100.0 * (double) (cur->cpu_ns - prev->cpu_ns) / 1e3 / (double) (cur->sampled_usec - prev->sampled_usec));
        else
                snprintf(cpu, sizeof cpu, "--");
        if (cur->limit)
                snprintf(memp, sizeof memp, "%.2f%%", 100.0 * (double) cur->mem / (double) cur->limit);
        else
                snprintf(memp, sizeof memp, "--");
        (void) table_add_row(t, (const char *[]) { id, cpu, usage, memp, pids });
}

/* `stats [--no-stream] [CONTAINER...]`: without names, every running
 * container. Live: a table redrawn every second (cleared in place on a
 * terminal, one table after another in a pipe) until interrupted; a
 * container that stops drops out, and the command ends when none is left. */
int verb_stats(int argc, char **argv) {
        static const struct option options[] = { { "no-stream", no_argument, NULL, 'N' }, HELP_OPTION, {} };
        static const char *const titles[] = { "CONTAINER", "CPU %", "MEM USAGE / LIMIT", "MEM %", "PIDS" };
        _cleanup_strv_free_ char **ids = NULL;
        _cleanup_free_ StatsRow *prev = NULL;
        _cleanup_free_ bool *have_prev = NULL;
        bool no_stream = false, first_done = false, tty = isatty(STDOUT_FILENO);
        size_t n;
        int c, ret = 0;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'N': no_stream = true; break;
                case 'h': printf("Usage: zlayerctl stats [--no-stream] [CONTAINER...]\n"); return 0;
                default: return usage_error(argv[0], "bad option");
                }
        if (optind < argc) {
                ids = calloc(argc - optind + 1, sizeof(char *));
                for (int i = optind, k = 0; ids && i < argc; i++)
                        if (!(ids[k++] = strdup(argv[i])))
                                return EXIT_ZL;
        } else {
                ContainerInfo *l = NULL;
                size_t nl = 0;
                if (list_containers(&l, &nl) < 0)
                        return EXIT_ZL;
                ids = calloc(nl + 1, sizeof(char *));
                for (size_t i = 0, k = 0; ids && i < nl; i++)
                        if (streq(l[i].state, "running") && !(ids[k++] = strdup(l[i].name ?: l[i].id)))
                                break;
                container_info_free_many(l, nl);
        }
        if (!ids)
                return EXIT_ZL;
        n = strv_length(ids);
        prev = calloc(n ?: 1, sizeof(StatsRow));
        have_prev = calloc(n ?: 1, sizeof(bool));
        if (!prev || !have_prev)
                return EXIT_ZL;

        for (;;) {
                _cleanup_(table_freep) Table *t = table_new(ELEMENTSOF(titles), titles);
                size_t alive = 0;

                if (!t)
                        return EXIT_ZL;
                for (size_t i = 0; i < n; i++) {
                        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                        StatsRow cur;
                        int r = stats_sample(ids[i], &cur, &error);
                        if (r < 0) {
                                /* an explicitly named container that cannot be sampled is an error */
                                if (no_stream || !have_prev[i])
                                        ret = ctl_fail(&error, r, "stats");
                                have_prev[i] = false;
                                continue;
                        }
                        stats_add_row(t, ids[i], have_prev[i] ? &prev[i] : NULL, &cur);
                        prev[i] = cur;
                        have_prev[i] = true;
                        alive++;
                }
                if (alive == 0 && !no_stream && first_done)
                        break; /* the last container stopped: the previous table stands */
                first_done = true;
                if (tty && !no_stream)
                        fputs("\033[H\033[2J", stdout);
                table_print(t, stdout, true);
                fflush(stdout);
                if (no_stream || alive == 0)
                        break;
                (void) usleep(1000 * 1000);
        }
        return ret;
}

int verb_info(int argc, char **argv) {
        _cleanup_free_ char *version = NULL, *root = NULL;
        ContainerInfo *l = NULL;
        size_t n = 0, running = 0, stopped = 0;
        uint32_t cg = 0, nimages = 0;

        if (argc != 1)
                return usage_error(argv[0], "takes no arguments");
        if (ctl_get_property_string("Version", &version) < 0 || ctl_get_property_string("StorageRoot", &root) < 0 ||
            ctl_get_property_u32("CgroupVersion", &cg) < 0 || ctl_get_property_u32("NImages", &nimages) < 0 ||
            list_containers(&l, &n) < 0)
                return EXIT_ZL;
        for (size_t i = 0; i < n; i++)
                if (streq(l[i].state, "running") || streq(l[i].state, "stopping"))
                        running++;
                else if (streq(l[i].state, "exited") || streq(l[i].state, "failed"))
                        stopped++;
        container_info_free_many(l, n);
        printf("Server Version: %s\n"
               "Containers: %zu\n"
               " Running: %zu\n"
               " Stopped: %zu\n"
               " Created: %zu\n"
               "Images: %" PRIu32 "\n"
               "Storage Root: %s\n"
               "Cgroup Version: %" PRIu32 "\n",
               version, n, running, stopped, n - running - stopped, nimages, root, cg);
        return 0;
}

int verb_version(int argc, char **argv) {
        _cleanup_free_ char *server = NULL;

        printf("Client:\n Version: %s\n\n", ZL_VERSION);
        if (ctl_get_property_string("Version", &server) < 0)
                return EXIT_ZL;
        printf("Server:\n Version: %s\n", server);
        return 0;
}
