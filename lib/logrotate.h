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
        uint64_t size;          /* its size, without the batch */
        char *batch;            /* records formatted, not written yet */
        size_t batch_len, batch_alloc;
} LogRotate;

/* A batch is written once it would grow beyond this (one read() of the
 * container's output is one batch otherwise). */
#define LOGROTATE_BATCH_MAX (256U * 1024)

/* Rename name.(max_files-2) → name.(max_files-1) … name → name.1, dropping
 * name.(max_files-1) and older; with max_files ≤ 1 name is only removed. */
int logrotate_shift(int dir_fd, const char *name, unsigned max_files);

/* Open (create) the current file; l->fd and l->size are set. */
int logrotate_open(LogRotate *l);
/* Before appending @n bytes: rotate first if the file would exceed
 * max_size (a non-empty file only, so one oversized write still lands). */
int logrotate_prepare(LogRotate *l, size_t n);

/* Batched appending: room for a record of @n bytes at the end of the batch
 * (*ret; logrotate_commit(l, n) once it is filled). When the record would
 * take the file beyond max_size, the batch is written first and the file
 * rotated, so that rotations fall between records exactly as with one
 * write per record. A failed rotation is logged and rotation turned off
 * (rather one big log than a file rotated away at every record); a failed
 * write is logged and its batch lost. -ENOMEM only. */
int logrotate_reserve(LogRotate *l, size_t n, char **ret);
void logrotate_commit(LogRotate *l, size_t n);
/* Write the batch with one write(); l->size counts it (no lseek). */
int logrotate_flush(LogRotate *l);
/* Flushes, then closes. */
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
