/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parts of the registry client that need no server; the HTTP side is
 * covered by test-puller-link against docker-registry. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "workers/puller/registry.h"

static void check_challenge(const char *header, const char *realm, const char *service, const char *scope) {
        char *r = NULL, *sv = NULL, *sc = NULL;

        if (registry_parse_bearer_challenge(header, &r, &sv, &sc) != 0)
                fail_msg("failed to parse %s", header);
        assert_string_equal(r, realm);
        if (service)
                assert_string_equal(sv, service);
        else
                assert_null(sv);
        if (scope)
                assert_string_equal(sc, scope);
        else
                assert_null(sc);
        free(r);
        free(sv);
        free(sc);
}

static void test_bearer_challenge(void **state) {
        char *r = NULL, *sv = NULL, *sc = NULL;

        check_challenge("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                        "scope=\"repository:library/busybox:pull\"",
                        "https://auth.docker.io/token", "registry.docker.io", "repository:library/busybox:pull");
        /* Commas inside quotes, unquoted values, spaces, case of the scheme and keys. */
        check_challenge("bearer Realm=\"http://h/t\", scope=\"repository:a:pull,push\", service=reg",
                        "http://h/t", "reg", "repository:a:pull,push");
        check_challenge("Bearer realm=\"http://h/t\"", "http://h/t", NULL, NULL);
        check_challenge("Bearer error=\"insufficient_scope\",realm=\"http://h/t\"", "http://h/t", NULL, NULL);

        static const char *bad[] = {
                "Basic realm=\"x\"",
                "Bearer",
                "Bearerrealm=\"x\"",
                "Bearer service=\"s\"",              /* no realm */
                "Bearer realm=\"unterminated",
                "Bearer realm",
                "Bearer =x",
                "Bearer realm=\"\"",
                "Bearer averyveryveryveryveryverylongkeyname=\"x\",realm=\"y\"",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (registry_parse_bearer_challenge(bad[i], &r, &sv, &sc) != -EINVAL)
                        fail_msg("\"%s\" accepted", bad[i]);
        assert_int_equal(registry_parse_bearer_challenge(NULL, &r, &sv, &sc), -EINVAL);
}

static void test_buffer_sink(void **state) {
        RegistryBuffer b = { .max = 8 };

        assert_int_equal(registry_buffer_sink("abcd", 4, &b), 0);
        assert_int_equal(registry_buffer_sink("efgh", 4, &b), 0);
        assert_int_equal(b.len, 8);
        assert_string_equal(b.data, "abcdefgh");
        assert_int_equal(registry_buffer_sink("i", 1, &b), -EFBIG);
        assert_int_equal(b.len, 8);
        registry_buffer_done(&b);
        assert_null(b.data);
        assert_int_equal(b.len, 0);

        b.max = (size_t) -1;
        assert_int_equal(registry_buffer_sink("x", 1, &b), 0);
        assert_int_equal(registry_buffer_sink("y", (size_t) -1, &b), -EFBIG); /* no overflow */
        registry_buffer_done(&b);
}

static void test_new(void **state) {
        Registry *r = NULL;

        assert_int_equal(registry_new("127.0.0.1:5000", "x", NULL, NULL, false, NULL, &r), 0);
        assert_string_equal(registry_host(r), "127.0.0.1:5000");
        registry_free(r);
        assert_int_equal(registry_new("quay.io", "a/b", "u", "p", true, NULL, &r), 0);
        registry_free(r);
        assert_null(registry_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bearer_challenge),
                cmocka_unit_test(test_buffer_sink),
                cmocka_unit_test(test_new),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
