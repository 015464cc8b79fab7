/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image verbs: pull rmi tag history search save load import image (images: verbs-image-list.c). */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <strings.h>

#include "format.h"
#include "table.h"
#include "zlayerctl.h"

#define HELP_OPTION { "help", no_argument, NULL, 'h' }

int verb_pull(int argc, char **argv) {
        static const struct option options[] = {
                { "quiet", no_argument, NULL, 'q' },
                HELP_OPTION,
                {}
        };
        bool quiet = false;
        int c;

        while ((c = getopt_long(argc, argv, "qh", options, NULL)) >= 0)
                switch (c) {
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                        printf("Usage: zlayerctl pull [-q] IMAGE\n\nDownload an image (always asks the registry).\n"
                               "  -q, --quiet   Print only the reference\n");
                        return 0;
                default:
                        return usage_error("pull", "bad option");
                }
        if (optind + 1 != argc)
                return usage_error("pull", "requires exactly 1 argument (IMAGE)");
        if (quiet) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                const char *ref, *digest;
                int r = ctl_call(CALL_FOREVER, "PullImage", &error, &reply, "ssa{sv}", argv[optind], "always", 0);
                if (r < 0)
                        return ctl_fail(&error, r, "pull");
                if (sd_bus_message_read(reply, "ss", &ref, &digest) < 0)
                        return ctl_fail(NULL, -EBADMSG, "pull");
                printf("%s\n", ref);
                return 0;
        }
        return pull_image(argv[optind], "always", false, false);
}

/* For verbs that call one method per argument with no reply to print but
 * the argument (docker prints the name it was given). */
static int each_arg(int argc, char **argv, int first, const char *method, const char *types, bool flag) {
        int ret = 0;

        for (int i = first; i < argc; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                int r = types[1] == 'b' ? ctl_call(CALL_FOREVER, method, &error, NULL, types, argv[i], (int) flag)
                                        : ctl_call(CALL_FOREVER, method, &error, NULL, types, argv[i]);
                if (r < 0)
                        ret = ctl_fail(&error, r, argv[0]);
                else
                        printf("%s\n", argv[i]);
        }
        return ret;
}

int verb_rmi(int argc, char **argv) {
        static const struct option options[] = { { "force", no_argument, NULL, 'f' }, HELP_OPTION, {} };
        bool force = false;
        int c;

        while ((c = getopt_long(argc, argv, "fh", options, NULL)) >= 0)
                switch (c) {
                case 'f': force = true; break;
                case 'h': printf("Usage: zlayerctl rmi [-f] IMAGE...\n"); return 0;
                default: return usage_error(argv[0], "bad option");
                }
        if (optind >= argc)
                return usage_error(argv[0], "requires at least 1 argument (IMAGE)");
        return each_arg(argc, argv, optind, "RemoveImage", "sb", force);
}

int verb_tag(int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (argc != 3)
                return usage_error(argv[0], "requires exactly 2 arguments (SOURCE_IMAGE TARGET_IMAGE)");
        r = ctl_call(CALL_DEFAULT, "TagImage", &error, NULL, "ss", argv[1], argv[2]);
        return r < 0 ? ctl_fail(&error, r, "tag") : 0;
}

int verb_history(int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        const char *id, *created_by, *comment;
        int64_t created;
        uint64_t size, now = now_usec();
        int r;

        if (argc != 2)
                return usage_error(argv[0], "requires exactly 1 argument (IMAGE)");
        r = ctl_call(CALL_DEFAULT, "GetImageHistory", &error, &reply, "s", argv[1]);
        if (r < 0)
                return ctl_fail(&error, r, "history");
        t = table_new(5, (const char *[]) { "IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT" });
        if (!t)
                return EXIT_ZL;
        r = sd_bus_message_enter_container(reply, 'a', "(sxsasts)");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "sxsasts")) > 0) {
                char ago[64], sz[32];
                r = sd_bus_message_read(reply, "sxs", &id, &created, &created_by);
                if (r >= 0)
                        r = sd_bus_message_skip(reply, "as");
                if (r >= 0)
                        r = sd_bus_message_read(reply, "ts", &size, &comment);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = table_add_row(t, (const char *[]) { id, format_time_ago(created > 0 ? (uint64_t) created * USEC_PER_SEC : 0, now, ago, sizeof ago),
                                                                created_by, format_size_human(size, sz, sizeof sz), comment });
        }
        if (r < 0)
                return ctl_fail(NULL, r, "history");
        table_print(t, stdout, true);
        return 0;
}

int verb_search(int argc, char **argv) {
        static const struct option options[] = { { "limit", required_argument, NULL, 'l' }, HELP_OPTION, {} };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        const char *name, *desc;
        uint32_t stars, limit = 0;
        int official, automated, c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'l': {
                        char *end;
                        unsigned long v;
                        errno = 0;
                        v = strtoul(optarg, &end, 10);
                        if (errno || end == optarg || *end || optarg[0] == '-' || v > UINT32_MAX)
                                return usage_error(argv[0], "invalid --limit '%s'", optarg);
                        limit = (uint32_t) v;
                        break;
                }
                case 'h': printf("Usage: zlayerctl search [--limit N] TERM\n"); return 0;
                default: return usage_error(argv[0], "bad option");
                }
        if (optind + 1 != argc)
                return usage_error(argv[0], "requires exactly 1 argument (TERM)");
        r = ctl_call(CALL_FOREVER, "SearchImages", &error, &reply, "su", argv[optind], limit);
        if (r < 0)
                return ctl_fail(&error, r, "search");
        t = table_new(5, (const char *[]) { "NAME", "DESCRIPTION", "STARS", "OFFICIAL", "AUTOMATED" });
        if (!t)
                return EXIT_ZL;
        r = sd_bus_message_enter_container(reply, 'a', "(ssubb)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssubb)", &name, &desc, &stars, &official, &automated)) > 0) {
                char s[16];
                snprintf(s, sizeof s, "%" PRIu32, stars);
                r = table_add_row(t, (const char *[]) { name, desc, s, official ? "[OK]" : "", automated ? "[OK]" : "" });
        }
        if (r < 0)
                return ctl_fail(NULL, r, "search");
        table_print(t, stdout, true);
        return 0;
}

/* -o FILE / -i FILE, or stdout/stdin ("-" or not given). */
static int open_file_arg(const char *path, bool output) {
        if (!path || streq(path, "-"))
                return fcntl(output ? STDOUT_FILENO : STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        return open(path, output ? O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC : O_RDONLY | O_CLOEXEC, 0644);
}

int verb_save(int argc, char **argv) {
        static const struct option options[] = { { "output", required_argument, NULL, 'o' }, HELP_OPTION, {} };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *tmp = NULL;
        const char *output = NULL;
        sd_bus *bus;
        int c, r;

        while ((c = getopt_long(argc, argv, "o:h", options, NULL)) >= 0)
                switch (c) {
                case 'o': output = optarg; break;
                case 'h': printf("Usage: zlayerctl save [-o FILE] IMAGE...\n"); return 0;
                default: return usage_error(argv[0], "bad option");
                }
        if (optind >= argc)
                return usage_error(argv[0], "requires at least 1 argument (IMAGE)");
        if (!output && isatty(STDOUT_FILENO))
                return usage_error(argv[0], "refusing to write a tar archive to a terminal; use -o FILE or a redirect");
        if (output) {
                fd = output_file_open(output, &tmp);
                if (fd < 0)
                        return fprintf(stderr, "zlayerctl save: cannot create %s: %s\n", output, strerror(-fd)), EXIT_ZL;
        } else
                fd = open_file_arg(NULL, true);
        if (fd < 0)
                return fprintf(stderr, "zlayerctl save: cannot use stdout: %m\n"), EXIT_ZL;
        r = ctl_bus(&bus);
        if (r >= 0)
                r = sd_bus_message_new_method_call(bus, &m, "com.zlayer.Runtime1", "/com/zlayer/Runtime1",
                                                   "com.zlayer.Runtime1.Manager", "SaveImages");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, argv + optind);
        if (r >= 0)
                r = sd_bus_message_append(m, "h", fd);
        if (r >= 0)
                r = sd_bus_call(bus, m, CALL_FOREVER, &error, NULL);
        if (tmp) {
                int k = output_file_finish(TAKE_FD(fd), tmp, output, r >= 0);
                if (r >= 0 && k < 0)
                        return fprintf(stderr, "zlayerctl save: writing %s: %s\n", output, strerror(-k)), EXIT_ZL;
        }
        return r < 0 ? ctl_fail(&error, r, "save") : 0;
}

int verb_load(int argc, char **argv) {
        static const struct option options[] = {
                { "input", required_argument, NULL, 'i' }, { "quiet", no_argument, NULL, 'q' }, HELP_OPTION, {}
        };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_close_ int fd = -1;
        _cleanup_strv_free_ char **refs = NULL;
        const char *input = NULL;
        bool quiet = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "i:qh", options, NULL)) >= 0)
                switch (c) {
                case 'i': input = optarg; break;
                case 'q': quiet = true; break;
                case 'h': printf("Usage: zlayerctl load [-i FILE] [-q]\n"); return 0;
                default: return usage_error(argv[0], "bad option");
                }
        fd = open_file_arg(input, false);
        if (fd < 0)
                return fprintf(stderr, "zlayerctl load: cannot open %s: %m\n", input), EXIT_ZL;
        r = ctl_call(CALL_FOREVER, "LoadImages", &error, &reply, "hb", fd, (int) quiet);
        if (r < 0)
                return ctl_fail(&error, r, "load");
        r = sd_bus_message_read_strv(reply, &refs);
        if (r < 0)
                return ctl_fail(NULL, r, "load");
        /* an image without a name comes back as its id, as docker load prints it */
        for (char **i = refs; i && *i; i++)
                printf("Loaded image%s: %s\n", strncmp(*i, "sha256:", 7) == 0 ? " ID" : "", *i);
        return 0;
}

int verb_import(int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *repo = NULL, *tag = NULL;
        const char *id;
        int r;

        if (argc < 2 || argc > 3)
                return usage_error(argv[0], "requires FILE|- [REPOSITORY[:TAG]]");
        fd = open_file_arg(argv[1], false);
        if (fd < 0)
                return fprintf(stderr, "zlayerctl import: cannot open %s: %m\n", argv[1]), EXIT_ZL;
        if (argc == 3)
                split_reference(argv[2], &repo, &tag);
        r = ctl_call(CALL_FOREVER, "ImportImage", &error, &reply, "hss", fd, strempty(repo),
                     tag && !streq(tag, "<none>") ? tag : "");
        if (r < 0)
                return ctl_fail(&error, r, "import");
        if (sd_bus_message_read(reply, "s", &id) < 0)
                return EXIT_ZL;
        printf("%s\n", id);
        return 0;
}

/* docker's confirmation before a prune: a line from stdin, "y" or "yes"
 * goes on; anything else, or end of input, does nothing. */
static bool prune_confirmed(const char *warning) {
        char line[16];

        printf("WARNING! This will remove %s.\nAre you sure you want to continue? [y/N] ", warning);
        fflush(stdout);
        if (!fgets(line, sizeof line, stdin))
                return false;
        line[strcspn(line, "\n")] = 0;
        return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

typedef struct PruneVerb {
        const char *noun, *method, *what, *warning;
} PruneVerb;

/* container prune / image prune [-f] */
static int prune(int argc, char **argv, const PruneVerb *v) {
        static const struct option options[] = { { "force", no_argument, NULL, 'f' }, HELP_OPTION, {} };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **deleted = NULL;
        uint64_t reclaimed = 0;
        bool force = false;
        char sz[32];
        int c, r;

        while ((c = getopt_long(argc, argv, "fh", options, NULL)) >= 0)
                switch (c) {
                case 'f': force = true; break;
                case 'h':
                        printf("Usage: zlayerctl %s prune [-f]\n\nRemove %s; -f does not ask first.\n", v->noun, v->warning);
                        return 0;
                default:
                        return usage_error(argv[0], "bad option");
                }
        if (optind != argc)
                return usage_error(argv[0], "takes no arguments");
        if (!force && !prune_confirmed(v->warning))
                return 0;
        r = ctl_call(CALL_FOREVER, v->method, &error, &reply, NULL);
        if (r < 0)
                return ctl_fail(&error, r, v->method);
        r = sd_bus_message_read_strv(reply, &deleted);
        if (r >= 0)
                r = sd_bus_message_read(reply, "t", &reclaimed);
        if (r < 0)
                return ctl_fail(NULL, r, v->method);
        if (deleted && deleted[0]) {
                printf("Deleted %s:\n", v->what);
                for (char **i = deleted; *i; i++)
                        printf("%s\n", *i);
                printf("\n");
        }
        printf("Total reclaimed space: %s\n", format_size_human(reclaimed, sz, sizeof sz));
        return 0;
}

int prune_containers(int argc, char **argv);
int prune_containers(int argc, char **argv) {
        static const PruneVerb v = { "container", "PruneContainers", "Containers", "all stopped containers" };
        return prune(argc, argv, &v);
}

int verb_image(int argc, char **argv) {
        if (argc >= 2 && streq(argv[1], "prune"))
                return prune(argc - 1, argv + 1, &(const PruneVerb) { "image", "PruneImages", "Images", "all dangling images" });
        if (argc >= 2 && (streq(argv[1], "ls") || streq(argv[1], "list")))
                return verb_images(argc - 1, argv + 1);
        if (argc >= 2 && streq(argv[1], "pull"))
                return verb_pull(argc - 1, argv + 1);
        if (argc >= 2 && streq(argv[1], "rm"))
                return verb_rmi(argc - 1, argv + 1);
        if (argc >= 2 && streq(argv[1], "inspect"))
                return verb_inspect(argc - 1, argv + 1);
        return usage_error("image", "subcommands: ls, pull, rm, inspect, prune");
}
