/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rlimits.h"
#include "launch-config.h"
#include "netnames.h"
#include "parse-util.h"
#include "servicespec-internal.h"

/* Handlers of the fields that shape the container: resources, ports,
 * storage, networking, identity, privileges and limits. */

/* ---- resources ---- */

static int f_cpu(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        double d;

        if (spec_is_type(v, json_type_int) || spec_is_type(v, json_type_double))
                d = json_object_get_double(v);
        else if (spec_is_type(v, json_type_string)) {
                const char *s = json_object_get_string(v);
                char *end;
                errno = 0;
                d = strtod(s, &end);
                if (errno != 0 || end == s || *end)
                        return spec_fail_type(c, path, "a number", v);
        } else
                return spec_fail_type(c, path, "a number", v);
        /* 1024 CPUs is far beyond any node; it also keeps quota*period in range. */
        if (!isfinite(d) || d <= 0 || d > 1024)
                return spec_fail(c, path, "%g is out of range (0, 1024]", d);
        c->spec->cpu = d;
        return 0;
}

static int f_memory(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        int r = spec_want_size(c, v, path, &c->spec->memory);
        if (r < 0)
                return r;
        /* below this the kernel OOM-kills the runtime's own setup; Docker has the same floor */
        if (c->spec->memory > 0 && c->spec->memory < SPEC_MIN_MEMORY)
                return spec_fail(c, path, "%" PRIi64 " bytes is below the minimum of 6Mi", c->spec->memory);
        return 0;
}

static int f_memory_swap(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        /* -1 = unlimited swap, as in Docker */
        if ((spec_is_type(v, json_type_int) && json_object_get_int64(v) == -1) ||
            (spec_is_type(v, json_type_string) && streq(json_object_get_string(v), "-1"))) {
                c->spec->memory_swap = -1;
                return 0;
        }
        return spec_want_size(c, v, path, &c->spec->memory_swap);
}

static int f_memory_reservation(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return spec_want_size(c, v, path, &c->spec->memory_reservation);
}

static int f_memory_swappiness(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return spec_want_int(c, v, path, 0, 100, &c->spec->memory_swappiness);
}

static int f_pids_limit(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return spec_want_int(c, v, path, 0, INT64_MAX, &c->spec->pids_limit);
}

static int f_cpuset(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        int r = spec_want_string(c, v, path, &s);
        if (r < 0)
                return r;
        /* "0-3,5,7-8" */
        for (const char *q = s;;) {
                char *end;
                unsigned long a, b;

                if (!(*q >= '0' && *q <= '9'))
                        return spec_fail(c, path, "invalid cpu list '%s'", s);
                a = b = strtoul(q, &end, 10);
                if (*end == '-') {
                        q = end + 1;
                        if (!(*q >= '0' && *q <= '9'))
                                return spec_fail(c, path, "invalid cpu list '%s'", s);
                        b = strtoul(q, &end, 10);
                }
                if (a > b || b >= 8192)
                        return spec_fail(c, path, "invalid cpu list '%s'", s);
                if (*end == 0)
                        break;
                if (*end != ',')
                        return spec_fail(c, path, "invalid cpu list '%s'", s);
                q = end + 1;
        }
        free(c->spec->cpuset);
        c->spec->cpuset = strdup(s);
        return c->spec->cpuset ? 0 : -ENOMEM;
}

static int f_cpu_shares(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        int64_t i;
        int r = spec_want_int(c, v, path, 2, 262144, &i);
        if (r < 0)
                return r;
        c->spec->cpu_shares = (uint64_t) i;
        return 0;
}

static const SpecField resources_fields[] = {
        { "cpu", f_cpu },
        { "memory", f_memory },
        { "memory_swap", f_memory_swap },
        { "memory_reservation", f_memory_reservation },
        { "memory_swappiness", f_memory_swappiness },
        { "pids_limit", f_pids_limit },
        { "cpuset", f_cpuset },
        { "cpu_shares", f_cpu_shares },
};

int spec_f_resources(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return spec_walk_object(c, v, path, resources_fields, ELEMENTSOF(resources_fields), NULL);
}

/* ---- endpoints, port mappings ---- */

static const char *const endpoint_protocols[] = { "http", "https", "tcp", "udp", "websocket", NULL };
static const char *const mapping_protocols[] = { "tcp", "udp", NULL };


static int f_port(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        int64_t i;
        return spec_want_int(c, v, path, 1, 65535, &i);
}

static int f_host_port(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        int64_t i;
        return spec_want_int(c, v, path, 0, 65535, &i); /* 0 = any free port */
}

static int f_endpoint_protocol(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        return spec_enum_value(c, v, path, endpoint_protocols, &s);
}

static int f_mapping_protocol(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        return spec_enum_value(c, v, path, mapping_protocols, &s);
}

static int f_expose(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        static const char *const values[] = { "public", "internal", NULL };
        const char *s = NULL;
        if (spec_is_type(v, json_type_boolean))
                return 0;
        return spec_enum_value(c, v, path, values, &s);
}

static int f_ip(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        unsigned char buf[sizeof(struct in6_addr)];
        const char *s = NULL;
        int r = spec_want_string(c, v, path, &s);
        if (r < 0)
                return r;
        if (inet_pton(AF_INET, s, buf) != 1 && inet_pton(AF_INET6, s, buf) != 1)
                return spec_fail(c, path, "invalid IP address '%s'", s);
        return 0;
}

static const SpecField endpoint_fields[] = {
        { "name", spec_f_any_string },
        { "protocol", f_endpoint_protocol },
        { "port", f_port },
        { "target_port", f_port },
        { "expose", f_expose },
        { "path", spec_f_any_string },
};

static const SpecField mapping_fields[] = {
        { "container_port", f_port },
        { "host_port", f_host_port },
        { "protocol", f_mapping_protocol },
        { "host_ip", f_ip },
};

static int walk_list(SpecCtx *c, json_object *v, const char *path, const SpecField *fields, size_t n,
                     const char *required) {
        if (!spec_is_type(v, json_type_array))
                return spec_fail_type(c, path, "a list", v);
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                _cleanup_free_ char *p = spec_path_index(path, i), *req = NULL;
                json_object *e = json_object_array_get_idx(v, i);
                int r;

                if (!p)
                        return -ENOMEM;
                r = spec_walk_object(c, e, p, fields, n, NULL);
                if (r < 0)
                        return r;
                if (required && !json_object_object_get_ex(e, required, NULL)) {
                        req = spec_path_join(p, required);
                        return req ? spec_fail(c, req, "required") : -ENOMEM;
                }
        }
        return 0;
}

int spec_f_endpoints(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return walk_list(c, v, path, endpoint_fields, ELEMENTSOF(endpoint_fields), "port");
}

int spec_f_port_mappings(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return walk_list(c, v, path, mapping_fields, ELEMENTSOF(mapping_fields), "container_port");
}

/* ---- storage ---- */

/* Handlers fill the SpecMount being validated, reached through the context. */
static SpecMount *current_mount(SpecCtx *c) {
        return &c->spec->storage[c->spec->n_storage - 1];
}

static int f_st_type(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return 0; /* checked before the walk */
}

static int f_st_source(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return spec_want_absolute_path(c, v, path, &current_mount(c)->source);
}

static int f_st_name(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        int r = spec_want_string(c, v, path, &s);
        if (r < 0)
                return r;
        if (!volume_name_is_valid(s))
                return spec_fail(c, path, "invalid volume name '%s' ([a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 255)", s);
        free(current_mount(c)->source);
        current_mount(c)->source = strdup(s);
        return current_mount(c)->source ? 0 : -ENOMEM;
}

static int f_st_target(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        int r = spec_want_absolute_path(c, v, path, &current_mount(c)->target);
        if (r < 0)
                return r;
        if (current_mount(c)->target[strspn(current_mount(c)->target, "/")] == 0)
                return spec_fail(c, path, "cannot mount over the container's root");
        return 0;
}

static int f_st_readonly(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return spec_want_bool(c, v, path, &current_mount(c)->readonly);
}

static int f_st_size(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        int64_t sz;
        int r = spec_want_size(c, v, path, &sz);
        if (r < 0)
                return r;
        current_mount(c)->size = (uint64_t) sz;
        return 0;
}

static int f_st_mode(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        int64_t m;

        /* "1777" as a string is octal, as users mean it; YAML 0o1777 arrives as an int. */
        if (spec_is_type(v, json_type_string)) {
                const char *s = json_object_get_string(v);
                char *end;
                errno = 0;
                m = strtol(s, &end, 8);
                if (errno != 0 || end == s || *end || m < 0 || m > 07777)
                        return spec_fail(c, path, "invalid mode '%s' (octal, at most 7777)", s);
        } else {
                int r = spec_want_int(c, v, path, 0, 07777, &m);
                if (r < 0)
                        return r;
        }
        current_mount(c)->mode = (unsigned) m;
        return 0;
}

static const SpecField bind_fields[] = {
        { "type", f_st_type }, { "source", f_st_source }, { "target", f_st_target }, { "readonly", f_st_readonly },
};
static const SpecField named_fields[] = {
        { "type", f_st_type }, { "name", f_st_name }, { "target", f_st_target }, { "readonly", f_st_readonly },
};
static const SpecField anonymous_fields[] = {
        { "type", f_st_type }, { "target", f_st_target },
};
static const SpecField tmpfs_fields[] = {
        { "type", f_st_type }, { "target", f_st_target }, { "size", f_st_size }, { "mode", f_st_mode },
};

int spec_f_storage(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        static const char *const types[] = { "bind", "named", "anonymous", "tmpfs", NULL };
        ServiceSpec *s = c->spec;
        size_t n;

        if (!spec_is_type(v, json_type_array))
                return spec_fail_type(c, path, "a list", v);
        n = json_object_array_length(v);
        if (n > 256)
                return spec_fail(c, path, "more than 256 entries");

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *ep = spec_path_index(path, i), *tp = NULL;
                json_object *e = json_object_array_get_idx(v, i), *t;
                const char *type, *required[2] = {};
                const SpecField *fields;
                size_t n_fields;
                SpecMount *m;
                int r;

                if (!ep)
                        return -ENOMEM;
                if (!spec_is_type(e, json_type_object))
                        return spec_fail_type(c, ep, "a map", e);
                tp = spec_path_join(ep, "type");
                if (!tp)
                        return -ENOMEM;
                if (!json_object_object_get_ex(e, "type", &t))
                        return spec_fail(c, tp, "required");
                r = spec_enum_value(c, t, tp, types, &type);
                if (r < 0)
                        return r;

                if (streq(type, "bind")) {
                        fields = bind_fields, n_fields = ELEMENTSOF(bind_fields);
                        required[0] = "source", required[1] = "target";
                } else if (streq(type, "named")) {
                        fields = named_fields, n_fields = ELEMENTSOF(named_fields);
                        required[0] = "name", required[1] = "target";
                } else if (streq(type, "anonymous")) {
                        fields = anonymous_fields, n_fields = ELEMENTSOF(anonymous_fields);
                        required[0] = "target";
                } else {
                        fields = tmpfs_fields, n_fields = ELEMENTSOF(tmpfs_fields);
                        required[0] = "target";
                }

                m = realloc(s->storage, (s->n_storage + 1) * sizeof(SpecMount));
                if (!m)
                        return -ENOMEM;
                s->storage = m;
                s->storage[s->n_storage++] = (SpecMount) { .type = strdup(type) };
                if (!current_mount(c)->type)
                        return -ENOMEM;

                r = spec_walk_object(c, e, ep, fields, n_fields, NULL);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < ELEMENTSOF(required) && required[j]; j++)
                        if (!json_object_object_get_ex(e, required[j], NULL)) {
                                _cleanup_free_ char *rp = spec_path_join(ep, required[j]);
                                return rp ? spec_fail(c, rp, "required for %s storage", type) : -ENOMEM;
                        }
        }
        return 0;
}

/* ---- networking ---- */

int spec_f_network_mode(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        int r = spec_want_string(c, v, path, &s);
        if (r < 0)
                return r;
        /* default, host, none, bridge, or else a named network (a bridge of
         * its own, docs/lifecycle.md "Networking") */
        if (!network_name_is_valid(s))
                return spec_fail(c, path,
                                 "invalid value '%s' (expected default, host, none, bridge or a network name: "
                                 "[a-z0-9][a-z0-9_.-]*, at most %d characters)", s, NETWORK_NAME_MAX);
        free(c->spec->network_mode);
        c->spec->network_mode = strdup(s);
        return c->spec->network_mode ? 0 : -ENOMEM;
}

int spec_f_hostname(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        int r = spec_want_string(c, v, path, &s);
        if (r < 0)
                return r;
        if (!hostname_is_valid(s))
                return spec_fail(c, path, "invalid hostname '%s'", s);
        free(c->spec->hostname);
        c->spec->hostname = strdup(s);
        return c->spec->hostname ? 0 : -ENOMEM;
}

int spec_f_dns(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        unsigned char buf[sizeof(struct in6_addr)];
        int r = spec_want_strv(c, v, path, &c->spec->dns);
        if (r < 0)
                return r;
        for (size_t i = 0; c->spec->dns[i]; i++)
                if (inet_pton(AF_INET, c->spec->dns[i], buf) != 1 && inet_pton(AF_INET6, c->spec->dns[i], buf) != 1) {
                        _cleanup_free_ char *ip = spec_path_index(path, i);
                        return ip ? spec_fail(c, ip, "invalid IP address '%s'", c->spec->dns[i]) : -ENOMEM;
                }
        return 0;
}

int spec_f_extra_hosts(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        unsigned char buf[sizeof(struct in6_addr)];
        int r = spec_want_strv(c, v, path, &c->spec->extra_hosts);
        if (r < 0)
                return r;
        /* "name:ip", as in Docker; the address may be IPv6 and contain ':' */
        for (size_t i = 0; c->spec->extra_hosts[i]; i++) {
                const char *e = c->spec->extra_hosts[i], *colon = strchr(e, ':');
                _cleanup_free_ char *name = colon ? strndup(e, (size_t) (colon - e)) : NULL;

                if (!colon || !name || !hostname_is_valid(name) ||
                    (inet_pton(AF_INET, colon + 1, buf) != 1 && inet_pton(AF_INET6, colon + 1, buf) != 1)) {
                        _cleanup_free_ char *ip = spec_path_index(path, i);
                        return ip ? spec_fail(c, ip, "expected 'hostname:ip', got '%s'", e) : -ENOMEM;
                }
        }
        return 0;
}

/* ---- identity and privileges ---- */

int spec_f_user(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        int r;

        if (!spec_is_type(v, json_type_string) && !spec_is_type(v, json_type_int))
                return spec_fail_type(c, path, "'uid[:gid]' or 'name[:group]'", v);
        r = spec_stringify_scalar(c, p, k, v, path, &s);
        if (r < 0)
                return r;
        if (!user_spec_is_valid(s))
                return spec_fail(c, path, "invalid user '%s' (expected uid[:gid] or name[:group])", s);
        free(c->spec->user);
        c->spec->user = strdup(s);
        return c->spec->user ? 0 : -ENOMEM;
}

int spec_f_extra_groups(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        _cleanup_strv_free_ char **groups = NULL;

        if (!spec_is_type(v, json_type_array))
                return spec_fail_type(c, path, "a list of groups", v);
        if (json_object_array_length(v) > SPEC_MAX_ITEMS)
                return spec_fail(c, path, "more than %d items", SPEC_MAX_ITEMS);
        groups = calloc(1, sizeof(char *));
        if (!groups)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                _cleanup_free_ char *ip = spec_path_index(path, i);
                json_object *e = json_object_array_get_idx(v, i);
                const char *s = NULL;

                if (!ip)
                        return -ENOMEM;
                if (spec_is_type(e, json_type_int)) {
                        json_object *str = json_object_new_string(json_object_get_string(e));
                        if (!str || json_object_array_put_idx(v, i, str) < 0) {
                                json_object_put(str);
                                return -ENOMEM;
                        }
                        e = str;
                }
                if (!spec_is_type(e, json_type_string))
                        return spec_fail_type(c, ip, "a group name or gid", e);
                s = json_object_get_string(e);
                if (strchr(s, ':') || !user_spec_is_valid(s))
                        return spec_fail(c, ip, "invalid group '%s'", s);
                if (spec_strv_push(&groups, s) < 0)
                        return -ENOMEM;
        }
        strv_free(c->spec->extra_groups);
        c->spec->extra_groups = TAKE_PTR(groups);
        return 0;
}

/* Validates and normalizes capability names in place, appending to *list. */
static int caps_list(SpecCtx *c, json_object *v, const char *path, char ***list) {
        if (!spec_is_type(v, json_type_array))
                return spec_fail_type(c, path, "a list of capabilities", v);
        if (json_object_array_length(v) > SPEC_MAX_ITEMS)
                return spec_fail(c, path, "more than %d items", SPEC_MAX_ITEMS);
        if (!*list) {
                *list = calloc(1, sizeof(char *));
                if (!*list)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                _cleanup_free_ char *ip = spec_path_index(path, i), *name = NULL;
                json_object *e = json_object_array_get_idx(v, i), *n;
                int r;

                if (!ip)
                        return -ENOMEM;
                if (!spec_is_type(e, json_type_string))
                        return spec_fail_type(c, ip, "a capability name", e);
                r = capability_normalize(json_object_get_string(e), &name);
                if (r == -EOPNOTSUPP)
                        return spec_fail(c, ip, "capability '%s' is not supported by this kernel", json_object_get_string(e));
                if (r < 0)
                        return spec_fail(c, ip, "unknown capability '%s'", json_object_get_string(e));
                n = json_object_new_string(name);
                if (!n || json_object_array_put_idx(v, i, n) < 0) {
                        json_object_put(n);
                        return -ENOMEM;
                }
                if (spec_strv_push(list, name) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int spec_f_cap_add(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return caps_list(c, v, path, &c->spec->cap_add);
}

int spec_f_cap_drop(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return caps_list(c, v, path, &c->spec->cap_drop);
}

int spec_f_privileged(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return spec_want_bool(c, v, path, &c->spec->privileged);
}
int spec_f_read_only_root_fs(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return spec_want_bool(c, v, path, &c->spec->read_only_root_fs);
}
int spec_f_tty(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return spec_want_bool(c, v, path, &c->spec->tty);
}
int spec_f_stdin_open(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return spec_want_bool(c, v, path, &c->spec->stdin_open);
}

/* ---- ulimits ---- */

static int rlimit_value(SpecCtx *c, json_object *v, const char *path, uint64_t *ret) {
        if ((spec_is_type(v, json_type_int) && json_object_get_int64(v) == -1) ||
            (spec_is_type(v, json_type_string) && (streq(json_object_get_string(v), "unlimited") ||
                                              streq(json_object_get_string(v), "-1")))) {
                *ret = UINT64_MAX; /* RLIM_INFINITY */
                return 0;
        }
        if (!spec_is_type(v, json_type_int))
                return spec_fail_type(c, path, "a non-negative integer, -1 or 'unlimited'", v);
        int64_t i;
        int r = spec_want_int(c, v, path, 0, INT64_MAX, &i);
        if (r < 0)
                return r;
        *ret = (uint64_t) i;
        return 0;
}

int spec_f_ulimits(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        ServiceSpec *s = c->spec;

        if (!spec_is_type(v, json_type_object))
                return spec_fail_type(c, path, "a map of limits", v);
        json_object_object_foreach(v, name, val) {
                _cleanup_free_ char *np = spec_path_join(path, name);
                const char *canonical = rlimit_canonical_name(name);
                uint64_t soft, hard;
                SpecRlimit *l;
                int r;

                if (!np)
                        return -ENOMEM;
                if (!canonical)
                        return spec_fail(c, np, "unknown limit");

                if (spec_is_type(val, json_type_object)) {
                        json_object *sv = NULL, *hv = NULL;
                        json_object_object_foreach(val, lk, lv) {
                                _cleanup_free_ char *lp = spec_path_join(np, lk);
                                if (!lp)
                                        return -ENOMEM;
                                if (streq(lk, "soft"))
                                        sv = lv;
                                else if (streq(lk, "hard"))
                                        hv = lv;
                                else
                                        return spec_fail(c, lp, "unknown field");
                                r = rlimit_value(c, lv, lp, streq(lk, "soft") ? &soft : &hard);
                                if (r < 0)
                                        return r;
                        }
                        if (!sv || !hv) {
                                _cleanup_free_ char *lp = spec_path_join(np, sv ? "hard" : "soft");
                                return lp ? spec_fail(c, lp, "required") : -ENOMEM;
                        }
                        if (soft > hard)
                                return spec_fail(c, np, "soft limit is above the hard limit");
                } else {
                        r = rlimit_value(c, val, np, &soft);
                        if (r < 0)
                                return r;
                        hard = soft;
                }

                l = realloc(s->ulimits, (s->n_ulimits + 1) * sizeof(SpecRlimit));
                if (!l)
                        return -ENOMEM;
                s->ulimits = l;
                s->ulimits[s->n_ulimits] = (SpecRlimit) { .name = strdup(canonical), .soft = soft, .hard = hard };
                if (!s->ulimits[s->n_ulimits++].name)
                        return -ENOMEM;
        }
        return 0;
}
