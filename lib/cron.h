/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* A standard 5-field cron expression (crontab(5) of Vixie cron):
 *   minute hour day-of-month month day-of-week
 * each field `*`, a number, a range `a-b`, a step `*\/n` or `a-b/n` or
 * `a/n` (a to the end), and comma lists of those; months JAN-DEC and
 * weekdays SUN-SAT by name (any case; 0 and 7 are Sunday); the macros
 * @yearly @annually @monthly @weekly @daily @midnight @hourly. When both
 * day fields are restricted (neither starts with `*`) a day matches if
 * EITHER matches (the dom/dow OR rule); otherwise both must. Times are UTC. */
typedef struct CronSpec {
        uint64_t minutes;   /* bit 0..59 */
        uint32_t hours;     /* bit 0..23 */
        uint32_t days;      /* bit 1..31 */
        uint16_t months;    /* bit 1..12 */
        uint8_t weekdays;   /* bit 0..6, 0 = Sunday */
        bool dom_star, dow_star;
} CronSpec;

#define CRON_EXPR_MAX 256

/* 0, or -EINVAL with *ret_error (malloc'ed, may be NULL) saying what is wrong. */
int cron_parse(const char *expr, CronSpec *ret, char **ret_error);
/* The first matching minute strictly after @after (seconds since the epoch,
 * UTC) into *ret; -ENOENT when nothing matches within 8 years (31 Feb). */
int cron_next(const CronSpec *spec, time_t after, time_t *ret);
