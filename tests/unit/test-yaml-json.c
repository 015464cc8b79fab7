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
#include "yaml-json.h"

static json_object *load_ok(const char *yaml) {
        _cleanup_free_ char *err = NULL;
        json_object *o = NULL;
        int r = yaml_to_json(yaml, strlen(yaml), &o, &err);
        if (r < 0)
                fail_msg("yaml_to_json(%s) = %d: %s", yaml, r, strempty(err));
        return o;
}

/* Loads "v: <scalar>" and compares the value's JSON text. */
static void check_scalar(const char *scalar, const char *expect_json) {
        _cleanup_free_ char *doc = NULL;
        json_object *o, *v;

        assert_true(asprintf(&doc, "v: %s\n", scalar) > 0);
        o = load_ok(doc);
        assert_true(json_object_object_get_ex(o, "v", &v));
        const char *got = v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "null";
        if (!streq(got, expect_json))
                fail_msg("scalar %s → %s, expected %s", scalar, got, expect_json);
        /* whatever the YAML spelling, the result is valid JSON */
        json_object *back = json_tokener_parse(got);
        if (!back && !streq(got, "null"))
                fail_msg("scalar %s → %s, which is not valid JSON", scalar, got);
        json_object_put(back);
        json_object_put(o);
}

static void test_scalar_typing(void **state) {
        check_scalar("true", "true");
        check_scalar("False", "false");
        check_scalar("TRUE", "true");
        check_scalar("yes", "\"yes\"");         /* YAML 1.2: not a bool (no Norway problem) */
        check_scalar("no", "\"no\"");
        check_scalar("NO", "\"NO\"");
        check_scalar("null", "null");
        check_scalar("~", "null");
        check_scalar("", "null");
        check_scalar("42", "42");
        check_scalar("-7", "-7");
        check_scalar("+7", "7");
        check_scalar("0o17", "15");
        check_scalar("0x1F", "31");
        check_scalar("9223372036854775807", "9223372036854775807");
        check_scalar("-9223372036854775808", "-9223372036854775808");
        check_scalar("0.5", "0.5");
        check_scalar("1.10", "1.10");           /* text kept */
        check_scalar("1e3", "1e3");
        /* YAML floats that are not JSON numbers must still serialize as valid JSON */
        check_scalar(".05", "0.05");
        check_scalar("+1.5", "1.5");
        check_scalar("1.", "1.0");
        check_scalar("-.5e1", "-0.5e1");
        check_scalar("00.5", "0.5");
        check_scalar("-0.0", "-0.0");
        check_scalar("1.e5", "1.0e5");
        check_scalar("01.5", "1.5");
        check_scalar("64Mi", "\"64Mi\"");
        check_scalar("1m30s", "\"1m30s\"");
        check_scalar("'true'", "\"true\"");
        check_scalar("\"42\"", "\"42\"");
        check_scalar("'null'", "\"null\"");
        check_scalar("!!str 42", "\"42\"");
        check_scalar("!!int \"42\"", "42");
        check_scalar("!!float 1", "1.0");
        check_scalar("! 42", "\"42\"");
        check_scalar("1.2.3", "\"1.2.3\"");
        check_scalar("0x", "\"0x\"");
        check_scalar("12:30", "\"12:30\"");
        check_scalar("\"caf\\u00e9\"", "\"caf\xc3\xa9\"");
}

static void test_structure(void **state) {
        const char *doc =
                "a:\n"
                "  - 1\n"
                "  - [x, 'y']\n"
                "  - {k: v}\n"
                "b: |\n"
                "  line1\n"
                "  line2\n"
                "c: {}\n"
                "d: []\n"
                "...\n";
        json_object *o = load_ok(doc);
        assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                            "{\"a\":[1,[\"x\",\"y\"],{\"k\":\"v\"}],\"b\":\"line1\\nline2\\n\",\"c\":{},\"d\":[]}");
        json_object_put(o);

        /* keys keep document order */
        o = load_ok("z: 1\na: 2\nm: 3\n");
        assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), "{\"z\":1,\"a\":2,\"m\":3}");
        json_object_put(o);

        /* empty stream → null, not an error */
        json_object *n = (json_object *) 0x1;
        assert_int_equal(yaml_to_json("", 0, &n, NULL), 0);
        assert_null(n);
        n = (json_object *) 0x1;
        assert_int_equal(yaml_to_json("# only a comment\n", 17, &n, NULL), 0);
        assert_null(n);

        /* a top-level scalar is allowed by the converter */
        o = load_ok("hello");
        assert_string_equal(json_object_get_string(o), "hello");
        json_object_put(o);
}

static void check_error(const char *doc, size_t len, int expect_r, const char *expect_substr) {
        _cleanup_free_ char *err = NULL;
        json_object *o = NULL;
        int r = yaml_to_json(doc, len, &o, &err);
        if (r != expect_r)
                fail_msg("yaml_to_json(%.40s…) = %d (%s), expected %d", doc, r, strempty(err), expect_r);
        assert_null(o);
        if (!err || !strstr(err, expect_substr))
                fail_msg("error '%s' does not contain '%s'", strempty(err), expect_substr);
}

static void test_rejects(void **state) {
        static const struct {
                const char *doc, *msg;
        } t[] = {
                { "a: &x 1\nb: *x\n", "anchors are not allowed" },
                { "a: *x\n", "aliases are not allowed" },       /* parser reports undefined alias or our error */
                { "a: &anchor [1, 2]\n", "anchors are not allowed ('&anchor')" },
                { "a: 1\na: 2\n", "line 2 column 1: duplicate key 'a'" },
                { "? [a]\n: 1\n", "mapping keys must be scalars" },
                { "a: 1\n---\nb: 2\n", "more than one document" },
                { "a: !!binary aGVsbG8=\n", "unsupported tag" },
                { "a: !custom x\n", "unsupported tag" },
                { "a: !!int abc\n", "'abc' is not an integer" },
                { "a: !!bool yes\n", "'yes' is not a bool" },
                { "a: !!map [1]\n", "unsupported tag" },
                { "a: 99999999999999999999\n", "out of range" },
                { "a: .inf\n", "non-finite" },
                { "a: .nan\n", "non-finite" },
                { "a: [1, 2\n", "line" },
                { "a: 'unterminated\n", "line" },
                { "\ta: 1\n", "line 1" },
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_free_ char *err = NULL;
                json_object *o = NULL;
                int r = yaml_to_json(t[i].doc, strlen(t[i].doc), &o, &err);
                if (r != -EINVAL || o || !err)
                        fail_msg("'%s' → %d, err %s", t[i].doc, r, strempty(err));
                /* the alias case may be caught by libyaml itself ("undefined alias") */
                if (!strstr(err, t[i].msg) && !(strstr(t[i].doc, "*x") && strstr(err, "alias")))
                        fail_msg("'%s': error '%s' lacks '%s'", t[i].doc, err, t[i].msg);
        }
        check_error("a: 1\x00b: 2\n", 10, -EINVAL, "");
}

static void test_depth_limit(void **state) {
        _cleanup_free_ char *ok = NULL, *deep = NULL;
        json_object *o = NULL;
        size_t n;

        /* 64 nested flow sequences are fine, 65 are not */
        n = YAML_JSON_MAX_DEPTH;
        ok = malloc(2 * n + 1);
        assert_non_null(ok);
        memset(ok, '[', n);
        memset(ok + n, ']', n);
        ok[2 * n] = 0;
        assert_int_equal(yaml_to_json(ok, 2 * n, &o, NULL), 0);
        assert_non_null(o);
        json_object_put(o);
        o = NULL;

        n = YAML_JSON_MAX_DEPTH + 1;
        deep = malloc(2 * n + 1);
        assert_non_null(deep);
        memset(deep, '[', n);
        memset(deep + n, ']', n);
        deep[2 * n] = 0;
        check_error(deep, 2 * n, -EINVAL, "nesting deeper than 64 levels");

        /* an unterminated deep document must fail on depth, not run away */
        _cleanup_free_ char *open_only = malloc(100001);
        assert_non_null(open_only);
        memset(open_only, '[', 100000);
        open_only[100000] = 0;
        check_error(open_only, 100000, -EINVAL, "nesting deeper");
}

static void test_size_and_node_limits(void **state) {
        _cleanup_free_ char *big = NULL, *many = NULL;
        size_t len = YAML_JSON_MAX_INPUT + 1, k = 0;

        big = malloc(len + 1);
        assert_non_null(big);
        memset(big, 'a', len);
        big[len] = 0;
        check_error(big, len, -E2BIG, "larger than");

        /* 100001 one-byte scalars in a flow sequence: under 1 MiB, over the node limit */
        many = malloc(2 * 100001 + 3);
        assert_non_null(many);
        many[k++] = '[';
        for (size_t i = 0; i < 100001; i++) {
                many[k++] = '1';
                many[k++] = ',';
        }
        many[k - 1] = ']';
        many[k] = 0;
        check_error(many, k, -EINVAL, "more than 100000 nodes");

        /* just under the limit is fine (1 sequence + 99999 scalars) */
        many[2 * 99999] = ']';
        many[2 * 99999 + 1] = 0;
        json_object *o = NULL;
        assert_int_equal(yaml_to_json(many, 2 * 99999 + 1, &o, NULL), 0);
        assert_int_equal(json_object_array_length(o), 99999);
        json_object_put(o);
}

static void test_container_limit(void **state) {
        size_t n = YAML_JSON_MAX_CONTAINERS, k = 0;
        _cleanup_free_ char *doc = malloc(3 * n + 8);
        json_object *o = NULL;

        assert_non_null(doc);
        /* the outer list plus n-1 empty maps: exactly at the limit */
        doc[k++] = '[';
        for (size_t i = 0; i < n - 1; i++) {
                memcpy(doc + k, "{},", 3);
                k += 3;
        }
        doc[k - 1] = ']';
        doc[k] = 0;
        assert_int_equal(yaml_to_json(doc, k, &o, NULL), 0);
        assert_int_equal(json_object_array_length(o), n - 1);
        json_object_put(o);

        /* one more map is refused */
        memcpy(doc + k - 1, ",{}]", 5);
        check_error(doc, k + 3, -EINVAL, "more than 10000 maps and lists");
}

static void test_billion_laughs(void **state) {
        const char *doc =
                "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
                "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n";
        check_error(doc, strlen(doc), -EINVAL, "anchors are not allowed");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scalar_typing),
                cmocka_unit_test(test_structure),
                cmocka_unit_test(test_rejects),
                cmocka_unit_test(test_depth_limit),
                cmocka_unit_test(test_size_and_node_limits),
                cmocka_unit_test(test_container_limit),
                cmocka_unit_test(test_billion_laughs),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
