/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CRI log lines: "<RFC3339Nano UTC> <stdout|stderr> <P|F> <text>\n"
 * e.g. "2026-11-29T04:43:57.123456789Z stdout F hello". */

#define CRILOG_MAX_RECORD (16 * 1024)

typedef struct CriLogEntry {
        uint64_t timestamp_usec; /* µs since the epoch */
        bool is_stderr;
        bool partial;            /* P tag: the record continues on the next line */
        const char *text;        /* points into the parsed line, not NUL-terminated */
        size_t text_len;
} CriLogEntry;

/* Format the timestamp of @nsec (ns since the epoch) into @buf (≥ 40 bytes). */
int crilog_format_time(uint64_t nsec, char *buf, size_t size);

/* Bytes that crilog_format_record() produces for a record of @len bytes
 * with a timestamp of @ts_len bytes (every P part included). */
size_t crilog_record_size(size_t ts_len, size_t len);
/* Format one record as one or more lines (split at CRILOG_MAX_RECORD into P
 * parts) into @dst, which holds crilog_record_size() bytes; @ts comes from
 * crilog_format_time(). Returns the bytes written. The shim formats every
 * record of one read() like this into one buffer and writes it at once. */
size_t crilog_format_record(char *dst, const char *ts, size_t ts_len, bool is_stderr, const char *text, size_t len,
                            bool partial);

/* Write one record as one or more lines (split at CRILOG_MAX_RECORD into P
 * parts) to @fd; @text excludes the trailing newline. */
int crilog_write(int fd, uint64_t nsec, bool is_stderr, const char *text, size_t len, bool partial);

/* Parse one line (without its '\n'); -EBADMSG when malformed. */
int crilog_parse_line(const char *line, size_t len, CriLogEntry *ret);
