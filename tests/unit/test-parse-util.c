/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "macro.h"
#include "parse-util.h"

static void test_size_valid(void **state) {
        static const struct {
                const char *s;
                uint64_t v;
        } t[] = {
                { "0", 0 },
                { "1000000", 1000000 },
                { "512k", 512000 },
                { "512K", 512000 },
                { "1kB", 1000 },
                { "64Mi", 64ULL << 20 },
                { "64MiB", 64ULL << 20 },
                { "1Gi", 1ULL << 30 },
                { "1G", 1000000000ULL },
                { "1.5Gi", 3ULL << 29 },
                { "0.5Ki", 512 },
                { ".5Ki", 512 },
                { "1.0001Ki", 1024 },           /* 1024.1024 rounded down */
                { "10B", 10 },
                { "15Ei", 15ULL << 60 },
                { "18446744073709551615", UINT64_MAX },
                { "0Gi", 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                uint64_t v = 42;
                int r = parse_size(t[i].s, &v);
                if (r != 0 || v != t[i].v)
                        fail_msg("parse_size(\"%s\") = %d, %llu; expected %llu", t[i].s, r,
                                 (unsigned long long) v, (unsigned long long) t[i].v);
        }
}

static void test_size_invalid(void **state) {
        static const struct {
                const char *s;
                int r;
        } t[] = {
                { "", -EINVAL },
                { "12Q", -EINVAL },
                { "-1", -EINVAL },
                { "-1Gi", -EINVAL },
                { "1.5", -EINVAL },             /* fraction of a byte */
                { "1.", -EINVAL },
                { ".", -EINVAL },
                { "Gi", -EINVAL },
                { " 1Gi", -EINVAL },
                { "1Gi ", -EINVAL },
                { "1 Gi", -EINVAL },
                { "1gi", -EINVAL },
                { "1Gib", -EINVAL },
                { "0x10", -EINVAL },
                { "18446744073709551616", -ERANGE },
                { "16Ei", -ERANGE },
                { "99999999999999999999999Ki", -ERANGE },
                { "17179869184Gi", -ERANGE },   /* 2^34 * 2^30 */
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                uint64_t v = 42;
                int r = parse_size(t[i].s, &v);
                if (r != t[i].r)
                        fail_msg("parse_size(\"%s\") = %d, expected %d", t[i].s, r, t[i].r);
                assert_int_equal(v, 42); /* untouched on error */
        }
        assert_int_equal(parse_size(NULL, &(uint64_t) {0}), -EINVAL);
}

static void test_duration_valid(void **state) {
        static const struct {
                const char *s;
                uint64_t usec;
        } t[] = {
                { "0", 0 },
                { "0s", 0 },
                { "10s", 10 * USEC_PER_SEC },
                { "500ms", 500 * USEC_PER_MSEC },
                { "1m30s", 90 * USEC_PER_SEC },
                { "1h", 3600 * USEC_PER_SEC },
                { "2d", 2 * 86400 * USEC_PER_SEC },
                { "1.5s", 1500 * USEC_PER_MSEC },
                { "1h1m1s1ms1us", 3661001001ULL },
                { "250us", 250 },
                { "250\xc2\xb5s", 250 },
                { "1500ns", 1 },                /* rounded down */
                { "999ns", 0 },
                { "0.5m", 30 * USEC_PER_SEC },
                { "213503d", 213503ULL * 86400 * USEC_PER_SEC }, /* ~584 years of ns fit */
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                uint64_t v = 42;
                int r = parse_duration(t[i].s, &v);
                if (r != 0 || v != t[i].usec)
                        fail_msg("parse_duration(\"%s\") = %d, %llu; expected %llu", t[i].s, r,
                                 (unsigned long long) v, (unsigned long long) t[i].usec);
        }
}

static void test_duration_invalid(void **state) {
        static const struct {
                const char *s;
                int r;
        } t[] = {
                { "", -EINVAL },
                { "10", -EINVAL },              /* unit required */
                { "10x", -EINVAL },
                { "10sec", -EINVAL },
                { "s", -EINVAL },
                { "-1s", -EINVAL },
                { "1m 30s", -EINVAL },
                { "1.s", -EINVAL },
                { "10s5", -EINVAL },
                { "213504d", -ERANGE },
                { "99999999999999999999s", -ERANGE },
                { "18446744073709551615h", -ERANGE },
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                uint64_t v = 42;
                int r = parse_duration(t[i].s, &v);
                if (r != t[i].r)
                        fail_msg("parse_duration(\"%s\") = %d, expected %d", t[i].s, r, t[i].r);
                assert_int_equal(v, 42);
        }
}

static void test_capabilities(void **state) {
        static const struct {
                const char *in, *out;
        } ok[] = {
                { "net_admin", "CAP_NET_ADMIN" },
                { "NET_ADMIN", "CAP_NET_ADMIN" },
                { "CAP_NET_ADMIN", "CAP_NET_ADMIN" },
                { "cap_sys_ptrace", "CAP_SYS_PTRACE" },
                { "chown", "CAP_CHOWN" },
                { "all", "ALL" },
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                _cleanup_free_ char *n = NULL;
                assert_int_equal(capability_normalize(ok[i].in, &n), 0);
                assert_string_equal(n, ok[i].out);
        }
        char *n = NULL;
        assert_int_equal(capability_normalize("CAP_FLY", &n), -EINVAL);
        assert_int_equal(capability_normalize("", &n), -EINVAL);
        assert_int_equal(capability_normalize("CAP_", &n), -EINVAL);
        assert_int_equal(capability_normalize("NET ADMIN", &n), -EINVAL);
        assert_null(n);

        _cleanup_strv_free_ char **all = NULL;
        assert_int_equal(capability_list_all(&all), 0);
        assert_true(strv_length(all) >= 38); /* every kernel since 3.16 */
        assert_string_equal(all[0], "CAP_CHOWN");
        assert_string_equal(all[12], "CAP_NET_ADMIN");
}

static void test_signals(void **state) {
        static const struct {
                const char *in, *out;
        } ok[] = {
                { "TERM", "SIGTERM" },
                { "sigterm", "SIGTERM" },
                { "SIGQUIT", "SIGQUIT" },
                { "15", "SIGTERM" },
                { "9", "SIGKILL" },
                { "SIGRTMIN+3", "SIGRTMIN+3" },
                { "RTMIN", "SIGRTMIN+0" },
                { "SIGWINCH", "SIGWINCH" },
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                _cleanup_free_ char *n = NULL;
                if (signal_normalize(ok[i].in, &n) != 0 || !streq(n, ok[i].out))
                        fail_msg("signal_normalize(\"%s\") = %s, expected %s", ok[i].in, strempty(n), ok[i].out);
        }
        static const char *const bad[] = { "", "SIGFOO", "0", "-1", "999", "SIGRTMIN+99", "SIGRTMIN-1", "15x", "SIG" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *n = NULL;
                if (signal_normalize(bad[i], &n) != -EINVAL)
                        fail_msg("signal_normalize(\"%s\") accepted", bad[i]);
                assert_null(n);
        }
}

static void test_hostname(void **state) {
        assert_true(hostname_is_valid("web-rep-1"));
        assert_true(hostname_is_valid("a.b.c"));
        assert_true(hostname_is_valid("A1"));
        assert_true(hostname_is_valid("a23456789012345678901234567890123456789012345678901234567890123"));
        assert_false(hostname_is_valid("a234567890123456789012345678901234567890123456789012345678901234"));
        assert_false(hostname_is_valid(""));
        assert_false(hostname_is_valid("-a"));
        assert_false(hostname_is_valid("a-"));
        assert_false(hostname_is_valid("a..b"));
        assert_false(hostname_is_valid("a.-b"));
        assert_false(hostname_is_valid(".a"));
        assert_false(hostname_is_valid("a."));
        assert_false(hostname_is_valid("a_b"));
        assert_false(hostname_is_valid("a b"));
}

static void test_user_spec(void **state) {
        static const char *const ok[] = { "0", "1000:1000", "nobody", "www-data:www-data", "app:0", "0:app",
                                          "a.b_c", "4294967294" };
        static const char *const bad[] = { "", ":", "1000:", ":1000", "a:b:c", "-x", "x y", "a/b",
                                           "4294967295", "99999999999", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++)
                if (!user_spec_is_valid(ok[i]))
                        fail_msg("user '%s' rejected", ok[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (user_spec_is_valid(bad[i]))
                        fail_msg("user '%s' accepted", bad[i]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_size_valid),
                cmocka_unit_test(test_size_invalid),
                cmocka_unit_test(test_duration_valid),
                cmocka_unit_test(test_duration_invalid),
                cmocka_unit_test(test_capabilities),
                cmocka_unit_test(test_signals),
                cmocka_unit_test(test_hostname),
                cmocka_unit_test(test_user_spec),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
