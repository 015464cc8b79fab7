/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The blob side of an OCI image layout (ROOT/images): blobs are streamed into
 * ingest/, hashed on the way, fsync'd and renamed into blobs/sha256/<hex>
 * only when size and digest verified. Whatever fails leaves nothing behind. */

typedef struct BlobStore {
        int ingest_fd;
        int blobs_fd;    /* blobs/sha256 */
} BlobStore;

/* Creates ingest/, blobs/sha256/ and oci-layout when missing. Does not take @images_fd. */
int blob_store_open(int images_fd, BlobStore *ret);
void blob_store_close(BlobStore *s);

/* 1 when blobs/sha256/<hex> exists as a regular file (of @size unless
 * UINT64_MAX), 0 when not, -errno otherwise. */
int blob_store_has(BlobStore *s, const char *digest, uint64_t size);

typedef struct BlobWriter BlobWriter;

/* A new temp file in ingest/ for @digest; @expected_size UINT64_MAX = unknown. */
int blob_writer_new(BlobStore *s, const char *digest, uint64_t expected_size, BlobWriter **ret);
/* -EFBIG once more than the expected size arrives. */
int blob_writer_write(BlobWriter *w, const void *data, size_t len);
/* fsync, verify, rename. -EBADMSG on a digest or size mismatch, *ret_actual
 * (72 bytes) then holds the digest that arrived. The writer is freed in any case. */
int blob_writer_commit(BlobWriter *w, char ret_actual[72], uint64_t *ret_size);
/* Removes the temp file. NULL is fine. */
BlobWriter *blob_writer_free(BlobWriter *w);
static inline void blob_writer_freep(BlobWriter **w) {
        if (*w)
                blob_writer_free(*w);
}

/* Removes the temp files a killed puller left in @images_dir/ingest/. Only
 * safe while no pull runs (at start). Missing ingest/ is fine. */
int blob_store_clean_ingest(int images_fd);

/* Stores a buffer (manifest, index, config) as a verified blob. */
int blob_store_put(BlobStore *s, const char *digest, const void *data, size_t len);
