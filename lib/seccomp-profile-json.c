/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's own seccomp profile in Docker's JSON format, given inline
 * as `security_opt: ["seccomp=<JSON>"]` (what the Docker API receives: its
 * CLI reads the file and sends the text). The same walk checks the text
 * (the broker, at CreateContainer: no filter is made there, its own
 * allowlist has no seccomp call) and builds the filter (the shim and the
 * exec monitor, right before execve). */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "macro.h"
#include "parse-util.h"
#include "seccomp-profile.h"

static void json_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}

typedef struct Walk {
        scmp_filter_ctx ctx;    /* NULL: check only */
        SeccompCaps caps;
        const char *release;    /* uname -r, for minKernel */
        char **error;
        unsigned n_rules;
} Walk;

_printf_(2, 3) static int bad(Walk *w, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        if (w->error && vasprintf(w->error, fmt, ap) < 0)
                *w->error = NULL;
        va_end(ap);
        return -EINVAL;
}

static const struct {
        const char *name;
        uint32_t action;        /* the errno/trace value is or'ed in */
        bool takes_ret;
} actions[] = {
        { "SCMP_ACT_ALLOW",        SCMP_ACT_ALLOW,        false },
        { "SCMP_ACT_ERRNO",        SCMP_ACT_ERRNO(0),     true },
        { "SCMP_ACT_KILL",         SCMP_ACT_KILL_THREAD,  false },
        { "SCMP_ACT_KILL_THREAD",  SCMP_ACT_KILL_THREAD,  false },
        { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
        { "SCMP_ACT_TRAP",         SCMP_ACT_TRAP,         false },
        { "SCMP_ACT_TRACE",        SCMP_ACT_TRACE(0),     true },
        { "SCMP_ACT_LOG",          SCMP_ACT_LOG,          false },
};

static const struct {
        const char *name;
        enum scmp_compare op;
} operators[] = {
        { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT }, { "SCMP_CMP_LE", SCMP_CMP_LE },
        { "SCMP_CMP_EQ", SCMP_CMP_EQ }, { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
        { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

/* Go's names of the architectures (Docker's "includes": {"arches": …}). */
static const struct {
        uint32_t arch;
        const char *scmp, *go;
} arches[] = {
        { SCMP_ARCH_X86_64,  "SCMP_ARCH_X86_64",  "amd64" },
        { SCMP_ARCH_X86,     "SCMP_ARCH_X86",     "386" },
        { SCMP_ARCH_X32,     "SCMP_ARCH_X32",     "x32" },
        { SCMP_ARCH_AARCH64, "SCMP_ARCH_AARCH64", "arm64" },
        { SCMP_ARCH_ARM,     "SCMP_ARCH_ARM",     "arm" },
        { SCMP_ARCH_PPC64LE, "SCMP_ARCH_PPC64LE", "ppc64le" },
        { SCMP_ARCH_S390X,   "SCMP_ARCH_S390X",   "s390x" },
        { SCMP_ARCH_S390,    "SCMP_ARCH_S390",    "s390" },
        { SCMP_ARCH_RISCV64, "SCMP_ARCH_RISCV64", "riscv64" },
        { SCMP_ARCH_MIPS,    "SCMP_ARCH_MIPS",    "mips" },
        { SCMP_ARCH_MIPS64,  "SCMP_ARCH_MIPS64",  "mips64" },
        { SCMP_ARCH_MIPSEL,  "SCMP_ARCH_MIPSEL",  "mipsle" },
        { SCMP_ARCH_MIPSEL64, "SCMP_ARCH_MIPSEL64", "mips64le" },
        { SCMP_ARCH_MIPS64N32, "SCMP_ARCH_MIPS64N32", "mips64n32" },
        { SCMP_ARCH_MIPSEL64N32, "SCMP_ARCH_MIPSEL64N32", "mips64len32" },
        { SCMP_ARCH_PPC,     "SCMP_ARCH_PPC",     "ppc" },
        { SCMP_ARCH_PPC64,   "SCMP_ARCH_PPC64",   "ppc64" },
};

static int arch_from_scmp(const char *s, uint32_t *ret) {
        for (size_t i = 0; i < ELEMENTSOF(arches); i++)
                if (streq(s, arches[i].scmp)) {
                        *ret = arches[i].arch;
                        return 0;
                }
        return -EINVAL;
}

static const char *native_go_arch(void) {
        uint32_t native = seccomp_arch_native();
        for (size_t i = 0; i < ELEMENTSOF(arches); i++)
                if (arches[i].arch == native)
                        return arches[i].go;
        return "";
}

static json_object *field(json_object *o, const char *key, json_type type, bool *bad_type) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return NULL;
        if (!json_object_is_type(v, type)) {
                *bad_type = true;
                return NULL;
        }
        return v;
}

/* "SCMP_ACT_ERRNO" with @ret (errnoRet, EPERM when absent as in runc) */
static int parse_action(Walk *w, const char *what, json_object *name, json_object *ret, uint32_t *action) {
        const char *s = json_object_get_string(name);
        int64_t v = ret ? json_object_get_int64(ret) : EPERM;

        for (size_t i = 0; i < ELEMENTSOF(actions); i++) {
                if (!streq(s, actions[i].name))
                        continue;
                if (!actions[i].takes_ret) {
                        *action = actions[i].action;
                        return 0;
                }
                if (v < 0 || v > 4095)
                        return bad(w, "%s: errnoRet out of range (0…4095): %" PRId64, what, v);
                *action = actions[i].action | (uint32_t) v;
                return 0;
        }
        return bad(w, "%s: unsupported action '%s'", what, s);
}

static bool kernel_at_least(const char *release, const char *min) {
        unsigned a = 0, b = 0, x = 0, y = 0;

        if (sscanf(min, "%u.%u", &x, &y) != 2)
                return false;
        if (!release || sscanf(release, "%u.%u", &a, &b) != 2)
                return false;
        return a > x || (a == x && b >= y);
}

static bool strv_json_has(json_object *a, const char *s) {
        for (size_t i = 0; a && i < json_object_array_length(a); i++)
                if (streq(json_object_get_string(json_object_array_get_idx(a, i)), s))
                        return true;
        return false;
}

/* Docker's includes and excludes: @ret_all tells whether every condition
 * given holds (an "includes" applies the rule then), @ret_any whether one
 * does (an "excludes" drops it then). The conditions: a capability held, the
 * native architecture listed, the kernel at least minKernel. */
static int filter_conditions(Walk *w, const char *what, json_object *f, bool *ret_all, bool *ret_any) {
        bool bad_type = false, all = true, any = false;
        json_object *caps = field(f, "caps", json_type_array, &bad_type);
        json_object *archs = field(f, "arches", json_type_array, &bad_type);
        json_object *min = field(f, "minKernel", json_type_string, &bad_type);

        if (bad_type)
                return bad(w, "%s: includes/excludes: caps and arches are lists, minKernel a string", what);
        for (size_t i = 0; caps && i < json_object_array_length(caps); i++) {
                const char *c = json_object_get_string(json_object_array_get_idx(caps, i));
                int v = c && strncmp(c, "CAP_", 4) == 0 ? capability_from_name(c) : -EINVAL;
                bool held;
                if (v < 0)
                        return bad(w, "%s: unknown capability '%s'", what, strempty(c));
                held = v < 64 && (w->caps & (UINT64_C(1) << v));
                all = all && held;
                any = any || held;
        }
        if (archs && json_object_array_length(archs) > 0) {
                bool listed = strv_json_has(archs, native_go_arch());
                all = all && listed;
                any = any || listed;
        }
        if (min) {
                unsigned x, y;
                bool newer;
                if (sscanf(json_object_get_string(min), "%u.%u", &x, &y) != 2)
                        return bad(w, "%s: minKernel is not MAJOR.MINOR: %s", what, json_object_get_string(min));
                newer = kernel_at_least(w->release, json_object_get_string(min));
                all = all && newer;
                any = any || newer;
        }
        *ret_all = all;
        *ret_any = any;
        return 0;
}

static int parse_args(Walk *w, const char *what, json_object *args, struct scmp_arg_cmp *cmp, size_t *n) {
        size_t len = args ? json_object_array_length(args) : 0;

        if (len > 6)
                return bad(w, "%s: more than 6 argument conditions", what);
        for (size_t i = 0; i < len; i++) {
                json_object *a = json_object_array_get_idx(args, i);
                bool bad_type = !json_object_is_type(a, json_type_object);
                json_object *index = bad_type ? NULL : field(a, "index", json_type_int, &bad_type);
                json_object *value = bad_type ? NULL : field(a, "value", json_type_int, &bad_type);
                json_object *two = bad_type ? NULL : field(a, "valueTwo", json_type_int, &bad_type);
                json_object *op = bad_type ? NULL : field(a, "op", json_type_string, &bad_type);
                size_t k;

                if (bad_type || !index || !op)
                        return bad(w, "%s: an argument condition needs index, op (and value, valueTwo numbers)", what);
                if (json_object_get_int64(index) < 0 || json_object_get_int64(index) > 5)
                        return bad(w, "%s: argument index out of range (0…5): %" PRId64, what,
                                   json_object_get_int64(index));
                for (k = 0; k < ELEMENTSOF(operators); k++)
                        if (streq(json_object_get_string(op), operators[k].name))
                                break;
                if (k == ELEMENTSOF(operators))
                        return bad(w, "%s: unknown operator '%s'", what, json_object_get_string(op));
                cmp[i] = (struct scmp_arg_cmp) {
                        .arg = (unsigned) json_object_get_int64(index),
                        .op = operators[k].op,
                        .datum_a = value ? (uint64_t) json_object_get_uint64(value) : 0,
                        .datum_b = two ? (uint64_t) json_object_get_uint64(two) : 0,
                };
        }
        *n = len;
        return 0;
}

static int add_rules(Walk *w, const char *name, uint32_t action, const struct scmp_arg_cmp *cmp, size_t n) {
        int nr = seccomp_syscall_resolve_name(name);
        bool same_index = n > 1;
        int r;

        if (!w->ctx || nr == __NR_SCMP_ERROR)
                return 0;
        for (size_t i = 1; i < n; i++)
                same_index = same_index && cmp[i].arg == cmp[0].arg;
        /* as runc: conditions all on one argument are alternatives (a
         * rule each), on different arguments they must all hold */
        if (same_index) {
                for (size_t i = 0; i < n; i++) {
                        r = seccomp_rule_add_array(w->ctx, action, nr, 1, &cmp[i]);
                        if (r < 0 && r != -EEXIST && r != -EDOM && r != -EFAULT)
                                return r;
                }
                return 0;
        }
        r = seccomp_rule_add_array(w->ctx, action, nr, (unsigned) n, cmp);
        return r == -EEXIST || r == -EDOM || r == -EFAULT ? 0 : r;
}

static int walk_syscall(Walk *w, size_t idx, json_object *s, uint32_t default_action) {
        char what[48];
        bool bad_type = false, inc = true, exc = false, unused;
        json_object *names, *name, *action, *ret, *args, *includes, *excludes;
        struct scmp_arg_cmp cmp[6];
        uint32_t act;
        size_t n_cmp = 0;
        int r;

        snprintf(what, sizeof(what), "syscalls[%zu]", idx);
        if (!json_object_is_type(s, json_type_object))
                return bad(w, "%s is not an object", what);
        names = field(s, "names", json_type_array, &bad_type);
        name = field(s, "name", json_type_string, &bad_type);
        action = field(s, "action", json_type_string, &bad_type);
        ret = field(s, "errnoRet", json_type_int, &bad_type);
        args = field(s, "args", json_type_array, &bad_type);
        includes = field(s, "includes", json_type_object, &bad_type);
        excludes = field(s, "excludes", json_type_object, &bad_type);
        if (bad_type)
                return bad(w, "%s: a field has the wrong type", what);
        if (!action)
                return bad(w, "%s: no action", what);
        if (!names && !name)
                return bad(w, "%s: no names", what);
        r = parse_action(w, what, action, ret, &act);
        if (r < 0)
                return r;
        r = parse_args(w, what, args, cmp, &n_cmp);
        if (r < 0)
                return r;
        if (includes && (r = filter_conditions(w, what, includes, &inc, &unused)) < 0)
                return r;
        if (excludes && (r = filter_conditions(w, what, excludes, &unused, &exc)) < 0)
                return r;
        /* a rule with the default action is no rule (libseccomp refuses it) */
        bool skip = !inc || exc || act == default_action;

        size_t n = names ? json_object_array_length(names) : 0;
        for (size_t i = 0; i < n + (name ? 1 : 0); i++) {
                const char *nm = i < n ? json_object_get_string(json_object_array_get_idx(names, i))
                                       : json_object_get_string(name);
                if (!nm || !*nm || strlen(nm) > 64)
                        return bad(w, "%s: a name is empty or too long", what);
                if (++w->n_rules > SECCOMP_PROFILE_RULES_MAX)
                        return bad(w, "more than %u system call names", SECCOMP_PROFILE_RULES_MAX);
                if (skip)
                        continue;
                r = add_rules(w, nm, act, cmp, n_cmp);
                if (r < 0)
                        return bad(w, "%s: %s: %s", what, nm, strerror(-r));
        }
        return 0;
}

/* The JSON value of all of @text (white space around it allowed), or NULL:
 * json_tokener_parse() would ignore what follows the first value. */
static json_object *parse_whole(const char *text) {
        struct json_tokener *tok = json_tokener_new();
        json_object *o;
        size_t len = strlen(text), end;

        if (!tok)
                return NULL;
        o = json_tokener_parse_ex(tok, text, (int) len);
        end = json_tokener_get_parse_end(tok);
        if (o && json_tokener_get_error(tok) == json_tokener_success)
                while (end < len && strchr(" \t\r\n", text[end]))
                        end++;
        json_tokener_free(tok);
        if (o && end != len) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

/* @ret_compact (optional): the profile as one line, without spaces */
static int walk(Walk *w, const char *text, char **ret_compact) {
        _cleanup_(json_putp) json_object *root = NULL;
        json_object *def, *def_ret, *archs, *map, *syscalls;
        bool bad_type = false;
        uint32_t default_action;
        int r;

        if (strlen(text) > SECCOMP_PROFILE_SIZE_MAX)
                return bad(w, "the profile is larger than %u bytes", SECCOMP_PROFILE_SIZE_MAX);
        root = parse_whole(text);
        if (!root || !json_object_is_type(root, json_type_object))
                return bad(w, "the profile is not a JSON object (alone)");
        def = field(root, "defaultAction", json_type_string, &bad_type);
        def_ret = field(root, "defaultErrnoRet", json_type_int, &bad_type);
        archs = field(root, "architectures", json_type_array, &bad_type);
        map = field(root, "archMap", json_type_array, &bad_type);
        syscalls = field(root, "syscalls", json_type_array, &bad_type);
        if (bad_type)
                return bad(w, "a top-level field has the wrong type");
        if (!def)
                return bad(w, "no defaultAction");
        if (json_object_object_get_ex(root, "listenerPath", NULL) || json_object_object_get_ex(root, "flags", NULL))
                return bad(w, "listenerPath and flags are not supported");
        r = parse_action(w, "defaultAction", def, def_ret, &default_action);
        if (r < 0)
                return r;

        if (w->ctx) {
                seccomp_release(w->ctx);
                w->ctx = seccomp_init(default_action);
                if (!w->ctx)
                        return -ENOMEM;
        }
        /* architectures: the native one always; others named, and the
         * sub-architectures archMap gives the native one */
        for (size_t i = 0; archs && i < json_object_array_length(archs); i++) {
                const char *a = json_object_get_string(json_object_array_get_idx(archs, i));
                uint32_t v;
                if (!a || arch_from_scmp(a, &v) < 0)
                        return bad(w, "unknown architecture '%s'", strempty(a));
                if (w->ctx && (r = seccomp_arch_add(w->ctx, v)) < 0 && r != -EEXIST)
                        return bad(w, "architecture %s: %s", a, strerror(-r));
        }
        for (size_t i = 0; map && i < json_object_array_length(map); i++) {
                json_object *m = json_object_array_get_idx(map, i), *arch, *subs;
                uint32_t v;
                if (!json_object_is_type(m, json_type_object) || !(arch = field(m, "architecture", json_type_string, &bad_type)) ||
                    arch_from_scmp(json_object_get_string(arch), &v) < 0)
                        return bad(w, "archMap[%zu]: no known architecture", i);
                subs = field(m, "subArchitectures", json_type_array, &bad_type);
                if (bad_type)
                        return bad(w, "archMap[%zu]: subArchitectures is not a list", i);
                for (size_t k = 0; subs && k < json_object_array_length(subs); k++) {
                        const char *a = json_object_get_string(json_object_array_get_idx(subs, k));
                        uint32_t s;
                        if (!a || arch_from_scmp(a, &s) < 0)
                                return bad(w, "archMap[%zu]: unknown architecture '%s'", i, strempty(a));
                        if (w->ctx && v == seccomp_arch_native() && (r = seccomp_arch_add(w->ctx, s)) < 0 &&
                            r != -EEXIST)
                                return bad(w, "architecture %s: %s", a, strerror(-r));
                }
        }

        for (size_t i = 0; syscalls && i < json_object_array_length(syscalls); i++) {
                r = walk_syscall(w, i, json_object_array_get_idx(syscalls, i), default_action);
                if (r < 0)
                        return r;
        }
        /* what the launch config carries: json-c escapes control characters
         * below 0x20, not DEL, which no launch config string may hold */
        const char *c = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!c)
                return -ENOMEM;
        if (strlen(c) > SECCOMP_PROFILE_COMPACT_MAX)
                return bad(w, "the profile is larger than %u bytes without spaces", SECCOMP_PROFILE_COMPACT_MAX);
        if (strchr(c, 0x7f))
                return bad(w, "the profile holds a DEL character");
        if (ret_compact) {
                *ret_compact = strdup(c);
                if (!*ret_compact)
                        return -ENOMEM;
        }
        return 0;
}

int seccomp_profile_json_check(const char *text, char **ret_compact, char **ret_error) {
        Walk w = { .caps = 0, .error = ret_error };
        return walk(&w, text, ret_compact);
}

int seccomp_profile_json_apply(const char *text, SeccompCaps caps, char **ret_error) {
        struct utsname u;
        Walk w = { .caps = caps, .error = ret_error };
        int r;

        if (uname(&u) == 0)
                w.release = u.release;
        w.ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!w.ctx)
                return -ENOMEM;
        r = walk(&w, text, NULL);
        if (r >= 0) {
                r = seccomp_load(w.ctx);
                if (r < 0)
                        (void) bad(&w, "loading the filter: %s", strerror(-r));
        }
        seccomp_release(w.ctx);
        return r;
}
