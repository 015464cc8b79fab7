/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* GetContainerLogs returns at most this many bytes: the newest records
 * whose text plus LOGS_RECORD_OVERHEAD each fit (the reply's framing, so
 * that many tiny lines cannot blow up the message). Older ones are left out. */
#define LOGS_REPLY_MAX (16 * 1024 * 1024)
#define LOGS_RECORD_OVERHEAD 32
/* A record joined from P parts is cut at this length. */
#define LOGS_RECORD_MAX (1024 * 1024)

/* Copy @len bytes of @s, each byte that is not part of valid UTF-8 (and
 * each NUL, which D-Bus strings cannot carry) replaced by U+FFFD. */
char *utf8_sanitize(const char *s, size_t len);

typedef struct LogRecord {
        uint64_t timestamp_usec;
        bool is_stderr;
        char *text;     /* valid UTF-8 */
        size_t len;
} LogRecord;

/* Read CRI log lines from @fd, join partial records, keep the last @tail
 * records (0 = all) within LOGS_REPLY_MAX bytes. Malformed lines
 * are skipped. */
int logs_read(int fd, uint64_t tail, LogRecord **ret, size_t *ret_n);
/* The same over several files read in order as one log (a P record may
 * continue in the next file); takes every fd. */
int logs_read_fds(int *fds, size_t n_fds, uint64_t tail, LogRecord **ret, size_t *ret_n);
/* The same over @name and its rotated files in @dir_fd, oldest first. */
int logs_read_dir(int dir_fd, const char *name, uint64_t tail, LogRecord **ret, size_t *ret_n);
void log_records_free(LogRecord *l, size_t n);
