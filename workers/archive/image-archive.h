/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* Image save, load and import (docs/internals.md, "Image archives"). Each
 * runs in a child of zlayer-archive; the tar streams never pass through the
 * broker. All return 0 or -errno with a message in @ret_error naming the
 * offending value:
 *   -EINVAL / -EBADMSG  the input (plan, archive) is refused
 *   -EFBIG / -E2BIG     over a limit
 *   other               a host-side failure (I/O, space, memory) */

/* Limits on what a caller's archive may make us stage. */
#define IMAGE_LOAD_MAX_ENTRIES 100000ULL
#define IMAGE_LOAD_MAX_BYTES (64ULL << 30)
#define IMAGE_JSON_MAX (8U << 20)
#define IMAGE_LOAD_MAX_IMAGES 1024

/* Writes a docker-archive tar to @out_fd: for each image of @plan_json
 *   {"images":[{"config":"sha256:…","repo_tags":["…"],
 *               "layers":[{"blob":"sha256:…","diff_id":"sha256:…"}, …]}, …]}
 * `<confighex>.json`, each distinct layer once as an uncompressed
 * `<diffhex>.tar` (checked against its diff_id while it streams), then
 * manifest.json and repositories. Blobs are opened from @images_fd. */
int image_save(int images_fd, const char *plan_json, int out_fd, char **ret_error);

/* Reads a docker-archive or oci-archive (plain or compressed) from @in_fd,
 * staged in images/ingest/; verifies every digest and diff_id, unpacks the
 * layers into @layers_fd, and only then moves the blobs into
 * images/blobs/sha256/. @ret_json gets
 *   [{"references":["host/repo:tag",…],"id":"sha256:…","manifest":"sha256:…",
 *     "media_type":"…","manifest_size":n}, …]
 * A failure leaves no blob and no layer behind that the load created. */
int image_load(int images_fd, int layers_fd, int in_fd, char **ret_json, char **ret_error);

/* Makes a one-layer image of the rootfs tar (plain or compressed) on
 * @in_fd: the layer as a gzip blob, a config with rootfs and history, an
 * OCI manifest; @ret_json as image_load() with @reference (normalized) as
 * its only reference, or none when @reference is "" (a dangling image). */
int image_import(int images_fd, int layers_fd, int in_fd, const char *reference, char **ret_json,
                 char **ret_error);

/* Shared by the three (image-archive-util.c). */
int image_blob_write_json(int images_fd, const char *text, char ret_digest[72], uint64_t *ret_size);
int image_set_error(char **ret_error, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Streams the uncompressed layer of the blob @fd (from its start) through
 * sha256, into @w as the current entry's data when not NULL; -EBADMSG when
 * it is not @diff_id. @ret_len gets the uncompressed length. */
struct archive;
int image_layer_stream(int fd, const char *diff_id, struct archive *w, uint64_t *ret_len, char **ret_error);
/* The string / array member @key of @o, or NULL. */
struct json_object;
const char *image_json_str(struct json_object *o, const char *key);
struct json_object *image_json_arr(struct json_object *o, const char *key);
