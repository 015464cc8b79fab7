/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* docker run/create flags → a ServiceSpec as JSON (servicespec.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>

#include "netnames.h"
#include "run-spec.h"
#include "zlayerctl.h"

void run_options_done(RunOptions *o) {
        if (o->spec)
                json_object_put(o->spec);
        free(o->service);
}

static json_object *obj_child(json_object *parent, const char *key) {
        json_object *c;

        if (json_object_object_get_ex(parent, key, &c))
                return c;
        c = json_object_new_object();
        json_object_object_add(parent, key, c);
        return c;
}

static json_object *arr_child(json_object *parent, const char *key) {
        json_object *c;

        if (json_object_object_get_ex(parent, key, &c))
                return c;
        c = json_object_new_array();
        json_object_object_add(parent, key, c);
        return c;
}

/* docker's memory units: b k m g (powers of 1024), case-insensitive. */
static int parse_docker_bytes(const char *s, int64_t *ret) {
        char *end;
        double v;
        uint64_t mult = 1;

        errno = 0;
        v = strtod(s, &end);
        if (errno || end == s || v < 0 || !isfinite(v))
                return -EINVAL;
        switch (*end | 0x20) {
        case 'b': mult = 1; end++; break;
        case 'k': mult = 1ULL << 10; end++; break;
        case 'm': mult = 1ULL << 20; end++; break;
        case 'g': mult = 1ULL << 30; end++; break;
        case 't': mult = 1ULL << 40; end++; break;
        default: break;
        }
        if (mult > 1 && (*end | 0x20) == 'b')
                end++;
        if (*end || v * (double) mult > (double) INT64_MAX)
                return -EINVAL;
        *ret = (int64_t) (v * (double) mult);
        return 0;
}

static int add_env(json_object *spec, const char *arg) {
        const char *eq = strchr(arg, '=');
        _cleanup_free_ char *key = NULL;
        const char *value;

        if (eq == arg || isempty(arg))
                return -EINVAL;
        if (eq) {
                key = strndup(arg, eq - arg);
                value = eq + 1;
        } else {
                /* docker: "-e NAME" passes NAME from our environment, if set */
                value = getenv(arg);
                if (!value)
                        return 0;
                key = strdup(arg);
        }
        if (!key)
                return -ENOMEM;
        json_object_object_add(obj_child(spec, "env"), key, json_object_new_string(value));
        return 0;
}

/* -v /host:/ctr[:ro|rw]  (bind mounts; named volumes are not in this client yet) */
static int add_volume(json_object *spec, const char *arg) {
        _cleanup_free_ char *copy = strdup(arg);
        char *src, *dst, *mode;
        json_object *m;

        if (!copy)
                return -ENOMEM;
        src = copy;
        dst = strchr(src, ':');
        if (!dst)
                return -EINVAL;
        *dst++ = 0;
        mode = strchr(dst, ':');
        if (mode)
                *mode++ = 0;
        if (src[0] != '/' || dst[0] != '/')
                return -EINVAL;
        if (mode && !streq(mode, "ro") && !streq(mode, "rw"))
                return -EINVAL;
        m = json_object_new_object();
        json_object_object_add(m, "type", json_object_new_string("bind"));
        json_object_object_add(m, "source", json_object_new_string(src));
        json_object_object_add(m, "target", json_object_new_string(dst));
        json_object_object_add(m, "readonly", json_object_new_boolean(mode && streq(mode, "ro")));
        json_object_array_add(arr_child(spec, "storage"), m);
        return 0;
}

/* --tmpfs /ctr[:size=64m,mode=1777] */
static int add_tmpfs(json_object *spec, const char *arg) {
        _cleanup_free_ char *copy = strdup(arg);
        char *opts, *tok, *save = NULL;
        json_object *m;

        if (!copy)
                return -ENOMEM;
        opts = strchr(copy, ':');
        if (opts)
                *opts++ = 0;
        if (copy[0] != '/')
                return -EINVAL;
        m = json_object_new_object();
        json_object_object_add(m, "type", json_object_new_string("tmpfs"));
        json_object_object_add(m, "target", json_object_new_string(copy));
        for (tok = opts ? strtok_r(opts, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
                int64_t size;
                if (strneq(tok, "size=", 5) && parse_docker_bytes(tok + 5, &size) >= 0)
                        json_object_object_add(m, "size", json_object_new_int64(size));
                else if (strneq(tok, "mode=", 5) && strspn(tok + 5, "01234567") == strlen(tok + 5) && tok[5])
                        json_object_object_add(m, "mode", json_object_new_string(tok + 5));
                else {
                        json_object_put(m);
                        return -EINVAL;
                }
        }
        json_object_array_add(arr_child(spec, "storage"), m);
        return 0;
}

static int parse_port(const char *s, int *ret) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < 0 || v > 65535)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

/* -p [ip:][hostport:]ctrport[/proto] */
static int add_publish(json_object *spec, const char *arg) {
        _cleanup_free_ char *copy = strdup(arg);
        char *parts[3], *proto, *p;
        size_t n = 0;
        int cport, hport = 0;
        json_object *m;

        if (!copy)
                return -ENOMEM;
        proto = strchr(copy, '/');
        if (proto) {
                *proto++ = 0;
                if (!streq(proto, "tcp") && !streq(proto, "udp"))
                        return -EINVAL;
        }
        for (p = copy; n < 3; n++) {
                char *c = strrchr(p, ':');
                if (!c) {
                        parts[n++] = p;
                        break;
                }
                parts[n] = c + 1;
                *c = 0;
        }
        if (n == 0 || n > 3 || parse_port(parts[0], &cport) < 0 || cport == 0)
                return -EINVAL;
        if (n >= 2 && !isempty(parts[1]) && parse_port(parts[1], &hport) < 0)
                return -EINVAL;
        m = json_object_new_object();
        json_object_object_add(m, "container_port", json_object_new_int(cport));
        if (hport)
                json_object_object_add(m, "host_port", json_object_new_int(hport));
        json_object_object_add(m, "protocol", json_object_new_string(proto ?: "tcp"));
        if (n == 3 && !isempty(parts[2]))
                json_object_object_add(m, "host_ip", json_object_new_string(parts[2]));
        json_object_array_add(arr_child(spec, "port_mappings"), m);
        return 0;
}

/* --restart no|always|unless-stopped|on-failure[:N] */
static int add_restart(json_object *spec, const char *arg) {
        json_object *r = json_object_new_object();
        const char *kind;
        long max = -1;

        if (streq(arg, "no"))
                kind = "no";
        else if (streq(arg, "always"))
                kind = "always";
        else if (streq(arg, "unless-stopped"))
                kind = "unless_stopped";
        else if (streq(arg, "on-failure") || strneq(arg, "on-failure:", 11)) {
                kind = "on_failure";
                if (arg[10] == ':') {
                        char *end;
                        errno = 0;
                        max = strtol(arg + 11, &end, 10);
                        if (errno || *end || max < 0 || end == arg + 11) {
                                json_object_put(r);
                                return -EINVAL;
                        }
                }
        } else {
                json_object_put(r);
                return -EINVAL;
        }
        json_object_object_add(r, "kind", json_object_new_string(kind));
        if (max >= 0)
                json_object_object_add(r, "max_attempts", json_object_new_int64(max));
        json_object_object_add(spec, "restart_policy", r);
        return 0;
}

enum {
        OPT_RM = 0x100, OPT_TMPFS, OPT_MEMORY, OPT_CPUS, OPT_PIDS, OPT_ENTRYPOINT, OPT_NETWORK, OPT_RESTART,
        OPT_READ_ONLY, OPT_CAP_ADD, OPT_CAP_DROP, OPT_PRIVILEGED, OPT_SERVICE, OPT_REPLICA, OPT_PULL,
        OPT_STOP_SIGNAL, OPT_STOP_TIMEOUT, OPT_HOSTNAME,
};

static const char *option_name(const struct option *options, int val) {
        for (; options->name; options++)
                if (options->val == val)
                        return options->name;
        return "?";
}

int run_options_parse(const char *verb, int argc, char **argv, RunOptions *o) {
        static const struct option options[] = {
                { "detach",       no_argument,       NULL, 'd' },
                { "interactive",  no_argument,       NULL, 'i' },
                { "tty",          no_argument,       NULL, 't' },
                { "rm",           no_argument,       NULL, OPT_RM },
                { "env",          required_argument, NULL, 'e' },
                { "volume",       required_argument, NULL, 'v' },
                { "tmpfs",        required_argument, NULL, OPT_TMPFS },
                { "publish",      required_argument, NULL, 'p' },
                { "memory",       required_argument, NULL, 'm' },
                { "cpus",         required_argument, NULL, OPT_CPUS },
                { "pids-limit",   required_argument, NULL, OPT_PIDS },
                { "user",         required_argument, NULL, 'u' },
                { "workdir",      required_argument, NULL, 'w' },
                { "entrypoint",   required_argument, NULL, OPT_ENTRYPOINT },
                { "hostname",     required_argument, NULL, OPT_HOSTNAME },
                { "network",      required_argument, NULL, OPT_NETWORK },
                { "net",          required_argument, NULL, OPT_NETWORK },
                { "restart",      required_argument, NULL, OPT_RESTART },
                { "read-only",    no_argument,       NULL, OPT_READ_ONLY },
                { "cap-add",      required_argument, NULL, OPT_CAP_ADD },
                { "cap-drop",     required_argument, NULL, OPT_CAP_DROP },
                { "privileged",   no_argument,       NULL, OPT_PRIVILEGED },
                { "service",      required_argument, NULL, OPT_SERVICE },
                { "name",         required_argument, NULL, OPT_SERVICE },
                { "replica",      required_argument, NULL, OPT_REPLICA },
                { "label",        required_argument, NULL, 'l' },
                { "pull",         required_argument, NULL, OPT_PULL },
                { "stop-signal",  required_argument, NULL, OPT_STOP_SIGNAL },
                { "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
                { "help",         no_argument,       NULL, 'h' },
                {}
        };
        json_object *spec;
        char *end;
        int c, r;

        *o = (RunOptions) { .pull = "missing" };
        o->spec = spec = json_object_new_object();
        if (!spec)
                return -ENOMEM;
        while ((c = getopt_long(argc, argv, "+dite:v:p:m:u:w:l:h", options, NULL)) >= 0) {
                r = 0;
                switch (c) {
                case 'd': o->detach = true; break;
                case 'i': o->interactive = true; break;
                case 't': o->tty = true; break;
                case OPT_RM: o->rm = true; break;
                case 'e': r = add_env(spec, optarg); break;
                case 'v': r = add_volume(spec, optarg); break;
                case OPT_TMPFS: r = add_tmpfs(spec, optarg); break;
                case 'p': r = add_publish(spec, optarg); break;
                case 'm': {
                        int64_t bytes;
                        r = parse_docker_bytes(optarg, &bytes);
                        if (r >= 0)
                                json_object_object_add(obj_child(spec, "resources"), "memory", json_object_new_int64(bytes));
                        break;
                }
                case OPT_CPUS: {
                        double cpus;
                        errno = 0;
                        cpus = strtod(optarg, &end);
                        r = errno || *end || end == optarg || !(cpus > 0) || !isfinite(cpus) ? -EINVAL : 0;
                        if (r >= 0)
                                json_object_object_add(obj_child(spec, "resources"), "cpu", json_object_new_double(cpus));
                        break;
                }
                case OPT_PIDS: {
                        long long n;
                        errno = 0;
                        n = strtoll(optarg, &end, 10);
                        r = errno || *end || end == optarg || n <= 0 ? -EINVAL : 0;
                        if (r >= 0)
                                json_object_object_add(obj_child(spec, "resources"), "pids_limit", json_object_new_int64(n));
                        break;
                }
                case 'u': json_object_object_add(spec, "user", json_object_new_string(optarg)); break;
                case 'w':
                        json_object_object_add(obj_child(spec, "command"), "workdir", json_object_new_string(optarg));
                        break;
                case OPT_ENTRYPOINT: o->entrypoint = optarg; break;
                case OPT_HOSTNAME: json_object_object_add(spec, "hostname", json_object_new_string(optarg)); break;
                case OPT_NETWORK:
                        /* any other valid name is a user-defined network, as with docker */
                        r = streq(optarg, "none") || streq(optarg, "host") || streq(optarg, "bridge") ||
                            streq(optarg, "default") || network_name_is_valid(optarg) ? 0 : -EINVAL;
                        if (r >= 0)
                                json_object_object_add(spec, "network_mode", json_object_new_string(optarg));
                        break;
                case OPT_RESTART: r = add_restart(spec, optarg); break;
                case OPT_READ_ONLY: json_object_object_add(spec, "read_only_root_fs", json_object_new_boolean(1)); break;
                case OPT_CAP_ADD: json_object_array_add(arr_child(spec, "capabilities"), json_object_new_string(optarg)); break;
                case OPT_CAP_DROP: json_object_array_add(arr_child(spec, "cap_drop"), json_object_new_string(optarg)); break;
                case OPT_PRIVILEGED: json_object_object_add(spec, "privileged", json_object_new_boolean(1)); break;
                case OPT_SERVICE:
                        free(o->service);
                        o->service = strdup(optarg);
                        if (!o->service)
                                return -ENOMEM;
                        break;
                case OPT_REPLICA: {
                        unsigned long n;
                        errno = 0;
                        n = strtoul(optarg, &end, 10);
                        r = errno || *end || end == optarg || optarg[0] == '-' || n > UINT32_MAX ? -EINVAL : 0;
                        o->replica = (uint32_t) n;
                        break;
                }
                case 'l': {
                        const char *eq = strchr(optarg, '=');
                        _cleanup_free_ char *k = strndup(optarg, eq ? (size_t) (eq - optarg) : strlen(optarg));
                        if (!k)
                                return -ENOMEM;
                        r = isempty(k) ? -EINVAL : 0;
                        if (r >= 0)
                                json_object_object_add(obj_child(spec, "labels"), k, json_object_new_string(eq ? eq + 1 : ""));
                        break;
                }
                case OPT_PULL:
                        r = streq(optarg, "missing") || streq(optarg, "always") || streq(optarg, "never") ? 0 : -EINVAL;
                        o->pull = optarg;
                        break;
                case OPT_STOP_SIGNAL: json_object_object_add(spec, "stop_signal", json_object_new_string(optarg)); break;
                case OPT_STOP_TIMEOUT: {
                        char buf[32];
                        long n;
                        errno = 0;
                        n = strtol(optarg, &end, 10);
                        r = errno || *end || end == optarg || n < 0 ? -EINVAL : 0;
                        snprintf(buf, sizeof buf, "%lds", n);
                        if (r >= 0)
                                json_object_object_add(spec, "stop_grace_period", json_object_new_string(buf));
                        break;
                }
                case 'h':
                        o->help = true;
                        return 0;
                default:
                        return usage_error(verb, "bad option"), -EINVAL;
                }
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return usage_error(verb, "invalid value '%s' for %s%s", optarg, c < 0x100 ? "-" : "--",
                                           c < 0x100 ? (char[]) { (char) c, 0 } : option_name(options, c)),
                               -EINVAL;
        }
        if (optind >= argc)
                return usage_error(verb, "requires at least 1 argument (IMAGE [COMMAND [ARG...]])"), -EINVAL;
        o->image = argv[optind];
        o->command = argv + optind + 1;
        o->n_command = argc - optind - 1;

        json_object *image = obj_child(spec, "image");
        json_object_object_add(image, "name", json_object_new_string(o->image));
        if (o->entrypoint) {
                json_object *ep = json_object_new_array();
                json_object_array_add(ep, json_object_new_string(o->entrypoint));
                json_object_object_add(obj_child(spec, "command"), "entrypoint", ep);
        }
        if (o->n_command > 0) {
                json_object *args = json_object_new_array();
                for (int i = 0; i < o->n_command; i++)
                        json_object_array_add(args, json_object_new_string(o->command[i]));
                json_object_object_add(obj_child(spec, "command"), "args", args);
        }
        if (o->tty)
                json_object_object_add(spec, "tty", json_object_new_boolean(1));
        if (o->interactive)
                json_object_object_add(spec, "stdin_open", json_object_new_boolean(1));
        return 0;
}
