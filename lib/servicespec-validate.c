/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parse-util.h"
#include "servicespec-internal.h"

_printf_(3, 4) int spec_fail(SpecCtx *c, const char *path, const char *fmt, ...) {
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

int spec_fail_type(SpecCtx *c, const char *path, const char *want, json_object *v) {
        _cleanup_free_ char *d = describe(v);
        return spec_fail(c, path, "expected %s, got %s", want, strempty(d));
}

char *spec_path_join(const char *parent, const char *key) {
        char *r;
        if (asprintf(&r, "%s%s%s", strempty(parent), isempty(parent) ? "" : ".", key) < 0)
                return NULL;
        return r;
}

char *spec_path_index(const char *parent, size_t i) {
        char *r;
        if (asprintf(&r, "%s[%zu]", parent, i) < 0)
                return NULL;
        return r;
}

bool spec_text_is_printable(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

bool spec_is_type(json_object *v, json_type t) {
        return v && json_object_is_type(v, t);
}

/* Calls the handler of each member of @obj; unknown members are errors.
 * A NULL handler accepts and keeps the value as is. */
int spec_walk_object(SpecCtx *c, json_object *obj, const char *path, const SpecField *fields, size_t n_fields,
                       bool (*extra)(const char *key)) {
        if (!spec_is_type(obj, json_type_object))
                return spec_fail_type(c, path, "a map", obj);

        json_object_object_foreach(obj, key, val) {
                _cleanup_free_ char *p = spec_path_join(path, key);
                const SpecField *f = NULL;
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
                        return spec_fail(c, p, "unknown field");
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

int spec_want_string(SpecCtx *c, json_object *v, const char *path, const char **ret) {
        if (!spec_is_type(v, json_type_string))
                return spec_fail_type(c, path, "a string", v);
        *ret = json_object_get_string(v);
        return 0;
}

int spec_want_bool(SpecCtx *c, json_object *v, const char *path, bool *ret) {
        if (!spec_is_type(v, json_type_boolean))
                return spec_fail_type(c, path, "true or false", v);
        *ret = json_object_get_boolean(v);
        return 0;
}

int spec_want_int(SpecCtx *c, json_object *v, const char *path, int64_t min, int64_t max, int64_t *ret) {
        int64_t i;

        if (!spec_is_type(v, json_type_int))
                return spec_fail_type(c, path, "an integer", v);
        errno = 0;
        i = json_object_get_int64(v);
        if (errno != 0 || i < min || i > max) {
                _cleanup_free_ char *d = describe(v);
                return spec_fail(c, path, "%s is out of range %" PRIi64 "…%" PRIi64, strempty(d), min, max);
        }
        *ret = i;
        return 0;
}

/* A scalar as a string: env and label values, sysctls, user ids. */
int spec_stringify_scalar(SpecCtx *c, json_object *parent, const char *key, json_object *v, const char *path,
                            const char **ret) {
        json_object *s;

        if (spec_is_type(v, json_type_string)) {
                *ret = json_object_get_string(v);
                return 0;
        }
        if (!v)
                s = json_object_new_string("");
        else if (spec_is_type(v, json_type_int) || spec_is_type(v, json_type_double) || spec_is_type(v, json_type_boolean))
                s = json_object_new_string(json_object_get_string(v));
        else
                return spec_fail_type(c, path, "a string, number or boolean", v);
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

int spec_enum_value(SpecCtx *c, json_object *v, const char *path, const char *const *values, const char **ret) {
        const char *s = NULL;
        int r = spec_want_string(c, v, path, &s);
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
        return spec_fail(c, path, "invalid value '%s' (expected one of: %s)", s, list);
}

int spec_want_size(SpecCtx *c, json_object *v, const char *path, int64_t *ret) {
        uint64_t u;
        int r;

        if (spec_is_type(v, json_type_int)) {
                int64_t i;
                r = spec_want_int(c, v, path, 0, INT64_MAX, &i);
                if (r < 0)
                        return r;
                *ret = i;
                return 0;
        }
        if (!spec_is_type(v, json_type_string))
                return spec_fail_type(c, path, "a size like '64Mi'", v);
        r = parse_size(json_object_get_string(v), &u);
        if (r == -ERANGE || (r >= 0 && u > INT64_MAX))
                return spec_fail(c, path, "size '%s' is too large", json_object_get_string(v));
        if (r < 0)
                return spec_fail(c, path, "invalid size '%s'", json_object_get_string(v));
        *ret = (int64_t) u;
        return 0;
}

int spec_want_duration(SpecCtx *c, json_object *v, const char *path, uint64_t *ret) {
        int r;

        if (!spec_is_type(v, json_type_string))
                return spec_fail_type(c, path, "a duration like '10s'", v);
        r = parse_duration(json_object_get_string(v), ret);
        if (r == -ERANGE)
                return spec_fail(c, path, "duration '%s' is too large", json_object_get_string(v));
        if (r < 0)
                return spec_fail(c, path, "invalid duration '%s'", json_object_get_string(v));
        return 0;
}

int spec_want_absolute_path(SpecCtx *c, json_object *v, const char *path, char **ret) {
        const char *s = NULL;
        int r = spec_want_string(c, v, path, &s);
        if (r < 0)
                return r;
        if (s[0] != '/')
                return spec_fail(c, path, "'%s' is not an absolute path", s);
        if (!spec_text_is_printable(s))
                return spec_fail(c, path, "contains control characters");
        if (strlen(s) >= 4096)
                return spec_fail(c, path, "path is too long");
        /* ".." could climb out of the container's root when the path is resolved on the host side */
        for (const char *q = s; (q = strstr(q, "..")); q += 2)
                if (q[-1] == '/' && (q[2] == '/' || q[2] == 0))
                        return spec_fail(c, path, "'%s' contains a '..' component", s);
        free(*ret);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int spec_strv_push(char ***l, const char *s) {
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
int spec_want_strv(SpecCtx *c, json_object *v, const char *path, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n;

        if (!spec_is_type(v, json_type_array))
                return spec_fail_type(c, path, "a list of strings", v);
        n = json_object_array_length(v);
        if (n > SPEC_MAX_ITEMS)
                return spec_fail(c, path, "more than %d items", SPEC_MAX_ITEMS);
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                if (!spec_is_type(e, json_type_string)) {
                        _cleanup_free_ char *p = spec_path_index(path, i);
                        return p ? spec_fail_type(c, p, "a string", e) : -ENOMEM;
                }
                if (json_object_get_string_len(e) > SPEC_MAX_STRING) {
                        _cleanup_free_ char *p = spec_path_index(path, i);
                        return p ? spec_fail(c, p, "longer than %d bytes", SPEC_MAX_STRING) : -ENOMEM;
                }
                if (spec_strv_push(&l, json_object_get_string(e)) < 0)
                        return -ENOMEM;
        }
        strv_free(*ret);
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- generic handlers ---- */

int spec_f_any_string(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        const char *s = NULL;
        return spec_want_string(c, v, path, &s);
}

int spec_f_any_bool(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        bool b;
        return spec_want_bool(c, v, path, &b);
}

int spec_f_strv(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path) {
        _cleanup_strv_free_ char **l = NULL;
        return spec_want_strv(c, v, path, &l);
}
