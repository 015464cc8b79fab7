/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* workers/shim/attach.c with real sockets, pipes and PTYs: what zlayer-exec
 * asks on attach.sock, the frames and the input of a non-tty container, the
 * fan-out and the resize of a tty one, the limit and the exit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <endian.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "attach.h"
#include "crilog.h"
#include "fdpass.h"
#include "fileio.h"
#include "macro.h"

typedef struct Fixture {
        char dir[64];
        int dir_fd;
        AttachServer *s;
} Fixture;

/* Runs the server until nothing happens for 50 ms. */
static void pump(AttachServer *s) {
        for (int i = 0; i < 200; i++) {
                struct pollfd p[ATTACH_POLLFDS_MAX];
                size_t n = attach_server_pollfds(s, p);
                if (poll(p, n, 50) <= 0)
                        return;
                attach_server_dispatch(s, p, n);
        }
}

/* One request on attach.sock, as zlayer-exec sends it; the answer in @buf. */
static int request(Fixture *f, const char *req, char *buf, size_t size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), fd = -1;

        assert_true(sock >= 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/attach.sock", f->dir);
        assert_int_equal(connect(sock, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(fdpass_send(sock, -1, req), 0);
        pump(f->s);
        assert_true(fdpass_recv(sock, buf, size, &fd) > 0);
        close(sock);
        return fd;
}

/* Reads exactly @n bytes (or fails after 2 s). */
static void read_exact(int fd, void *buf, size_t n) {
        for (size_t k = 0; k < n;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                assert_int_equal(poll(&p, 1, 2000), 1);
                ssize_t r = read(fd, (char *) buf + k, n - k);
                assert_true(r > 0);
                k += (size_t) r;
        }
}

static void expect_frame(int fd, int stream, const char *text) {
        uint8_t h[8];
        char buf[256] = {};
        uint32_t len;

        read_exact(fd, h, 8);
        memcpy(&len, h + 4, 4);
        len = be32toh(len);
        assert_int_equal(h[0], stream);
        assert_int_equal(len, strlen(text));
        read_exact(fd, buf, len);
        assert_string_equal(buf, text);
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        strcpy(f->dir, "/tmp/test-shim-attach-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        f->dir_fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->dir_fd >= 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        attach_server_free(f->s);
        (void) rm_rf_at(AT_FDCWD, f->dir);
        close(f->dir_fd);
        free(f);
        return 0;
}

static void test_socket_frames_stdin_limit(void **state) {
        Fixture *f = *state;
        int in[2], log, fds[ATTACHERS_MAX], fd, got;
        static const char pending_text[] = "prompt> ";
        size_t pending_len = strlen(pending_text);
        char buf[256];

        /* the log the `logs` option replays: two records and a partial one
         * of this run, after one of the run before (not replayed) */
        log = openat(f->dir_fd, "ctr.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        assert_true(log >= 0);
        assert_int_equal(crilog_write(log, 0, false, "the run before", 14, false), 0);
        assert_int_equal(pipe2(in, O_CLOEXEC), 0);
        assert_int_equal(attach_server_new(f->dir_fd, f->dir_fd, "ctr.log", -1, in[1], true, &f->s), 0);
        assert_int_equal(crilog_write(log, 1, false, "first", 5, false), 0);
        assert_int_equal(crilog_write(log, 2, true, "oops", 4, false), 0);
        assert_int_equal(crilog_write(log, 3, false, "no newline yet", 14, true), 0);
        close(log);
        attach_server_set_pending(f->s, false, pending_text, &pending_len);

        fd = request(f, "ATTACH 1 1 1 1", buf, sizeof(buf));
        assert_string_equal(buf, "OK");
        assert_true(fd >= 0);
        expect_frame(fd, 1, "first");
        expect_frame(fd, 1, "\n");
        expect_frame(fd, 2, "oops");
        expect_frame(fd, 2, "\n");
        expect_frame(fd, 1, "no newline yet");   /* a P record: no newline */
        expect_frame(fd, 1, pending_text);

        /* live output, and input reaching the container's stdin */
        attach_server_output(f->s, true, "live", 4);
        expect_frame(fd, 2, "live");
        assert_int_equal(write(fd, "typed\n", 6), 6);
        pump(f->s);
        memset(buf, 0, sizeof(buf));
        read_exact(in[0], buf, 6);
        assert_string_equal(buf, "typed\n");

        /* an output-only attacher: its writes are dropped, not fed */
        fds[0] = fd;
        for (int i = 1; i < ATTACHERS_MAX; i++) {
                fds[i] = request(f, "ATTACH 0 1 0 0", buf, sizeof(buf));
                assert_string_equal(buf, "OK");
        }
        assert_int_equal(write(fds[1], "ignored\n", 8), 8);
        attach_server_output(f->s, false, "to all", 6);
        attach_server_output(f->s, true, "stderr only to 0", 16);
        pump(f->s);
        for (int i = 0; i < ATTACHERS_MAX; i++)
                expect_frame(fds[i], 1, "to all");
        expect_frame(fds[0], 2, "stderr only to 0");
        struct pollfd p = { .fd = in[0], .events = POLLIN };
        assert_int_equal(poll(&p, 1, 100), 0);

        /* the 17th is refused; one leaving makes room */
        got = request(f, "ATTACH 0 1 1 0", buf, sizeof(buf));
        assert_int_equal(got, -1);
        assert_true(strneq(buf, "ERR Busy ", 9));
        close(fds[5]);
        pump(f->s);
        fds[5] = request(f, "ATTACH 0 1 1 0", buf, sizeof(buf));
        assert_string_equal(buf, "OK");

        /* no tty to resize; garbage is refused */
        assert_int_equal(request(f, "RESIZE 24 80", buf, sizeof(buf)), -1);
        assert_true(strneq(buf, "ERR InvalidState ", 17));
        request(f, "ATTACH x", buf, sizeof(buf));
        assert_true(strneq(buf, "ERR InvalidArgs ", 16));
        request(f, "HELLO", buf, sizeof(buf));
        assert_true(strneq(buf, "ERR InvalidArgs ", 16));

        /* after the exit: refused, and every attacher sees EOF at the end */
        attach_server_set_exited(f->s);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/attach.sock", f->dir);
        int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        assert_int_equal(connect(sock, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(fdpass_send(sock, -1, "ATTACH 0 1 1 0"), 0);
        pump(f->s);   /* not listening any more: the request waits */
        f->s = attach_server_free(f->s);
        assert_true(faccessat(f->dir_fd, "attach.sock", F_OK, 0) < 0);   /* removed */
        for (int i = 0; i < ATTACHERS_MAX; i++) {
                assert_int_equal(read(fds[i], buf, 1), 0);
                close(fds[i]);
        }
        close(sock);
        close(in[0]);
}

/* An attacher's half-close (shutdown(SHUT_WR), still reading) ends the
 * container's stdin (run -i with a pipe); one that closes its fd only
 * leaves, and stdin stays open. */
static void test_half_close_ends_stdin(void **state) {
        Fixture *f = *state;
        int in[2], a, b;
        char buf[256];

        assert_int_equal(pipe2(in, O_CLOEXEC), 0);
        assert_int_equal(attach_server_new(f->dir_fd, f->dir_fd, "ctr.log", -1, in[1], true, &f->s), 0);
        a = request(f, "ATTACH 1 1 1 0", buf, sizeof(buf));
        assert_string_equal(buf, "OK");
        b = request(f, "ATTACH 1 1 1 0", buf, sizeof(buf));
        assert_string_equal(buf, "OK");

        assert_int_equal(write(b, "from b\n", 7), 7);
        pump(f->s);
        close(b);
        pump(f->s);
        assert_int_equal(write(a, "from a\n", 7), 7);
        pump(f->s);
        memset(buf, 0, sizeof(buf));
        read_exact(in[0], buf, 14);
        assert_string_equal(buf, "from b\nfrom a\n");
        struct pollfd p = { .fd = in[0], .events = POLLIN };
        assert_int_equal(poll(&p, 1, 50), 0);   /* b left: still open */

        assert_int_equal(shutdown(a, SHUT_WR), 0);
        pump(f->s);
        assert_int_equal(poll(&p, 1, 2000), 1);
        assert_int_equal(read(in[0], buf, sizeof(buf)), 0);   /* EOF */
        /* a still gets the output */
        attach_server_output(f->s, false, "echoed", 6);
        expect_frame(a, 1, "echoed");
        close(a);
        close(in[0]);
}

static void test_tty_fanout_resize(void **state) {
        Fixture *f = *state;
        int master, slave, a, b;
        char name[64], buf[256];
        struct winsize ws;
        struct termios t;

        /* the container's PTY: we play the container on the slave */
        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        assert_true(master >= 0);
        assert_int_equal(unlockpt(master), 0);
        assert_int_equal(ptsname_r(master, name, sizeof(name)), 0);
        slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        assert_true(slave >= 0);
        assert_int_equal(tcgetattr(slave, &t), 0);
        cfmakeraw(&t);
        assert_int_equal(tcsetattr(slave, TCSANOW, &t), 0);
        assert_int_equal(attach_server_new(f->dir_fd, f->dir_fd, "ctr.log", master, -1, true, &f->s), 0);

        a = request(f, "ATTACH 1 1 1 0", buf, sizeof(buf));
        assert_string_equal(buf, "OK");
        b = request(f, "ATTACH 0 1 1 0", buf, sizeof(buf));
        assert_string_equal(buf, "OK");
        assert_true(isatty(a) && isatty(b));

        /* output to both PTY masters, unchanged (raw relay) */
        attach_server_output(f->s, false, "line\r\n", 6);
        pump(f->s);
        memset(buf, 0, sizeof(buf));
        read_exact(a, buf, 6);
        assert_string_equal(buf, "line\r\n");
        memset(buf, 0, sizeof(buf));
        read_exact(b, buf, 6);
        assert_string_equal(buf, "line\r\n");

        /* what the first types reaches the container; the second's is dropped */
        assert_int_equal(write(b, "from-b", 6), 6);
        pump(f->s);
        assert_int_equal(write(a, "from-a", 6), 6);
        pump(f->s);
        memset(buf, 0, sizeof(buf));
        read_exact(slave, buf, 6);
        assert_string_equal(buf, "from-a");

        assert_int_equal(request(f, "RESIZE 40 100", buf, sizeof(buf)), -1);
        assert_string_equal(buf, "OK");
        assert_int_equal(ioctl(slave, TIOCGWINSZ, &ws), 0);
        assert_int_equal(ws.ws_row, 40);
        assert_int_equal(ws.ws_col, 100);
        request(f, "RESIZE 0 100", buf, sizeof(buf));
        assert_true(strneq(buf, "ERR InvalidArgs ", 16));

        close(a);
        close(b);
        pump(f->s);
        close(slave);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_socket_frames_stdin_limit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_half_close_ends_stdin, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tty_fanout_resize, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
