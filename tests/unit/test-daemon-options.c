/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "daemon-options.h"
#include "macro.h"

static void test_max_concurrent_ops(void **state) {
        static const char *const bad[] = { "", "0", "-1", "65537", "4294967297", "12x", " 5", "0x10" };
        unsigned v = 0;

        assert_int_equal(parse_max_concurrent_ops("1", &v), 0);
        assert_int_equal(v, 1);
        assert_int_equal(parse_max_concurrent_ops("65536", &v), 0);
        assert_int_equal(v, 65536);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                v = 7;
                if (parse_max_concurrent_ops(bad[i], &v) != -EINVAL || v != 7)
                        fail_msg("'%s' accepted", bad[i]);
        }
}

static void test_option_default_and_given(void **state) {
        char *def[] = { (char *) "zlayer-broker", NULL };
        char *given[] = { (char *) "zlayer-broker", (char *) "--max-concurrent-ops=3", NULL };
        char *zero[] = { (char *) "zlayer-broker", (char *) "--max-concurrent-ops=0", NULL };
        DaemonOptions o;

        assert_int_equal(daemon_options_parse(&o, 1, def, ""), 0);
        assert_int_equal(o.max_concurrent_ops, ZL_DEFAULT_MAX_CONCURRENT_OPS);
        assert_int_equal(daemon_options_parse(&o, 2, given, ""), 0);
        assert_int_equal(o.max_concurrent_ops, 3);
        assert_int_equal(daemon_options_parse(&o, 2, zero, ""), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_max_concurrent_ops),
                cmocka_unit_test(test_option_default_and_given),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
