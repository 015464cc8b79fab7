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

/* The broker's confinement (it runs as --user, after setup_storage): read-
 * write @root/images and @root/containers, read-only @root/layers, the
 * system's libraries and /etc, /proc, the cgroup tree; nothing else, whatever
 * the file modes say: not @root/volumes, not a world-writable /tmp (the
 * containers' upper/ dirs under containers/ stay out of reach by their
 * modes: root's, 0755). Connecting to the bus's socket is not something
 * Landlock (ABI < 6) restricts. -EOPNOTSUPP without Landlock. */
int landlock_confine_broker(const char *root);
