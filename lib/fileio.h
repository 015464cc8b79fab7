/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Write @len bytes to @dirfd/@name so that a crash leaves either the old or
 * the new file: temp file in the same directory, fsync, rename, fsync dir. */
int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode);

/* The same replace-by-rename, without the fsyncs: for runtime files under
 * --run-dir (a tmpfs on real systems) that no reader may see half-written
 * but that need not survive a power loss — the containers they describe do
 * not either. An fsync costs milliseconds on a disk, and there are several
 * of these on the path of every container start. */
int write_file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode);

/* Read a whole file (at most @max bytes, else -EFBIG) NUL-terminated. */
int read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len);
int read_fd_full(int fd, size_t max, char **ret, size_t *ret_len);

/* Remove @name under @dirfd recursively without following symlinks and
 * without crossing into other mounts. Missing is success. */
int rm_rf_at(int dirfd, const char *name);

/* mkdir -p relative to @dirfd, each component created with @mode. */
int mkdir_p_at(int dirfd, const char *path, mode_t mode);

/* Loop until all is written / read; return -errno. */
int loop_write(int fd, const void *buf, size_t len);
ssize_t loop_read(int fd, void *buf, size_t len);
