/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* Size-based rotation of a container's log (ctr.log) in its directory:
 * ctr.log is the newest file, ctr.log.1 the one before it, up to
 * ctr.log.<max_files - 1>, the oldest. */

#define LOGROTATE_DEFAULT_MAX_SIZE (10ULL * 1024 * 1024)
#define LOGROTATE_DEFAULT_MAX_FILES 5U
#define LOGROTATE_FILES_MAX 100U

typedef struct LogRotate {
        int dir_fd;             /* not owned */
        const char *name;       /* "ctr.log" */
        uint64_t max_size;      /* 0: never rotate */
        unsigned max_files;     /* files kept, the current one included, ≥ 1 */
        gid_t gid;              /* group of a new file (mode 0640) */
        int fd;                 /* current file, O_APPEND */
        uint64_t size;          /* its size */
} LogRotate;

/* Rename name.(max_files-2) → name.(max_files-1) … name → name.1, dropping
 * name.(max_files-1) and older; with max_files ≤ 1 name is only removed. */
int logrotate_shift(int dir_fd, const char *name, unsigned max_files);

/* Open (create) the current file; l->fd and l->size are set. */
int logrotate_open(LogRotate *l);
/* Before appending @n bytes: rotate first if the file would exceed
 * max_size (a non-empty file only, so one oversized write still lands). */
int logrotate_prepare(LogRotate *l, size_t n);
/* After a write: refresh l->size from the fd's offset. */
void logrotate_written(LogRotate *l);
void logrotate_close(LogRotate *l);

/* Open every file of the log, oldest first (name.N … name.1, name), each
 * file once even when a rotation runs meanwhile. */
int logrotate_open_all(int dir_fd, const char *name, int **ret_fds, size_t *ret_n);

/* For a reader at the end of @fd: the file that follows it, when @fd was
 * rotated away from @name (opened into *ret_fd), or *ret_fd = -1 when @fd is
 * still the current file (or no file follows yet). A reader that held
 * nothing (e.g. /dev/null) gets the oldest file. The content of a rotated
 * file is final once it was renamed: drain @fd before switching. */
int logrotate_open_next(int dir_fd, const char *name, int fd, int *ret_fd);
