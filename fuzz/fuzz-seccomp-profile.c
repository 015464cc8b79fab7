/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: a container's own seccomp profile in Docker's JSON
 * format (lib/seccomp-profile-json.c), which any caller allowed to create
 * containers sends as security_opt seccomp=<JSON> and the broker checks.
 * Built by fuzz/meson.build.
 *
 * Invariants beyond "no crash": a refusal always says why, an acceptance
 * says nothing, the same text gets the same answer twice (the check has no
 * state), and an accepted profile's compact form (what the launch config
 * carries) is one printable line that is accepted and compacts to itself. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seccomp-profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text, *err = NULL, *err2 = NULL, *compact = NULL, *again = NULL;
        int r, r2;

        if (size > SECCOMP_PROFILE_SIZE_MAX + 1)
                return 0;
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;

        r = seccomp_profile_json_check(text, &compact, &err);
        if (r < 0 && r != -EINVAL && r != -ENOMEM)
                abort();
        if (r == -EINVAL && !err)
                abort();
        if (r == 0 && (err || !compact))
                abort();
        r2 = seccomp_profile_json_check(text, NULL, &err2);
        if (r2 != r || (err && (!err2 || strcmp(err, err2) != 0)))
                abort();
        /* the compact form: one printable line, accepted, its own compact form */
        if (compact) {
                for (const char *c = compact; *c; c++)
                        if ((unsigned char) *c < 0x20 || *c == 0x7f)
                                abort();
                if (seccomp_profile_json_check(compact, &again, NULL) != 0 || strcmp(again, compact) != 0)
                        abort();
        }

        free(again);
        free(compact);
        free(err);
        free(err2);
        free(text);
        return 0;
}
