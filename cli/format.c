/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "macro.h"
#include "parse-util.h"

uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

const char *format_duration_human(uint64_t usec, char *buf, size_t size) {
        uint64_t seconds = usec / USEC_PER_SEC, minutes = seconds / 60;
        uint64_t hours = (usec + 1800 * USEC_PER_SEC) / (3600 * USEC_PER_SEC);   /* rounded, as docker */

        if (seconds < 1)
                snprintf(buf, size, "Less than a second");
        else if (seconds == 1)
                snprintf(buf, size, "1 second");
        else if (seconds < 60)
                snprintf(buf, size, "%" PRIu64 " seconds", seconds);
        else if (minutes == 1)
                snprintf(buf, size, "About a minute");
        else if (minutes < 60)
                snprintf(buf, size, "%" PRIu64 " minutes", minutes);
        else if (hours == 1)
                snprintf(buf, size, "About an hour");
        else if (hours < 48)
                snprintf(buf, size, "%" PRIu64 " hours", hours);
        else if (hours < 24 * 7 * 2)
                snprintf(buf, size, "%" PRIu64 " days", hours / 24);
        else if (hours < 24 * 30 * 2)
                snprintf(buf, size, "%" PRIu64 " weeks", hours / 24 / 7);
        else if (hours < 24 * 365 * 2)
                snprintf(buf, size, "%" PRIu64 " months", hours / 24 / 30);
        else
                snprintf(buf, size, "%" PRIu64 " years", hours / 24 / 365);
        return buf;
}

const char *format_time_ago(uint64_t usec, uint64_t now, char *buf, size_t size) {
        char d[64];

        if (usec == 0) {
                snprintf(buf, size, "%s", "");
                return buf;
        }
        snprintf(buf, size, "%s ago", format_duration_human(now > usec ? now - usec : 0, d, sizeof d));
        return buf;
}

const char *format_size_human(uint64_t bytes, char *buf, size_t size) {
        static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
        double v = (double) bytes;
        size_t i = 0;

        while (v >= 1000.0 && i + 1 < ELEMENTSOF(units)) {
                v /= 1000.0;
                i++;
        }
        snprintf(buf, size, "%.4g%s", v, units[i]);
        return buf;
}

const char *format_timestamp(uint64_t usec, char *buf, size_t size) {
        time_t sec = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;
        char base[32];

        if (usec == 0 || !gmtime_r(&sec, &tm) || strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
                snprintf(buf, size, "%s", "");
                return buf;
        }
        snprintf(buf, size, "%s.%06" PRIu64 "Z", base, (uint64_t) (usec % USEC_PER_SEC));
        return buf;
}

/* Fraction digits after a '.', as microseconds. */
static int parse_fraction_usec(const char *s, const char **end, uint64_t *ret) {
        uint64_t v = 0, scale = 100000;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++) {
                v += (uint64_t) (*s - '0') * scale;
                scale /= 10;
        }
        *end = s;
        *ret = v;
        return 0;
}

int parse_time_arg(const char *s, uint64_t now, uint64_t *ret_usec) {
        const char *p;
        uint64_t frac = 0, d;
        struct tm tm = {};
        char *end;

        if (isempty(s))
                return -EINVAL;
        /* unix seconds, optional fraction */
        if (strspn(s, "0123456789") > 0 && (s[strspn(s, "0123456789")] == 0 || s[strspn(s, "0123456789")] == '.')) {
                unsigned long long sec;
                errno = 0;
                sec = strtoull(s, &end, 10);
                if (errno)
                        return -ERANGE;
                if (*end == '.' && (parse_fraction_usec(end + 1, &p, &frac) < 0 || *p))
                        return -EINVAL;
                *ret_usec = (uint64_t) sec * USEC_PER_SEC + frac;
                return 0;
        }
        /* RFC 3339 in UTC ("Z") */
        p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (p) {
                time_t t;
                if (*p == '.' && parse_fraction_usec(p + 1, &p, &frac) < 0)
                        return -EINVAL;
                if (!streq(p, "Z"))
                        return -EINVAL;
                t = timegm(&tm);
                if (t < 0)
                        return -EINVAL;
                *ret_usec = (uint64_t) t * USEC_PER_SEC + frac;
                return 0;
        }
        if (parse_duration(s, &d) < 0)
                return -EINVAL;
        *ret_usec = d < now ? now - d : 0;
        return 0;
}
