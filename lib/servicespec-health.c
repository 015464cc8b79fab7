/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* health: {start_grace, interval, timeout, retries, check: {type, …}}
 *
 *   check: {type: command, command: "sh text" | [argv…]}
 *          {type: tcp, port: N}
 *          {type: http, url: "http://localhost:8080/path", expect_status: 200}
 *
 * tcp and http connect to 127.0.0.1 inside the container's network
 * namespace, so an http url must name the container itself (localhost,
 * 127.0.0.1). Defaults as Docker's: interval 30s, timeout 30s, retries 3,
 * start_grace 0. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "servicespec-internal.h"

#define HEALTH_MIN_INTERVAL_USEC (100 * USEC_PER_MSEC)
#define HEALTH_MAX_USEC (24ULL * 3600 * USEC_PER_SEC)

static SPEC_HANDLER(f_duration_any) {
        uint64_t x;
        return spec_want_duration(c, v, path, &x);
}

static SPEC_HANDLER(f_retries) {
        return spec_want_int(c, v, path, 1, 1000, &c->spec->health_retries);
}

static SPEC_HANDLER(f_type) {
        static const char *const types[] = { "command", "tcp", "http", NULL };
        const char *t;
        int r = spec_enum_value(c, v, path, types, &t);
        if (r < 0)
                return r;
        free(c->spec->health_kind);
        c->spec->health_kind = strdup(t);
        return c->spec->health_kind ? 0 : -ENOMEM;
}

static SPEC_HANDLER(f_command) {
        _cleanup_strv_free_ char **argv = NULL;
        int r;

        if (spec_is_type(v, json_type_string)) {
                const char *s = json_object_get_string(v);
                if (isempty(s))
                        return spec_fail(c, path, "empty command");
                if (spec_strv_push(&argv, "/bin/sh") < 0 || spec_strv_push(&argv, "-c") < 0 || spec_strv_push(&argv, s) < 0)
                        return -ENOMEM;
        } else {
                r = spec_want_strv(c, v, path, &argv);
                if (r < 0)
                        return r;
                if (!argv || !argv[0] || isempty(argv[0]))
                        return spec_fail(c, path, "empty command");
        }
        strv_free(c->spec->health_args);
        c->spec->health_args = TAKE_PTR(argv);
        return 0;
}

static int set_port_path(SpecCtx *c, int64_t port, const char *path_part) {
        char buf[16];
        _cleanup_strv_free_ char **args = NULL;

        snprintf(buf, sizeof(buf), "%" PRIi64, port);
        if (spec_strv_push(&args, buf) < 0 || (path_part && spec_strv_push(&args, path_part) < 0))
                return -ENOMEM;
        strv_free(c->spec->health_args);
        c->spec->health_args = TAKE_PTR(args);
        return 0;
}

static SPEC_HANDLER(f_port) {
        int64_t port;
        int r = spec_want_int(c, v, path, 1, 65535, &port);
        return r < 0 ? r : set_port_path(c, port, NULL);
}

/* http://localhost[:port][/path]: the container itself */
static SPEC_HANDLER(f_url) {
        const char *url, *host, *rest, *slash;
        _cleanup_free_ char *hostport = NULL;
        int64_t port = 80;
        char *colon;
        int r;

        r = spec_want_string(c, v, path, &url);
        if (r < 0)
                return r;
        if (!strneq(url, "http://", 7))
                return spec_fail(c, path, "'%s' is not supported (only http:// urls)", url);
        rest = url + 7;
        slash = strchr(rest, '/');
        hostport = slash ? strndup(rest, (size_t) (slash - rest)) : strdup(rest);
        if (!hostport)
                return -ENOMEM;
        colon = strrchr(hostport, ':');
        if (colon) {
                char *end;
                *colon = '\0';
                errno = 0;
                port = strtoll(colon + 1, &end, 10);
                if (errno != 0 || end == colon + 1 || *end || port < 1 || port > 65535)
                        return spec_fail(c, path, "invalid port in '%s'", url);
        }
        host = hostport;
        if (!streq(host, "localhost") && !streq(host, "127.0.0.1"))
                return spec_fail(c, path, "host '%s' is not supported (the check runs in the container: use localhost)",
                                 host);
        if (slash && (strpbrk(slash, " \r\n\t") || !spec_text_is_printable(slash)))
                return spec_fail(c, path, "invalid path in '%s'", url);
        return set_port_path(c, port, slash ?: "/");
}

static SPEC_HANDLER(f_expect_status) {
        return spec_want_int(c, v, path, 100, 599, &c->spec->health_expect_status);
}

static SPEC_HANDLER(f_check) {
        static const SpecField command_fields[] = { { "type", f_type }, { "command", f_command } };
        static const SpecField tcp_fields[] = { { "type", f_type }, { "port", f_port } };
        static const SpecField http_fields[] = { { "type", f_type }, { "url", f_url }, { "expect_status", f_expect_status } };
        static const struct {
                const char *type, *required;
                const SpecField *fields;
                size_t n;
        } kinds[] = {
                { "command", "command", command_fields, ELEMENTSOF(command_fields) },
                { "tcp", "port", tcp_fields, ELEMENTSOF(tcp_fields) },
                { "http", "url", http_fields, ELEMENTSOF(http_fields) },
        };
        _cleanup_free_ char *tp = spec_path_join(path, "type");
        json_object *t;
        int r;

        if (!tp)
                return -ENOMEM;
        if (!spec_is_type(v, json_type_object))
                return spec_fail_type(c, path, "an object", v);
        if (!json_object_object_get_ex(v, "type", &t))
                return spec_fail(c, tp, "required (command, tcp or http)");
        r = f_type(c, v, "type", t, tp);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                if (!streq(c->spec->health_kind, kinds[i].type))
                        continue;
                r = spec_walk_object(c, v, path, kinds[i].fields, kinds[i].n, NULL);
                if (r < 0)
                        return r;
                if (!json_object_object_get_ex(v, kinds[i].required, NULL)) {
                        _cleanup_free_ char *rp = spec_path_join(path, kinds[i].required);
                        return rp ? spec_fail(c, rp, "required for a %s check", kinds[i].type) : -ENOMEM;
                }
        }
        return 0;
}

static int duration_member(SpecCtx *c, json_object *v, const char *path, const char *key, uint64_t def, uint64_t min,
                           uint64_t *ret) {
        json_object *d;
        int r;

        *ret = def;
        if (!json_object_object_get_ex(v, key, &d))
                return 0;
        _cleanup_free_ char *p = spec_path_join(path, key);
        if (!p)
                return -ENOMEM;
        r = spec_want_duration(c, d, p, ret);
        if (r < 0)
                return r;
        if (*ret < min || *ret > HEALTH_MAX_USEC)
                return spec_fail(c, p, "out of range (%llu ms to 24h)", (unsigned long long) (min / USEC_PER_MSEC));
        return 0;
}

SPEC_HANDLER(spec_f_health) {
        static const SpecField fields[] = {
                { "start_grace", f_duration_any },
                { "interval", f_duration_any },
                { "timeout", f_duration_any },
                { "retries", f_retries },
                { "check", f_check },
        };
        ServiceSpec *s = c->spec;
        int r;

        s->health_retries = 3;
        s->health_expect_status = 200;
        r = spec_walk_object(c, v, path, fields, ELEMENTSOF(fields), NULL);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(v, "check", NULL)) {
                _cleanup_free_ char *cp = spec_path_join(path, "check");
                return cp ? spec_fail(c, cp, "required") : -ENOMEM;
        }
        if ((r = duration_member(c, v, path, "start_grace", 0, 0, &s->health_start_grace_usec)) < 0 ||
            (r = duration_member(c, v, path, "interval", 30 * USEC_PER_SEC, HEALTH_MIN_INTERVAL_USEC,
                                 &s->health_interval_usec)) < 0 ||
            (r = duration_member(c, v, path, "timeout", 30 * USEC_PER_SEC, 10 * USEC_PER_MSEC, &s->health_timeout_usec)) < 0)
                return r;
        return 0;
}
