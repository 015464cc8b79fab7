/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for service_spec_parse() (YAML and JSON) and
 * launch_config_build(). Built with clang by fuzz/meson.build:
 *
 *   CC=clang meson setup build-fuzz -Dfuzz=true && ninja -C build-fuzz fuzz/fuzz-servicespec
 *   build-fuzz/fuzz/fuzz-servicespec -max_len=4096 -max_total_time=60 NEW_CORPUS_DIR fuzz/corpus-servicespec
 * (fuzz/run-smoke builds and runs every target.)
 *
 * Invariants checked beyond "no crash, no leak": an accepted spec's stored
 * tree is valid JSON that parses again to an equal tree, and every launch
 * config built from an accepted spec is accepted by launch_config_parse(). */
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "launch-config.h"
#include "macro.h"
#include "servicespec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static char *const layers[] = { "1111111111111111111111111111111111111111111111111111111111111111", NULL };
        _cleanup_service_spec_ ServiceSpec *s = NULL, *again = NULL;
        _cleanup_free_ char *err = NULL, *err2 = NULL, *err3 = NULL;
        json_object *lc = NULL;
        const char *stored;

        if (service_spec_parse((const char *) data, size, &s, &err) < 0)
                return 0;

        stored = json_object_to_json_string_ext(s->json, JSON_C_TO_STRING_PLAIN);
        if (service_spec_parse(stored, strlen(stored), &again, &err2) < 0 || !json_object_equal(s->json, again->json))
                abort();

        if (launch_config_build(s, "fuzz-rep-1", NULL, "{\"config\":{\"Cmd\":[\"sh\"]}}", layers, &lc, &err3) >= 0) {
                _cleanup_launch_config_ LaunchConfig *c = NULL;
                _cleanup_free_ char *err4 = NULL;

                if (launch_config_parse(json_object_to_json_string_ext(lc, JSON_C_TO_STRING_PLAIN), &c, &err4) < 0) {
                        fprintf(stderr, "launch_config_parse rejects a built config: %s\n%s\n", strempty(err4),
                                json_object_to_json_string_ext(lc, JSON_C_TO_STRING_PLAIN));
                        abort();
                }
                json_object_put(lc);
        }
        return 0;
}
