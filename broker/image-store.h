/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ROOT/images/index.json: an OCI image layout index whose manifests carry
 * the annotations of docs/internals.md. Only the broker writes it. */

typedef struct ImageStore ImageStore;

#define IMAGE_ANNOTATION_REF "org.opencontainers.image.ref.name"
#define IMAGE_ANNOTATION_REPO_DIGEST "com.zlayer.repo-digest"
/* A dangling image (an untagged commit): no ref.name, this annotation holds
 * its image id, which stands in as the entry's key (ImageEntry.reference). */
#define IMAGE_ANNOTATION_DANGLING "com.zlayer.dangling"

typedef struct ImageEntry {
        const char *reference;      /* the full normalized reference; a dangling image's id */
        bool dangling;              /* no reference: listed as <none>:<none> */
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
/* Adds or moves @e->reference and writes index.json atomically. A tagged
 * entry replaces the dangling entry of the same manifest (tagging an
 * untagged image makes it a tagged one, as in Docker). */
int image_store_put(ImageStore *s, const ImageEntry *e);
/* Drops the entry of @reference and writes index.json; -ENOENT when absent. */
int image_store_remove(ImageStore *s, const char *reference);

/* Every manifest digest the index holds, with a reference or without. */
int image_store_all_manifests(const ImageStore *s, char ***ret);
/* Drops the entries without a reference (dangling commits, untagged images
 * written by other tools) except those whose manifest is in @keep (NULL =
 * none); @ret gets their manifest digests. */
int image_store_remove_untagged(ImageStore *s, char *const *keep, char ***ret);

/* The image id of an entry: its config digest ("sha256:<hex>", 72 bytes). */
int image_entry_id(const ImageStore *s, const ImageEntry *e, char ret[72]);

/* True when @name has the shape of an image id: "sha256:" or nothing,
 * then 12 to 64 hex digits (lowercase or not). @ret gets the lowercase hex. */
bool image_id_prefix_parse(const char *name, char ret[65]);

/* Finds the image @name stands for, as dbus-api.md addresses images:
 *   1. a reference, normalized, equal to an entry's;
 *   2. a digest reference (repo@sha256:…) whose repository has an entry
 *      with that repo-digest or manifest digest;
 *   3. an image id or an id prefix of ≥ 12 hex digits.
 * -ENOENT when nothing matches, -ENOTUNIQ when a prefix matches several
 * image ids. @ret_id (optional) gets the image id. */
int image_store_resolve(const ImageStore *s, const char *name, ImageEntry *ret, char ret_id[72]);

/* The compressed sizes of the manifest's layers, bottom first (@ret_n of them). */
int image_manifest_layer_sizes(int images_fd, const char *manifest_digest, uint64_t **ret, size_t *ret_n);
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
