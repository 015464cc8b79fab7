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

/* Write one record as one or more lines (split at CRILOG_MAX_RECORD into P
 * parts) to @fd; @text excludes the trailing newline. */
int crilog_write(int fd, uint64_t nsec, bool is_stderr, const char *text, size_t len, bool partial);

/* Parse one line (without its '\n'); -EBADMSG when malformed. */
int crilog_parse_line(const char *line, size_t len, CriLogEntry *ret);
