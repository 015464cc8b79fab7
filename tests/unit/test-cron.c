/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "cron.h"
#include "macro.h"

/* "YYYY-MM-DD HH:MM" UTC → epoch seconds */
static time_t at(const char *s) {
        struct tm tm = {};
        assert_non_null(strptime(s, "%Y-%m-%d %H:%M", &tm));
        return timegm(&tm);
}

static void check_next(const char *expr, const char *after, const char *want) {
        CronSpec spec;
        char *err = NULL, got[32];
        time_t t;
        struct tm tm;

        if (cron_parse(expr, &spec, &err) < 0)
                fail_msg("'%s' refused: %s", expr, err);
        assert_int_equal(cron_next(&spec, at(after), &t), 0);
        gmtime_r(&t, &tm);
        strftime(got, sizeof(got), "%Y-%m-%d %H:%M", &tm);
        if (strcmp(got, want) != 0)
                fail_msg("'%s' after %s: got %s, wanted %s", expr, after, got, want);
}

static void test_next_basic(void **state) {
        check_next("* * * * *", "2026-11-29 10:59", "2026-11-29 11:00");
        check_next("*/15 * * * *", "2026-11-29 10:59", "2026-11-29 11:00");
        check_next("*/15 * * * *", "2026-11-29 11:00", "2026-11-29 11:15");
        check_next("5 4 * * *", "2026-11-29 04:05", "2026-11-30 04:05");
        check_next("5 4 * * *", "2026-11-29 04:04", "2026-11-29 04:05");
        check_next("0 0 1 1 *", "2026-06-15 12:00", "2027-01-01 00:00");
        check_next("@hourly", "2026-11-29 10:30", "2026-11-29 11:00");
        check_next("@DAILY", "2026-12-31 23:59", "2027-01-01 00:00");
        check_next("@weekly", "2026-11-29 00:00", "2026-12-06 00:00");    /* 29 Nov 2026 is a Sunday */
        check_next("@monthly", "2026-12-15 00:00", "2027-01-01 00:00");
}

static void test_next_seconds_ignored(void **state) {
        CronSpec spec;
        time_t t;

        /* strictly after: 10:59:30 → 11:00, 11:00:00 → 11:01 */
        assert_int_equal(cron_parse("* * * * *", &spec, NULL), 0);
        assert_int_equal(cron_next(&spec, at("2026-11-29 10:59") + 30, &t), 0);
        assert_int_equal(t, at("2026-11-29 11:00"));
        assert_int_equal(cron_next(&spec, at("2026-11-29 11:00"), &t), 0);
        assert_int_equal(t, at("2026-11-29 11:01"));
}

static void test_next_lists_ranges_steps(void **state) {
        check_next("0,30 9-17 * * *", "2026-11-29 17:30", "2026-11-30 09:00");
        check_next("0,30 9-17 * * *", "2026-11-29 09:10", "2026-11-29 09:30");
        check_next("10-50/20 * * * *", "2026-11-29 10:31", "2026-11-29 10:50");
        check_next("10-50/20 * * * *", "2026-11-29 10:50", "2026-11-29 11:10");
        check_next("7/20 * * * *", "2026-11-29 10:48", "2026-11-29 11:07");  /* 7,27,47 */
        check_next("0 */6 * * *", "2026-11-29 06:00", "2026-11-29 12:00");
        check_next("59 23 31 12 *", "2026-01-01 00:00", "2026-12-31 23:59");
}

static void test_next_names(void **state) {
        check_next("0 12 * jan-mar mon-fri", "2026-03-31 12:00", "2027-01-01 12:00"); /* a Friday */
        check_next("0 12 * * SAT", "2026-11-29 00:00", "2026-12-05 12:00");
        check_next("0 0 1 Feb *", "2026-11-29 00:00", "2027-02-01 00:00");
        check_next("0 0 * * 7", "2026-11-30 00:00", "2026-12-06 00:00");    /* 7 is Sunday */
        check_next("0 0 * * 0", "2026-11-30 00:00", "2026-12-06 00:00");
}

static void test_next_dom_dow_or(void **state) {
        /* both restricted: the 13th OR a Friday */
        check_next("0 0 13 * 5", "2026-11-29 00:00", "2026-12-04 00:00");  /* Friday 4 Dec */
        check_next("0 0 13 * 5", "2026-12-11 00:00", "2026-12-13 00:00");  /* Sunday 13th */
        /* dow '*': the 13th only; dom '*': Fridays only */
        check_next("0 0 13 * *", "2026-11-29 00:00", "2026-12-13 00:00");
        check_next("0 0 * * 5", "2026-12-04 00:00", "2026-12-11 00:00");
        /* a '*' step counts as '*' (Vixie cron): every other day of month AND Mondays */
        check_next("0 0 */2 * 1", "2026-11-29 00:00", "2026-12-07 00:00");  /* Mon 30 Nov is even → 7 Dec (odd) */
}

static void test_next_leap_and_never(void **state) {
        CronSpec spec;
        time_t t;

        check_next("0 0 29 2 *", "2026-01-01 00:00", "2028-02-29 00:00");
        check_next("0 0 29 2 *", "2096-03-01 00:00", "2104-02-29 00:00");  /* 2100 is not a leap year */
        check_next("0 0 31 * *", "2026-04-01 00:00", "2026-05-31 00:00");
        assert_int_equal(cron_parse("0 0 30 2 *", &spec, NULL), 0);
        assert_int_equal(cron_next(&spec, at("2026-01-01 00:00"), &t), -ENOENT);
        /* but 30 Feb OR a Monday does run */
        check_next("0 0 30 2 1", "2026-11-29 00:00", "2027-02-01 00:00");
}

static void test_parse_invalid(void **state) {
        static const struct {
                const char *expr, *word;
        } t[] = {
                { "", "0 fields" },
                { "* * * *", "4 fields" },
                { "* * * * * *", "more than 5" },
                { "60 * * * *", "minute '60'" },
                { "* 24 * * *", "hour '24'" },
                { "* * 0 * *", "day of month '0'" },
                { "* * 32 * *", "day of month" },
                { "* * * 13 *", "month '13'" },
                { "* * * * 8", "day of week '8'" },
                { "5-1 * * * *", "backwards" },
                { "*/0 * * * *", "bad step" },
                { "*/ * * * *", "bad step" },
                { "1,,2 * * * *", "not a value" },
                { "a * * * *", "not a value" },
                { "* * * foo *", "not a value" },
                { "* * * * mon-", "bad range end" },
                { "1;2 * * * *", "unexpected ';'" },
                { "1234 * * * *", "not a value" },
                { "@every 5m", "unknown macro" },
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                CronSpec spec;
                char *err = NULL;
                int r = cron_parse(t[i].expr, &spec, &err);
                if (r != -EINVAL || !err || !strstr(err, t[i].word))
                        fail_msg("'%s': r=%d error '%s', wanted one naming '%s'", t[i].expr, r, err ? err : "(null)",
                                 t[i].word);
                free(err);
        }
        char longer[400];
        memset(longer, '1', sizeof(longer) - 1);
        longer[sizeof(longer) - 1] = 0;
        assert_int_equal(cron_parse(longer, &(CronSpec) {}, NULL), -EINVAL);
}

static void test_parse_bits(void **state) {
        CronSpec s;

        assert_int_equal(cron_parse("0-59/30 1,2 1-31/10 jan,DEC sun,7", &s, NULL), 0);
        assert_int_equal(s.minutes, (UINT64_C(1) << 0) | (UINT64_C(1) << 30));
        assert_int_equal(s.hours, 0x6);
        assert_int_equal(s.days, (1u << 1) | (1u << 11) | (1u << 21) | (1u << 31));
        assert_int_equal(s.months, (1u << 1) | (1u << 12));
        assert_int_equal(s.weekdays, 1);
        assert_false(s.dom_star);
        assert_false(s.dow_star);
        assert_int_equal(cron_parse("\t*  *\t* * *", &s, NULL), 0);
        assert_int_equal(s.minutes, (UINT64_C(1) << 60) - 1);
        assert_int_equal(s.weekdays, 0x7f);
        assert_true(s.dom_star && s.dow_star);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_next_basic),
                cmocka_unit_test(test_next_seconds_ignored),
                cmocka_unit_test(test_next_lists_ranges_steps),
                cmocka_unit_test(test_next_names),
                cmocka_unit_test(test_next_dom_dow_or),
                cmocka_unit_test(test_next_leap_and_never),
                cmocka_unit_test(test_parse_invalid),
                cmocka_unit_test(test_parse_bits),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
