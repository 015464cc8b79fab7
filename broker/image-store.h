/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* ROOT/images/index.json: an OCI image layout index whose manifests carry
 * the annotations of docs/internals.md. Only the broker writes it. */

typedef struct ImageStore ImageStore;

#define IMAGE_ANNOTATION_REF "org.opencontainers.image.ref.name"
#define IMAGE_ANNOTATION_REPO_DIGEST "com.zlayer.repo-digest"

typedef struct ImageEntry {
        const char *reference;      /* the full normalized reference */
        const char *repo_digest;    /* what the registry served for it */
        const char *manifest;       /* sha256:… of the platform manifest */
        const char *media_type;
        uint64_t manifest_size;
} ImageEntry;

/* Loads index.json (missing = empty) and writes oci-layout when missing. */
int image_store_load(int images_fd, ImageStore **ret);
ImageStore *image_store_free(ImageStore *s);
static inline void image_store_freep(ImageStore **s) {
        if (*s)
                image_store_free(*s);
}

size_t image_store_count(const ImageStore *s);
/* Entry @i (0 ≤ i < count); pointers stay valid until the next change. */
int image_store_get(const ImageStore *s, size_t i, ImageEntry *ret);
/* By normalized reference; -ENOENT when absent. */
int image_store_find(const ImageStore *s, const char *reference, ImageEntry *ret);
/* Adds or moves @e->reference and writes index.json atomically. */
int image_store_put(ImageStore *s, const ImageEntry *e);

/* Read the manifest blob: config digest, the layers' digests (bottom first)
 * and the sum of manifest + config + layer sizes. */
int image_manifest_read(int images_fd, const char *manifest_digest, char **ret_config, char ***ret_layers,
                        uint64_t *ret_total_size);
/* Read the config blob and its rootfs.diff_ids. */
int image_config_read(int images_fd, const char *config_digest, char **ret_text, char ***ret_diff_ids);
/* Chain ids as 64-hex strings, bottom first. */
int image_chain_ids(char *const *diff_ids, char ***ret);
/* Open blobs/sha256/<hex> read-only. */
int image_blob_open(int images_fd, const char *digest);
