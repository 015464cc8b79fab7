/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the WWW-Authenticate Bearer challenge a registry sends
 * (registry_parse_bearer_challenge() in workers/puller/registry.c). Built by
 * fuzz/meson.build.
 *
 * Invariants beyond "no crash, no leak": an accepted challenge has a non-empty
 * realm, and every value returned is a substring of the header. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "workers/puller/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_part(const char *header, const char *value) {
        if (value && !strstr(header, value))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *h, *realm = NULL, *service = NULL, *scope = NULL;

        h = strndup((const char *) data, size);
        if (!h)
                return 0;
        if (registry_parse_bearer_challenge(h, &realm, &service, &scope) == 0) {
                if (!realm || !*realm)
                        abort();
                check_part(h, realm);
                check_part(h, service);
                check_part(h, scope);
                free(realm);
                free(service);
                free(scope);
        } else if (realm || service || scope)
                abort(); /* nothing is returned on failure */
        free(h);
        return 0;
}
