/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The spec's health check (lib/servicespec-health.c): defaults, the three
 * kinds decoded for the broker, and refusals naming the field. */
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
#include "servicespec.h"

static ServiceSpec *parse(const char *yaml, char **ret_error) {
        ServiceSpec *s = NULL;
        int r = service_spec_parse(yaml, strlen(yaml), &s, ret_error);
        return r < 0 ? NULL : s;
}

static void test_kinds(void **state) {
        _cleanup_service_spec_ ServiceSpec *none = NULL, *cmd = NULL, *argv = NULL, *tcp = NULL, *http = NULL;
        _cleanup_free_ char *err = NULL;

        none = parse("image: {name: busybox}\n", &err);
        assert_non_null(none);
        assert_null(none->health_kind);

        cmd = parse("image: {name: busybox}\nhealth: {check: {type: command, command: 'test -f /ok'}}\n", &err);
        assert_non_null(cmd);
        assert_string_equal(cmd->health_kind, "command");
        assert_int_equal(strv_length(cmd->health_args), 3);
        assert_string_equal(cmd->health_args[0], "/bin/sh");
        assert_string_equal(cmd->health_args[2], "test -f /ok");
        /* Docker's defaults */
        assert_int_equal(cmd->health_interval_usec, 30 * USEC_PER_SEC);
        assert_int_equal(cmd->health_timeout_usec, 30 * USEC_PER_SEC);
        assert_int_equal(cmd->health_retries, 3);
        assert_int_equal(cmd->health_start_grace_usec, 0);

        argv = parse("image: {name: busybox}\nhealth: {start_grace: 1m, interval: 500ms, timeout: 2s, retries: 7,\n"
                     "  check: {type: command, command: [/bin/true, x]}}\n", &err);
        assert_non_null(argv);
        assert_int_equal(strv_length(argv->health_args), 2);
        assert_int_equal(argv->health_start_grace_usec, 60 * USEC_PER_SEC);
        assert_int_equal(argv->health_interval_usec, 500 * USEC_PER_MSEC);
        assert_int_equal(argv->health_timeout_usec, 2 * USEC_PER_SEC);
        assert_int_equal(argv->health_retries, 7);

        tcp = parse("image: {name: busybox}\nhealth: {check: {type: tcp, port: 6379}}\n", &err);
        assert_non_null(tcp);
        assert_string_equal(tcp->health_kind, "tcp");
        assert_string_equal(tcp->health_args[0], "6379");
        assert_null(tcp->health_args[1]);

        http = parse("image: {name: busybox}\nhealth: {check: {type: http, url: 'http://localhost:8080/healthz?x=1', expect_status: 204}}\n",
                     &err);
        assert_non_null(http);
        assert_string_equal(http->health_kind, "http");
        assert_string_equal(http->health_args[0], "8080");
        assert_string_equal(http->health_args[1], "/healthz?x=1");
        assert_int_equal(http->health_expect_status, 204);
}

static void test_http_defaults(void **state) {
        _cleanup_service_spec_ ServiceSpec *s = NULL;
        _cleanup_free_ char *err = NULL;

        s = parse("image: {name: busybox}\nhealth: {check: {type: http, url: 'http://127.0.0.1'}}\n", &err);
        assert_non_null(s);
        assert_string_equal(s->health_args[0], "80");
        assert_string_equal(s->health_args[1], "/");
        assert_int_equal(s->health_expect_status, 200);
}

static void test_errors(void **state) {
        static const struct {
                const char *health, *error;
        } cases[] = {
                { "{interval: 5s}", "health.check: required" },
                { "{check: {type: grpc}}", "health.check.type" },
                { "{check: {port: 80}}", "health.check.type: required" },
                { "{check: {type: tcp}}", "health.check.port: required for a tcp check" },
                { "{check: {type: tcp, port: 0}}", "health.check.port" },
                { "{check: {type: tcp, port: 80, url: 'http://localhost/'}}", "health.check.url" },
                { "{check: {type: http, url: 'https://localhost/'}}", "health.check.url: 'https://localhost/' is not supported" },
                { "{check: {type: http, url: 'http://10.0.0.1/'}}", "health.check.url: host '10.0.0.1' is not supported" },
                { "{check: {type: http, url: 'http://localhost:99999/'}}", "health.check.url: invalid port" },
                { "{check: {type: http, url: 'http://localhost/', expect_status: 42}}", "health.check.expect_status" },
                { "{check: {type: command, command: ''}}", "health.check.command: empty command" },
                { "{check: {type: command, command: []}}", "health.check.command: empty command" },
                { "{retries: 0, check: {type: tcp, port: 80}}", "health.retries" },
                { "{interval: 10ms, check: {type: tcp, port: 80}}", "health.interval: out of range" },
                { "{timeout: abc, check: {type: tcp, port: 80}}", "health.timeout" },
                { "{every: 1s, check: {type: tcp, port: 80}}", "health.every" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *yaml = NULL, *err = NULL;
                ServiceSpec *s;

                assert_true(asprintf(&yaml, "image: {name: busybox}\nhealth: %s\n", cases[i].health) > 0);
                s = parse(yaml, &err);
                if (s) {
                        service_spec_free(s);
                        fail_msg("case %zu accepted: %s", i, cases[i].health);
                }
                if (!err || !strstr(err, cases[i].error))
                        fail_msg("case %zu: error '%s', expected '%s'", i, strempty(err), cases[i].error);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kinds),
                cmocka_unit_test(test_http_defaults),
                cmocka_unit_test(test_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
