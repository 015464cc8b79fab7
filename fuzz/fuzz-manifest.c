/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: what a registry serves (index, manifest, config). */
#include <stdint.h>
#include <stdlib.h>

#include "workers/puller/manifest.h"

static void strv_free_(char **l) {
        if (!l)
                return;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *d = (const char *) data;
        ManifestKind kind;
        Descriptor desc = {};
        ImageManifest *m = NULL;
        Platform p;
        char *mt = NULL, *err = NULL, **ids = NULL;

        (void) manifest_detect(d, size, "application/json", &kind, &mt);
        free(mt);

        platform_native(&p);
        if (manifest_index_select(d, size, &p, &desc, &err) == 0)
                descriptor_done(&desc);
        free(err);
        err = NULL;

        if (image_manifest_parse(d, size, MT_OCI_MANIFEST, &m, &err) == 0)
                image_manifest_free(m);
        free(err);
        err = NULL;

        if (image_config_diff_ids(d, size, &ids, &err) == 0)
                strv_free_(ids);
        free(err);
        return 0;
}
