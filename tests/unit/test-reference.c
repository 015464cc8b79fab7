/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "reference.h"

#define HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void check_normalize(const char *in, const char *expected) {
        char *out = NULL;

        assert_int_equal(image_reference_normalize(in, &out), 0);
        assert_non_null(out);
        if (strcmp(out, expected) != 0)
                fail_msg("%s normalized to %s, expected %s", in, out, expected);
        /* Normalizing is idempotent. */
        char *again = NULL;
        assert_int_equal(image_reference_normalize(out, &again), 0);
        assert_string_equal(again, out);
        free(again);
        free(out);
}

static void test_normalize_table(void **state) {
        static const struct { const char *in, *out; } table[] = {
                { "busybox", "docker.io/library/busybox:latest" },
                { "busybox:1.36", "docker.io/library/busybox:1.36" },
                { "user/app:1", "docker.io/user/app:1" },
                { "docker.io/busybox", "docker.io/library/busybox:latest" },
                { "index.docker.io/library/alpine:3", "docker.io/library/alpine:3" },
                { "127.0.0.1:5000/bb", "127.0.0.1:5000/bb:latest" },
                { "127.0.0.1:5000/a/b/c:v1.0-rc_2", "127.0.0.1:5000/a/b/c:v1.0-rc_2" },
                { "localhost/x@sha256:" HEX, "localhost/x@sha256:" HEX },
                { "localhost:5000/x:t@sha256:" HEX, "localhost:5000/x:t@sha256:" HEX },
                { "quay.io/org/img", "quay.io/org/img:latest" },
                { "[::1]:5000/img:tag", "[::1]:5000/img:tag" },
                { "busybox@sha256:" HEX, "docker.io/library/busybox@sha256:" HEX },
                { "a__b/c--d/e.f_g", "docker.io/a__b/c--d/e.f_g:latest" },
                { "localhost/x:_tag", "localhost/x:_tag" },
        };

        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
                check_normalize(table[i].in, table[i].out);
}

static void test_components(void **state) {
        ImageReference *r = NULL;

        assert_int_equal(image_reference_parse("127.0.0.1:5000/bb", &r), 0);
        assert_string_equal(r->registry, "127.0.0.1:5000");
        assert_string_equal(r->repository, "bb");
        assert_string_equal(r->tag, "latest");
        assert_null(r->digest);
        image_reference_free(r);

        assert_int_equal(image_reference_parse("localhost/x@sha256:" HEX, &r), 0);
        assert_string_equal(r->registry, "localhost");
        assert_string_equal(r->repository, "x");
        assert_null(r->tag);
        assert_string_equal(r->digest, "sha256:" HEX);
        image_reference_free(r);

        /* "localhost" alone is a repository name, not a registry. */
        assert_int_equal(image_reference_parse("localhost", &r), 0);
        assert_string_equal(r->registry, "docker.io");
        assert_string_equal(r->repository, "library/localhost");
        image_reference_free(r);

        /* A first component without '.', ':' or "localhost" is a namespace. */
        assert_int_equal(image_reference_parse("myhost/app", &r), 0);
        assert_string_equal(r->registry, "docker.io");
        assert_string_equal(r->repository, "myhost/app");
        image_reference_free(r);
}

static void test_invalid(void **state) {
        static const char *bad[] = {
                "",
                "Busybox",                          /* uppercase repository */
                "busybox:",                         /* empty tag */
                "busybox:-x",                       /* tag starts with '-' */
                "busybox:a/b",                      /* '/' after tag colon splits wrongly */
                "busybox@sha256:abc",               /* short digest */
                "busybox@sha256:" HEX "0",          /* long digest */
                "busybox@md5:" HEX,
                "busybox@",
                "/busybox",
                "busybox/",
                "a//b",
                "-a/b",
                "a./b",
                "a_.b",
                "a___b",
                "127.0.0.1:0/x",                    /* port 0 */
                "127.0.0.1:99999/x",
                "127.0.0.1:/x",
                "-bad.host/x",
                "bad_host.io/x",
                "[::1/x",
                "[zz]:5000/x",
                "x y",
                "x\n",
                "x@sha256:" HEX "@sha256:" HEX,
        };
        ImageReference *r = NULL;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int k = image_reference_parse(bad[i], &r);
                if (k != -EINVAL)
                        fail_msg("\"%s\" parsed as valid (%d)", bad[i], k);
        }
        assert_int_equal(image_reference_parse(NULL, &r), -EINVAL);

        /* 128 characters is the longest tag. */
        char tag[200] = "busybox:";
        memset(tag + 8, 'a', 128);
        tag[8 + 128] = 0;
        assert_int_equal(image_reference_parse(tag, &r), 0);
        image_reference_free(r);
        tag[8 + 128] = 'a';
        tag[8 + 129] = 0;
        assert_int_equal(image_reference_parse(tag, &r), -EINVAL);
}

static void test_loopback(void **state) {
        assert_true(registry_host_is_loopback("127.0.0.1"));
        assert_true(registry_host_is_loopback("127.0.0.1:5000"));
        assert_true(registry_host_is_loopback("127.1.2.3:80"));
        assert_true(registry_host_is_loopback("localhost"));
        assert_true(registry_host_is_loopback("localhost:5000"));
        assert_true(registry_host_is_loopback("LOCALHOST:5000"));
        assert_true(registry_host_is_loopback("[::1]"));
        assert_true(registry_host_is_loopback("[::1]:5000"));
        assert_true(registry_host_is_loopback("::1"));

        assert_false(registry_host_is_loopback(NULL));
        assert_false(registry_host_is_loopback(""));
        assert_false(registry_host_is_loopback("docker.io"));
        assert_false(registry_host_is_loopback("128.0.0.1:5000"));
        assert_false(registry_host_is_loopback("10.0.0.1"));
        assert_false(registry_host_is_loopback("127.0.0.1.example.com"));
        assert_false(registry_host_is_loopback("localhost.example.com:5000"));
        assert_false(registry_host_is_loopback("[::2]:5000"));
        assert_false(registry_host_is_loopback("127.0.0.1:abc"));
        assert_false(registry_host_is_loopback("[::1"));
}

static void test_to_string(void **state) {
        ImageReference r = { .registry = (char *) "h:1", .repository = (char *) "r" };

        assert_null(image_reference_to_string(&r)); /* neither tag nor digest */
        assert_null(image_reference_to_string(NULL));
        r.tag = (char *) "t";
        char *s = image_reference_to_string(&r);
        assert_string_equal(s, "h:1/r:t");
        free(s);
        assert_null(image_reference_free(NULL));
}

/* Found by fuzz/fuzz-reference: a long reference whose normalized form (with
 * ":latest" or "docker.io/library/" added) was longer than the parser's cap on
 * its input, so normalizing it again failed. */
static void test_normalize_long(void **state) {
        char in[600], host[256];

        /* The longest host: four labels of 63 characters (255 in all). */
        memset(host, 'h', 255);
        host[63] = host[127] = host[191] = '.';
        host[255] = 0;
        /* host/ + 207 = 463 characters; ":latest" makes 470. */
        snprintf(in, sizeof(in), "%s/%0207d", host, 0);
        assert_int_equal(strlen(in), 463);
        char *expected;
        assert_true(asprintf(&expected, "%s:latest", in) > 0);
        check_normalize(in, expected);
        free(expected);

        /* The same host and a 255-character repository, the longest tag and a
         * digest: the longest reference there is. */
        char *longest;
        assert_true(asprintf(&longest, "%s/%0255d:%0128d@sha256:%s", host, 0, 0, HEX) > 0);
        check_normalize(longest, longest);
        longest[strlen(longest) - 1] = 0;   /* a digest one short is refused */
        ImageReference *r = NULL;
        assert_int_equal(image_reference_parse(longest, &r), -EINVAL);
        free(longest);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_normalize_table),
                cmocka_unit_test(test_components),
                cmocka_unit_test(test_invalid),
                cmocka_unit_test(test_loopback),
                cmocka_unit_test(test_to_string),
                cmocka_unit_test(test_normalize_long),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
