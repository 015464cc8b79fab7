/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "lib/crilog.h"
#include "lib/fileio.h"
#include "lib/macro.h"

#define T0 1795927437123456789ULL /* 2026-11-29T04:43:57.123456789Z */

static void test_format_time(void **state) {
        char buf[40];
        assert_int_equal(crilog_format_time(T0, buf, sizeof(buf)), 30);
        assert_string_equal(buf, "2026-11-29T04:43:57.123456789Z");
        assert_true(crilog_format_time(0, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "1970-01-01T00:00:00.000000000Z");
        assert_int_equal(crilog_format_time(T0, buf, 10), -ENOBUFS);
}

static char *write_and_read(bool is_stderr, const char *text, size_t len, bool partial, size_t *ret_len) {
        FILE *f = tmpfile();
        char *out;
        assert_non_null(f);
        assert_int_equal(crilog_write(fileno(f), T0, is_stderr, text, len, partial), 0);
        rewind(f);
        assert_int_equal(read_fd_full(fileno(f), 1 << 20, &out, ret_len), 0);
        fclose(f);
        return out;
}

static void test_write_simple(void **state) {
        size_t n;
        _cleanup_free_ char *a = write_and_read(false, "hello", 5, false, &n);
        assert_string_equal(a, "2026-11-29T04:43:57.123456789Z stdout F hello\n");
        _cleanup_free_ char *b = write_and_read(true, "err", 3, true, &n);
        assert_string_equal(b, "2026-11-29T04:43:57.123456789Z stderr P err\n");
        _cleanup_free_ char *c = write_and_read(false, "", 0, false, &n);
        assert_string_equal(c, "2026-11-29T04:43:57.123456789Z stdout F \n");
}

static void test_write_split(void **state) {
        size_t total = CRILOG_MAX_RECORD * 2 + 100, n;
        _cleanup_free_ char *big = malloc(total);
        assert_non_null(big);
        for (size_t i = 0; i < total; i++)
                big[i] = (char) ('a' + i % 26);
        _cleanup_free_ char *out = write_and_read(false, big, total, false, &n);

        /* three lines: P, P, F; their texts concatenate to the record */
        char *line = out;
        size_t got = 0;
        for (int i = 0; i < 3; i++) {
                char *nl = strchr(line, '\n');
                CriLogEntry e;
                assert_non_null(nl);
                assert_int_equal(crilog_parse_line(line, (size_t) (nl - line), &e), 0);
                assert_int_equal(e.partial, i < 2);
                assert_int_equal(e.text_len, i < 2 ? CRILOG_MAX_RECORD : 100);
                assert_memory_equal(e.text, big + got, e.text_len);
                got += e.text_len;
                line = nl + 1;
        }
        assert_int_equal(got, total);
        assert_string_equal(line, "");
}

/* Several records formatted into one buffer, as the shim batches them:
 * the same bytes as one crilog_write() each, and exactly the size said. */
static void test_format_batch(void **state) {
        size_t big_len = CRILOG_MAX_RECORD + 5, n, off = 0;
        _cleanup_free_ char *big = malloc(big_len), *expect = NULL, *buf = NULL;
        char ts[40];
        int ts_len = crilog_format_time(T0, ts, sizeof(ts));
        FILE *f = tmpfile();
        const struct { const char *text; size_t len; bool is_stderr, partial; } recs[] = {
                { "one", 3, false, false }, { "", 0, true, false }, { NULL, 0, false, true }, { "x", 1, false, true },
        };

        assert_non_null(big);
        assert_non_null(f);
        memset(big, 'b', big_len);
        assert_int_equal(crilog_record_size((size_t) ts_len, 3), (size_t) ts_len + 11 + 3);
        assert_int_equal(crilog_record_size((size_t) ts_len, big_len), big_len + 2 * ((size_t) ts_len + 11));
        buf = malloc(4 * 64 + 2 * big_len);
        assert_non_null(buf);
        for (size_t i = 0; i < ELEMENTSOF(recs); i++) {
                const char *t = recs[i].text ?: big;
                size_t len = recs[i].text ? recs[i].len : big_len;
                size_t k = crilog_format_record(buf + off, ts, (size_t) ts_len, recs[i].is_stderr, t, len, recs[i].partial);
                assert_int_equal(k, crilog_record_size((size_t) ts_len, len));
                off += k;
                assert_int_equal(crilog_write(fileno(f), T0, recs[i].is_stderr, t, len, recs[i].partial), 0);
        }
        rewind(f);
        assert_int_equal(read_fd_full(fileno(f), 1 << 20, &expect, &n), 0);
        fclose(f);
        assert_int_equal(n, off);
        assert_memory_equal(buf, expect, n);
}

static void test_parse(void **state) {
        const char *l = "2026-11-29T04:43:57.123456789Z stderr F some text here";
        CriLogEntry e;

        assert_int_equal(crilog_parse_line(l, strlen(l), &e), 0);
        assert_true(e.is_stderr);
        assert_false(e.partial);
        assert_int_equal(e.timestamp_usec, T0 / 1000);
        assert_int_equal(e.text_len, strlen("some text here"));
        assert_memory_equal(e.text, "some text here", e.text_len);

        l = "2026-11-29T04:43:57.5Z stdout P x";
        assert_int_equal(crilog_parse_line(l, strlen(l), &e), 0);
        assert_true(e.partial);
        assert_int_equal(e.timestamp_usec, 1795927437500000ULL);

        l = "2026-11-29T04:43:57Z stdout F ";
        assert_int_equal(crilog_parse_line(l, strlen(l), &e), 0);
        assert_int_equal(e.text_len, 0);
}

static void test_parse_bad(void **state) {
        static const char *const bad[] = {
                "",
                "garbage",
                "2026-11-29T04:43:57.123456789Z stdout F",          /* no space before text */
                "2026-11-29T04:43:57.123456789Z stdin F x",
                "2026-11-29T04:43:57.123456789Z stdout X x",
                "2026-11-29T04:43:57.123456789Z  stdout F x",
                "2026-11-29 04:43:57.123456789Z stdout F x",
                "2026-11-29T04:43:57.123456789 stdout F x",          /* no Z */
                "2026-11-29T04:43:57.1234567891Z stdout F x",        /* 10 digits */
                "2026-11-29T04:43:57.Z stdout F x",
                "2026-13-29T04:43:57.1Z stdout F x",
                "2026-02-30T04:43:57.1Z stdout F x",
                "2026-11-29T24:43:57.1Z stdout F x",
                "2026-11-29T04:43:57+01:00 stdout F x",
                "2026-11-29T04:43:57.1Z stdout F x\n",
                "2026-11-29T04:43:57.1Z stdoutF x",
        };
        CriLogEntry e;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (crilog_parse_line(bad[i], strlen(bad[i]), &e) != -EBADMSG)
                        fail_msg("accepted: \"%s\"", bad[i]);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_format_time),
                cmocka_unit_test(test_write_simple),
                cmocka_unit_test(test_write_split),
                cmocka_unit_test(test_format_batch),
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_parse_bad),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
