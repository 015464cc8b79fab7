/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/fdpass.c: a text message with an fd over SOCK_SEQPACKET, as the
 * shim and zlayer-exec speak on attach.sock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdpass.h"
#include "macro.h"

static void test_text_and_fd(void **state) {
        int sp[2], pipefd[2], got = -1;
        char buf[64];
        struct stat a, b;

        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        assert_int_equal(fdpass_send(sp[0], pipefd[1], "OK"), 0);
        assert_int_equal(fdpass_recv(sp[1], buf, sizeof(buf), &got), 2);
        assert_string_equal(buf, "OK");
        assert_true(got >= 0 && got != pipefd[1]);
        /* the same pipe, and CLOEXEC on our copy */
        assert_int_equal(fstat(got, &a), 0);
        assert_int_equal(fstat(pipefd[1], &b), 0);
        assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
        assert_true(fcntl(got, F_GETFD) & FD_CLOEXEC);
        assert_int_equal(write(got, "x", 1), 1);
        assert_int_equal(read(pipefd[0], buf, 1), 1);

        /* no fd: -1; EOF: 0 */
        assert_int_equal(fdpass_send(sp[0], -1, "ERR Busy too many"), 0);
        assert_int_equal(fdpass_recv(sp[1], buf, sizeof(buf), &got), 17);
        assert_string_equal(buf, "ERR Busy too many");
        assert_int_equal(got, -1);
        close(sp[0]);
        assert_int_equal(fdpass_recv(sp[1], buf, sizeof(buf), &got), 0);
        close(sp[1]);
        close(pipefd[0]);
        close(pipefd[1]);
}

static void test_truncated_message_refused(void **state) {
        int sp[2], got = 7;
        char small[4];

        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
        assert_int_equal(fdpass_send(sp[0], sp[0], "a longer message"), 0);
        assert_int_equal(fdpass_recv(sp[1], small, sizeof(small), &got), -EBADMSG);
        assert_int_equal(got, -1);   /* the fd that came with it is closed, not leaked */
        assert_int_equal(fdpass_recv(sp[1], small, 1, &got), -EINVAL);
        close(sp[0]);
        close(sp[1]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_text_and_fd),
                cmocka_unit_test(test_truncated_message_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
