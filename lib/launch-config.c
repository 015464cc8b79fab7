/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "rlimits.h"
#include "ids.h"
#include "launch-config.h"
#include "seccomp-profile.h"
#include "parse-util.h"
#include "macro.h"
#include "signals.h"

/* The parse side of the launch config (docs/internals.md, "The launch
 * config"). Every process that acts on it re-validates every field: the file
 * crosses from the unprivileged broker to root. */

#define MAX_ITEMS 4096
#define MAX_STRING 65536

static const char *const capability_names[] = {
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
        "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
        "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

_printf_(2, 3) static int fail(char **ret_error, const char *fmt, ...) {
        va_list ap;

        if (ret_error) {
                free(*ret_error);
                *ret_error = NULL;
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return -EINVAL;
}

static bool path_is_safe_absolute(const char *p) {
        if (!p || p[0] != '/' || strlen(p) >= 4096)
                return false;
        /* no ".." component: targets are resolved inside the container root */
        for (const char *c = p; (c = strstr(c, "..")); c += 2)
                if ((c == p || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
                        return false;
        return true;
}

static bool string_is_printable(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

static bool capability_is_known(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(capability_names); i++)
                if (streq(name, capability_names[i]))
                        return true;
        return false;
}

static bool launch_hostname_is_valid(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 64 || s[0] == '-' || s[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.'))
                        return false;
        return true;
}

bool volume_name_is_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n > 255 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
                                   (s[0] >= '0' && s[0] <= '9')))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || strchr("_.-", s[i])))
                        return false;
        return true;
}

static bool cpuset_is_valid(const char *s) {
        if (strlen(s) > 1024)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || *s == ',' || *s == '-'))
                        return false;
        return true;
}

/* Member lookup: NULL when absent or JSON null. */
static json_object *member(json_object *o, const char *key) {
        json_object *v = NULL;
        if (!json_object_object_get_ex(o, key, &v))
                return NULL;
        return v;
}

static int get_string(json_object *o, const char *key, bool required, const char *def,
                      char **ret, char **ret_error) {
        json_object *v = member(o, key);
        const char *s;

        if (!v) {
                if (required)
                        return fail(ret_error, "%s: missing", key);
                if (!def) {
                        *ret = NULL;
                        return 0;
                }
                s = def;
        } else {
                if (!json_object_is_type(v, json_type_string))
                        return fail(ret_error, "%s: not a string", key);
                s = json_object_get_string(v);
                if (strlen(s) > MAX_STRING || strlen(s) != (size_t) json_object_get_string_len(v))
                        return fail(ret_error, "%s: too long or contains NUL", key);
                if (!string_is_printable(s))
                        return fail(ret_error, "%s: contains control characters", key);
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int get_bool(json_object *o, const char *key, bool *ret, char **ret_error) {
        json_object *v = member(o, key);
        if (!v) {
                *ret = false;
                return 0;
        }
        if (!json_object_is_type(v, json_type_boolean))
                return fail(ret_error, "%s: not a boolean", key);
        *ret = json_object_get_boolean(v);
        return 0;
}

static int get_int64(json_object *o, const char *prefix, const char *key, int64_t min,
                     int64_t *ret, char **ret_error) {
        json_object *v = member(o, key);
        if (!v) {
                *ret = 0;
                return 0;
        }
        if (!json_object_is_type(v, json_type_int))
                return fail(ret_error, "%s%s: not an integer", prefix, key);
        errno = 0;
        int64_t x = json_object_get_int64(v);
        if (errno != 0 || x < min)
                return fail(ret_error, "%s%s: out of range: %s", prefix, key, json_object_to_json_string(v));
        *ret = x;
        return 0;
}

static int get_uint64(json_object *o, const char *prefix, const char *key, uint64_t *ret, char **ret_error) {
        json_object *v = member(o, key);
        if (!v) {
                *ret = 0;
                return 0;
        }
        if (!json_object_is_type(v, json_type_int))
                return fail(ret_error, "%s%s: not an integer", prefix, key);
        if (json_object_get_int64(v) < 0)
                return fail(ret_error, "%s%s: negative: %s", prefix, key, json_object_to_json_string(v));
        *ret = json_object_get_uint64(v);
        return 0;
}

typedef bool (*item_check)(const char *s);

static int get_strv(json_object *o, const char *key, bool required, bool nonempty,
                    item_check check, const char *what, char ***ret, char **ret_error) {
        json_object *v = member(o, key);
        _cleanup_strv_free_ char **l = NULL;
        size_t n;

        if (!v) {
                if (required)
                        return fail(ret_error, "%s: missing", key);
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
                *ret = TAKE_PTR(l);
                return 0;
        }
        if (!json_object_is_type(v, json_type_array))
                return fail(ret_error, "%s: not an array", key);
        n = json_object_array_length(v);
        if (n > MAX_ITEMS)
                return fail(ret_error, "%s: too many items (%zu)", key, n);
        if (nonempty && n == 0)
                return fail(ret_error, "%s: must not be empty", key);
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                if (!json_object_is_type(e, json_type_string))
                        return fail(ret_error, "%s[%zu]: not a string", key, i);
                const char *s = json_object_get_string(e);
                if (strlen(s) != (size_t) json_object_get_string_len(e) || strlen(s) > MAX_STRING)
                        return fail(ret_error, "%s[%zu]: too long or contains NUL", key, i);
                if (check && !check(s))
                        return fail(ret_error, "%s[%zu]: %s: %s", key, i, what, s);
                l[i] = strdup(s);
                if (!l[i])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static bool check_env(const char *s) {
        const char *eq = strchr(s, '=');
        return eq && eq != s && string_is_printable(s);
}
static bool check_group(const char *s) {
        return s[0] != '\0' && strlen(s) <= 256 && !strpbrk(s, ":/\n") && string_is_printable(s);
}
/* "name=value": a namespaced sysctl (the spec parser's list), one line */
static bool check_sysctl(const char *s) {
        const char *eq = strchr(s, '=');
        return eq && sysctl_name_is_namespaced(s, eq - s) && string_is_printable(eq + 1);
}
static bool check_cap(const char *s) {
        return capability_is_known(s);
}

static int parse_mounts(json_object *o, LaunchConfig *c, char **ret_error) {
        json_object *v = member(o, "mounts");
        size_t n;

        if (!v)
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return fail(ret_error, "mounts: not an array");
        n = json_object_array_length(v);
        if (n > 256)
                return fail(ret_error, "mounts: too many (%zu)", n);
        c->mounts = calloc(n ? n : 1, sizeof(LaunchMount));
        if (!c->mounts)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *m = json_object_array_get_idx(v, i);
                LaunchMount *lm = &c->mounts[i];
                _cleanup_free_ char *type = NULL;
                char prefix[32];
                int64_t x;
                int r;

                c->n_mounts = i + 1;
                snprintf(prefix, sizeof(prefix), "mounts[%zu].", i);
                if (!json_object_is_type(m, json_type_object))
                        return fail(ret_error, "mounts[%zu]: not an object", i);
                r = get_string(m, "type", true, NULL, &type, ret_error);
                if (r < 0)
                        return r == -EINVAL ? fail(ret_error, "mounts[%zu].type: missing or not a string", i) : r;
                r = get_string(m, "target", true, NULL, &lm->target, ret_error);
                if (r < 0)
                        return r == -EINVAL ? fail(ret_error, "mounts[%zu].target: missing or not a string", i) : r;
                if (!path_is_safe_absolute(lm->target) || streq(lm->target, "/"))
                        return fail(ret_error, "mounts[%zu].target: not an absolute path below /: %s", i, lm->target);
                r = get_bool(m, "readonly", &lm->readonly, ret_error);
                if (r < 0)
                        return fail(ret_error, "mounts[%zu].readonly: not a boolean", i);

                if (streq(type, "bind")) {
                        lm->type = MOUNT_BIND;
                        r = get_string(m, "source", true, NULL, &lm->source, ret_error);
                        if (r < 0)
                                return r == -EINVAL ? fail(ret_error, "mounts[%zu].source: missing or not a string", i) : r;
                        if (!path_is_safe_absolute(lm->source))
                                return fail(ret_error, "mounts[%zu].source: not an absolute path: %s", i, lm->source);
                } else if (streq(type, "tmpfs")) {
                        lm->type = MOUNT_TMPFS;
                        if (member(m, "source"))
                                return fail(ret_error, "mounts[%zu].source: not allowed for tmpfs", i);
                        r = get_int64(m, prefix, "size", 0, &x, ret_error);
                        if (r < 0)
                                return r;
                        lm->size = (uint64_t) x;
                        r = get_int64(m, prefix, "mode", 0, &x, ret_error);
                        if (r < 0)
                                return r;
                        if (x > 07777)
                                return fail(ret_error, "mounts[%zu].mode: out of range: %lld", i, (long long) x);
                        lm->mode = (unsigned) x;
                } else if (streq(type, "volume")) {
                        lm->type = MOUNT_VOLUME;
                        r = get_string(m, "name", true, NULL, &lm->source, ret_error);
                        if (r < 0)
                                return r == -EINVAL ? fail(ret_error, "mounts[%zu].name: missing or not a string", i) : r;
                        if (!volume_name_is_valid(lm->source))
                                return fail(ret_error, "mounts[%zu].name: not a valid volume name: %s", i, lm->source);
                } else if (streq(type, "anonymous")) {
                        lm->type = MOUNT_ANONYMOUS;
                        if (member(m, "source") || member(m, "name"))
                                return fail(ret_error, "mounts[%zu]: an anonymous volume has no source or name", i);
                } else
                        return fail(ret_error, "mounts[%zu].type: unknown mount type: %s", i, type);
        }
        return 0;
}

static int parse_resources(json_object *o, LaunchResources *res, char **ret_error) {
        json_object *v = member(o, "resources");
        const char *p = "resources.";
        int64_t x;
        int r;

        if (!v)
                return 0;
        if (!json_object_is_type(v, json_type_object))
                return fail(ret_error, "resources: not an object");

        if ((r = get_int64(v, p, "cpu_quota", 0, &res->cpu_quota, ret_error)) < 0)
                return r;
        if (res->cpu_quota != 0 && res->cpu_quota < 1000)
                return fail(ret_error, "resources.cpu_quota: below 1000 µs: %lld", (long long) res->cpu_quota);
        if ((r = get_int64(v, p, "cpu_period", 0, &x, ret_error)) < 0)
                return r;
        if (x != 0 && (x < 1000 || x > 1000000))
                return fail(ret_error, "resources.cpu_period: not within 1000..1000000 µs: %lld", (long long) x);
        res->cpu_period = (uint64_t) x;
        if ((r = get_int64(v, p, "cpu_shares", 0, &x, ret_error)) < 0)
                return r;
        if (x != 0 && (x < 2 || x > 262144))
                return fail(ret_error, "resources.cpu_shares: not within 2..262144: %lld", (long long) x);
        res->cpu_shares = (uint64_t) x;
        if ((r = get_int64(v, p, "memory", 0, &res->memory, ret_error)) < 0)
                return r;
        if (res->memory != 0 && res->memory < 6 * 1024 * 1024)
                return fail(ret_error, "resources.memory: below the minimum of 6 MiB: %lld", (long long) res->memory);
        if ((r = get_int64(v, p, "memory_swap", -1, &res->memory_swap, ret_error)) < 0)
                return r;
        if (res->memory_swap > 0 && (res->memory == 0 || res->memory_swap < res->memory))
                return fail(ret_error, "resources.memory_swap: must be -1, 0, or at least memory (%lld): %lld",
                            (long long) res->memory, (long long) res->memory_swap);
        if ((r = get_int64(v, p, "memory_reservation", 0, &res->memory_reservation, ret_error)) < 0)
                return r;
        if ((r = get_int64(v, p, "pids_limit", -1, &res->pids_limit, ret_error)) < 0)
                return r;
        r = get_string(v, "cpuset_cpus", false, NULL, &res->cpuset_cpus, ret_error);
        if (r < 0)
                return r == -EINVAL ? fail(ret_error, "resources.cpuset_cpus: not a string") : r;
        if (res->cpuset_cpus && !cpuset_is_valid(res->cpuset_cpus))
                return fail(ret_error, "resources.cpuset_cpus: not a CPU list: %s", res->cpuset_cpus);
        if (res->cpuset_cpus && res->cpuset_cpus[0] == '\0')
                res->cpuset_cpus = (free(res->cpuset_cpus), NULL);
        return 0;
}

static int parse_rlimits(json_object *o, LaunchConfig *c, char **ret_error) {
        json_object *v = member(o, "rlimits");
        size_t n;

        if (!v)
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return fail(ret_error, "rlimits: not an array");
        n = json_object_array_length(v);
        if (n > 64)
                return fail(ret_error, "rlimits: too many (%zu)", n);
        c->rlimits = calloc(n ? n : 1, sizeof(LaunchRlimit));
        if (!c->rlimits)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                LaunchRlimit *l = &c->rlimits[i];
                char prefix[32];
                int r;

                c->n_rlimits = i + 1;
                snprintf(prefix, sizeof(prefix), "rlimits[%zu].", i);
                if (!json_object_is_type(e, json_type_object))
                        return fail(ret_error, "rlimits[%zu]: not an object", i);
                r = get_string(e, "name", true, NULL, &l->name, ret_error);
                if (r < 0)
                        return r == -EINVAL ? fail(ret_error, "rlimits[%zu].name: missing or not a string", i) : r;
                if (!rlimit_canonical_name(l->name))
                        return fail(ret_error, "rlimits[%zu].name: unknown resource limit: %s", i, l->name);
                if (!member(e, "soft") || !member(e, "hard"))
                        return fail(ret_error, "rlimits[%zu]: soft and hard are required", i);
                if ((r = get_uint64(e, prefix, "soft", &l->soft, ret_error)) < 0)
                        return r;
                if ((r = get_uint64(e, prefix, "hard", &l->hard, ret_error)) < 0)
                        return r;
                if (l->soft > l->hard)
                        return fail(ret_error, "rlimits[%zu].soft: %llu above hard %llu", i,
                                    (unsigned long long) l->soft, (unsigned long long) l->hard);
        }
        return 0;
}

static int parse_object(json_object *o, LaunchConfig *c, char **ret_error) {
        int64_t x;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return fail(ret_error, "launch config: not a JSON object");

        if ((r = get_string(o, "id", true, NULL, &c->id, ret_error)) < 0)
                return r;
        if (!container_id_is_valid(c->id))
                return fail(ret_error, "id: not a valid container id: %s", c->id);
        if ((r = get_string(o, "image", false, "", &c->image, ret_error)) < 0)
                return r;

        if ((r = get_strv(o, "layers", true, true, hex64_is_valid, "not 64 lowercase hex digits", &c->layers, ret_error)) < 0)
                return r;
        if (strv_length(c->layers) > 500)
                return fail(ret_error, "layers: too many (%zu)", strv_length(c->layers));
        if ((r = get_strv(o, "args", true, true, NULL, NULL, &c->args, ret_error)) < 0)
                return r;
        if (c->args[0][0] == '\0')
                return fail(ret_error, "args[0]: empty command");
        if ((r = get_strv(o, "env", false, false, check_env, "not KEY=VALUE", &c->env, ret_error)) < 0)
                return r;

        if ((r = get_string(o, "cwd", false, "/", &c->cwd, ret_error)) < 0)
                return r;
        if (!path_is_safe_absolute(c->cwd))
                return fail(ret_error, "cwd: not an absolute path: %s", c->cwd);

        if ((r = get_string(o, "user", false, "", &c->user, ret_error)) < 0)
                return r;
        if (strlen(c->user) > 256 || strchr(c->user, '/') ||
            (strchr(c->user, ':') && strchr(strchr(c->user, ':') + 1, ':')) ||
            c->user[0] == ':')
                return fail(ret_error, "user: not uid[:gid] or name[:group]: %s", c->user);
        if ((r = get_strv(o, "extra_groups", false, false, check_group, "not a group name or gid", &c->extra_groups, ret_error)) < 0)
                return r;

        if ((r = get_string(o, "hostname", false, "", &c->hostname, ret_error)) < 0)
                return r;
        if (c->hostname[0] && !launch_hostname_is_valid(c->hostname))
                return fail(ret_error, "hostname: not a valid host name: %s", c->hostname);

        if ((r = get_string(o, "network_mode", false, "none", &c->network_mode, ret_error)) < 0)
                return r;
        if (!streq(c->network_mode, "none") && !streq(c->network_mode, "host") && !streq(c->network_mode, "bridge"))
                return fail(ret_error, "network_mode: unknown network mode: %s", c->network_mode);
        if ((r = launch_config_parse_network(o, c, ret_error)) < 0)
                return r;

        if ((r = get_bool(o, "host_pid", &c->host_pid, ret_error)) < 0 ||
            (r = get_bool(o, "host_ipc", &c->host_ipc, ret_error)) < 0)
                return r;
        if ((r = get_strv(o, "sysctls", false, false, check_sysctl, "not a namespaced name=value", &c->sysctls, ret_error)) < 0)
                return r;
        /* their namespace would be the host's */
        for (char **s = c->sysctls; *s; s++)
                if ((streq(c->network_mode, "host") && strneq(*s, "net.", 4)) || (c->host_ipc && !strneq(*s, "net.", 4)))
                        return fail(ret_error, "sysctls: %s would change the host's namespace", *s);

        if ((r = get_bool(o, "readonly_rootfs", &c->readonly_rootfs, ret_error)) < 0)
                return r;
        if ((r = get_bool(o, "tty", &c->tty, ret_error)) < 0)
                return r;
        if ((r = get_bool(o, "stdin_open", &c->stdin_open, ret_error)) < 0)
                return r;
        if ((r = get_bool(o, "privileged", &c->privileged, ret_error)) < 0)
                return r;

        if ((r = parse_mounts(o, c, ret_error)) < 0)
                return r;
        if ((r = parse_resources(o, &c->resources, ret_error)) < 0)
                return r;

        if ((r = get_strv(o, "cap_add", false, false, check_cap, "unknown capability", &c->cap_add, ret_error)) < 0)
                return r;
        if ((r = get_strv(o, "cap_drop", false, false, check_cap, "unknown capability", &c->cap_drop, ret_error)) < 0)
                return r;
        if ((r = parse_rlimits(o, c, ret_error)) < 0)
                return r;

        if ((r = get_string(o, "seccomp", false, "default", &c->seccomp, ret_error)) < 0)
                return r;
        if (c->seccomp[0] == '{') {
                _cleanup_free_ char *err = NULL;
                if (seccomp_profile_json_check(c->seccomp, NULL, &err) < 0)
                        return fail(ret_error, "seccomp: bad profile: %s", err ?: "out of memory");
        } else if (!streq(c->seccomp, "default") && !streq(c->seccomp, "unconfined"))
                return fail(ret_error, "seccomp: not \"default\", \"unconfined\" or a JSON profile: %s", c->seccomp);

        if ((r = get_string(o, "stop_signal", false, "SIGTERM", &c->stop_signal, ret_error)) < 0)
                return r;
        if (signal_from_string(c->stop_signal) < 0)
                return fail(ret_error, "stop_signal: unknown signal: %s", c->stop_signal);
        if ((r = get_int64(o, "", "stop_grace_usec", 0, &x, ret_error)) < 0)
                return r;
        c->stop_grace_usec = (uint64_t) x;
        /* 0: the default (lib/logrotate.h) */
        if ((r = get_int64(o, "", "log_max_size", 0, &x, ret_error)) < 0)
                return r;
        c->log_max_size = (uint64_t) x;
        if ((r = get_int64(o, "", "log_max_files", 0, &x, ret_error)) < 0)
                return r;
        if (x > 100)
                return fail(ret_error, "log_max_files: out of range: %" PRIi64, x);
        c->log_max_files = (unsigned) x;

        /* Unknown members are ignored: a newer broker may add fields this
         * version does not act on. */
        return 0;
}

int launch_config_parse(const char *json, LaunchConfig **ret, char **ret_error) {
        _cleanup_launch_config_ LaunchConfig *c = NULL;
        json_tokener *tok;
        json_object *o;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!json || !ret)
                return -EINVAL;
        if (strlen(json) > 4 * 1024 * 1024)
                return fail(ret_error, "launch config: larger than 4 MiB");

        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        size_t len = strlen(json);
        o = json_tokener_parse_ex(tok, json, (int) len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        size_t end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (o && jerr == json_tokener_success)
                for (; end < len; end++)
                        if (!strchr(" \t\r\n", json[end])) {
                                json_object_put(o);
                                return fail(ret_error, "launch config: trailing data after the JSON object");
                        }
        if (!o || jerr != json_tokener_success) {
                json_object_put(o);
                return fail(ret_error, "launch config: invalid JSON: %s", json_tokener_error_desc(jerr));
        }

        c = calloc(1, sizeof(*c));
        if (!c) {
                json_object_put(o);
                return -ENOMEM;
        }
        r = parse_object(o, c, ret_error);
        json_object_put(o);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

LaunchConfig *launch_config_free(LaunchConfig *c) {
        if (!c)
                return NULL;
        free(c->id);
        free(c->image);
        strv_free(c->layers);
        strv_free(c->args);
        strv_free(c->env);
        free(c->cwd);
        free(c->user);
        strv_free(c->extra_groups);
        free(c->hostname);
        free(c->network_mode);
        launch_config_free_network(c);
        strv_free(c->sysctls);
        for (size_t i = 0; i < c->n_mounts; i++) {
                free(c->mounts[i].source);
                free(c->mounts[i].target);
        }
        free(c->mounts);
        free(c->resources.cpuset_cpus);
        strv_free(c->cap_add);
        strv_free(c->cap_drop);
        for (size_t i = 0; i < c->n_rlimits; i++)
                free(c->rlimits[i].name);
        free(c->rlimits);
        free(c->seccomp);
        free(c->stop_signal);
        free(c);
        return NULL;
}
