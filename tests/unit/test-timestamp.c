/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* format_rfc3339_nano(): Go's RFC3339Nano, trailing zeros and all. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "timestamp.h"

static void expect(time_t sec, long nsec, const char *want) {
        struct timespec ts = { .tv_sec = sec, .tv_nsec = nsec };
        char buf[64];

        assert_int_equal(format_rfc3339_nano(&ts, buf, sizeof buf), 0);
        assert_string_equal(buf, want);
}

static void test_trailing_zeros(void **state) {
        expect(1795962600, 123456789, "2026-11-29T14:30:00.123456789Z");
        expect(1795962600, 123450000, "2026-11-29T14:30:00.12345Z");   /* what Go writes; not .123450000 */
        expect(1795962600, 100000000, "2026-11-29T14:30:00.1Z");
        expect(1795962600, 1, "2026-11-29T14:30:00.000000001Z");
        expect(1795962600, 0, "2026-11-29T14:30:00Z");                /* a whole second: no fraction */
        expect(0, 0, "1970-01-01T00:00:00Z");
}

static void test_refused(void **state) {
        struct timespec ts = { .tv_sec = 1795962600, .tv_nsec = 1000000000L };
        char buf[64];

        assert_int_equal(format_rfc3339_nano(&ts, buf, sizeof buf), -EINVAL);
        ts.tv_nsec = -1;
        assert_int_equal(format_rfc3339_nano(&ts, buf, sizeof buf), -EINVAL);
        ts.tv_nsec = 5;
        assert_int_equal(format_rfc3339_nano(&ts, buf, 20), -ENOBUFS);
        assert_int_equal(format_rfc3339_nano(&ts, buf, 31), 0);
        assert_string_equal(buf, "2026-11-29T14:30:00.000000005Z");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_trailing_zeros),
                cmocka_unit_test(test_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
