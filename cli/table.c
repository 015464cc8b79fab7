/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "table.h"

#define COLUMN_GAP 3

struct Table {
        size_t n_columns, n_rows, allocated;
        char **cells;      /* row major; row 0 = headers */
};

size_t utf8_width(const char *s) {
        size_t n = 0;
        for (; *s; s++)
                if (((unsigned char) *s & 0xC0) != 0x80)
                        n++;
        return n;
}

Table *table_new(size_t n_columns, const char *const *headers) {
        Table *t = calloc(1, sizeof *t);
        if (!t)
                return NULL;
        t->n_columns = n_columns;
        if (table_add_row(t, headers) < 0) {
                table_free(t);
                return NULL;
        }
        return t;
}

int table_add_row(Table *t, const char *const *cells) {
        size_t need = (t->n_rows + 1) * t->n_columns;

        if (need > t->allocated) {
                size_t a = MAX(need, t->allocated * 2);
                char **c = realloc(t->cells, a * sizeof *c);
                if (!c)
                        return -ENOMEM;
                t->cells = c;
                t->allocated = a;
        }
        for (size_t i = 0; i < t->n_columns; i++) {
                char *s = strdup(cells[i] ?: "");
                if (!s) {
                        for (size_t k = 0; k < i; k++)
                                free(t->cells[t->n_rows * t->n_columns + k]);
                        return -ENOMEM;
                }
                t->cells[t->n_rows * t->n_columns + i] = s;
        }
        t->n_rows++;
        return 0;
}

size_t table_n_rows(const Table *t) {
        return t->n_rows - 1;
}

int table_print(const Table *t, FILE *f, int headers) {
        _cleanup_free_ size_t *width = calloc(t->n_columns, sizeof *width);

        if (!width)
                return -ENOMEM;
        for (size_t r = headers ? 0 : 1; r < t->n_rows; r++)
                for (size_t c = 0; c < t->n_columns; c++)
                        width[c] = MAX(width[c], utf8_width(t->cells[r * t->n_columns + c]));
        for (size_t r = headers ? 0 : 1; r < t->n_rows; r++) {
                for (size_t c = 0; c < t->n_columns; c++) {
                        const char *s = t->cells[r * t->n_columns + c];
                        fputs(s, f);
                        if (c + 1 < t->n_columns)
                                fprintf(f, "%*s", (int) (width[c] - utf8_width(s) + COLUMN_GAP), "");
                }
                fputc('\n', f);
        }
        return 0;
}

void table_free(Table *t) {
        if (!t)
                return;
        for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
}
