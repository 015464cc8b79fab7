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

/* "<ts> <stream> <P|F> " + text + "\n" */
#define LINE_OVERHEAD(ts_len) ((ts_len) + 1 + 6 + 1 + 1 + 1 + 1)

size_t crilog_record_size(size_t ts_len, size_t len) {
        size_t parts = len == 0 ? 1 : (len + CRILOG_MAX_RECORD - 1) / CRILOG_MAX_RECORD;
        return len + parts * LINE_OVERHEAD(ts_len);
}

static char *format_line(char *p, const char *ts, size_t ts_len, bool is_stderr, const char *text, size_t len,
                         bool partial) {
        memcpy(p, ts, ts_len);
        p += ts_len;
        memcpy(p, is_stderr ? " stderr " : " stdout ", 8);
        p += 8;
        *p++ = partial ? 'P' : 'F';
        *p++ = ' ';
        if (len > 0)
                memcpy(p, text, len);
        p += len;
        *p++ = '\n';
        return p;
}

size_t crilog_format_record(char *dst, const char *ts, size_t ts_len, bool is_stderr, const char *text, size_t len,
                            bool partial) {
        char *p = dst;

        do {
                size_t chunk = MIN(len, (size_t) CRILOG_MAX_RECORD);
                bool last = chunk == len;
                p = format_line(p, ts, ts_len, is_stderr, text, chunk, last ? partial : true);
                text += chunk;
                len -= chunk;
        } while (len > 0);
        return (size_t) (p - dst);
}

int crilog_write(int fd, uint64_t nsec, bool is_stderr, const char *text, size_t len, bool partial) {
        _cleanup_free_ char *buf = NULL;
        char ts[40];
        size_t size;
        int n;

        if (fd < 0 || (!text && len > 0))
                return -EINVAL;

        n = crilog_format_time(nsec, ts, sizeof(ts));
        if (n < 0)
                return n;
        /* One write() per record, so that concurrent appenders (O_APPEND)
         * never interleave inside it. */
        size = crilog_record_size((size_t) n, len);
        buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        return loop_write(fd, buf, crilog_format_record(buf, ts, (size_t) n, is_stderr, text, len, partial));
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
