/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/container-exec.c: the $PATH search of the shim's init and the exec
 * monitor (which file is tried, which error is reported), the rlimits. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "container-exec.h"
#include "macro.h"

static char dir_a[64], dir_b[64], path_ab[160];

/* A regular file that nobody may execute: execve() fails with EACCES. */
static void touch_plain(const char *dir, const char *name) {
        char p[128];
        int fd;

        snprintf(p, sizeof(p), "%s/%s", dir, name);
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
}

static int setup(void **state) {
        strcpy(dir_a, "/tmp/zl-test-pathexec-a.XXXXXX");
        strcpy(dir_b, "/tmp/zl-test-pathexec-b.XXXXXX");
        assert_non_null(mkdtemp(dir_a));
        assert_non_null(mkdtemp(dir_b));
        touch_plain(dir_a, "cmd");
        touch_plain(dir_b, "cmd");
        snprintf(path_ab, sizeof(path_ab), "%s/dironly", dir_b);
        assert_int_equal(mkdir(path_ab, 0755), 0);
        snprintf(path_ab, sizeof(path_ab), "/nonexistent:%s:%s", dir_a, dir_b);
        return 0;
}

static int teardown(void **state) {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir_a, dir_b);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_not_found(void **state) {
        char *argv[] = { (char *) "zl-no-such-command", NULL }, *env[] = { NULL };
        _cleanup_free_ char *file = NULL;

        assert_int_equal(path_execve(argv, env, path_ab, 0, &file), -ENOENT);
        assert_null(file);
}

static void test_directory_passed_over(void **state) {
        char *argv[] = { (char *) "dironly", NULL }, *env[] = { NULL };
        _cleanup_free_ char *file = NULL;

        assert_int_equal(path_execve(argv, env, path_ab, 0, &file), -ENOENT);
        assert_null(file);
}

/* The monitor's way: every candidate, the last error. */
static void test_all_tried_last_error(void **state) {
        char *argv[] = { (char *) "cmd", NULL }, *env[] = { NULL };
        _cleanup_free_ char *file = NULL;
        char want[128];

        assert_int_equal(path_execve(argv, env, path_ab, 0, &file), -EACCES);
        snprintf(want, sizeof(want), "%s/cmd", dir_b);
        assert_string_equal(file, want);
}

/* The shim's way: the first one is the error. */
static void test_first_only(void **state) {
        char *argv[] = { (char *) "cmd", NULL }, *env[] = { NULL };
        _cleanup_free_ char *file = NULL;
        char want[128];

        assert_int_equal(path_execve(argv, env, path_ab, PATH_EXEC_FIRST, &file), -EACCES);
        snprintf(want, sizeof(want), "%s/cmd", dir_a);
        assert_string_equal(file, want);
}

/* Not executable by the caller: not found at all. */
static void test_need_x(void **state) {
        char *argv[] = { (char *) "cmd", NULL }, *env[] = { NULL };
        _cleanup_free_ char *file = NULL;

        assert_int_equal(path_execve(argv, env, path_ab, PATH_EXEC_NEED_X | PATH_EXEC_FIRST, &file), -ENOENT);
        assert_null(file);
}

static void test_slash_not_searched(void **state) {
        char *argv[] = { (char *) "/nonexistent/cmd", NULL }, *env[] = { NULL };
        _cleanup_free_ char *file = NULL;

        assert_int_equal(path_execve(argv, env, path_ab, 0, &file), -ENOENT);
        assert_string_equal(file, "/nonexistent/cmd");
}

/* A file found past a missing directory and an empty entry really runs. */
static void test_runs_found(void **state) {
        char *argv[] = { (char *) "sh", (char *) "-c", (char *) "exit 7", NULL }, *env[] = { NULL };
        int status;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                char *file = NULL;
                if (chdir("/bin") < 0)
                        _exit(1);
                (void) path_execve(argv, env, "/nonexistent::/usr/bin", 0, &file);
                _exit(2);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 7);
}

static void test_rlimits(void **state) {
        LaunchRlimit good[] = { { .name = (char *) "core", .soft = 0, .hard = UINT64_MAX } };
        LaunchRlimit bad[] = { { .name = (char *) "core", .soft = 0, .hard = UINT64_MAX },
                               { .name = (char *) "nofiles", .soft = 1, .hard = 1 } };
        LaunchConfig c = { .rlimits = good, .n_rlimits = 1 };
        struct rlimit rl;
        char err[128] = "";

        assert_int_equal(container_apply_rlimits(&c, err, sizeof(err)), 0);
        assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
        assert_int_equal(rl.rlim_cur, 0);
        c = (LaunchConfig) { .rlimits = bad, .n_rlimits = 2 };
        assert_int_equal(container_apply_rlimits(&c, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "rlimit nofiles: unknown");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_not_found),
                cmocka_unit_test(test_directory_passed_over),
                cmocka_unit_test(test_all_tried_last_error),
                cmocka_unit_test(test_first_only),
                cmocka_unit_test(test_need_x),
                cmocka_unit_test(test_slash_not_searched),
                cmocka_unit_test(test_runs_found),
                cmocka_unit_test(test_rlimits),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
