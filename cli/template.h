/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "table.h"

/* docker's --format for listings: the Go-template subset people use,
 * {{.Field}} with \t and \n escapes, and a "table " prefix that prints
 * aligned columns under headers. */

typedef struct TemplateFields {
        const char *verb;                  /* names the listing in errors: "ps" */
        const char *const (*headers)[2];   /* { ".ID", "CONTAINER ID" }, … : the known fields */
        size_t n_headers;
        /* The value of a known @field of @item into @buf (or a string that
         * lives as long as @item); NULL for an unknown field. */
        const char *(*value)(const char *field, const void *item, const void *userdata, char *buf, size_t size);
} TemplateFields;

/* @fmt with every field of @item expanded; with @item NULL every field
 * becomes its header. -EINVAL (after a message on stderr naming the field
 * and the known ones) for an unknown field or a "{{" without "}}". */
int template_expand(const char *fmt, const TemplateFields *tf, const void *item, const void *userdata, char **ret);

typedef struct TemplateOutput {
        const TemplateFields *fields;
        const void *userdata;
        const char *format;   /* without its "table " prefix */
        Table *table;         /* set for "table …" */
} TemplateOutput;

/* Parses @format ("table …" or a line template); -EINVAL for a bad one. */
int template_output_begin(TemplateOutput *o, const char *format, const TemplateFields *tf, const void *userdata);
/* One line of output (a row with "table"). */
int template_output_item(TemplateOutput *o, const void *item);
/* Prints the table, if any, and frees it. */
void template_output_end(TemplateOutput *o);
/* Frees the table without printing it (a cleanup attribute's function). */
void template_output_free(TemplateOutput *o);
