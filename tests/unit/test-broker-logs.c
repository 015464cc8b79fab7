/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "broker/logs.h"
#include "fileio.h"
#include "macro.h"

#define FFFD "\xEF\xBF\xBD"

static void check_utf8(const char *in, size_t len, const char *want) {
        char *out = utf8_sanitize(in, len);
        assert_non_null(out);
        assert_string_equal(out, want);
        free(out);
}

static void test_utf8(void **state) {
        check_utf8("hello", 5, "hello");
        check_utf8("", 0, "");
        check_utf8("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80", 15, "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80");
        check_utf8("a\xFF" "b", 3, "a" FFFD "b");
        /* truncated sequences: each byte replaced */
        check_utf8("\xE2\x82", 2, FFFD FFFD);
        check_utf8("x\xC3", 2, "x" FFFD);
        /* overlong '/', surrogate, beyond U+10FFFF */
        check_utf8("\xC0\xAF", 2, FFFD FFFD);
        check_utf8("\xE0\x80\xAF", 3, FFFD FFFD FFFD);
        check_utf8("\xED\xA0\x80", 3, FFFD FFFD FFFD);
        check_utf8("\xF4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD);
        /* NUL cannot travel in a D-Bus string */
        check_utf8("a\0b", 3, "a" FFFD "b");
}

static int log_fd(const char *text) {
        int fd = memfd_create("ctr.log", MFD_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(loop_write(fd, text, strlen(text)), 0);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

static const char sample[] =
        "2026-11-29T04:43:57.000001000Z stdout F one\n"
        "garbage line\n"
        "2026-11-29T04:43:57.000002000Z stderr P tw\n"
        "2026-11-29T04:43:57.000003000Z stderr F o\n"
        "2026-11-29T04:43:57.000004000Z stdout F bad \xFF byte\n"
        "2026-11-29T04:43:57.000005000Z stdout F \n"
        "2026-11-29T04:43:57.000006000Z stdout F last";

static void test_read_all(void **state) {
        LogRecord *r = NULL;
        size_t n = 0;

        assert_int_equal(logs_read(log_fd(sample), 0, &r, &n), 0);
        assert_int_equal(n, 5);
        assert_string_equal(r[0].text, "one");
        assert_false(r[0].is_stderr);
        assert_string_equal(r[1].text, "two");
        assert_true(r[1].is_stderr);
        /* a joined record carries the time of its last part */
        assert_true(r[1].timestamp_usec % 1000000 == 3);
        assert_string_equal(r[2].text, "bad " FFFD " byte");
        assert_string_equal(r[3].text, "");
        assert_string_equal(r[4].text, "last");
        assert_true(r[4].timestamp_usec % 1000000 == 6);
        log_records_free(r, n);
}

static void test_tail(void **state) {
        LogRecord *r = NULL;
        size_t n = 0;

        assert_int_equal(logs_read(log_fd(sample), 2, &r, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(r[0].text, "");
        assert_string_equal(r[1].text, "last");
        log_records_free(r, n);

        assert_int_equal(logs_read(log_fd(sample), 100, &r, &n), 0);
        assert_int_equal(n, 5);
        log_records_free(r, n);

        assert_int_equal(logs_read(log_fd(""), 0, &r, &n), 0);
        assert_int_equal(n, 0);
        log_records_free(r, n);
}

static void test_many_lines(void **state) {
        /* Enough records to make the window move and compact several times. */
        size_t count = 5000, len = 0;
        char *text = malloc(count * 64);
        LogRecord *r = NULL;
        size_t n = 0;

        for (size_t i = 0; i < count; i++)
                len += sprintf(text + len, "2026-11-29T04:43:57.%09zuZ stdout F line %zu\n", i * 1000, i);
        assert_int_equal(logs_read(log_fd(text), 3, &r, &n), 0);
        assert_int_equal(n, 3);
        assert_string_equal(r[0].text, "line 4997");
        assert_string_equal(r[2].text, "line 4999");
        log_records_free(r, n);
        free(text);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_utf8),
                cmocka_unit_test(test_read_all),
                cmocka_unit_test(test_tail),
                cmocka_unit_test(test_many_lines),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
