/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "template.h"

static const char *field_header(const TemplateFields *tf, const char *field) {
        for (size_t i = 0; i < tf->n_headers; i++)
                if (streq(field, tf->headers[i][0]))
                        return tf->headers[i][1];
        return NULL;
}

static void unknown_field(const TemplateFields *tf, const char *field) {
        fprintf(stderr, "zlayerctl %s: unknown format field '%s' (known:", tf->verb, field);
        for (size_t i = 0; i < tf->n_headers; i++)
                fprintf(stderr, " %s", tf->headers[i][0]);
        fprintf(stderr, ")\n");
}

/* The field name between "{{" at @p and "}}" at @end, spaces trimmed. */
static int field_name(const char *p, const char *end, char *buf, size_t size) {
        size_t n;

        while (p < end && *p == ' ')
                p++;
        n = (size_t) (end - p);
        while (n > 0 && p[n - 1] == ' ')
                n--;
        if (n == 0 || n >= size)
                return -EINVAL;
        memcpy(buf, p, n);
        buf[n] = 0;
        return 0;
}

int template_expand(const char *fmt, const TemplateFields *tf, const void *item, const void *userdata, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        int r = 0;

        if (!f)
                return -ENOMEM;
        for (const char *p = fmt; *p && r == 0;) {
                char field[64], buf[128];
                const char *e, *v;

                if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
                        fputc(p[1] == 't' ? '\t' : '\n', f);
                        p += 2;
                        continue;
                }
                if (!strneq(p, "{{", 2)) {
                        fputc(*p++, f);
                        continue;
                }
                e = strstr(p + 2, "}}");
                if (!e || field_name(p + 2, e, field, sizeof field) < 0) {
                        fprintf(stderr, "zlayerctl %s: bad format template near '%.40s'\n", tf->verb, p);
                        r = -EINVAL;
                        break;
                }
                v = field_header(tf, field);
                if (v && item)
                        v = tf->value(field, item, userdata, buf, sizeof buf);
                if (!v) {
                        unknown_field(tf, field);
                        r = -EINVAL;
                        break;
                }
                fputs(v, f);
                p = e + 2;
        }
        if (fclose(f) != 0 && r == 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(out);
        return 0;
}

/* Splits a tab-separated line into a row of @t, or (t NULL) makes the
 * table with the line as headers. Missing cells are empty; cells beyond
 * the header's columns are dropped. */
static int table_from_line(char *line, Table *t, Table **ret) {
        const char *cells[32] = {};
        size_t n = 0;

        for (char *s = line; n < ELEMENTSOF(cells); n++) {
                char *tab = strchr(s, '\t');
                cells[n] = s;
                if (!tab || n + 1 == ELEMENTSOF(cells)) {
                        n++;
                        break;
                }
                *tab = 0;
                s = tab + 1;
        }
        if (!t) {
                *ret = table_new(n, cells);
                return *ret ? 0 : -ENOMEM;
        }
        return table_add_row(t, cells);
}

int template_output_begin(TemplateOutput *o, const char *format, const TemplateFields *tf, const void *userdata) {
        _cleanup_free_ char *header = NULL;
        int r;

        *o = (TemplateOutput) { .fields = tf, .userdata = userdata, .format = format };
        if (!strneq(format, "table", 5) || (format[5] != 0 && format[5] != ' '))
                return template_expand(format, tf, NULL, NULL, &header);   /* validated now, not per item */
        o->format = format + 5 + strspn(format + 5, " ");
        r = template_expand(o->format, tf, NULL, NULL, &header);
        if (r < 0)
                return r;
        return table_from_line(header, NULL, &o->table);
}

int template_output_item(TemplateOutput *o, const void *item) {
        _cleanup_free_ char *line = NULL;
        int r;

        r = template_expand(o->format, o->fields, item, o->userdata, &line);
        if (r < 0)
                return r;
        if (o->table)
                return table_from_line(line, o->table, NULL);
        printf("%s\n", line);
        return 0;
}

void template_output_end(TemplateOutput *o) {
        if (o->table)
                table_print(o->table, stdout, true);
        template_output_free(o);
}

void template_output_free(TemplateOutput *o) {
        if (o->table)
                table_free(o->table);
        o->table = NULL;
}
