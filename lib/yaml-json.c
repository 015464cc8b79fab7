/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "macro.h"
#include "yaml-json.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

typedef struct Frame {
        json_object *obj;       /* object or array being filled */
        char *pending_key;      /* mapping: key waiting for its value */
} Frame;

typedef struct Loader {
        yaml_parser_t parser;
        Frame stack[YAML_JSON_MAX_DEPTH];
        size_t depth;
        size_t n_nodes, n_containers;
        json_object *root;
        bool have_root;
        char *error;
} Loader;

_printf_(3, 4) static int loader_fail(Loader *l, const yaml_mark_t *mark, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);

        free(l->error);
        l->error = NULL;
        if (mark) {
                if (asprintf(&l->error, "line %zu column %zu: %s", mark->line + 1, mark->column + 1,
                             msg ?: "invalid YAML") < 0)
                        l->error = NULL;
        } else
                l->error = msg ? strdup(msg) : NULL;
        return -EINVAL;
}

static bool is_null_plain(const char *s) {
        return streq(s, "") || streq(s, "~") || streq(s, "null") || streq(s, "Null") || streq(s, "NULL");
}

static int bool_plain(const char *s) {
        if (streq(s, "true") || streq(s, "True") || streq(s, "TRUE"))
                return 1;
        if (streq(s, "false") || streq(s, "False") || streq(s, "FALSE"))
                return 0;
        return -1;
}

/* 1 = integer (in *ret), 0 = not integer syntax, -ERANGE = does not fit. */
static int int_plain(const char *s, int64_t *ret) {
        const char *p = s;
        bool neg = false;
        unsigned base = 10;
        uint64_t v = 0, limit;

        if (*p == '-' || *p == '+') {
                neg = *p == '-';
                p++;
        } else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'x')) {
                base = p[1] == 'o' ? 8 : 16;
                p += 2;
        }
        if (*p == 0)
                return 0;

        for (const char *q = p; *q; q++) {
                unsigned d;
                if (*q >= '0' && *q <= '9')
                        d = (unsigned) (*q - '0');
                else if (base == 16 && *q >= 'a' && *q <= 'f')
                        d = (unsigned) (*q - 'a' + 10);
                else if (base == 16 && *q >= 'A' && *q <= 'F')
                        d = (unsigned) (*q - 'A' + 10);
                else
                        return 0;
                if (d >= base)
                        return 0;
        }

        limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
        for (; *p; p++) {
                unsigned d = *p <= '9' ? (unsigned) (*p - '0') : (unsigned) ((*p | 0x20) - 'a' + 10);
                if (v > (limit - d) / base)
                        return -ERANGE;
                v = v * base + d;
        }
        *ret = neg ? (int64_t) (0 - v) : (int64_t) v;
        return 1;
}

/* Core schema float: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static bool float_plain(const char *s, double *ret) {
        const char *p = s;
        bool digits = false;

        if (*p == '-' || *p == '+')
                p++;
        if (streq(p, ".inf") || streq(p, ".Inf") || streq(p, ".INF")) {
                *ret = s[0] == '-' ? -INFINITY : INFINITY;
                return true;
        }
        if (streq(s, ".nan") || streq(s, ".NaN") || streq(s, ".NAN")) {
                *ret = NAN;
                return true;
        }
        while (*p >= '0' && *p <= '9')
                p++, digits = true;
        if (*p == '.') {
                p++;
                while (*p >= '0' && *p <= '9')
                        p++, digits = true;
        }
        if (!digits)
                return false;
        if (*p == 'e' || *p == 'E') {
                p++;
                if (*p == '-' || *p == '+')
                        p++;
                if (!(*p >= '0' && *p <= '9'))
                        return false;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        if (*p)
                return false;
        *ret = strtod(s, NULL);
        return true;
}

/* JSON number syntax: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? */
static bool json_number_syntax(const char *s) {
        if (*s == '-')
                s++;
        if (*s == '0')
                s++;
        else if (*s >= '1' && *s <= '9')
                while (*s >= '0' && *s <= '9')
                        s++;
        else
                return false;
        if (*s == '.') {
                s++;
                if (!(*s >= '0' && *s <= '9'))
                        return false;
                while (*s >= '0' && *s <= '9')
                        s++;
        }
        if (*s == 'e' || *s == 'E') {
                s++;
                if (*s == '-' || *s == '+')
                        s++;
                if (!(*s >= '0' && *s <= '9'))
                        return false;
                while (*s >= '0' && *s <= '9')
                        s++;
        }
        return *s == 0;
}

/* A double that serializes as the user wrote it ("1.10" stays "1.10",
 * which matters for env values), with YAML-only spellings rewritten into
 * JSON ones: ".5" → "0.5", "+1." → "1.0", "01.5" → "1.5". */
static json_object *new_double_text(double d, const char *text) {
        _cleanup_free_ char *t = malloc(strlen(text) + 3);
        const char *p = text;
        size_t k = 0;

        if (!t)
                return NULL;
        if (*p == '+')
                p++;
        else if (*p == '-')
                t[k++] = *p++;
        while (*p == '0' && p[1] >= '0' && p[1] <= '9')
                p++;
        if (!(*p >= '0' && *p <= '9'))
                t[k++] = '0';
        while (*p >= '0' && *p <= '9')
                t[k++] = *p++;
        if (*p == '.') {
                t[k++] = *p++;
                if (!(*p >= '0' && *p <= '9'))
                        t[k++] = '0';
                while (*p >= '0' && *p <= '9')
                        t[k++] = *p++;
        }
        while (*p)
                t[k++] = *p++;
        t[k] = 0;

        return json_number_syntax(t) ? json_object_new_double_s(d, t) : json_object_new_double(d);
}

static int scalar_to_json(Loader *l, const yaml_event_t *e, json_object **ret) {
        const char *v = (const char *) e->data.scalar.value;
        size_t len = e->data.scalar.length;
        const char *tag = (const char *) e->data.scalar.tag;
        bool plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        json_object *o = NULL;
        int64_t i;
        double d;
        int r;

        if (strlen(v) != len)
                return loader_fail(l, &e->start_mark, "NUL byte in a scalar");

        /* A non-specific "!" tag forces a string, like quoting. */
        if (tag && streq(tag, "!"))
                tag = TAG_PREFIX "str";

        if (tag) {
                if (!strneq(tag, TAG_PREFIX, strlen(TAG_PREFIX)))
                        return loader_fail(l, &e->start_mark, "unsupported tag '%s'", tag);
                tag += strlen(TAG_PREFIX);
                if (streq(tag, "str"))
                        o = json_object_new_string_len(v, (int) len);
                else if (streq(tag, "null")) {
                        if (!is_null_plain(v))
                                return loader_fail(l, &e->start_mark, "'%s' is not a null", v);
                        *ret = NULL;
                        return 0;
                } else if (streq(tag, "bool")) {
                        r = bool_plain(v);
                        if (r < 0)
                                return loader_fail(l, &e->start_mark, "'%s' is not a bool", v);
                        o = json_object_new_boolean(r);
                } else if (streq(tag, "int")) {
                        r = int_plain(v, &i);
                        if (r == 0)
                                return loader_fail(l, &e->start_mark, "'%s' is not an integer", v);
                        if (r < 0)
                                return loader_fail(l, &e->start_mark, "integer '%s' is out of range", v);
                        o = json_object_new_int64(i);
                } else if (streq(tag, "float")) {
                        if (int_plain(v, &i) > 0)
                                o = json_object_new_double((double) i);
                        else if (float_plain(v, &d)) {
                                if (!isfinite(d))
                                        return loader_fail(l, &e->start_mark, "non-finite number '%s' is not supported", v);
                                o = new_double_text(d, v);
                        }
                        else
                                return loader_fail(l, &e->start_mark, "'%s' is not a float", v);
                } else
                        return loader_fail(l, &e->start_mark, "unsupported tag '!!%s' on a scalar", tag);
        } else if (!plain)
                o = json_object_new_string_len(v, (int) len);
        else if (is_null_plain(v)) {
                *ret = NULL;
                return 0;
        } else if ((r = bool_plain(v)) >= 0)
                o = json_object_new_boolean(r);
        else if ((r = int_plain(v, &i)) != 0) {
                if (r < 0)
                        return loader_fail(l, &e->start_mark, "integer '%s' is out of range", v);
                o = json_object_new_int64(i);
        } else if (float_plain(v, &d)) {
                /* JSON has no inf/nan: the stored tree must stay valid JSON. */
                if (!isfinite(d))
                        return loader_fail(l, &e->start_mark, "non-finite number '%s' is not supported", v);
                o = new_double_text(d, v);
        }
        else
                o = json_object_new_string_len(v, (int) len);

        if (!o)
                return -ENOMEM;
        *ret = o;
        return 0;
}

/* Attach @o (may be NULL = JSON null, ownership taken) to the open container. */
static int attach(Loader *l, const yaml_event_t *e, json_object *o, bool is_scalar) {
        Frame *f;

        if (l->depth == 0) {
                if (l->have_root) {
                        json_object_put(o);
                        return loader_fail(l, &e->start_mark, "more than one document");
                }
                l->root = o;
                l->have_root = true;
                return 0;
        }

        f = &l->stack[l->depth - 1];
        if (json_object_is_type(f->obj, json_type_array)) {
                if (json_object_array_add(f->obj, o) < 0) {
                        json_object_put(o);
                        return -ENOMEM;
                }
                return 0;
        }

        if (!f->pending_key) {
                /* This node is a key. */
                if (!is_scalar) {
                        json_object_put(o);
                        return loader_fail(l, &e->start_mark, "mapping keys must be scalars");
                }
                const char *k = o ? json_object_get_string(o) : "";
                if (json_object_object_get_ex(f->obj, k, NULL)) {
                        int r = loader_fail(l, &e->start_mark, "duplicate key '%s'", k);
                        json_object_put(o);
                        return r;
                }
                f->pending_key = strdup(k);
                json_object_put(o);
                if (!f->pending_key)
                        return -ENOMEM;
                return 0;
        }

        if (json_object_object_add(f->obj, f->pending_key, o) < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        free(f->pending_key);
        f->pending_key = NULL;
        return 0;
}

static const char *event_anchor(const yaml_event_t *e) {
        switch (e->type) {
        case YAML_SCALAR_EVENT:
                return (const char *) e->data.scalar.anchor;
        case YAML_SEQUENCE_START_EVENT:
                return (const char *) e->data.sequence_start.anchor;
        case YAML_MAPPING_START_EVENT:
                return (const char *) e->data.mapping_start.anchor;
        default:
                return NULL;
        }
}

static int container_tag_ok(const char *tag, const char *want) {
        return !tag || streq(tag, "!") ||
               (strneq(tag, TAG_PREFIX, strlen(TAG_PREFIX)) && streq(tag + strlen(TAG_PREFIX), want));
}

static int handle_event(Loader *l, yaml_event_t *e, bool *done) {
        json_object *o = NULL;
        int r;

        if (event_anchor(e))
                return loader_fail(l, &e->start_mark, "anchors are not allowed ('&%s')", event_anchor(e));

        switch (e->type) {
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
        case YAML_NO_EVENT:
                return 0;

        case YAML_STREAM_END_EVENT:
                *done = true;
                return 0;

        case YAML_ALIAS_EVENT:
                return loader_fail(l, &e->start_mark, "aliases are not allowed ('*%s')",
                                   (const char *) e->data.alias.anchor);

        case YAML_SCALAR_EVENT:
                if (++l->n_nodes > YAML_JSON_MAX_NODES)
                        return loader_fail(l, &e->start_mark, "more than %d nodes", YAML_JSON_MAX_NODES);
                r = scalar_to_json(l, e, &o);
                if (r < 0)
                        return r;
                return attach(l, e, o, true);

        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
                bool seq = e->type == YAML_SEQUENCE_START_EVENT;
                const char *tag = (const char *) (seq ? e->data.sequence_start.tag : e->data.mapping_start.tag);

                if (!container_tag_ok(tag, seq ? "seq" : "map"))
                        return loader_fail(l, &e->start_mark, "unsupported tag '%s'", tag);
                if (++l->n_nodes > YAML_JSON_MAX_NODES)
                        return loader_fail(l, &e->start_mark, "more than %d nodes", YAML_JSON_MAX_NODES);
                if (++l->n_containers > YAML_JSON_MAX_CONTAINERS)
                        return loader_fail(l, &e->start_mark, "more than %d maps and lists", YAML_JSON_MAX_CONTAINERS);
                if (l->depth >= YAML_JSON_MAX_DEPTH)
                        return loader_fail(l, &e->start_mark, "nesting deeper than %d levels", YAML_JSON_MAX_DEPTH);

                o = seq ? json_object_new_array() : json_object_new_object();
                if (!o)
                        return -ENOMEM;
                /* Attach first (the parent owns it), then keep a borrowed pointer on the stack. */
                r = attach(l, e, o, false);
                if (r < 0)
                        return r;
                l->stack[l->depth++] = (Frame) { .obj = o };
                return 0;
        }

        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
                if (l->depth == 0)
                        return loader_fail(l, &e->start_mark, "unbalanced end of collection");
                l->depth--;
                free(l->stack[l->depth].pending_key);
                l->stack[l->depth].pending_key = NULL;
                return 0;
        }

        return 0;
}

int yaml_to_json(const char *text, size_t len, json_object **ret, char **ret_error) {
        Loader l = {};
        bool done = false;
        int r = 0;

        if (ret_error)
                *ret_error = NULL;
        if (!text || !ret)
                return -EINVAL;
        if (len > YAML_JSON_MAX_INPUT) {
                if (ret_error && asprintf(ret_error, "document is larger than %d bytes", YAML_JSON_MAX_INPUT) < 0)
                        *ret_error = NULL;
                return -E2BIG;
        }

        if (!yaml_parser_initialize(&l.parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&l.parser, (const unsigned char *) text, len);

        while (!done) {
                yaml_event_t e;

                if (!yaml_parser_parse(&l.parser, &e)) {
                        if (l.parser.error == YAML_MEMORY_ERROR)
                                r = -ENOMEM;
                        else
                                r = loader_fail(&l, &l.parser.problem_mark, "%s%s%s",
                                                strempty(l.parser.problem),
                                                l.parser.context ? " " : "",
                                                strempty(l.parser.context));
                        break;
                }
                r = handle_event(&l, &e, &done);
                yaml_event_delete(&e);
                if (r < 0)
                        break;
        }

        yaml_parser_delete(&l.parser);
        for (size_t i = 0; i < l.depth; i++)
                free(l.stack[i].pending_key);

        if (r < 0) {
                /* The root owns every attached node. */
                json_object_put(l.root);
                if (ret_error)
                        *ret_error = TAKE_PTR(l.error);
                free(l.error);
                return r;
        }

        free(l.error);
        *ret = l.root;
        return 0;
}
