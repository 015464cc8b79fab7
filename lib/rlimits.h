/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* Resource limits by the names Docker and the ServiceSpec use ("nofile"…). */

/* The canonical name (a static string) of @name, or NULL when unknown. */
const char *rlimit_canonical_name(const char *name);

/* The RLIMIT_* of @name, or -EINVAL when unknown. */
int rlimit_from_name(const char *name);

/* Sets @resource to @soft/@hard, clamped to the current hard limit: raising a
 * hard limit needs CAP_SYS_RESOURCE, which zlayer may not have. -errno. */
int rlimit_apply_clamped(int resource, uint64_t soft, uint64_t hard);
