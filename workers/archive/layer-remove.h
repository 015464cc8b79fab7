/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* Removes the extracted layer @chain_id ("sha256:<hex>") from the layers
 * dir: renames layers_dir/<hex> to .tmp-<hex>-removing first, so a crash
 * mid-way leaves a leftover (cleaned like an unpack's) and never a partial
 * layer under its real name. @ret_size gets the bytes of regular files
 * removed. A missing layer is success with size 0. */
int layer_remove(int layers_dir_fd, const char *chain_id, uint64_t *ret_size);
