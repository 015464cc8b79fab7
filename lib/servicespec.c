/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cron.h"
#include "parse-util.h"
#include "servicespec-internal.h"
#include "yaml-json.h"

/* Validation walks the parsed tree once. Every field has a handler that
 * checks its type and value, normalizes it in place when users may spell
 * it several ways (env values, capability names, signals) and fills the
 * struct. Errors are "<path>: <what>", path like "storage[1].target".
 * Helpers: servicespec-validate.c; most handlers: servicespec-fields.c. */

/* ---- image, command ---- */

static const char *const rtypes[] = { "service", "job", "cron", NULL };
static const char *const pull_policies[] = { "if_not_present", "always", "never", "newer", NULL };

static int f_rtype(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        int r = spec_enum_value(c, v, path, rtypes, &s);
        if (r < 0)
                return r;
        free(c->spec->rtype);
        c->spec->rtype = strdup(s);
        return c->spec->rtype ? 0 : -ENOMEM;
}

static int f_image_name(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        int r = spec_want_string(c, v, path, &s);
        if (r < 0)
                return r;
        if (isempty(s))
                return spec_fail(c, path, "must not be empty");
        for (const char *q = s; *q; q++)
                if ((unsigned char) *q <= ' ' || *q == 0x7f)
                        return spec_fail(c, path, "invalid image reference '%s'", s);
        free(c->spec->image);
        c->spec->image = strdup(s);
        return c->spec->image ? 0 : -ENOMEM;
}

static int f_pull_policy(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        int r = spec_enum_value(c, v, path, pull_policies, &s);
        if (r < 0)
                return r;
        c->spec->pull_policy = streq(s, "always") ? PULL_ALWAYS :
                               streq(s, "never")  ? PULL_NEVER :
                               streq(s, "newer")  ? PULL_NEWER : PULL_IF_NOT_PRESENT;
        return 0;
}

static const SpecField image_fields[] = {
        { "name", f_image_name },
        { "pull_policy", f_pull_policy },
};

/* An object of @fields that must have the last key of @required_path. */
static int walk_requiring(SpecCtx *c, json_object *v, const char *path, const SpecField *fields, size_t n_fields,
                          const char *required_path) {
        int r = spec_walk_object(c, v, path, fields, n_fields, NULL);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(v, strrchr(required_path, '.') + 1, NULL))
                return spec_fail(c, required_path, "required");
        return 0;
}

static int f_image(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return walk_requiring(c, v, path, image_fields, ELEMENTSOF(image_fields), "image.name");
}

static int f_entrypoint(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return spec_want_strv(c, v, path, &c->spec->entrypoint);
}

static int f_args(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return spec_want_strv(c, v, path, &c->spec->args);
}

static int f_workdir(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return spec_want_absolute_path(c, v, path, &c->spec->workdir);
}

static const SpecField command_fields[] = {
        { "entrypoint", f_entrypoint },
        { "args", f_args },
        { "workdir", f_workdir },
};

static int f_command(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return spec_walk_object(c, v, path, command_fields, ELEMENTSOF(command_fields), NULL);
}

/* ---- env, labels, sysctls ---- */

static int f_env(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        _cleanup_strv_free_ char **env = NULL;

        if (!spec_is_type(v, json_type_object))
                return spec_fail_type(c, path, "a map of variables", v);
        if (json_object_object_length(v) > SPEC_MAX_ITEMS)
                return spec_fail(c, path, "more than %d variables", SPEC_MAX_ITEMS);
        env = calloc(1, sizeof(char *));
        if (!env)
                return -ENOMEM;
        json_object_object_foreach(v, name, val) {
                _cleanup_free_ char *sub = spec_path_join(path, name), *kv = NULL;
                const char *s = NULL;
                int r;

                if (!sub)
                        return -ENOMEM;
                if (isempty(name) || strchr(name, '='))
                        return spec_fail(c, sub, "invalid variable name '%s'", name);
                r = spec_stringify_scalar(c, v, name, val, sub, &s);
                if (r < 0)
                        return r;
                /* the launch config carries KEY=VALUE as printable text */
                if (!spec_text_is_printable(name) || !spec_text_is_printable(s))
                        return spec_fail(c, sub, "contains control characters (tabs and newlines included)");
                if (strlen(name) + strlen(s) >= SPEC_MAX_STRING)
                        return spec_fail(c, sub, "longer than %d bytes", SPEC_MAX_STRING);
                if (asprintf(&kv, "%s=%s", name, s) < 0 || spec_strv_push(&env, kv) < 0)
                        return -ENOMEM;
        }
        strv_free(c->spec->env);
        c->spec->env = TAKE_PTR(env);
        return 0;
}

static int f_labels(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        _cleanup_strv_free_ char **labels = NULL;

        if (!spec_is_type(v, json_type_object))
                return spec_fail_type(c, path, "a map of labels", v);
        if (json_object_object_length(v) > SPEC_MAX_ITEMS)
                return spec_fail(c, path, "more than %d labels", SPEC_MAX_ITEMS);
        labels = calloc(1, sizeof(char *));
        if (!labels)
                return -ENOMEM;
        json_object_object_foreach(v, name, val) {
                _cleanup_free_ char *sub = spec_path_join(path, name);
                const char *s = NULL;
                int r;

                if (!sub)
                        return -ENOMEM;
                if (isempty(name))
                        return spec_fail(c, sub, "empty label name");
                r = spec_stringify_scalar(c, v, name, val, sub, &s);
                if (r < 0)
                        return r;
                if (spec_strv_push(&labels, name) < 0 || spec_strv_push(&labels, s) < 0)
                        return -ENOMEM;
        }
        strv_free(c->spec->labels);
        c->spec->labels = TAKE_PTR(labels);
        return 0;
}

static int f_sysctls(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        if (!spec_is_type(v, json_type_object))
                return spec_fail_type(c, path, "a map of sysctls", v);
        json_object_object_foreach(v, name, val) {
                _cleanup_free_ char *sub = spec_path_join(path, name);
                const char *s = NULL;
                int r;

                if (!sub)
                        return -ENOMEM;
                if (!sysctl_name_is_namespaced(name, strlen(name)))
                        return spec_fail(c, sub, "not a namespaced sysctl (allowed: net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)");
                r = spec_stringify_scalar(c, v, name, val, sub, &s);
                if (r < 0)
                        return r;
                /* the launch config carries name=value as printable text */
                if (!spec_text_is_printable(s))
                        return spec_fail(c, sub, "contains control characters (tabs and newlines included)");
        }
        return 0;
}

/* ---- lifecycle ---- */

static int f_stop_signal(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        _cleanup_free_ char *name = NULL;
        json_object *n;

        if (!spec_is_type(v, json_type_string) && !spec_is_type(v, json_type_int))
                return spec_fail_type(c, path, "a signal name", v);
        if (signal_normalize(json_object_get_string(v), &name) < 0)
                return spec_fail(c, path, "unknown signal '%s'", json_object_get_string(v));
        n = json_object_new_string(name);
        if (!n || json_object_object_add(p, k, n) < 0) {
                json_object_put(n);
                return -ENOMEM;
        }
        free(c->spec->stop_signal);
        c->spec->stop_signal = TAKE_PTR(name);
        return 0;
}

/* rtype: cron's `schedule` (lib/cron.h); checked here so CreateContainer
 * refuses a bad expression naming it. */
static int f_schedule(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        _cleanup_free_ char *why = NULL;
        CronSpec cron;

        if (!spec_is_type(v, json_type_string))
                return spec_fail_type(c, path, "a cron expression string", v);
        if (cron_parse(json_object_get_string(v), &cron, &why) < 0)
                return spec_fail(c, path, "invalid cron expression '%s': %s", json_object_get_string(v),
                                 why ?: "cannot parse");
        /* a day that exists recurs within cron_next's 8 years of any start */
        if (cron_next(&cron, 0, &(time_t) { 0 }) == -ENOENT)
                return spec_fail(c, path, "cron expression '%s' never matches a date", json_object_get_string(v));
        free(c->spec->schedule);
        c->spec->schedule = strdup(json_object_get_string(v));
        return c->spec->schedule ? 0 : -ENOMEM;
}

static int f_stop_grace_period(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return spec_want_duration(c, v, path, &c->spec->stop_grace_usec);
}

static int f_restart_kind(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        static const char *const kinds[] = { "no", "always", "unless_stopped", "on_failure", NULL };
        const char *s = NULL;
        int r = spec_enum_value(c, v, path, kinds, &s);
        if (r < 0)
                return r;
        free(c->spec->restart_kind);
        c->spec->restart_kind = strdup(s);
        return c->spec->restart_kind ? 0 : -ENOMEM;
}

static int f_restart_max_attempts(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return spec_want_int(c, v, path, 0, INT32_MAX, &c->spec->restart_max_attempts);
}


static int f_restart_delay(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return spec_want_duration(c, v, path, &c->spec->restart_delay_usec);
}

static const SpecField restart_fields[] = {
        { "kind", f_restart_kind },
        { "max_attempts", f_restart_max_attempts },
        { "delay", f_restart_delay },
};

static int f_restart_policy(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        return walk_requiring(c, v, path, restart_fields, ELEMENTSOF(restart_fields), "restart_policy.kind");
}


/* logs: {max_size: "10Mi", max_files: 5}: the rotation of ctr.log
 * (lib/logrotate.h). max_size is stored as bytes, for launch_config_build(). */
static SPEC_HANDLER(f_logs_max_size) {
        int64_t x;
        int r = spec_want_size(c, v, path, &x);
        if (r < 0)
                return r;
        if (x < 4096)
                return spec_fail(c, path, "must be at least 4096 bytes");
        json_object_object_add(p, k, json_object_new_int64(x));
        return 0;
}

static SPEC_HANDLER(f_logs_max_files) {
        int64_t x;
        return spec_want_int(c, v, path, 1, 100, &x);
}

static SPEC_HANDLER(f_logs) {
        static const SpecField fields[] = {
                { "max_size", f_logs_max_size },
                { "max_files", f_logs_max_files },
        };
        return spec_walk_object(c, v, path, fields, ELEMENTSOF(fields), NULL);
}

/* ---- the top level ---- */

static const SpecField top_fields[] = {
        { "rtype", f_rtype },
        { "image", f_image },
        { "command", f_command },
        { "env", f_env },
        { "resources", spec_f_resources },
        { "endpoints", spec_f_endpoints },
        { "port_mappings", spec_f_port_mappings },
        { "storage", spec_f_storage },
        { "network_mode", spec_f_network_mode },
        { "hostname", spec_f_hostname },
        { "dns", spec_f_dns },
        { "extra_hosts", spec_f_extra_hosts },
        { "user", spec_f_user },
        { "extra_groups", spec_f_extra_groups },
        { "labels", f_labels },
        { "capabilities", spec_f_cap_add },
        { "cap_add", spec_f_cap_add },
        { "cap_drop", spec_f_cap_drop },
        { "privileged", spec_f_privileged },
        { "read_only_root_fs", spec_f_read_only_root_fs },
        { "tty", spec_f_tty },
        { "stdin_open", spec_f_stdin_open },
        { "init_container", spec_f_any_bool },
        { "ulimits", spec_f_ulimits },
        { "sysctls", f_sysctls },
        { "stop_signal", f_stop_signal },
        { "stop_grace_period", f_stop_grace_period },
        { "restart_policy", f_restart_policy },
        { "security_opt", spec_f_strv },
        { "logs", f_logs },
        { "pid_mode", spec_f_any_string },
        { "ipc_mode", spec_f_any_string },
        { "userns_mode", spec_f_any_string },
        { "cgroup_parent", spec_f_any_string },
        /* The orchestrator's: accepted and kept, not interpreted here. */
        { "health", spec_f_health },
        { "scale", NULL },
        { "depends", NULL },
        { "replica_groups", NULL },
        { "affinity", NULL },
        { "init", NULL },
        { "errors", NULL },
        { "lifecycle", NULL },
        { "overlay", NULL },
        { "wasm", NULL },
        { "schedule", f_schedule },
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
static int check_finite(SpecCtx *c, json_object *o, const char *path) {
        if (spec_is_type(o, json_type_double)) {
                if (!isfinite(json_object_get_double(o)))
                        return spec_fail(c, path, "non-finite number");
        } else if (spec_is_type(o, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(o); i++) {
                        _cleanup_free_ char *p = spec_path_index(path, i);
                        int r = p ? check_finite(c, json_object_array_get_idx(o, i), p) : -ENOMEM;
                        if (r < 0)
                                return r;
                }
        } else if (spec_is_type(o, json_type_object)) {
                json_object_object_foreach(o, k, v) {
                        _cleanup_free_ char *p = spec_path_join(path, k);
                        int r = p ? check_finite(c, v, p) : -ENOMEM;
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* The YAML loader's node limits, applied to JSON before json-c allocates:
 * counts maps and lists, and values (by their separators), outside strings. */
static int json_prescan(const char *t, size_t len, char **ret_error) {
        size_t containers = 0, nodes = 1;
        bool in_string = false;

        for (size_t i = 0; i < len; i++) {
                char ch = t[i];

                if (in_string) {
                        if (ch == '\\')
                                i++;
                        else if (ch == '"')
                                in_string = false;
                        continue;
                }
                if (ch == '"')
                        in_string = true;
                else if (ch == '{' || ch == '[')
                        containers++, nodes++;
                else if (ch == ',' || ch == ':')
                        nodes++;
        }
        if (containers > YAML_JSON_MAX_CONTAINERS) {
                if (ret_error && asprintf(ret_error, "invalid JSON: more than %d maps and lists", YAML_JSON_MAX_CONTAINERS) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        if (nodes > YAML_JSON_MAX_NODES) {
                if (ret_error && asprintf(ret_error, "invalid JSON: more than %d nodes", YAML_JSON_MAX_NODES) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        return 0;
}

static int parse_json_text(const char *text, size_t len, json_object **ret, char **ret_error) {
        json_tokener *tok;
        json_object *o;
        enum json_tokener_error jerr;
        size_t off;
        int r;

        r = json_prescan(text, len, ret_error);
        if (r < 0)
                return r;

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
        SpecCtx c = {};
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
                r = spec_fail(&c, "", "empty document");
        else if (!spec_is_type(root, json_type_object))
                r = spec_fail_type(&c, "", "a map of fields", root);
        else if ((r = check_finite(&c, root, "")) >= 0)
                r = spec_walk_object(&c, root, "", top_fields, ELEMENTSOF(top_fields), orchestrator_prefix);
        if (r >= 0 && !json_object_object_get_ex(root, "image", NULL))
                r = spec_fail(&c, "image.name", "required");
        if (r >= 0 && s->rtype && streq(s->rtype, "cron") && !json_object_object_get_ex(root, "schedule", NULL))
                r = spec_fail(&c, "schedule", "required when rtype is cron");
        if (r >= 0 && s->schedule && !(s->rtype && streq(s->rtype, "cron")))
                r = spec_fail(&c, "schedule", "only applies to rtype cron (rtype is '%s')", s->rtype ?: "service");
        if (r >= 0 && s->memory_swap > 0 && s->memory == 0)
                r = spec_fail(&c, "resources.memory_swap", "requires resources.memory");
        if (r >= 0 && s->memory_swap > 0 && s->memory_swap < s->memory)
                r = spec_fail(&c, "resources.memory_swap", "must not be below resources.memory");
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
        free(s->health_kind);
        strv_free(s->health_args);
        free(s->rtype);
        free(s->schedule);
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
