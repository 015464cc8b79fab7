/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The puller's credential file parser (Docker config.json "auths"). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "workers/puller/auth-file.h"

static void check(const char *text, const char *host, int want, const char *user, const char *password) {
        char *u = NULL, *p = NULL, *e = NULL;
        int r = auth_file_parse(text, host, &u, &p, &e);

        if (r != want)
                fail_msg("host %s: got %d (%s), wanted %d", host, r, e ? e : "", want);
        if (want == 0) {
                assert_string_equal(u, user);
                assert_string_equal(p, password);
        } else {
                assert_null(u);
                assert_null(p);
        }
        if (want == -EBADMSG)
                assert_non_null(e);
        free(u);
        free(p);
        free(e);
}

static void test_auth_base64(void **state) {
        /* "zltest:zl-secret-pass", "a:b:c" (colons after the first belong to the password) */
        static const char text[] =
                "{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"emx0ZXN0OnpsLXNlY3JldC1wYXNz\"},"
                "\"https://Registry.Example.com/v1/\":{\"auth\":\"YTpiOmM=\"},"
                "\"http://plain.example:8080\":{\"username\":\"u\",\"password\":\"\"}}}";

        check(text, "127.0.0.1:5000", 0, "zltest", "zl-secret-pass");
        check(text, "registry.example.com", 0, "a", "b:c");
        check(text, "plain.example:8080", 0, "u", "");
        check(text, "127.0.0.1:5001", -ENOENT, NULL, NULL);
        check(text, "127.0.0.1", -ENOENT, NULL, NULL);
        check(text, "example.com", -ENOENT, NULL, NULL);
}

static void test_docker_hub_aliases(void **state) {
        static const char text[] = "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"aHViOnNlY3JldA==\"}}}";

        check(text, "docker.io", 0, "hub", "secret");
        check(text, "registry-1.docker.io", 0, "hub", "secret");
        check(text, "quay.io", -ENOENT, NULL, NULL);
}

static void test_malformed(void **state) {
        check("", "h", -EBADMSG, NULL, NULL);
        check("[1]", "h", -EBADMSG, NULL, NULL);
        check("{\"auths\":[]}", "h", -EBADMSG, NULL, NULL);
        check("{}", "h", -ENOENT, NULL, NULL);
        check("{\"credsStore\":\"desktop\"}", "h", -ENOENT, NULL, NULL);
        check("{\"auths\":{\"h\":1}}", "h", -EBADMSG, NULL, NULL);
        check("{\"auths\":{\"h\":{}}}", "h", -EBADMSG, NULL, NULL);
        check("{\"auths\":{\"h\":{\"auth\":\"!!!!\"}}}", "h", -EBADMSG, NULL, NULL);
        check("{\"auths\":{\"h\":{\"auth\":\"abc\"}}}", "h", -EBADMSG, NULL, NULL);      /* not a multiple of 4 */
        check("{\"auths\":{\"h\":{\"auth\":\"bm9jb2xvbg==\"}}}", "h", -EBADMSG, NULL, NULL); /* "nocolon" */
        check("{\"auths\":{\"h\":{\"auth\":\"OnB3\"}}}", "h", -EBADMSG, NULL, NULL);     /* ":pw", no user */
        /* other hosts' bad entries do not matter */
        check("{\"auths\":{\"x\":1,\"h\":{\"auth\":\"dTpw\"}}}", "h", 0, "u", "p");
}

static void test_lookup_file(void **state) {
        char path[] = "/tmp/test-auth-file-XXXXXX", *u = NULL, *p = NULL, *e = NULL;
        static const char text[] = "{\"auths\":{\"h:1\":{\"auth\":\"dTpw\"}}}";
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
        assert_int_equal(auth_file_lookup(path, "h:1", &u, &p, &e), 0);
        assert_string_equal(u, "u");
        assert_string_equal(p, "p");
        free(u);
        free(p);
        unlink(path);
        u = p = NULL;
        assert_int_equal(auth_file_lookup(path, "h:1", &u, &p, &e), -ENOENT);
        assert_int_equal(auth_file_lookup(NULL, "h:1", &u, &p, &e), -ENOENT);
        assert_null(u);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_auth_base64),
                cmocka_unit_test(test_docker_hub_aliases),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_lookup_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
