/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The broker's lifecycle helpers: TopContainer's ps argument parsing and
 * rows (against a fake /proc), GetContainerPorts from a spec, and the
 * lifecycle fields of state.json. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "broker/container.h"
#include "broker/lifecycle.h"
#include "fileio.h"

static char tmp[64];

static int setup(void **state) {
        snprintf(tmp, sizeof(tmp), "/tmp/zl-lifecycle-test-XXXXXX");
        assert_non_null(mkdtemp(tmp));
        return 0;
}

static int teardown(void **state) {
        (void) rm_rf_at(AT_FDCWD, tmp);
        return 0;
}

static void put(const char *rel, const char *content, size_t len) {
        _cleanup_free_ char *p = NULL, *dir = NULL;
        assert_true(asprintf(&p, "%s/%s", tmp, rel) > 0);
        dir = strdup(p);
        *strrchr(dir, '/') = '\0';
        assert_int_equal(mkdir_p_at(AT_FDCWD, dir, 0755), 0);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(loop_write(fd, content, len), 0);
}

static char *joined(char **l) {
        size_t n = 0;
        for (char **p = l; *p; p++)
                n += strlen(*p) + 1;
        char *s = calloc(n + 1, 1);
        for (char **p = l; *p; p++) {
                strcat(s, *p);
                if (p[1])
                        strcat(s, "|");
        }
        return s;
}

static void check_fields(const char *const *args, const char *want_titles) {
        _cleanup_strv_free_ char **fields = NULL, **titles = NULL;
        _cleanup_free_ char *err = NULL, *got = NULL;
        char *a[8] = {};

        for (size_t i = 0; args[i]; i++)
                a[i] = (char *) args[i];
        assert_int_equal(top_parse_args(a, &fields, &err), 0);
        assert_int_equal(top_titles(fields, &titles), 0);
        got = joined(titles);
        assert_string_equal(got, want_titles);
}

static void test_top_args(void **state) {
        _cleanup_strv_free_ char **fields = NULL;
        _cleanup_free_ char *err = NULL;

        check_fields((const char *[]) { NULL }, "UID|PID|PPID|C|STIME|TTY|TIME|CMD");
        check_fields((const char *[]) { "-ef", NULL }, "UID|PID|PPID|C|STIME|TTY|TIME|CMD");
        check_fields((const char *[]) { "-e", "-f", NULL }, "UID|PID|PPID|C|STIME|TTY|TIME|CMD");
        check_fields((const char *[]) { "-o", "pid,user,comm,args", NULL }, "PID|USER|COMMAND|COMMAND");
        check_fields((const char *[]) { "-opid", "-o", "etime rss", NULL }, "PID|ELAPSED|RSS");

        char *bad1[] = { (char *) "aux", NULL };
        assert_int_equal(top_parse_args(bad1, &fields, &err), -EINVAL);
        assert_non_null(strstr(err, "'aux'"));
        free(TAKE_PTR(err));
        char *bad2[] = { (char *) "-o", (char *) "pid,nope", NULL };
        assert_int_equal(top_parse_args(bad2, &fields, &err), -EINVAL);
        assert_non_null(strstr(err, "'nope'"));
        free(TAKE_PTR(err));
        char *bad3[] = { (char *) "-o", NULL };
        assert_int_equal(top_parse_args(bad3, &fields, &err), -EINVAL);
        free(TAKE_PTR(err));
        /* the internal ps -ef column is not a field callers can name */
        char *bad4[] = { (char *) "-ouidname", NULL };
        assert_int_equal(top_parse_args(bad4, &fields, &err), -EINVAL);
}

static void test_top_row(void **state) {
        _cleanup_strv_free_ char **fields = NULL, **row = NULL;
        _cleanup_free_ char *err = NULL, *proc = NULL, *got = NULL;
        char *args[] = { (char *) "-o", (char *) "pid,ppid,uid,comm,args,stat,tty,time,vsz", NULL };
        long hz = sysconf(_SC_CLK_TCK);
        char stat[512];

        assert_true(asprintf(&proc, "%s/proc", tmp) > 0);
        /* comm with a space and a parenthesis; tty 136:3 = pts/3; utime+stime 3725 s */
        snprintf(stat, sizeof(stat),
                 "42 (my (odd) cmd) S 7 42 42 %d 0 0 0 0 0 0 %ld %ld 0 0 20 0 1 0 100 10485760 25 18446744073709551615\n",
                 (136 << 8) | 3, 3600 * hz, 125 * hz);
        put("proc/42/stat", stat, strlen(stat));
        put("proc/42/status", "Name:\tx\nUid:\t1000\t1001\t1001\t1001\n", 33);
        put("proc/42/cmdline", "/bin/sh\0-c\0echo hi\0", 19);

        assert_int_equal(top_parse_args(args, &fields, &err), 0);
        assert_int_equal(top_row(proc, 42, fields, 0, &row), 0);
        got = joined(row);
        assert_string_equal(got, "42|7|1001|my (odd) cmd|/bin/sh -c echo hi|S|pts/3|01:02:05|10240");

        /* no cmdline (a kernel thread, a zombie): [comm] */
        strv_free(TAKE_PTR(row));
        free(TAKE_PTR(got));
        put("proc/43/stat", "43 (kworker) Z 2 0 0 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0 0\n", 62);
        char *a2[] = { (char *) "-o", (char *) "args,tty,uid", NULL };
        strv_free(TAKE_PTR(fields));
        assert_int_equal(top_parse_args(a2, &fields, &err), 0);
        assert_int_equal(top_row(proc, 43, fields, 0, &row), 0);
        got = joined(row);
        assert_string_equal(got, "[kworker]|?|-1");

        /* gone: an error the caller skips */
        assert_int_equal(top_row(proc, 44, fields, 0, &row), -ENOENT);
        put("proc/45/stat", "45 broken\n", 10);
        assert_int_equal(top_row(proc, 45, fields, 0, &row), -EBADMSG);
}

static void test_ports(void **state) {
        _cleanup_free_ ContainerPort *p = NULL;
        size_t n = 9;
        const char *spec =
                "{\"endpoints\":[{\"name\":\"web\",\"protocol\":\"http\",\"port\":8080},"
                "{\"name\":\"dns\",\"protocol\":\"udp\",\"port\":53,\"target_port\":5353}],"
                "\"port_mappings\":[{\"container_port\":9000,\"host_port\":19000,\"host_ip\":\"127.0.0.1\"}]}";

        assert_int_equal(container_ports_from_spec(spec, "none", &p, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(p[0].container_port, 8080);
        assert_string_equal(p[0].protocol, "tcp");
        assert_int_equal(p[0].host_port, 0);
        assert_int_equal(p[1].container_port, 5353);
        assert_string_equal(p[1].protocol, "udp");
        assert_int_equal(p[2].container_port, 9000);
        assert_string_equal(p[2].host_ip, "127.0.0.1");
        assert_int_equal(p[2].host_port, 19000);
        free(TAKE_PTR(p));

        /* host network: reachable on the host at the container's port */
        assert_int_equal(container_ports_from_spec(spec, "host", &p, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(p[0].host_port, 8080);
        assert_int_equal(p[1].host_port, 5353);
        assert_int_equal(p[2].host_port, 9000);
        free(TAKE_PTR(p));

        assert_int_equal(container_ports_from_spec("{}", "none", &p, &n), 0);
        assert_int_equal(n, 0);
        free(TAKE_PTR(p));
        assert_int_equal(container_ports_from_spec("[1]", "none", &p, &n), -EBADMSG);
}

static void test_state_fields(void **state) {
        _cleanup_free_ char *text = NULL;
        Container *c = container_new(), *d = container_new();

        assert_int_equal(c->restart_max, -1);
        c->id = strdup("web-rep-1");
        c->service = strdup("web");
        c->image = strdup("busybox");
        c->paused = true;
        c->stopped_by_user = true;
        c->restart_kind = strdup("on_failure");
        c->restart_max = 3;
        assert_int_equal(container_state_to_json(c, &text), 0);
        assert_int_equal(container_state_from_json(d, text), 0);
        assert_true(d->paused);
        assert_true(d->stopped_by_user);
        assert_string_equal(d->restart_kind, "on_failure");
        assert_int_equal(d->restart_max, 3);
        container_unref(d);

        /* an unknown restart kind in state.json is refused */
        d = container_new();
        assert_int_equal(container_state_from_json(d,
                "{\"id\":\"web-rep-1\",\"service\":\"web\",\"image\":\"b\",\"state\":\"exited\",\"restart_kind\":\"sometimes\"}"),
                -EBADMSG);
        container_unref(d);
        container_unref(c);
}

static void test_restart_policy(void **state) {
        assert_false(restart_wanted("no", true, 0, 0, false));
        assert_false(restart_wanted(NULL, true, 0, 0, false));
        assert_true(restart_wanted("always", false, 0, 0, false));
        assert_true(restart_wanted("unless_stopped", false, 100, 0, false));
        assert_true(restart_wanted("on_failure", true, 0, 0, false));
        assert_false(restart_wanted("on_failure", false, 0, 0, false));
        /* a user's stop wins over every policy */
        assert_false(restart_wanted("always", true, 0, 0, true));
        assert_false(restart_wanted("unless_stopped", true, 0, 0, true));
        assert_false(restart_wanted("on_failure", true, 0, 0, true));
        /* max_attempts caps the count; 0 = unlimited */
        assert_true(restart_wanted("on_failure", true, 2, 3, false));
        assert_false(restart_wanted("on_failure", true, 3, 3, false));
        assert_false(restart_wanted("always", false, 5, 1, false));
        assert_false(restart_wanted("sometimes", true, 0, 0, false));

        /* exponential backoff from the delay (default 100 ms), capped at 1 min */
        assert_true(restart_wait_usec(0, 0) == 100000);
        assert_true(restart_wait_usec(0, 1) == 200000);
        assert_true(restart_wait_usec(0, 3) == 800000);
        assert_true(restart_wait_usec(5000000, 2) == 20000000);
        assert_true(restart_wait_usec(5000000, 4) == 60000000);
        assert_true(restart_wait_usec(0, 1000) == 60000000);
        assert_true(restart_wait_usec(UINT64_C(3600000000), 0) == 60000000);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_top_args),
                cmocka_unit_test_setup_teardown(test_top_row, setup, teardown),
                cmocka_unit_test(test_ports),
                cmocka_unit_test(test_state_fields),
                cmocka_unit_test(test_restart_policy),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
