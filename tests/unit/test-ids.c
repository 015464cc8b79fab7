/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "digest.h"
#include "ids.h"

static void test_service_names(void **state) {
        assert_true(service_name_is_valid("web"));
        assert_true(service_name_is_valid("a"));
        assert_true(service_name_is_valid("web-1"));
        assert_false(service_name_is_valid(""));
        assert_false(service_name_is_valid("-web"));
        assert_false(service_name_is_valid("web-"));
        assert_false(service_name_is_valid("Web"));
        assert_false(service_name_is_valid("we_b"));
        assert_false(service_name_is_valid("a234567890123456789012345678901234567890123456789012345678901234"));
        assert_true(service_name_is_valid("a23456789012345678901234567890123456789012345678901234567890123"));
}

static void test_container_ids(void **state) {
        char buf[256];

        assert_int_equal(container_id_format("web", 3, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "web-rep-3");
        assert_true(container_id_is_valid(buf));
        assert_int_equal(container_id_format("Bad", 3, buf, sizeof(buf)), -EINVAL);
        assert_false(container_id_is_valid("../etc"));
        assert_false(container_id_is_valid("a/b"));
        assert_false(container_id_is_valid(".hidden"));
}

static void test_digests(void **state) {
        char out[72];

        /* sha256 of the empty string */
        assert_int_equal(sha256_digest("", 0, out), 0);
        assert_string_equal(out, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_true(digest_is_valid(out));
        assert_false(digest_is_valid("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
        assert_false(digest_is_valid("sha512:e3b0"));

        /* chain id of a single layer is its diff id; of two, sha256("a b") */
        char chain[72], expect[72], buf[160];
        const char *a = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        const char *b = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
        assert_int_equal(chain_id_next(NULL, a, chain), 0);
        assert_string_equal(chain, a);
        assert_int_equal(chain_id_next(a, b, chain), 0);
        snprintf(buf, sizeof(buf), "%s %s", a, b);
        assert_int_equal(sha256_digest(buf, strlen(buf), expect), 0);
        assert_string_equal(chain, expect);
        assert_int_equal(chain_id_next(a, "bogus", chain), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_service_names),
                cmocka_unit_test(test_container_ids),
                cmocka_unit_test(test_digests),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
