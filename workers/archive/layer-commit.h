/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* Writes the overlay upper directory @upper_fd as an OCI layer: a gzip tar
 * to @out_fd (a regular file, written from its start), overlay whiteouts
 * (0:0 char devices) as `.wh.<name>`, directories with
 * trusted.overlay.opaque=y followed by `<dir>/.wh..wh..opq`. Hard links are
 * stored as separate files; xattrs other than the opaque mark are dropped.
 * @ret_digest gets the sha256 of the blob, @ret_diff_id the sha256 of the
 * uncompressed tar, @ret_size the blob's size. Never follows a symlink of
 * the tree. Returns 0 or -errno, with a message in @ret_error. */
int layer_commit(int upper_fd, int out_fd, char ret_diff_id[72], char ret_digest[72], uint64_t *ret_size,
                 char **ret_error);
