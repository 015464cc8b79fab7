/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: image references (from callers of PullImage and others). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ImageReference *r = NULL;
        char *s, *t = NULL;

        s = strndup((const char *) data, size);
        if (!s)
                return 0;
        if (image_reference_parse(s, &r) == 0) {
                char *f = image_reference_to_string(r);
                /* A normalized reference normalizes to itself. */
                if (!f || image_reference_normalize(f, &t) < 0 || strcmp(f, t) != 0)
                        abort();
                free(f);
                free(t);
                image_reference_free(r);
        }
        (void) registry_host_is_loopback(s);
        free(s);
        return 0;
}
