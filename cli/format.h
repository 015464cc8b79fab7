/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Human output for tables, the way docker prints it. */

/* "Less than a second", "3 minutes", "About an hour", "2 weeks" (docker's
 * units.HumanDuration) for a duration in microseconds. */
const char *format_duration_human(uint64_t usec, char *buf, size_t size);
/* "3 minutes ago" for a time in µs since the epoch relative to @now_usec;
 * "" when @usec is 0 (unknown). */
const char *format_time_ago(uint64_t usec, uint64_t now_usec, char *buf, size_t size);
/* "4.26MB": SI units, four significant digits (docker's units.HumanSize). */
const char *format_size_human(uint64_t bytes, char *buf, size_t size);
/* "2026-11-29T05:36:34.123456Z" (RFC 3339, UTC, microseconds); "" for 0. */
const char *format_timestamp(uint64_t usec, char *buf, size_t size);
uint64_t now_usec(void);

/* docker's --since/--until values: RFC 3339 ("2026-11-29T05:36:34Z",
 * optional fraction), unix seconds ("1764000000", optional fraction), or a
 * duration before @now ("10m", "1h30m"). µs since the epoch; -EINVAL. */
int parse_time_arg(const char *s, uint64_t now, uint64_t *ret_usec);
