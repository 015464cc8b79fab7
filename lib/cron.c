/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cron expressions for `rtype: cron` (lib/cron.h). Parsed by hand: there is
 * no cron library in Debian's C ecosystem worth a dependency, and the
 * grammar is one screen. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cron.h"
#include "macro.h"

typedef struct CronField {
        const char *name;
        unsigned min, max;
        const char *const *names;  /* names[i] is the value min + i */
} CronField;

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun",
                                           "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const weekday_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const CronField fields[5] = {
        { "minute", 0, 59, NULL },
        { "hour", 0, 23, NULL },
        { "day of month", 1, 31, NULL },
        { "month", 1, 12, month_names },
        { "day of week", 0, 7, weekday_names },  /* 7 = Sunday too */
};

static const struct {
        const char *macro, *expr;
} macros[] = {
        { "@yearly", "0 0 1 1 *" },  { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
        { "@weekly", "0 0 * * 0" },  { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
        { "@hourly", "0 * * * *" },
};

static int fail(char **ret_error, const char *fmt, ...) {
        va_list ap;

        if (ret_error) {
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return -EINVAL;
}

/* A number or a name at *p; advances *p. */
static int parse_value(const CronField *f, const char **p, unsigned *ret) {
        const char *s = *p;
        unsigned long v = 0;
        size_t n = 0;

        if (f->names)
                for (size_t i = 0; f->names[i]; i++)
                        if (strncasecmp(s, f->names[i], 3) == 0) {
                                *ret = f->min + i;
                                *p = s + 3;
                                return 0;
                        }
        while (s[n] >= '0' && s[n] <= '9' && n < 3)
                v = v * 10 + (unsigned) (s[n++] - '0');
        if (n == 0 || (s[n] >= '0' && s[n] <= '9'))
                return -EINVAL;
        *ret = (unsigned) v;
        *p = s + n;
        return 0;
}

static int parse_field(const CronField *f, const char *text, uint64_t *ret, bool *ret_star, char **ret_error) {
        uint64_t bits = 0;
        const char *p = text;

        *ret_star = *p == '*';
        for (;;) {
                unsigned lo, hi, step = 1;
                const char *item = p;

                if (*p == '*') {
                        lo = f->min, hi = f->max;
                        p++;
                } else {
                        if (parse_value(f, &p, &lo) < 0)
                                return fail(ret_error, "%s '%s': '%s' is not a value", f->name, text, item);
                        hi = lo;
                        if (*p == '-') {
                                p++;
                                if (parse_value(f, &p, &hi) < 0)
                                        return fail(ret_error, "%s '%s': bad range end in '%s'", f->name, text, item);
                        } else if (*p == '/')
                                hi = f->max;  /* a/n: from a to the end */
                }
                if (*p == '/') {
                        unsigned long s = 0;
                        size_t n = 0;
                        p++;
                        while (p[n] >= '0' && p[n] <= '9' && n < 3)
                                s = s * 10 + (unsigned) (p[n++] - '0');
                        if (n == 0 || s == 0 || s > f->max || (p[n] >= '0' && p[n] <= '9'))
                                return fail(ret_error, "%s '%s': bad step in '%s'", f->name, text, item);
                        step = (unsigned) s;
                        p += n;
                }
                if (*p != ',' && *p != '\0')
                        return fail(ret_error, "%s '%s': unexpected '%c'", f->name, text, *p);
                if (lo < f->min || hi > f->max)
                        return fail(ret_error, "%s '%s': out of range %u-%u", f->name, text, f->min, f->max);
                if (lo > hi)
                        return fail(ret_error, "%s '%s': range %u-%u goes backwards", f->name, text, lo, hi);
                for (unsigned v = lo; v <= hi; v += step)
                        bits |= UINT64_C(1) << v;
                if (*p == '\0')
                        break;
                p++;
        }
        *ret = bits;
        return 0;
}

int cron_parse(const char *expr, CronSpec *ret, char **ret_error) {
        char buf[CRON_EXPR_MAX], *words[6] = {}, *save = NULL;
        uint64_t bits[5];
        bool star[5];
        size_t n = 0;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!expr || strlen(expr) >= sizeof(buf))
                return fail(ret_error, "longer than %d characters", CRON_EXPR_MAX - 1);
        if (expr[0] == '@') {
                for (size_t i = 0; i < ELEMENTSOF(macros); i++)
                        if (strcasecmp(expr, macros[i].macro) == 0)
                                return cron_parse(macros[i].expr, ret, ret_error);
                return fail(ret_error, "unknown macro '%s'", expr);
        }
        snprintf(buf, sizeof(buf), "%s", expr);
        for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                if (n == ELEMENTSOF(words) - 1)
                        return fail(ret_error, "more than 5 fields (minute hour day-of-month month day-of-week)");
                words[n++] = w;
        }
        if (n != 5)
                return fail(ret_error, "%zu fields, wanted 5 (minute hour day-of-month month day-of-week)", n);
        for (size_t i = 0; i < 5; i++) {
                r = parse_field(&fields[i], words[i], &bits[i], &star[i], ret_error);
                if (r < 0)
                        return r;
        }
        *ret = (CronSpec) {
                .minutes = bits[0],
                .hours = (uint32_t) bits[1],
                .days = (uint32_t) bits[2],
                .months = (uint16_t) bits[3],
                /* 7 is Sunday too */
                .weekdays = (uint8_t) ((bits[4] | (bits[4] >> 7)) & 0x7f),
                .dom_star = star[2],
                .dow_star = star[4],
        };
        return 0;
}

static bool day_matches(const CronSpec *s, const struct tm *tm) {
        bool dom = s->days & (UINT32_C(1) << tm->tm_mday), dow = s->weekdays & (1u << tm->tm_wday);

        if (!(s->months & (1u << (tm->tm_mon + 1))))
                return false;
        /* Vixie cron: a field starting with '*' makes it AND, else OR */
        if (s->dom_star || s->dow_star)
                return dom && dow;
        return dom || dow;
}

int cron_next(const CronSpec *spec, time_t after, time_t *ret) {
        struct tm tm;
        time_t t;

        /* the next whole minute strictly after @after */
        t = after - (after % 60 + 60) % 60 + 60;
        if (!gmtime_r(&t, &tm))
                return -EOVERFLOW;
        /* 8 years: past any run of years without a 29 February (2100) */
        for (unsigned day = 0; day < 366 * 8 + 2; day++) {
                if (day_matches(spec, &tm))
                        for (int h = tm.tm_hour; h < 24; h++) {
                                if (!(spec->hours & (UINT32_C(1) << h)))
                                        continue;
                                for (int m = h == tm.tm_hour ? tm.tm_min : 0; m < 60; m++)
                                        if (spec->minutes & (UINT64_C(1) << m)) {
                                                tm.tm_hour = h;
                                                tm.tm_min = m;
                                                tm.tm_sec = 0;
                                                *ret = timegm(&tm);
                                                return 0;
                                        }
                        }
                /* the next day at 00:00 */
                tm.tm_mday++;
                tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
                if (timegm(&tm) == (time_t) -1)
                        return -EOVERFLOW;
        }
        return -ENOENT;
}
