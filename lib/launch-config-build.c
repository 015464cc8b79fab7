/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "launch-config.h"
#include "macro.h"
#include "netnames.h"
#include "parse-util.h"
#include "seccomp-profile.h"
#include "yaml-json.h"

/* Builds the launch config JSON (docs/internals.md, "The launch config")
 * from a validated ServiceSpec and the image's OCI config blob. */

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_STOP_GRACE_USEC (10 * USEC_PER_SEC)
#define CPU_PERIOD_USEC 100000
/* what launch_config_parse() accepts */
#define MAX_ITEMS 4096
#define MAX_STRING 65536

static bool text_is_printable(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

static bool path_is_safe_absolute(const char *p) {
        if (p[0] != '/' || strlen(p) >= 4096 || !text_is_printable(p))
                return false;
        for (const char *c = p; (c = strstr(c, "..")); c += 2)
                if (c[-1] == '/' && (c[2] == '\0' || c[2] == '/'))
                        return false;
        return true;
}

static void json_putp(json_object **o) {
        json_object_put(*o);
}

_printf_(3, 4) static int build_fail(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;

        if (ret_error) {
                free(*ret_error);
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return r;
}

/* The image config's "config" member, or NULL when absent. */
static int image_config_parse(const char *text, json_object **ret_root, json_object **ret_config, char **ret_error) {
        json_tokener *tok;
        json_object *root, *config = NULL;
        enum json_tokener_error jerr;

        *ret_root = *ret_config = NULL;
        if (isempty(text))
                return 0;

        tok = json_tokener_new_ex(YAML_JSON_MAX_DEPTH);
        if (!tok)
                return -ENOMEM;
        /* no comments, single quotes, NaN or trailing commas; UTF-8 checked */
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        root = json_tokener_parse_ex(tok, text, (int) strlen(text));
        jerr = json_tokener_get_error(tok);
        json_tokener_free(tok);
        if (jerr != json_tokener_success) {
                json_object_put(root);
                return build_fail(ret_error, -EINVAL, "image config: invalid JSON: %s",
                                  jerr == json_tokener_continue ? "unexpected end of input" : json_tokener_error_desc(jerr));
        }
        if (root && !json_object_is_type(root, json_type_object)) {
                json_object_put(root);
                return build_fail(ret_error, -EINVAL, "image config: not a JSON object");
        }
        if (root && json_object_object_get_ex(root, "config", &config) && config &&
            !json_object_is_type(config, json_type_object)) {
                json_object_put(root);
                return build_fail(ret_error, -EINVAL, "image config: \"config\" is not an object");
        }
        *ret_root = root;
        *ret_config = config;
        return 0;
}

/* A string member of the image config; NULL when absent, null or empty. */
static int image_string(json_object *config, const char *key, const char **ret, char **ret_error) {
        json_object *v;

        *ret = NULL;
        if (!config || !json_object_object_get_ex(config, key, &v) || !v)
                return 0;
        if (!json_object_is_type(v, json_type_string))
                return build_fail(ret_error, -EINVAL, "image config: %s is not a string", key);
        if (json_object_get_string_len(v) > 0)
                *ret = json_object_get_string(v);
        return 0;
}

/* A string list member of the image config; NULL when absent or null. */
static int image_strv(json_object *config, const char *key, json_object **ret, char **ret_error) {
        json_object *v;

        *ret = NULL;
        if (!config || !json_object_object_get_ex(config, key, &v) || !v)
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return build_fail(ret_error, -EINVAL, "image config: %s is not a list", key);
        for (size_t i = 0; i < json_object_array_length(v); i++)
                if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
                        return build_fail(ret_error, -EINVAL, "image config: %s[%zu] is not a string", key, i);
        *ret = v;
        return 0;
}

static int add_str(json_object *o, const char *key, const char *s) {
        json_object *v = json_object_new_string(strempty(s));
        if (!v || json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int add_obj(json_object *o, const char *key, json_object *v) {
        if (!v || json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int array_add_str(json_object *a, const char *s) {
        json_object *v = json_object_new_string(s);
        if (!v || json_object_array_add(a, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static json_object *strv_to_array(char *const *l) {
        json_object *a = json_object_new_array();
        if (!a)
                return NULL;
        for (size_t i = 0; l && l[i]; i++)
                if (array_add_str(a, l[i]) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        return a;
}

static int append_json_strings(json_object *a, json_object *src) {
        for (size_t i = 0; src && i < json_object_array_length(src); i++)
                if (array_add_str(a, json_object_get_string(json_object_array_get_idx(src, i))) < 0)
                        return -ENOMEM;
        return 0;
}

static int build_args(const ServiceSpec *spec, json_object *config, json_object **ret, char **ret_error) {
        json_object *image_entrypoint, *image_cmd, *args;
        int r;

        r = image_strv(config, "Entrypoint", &image_entrypoint, ret_error);
        if (r < 0)
                return r;
        r = image_strv(config, "Cmd", &image_cmd, ret_error);
        if (r < 0)
                return r;

        args = json_object_new_array();
        if (!args)
                return -ENOMEM;
        if (spec->entrypoint) {
                /* Docker: a new entrypoint drops the image's Cmd as well. */
                for (size_t i = 0; spec->entrypoint[i]; i++)
                        if (array_add_str(args, spec->entrypoint[i]) < 0)
                                goto oom;
                for (size_t i = 0; spec->args && spec->args[i]; i++)
                        if (array_add_str(args, spec->args[i]) < 0)
                                goto oom;
        } else {
                if (append_json_strings(args, image_entrypoint) < 0)
                        goto oom;
                if (spec->args) {
                        for (size_t i = 0; spec->args[i]; i++)
                                if (array_add_str(args, spec->args[i]) < 0)
                                        goto oom;
                } else if (append_json_strings(args, image_cmd) < 0)
                        goto oom;
        }

        if (json_object_array_length(args) > MAX_ITEMS) {
                json_object_put(args);
                return build_fail(ret_error, -EINVAL, "args: more than %d items", MAX_ITEMS);
        }
        for (size_t i = 0; i < json_object_array_length(args); i++)
                if (json_object_get_string_len(json_object_array_get_idx(args, i)) > MAX_STRING) {
                        json_object_put(args);
                        return build_fail(ret_error, -EINVAL, "args[%zu]: longer than %d bytes", i, MAX_STRING);
                }
        if (json_object_array_length(args) == 0) {
                json_object_put(args);
                return build_fail(ret_error, -EINVAL,
                                  "no command: the image has no Entrypoint or Cmd and the spec gives none");
        }
        if (json_object_get_string_len(json_object_array_get_idx(args, 0)) == 0) {
                json_object_put(args);
                return build_fail(ret_error, -EINVAL, "args[0]: the command is an empty string");
        }
        *ret = args;
        return 0;
oom:
        json_object_put(args);
        return -ENOMEM;
}

/* Replaces the entry with the same key in place, or appends. */
static int env_set(json_object *env, const char *kv) {
        const char *eq = strchr(kv, '=');
        size_t klen = eq ? (size_t) (eq - kv) : strlen(kv);
        json_object *v;

        for (size_t i = 0; i < json_object_array_length(env); i++) {
                const char *e = json_object_get_string(json_object_array_get_idx(env, i));
                if (strneq(e, kv, klen) && (e[klen] == '=' || e[klen] == 0)) {
                        v = json_object_new_string(kv);
                        if (!v || json_object_array_put_idx(env, i, v) < 0) {
                                json_object_put(v);
                                return -ENOMEM;
                        }
                        return 0;
                }
        }
        return array_add_str(env, kv);
}

static int build_env(const ServiceSpec *spec, json_object *config, json_object **ret, char **ret_error) {
        json_object *image_env, *env, *with_path;
        bool have_path = false;
        int r;

        r = image_strv(config, "Env", &image_env, ret_error);
        if (r < 0)
                return r;

        env = json_object_new_array();
        if (!env)
                return -ENOMEM;
        for (size_t i = 0; image_env && i < json_object_array_length(image_env); i++) {
                json_object *e = json_object_array_get_idx(image_env, i);
                const char *kv = json_object_get_string(e);

                if (kv[0] == '=' || !strchr(kv, '=') || !text_is_printable(kv) ||
                    json_object_get_string_len(e) > MAX_STRING) {
                        json_object_put(env);
                        return build_fail(ret_error, -EINVAL, "image config: Env[%zu] is not a printable KEY=VALUE", i);
                }
                if (env_set(env, kv) < 0)
                        goto oom;
        }
        for (size_t i = 0; spec->env && spec->env[i]; i++)
                if (env_set(env, spec->env[i]) < 0)
                        goto oom;

        if (json_object_array_length(env) >= MAX_ITEMS) {
                json_object_put(env);
                return build_fail(ret_error, -EINVAL, "env: more than %d variables", MAX_ITEMS - 1);
        }
        for (size_t i = 0; i < json_object_array_length(env); i++)
                if (strneq(json_object_get_string(json_object_array_get_idx(env, i)), "PATH=", 5))
                        have_path = true;
        if (have_path) {
                *ret = env;
                return 0;
        }

        /* PATH goes first, where images usually have it. */
        with_path = json_object_new_array();
        if (!with_path || array_add_str(with_path, DEFAULT_PATH) < 0 || append_json_strings(with_path, env) < 0) {
                json_object_put(with_path);
                goto oom;
        }
        json_object_put(env);
        *ret = with_path;
        return 0;
oom:
        json_object_put(env);
        return -ENOMEM;
}

static int build_mounts(const ServiceSpec *spec, json_object **ret, char **ret_error) {
        json_object *mounts = json_object_new_array();

        if (!mounts)
                return -ENOMEM;
        for (size_t i = 0; i < spec->n_storage; i++) {
                const SpecMount *m = &spec->storage[i];
                json_object *o;
                int r = 0;

                if (streq(m->type, "named") && !volume_name_is_valid(m->source)) {
                        json_object_put(mounts);
                        return build_fail(ret_error, -EINVAL, "storage[%zu].name: invalid volume name '%s'", i,
                                          strempty(m->source));
                }
                if (!m->target || m->target[0] != '/' || (streq(m->type, "bind") && (!m->source || m->source[0] != '/'))) {
                        json_object_put(mounts);
                        return build_fail(ret_error, -EINVAL, "storage[%zu]: source and target must be absolute paths", i);
                }

                o = json_object_new_object();
                if (!o || json_object_array_add(mounts, o) < 0) {
                        json_object_put(o);
                        json_object_put(mounts);
                        return -ENOMEM;
                }
                /* named → "volume" (ROOT/volumes/<name>), anonymous → one per container */
                r = add_str(o, "type", streq(m->type, "named") ? "volume" : m->type);
                if (r >= 0 && (streq(m->type, "named") || streq(m->type, "anonymous"))) {
                        if (streq(m->type, "named"))
                                r = add_str(o, "name", m->source);
                        if (r >= 0)
                                r = add_str(o, "target", m->target);
                        if (r >= 0)
                                r = add_obj(o, "readonly", json_object_new_boolean(m->readonly));
                } else if (r >= 0 && streq(m->type, "bind")) {
                        r = add_str(o, "source", m->source);
                        if (r >= 0)
                                r = add_str(o, "target", m->target);
                        if (r >= 0)
                                r = add_obj(o, "readonly", json_object_new_boolean(m->readonly));
                } else if (r >= 0) {
                        r = add_str(o, "target", m->target);
                        if (r >= 0)
                                r = add_obj(o, "size", json_object_new_uint64(m->size));
                        if (r >= 0)
                                r = add_obj(o, "mode", json_object_new_int((int) m->mode));
                }
                if (r < 0) {
                        json_object_put(mounts);
                        return r;
                }
        }
        *ret = mounts;
        return 0;
}

/* Capability names, with "ALL" spelled out so readers see only "CAP_…". */
static json_object *caps_to_array(char *const *caps) {
        _cleanup_strv_free_ char **all = NULL;

        for (size_t i = 0; caps && caps[i]; i++)
                if (streq(caps[i], "ALL")) {
                        if (capability_list_all(&all) < 0)
                                return NULL;
                        return strv_to_array(all);
                }
        return strv_to_array(caps);
}

static json_object *build_resources(const ServiceSpec *spec) {
        json_object *o = json_object_new_object();
        int64_t quota = 0;
        int r;

        if (!o)
                return NULL;
        if (spec->cpu > 0)
                quota = MAX((int64_t) (spec->cpu * CPU_PERIOD_USEC + 0.5), (int64_t) 1000); /* kernel minimum 1ms */
        r = add_obj(o, "cpu_quota", json_object_new_int64(quota));
        if (r >= 0)
                r = add_obj(o, "cpu_period", json_object_new_int64(quota > 0 ? CPU_PERIOD_USEC : 0));
        if (r >= 0)
                r = add_obj(o, "cpu_shares", json_object_new_uint64(spec->cpu_shares));
        if (r >= 0)
                r = add_obj(o, "memory", json_object_new_int64(spec->memory));
        if (r >= 0)
                r = add_obj(o, "memory_swap", json_object_new_int64(spec->memory_swap));
        if (r >= 0)
                r = add_obj(o, "memory_reservation", json_object_new_int64(spec->memory_reservation));
        if (r >= 0)
                r = add_obj(o, "pids_limit", json_object_new_int64(spec->pids_limit));
        if (r >= 0)
                r = add_str(o, "cpuset_cpus", spec->cpuset);
        if (r < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

static json_object *build_rlimits(const ServiceSpec *spec) {
        json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (size_t i = 0; i < spec->n_ulimits; i++) {
                json_object *o = json_object_new_object();
                if (!o || json_object_array_add(a, o) < 0 || add_str(o, "name", spec->ulimits[i].name) < 0 ||
                    add_obj(o, "soft", json_object_new_uint64(spec->ulimits[i].soft)) < 0 ||
                    add_obj(o, "hard", json_object_new_uint64(spec->ulimits[i].hard)) < 0) {
                        if (o && json_object_array_length(a) <= i)
                                json_object_put(o);
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

/* security_opt (kept in spec->json): "seccomp=unconfined" turns the default
 * profile off, "seccomp=<JSON>" replaces it with a Docker-format profile
 * (lib/seccomp-profile-json.c); "no-new-privileges" is what we do anyway.
 * Anything else (profile file names, apparmor, label) is refused rather
 * than ignored. */
static int build_seccomp(const ServiceSpec *spec, char **ret, char **ret_error) {
        _cleanup_free_ char *profile = NULL;
        json_object *opts;
        const char *mode = "default";

        if (spec->json && json_object_object_get_ex(spec->json, "security_opt", &opts) &&
            json_object_is_type(opts, json_type_array))
                for (size_t i = 0; i < json_object_array_length(opts); i++) {
                        const char *o = json_object_get_string(json_object_array_get_idx(opts, i));
                        if (!o)
                                continue;
                        if (streq(o, "seccomp=unconfined") || streq(o, "seccomp:unconfined"))
                                mode = "unconfined";
                        else if (streq(o, "seccomp=default") || streq(o, "seccomp:default"))
                                mode = "default";
                        else if ((strncmp(o, "seccomp=", 8) == 0 || strncmp(o, "seccomp:", 8) == 0) && o[8] == '{') {
                                _cleanup_free_ char *err = NULL;
                                free(profile);
                                profile = NULL;
                                if (seccomp_profile_json_check(o + 8, &profile, &err) < 0)
                                        return build_fail(ret_error, -EINVAL, "security_opt: seccomp profile: %s",
                                                          err ?: "out of memory");
                                mode = profile;
                        } else if (strncmp(o, "seccomp=", 8) == 0 || strncmp(o, "seccomp:", 8) == 0)
                                return build_fail(ret_error, -EINVAL,
                                                  "security_opt: seccomp takes unconfined, default or the profile's JSON "
                                                  "text (as the Docker API; the daemon reads no file for a caller): '%s'", o);
                        else if (streq(o, "no-new-privileges") || streq(o, "no-new-privileges=true") ||
                                 streq(o, "no-new-privileges:true"))
                                continue;
                        else
                                return build_fail(ret_error, -EINVAL, "security_opt: unsupported option '%s'", o);
                }
        *ret = strdup(mode);
        return *ret ? 0 : -ENOMEM;
}

static const char *spec_string(const ServiceSpec *spec, const char *key) {
        json_object *v;
        if (!spec->json || !json_object_object_get_ex(spec->json, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

/* pid_mode / ipc_mode: "host" shares the host's namespace, "" / "private"
 * (ipc also "shareable") a new one; userns_mode: zlayer uses no user
 * namespace, i.e. "host"; init_container: zlayer always runs its init as pid
 * 1 (forwards signals, reaps). Anything else is refused, naming the value. */
static int build_namespaces(const ServiceSpec *spec, json_object *out, char **ret_error) {
        const char *pid = spec_string(spec, "pid_mode"), *ipc = spec_string(spec, "ipc_mode"),
                   *userns = spec_string(spec, "userns_mode"), *cgparent = spec_string(spec, "cgroup_parent");
        json_object *init;

        if (!isempty(pid) && !streq(pid, "host") && !streq(pid, "private"))
                return build_fail(ret_error, -EINVAL, "pid_mode: '%s' is not supported (only 'host' or 'private')", pid);
        if (!isempty(ipc) && !streq(ipc, "host") && !streq(ipc, "private") && !streq(ipc, "shareable"))
                return build_fail(ret_error, -EINVAL,
                                  "ipc_mode: '%s' is not supported (only 'host', 'private' or 'shareable')", ipc);
        if (!isempty(userns) && !streq(userns, "host"))
                return build_fail(ret_error, -EINVAL,
                                  "userns_mode: '%s' is not supported (containers run without a user namespace, i.e. 'host')",
                                  userns);
        if (!isempty(cgparent))
                return build_fail(ret_error, -EINVAL,
                                  "cgroup_parent: '%s' is not supported (containers live in <hierarchy>/zlayer/<id>)",
                                  cgparent);
        if (spec->json && json_object_object_get_ex(spec->json, "init_container", &init) &&
            json_object_is_type(init, json_type_boolean) && !json_object_get_boolean(init))
                return build_fail(ret_error, -EINVAL,
                                  "init_container: 'false' is not supported (zlayer always runs its minimal init as pid 1)");
        if (add_obj(out, "host_pid", json_object_new_boolean((pid && streq(pid, "host")))) < 0 ||
            add_obj(out, "host_ipc", json_object_new_boolean((ipc && streq(ipc, "host")))) < 0)
                return -ENOMEM;
        return 0;
}

/* sysctls (validated by the spec parser: namespaced only) as "name=value";
 * refused where the namespace they live in would be the host's. */
static int build_sysctls(const ServiceSpec *spec, const char *network_mode, json_object *out, char **ret_error) {
        const char *ipc = spec_string(spec, "ipc_mode");
        json_object *sysctls, *a;

        a = json_object_new_array();
        if (!a || add_obj(out, "sysctls", a) < 0)
                return -ENOMEM;
        if (!spec->json || !json_object_object_get_ex(spec->json, "sysctls", &sysctls) ||
            !json_object_is_type(sysctls, json_type_object))
                return 0;
        json_object_object_foreach(sysctls, name, value) {
                _cleanup_free_ char *kv = NULL;
                bool net = strneq(name, "net.", 4);

                if (net && streq(network_mode, "host"))
                        return build_fail(ret_error, -EINVAL,
                                          "sysctls.%s: not allowed with network_mode 'host' (it would change the host)", name);
                if (!net && (ipc && streq(ipc, "host")))
                        return build_fail(ret_error, -EINVAL,
                                          "sysctls.%s: not allowed with ipc_mode 'host' (it would change the host)", name);
                if (asprintf(&kv, "%s=%s", name, strempty(json_object_get_string(value))) < 0 || array_add_str(a, kv) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* health: what the broker's checker acts on (broker/health.c); the shim and
 * zlayer-exec ignore it */
static int build_health(const ServiceSpec *spec, json_object *out) {
        json_object *h;

        if (!spec->health_kind)
                return 0;
        h = json_object_new_object();
        if (!h || add_obj(out, "health", h) < 0)
                return -ENOMEM;
        if (add_str(h, "kind", spec->health_kind) < 0 || add_obj(h, "args", strv_to_array(spec->health_args)) < 0 ||
            add_obj(h, "expect_status", json_object_new_int64(spec->health_expect_status)) < 0 ||
            add_obj(h, "start_grace_usec", json_object_new_uint64(spec->health_start_grace_usec)) < 0 ||
            add_obj(h, "interval_usec", json_object_new_uint64(spec->health_interval_usec)) < 0 ||
            add_obj(h, "timeout_usec", json_object_new_uint64(spec->health_timeout_usec)) < 0 ||
            add_obj(h, "retries", json_object_new_int64(spec->health_retries)) < 0)
                return -ENOMEM;
        return 0;
}

int launch_config_build(const ServiceSpec *spec, const char *id, const char *image_ref,
                        const char *image_config_json, char *const *layers_top_first,
                        json_object **ret, char **ret_error) {
        _cleanup_(json_putp) json_object *image_root = NULL, *out = NULL;
        _cleanup_free_ char *stop_signal = NULL;
        json_object *config, *v = NULL;
        const char *workdir, *user, *image_stop, *network_mode;
        _cleanup_free_ char *seccomp = NULL;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!spec || isempty(id) || !ret)
                return build_fail(ret_error, -EINVAL, "id: missing");

        r = image_config_parse(image_config_json, &image_root, &config, ret_error);
        if (r < 0)
                return r;

        out = json_object_new_object();
        if (!out)
                return -ENOMEM;

        if (add_str(out, "id", id) < 0 || add_str(out, "image", image_ref ?: spec->image) < 0 ||
            add_obj(out, "layers", strv_to_array(layers_top_first)) < 0)
                return -ENOMEM;

        r = build_args(spec, config, &v, ret_error);
        if (r < 0)
                return r;
        if (add_obj(out, "args", v) < 0)
                return -ENOMEM;

        r = build_env(spec, config, &v, ret_error);
        if (r < 0)
                return r;
        if (add_obj(out, "env", v) < 0)
                return -ENOMEM;

        r = image_string(config, "WorkingDir", &workdir, ret_error);
        if (r < 0)
                return r;
        workdir = spec->workdir ?: workdir ?: "/";
        if (workdir[0] != '/')
                return build_fail(ret_error, -EINVAL, "cwd: working directory '%s' is not an absolute path", workdir);
        if (!path_is_safe_absolute(workdir))
                return build_fail(ret_error, -EINVAL, "cwd: working directory '%s' has a '..' component or control characters",
                                  workdir);
        if (add_str(out, "cwd", workdir) < 0)
                return -ENOMEM;

        r = image_string(config, "User", &user, ret_error);
        if (r < 0)
                return r;
        user = spec->user ?: user ?: "";
        if (*user && !user_spec_is_valid(user))
                return build_fail(ret_error, -EINVAL, "user: invalid user '%s' in the image config", user);
        if (add_str(out, "user", user) < 0 || add_obj(out, "extra_groups", strv_to_array(spec->extra_groups)) < 0 ||
            add_str(out, "hostname", spec->hostname ?: id) < 0)
                return -ENOMEM;

        network_mode = spec->network_mode ?: "default";
        if (streq(network_mode, "default"))
                network_mode = "bridge";
        /* a named network: bridge networking on that network's own bridge */
        if (!streq(network_mode, "none") && !streq(network_mode, "host") && !streq(network_mode, "bridge")) {
                if (!network_name_is_valid(network_mode))
                        return build_fail(ret_error, -EINVAL, "network_mode: invalid value '%s'", network_mode);
                if (add_str(out, "network_name", network_mode) < 0)
                        return -ENOMEM;
                network_mode = "bridge";
        }
        /* "ports" here; "network" (the address) is the broker's to add */
        r = launch_config_build_ports(spec->json, network_mode, out, ret_error);
        if (r < 0)
                return r;
        if (add_str(out, "network_mode", network_mode) < 0 ||
            add_obj(out, "readonly_rootfs", json_object_new_boolean(spec->read_only_root_fs)) < 0 ||
            add_obj(out, "tty", json_object_new_boolean(spec->tty)) < 0 ||
            add_obj(out, "stdin_open", json_object_new_boolean(spec->stdin_open)) < 0)
                return -ENOMEM;

        /* cgroup v2 has no per-group swappiness and v1 deprecates it */
        if (spec->memory_swappiness >= 0)
                return build_fail(ret_error, -EINVAL, "resources.memory_swappiness: %" PRIi64 " is not supported",
                                  spec->memory_swappiness);
        r = build_namespaces(spec, out, ret_error);
        if (r < 0)
                return r;
        r = build_sysctls(spec, network_mode, out, ret_error);
        if (r < 0)
                return r;
        if (build_health(spec, out) < 0)
                return -ENOMEM;

        r = build_mounts(spec, &v, ret_error);
        if (r < 0)
                return r;
        if (add_obj(out, "mounts", v) < 0 || add_obj(out, "resources", build_resources(spec)) < 0 ||
            add_obj(out, "cap_add", caps_to_array(spec->cap_add)) < 0 ||
            add_obj(out, "cap_drop", caps_to_array(spec->cap_drop)) < 0 ||
            add_obj(out, "privileged", json_object_new_boolean(spec->privileged)) < 0 ||
            add_obj(out, "rlimits", build_rlimits(spec)) < 0)
                return -ENOMEM;

        r = build_seccomp(spec, &seccomp, ret_error);
        if (r < 0)
                return r;
        if (add_str(out, "seccomp", seccomp) < 0)
                return -ENOMEM;

        r = image_string(config, "StopSignal", &image_stop, ret_error);
        if (r < 0)
                return r;
        r = signal_normalize(spec->stop_signal ?: image_stop ?: "SIGTERM", &stop_signal);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return build_fail(ret_error, -EINVAL, "stop_signal: unknown signal '%s'",
                                  spec->stop_signal ?: image_stop);
        if (add_str(out, "stop_signal", stop_signal) < 0 ||
            add_obj(out, "stop_grace_usec",
                    json_object_new_uint64(spec->stop_grace_usec > 0 ? spec->stop_grace_usec : DEFAULT_STOP_GRACE_USEC)) < 0)
                return -ENOMEM;

        /* logs (validated by the spec parser, max_size already in bytes) */
        json_object *logs, *lv;
        if (spec->json && json_object_object_get_ex(spec->json, "logs", &logs)) {
                if (json_object_object_get_ex(logs, "max_size", &lv) &&
                    add_obj(out, "log_max_size", json_object_new_int64(json_object_get_int64(lv))) < 0)
                        return -ENOMEM;
                if (json_object_object_get_ex(logs, "max_files", &lv) &&
                    add_obj(out, "log_max_files", json_object_new_int64(json_object_get_int64(lv))) < 0)
                        return -ENOMEM;
        }

        *ret = TAKE_PTR(out);
        return 0;
}
