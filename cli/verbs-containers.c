/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container verbs: ps start stop kill rm wait rename pause unpause container. */
#include <getopt.h>
#include <inttypes.h>

#include "attach.h"
#include "filter.h"
#include "format.h"
#include "table.h"
#include "template.h"
#include "zlayerctl.h"

#define HELP_OPTION { "help", no_argument, NULL, 'h' }

static bool state_is_running(const char *s) {
        return streq(s, "running") || streq(s, "stopping") || streq(s, "paused");
}

/* docker's STATUS column: "Up 3 minutes", "Exited (3) 2 minutes ago", "Created". */
static const char *container_status(const ContainerInfo *c, uint64_t now, char *buf, size_t size) {
        char d[64];

        if (state_is_running(c->state)) {
                snprintf(buf, size, "Up %s%s",
                         c->started ? format_duration_human(now > c->started ? now - c->started : 0, d, sizeof d) : "",
                         streq(c->state, "stopping") ? " (stopping)" : streq(c->state, "paused") ? " (Paused)" : "");
        } else if (streq(c->state, "exited") || streq(c->state, "failed")) {
                int n = snprintf(buf, size, "%s (%" PRIi32 ")", streq(c->state, "exited") ? "Exited" : "Failed", c->exit_code);
                if (c->finished && n >= 0 && (size_t) n < size)
                        format_time_ago(c->finished, now, buf + n + 1, size - n - 1), buf[n] = ' ';
        } else if (streq(c->state, "pending") || streq(c->state, "initializing"))
                snprintf(buf, size, "Created");
        else
                snprintf(buf, size, "%s", c->state);
        return buf;
}

static const char *const ps_headers[][2] = {
        { ".ID", "CONTAINER ID" }, { ".Names", "NAMES" }, { ".Image", "IMAGE" }, { ".Status", "STATUS" },
        { ".State", "STATE" }, { ".Service", "SERVICE" }, { ".Replica", "REPLICA" },
        { ".RunningFor", "CREATED" }, { ".CreatedAt", "CREATED AT" },
};

static const char *ps_value(const char *field, const void *item, const void *userdata, char *buf, size_t size) {
        const ContainerInfo *c = item;
        uint64_t now = *(const uint64_t *) userdata;

        if (streq(field, ".ID"))
                return c->id;
        if (streq(field, ".Names"))
                return c->name;
        if (streq(field, ".Image"))
                return c->image;
        if (streq(field, ".Status"))
                return container_status(c, now, buf, size);
        if (streq(field, ".State"))
                return c->state;
        if (streq(field, ".Service"))
                return c->service;
        if (streq(field, ".Replica")) {
                snprintf(buf, size, "%" PRIu32, c->replica);
                return buf;
        }
        if (streq(field, ".RunningFor"))
                return format_time_ago(c->created, now, buf, size);
        if (streq(field, ".CreatedAt"))
                return format_timestamp(c->created, buf, size);
        return NULL;
}

static const TemplateFields ps_fields = {
        .verb = "ps", .headers = ps_headers, .n_headers = ELEMENTSOF(ps_headers), .value = ps_value,
};

/* docker's container status names, for --filter status= */
static const char *docker_status(const char *state) {
        if (streq(state, "pending") || streq(state, "initializing"))
                return "created";
        if (streq(state, "stopping"))
                return "running";
        if (streq(state, "failed"))
                return "exited";
        return state;   /* running, paused, exited */
}

static const char *const ps_filter_keys[] = { "id", "name", "status", "ancestor", NULL };
static const char *const docker_statuses[] = {
        "created", "restarting", "running", "removing", "paused", "exited", "dead", NULL,
};

static bool docker_status_valid(const char *s) {
        for (const char *const *i = docker_statuses; *i; i++)
                if (streq(*i, s))
                        return true;
        return false;
}

/* IMAGE as given to run: the whole reference, or it without ":latest", or
 * its repository. */
static bool image_matches(const char *image, const char *want) {
        size_t n = strlen(want);
        const char *slash = strrchr(image, '/'), *colon = strrchr(image, ':');

        if (streq(image, want))
                return true;
        if (!strneq(image, want, n))
                return false;
        return (streq(image + n, ":latest")) || (colon && (!slash || colon > slash) && image + n == colon);
}

static bool ps_filter_match(const char *key, const char *value, const void *item) {
        const ContainerInfo *c = item;

        if (streq(key, "id"))
                return strneq(c->id, value, strlen(value));
        if (streq(key, "name"))
                return strstr(c->name, value);
        if (streq(key, "status"))
                return streq(docker_status(c->state), value);
        if (streq(key, "ancestor"))
                return image_matches(c->image, value);
        return false;
}

static json_object *container_json(const ContainerInfo *c) {
        json_object *o = json_object_new_object();
        char ts[64];

        if (!o)
                return NULL;
        json_object_object_add(o, "id", json_object_new_string(c->id));
        json_object_object_add(o, "name", json_object_new_string(c->name));
        json_object_object_add(o, "service", json_object_new_string(c->service));
        json_object_object_add(o, "replica", json_object_new_int64(c->replica));
        json_object_object_add(o, "image", json_object_new_string(c->image));
        json_object_object_add(o, "state", json_object_new_string(c->state));
        json_object_object_add(o, "exit_code", json_object_new_int(c->exit_code));
        json_object_object_add(o, "created", json_object_new_string(format_timestamp(c->created, ts, sizeof ts)));
        json_object_object_add(o, "created_usec", json_object_new_int64((int64_t) c->created));
        json_object_object_add(o, "started_usec", json_object_new_int64((int64_t) c->started));
        json_object_object_add(o, "finished_usec", json_object_new_int64((int64_t) c->finished));
        json_object_object_add(o, "path", json_object_new_string(c->path));
        return o;
}

/* Newest first, as docker lists them. */
static int compare_created_desc(const void *a, const void *b) {
        const ContainerInfo *x = a, *y = b;
        return x->created < y->created ? 1 : x->created > y->created ? -1 : strcmp(x->id, y->id);
}

int verb_ps(int argc, char **argv) {
        static const struct option options[] = {
                { "all",    no_argument,       NULL, 'a' },
                { "quiet",  no_argument,       NULL, 'q' },
                { "json",   no_argument,       NULL, 'j' },
                { "format", required_argument, NULL, 'F' },
                { "filter", required_argument, NULL, 'f' },
                HELP_OPTION,
                {}
        };
        Filters filters = { .known = ps_filter_keys };
        ContainerInfo *l = NULL;
        size_t n = 0;
        bool all = false, quiet = false, json = false;
        const char *format = "table {{.ID}}\\t{{.Image}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Names}}";
        uint64_t now = now_usec();
        _cleanup_(json_object_putp) json_object *arr = NULL;
        _cleanup_(template_output_free) TemplateOutput tmpl = {};
        int c, r, ret = 0;

        while ((c = getopt_long(argc, argv, "aqf:h", options, NULL)) >= 0)
                switch (c) {
                case 'a': all = true; break;
                case 'q': quiet = true; break;
                case 'j': json = true; break;
                case 'F': format = optarg; break;
                case 'f':
                        if (filters_add(&filters, argv[0], optarg) < 0)
                                return usage_error(argv[0], "bad --filter '%s'", optarg);
                        /* as docker: a status filter looks at every container */
                        if (strneq(optarg, "status=", 7)) {
                                if (!docker_status_valid(optarg + 7))
                                        return usage_error(argv[0], "invalid status '%s' in --filter", optarg + 7);
                                all = true;
                        }
                        break;
                case 'h':
                        printf("Usage: zlayerctl ps [-a] [-q] [--json] [--format TEMPLATE] [-f|--filter KEY=VALUE]...\n\n"
                               "List running containers (all with -a). TEMPLATE fields: {{.ID}} {{.Names}} {{.Image}}\n"
                               "{{.Status}} {{.State}} {{.Service}} {{.Replica}} {{.RunningFor}} {{.CreatedAt}};\n"
                               "a \"table \" prefix prints aligned columns with headers. Filters: id=PREFIX,\n"
                               "name=TEXT, status=created|running|paused|exited|..., ancestor=IMAGE.\n");
                        return 0;
                default:
                        return usage_error(argv[0], "bad option");
                }
        if (optind != argc)
                return usage_error(argv[0], "takes no arguments");
        if (!json && !quiet && template_output_begin(&tmpl, format, &ps_fields, &now) < 0)
                return usage_error(argv[0], "bad --format template '%s'", format);
        r = list_containers(&l, &n);
        if (r < 0)
                return EXIT_ZL;
        if (n > 1)
                qsort(l, n, sizeof *l, compare_created_desc);
        arr = json_object_new_array();
        if (!arr)
                goto oom;
        for (size_t i = 0; i < n; i++) {
                if ((!all && !state_is_running(l[i].state)) || !filters_match(&filters, ps_filter_match, &l[i]))
                        continue;
                if (json) {
                        json_object *o = container_json(&l[i]);
                        if (!o)
                                goto oom;
                        json_object_array_add(arr, o);
                } else if (quiet)
                        printf("%s\n", l[i].id);
                else if (template_output_item(&tmpl, &l[i]) < 0)
                        goto oom;
        }
        if (json)
                print_json(arr);
        else if (!quiet)
                template_output_end(&tmpl);
        container_info_free_many(l, n);
        return ret;
oom:
        container_info_free_many(l, n);
        return ctl_fail(NULL, -ENOMEM, "ps");
}

/* One call per container argument; docker prints each name it handled and
 * exits 125 (here) when any failed, after trying all. */
static int for_each_container(int argc, char **argv, int first, const char *method, const char *types,
                              uint64_t u, const char *s) {
        int ret = 0;

        if (first >= argc)
                return usage_error(argv[0], "requires at least 1 argument (CONTAINER)");
        for (int i = first; i < argc; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                int r;

                if (streq(types, "s"))
                        r = ctl_call(CALL_FOREVER, method, &error, NULL, types, argv[i]);
                else if (streq(types, "st"))
                        r = ctl_call(CALL_FOREVER, method, &error, NULL, types, argv[i], u);
                else if (streq(types, "sb"))
                        r = ctl_call(CALL_FOREVER, method, &error, NULL, types, argv[i], (int) u);
                else
                        r = ctl_call(CALL_FOREVER, method, &error, NULL, types, argv[i], s);
                if (r < 0)
                        ret = ctl_fail(&error, r, argv[0]);
                else
                        printf("%s\n", argv[i]);
        }
        return ret;
}

int verb_start(int argc, char **argv) {
        static const struct option options[] = {
                { "attach", no_argument, NULL, 'a' }, { "interactive", no_argument, NULL, 'i' }, HELP_OPTION, {}
        };
        bool attach = false, interactive = false;
        int c;

        while ((c = getopt_long(argc, argv, "aih", options, NULL)) >= 0)
                switch (c) {
                case 'a': attach = true; break;
                case 'i': interactive = true; break;
                case 'h': printf("Usage: zlayerctl start [-a] [-i] CONTAINER...\n"); return 0;
                default: return usage_error(argv[0], "bad option");
                }
        if (attach || interactive) {
                if (argc - optind != 1)
                        return usage_error(argv[0], "you cannot start and attach multiple containers at once");
                return start_attached(argv[optind], interactive);
        }
        return for_each_container(argc, argv, optind, "StartContainer", "s", 0, NULL);
}

int verb_stop(int argc, char **argv) {
        static const struct option options[] = { { "time", required_argument, NULL, 't' }, HELP_OPTION, {} };
        uint64_t timeout = 0;   /* the spec's grace period, else 10 s */
        char *end;
        int c;

        while ((c = getopt_long(argc, argv, "t:h", options, NULL)) >= 0)
                switch (c) {
                case 't': {
                        unsigned long s;
                        errno = 0;
                        s = strtoul(optarg, &end, 10);
                        if (errno || *end || optarg[0] == '-')
                                return usage_error(argv[0], "invalid -t value '%s' (seconds)", optarg);
                        /* 0 means "now" to docker but "the default" to StopContainer */
                        timeout = s == 0 ? 1 : (uint64_t) s * USEC_PER_SEC;
                        break;
                }
                case 'h':
                        printf("Usage: zlayerctl stop [-t SECONDS] CONTAINER...\n");
                        return 0;
                default:
                        return usage_error(argv[0], "bad option");
                }
        return for_each_container(argc, argv, optind, "StopContainer", "st", timeout, NULL);
}

int verb_kill(int argc, char **argv) {
        static const struct option options[] = { { "signal", required_argument, NULL, 's' }, HELP_OPTION, {} };
        const char *sig = "";
        int c;

        while ((c = getopt_long(argc, argv, "s:h", options, NULL)) >= 0)
                switch (c) {
                case 's': sig = optarg; break;
                case 'h': printf("Usage: zlayerctl kill [-s SIGNAL] CONTAINER...\n"); return 0;
                default: return usage_error(argv[0], "bad option");
                }
        return for_each_container(argc, argv, optind, "KillContainer", "ss", 0, sig);
}

int verb_rm(int argc, char **argv) {
        static const struct option options[] = { { "force", no_argument, NULL, 'f' }, HELP_OPTION, {} };
        bool force = false;
        int c;

        while ((c = getopt_long(argc, argv, "fh", options, NULL)) >= 0)
                switch (c) {
                case 'f': force = true; break;
                case 'h': printf("Usage: zlayerctl rm [-f] CONTAINER...\n"); return 0;
                default: return usage_error(argv[0], "bad option");
                }
        return for_each_container(argc, argv, optind, "RemoveContainer", "sb", force, NULL);
}

int verb_pause(int argc, char **argv) {
        return for_each_container(argc, argv, 1, "PauseContainer", "s", 0, NULL);
}

int verb_unpause(int argc, char **argv) {
        return for_each_container(argc, argv, 1, "UnpauseContainer", "s", 0, NULL);
}

int verb_rename(int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (argc != 3)
                return usage_error(argv[0], "requires exactly 2 arguments (CONTAINER NEW_NAME)");
        r = ctl_call(CALL_DEFAULT, "RenameContainer", &error, NULL, "ss", argv[1], argv[2]);
        return r < 0 ? ctl_fail(&error, r, "rename") : 0;
}

int verb_wait(int argc, char **argv) {
        int ret = 0;

        if (argc < 2)
                return usage_error(argv[0], "requires at least 1 argument (CONTAINER)");
        for (int i = 1; i < argc; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                int32_t code;
                int r;

                r = ctl_call(CALL_FOREVER, "WaitContainer", &error, &reply, "ss", argv[i], "");
                if (r >= 0)
                        r = sd_bus_message_read(reply, "i", &code);
                if (r < 0)
                        ret = ctl_fail(&error, r, "wait");
                else
                        printf("%" PRIi32 "\n", code);
        }
        return ret;
}

int prune_containers(int argc, char **argv);

int verb_container(int argc, char **argv) {
        if (argc >= 2 && streq(argv[1], "prune"))
                return prune_containers(argc - 1, argv + 1);
        if (argc >= 2 && (streq(argv[1], "ls") || streq(argv[1], "list")))
                return verb_ps(argc - 1, argv + 1);
        return usage_error("container", "subcommands: ls, prune");
}
