/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* workers/puller/catalog.c: the /v2/_catalog page and its Link header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "catalog.h"
#include "macro.h"

static void test_parse_page(void **state) {
        char **repos = NULL;
        size_t n = 0;

        assert_int_equal(catalog_parse_page("{\"repositories\":[\"a/b\",\"busybox\"]}", &repos, &n), 0);
        assert_int_equal(catalog_parse_page("{\"repositories\":[\"c\"]}", &repos, &n), 0);
        assert_int_equal(n, 3);
        assert_string_equal(repos[0], "a/b");
        assert_string_equal(repos[2], "c");
        assert_null(repos[3]);
        /* an empty registry answers null */
        assert_int_equal(catalog_parse_page("{\"repositories\":null}", &repos, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(catalog_parse_page("{\"repositories\":[1]}", &repos, &n), -EBADMSG);
        assert_int_equal(catalog_parse_page("{\"repos\":[]}", &repos, &n), -EBADMSG);
        assert_int_equal(catalog_parse_page("not json", &repos, &n), -EBADMSG);
        assert_int_equal(catalog_parse_page("[\"x\"]", &repos, &n), -EBADMSG);
        strv_free(repos);
}

static void test_parse_page_limit(void **state) {
        char **repos = NULL, *json, *p;
        size_t n = 0, count = CATALOG_MAX_REPOSITORIES + 5;

        json = malloc(count * 8 + 64);
        assert_non_null(json);
        p = json + sprintf(json, "{\"repositories\":[");
        for (size_t i = 0; i < count; i++)
                p += sprintf(p, "%s\"r%zu\"", i ? "," : "", i);
        strcpy(p, "]}");
        assert_int_equal(catalog_parse_page(json, &repos, &n), 0);
        assert_int_equal(n, CATALOG_MAX_REPOSITORIES);
        free(json);
        strv_free(repos);
}

static void test_parse_link(void **state) {
        char *next = NULL;

        assert_int_equal(catalog_parse_link(" </v2/_catalog?last=b&n=2>; rel=\"next\"\r\n", &next), 0);
        assert_string_equal(next, "/v2/_catalog?last=b&n=2");
        free(next);
        /* an absolute URL: only its path, never another host */
        assert_int_equal(catalog_parse_link("<https://evil.example/v2/_catalog?last=b>; rel=\"next\"", &next), 0);
        assert_string_equal(next, "/v2/_catalog?last=b");
        free(next);
        assert_int_equal(catalog_parse_link("</v2/_catalog?last=b>; rel=\"prev\"", &next), -ENOENT);
        assert_int_equal(catalog_parse_link("</v2/other?last=b>; rel=\"next\"", &next), -ENOENT);
        assert_int_equal(catalog_parse_link("no link", &next), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_page),
                cmocka_unit_test(test_parse_page_limit),
                cmocka_unit_test(test_parse_link),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
