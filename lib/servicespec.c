/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "parse-util.h"
#include "servicespec.h"
#include "yaml-json.h"

/* Validation walks the parsed tree once. Every field has a handler that
 * checks its type and value, normalizes it in place when users may spell
 * it several ways (env values, capability names, signals) and fills the
 * struct. Errors are "<path>: <what>", path like "storage[1].target". */

/* Bounds shared with launch_config_parse(): lists and strings that reach the
 * launch config must fit what every reader accepts. */
#define SPEC_MAX_ITEMS 4096
#define SPEC_MAX_STRING 65536
#define SPEC_MIN_MEMORY (6 * 1024 * 1024)

typedef struct Ctx {
        ServiceSpec *spec;
        char *error;
} Ctx;

typedef int (*field_fn)(Ctx *c, json_object *parent, const char *key, json_object *v, const char *path);

typedef struct Field {
        const char *name;
        field_fn fn;
} Field;

_printf_(3, 4) static int fail(Ctx *c, const char *path, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;

        free(c->error);
        if (asprintf(&c->error, "%s: %s", isempty(path) ? "spec" : path, msg) < 0)
                c->error = NULL;
        return -EINVAL;
}

/* Bytes of @s to quote: at most 60, never splitting a UTF-8 sequence (the
 * message goes out as a D-Bus string, which must be valid UTF-8). */
static int quote_len(const char *s) {
        size_t n = strlen(s);

        if (n <= 60)
                return (int) n;
        n = 60;
        while (n > 0 && ((unsigned char) s[n] & 0xC0) == 0x80)
                n--;
        return (int) n;
}

/* A short quotation of a value for error messages: 'abc', 12, null, {…}. */
static char *describe(json_object *v) {
        const char *s;
        char *r;

        if (json_object_is_type(v, json_type_string)) {
                s = json_object_get_string(v);
                if (asprintf(&r, "'%.*s%s'", quote_len(s), s, strlen(s) > 60 ? "…" : "") < 0)
                        return NULL;
                return r;
        }
        s = v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "null";
        if (asprintf(&r, "%.*s%s", quote_len(s), s, strlen(s) > 60 ? "…" : "") < 0)
                return NULL;
        return r;
}

static int fail_type(Ctx *c, const char *path, const char *want, json_object *v) {
        _cleanup_free_ char *d = describe(v);
        return fail(c, path, "expected %s, got %s", want, strempty(d));
}

static char *path_join(const char *parent, const char *key) {
        char *r;
        if (asprintf(&r, "%s%s%s", strempty(parent), isempty(parent) ? "" : ".", key) < 0)
                return NULL;
        return r;
}

static char *path_index(const char *parent, size_t i) {
        char *r;
        if (asprintf(&r, "%s[%zu]", parent, i) < 0)
                return NULL;
        return r;
}

static bool text_is_printable(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

static bool is_type(json_object *v, json_type t) {
        return v && json_object_is_type(v, t);
}

/* Calls the handler of each member of @obj; unknown members are errors.
 * A NULL handler accepts and keeps the value as is. */
static int walk_object(Ctx *c, json_object *obj, const char *path, const Field *fields, size_t n_fields,
                       bool (*extra)(const char *key)) {
        if (!is_type(obj, json_type_object))
                return fail_type(c, path, "a map", obj);

        json_object_object_foreach(obj, key, val) {
                _cleanup_free_ char *p = path_join(path, key);
                const Field *f = NULL;
                int r;

                if (!p)
                        return -ENOMEM;
                for (size_t i = 0; i < n_fields; i++)
                        if (streq(fields[i].name, key)) {
                                f = &fields[i];
                                break;
                        }
                if (!f) {
                        if (extra && extra(key))
                                continue;
                        return fail(c, p, "unknown field");
                }
                if (!f->fn)
                        continue;
                r = f->fn(c, obj, key, val, p);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- scalar helpers ---- */

static int want_string(Ctx *c, json_object *v, const char *path, const char **ret) {
        if (!is_type(v, json_type_string))
                return fail_type(c, path, "a string", v);
        *ret = json_object_get_string(v);
        return 0;
}

static int want_bool(Ctx *c, json_object *v, const char *path, bool *ret) {
        if (!is_type(v, json_type_boolean))
                return fail_type(c, path, "true or false", v);
        *ret = json_object_get_boolean(v);
        return 0;
}

static int want_int(Ctx *c, json_object *v, const char *path, int64_t min, int64_t max, int64_t *ret) {
        int64_t i;

        if (!is_type(v, json_type_int))
                return fail_type(c, path, "an integer", v);
        errno = 0;
        i = json_object_get_int64(v);
        if (errno != 0 || i < min || i > max) {
                _cleanup_free_ char *d = describe(v);
                return fail(c, path, "%s is out of range %" PRIi64 "…%" PRIi64, strempty(d), min, max);
        }
        *ret = i;
        return 0;
}

/* A scalar as a string: env and label values, sysctls, user ids. */
static int stringify_scalar(Ctx *c, json_object *parent, const char *key, json_object *v, const char *path,
                            const char **ret) {
        json_object *s;

        if (is_type(v, json_type_string)) {
                *ret = json_object_get_string(v);
                return 0;
        }
        if (!v)
                s = json_object_new_string("");
        else if (is_type(v, json_type_int) || is_type(v, json_type_double) || is_type(v, json_type_boolean))
                s = json_object_new_string(json_object_get_string(v));
        else
                return fail_type(c, path, "a string, number or boolean", v);
        if (!s)
                return -ENOMEM;
        /* Replaces the member in place (safe while iterating @parent). */
        if (json_object_object_add(parent, key, s) < 0) {
                json_object_put(s);
                return -ENOMEM;
        }
        *ret = json_object_get_string(s);
        return 0;
}

static int enum_value(Ctx *c, json_object *v, const char *path, const char *const *values, const char **ret) {
        const char *s = NULL;
        int r = want_string(c, v, path, &s);
        if (r < 0)
                return r;
        for (size_t i = 0; values[i]; i++)
                if (streq(values[i], s)) {
                        *ret = values[i];
                        return 0;
                }

        _cleanup_free_ char *list = NULL;
        for (size_t i = 0; values[i]; i++) {
                char *n;
                if (asprintf(&n, "%s%s%s", strempty(list), list ? ", " : "", values[i]) < 0)
                        return -ENOMEM;
                free(list);
                list = n;
        }
        return fail(c, path, "invalid value '%s' (expected one of: %s)", s, list);
}

static int want_size(Ctx *c, json_object *v, const char *path, int64_t *ret) {
        uint64_t u;
        int r;

        if (is_type(v, json_type_int)) {
                int64_t i;
                r = want_int(c, v, path, 0, INT64_MAX, &i);
                if (r < 0)
                        return r;
                *ret = i;
                return 0;
        }
        if (!is_type(v, json_type_string))
                return fail_type(c, path, "a size like '64Mi'", v);
        r = parse_size(json_object_get_string(v), &u);
        if (r == -ERANGE || (r >= 0 && u > INT64_MAX))
                return fail(c, path, "size '%s' is too large", json_object_get_string(v));
        if (r < 0)
                return fail(c, path, "invalid size '%s'", json_object_get_string(v));
        *ret = (int64_t) u;
        return 0;
}

static int want_duration(Ctx *c, json_object *v, const char *path, uint64_t *ret) {
        int r;

        if (!is_type(v, json_type_string))
                return fail_type(c, path, "a duration like '10s'", v);
        r = parse_duration(json_object_get_string(v), ret);
        if (r == -ERANGE)
                return fail(c, path, "duration '%s' is too large", json_object_get_string(v));
        if (r < 0)
                return fail(c, path, "invalid duration '%s'", json_object_get_string(v));
        return 0;
}

static int want_absolute_path(Ctx *c, json_object *v, const char *path, char **ret) {
        const char *s = NULL;
        int r = want_string(c, v, path, &s);
        if (r < 0)
                return r;
        if (s[0] != '/')
                return fail(c, path, "'%s' is not an absolute path", s);
        if (!text_is_printable(s))
                return fail(c, path, "contains control characters");
        if (strlen(s) >= 4096)
                return fail(c, path, "path is too long");
        /* ".." could climb out of the container's root when the path is resolved on the host side */
        for (const char *q = s; (q = strstr(q, "..")); q += 2)
                if (q[-1] == '/' && (q[2] == '/' || q[2] == 0))
                        return fail(c, path, "'%s' contains a '..' component", s);
        free(*ret);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int strv_push(char ***l, const char *s) {
        size_t n = strv_length(*l);
        char **nl = realloc(*l, (n + 2) * sizeof(char *));
        if (!nl)
                return -ENOMEM;
        *l = nl;
        nl[n] = strdup(s);
        nl[n + 1] = NULL;
        return nl[n] ? 0 : -ENOMEM;
}

/* A list of strings; *ret becomes a (possibly empty) strv. */
static int want_strv(Ctx *c, json_object *v, const char *path, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n;

        if (!is_type(v, json_type_array))
                return fail_type(c, path, "a list of strings", v);
        n = json_object_array_length(v);
        if (n > SPEC_MAX_ITEMS)
                return fail(c, path, "more than %d items", SPEC_MAX_ITEMS);
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                if (!is_type(e, json_type_string)) {
                        _cleanup_free_ char *p = path_index(path, i);
                        return p ? fail_type(c, p, "a string", e) : -ENOMEM;
                }
                if (json_object_get_string_len(e) > SPEC_MAX_STRING) {
                        _cleanup_free_ char *p = path_index(path, i);
                        return p ? fail(c, p, "longer than %d bytes", SPEC_MAX_STRING) : -ENOMEM;
                }
                if (strv_push(&l, json_object_get_string(e)) < 0)
                        return -ENOMEM;
        }
        strv_free(*ret);
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- image, command ---- */

static const char *const rtypes[] = { "service", "job", "cron", NULL };
static const char *const pull_policies[] = { "if_not_present", "always", "never", "newer", NULL };

static int f_rtype(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        int r = enum_value(c, v, path, rtypes, &s);
        if (r < 0)
                return r;
        free(c->spec->rtype);
        c->spec->rtype = strdup(s);
        return c->spec->rtype ? 0 : -ENOMEM;
}

static int f_image_name(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        int r = want_string(c, v, path, &s);
        if (r < 0)
                return r;
        if (isempty(s))
                return fail(c, path, "must not be empty");
        for (const char *q = s; *q; q++)
                if ((unsigned char) *q <= ' ' || *q == 0x7f)
                        return fail(c, path, "invalid image reference '%s'", s);
        free(c->spec->image);
        c->spec->image = strdup(s);
        return c->spec->image ? 0 : -ENOMEM;
}

static int f_pull_policy(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        int r = enum_value(c, v, path, pull_policies, &s);
        if (r < 0)
                return r;
        c->spec->pull_policy = streq(s, "always") ? PULL_ALWAYS :
                               streq(s, "never")  ? PULL_NEVER :
                               streq(s, "newer")  ? PULL_NEWER : PULL_IF_NOT_PRESENT;
        return 0;
}

static const Field image_fields[] = {
        { "name", f_image_name },
        { "pull_policy", f_pull_policy },
};

static int f_image(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        int r = walk_object(c, v, path, image_fields, ELEMENTSOF(image_fields), NULL);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(v, "name", NULL))
                return fail(c, "image.name", "required");
        return 0;
}

static int f_entrypoint(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return want_strv(c, v, path, &c->spec->entrypoint);
}

static int f_args(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return want_strv(c, v, path, &c->spec->args);
}

static int f_workdir(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return want_absolute_path(c, v, path, &c->spec->workdir);
}

static const Field command_fields[] = {
        { "entrypoint", f_entrypoint },
        { "args", f_args },
        { "workdir", f_workdir },
};

static int f_command(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return walk_object(c, v, path, command_fields, ELEMENTSOF(command_fields), NULL);
}

/* ---- env, labels, sysctls ---- */

static int f_env(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        _cleanup_strv_free_ char **env = NULL;

        if (!is_type(v, json_type_object))
                return fail_type(c, path, "a map of variables", v);
        if (json_object_object_length(v) > SPEC_MAX_ITEMS)
                return fail(c, path, "more than %d variables", SPEC_MAX_ITEMS);
        env = calloc(1, sizeof(char *));
        if (!env)
                return -ENOMEM;
        json_object_object_foreach(v, name, val) {
                _cleanup_free_ char *sub = path_join(path, name), *kv = NULL;
                const char *s = NULL;
                int r;

                if (!sub)
                        return -ENOMEM;
                if (isempty(name) || strchr(name, '='))
                        return fail(c, sub, "invalid variable name '%s'", name);
                r = stringify_scalar(c, v, name, val, sub, &s);
                if (r < 0)
                        return r;
                /* the launch config carries KEY=VALUE as printable text */
                if (!text_is_printable(name) || !text_is_printable(s))
                        return fail(c, sub, "contains control characters (tabs and newlines included)");
                if (strlen(name) + strlen(s) >= SPEC_MAX_STRING)
                        return fail(c, sub, "longer than %d bytes", SPEC_MAX_STRING);
                if (asprintf(&kv, "%s=%s", name, s) < 0 || strv_push(&env, kv) < 0)
                        return -ENOMEM;
        }
        strv_free(c->spec->env);
        c->spec->env = TAKE_PTR(env);
        return 0;
}

static int f_labels(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        _cleanup_strv_free_ char **labels = NULL;

        if (!is_type(v, json_type_object))
                return fail_type(c, path, "a map of labels", v);
        if (json_object_object_length(v) > SPEC_MAX_ITEMS)
                return fail(c, path, "more than %d labels", SPEC_MAX_ITEMS);
        labels = calloc(1, sizeof(char *));
        if (!labels)
                return -ENOMEM;
        json_object_object_foreach(v, name, val) {
                _cleanup_free_ char *sub = path_join(path, name);
                const char *s = NULL;
                int r;

                if (!sub)
                        return -ENOMEM;
                if (isempty(name))
                        return fail(c, sub, "empty label name");
                r = stringify_scalar(c, v, name, val, sub, &s);
                if (r < 0)
                        return r;
                if (strv_push(&labels, name) < 0 || strv_push(&labels, s) < 0)
                        return -ENOMEM;
        }
        strv_free(c->spec->labels);
        c->spec->labels = TAKE_PTR(labels);
        return 0;
}

static bool sysctl_namespaced(const char *n) {
        return strneq(n, "net.", 4) || strneq(n, "kernel.msg", 10) || streq(n, "kernel.sem") ||
               strneq(n, "kernel.shm", 10) || strneq(n, "fs.mqueue.", 10);
}

static int f_sysctls(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        if (!is_type(v, json_type_object))
                return fail_type(c, path, "a map of sysctls", v);
        json_object_object_foreach(v, name, val) {
                _cleanup_free_ char *sub = path_join(path, name);
                const char *s = NULL;
                int r;

                if (!sub)
                        return -ENOMEM;
                for (const char *q = name; *q; q++)
                        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
                              strchr("._-", *q)))
                                return fail(c, sub, "invalid sysctl name");
                if (strstr(name, "..") || !sysctl_namespaced(name))
                        return fail(c, sub, "only namespaced sysctls are allowed (net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)");
                r = stringify_scalar(c, v, name, val, sub, &s);
                if (r < 0)
                        return r;
                if (strpbrk(s, "\n"))
                        return fail(c, sub, "value must be a single line");
        }
        return 0;
}

/* ---- resources ---- */

static int f_cpu(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        double d;

        if (is_type(v, json_type_int) || is_type(v, json_type_double))
                d = json_object_get_double(v);
        else if (is_type(v, json_type_string)) {
                const char *s = json_object_get_string(v);
                char *end;
                errno = 0;
                d = strtod(s, &end);
                if (errno != 0 || end == s || *end)
                        return fail_type(c, path, "a number", v);
        } else
                return fail_type(c, path, "a number", v);
        /* 1024 CPUs is far beyond any node; it also keeps quota*period in range. */
        if (!isfinite(d) || d <= 0 || d > 1024)
                return fail(c, path, "%g is out of range (0, 1024]", d);
        c->spec->cpu = d;
        return 0;
}

static int f_memory(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        int r = want_size(c, v, path, &c->spec->memory);
        if (r < 0)
                return r;
        /* below this the kernel OOM-kills the runtime's own setup; Docker has the same floor */
        if (c->spec->memory > 0 && c->spec->memory < SPEC_MIN_MEMORY)
                return fail(c, path, "%" PRIi64 " bytes is below the minimum of 6Mi", c->spec->memory);
        return 0;
}

static int f_memory_swap(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        /* -1 = unlimited swap, as in Docker */
        if ((is_type(v, json_type_int) && json_object_get_int64(v) == -1) ||
            (is_type(v, json_type_string) && streq(json_object_get_string(v), "-1"))) {
                c->spec->memory_swap = -1;
                return 0;
        }
        return want_size(c, v, path, &c->spec->memory_swap);
}

static int f_memory_reservation(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return want_size(c, v, path, &c->spec->memory_reservation);
}

static int f_memory_swappiness(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return want_int(c, v, path, 0, 100, &c->spec->memory_swappiness);
}

static int f_pids_limit(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return want_int(c, v, path, 0, INT64_MAX, &c->spec->pids_limit);
}

static int f_cpuset(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        int r = want_string(c, v, path, &s);
        if (r < 0)
                return r;
        /* "0-3,5,7-8" */
        for (const char *q = s;;) {
                char *end;
                unsigned long a, b;

                if (!(*q >= '0' && *q <= '9'))
                        return fail(c, path, "invalid cpu list '%s'", s);
                a = b = strtoul(q, &end, 10);
                if (*end == '-') {
                        q = end + 1;
                        if (!(*q >= '0' && *q <= '9'))
                                return fail(c, path, "invalid cpu list '%s'", s);
                        b = strtoul(q, &end, 10);
                }
                if (a > b || b >= 8192)
                        return fail(c, path, "invalid cpu list '%s'", s);
                if (*end == 0)
                        break;
                if (*end != ',')
                        return fail(c, path, "invalid cpu list '%s'", s);
                q = end + 1;
        }
        free(c->spec->cpuset);
        c->spec->cpuset = strdup(s);
        return c->spec->cpuset ? 0 : -ENOMEM;
}

static int f_cpu_shares(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        int64_t i;
        int r = want_int(c, v, path, 2, 262144, &i);
        if (r < 0)
                return r;
        c->spec->cpu_shares = (uint64_t) i;
        return 0;
}

static const Field resources_fields[] = {
        { "cpu", f_cpu },
        { "memory", f_memory },
        { "memory_swap", f_memory_swap },
        { "memory_reservation", f_memory_reservation },
        { "memory_swappiness", f_memory_swappiness },
        { "pids_limit", f_pids_limit },
        { "cpuset", f_cpuset },
        { "cpu_shares", f_cpu_shares },
};

static int f_resources(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return walk_object(c, v, path, resources_fields, ELEMENTSOF(resources_fields), NULL);
}

/* ---- endpoints, port mappings ---- */

static const char *const endpoint_protocols[] = { "http", "https", "tcp", "udp", "websocket", NULL };
static const char *const mapping_protocols[] = { "tcp", "udp", NULL };

static int f_any_string(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        return want_string(c, v, path, &s);
}

static int f_port(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        int64_t i;
        return want_int(c, v, path, 1, 65535, &i);
}

static int f_host_port(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        int64_t i;
        return want_int(c, v, path, 0, 65535, &i); /* 0 = any free port */
}

static int f_endpoint_protocol(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        return enum_value(c, v, path, endpoint_protocols, &s);
}

static int f_mapping_protocol(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        return enum_value(c, v, path, mapping_protocols, &s);
}

static int f_expose(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        static const char *const values[] = { "public", "internal", NULL };
        const char *s = NULL;
        if (is_type(v, json_type_boolean))
                return 0;
        return enum_value(c, v, path, values, &s);
}

static int f_ip(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        unsigned char buf[sizeof(struct in6_addr)];
        const char *s = NULL;
        int r = want_string(c, v, path, &s);
        if (r < 0)
                return r;
        if (inet_pton(AF_INET, s, buf) != 1 && inet_pton(AF_INET6, s, buf) != 1)
                return fail(c, path, "invalid IP address '%s'", s);
        return 0;
}

static const Field endpoint_fields[] = {
        { "name", f_any_string },
        { "protocol", f_endpoint_protocol },
        { "port", f_port },
        { "target_port", f_port },
        { "expose", f_expose },
        { "path", f_any_string },
};

static const Field mapping_fields[] = {
        { "container_port", f_port },
        { "host_port", f_host_port },
        { "protocol", f_mapping_protocol },
        { "host_ip", f_ip },
};

static int walk_list(Ctx *c, json_object *v, const char *path, const Field *fields, size_t n,
                     const char *required) {
        if (!is_type(v, json_type_array))
                return fail_type(c, path, "a list", v);
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                _cleanup_free_ char *p = path_index(path, i), *req = NULL;
                json_object *e = json_object_array_get_idx(v, i);
                int r;

                if (!p)
                        return -ENOMEM;
                r = walk_object(c, e, p, fields, n, NULL);
                if (r < 0)
                        return r;
                if (required && !json_object_object_get_ex(e, required, NULL)) {
                        req = path_join(p, required);
                        return req ? fail(c, req, "required") : -ENOMEM;
                }
        }
        return 0;
}

static int f_endpoints(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return walk_list(c, v, path, endpoint_fields, ELEMENTSOF(endpoint_fields), "port");
}

static int f_port_mappings(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return walk_list(c, v, path, mapping_fields, ELEMENTSOF(mapping_fields), "container_port");
}

/* ---- storage ---- */

/* Handlers fill the SpecMount being validated, reached through the context. */
static SpecMount *current_mount(Ctx *c) {
        return &c->spec->storage[c->spec->n_storage - 1];
}

static int f_st_type(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return 0; /* checked before the walk */
}

static int f_st_source(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return want_absolute_path(c, v, path, &current_mount(c)->source);
}

static int f_st_name(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        int r = want_string(c, v, path, &s);
        if (r < 0)
                return r;
        if (isempty(s) || strchr(s, '/') || streq(s, ".") || streq(s, "..") || strlen(s) > 255)
                return fail(c, path, "invalid volume name '%s'", s);
        free(current_mount(c)->source);
        current_mount(c)->source = strdup(s);
        return current_mount(c)->source ? 0 : -ENOMEM;
}

static int f_st_target(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        int r = want_absolute_path(c, v, path, &current_mount(c)->target);
        if (r < 0)
                return r;
        if (current_mount(c)->target[strspn(current_mount(c)->target, "/")] == 0)
                return fail(c, path, "cannot mount over the container's root");
        return 0;
}

static int f_st_readonly(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return want_bool(c, v, path, &current_mount(c)->readonly);
}

static int f_st_size(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        int64_t sz;
        int r = want_size(c, v, path, &sz);
        if (r < 0)
                return r;
        current_mount(c)->size = (uint64_t) sz;
        return 0;
}

static int f_st_mode(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        int64_t m;

        /* "1777" as a string is octal, as users mean it; YAML 0o1777 arrives as an int. */
        if (is_type(v, json_type_string)) {
                const char *s = json_object_get_string(v);
                char *end;
                errno = 0;
                m = strtol(s, &end, 8);
                if (errno != 0 || end == s || *end || m < 0 || m > 07777)
                        return fail(c, path, "invalid mode '%s' (octal, at most 7777)", s);
        } else {
                int r = want_int(c, v, path, 0, 07777, &m);
                if (r < 0)
                        return r;
        }
        current_mount(c)->mode = (unsigned) m;
        return 0;
}

static const Field bind_fields[] = {
        { "type", f_st_type }, { "source", f_st_source }, { "target", f_st_target }, { "readonly", f_st_readonly },
};
static const Field named_fields[] = {
        { "type", f_st_type }, { "name", f_st_name }, { "target", f_st_target }, { "readonly", f_st_readonly },
};
static const Field anonymous_fields[] = {
        { "type", f_st_type }, { "target", f_st_target },
};
static const Field tmpfs_fields[] = {
        { "type", f_st_type }, { "target", f_st_target }, { "size", f_st_size }, { "mode", f_st_mode },
};

static int f_storage(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        static const char *const types[] = { "bind", "named", "anonymous", "tmpfs", NULL };
        ServiceSpec *s = c->spec;
        size_t n;

        if (!is_type(v, json_type_array))
                return fail_type(c, path, "a list", v);
        n = json_object_array_length(v);
        if (n > 256)
                return fail(c, path, "more than 256 entries");

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *ep = path_index(path, i), *tp = NULL;
                json_object *e = json_object_array_get_idx(v, i), *t;
                const char *type, *required[2] = {};
                const Field *fields;
                size_t n_fields;
                SpecMount *m;
                int r;

                if (!ep)
                        return -ENOMEM;
                if (!is_type(e, json_type_object))
                        return fail_type(c, ep, "a map", e);
                tp = path_join(ep, "type");
                if (!tp)
                        return -ENOMEM;
                if (!json_object_object_get_ex(e, "type", &t))
                        return fail(c, tp, "required");
                r = enum_value(c, t, tp, types, &type);
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

                r = walk_object(c, e, ep, fields, n_fields, NULL);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < ELEMENTSOF(required) && required[j]; j++)
                        if (!json_object_object_get_ex(e, required[j], NULL)) {
                                _cleanup_free_ char *rp = path_join(ep, required[j]);
                                return rp ? fail(c, rp, "required for %s storage", type) : -ENOMEM;
                        }
        }
        return 0;
}

/* ---- networking ---- */

static int f_network_mode(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        static const char *const modes[] = { "default", "host", "none", "bridge", NULL };
        const char *s = NULL;
        int r = enum_value(c, v, path, modes, &s);
        if (r < 0)
                return r;
        free(c->spec->network_mode);
        c->spec->network_mode = strdup(s);
        return c->spec->network_mode ? 0 : -ENOMEM;
}

static int f_hostname(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        int r = want_string(c, v, path, &s);
        if (r < 0)
                return r;
        if (!hostname_is_valid(s))
                return fail(c, path, "invalid hostname '%s'", s);
        free(c->spec->hostname);
        c->spec->hostname = strdup(s);
        return c->spec->hostname ? 0 : -ENOMEM;
}

static int f_dns(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        unsigned char buf[sizeof(struct in6_addr)];
        int r = want_strv(c, v, path, &c->spec->dns);
        if (r < 0)
                return r;
        for (size_t i = 0; c->spec->dns[i]; i++)
                if (inet_pton(AF_INET, c->spec->dns[i], buf) != 1 && inet_pton(AF_INET6, c->spec->dns[i], buf) != 1) {
                        _cleanup_free_ char *ip = path_index(path, i);
                        return ip ? fail(c, ip, "invalid IP address '%s'", c->spec->dns[i]) : -ENOMEM;
                }
        return 0;
}

static int f_extra_hosts(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        unsigned char buf[sizeof(struct in6_addr)];
        int r = want_strv(c, v, path, &c->spec->extra_hosts);
        if (r < 0)
                return r;
        /* "name:ip", as in Docker; the address may be IPv6 and contain ':' */
        for (size_t i = 0; c->spec->extra_hosts[i]; i++) {
                const char *e = c->spec->extra_hosts[i], *colon = strchr(e, ':');
                _cleanup_free_ char *name = colon ? strndup(e, (size_t) (colon - e)) : NULL;

                if (!colon || !name || !hostname_is_valid(name) ||
                    (inet_pton(AF_INET, colon + 1, buf) != 1 && inet_pton(AF_INET6, colon + 1, buf) != 1)) {
                        _cleanup_free_ char *ip = path_index(path, i);
                        return ip ? fail(c, ip, "expected 'hostname:ip', got '%s'", e) : -ENOMEM;
                }
        }
        return 0;
}

/* ---- identity and privileges ---- */

static int f_user(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        int r;

        if (!is_type(v, json_type_string) && !is_type(v, json_type_int))
                return fail_type(c, path, "'uid[:gid]' or 'name[:group]'", v);
        r = stringify_scalar(c, p, k, v, path, &s);
        if (r < 0)
                return r;
        if (!user_spec_is_valid(s))
                return fail(c, path, "invalid user '%s' (expected uid[:gid] or name[:group])", s);
        free(c->spec->user);
        c->spec->user = strdup(s);
        return c->spec->user ? 0 : -ENOMEM;
}

static int f_extra_groups(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        _cleanup_strv_free_ char **groups = NULL;

        if (!is_type(v, json_type_array))
                return fail_type(c, path, "a list of groups", v);
        if (json_object_array_length(v) > SPEC_MAX_ITEMS)
                return fail(c, path, "more than %d items", SPEC_MAX_ITEMS);
        groups = calloc(1, sizeof(char *));
        if (!groups)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                _cleanup_free_ char *ip = path_index(path, i);
                json_object *e = json_object_array_get_idx(v, i);
                const char *s = NULL;

                if (!ip)
                        return -ENOMEM;
                if (is_type(e, json_type_int)) {
                        json_object *str = json_object_new_string(json_object_get_string(e));
                        if (!str || json_object_array_put_idx(v, i, str) < 0) {
                                json_object_put(str);
                                return -ENOMEM;
                        }
                        e = str;
                }
                if (!is_type(e, json_type_string))
                        return fail_type(c, ip, "a group name or gid", e);
                s = json_object_get_string(e);
                if (strchr(s, ':') || !user_spec_is_valid(s))
                        return fail(c, ip, "invalid group '%s'", s);
                if (strv_push(&groups, s) < 0)
                        return -ENOMEM;
        }
        strv_free(c->spec->extra_groups);
        c->spec->extra_groups = TAKE_PTR(groups);
        return 0;
}

/* Validates and normalizes capability names in place, appending to *list. */
static int caps_list(Ctx *c, json_object *v, const char *path, char ***list) {
        if (!is_type(v, json_type_array))
                return fail_type(c, path, "a list of capabilities", v);
        if (json_object_array_length(v) > SPEC_MAX_ITEMS)
                return fail(c, path, "more than %d items", SPEC_MAX_ITEMS);
        if (!*list) {
                *list = calloc(1, sizeof(char *));
                if (!*list)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                _cleanup_free_ char *ip = path_index(path, i), *name = NULL;
                json_object *e = json_object_array_get_idx(v, i), *n;
                int r;

                if (!ip)
                        return -ENOMEM;
                if (!is_type(e, json_type_string))
                        return fail_type(c, ip, "a capability name", e);
                r = capability_normalize(json_object_get_string(e), &name);
                if (r == -EOPNOTSUPP)
                        return fail(c, ip, "capability '%s' is not supported by this kernel", json_object_get_string(e));
                if (r < 0)
                        return fail(c, ip, "unknown capability '%s'", json_object_get_string(e));
                n = json_object_new_string(name);
                if (!n || json_object_array_put_idx(v, i, n) < 0) {
                        json_object_put(n);
                        return -ENOMEM;
                }
                if (strv_push(list, name) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int f_cap_add(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return caps_list(c, v, path, &c->spec->cap_add);
}

static int f_cap_drop(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return caps_list(c, v, path, &c->spec->cap_drop);
}

static int f_privileged(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return want_bool(c, v, path, &c->spec->privileged);
}
static int f_read_only_root_fs(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return want_bool(c, v, path, &c->spec->read_only_root_fs);
}
static int f_tty(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return want_bool(c, v, path, &c->spec->tty);
}
static int f_stdin_open(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return want_bool(c, v, path, &c->spec->stdin_open);
}
static int f_any_bool(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        bool b;
        return want_bool(c, v, path, &b);
}

/* ---- ulimits ---- */

static const char *const rlimit_names[] = {
        "as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
        "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack", NULL,
};

static int rlimit_value(Ctx *c, json_object *v, const char *path, uint64_t *ret) {
        if ((is_type(v, json_type_int) && json_object_get_int64(v) == -1) ||
            (is_type(v, json_type_string) && (streq(json_object_get_string(v), "unlimited") ||
                                              streq(json_object_get_string(v), "-1")))) {
                *ret = UINT64_MAX; /* RLIM_INFINITY */
                return 0;
        }
        if (!is_type(v, json_type_int))
                return fail_type(c, path, "a non-negative integer, -1 or 'unlimited'", v);
        int64_t i;
        int r = want_int(c, v, path, 0, INT64_MAX, &i);
        if (r < 0)
                return r;
        *ret = (uint64_t) i;
        return 0;
}

static int f_ulimits(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        ServiceSpec *s = c->spec;

        if (!is_type(v, json_type_object))
                return fail_type(c, path, "a map of limits", v);
        json_object_object_foreach(v, name, val) {
                _cleanup_free_ char *np = path_join(path, name);
                const char *canonical = NULL;
                uint64_t soft, hard;
                SpecRlimit *l;
                int r;

                if (!np)
                        return -ENOMEM;
                for (size_t i = 0; rlimit_names[i]; i++)
                        if (streq(rlimit_names[i], name))
                                canonical = rlimit_names[i];
                if (!canonical)
                        return fail(c, np, "unknown limit");

                if (is_type(val, json_type_object)) {
                        json_object *sv = NULL, *hv = NULL;
                        json_object_object_foreach(val, lk, lv) {
                                _cleanup_free_ char *lp = path_join(np, lk);
                                if (!lp)
                                        return -ENOMEM;
                                if (streq(lk, "soft"))
                                        sv = lv;
                                else if (streq(lk, "hard"))
                                        hv = lv;
                                else
                                        return fail(c, lp, "unknown field");
                                r = rlimit_value(c, lv, lp, streq(lk, "soft") ? &soft : &hard);
                                if (r < 0)
                                        return r;
                        }
                        if (!sv || !hv) {
                                _cleanup_free_ char *lp = path_join(np, sv ? "hard" : "soft");
                                return lp ? fail(c, lp, "required") : -ENOMEM;
                        }
                        if (soft > hard)
                                return fail(c, np, "soft limit is above the hard limit");
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

/* ---- lifecycle ---- */

static int f_stop_signal(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        _cleanup_free_ char *name = NULL;
        json_object *n;

        if (!is_type(v, json_type_string) && !is_type(v, json_type_int))
                return fail_type(c, path, "a signal name", v);
        if (signal_normalize(json_object_get_string(v), &name) < 0)
                return fail(c, path, "unknown signal '%s'", json_object_get_string(v));
        n = json_object_new_string(name);
        if (!n || json_object_object_add(p, k, n) < 0) {
                json_object_put(n);
                return -ENOMEM;
        }
        free(c->spec->stop_signal);
        c->spec->stop_signal = TAKE_PTR(name);
        return 0;
}

static int f_stop_grace_period(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return want_duration(c, v, path, &c->spec->stop_grace_usec);
}

static int f_restart_kind(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        static const char *const kinds[] = { "no", "always", "unless_stopped", "on_failure", NULL };
        const char *s = NULL;
        int r = enum_value(c, v, path, kinds, &s);
        if (r < 0)
                return r;
        free(c->spec->restart_kind);
        c->spec->restart_kind = strdup(s);
        return c->spec->restart_kind ? 0 : -ENOMEM;
}

static int f_restart_max_attempts(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return want_int(c, v, path, 0, INT32_MAX, &c->spec->restart_max_attempts);
}

static int f_any_duration(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        uint64_t u;
        return want_duration(c, v, path, &u);
}

static const Field restart_fields[] = {
        { "kind", f_restart_kind },
        { "max_attempts", f_restart_max_attempts },
        { "delay", f_any_duration },
};

static int f_restart_policy(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        int r = walk_object(c, v, path, restart_fields, ELEMENTSOF(restart_fields), NULL);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(v, "kind", NULL))
                return fail(c, "restart_policy.kind", "required");
        return 0;
}

static int f_strv(Ctx *c, json_object *p, const char *k, json_object *v, const char *path) {
        _cleanup_strv_free_ char **l = NULL;
        return want_strv(c, v, path, &l);
}

/* ---- the top level ---- */

static const Field top_fields[] = {
        { "rtype", f_rtype },
        { "image", f_image },
        { "command", f_command },
        { "env", f_env },
        { "resources", f_resources },
        { "endpoints", f_endpoints },
        { "port_mappings", f_port_mappings },
        { "storage", f_storage },
        { "network_mode", f_network_mode },
        { "hostname", f_hostname },
        { "dns", f_dns },
        { "extra_hosts", f_extra_hosts },
        { "user", f_user },
        { "extra_groups", f_extra_groups },
        { "labels", f_labels },
        { "capabilities", f_cap_add },
        { "cap_add", f_cap_add },
        { "cap_drop", f_cap_drop },
        { "privileged", f_privileged },
        { "read_only_root_fs", f_read_only_root_fs },
        { "tty", f_tty },
        { "stdin_open", f_stdin_open },
        { "init_container", f_any_bool },
        { "ulimits", f_ulimits },
        { "sysctls", f_sysctls },
        { "stop_signal", f_stop_signal },
        { "stop_grace_period", f_stop_grace_period },
        { "restart_policy", f_restart_policy },
        { "security_opt", f_strv },
        { "pid_mode", f_any_string },
        { "ipc_mode", f_any_string },
        { "userns_mode", f_any_string },
        { "cgroup_parent", f_any_string },
        /* The orchestrator's: accepted and kept, not interpreted here. */
        { "health", NULL },
        { "scale", NULL },
        { "depends", NULL },
        { "replica_groups", NULL },
        { "affinity", NULL },
        { "init", NULL },
        { "errors", NULL },
        { "lifecycle", NULL },
        { "overlay", NULL },
        { "wasm", NULL },
        { "schedule", NULL },
};

static bool orchestrator_prefix(const char *key) {
        return strneq(key, "node_", 5) && key[5];
}

/* "cap_add" is an alias: fold it into "capabilities" so the stored tree has one spelling. */
static int fold_cap_add(json_object *root) {
        json_object *alias, *caps;

        if (!json_object_object_get_ex(root, "cap_add", &alias))
                return 0;
        if (!json_object_object_get_ex(root, "capabilities", &caps)) {
                json_object_object_add(root, "capabilities", json_object_get(alias));
        } else
                for (size_t i = 0; i < json_object_array_length(alias); i++)
                        if (json_object_array_add(caps, json_object_get(json_object_array_get_idx(alias, i))) < 0)
                                return -ENOMEM;
        json_object_object_del(root, "cap_add");
        return 0;
}

/* json-c accepts NaN and Infinity even in strict mode, and 1e999 becomes
 * inf; the stored tree must stay valid JSON. Depth is bounded by the tokenizer. */
static int check_finite(Ctx *c, json_object *o, const char *path) {
        if (is_type(o, json_type_double)) {
                if (!isfinite(json_object_get_double(o)))
                        return fail(c, path, "non-finite number");
        } else if (is_type(o, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(o); i++) {
                        _cleanup_free_ char *p = path_index(path, i);
                        int r = p ? check_finite(c, json_object_array_get_idx(o, i), p) : -ENOMEM;
                        if (r < 0)
                                return r;
                }
        } else if (is_type(o, json_type_object)) {
                json_object_object_foreach(o, k, v) {
                        _cleanup_free_ char *p = path_join(path, k);
                        int r = p ? check_finite(c, v, p) : -ENOMEM;
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int parse_json_text(const char *text, size_t len, json_object **ret, char **ret_error) {
        json_tokener *tok;
        json_object *o;
        enum json_tokener_error jerr;
        size_t off;

        tok = json_tokener_new_ex(YAML_JSON_MAX_DEPTH);
        if (!tok)
                return -ENOMEM;
        /* no comments, single quotes, NaN or trailing commas; UTF-8 checked */
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        o = json_tokener_parse_ex(tok, text, (int) len);
        jerr = json_tokener_get_error(tok);
        off = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);

        if (jerr != json_tokener_success || !o) {
                json_object_put(o);
                if (ret_error && asprintf(ret_error, "invalid JSON at offset %zu: %s", off,
                                          jerr == json_tokener_continue ? "unexpected end of input"
                                                                        : json_tokener_error_desc(jerr)) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        for (; off < len; off++)
                if (!strchr(" \t\r\n", text[off])) {
                        json_object_put(o);
                        if (ret_error && asprintf(ret_error, "invalid JSON at offset %zu: trailing data", off) < 0)
                                *ret_error = NULL;
                        return -EINVAL;
                }
        *ret = o;
        return 0;
}

int service_spec_parse(const char *text, size_t len, ServiceSpec **ret, char **ret_error) {
        _cleanup_service_spec_ ServiceSpec *s = NULL;
        json_object *root = NULL;
        Ctx c = {};
        size_t i;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!text || !ret)
                return -EINVAL;
        if (len > YAML_JSON_MAX_INPUT) {
                if (ret_error && asprintf(ret_error, "spec is larger than %d bytes", YAML_JSON_MAX_INPUT) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        if (memchr(text, 0, len)) {
                if (ret_error)
                        *ret_error = strdup("spec contains a NUL byte");
                return -EINVAL;
        }

        for (i = 0; i < len && strchr(" \t\r\n", text[i]); i++)
                ;
        if (i < len && text[i] == '{')
                r = parse_json_text(text, len, &root, ret_error);
        else {
                r = yaml_to_json(text, len, &root, ret_error);
                if (r == -E2BIG)
                        r = -EINVAL;
        }
        if (r < 0)
                return r;

        s = calloc(1, sizeof(ServiceSpec));
        if (!s) {
                json_object_put(root);
                return -ENOMEM;
        }
        s->json = root;
        s->memory_swappiness = -1;
        c.spec = s;

        if (!root)
                r = fail(&c, "", "empty document");
        else if (!is_type(root, json_type_object))
                r = fail_type(&c, "", "a map of fields", root);
        else if ((r = check_finite(&c, root, "")) >= 0)
                r = walk_object(&c, root, "", top_fields, ELEMENTSOF(top_fields), orchestrator_prefix);
        if (r >= 0 && !json_object_object_get_ex(root, "image", NULL))
                r = fail(&c, "image.name", "required");
        if (r >= 0 && s->rtype && streq(s->rtype, "cron") && !json_object_object_get_ex(root, "schedule", NULL))
                r = fail(&c, "schedule", "required when rtype is cron");
        if (r >= 0 && s->memory_swap > 0 && s->memory == 0)
                r = fail(&c, "resources.memory_swap", "requires resources.memory");
        if (r >= 0 && s->memory_swap > 0 && s->memory_swap < s->memory)
                r = fail(&c, "resources.memory_swap", "must not be below resources.memory");
        if (r >= 0)
                r = fold_cap_add(root);
        if (r < 0) {
                if (ret_error)
                        *ret_error = TAKE_PTR(c.error);
                free(c.error);
                return r;
        }

        if (!s->rtype && !(s->rtype = strdup("service")))
                return -ENOMEM;
        if (!s->network_mode && !(s->network_mode = strdup("default")))
                return -ENOMEM;

        *ret = TAKE_PTR(s);
        return 0;
}

ServiceSpec *service_spec_free(ServiceSpec *s) {
        if (!s)
                return NULL;
        json_object_put(s->json);
        free(s->rtype);
        free(s->image);
        strv_free(s->entrypoint);
        strv_free(s->args);
        free(s->workdir);
        strv_free(s->env);
        free(s->cpuset);
        for (size_t i = 0; i < s->n_storage; i++) {
                free(s->storage[i].type);
                free(s->storage[i].source);
                free(s->storage[i].target);
        }
        free(s->storage);
        free(s->network_mode);
        free(s->hostname);
        strv_free(s->dns);
        strv_free(s->extra_hosts);
        free(s->user);
        strv_free(s->extra_groups);
        strv_free(s->labels);
        strv_free(s->cap_add);
        strv_free(s->cap_drop);
        for (size_t i = 0; i < s->n_ulimits; i++)
                free(s->ulimits[i].name);
        free(s->ulimits);
        free(s->stop_signal);
        free(s->restart_kind);
        free(s);
        return NULL;
}
