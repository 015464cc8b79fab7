/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* Limits on what one layer may make us write (HACKING.md: every resource a
 * caller controls has a limit). */
#define LAYER_MAX_ENTRIES 1000000ULL
#define LAYER_MAX_UNPACKED_BYTES (64ULL << 30)
/* The uncompressed tar stream: file data plus headers of up to
 * LAYER_MAX_ENTRIES entries (pax headers are a few KiB each) and padding. */
#define LAYER_MAX_STREAM_BYTES (LAYER_MAX_UNPACKED_BYTES + (8ULL << 30))

/* Unpacks the layer blob @blob_fd (gzip, zstd or plain tar) into
 * @layers_dir_fd/<chainhex> as docs/internals.md describes: extraction into
 * .tmp-<chainhex>-XXXXXX, OCI whiteouts converted to overlayfs form, sha256 of
 * the uncompressed stream checked against @diff_id, rename when whole. An
 * existing <chainhex> counts as success. On success stores the bytes of
 * regular files in @ret_size.
 *
 * Changes the working directory while it runs and restores it (libarchive's
 * disk writer works on paths relative to it): not for threaded callers.
 *
 * Returns 0, or on failure a negative errno and, in @ret_error, a message
 * naming the offending value:
 *   -EINVAL   an argument is invalid (chain_id, diff_id, fds)
 *   -EBADMSG  the layer is bad: corrupt, hostile, digest mismatch
 *   -EFBIG / -E2BIG  the layer is over LAYER_MAX_UNPACKED_BYTES / LAYER_MAX_ENTRIES
 *   other     a host-side failure (I/O, no space, memory). */
int layer_unpack(int blob_fd, int layers_dir_fd, const char *chain_id, const char *diff_id,
                 uint64_t *ret_size, char **ret_error);

/* The same, and @blob_fd may be a pipe (a layer streamed while it
 * downloads): the sha256 of every byte read from it, to its end, must be
 * @blob_digest too before anything is renamed into place. A short or
 * broken stream fails with -EBADMSG or -EIO and leaves nothing. */
int layer_unpack_verified(int blob_fd, int layers_dir_fd, const char *chain_id, const char *diff_id,
                          const char *blob_digest, uint64_t *ret_size, char **ret_error);

/* Removes leftovers .tmp-<chainhex>-* of earlier unpacks of @chain_id, or
 * every .tmp-* when @chain_id is NULL. Only while no unpack of that chain
 * (of any chain) runs: it would remove that one's temp dir. */
int layer_unpack_clean_leftovers(int layers_dir_fd, const char *chain_id);
