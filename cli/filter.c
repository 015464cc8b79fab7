/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "filter.h"
#include "macro.h"

static bool key_known(const Filters *f, const char *key, size_t len) {
        for (const char *const *k = f->known; *k; k++)
                if (strlen(*k) == len && strneq(*k, key, len))
                        return true;
        return false;
}

int filters_add(Filters *f, const char *verb, const char *arg) {
        const char *eq = strchr(arg, '=');

        if (!eq || eq == arg || !eq[1] || !key_known(f, arg, (size_t) (eq - arg))) {
                fprintf(stderr, "zlayerctl %s: invalid filter '%s' (KEY=VALUE with KEY one of:", verb, arg);
                for (const char *const *k = f->known; *k; k++)
                        fprintf(stderr, " %s", *k);
                fprintf(stderr, ")\n");
                return -EINVAL;
        }
        if (f->n >= FILTERS_MAX) {
                fprintf(stderr, "zlayerctl %s: at most %d filters\n", verb, FILTERS_MAX);
                return -E2BIG;
        }
        f->key[f->n] = arg;
        f->value[f->n] = eq + 1;
        f->n++;
        return 0;
}

static bool same_key(const char *a, const char *b) {
        size_t la = strcspn(a, "="), lb = strcspn(b, "=");
        return la == lb && strneq(a, b, la);
}

bool filters_match(const Filters *f, bool (*match)(const char *key, const char *value, const void *item),
                   const void *item) {
        for (size_t i = 0; i < f->n; i++) {
                char key[64];
                bool any = false, seen = false;

                for (size_t j = 0; j < i && !seen; j++)
                        seen = same_key(f->key[j], f->key[i]);
                if (seen)
                        continue;   /* this key was decided with its first value */
                snprintf(key, sizeof key, "%.*s", (int) strcspn(f->key[i], "="), f->key[i]);
                for (size_t j = i; j < f->n && !any; j++)
                        any = same_key(f->key[j], f->key[i]) && match(key, f->value[j], item);
                if (!any)
                        return false;
        }
        return true;
}
