/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/macro.h"
#include "lib/signals.h"

static void test_from_string(void **state) {
        assert_int_equal(signal_from_string("KILL"), SIGKILL);
        assert_int_equal(signal_from_string("SIGKILL"), SIGKILL);
        assert_int_equal(signal_from_string("sigterm"), SIGTERM);
        assert_int_equal(signal_from_string("SigHup"), SIGHUP);
        assert_int_equal(signal_from_string("9"), 9);
        assert_int_equal(signal_from_string("15"), 15);
        assert_int_equal(signal_from_string("WINCH"), SIGWINCH);
        assert_int_equal(signal_from_string("SIGRTMIN+3"), SIGRTMIN + 3);
        assert_int_equal(signal_from_string("RTMAX"), SIGRTMAX);
        assert_int_equal(signal_from_string("RTMAX-1"), SIGRTMAX - 1);

        assert_int_equal(signal_from_string(""), -EINVAL);
        assert_int_equal(signal_from_string(NULL), -EINVAL);
        assert_int_equal(signal_from_string("0"), -EINVAL);
        assert_int_equal(signal_from_string("65"), -EINVAL);
        assert_int_equal(signal_from_string("9x"), -EINVAL);
        assert_int_equal(signal_from_string("-9"), -EINVAL);
        assert_int_equal(signal_from_string("SIG"), -EINVAL);
        assert_int_equal(signal_from_string("FOO"), -EINVAL);
        assert_int_equal(signal_from_string("SIGRTMIN+99"), -EINVAL);
        assert_int_equal(signal_from_string("RTMIN-1"), -EINVAL);
        assert_int_equal(signal_from_string("99999999999999999999"), -EINVAL);
}

static void test_kill_allowlist(void **state) {
        assert_int_equal(signal_from_kill_string(""), SIGKILL);
        assert_int_equal(signal_from_kill_string("KILL"), SIGKILL);
        assert_int_equal(signal_from_kill_string("sigkill"), SIGKILL);
        assert_int_equal(signal_from_kill_string("TERM"), SIGTERM);
        assert_int_equal(signal_from_kill_string("SIGINT"), SIGINT);
        assert_int_equal(signal_from_kill_string("hup"), SIGHUP);
        assert_int_equal(signal_from_kill_string("SIGUSR1"), SIGUSR1);
        assert_int_equal(signal_from_kill_string("usr2"), SIGUSR2);

        assert_int_equal(signal_from_kill_string(NULL), -EINVAL);
        assert_int_equal(signal_from_kill_string("9"), -EINVAL);
        assert_int_equal(signal_from_kill_string("STOP"), -EINVAL);
        assert_int_equal(signal_from_kill_string("SIGQUIT"), -EINVAL);
        assert_int_equal(signal_from_kill_string("SIGSIGKILL"), -EINVAL);
        assert_int_equal(signal_from_kill_string(" KILL"), -EINVAL);
}

static void test_to_name(void **state) {
        assert_string_equal(signal_to_name(SIGKILL), "SIGKILL");
        assert_string_equal(signal_to_name(SIGTERM), "SIGTERM");
        assert_string_equal(signal_to_name(SIGABRT), "SIGABRT");
        assert_string_equal(signal_to_name(SIGIO), "SIGIO");
        assert_string_equal(signal_to_name(SIGRTMIN + 2), "SIGRTMIN+2");
        assert_string_equal(signal_to_name(0), "signal_0");
        assert_string_equal(signal_to_name(200), "signal_200");
        /* every name round-trips (32 and 33 are glibc's, below SIGRTMIN) */
        for (int s = 1; s <= SIGRTMAX; s++)
                if (s < 32 || s >= SIGRTMIN)
                        assert_int_equal(signal_from_string(signal_to_name(s)), s);
        assert_string_equal(signal_to_name(32), "signal_32");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_from_string),
                cmocka_unit_test(test_kill_allowlist),
                cmocka_unit_test(test_to_name),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
