/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "lib/macro.h"
#include "lib/rlimits.h"

static void test_names(void **state) {
        assert_int_equal(rlimit_from_name("nofile"), RLIMIT_NOFILE);
        assert_int_equal(rlimit_from_name("stack"), RLIMIT_STACK);
        assert_int_equal(rlimit_from_name("NOFILE"), -EINVAL); /* Docker's names are lower case */
        assert_int_equal(rlimit_from_name("nofiles"), -EINVAL);
        assert_int_equal(rlimit_from_name(NULL), -EINVAL);
        assert_string_equal(rlimit_canonical_name("core"), "core");
        assert_null(rlimit_canonical_name("bogus"));
}

/* A hard limit above the current one is clamped (no CAP_SYS_RESOURCE
 * needed), the soft one follows it down. */
static void test_apply_clamped(void **state) {
        struct rlimit before, after;

        assert_int_equal(getrlimit(RLIMIT_CORE, &before), 0);
        assert_int_equal(rlimit_apply_clamped(RLIMIT_CORE, UINT64_MAX, UINT64_MAX), 0);
        assert_int_equal(getrlimit(RLIMIT_CORE, &after), 0);
        assert_true(after.rlim_max == before.rlim_max);
        assert_true(after.rlim_cur == before.rlim_max);

        assert_int_equal(rlimit_apply_clamped(RLIMIT_CORE, 0, UINT64_MAX), 0);
        assert_int_equal(getrlimit(RLIMIT_CORE, &after), 0);
        assert_true(after.rlim_cur == 0);
        assert_true(after.rlim_max == before.rlim_max);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_apply_clamped),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
