/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "launch-config.h"

/* What a container's first process (the shim's init) and an exec'd one (the
 * exec monitor's child) both do right before their execve(). */

/* $PATH when the container's environment sets none (Docker's). */
#define CONTAINER_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Sets the config's rlimits, each clamped to the current hard limit
 * (rlimit_apply_clamped). On failure -errno and the message, naming the
 * limit, in @err ("rlimit NAME: unknown", "setrlimit NAME: …"). */
int container_apply_rlimits(const LaunchConfig *c, char *err, size_t err_size);

typedef enum PathExecFlags {
        PATH_EXEC_NEED_X = 1 << 0, /* pass over files the caller may not execute */
        PATH_EXEC_FIRST = 1 << 1,  /* stop after the first execve() tried */
} PathExecFlags;

/* execve() of argv[0] as execvp() finds it: as it is when it holds a '/',
 * else each regular file of that name in the directories of @path
 * (':'-separated; an empty one is the current directory), in order.
 * Returns only on failure: -errno of the last execve() tried, that file in
 * *ret_file (the caller's to free); *ret_file NULL when none was tried:
 * -ENOENT (nothing found) or -ENOMEM. */
int path_execve(char **argv, char **env, const char *path, PathExecFlags flags, char **ret_file);
