/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "zlayerd/backoff.h"

#define MS 1000ULL
#define S (1000ULL * MS)

static void test_first_restart_is_100ms(void **state) {
        Backoff b = {};
        assert_int_equal(backoff_next(&b, 0), 100 * MS);
        assert_false(backoff_at_max(&b));
}

static void test_doubles_up_to_10s(void **state) {
        static const uint64_t expected[] = {
                100 * MS, 200 * MS, 400 * MS, 800 * MS, 1600 * MS, 3200 * MS, 6400 * MS, 10 * S, 10 * S, 10 * S,
        };
        Backoff b = {};

        for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
                assert_int_equal(backoff_next(&b, 50 * MS), expected[i]);
                assert_int_equal(backoff_at_max(&b), expected[i] == 10 * S);
        }
}

static void test_keeps_retrying_at_max(void **state) {
        Backoff b = {};

        for (int i = 0; i < 1000; i++)
                assert_true(backoff_next(&b, 1 * S) <= 10 * S);
        assert_int_equal(backoff_next(&b, 1 * S), 10 * S);
        assert_true(backoff_at_max(&b));
}

static void test_resets_after_30s_uptime(void **state) {
        Backoff b = {};

        for (int i = 0; i < 10; i++)
                (void) backoff_next(&b, 10 * MS);
        assert_true(backoff_at_max(&b));

        /* Just under the threshold is still a crash loop. */
        assert_int_equal(backoff_next(&b, 30 * S - 1), 10 * S);
        /* 30 s of uptime: healthy, start over. */
        assert_int_equal(backoff_next(&b, 30 * S), 100 * MS);
        assert_false(backoff_at_max(&b));
        assert_int_equal(backoff_next(&b, 0), 200 * MS);
        assert_int_equal(backoff_next(&b, 5 * 60 * S), 100 * MS);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_first_restart_is_100ms),
                cmocka_unit_test(test_doubles_up_to_10s),
                cmocka_unit_test(test_keeps_retrying_at_max),
                cmocka_unit_test(test_resets_after_30s_uptime),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
