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

static void test_search_registry_add(void **state) {
        static const char *const bad[] = { "", "http://r.example", "r.example/x", "r.example:0", "r.example:65536",
                                           "-r.example", "r_x.example", "::1", "[::1", "r.example:5000:1" };
        static const char *const good[] = { "r.example", "127.0.0.1:5000", "localhost", "[::1]:5000", "Reg.Example:443" };
        const char *list[ZL_SEARCH_REGISTRIES_MAX] = {};
        char names[ZL_SEARCH_REGISTRIES_MAX + 1][32];
        unsigned n = 0;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (search_registry_add(list, &n, bad[i]) != -EINVAL || n != 0)
                        fail_msg("'%s' accepted", bad[i]);
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_int_equal(search_registry_add(list, &n, good[i]), 0);
        assert_int_equal(n, ELEMENTSOF(good));
        assert_string_equal(list[1], "127.0.0.1:5000");
        assert_int_equal(search_registry_add(list, &n, "reg.example:443"), -EEXIST);
        for (unsigned i = n; i < ZL_SEARCH_REGISTRIES_MAX; i++) {
                snprintf(names[i], sizeof(names[i]), "r%u.example", i);
                assert_int_equal(search_registry_add(list, &n, names[i]), 0);
        }
        assert_int_equal(n, ZL_SEARCH_REGISTRIES_MAX);
        assert_int_equal(search_registry_add(list, &n, "one.more.example"), -E2BIG);
        assert_int_equal(n, ZL_SEARCH_REGISTRIES_MAX);
        assert_string_equal(list[ZL_SEARCH_REGISTRIES_MAX - 1], names[ZL_SEARCH_REGISTRIES_MAX - 1]);
}

static void test_search_registry_option(void **state) {
        char *none[] = { (char *) "zlayer-broker", NULL };
        char *two[] = { (char *) "zlayer-broker", (char *) "--search-registry=b.example",
                        (char *) "--search-registry", (char *) "127.0.0.1:5000", NULL };
        char *bad[] = { (char *) "zlayer-broker", (char *) "--search-registry=https://b.example", NULL };
        DaemonOptions o;

        assert_int_equal(daemon_options_parse(&o, 1, none, ""), 0);
        assert_int_equal(o.n_search_registries, 0);
        assert_int_equal(daemon_options_parse(&o, 4, two, ""), 0);
        assert_int_equal(o.n_search_registries, 2);
        assert_string_equal(o.search_registries[0], "b.example");
        assert_string_equal(o.search_registries[1], "127.0.0.1:5000");
        assert_int_equal(daemon_options_parse(&o, 2, bad, ""), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_max_concurrent_ops),
                cmocka_unit_test(test_option_default_and_given),
                cmocka_unit_test(test_search_registry_add),
                cmocka_unit_test(test_search_registry_option),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
