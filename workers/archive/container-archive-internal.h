/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* Shared by container-archive.c and container-extract.c. */

/* Stores the first failure's message in *@ret_error (later ones are
 * consequences) and returns @r. */
int carchive_set_error(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);

/* openat2(@root_fd, @path, @flags | O_CLOEXEC) with RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS: @path can never leave @root_fd. */
int carchive_openat2(int root_fd, const char *path, uint64_t flags, int *ret_fd);

/* @fd is on procfs, sysfs, cgroupfs or another kernel interface (or we
 * cannot tell): never archived, never written to. */
bool carchive_is_pseudo_fs(int fd);
