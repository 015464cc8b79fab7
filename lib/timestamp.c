/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "timestamp.h"

int format_rfc3339_nano(const struct timespec *ts, char *buf, size_t size) {
        char frac[24] = "";   /* ".%09ld" of a value < 10^9: 10 bytes; sized for any long to please -Wformat-truncation */
        struct tm tm;
        int n;

        if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L || !gmtime_r(&ts->tv_sec, &tm))
                return -EINVAL;
        if (ts->tv_nsec > 0) {
                size_t len;
                snprintf(frac, sizeof frac, ".%09ld", ts->tv_nsec);
                len = strlen(frac);
                while (frac[len - 1] == '0')
                        frac[--len] = 0;
        }
        n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
        if (n < 0 || (size_t) n >= size)
                return -ENOBUFS;
        return 0;
}
