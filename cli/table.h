/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdio.h>

/* A table of strings printed with aligned columns (three spaces between
 * columns, as docker's tabwriter), widths counted in characters. */
typedef struct Table Table;

Table *table_new(size_t n_columns, const char *const *headers);
/* Adds a row of exactly n_columns strings (copied); -ENOMEM. */
int table_add_row(Table *t, const char *const *cells);
size_t table_n_rows(const Table *t);
/* @headers false: rows only (ps --format without "table"). */
int table_print(const Table *t, FILE *f, int headers);
void table_free(Table *t);
static inline void table_freep(Table **t) {
        if (*t)
                table_free(*t);
}

/* Display width of a UTF-8 string (one column per code point). */
size_t utf8_width(const char *s);
