/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Filesystem confinement with Landlock (lib/landlock.c), by raw syscalls:
 * glibc has no wrappers and Debian 12 ships no liblandlock. */

typedef enum LandlockAccess {
        LANDLOCK_READ,          /* read files, list directories, map libraries */
        LANDLOCK_READ_WRITE,    /* everything below the path, but devices */
} LandlockAccess;

typedef struct LandlockPath {
        const char *path;
        LandlockAccess access;
} LandlockPath;

/* The ABI version the kernel offers (≥ 1), or -EOPNOTSUPP/-ENOSYS. */
int landlock_abi(void);

/* Confine this thread and its future children to @paths: anything else on
 * the filesystem is refused with EACCES, whatever the file modes say. Paths
 * that do not exist are skipped. Needs no_new_privs (or CAP_SYS_ADMIN).
 * Returns -EOPNOTSUPP when the kernel lacks Landlock: the caller decides
 * whether to go on without it. */
int landlock_restrict(const LandlockPath *paths, size_t n);
