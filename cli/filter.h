/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* docker's --filter KEY=VALUE for listings: the values given for one key
 * are alternatives, and every key given must match. */
#define FILTERS_MAX 32

typedef struct Filters {
        const char *const *known;          /* the keys this listing takes, NULL-terminated */
        const char *key[FILTERS_MAX], *value[FILTERS_MAX];
        size_t n;
} Filters;

/* Adds "KEY=VALUE" (a pointer into @arg is kept). -EINVAL for no '=', an
 * empty value or a key not in known (the message on stderr names it and
 * the known ones), -E2BIG beyond FILTERS_MAX. */
int filters_add(Filters *f, const char *verb, const char *arg);

/* Whether @item passes: for every key given, @match(key, value, item)
 * holds for at least one of its values. No filter: true. */
bool filters_match(const Filters *f, bool (*match)(const char *key, const char *value, const void *item),
                   const void *item);
