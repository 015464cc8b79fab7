/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <time.h>

#include "crilog.h"
#include "fileio.h"
#include "macro.h"

#define NSEC_PER_SEC 1000000000ULL

int crilog_format_time(uint64_t nsec, char *buf, size_t size) {
        time_t sec = (time_t) (nsec / NSEC_PER_SEC);
        struct tm tm;
        int n;

        if (!gmtime_r(&sec, &tm))
                return -EINVAL;
        n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (unsigned long long) (nsec % NSEC_PER_SEC));
        if (n < 0 || (size_t) n >= size)
                return -ENOBUFS;
        return n;
}

static int write_one_line(int fd, const char *ts, size_t ts_len, bool is_stderr,
                          const char *text, size_t len, bool partial) {
        const char *stream = is_stderr ? "stderr" : "stdout";
        size_t stream_len = 6; /* "stdout" and "stderr" */
        /* One write() per line, so that concurrent appenders (O_APPEND) never
         * interleave inside a line. */
        size_t total = ts_len + 1 + stream_len + 1 + 1 + 1 + len + 1;
        _cleanup_free_ char *line = malloc(total);
        char *p;

        if (!line)
                return -ENOMEM;
        p = line;
        memcpy(p, ts, ts_len);
        p += ts_len;
        *p++ = ' ';
        memcpy(p, stream, stream_len);
        p += stream_len;
        *p++ = ' ';
        *p++ = partial ? 'P' : 'F';
        *p++ = ' ';
        if (len > 0)
                memcpy(p, text, len);
        p += len;
        *p++ = '\n';
        return loop_write(fd, line, total);
}

int crilog_write(int fd, uint64_t nsec, bool is_stderr, const char *text, size_t len, bool partial) {
        char ts[40];
        int n, r;

        if (fd < 0 || (!text && len > 0))
                return -EINVAL;

        n = crilog_format_time(nsec, ts, sizeof(ts));
        if (n < 0)
                return n;

        do {
                size_t chunk = MIN(len, (size_t) CRILOG_MAX_RECORD);
                bool last = chunk == len;
                r = write_one_line(fd, ts, (size_t) n, is_stderr, text, chunk, last ? partial : true);
                if (r < 0)
                        return r;
                text += chunk;
                len -= chunk;
        } while (len > 0);
        return 0;
}

static int parse_digits(const char *s, size_t n, int *ret) {
        int v = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EBADMSG;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return 0;
}

/* "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z"; returns the length consumed. */
static int parse_timestamp(const char *s, size_t len, uint64_t *ret_usec) {
        int year, mon, day, hour, min, sec;
        uint64_t frac_ns = 0;
        size_t i;
        struct tm tm = {};
        time_t t;

        if (len < 20)
                return -EBADMSG;
        if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
                return -EBADMSG;
        if (parse_digits(s, 4, &year) < 0 || parse_digits(s + 5, 2, &mon) < 0 ||
            parse_digits(s + 8, 2, &day) < 0 || parse_digits(s + 11, 2, &hour) < 0 ||
            parse_digits(s + 14, 2, &min) < 0 || parse_digits(s + 17, 2, &sec) < 0)
                return -EBADMSG;
        if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 ||
            hour > 23 || min > 59 || sec > 60)
                return -EBADMSG;

        i = 19;
        if (s[i] == '.') {
                size_t digits = 0;
                uint64_t scale = 100000000ULL;
                i++;
                while (i < len && s[i] >= '0' && s[i] <= '9') {
                        if (++digits > 9)
                                return -EBADMSG;
                        frac_ns += (uint64_t) (s[i] - '0') * scale;
                        scale /= 10;
                        i++;
                }
                if (digits == 0)
                        return -EBADMSG;
        }
        if (i >= len || s[i] != 'Z')
                return -EBADMSG;
        i++;

        tm.tm_year = year - 1900;
        tm.tm_mon = mon - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = min;
        tm.tm_sec = sec;
        t = timegm(&tm);
        if (t == (time_t) -1 || tm.tm_mday != day) /* 2026-02-31 normalizes away */
                return -EBADMSG;

        *ret_usec = (uint64_t) t * USEC_PER_SEC + frac_ns / NSEC_PER_USEC;
        return (int) i;
}

int crilog_parse_line(const char *line, size_t len, CriLogEntry *ret) {
        CriLogEntry e = {};
        size_t i;
        int n;

        if (!line || !ret)
                return -EINVAL;
        if (len > 0 && line[len - 1] == '\n')
                return -EBADMSG; /* caller strips the newline; one line only */

        n = parse_timestamp(line, len, &e.timestamp_usec);
        if (n < 0)
                return n;
        i = (size_t) n;

        if (len - i < 1 + 6 + 1 + 1 + 1 || line[i] != ' ')
                return -EBADMSG;
        i++;
        if (memcmp(line + i, "stdout", 6) == 0)
                e.is_stderr = false;
        else if (memcmp(line + i, "stderr", 6) == 0)
                e.is_stderr = true;
        else
                return -EBADMSG;
        i += 6;
        if (line[i] != ' ')
                return -EBADMSG;
        i++;
        if (line[i] == 'P')
                e.partial = true;
        else if (line[i] == 'F')
                e.partial = false;
        else
                return -EBADMSG;
        i++;
        if (line[i] != ' ')
                return -EBADMSG;
        i++;

        e.text = line + i;
        e.text_len = len - i;
        if (memchr(e.text, '\n', e.text_len))
                return -EBADMSG;
        *ret = e;
        return 0;
}
