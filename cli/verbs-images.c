/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image verbs: pull images rmi tag history search save load import image. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>

#include "format.h"
#include "table.h"
#include "zlayerctl.h"

#define HELP_OPTION { "help", no_argument, NULL, 'h' }

/* Splits "host/repo:tag" or "repo@sha256:…" into repository and tag. */
static void split_reference(const char *ref, char **repo, char **tag) {
        const char *at = strchr(ref, '@'), *slash = strrchr(ref, '/');
        const char *colon = strrchr(ref, ':');

        if (at) {
                *repo = strndup(ref, at - ref);
                *tag = strdup("<none>");
        } else if (colon && (!slash || colon > slash)) {
                *repo = strndup(ref, colon - ref);
                *tag = strdup(colon + 1);
        } else {
                *repo = strdup(ref);
                *tag = strdup("<none>");
        }
}

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

int verb_images(int argc, char **argv) {
        static const struct option options[] = {
                { "json",     no_argument, NULL, 'j' },
                { "quiet",    no_argument, NULL, 'q' },
                { "no-trunc", no_argument, NULL, 'T' },
                HELP_OPTION,
                {}
        };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_(json_object_putp) json_object *arr = NULL;
        bool json = false, quiet = false, no_trunc = false;
        const char *ref, *digest;
        uint64_t size;
        int c, r;

        while ((c = getopt_long(argc, argv, "qh", options, NULL)) >= 0)
                switch (c) {
                case 'j': json = true; break;
                case 'q': quiet = true; break;
                case 'T': no_trunc = true; break;
                case 'h':
                        printf("Usage: zlayerctl images [--json] [-q] [--no-trunc] [REPOSITORY[:TAG]]\n\n"
                               "List images: REPOSITORY TAG DIGEST SIZE.\n");
                        return 0;
                default:
                        return usage_error(argv[0], "bad option");
                }
        if (argc - optind > 1)
                return usage_error(argv[0], "takes at most 1 argument (REPOSITORY[:TAG])");
        r = ctl_call(CALL_DEFAULT, "ListImages", &error, &reply, NULL);
        if (r < 0)
                return ctl_fail(&error, r, "ListImages");
        t = table_new(4, (const char *[]) { "REPOSITORY", "TAG", "DIGEST", "SIZE" });
        arr = json_object_new_array();
        if (!t || !arr)
                return ctl_fail(NULL, -ENOMEM, "images");
        r = sd_bus_message_enter_container(reply, 'a', "(sst)");
        if (r < 0)
                return ctl_fail(NULL, r, "images");
        while ((r = sd_bus_message_read(reply, "(sst)", &ref, &digest, &size)) > 0) {
                _cleanup_free_ char *repo = NULL, *tag = NULL;
                char sz[32], dg[32];

                split_reference(ref, &repo, &tag);
                if (!repo || !tag)
                        return ctl_fail(NULL, -ENOMEM, "images");
                if (optind < argc && !streq(argv[optind], repo) && !streq(argv[optind], ref))
                        continue;
                if (json) {
                        json_object *o = json_object_new_object();
                        if (!o)
                                return ctl_fail(NULL, -ENOMEM, "images");
                        json_object_object_add(o, "reference", json_object_new_string(ref));
                        json_object_object_add(o, "repository", json_object_new_string(repo));
                        json_object_object_add(o, "tag", json_object_new_string(tag));
                        json_object_object_add(o, "digest", json_object_new_string(digest));
                        json_object_object_add(o, "size", json_object_new_int64((int64_t) size));
                        json_object_array_add(arr, o);
                } else if (quiet)
                        printf("%s\n", ref);
                else {
                        snprintf(dg, sizeof dg, "%.19s", digest);   /* sha256: + 12 hex */
                        r = table_add_row(t, (const char *[]) { repo, tag, no_trunc ? digest : dg,
                                                                format_size_human(size, sz, sizeof sz) });
                        if (r < 0)
                                return ctl_fail(NULL, r, "images");
                }
        }
        if (r < 0)
                return ctl_fail(NULL, r, "images");
        if (json)
                print_json(arr);
        else if (!quiet)
                table_print(t, stdout, true);
        return 0;
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
                case 'l': limit = (uint32_t) strtoul(optarg, NULL, 10); break;
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
        for (char **i = refs; i && *i; i++)
                printf("Loaded image: %s\n", *i);
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

static int prune(const char *method, const char *what) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **deleted = NULL;
        uint64_t reclaimed = 0;
        char sz[32];
        int r;

        r = ctl_call(CALL_FOREVER, method, &error, &reply, NULL);
        if (r < 0)
                return ctl_fail(&error, r, method);
        r = sd_bus_message_read_strv(reply, &deleted);
        if (r >= 0)
                r = sd_bus_message_read(reply, "t", &reclaimed);
        if (r < 0)
                return ctl_fail(NULL, r, method);
        if (deleted && deleted[0]) {
                printf("Deleted %s:\n", what);
                for (char **i = deleted; *i; i++)
                        printf("%s\n", *i);
                printf("\n");
        }
        printf("Total reclaimed space: %s\n", format_size_human(reclaimed, sz, sizeof sz));
        return 0;
}

int prune_containers(void);
int prune_containers(void) {
        return prune("PruneContainers", "Containers");
}

int verb_image(int argc, char **argv) {
        if (argc >= 2 && streq(argv[1], "prune"))
                return prune("PruneImages", "Images");
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
