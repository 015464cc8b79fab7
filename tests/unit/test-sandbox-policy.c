/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The seccomp allowlists (lib/sandbox-syscalls.c, lib/sandbox-seccomp.c)
 * and Landlock (lib/landlock.c), the filters loaded for real in children. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "landlock.h"
#include "sandbox-seccomp.h"

static const char *const *const all_lists[] = {
        sandbox_syscalls_base, sandbox_syscalls_files, sandbox_syscalls_broker,
        sandbox_syscalls_puller, sandbox_syscalls_archive, NULL,
};

/* A typo in a table would be skipped silently at run time: not here. */
static void test_every_name_resolves(void **state) {
        for (const char *const *const *l = all_lists; *l; l++) {
                const char *bad = sandbox_syscalls_unknown(*l);
                if (bad)
                        fail_msg("unknown system call in an allowlist: %s", bad);
        }
        const char *const typo[] = { "read", "no_such_call", NULL };
        assert_string_equal(sandbox_syscalls_unknown(typo), "no_such_call");
}

/* What no daemon behind zlayerd may do once it serves. */
static void test_forbidden_calls_absent(void **state) {
        static const char *const forbidden[] = {
                "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "ptrace",
                "process_vm_readv", "process_vm_writev", "bpf", "perf_event_open", "keyctl",
                "add_key", "request_key", "init_module", "finit_module", "delete_module",
                "kexec_load", "reboot", "swapon", "execve", "execveat", "setuid", "setgid",
                "setresuid", "setresgid", "setgroups", "personality", "userfaultfd",
                "open_by_handle_at", "io_uring_setup", NULL,
        };
        for (const char *const *const *l = all_lists; *l; l++)
                for (const char *const *s = *l; *s; s++)
                        for (const char *const *f = forbidden; *f; f++)
                                if (strcmp(*s, *f) == 0)
                                        fail_msg("%s is in an allowlist", *s);
}

/* run_child(fn): fork, run fn in the child, return its wait status */
static int run_child(int (*fn)(void)) {
        int st;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0)
                _exit(fn());
        assert_int_equal(waitpid(pid, &st, 0), pid);
        return st;
}

static int broker_lists_then(int (*after)(void)) {
        const char *const *lists[] = { sandbox_syscalls_base, sandbox_syscalls_files, sandbox_syscalls_broker, NULL };

        if (sandbox_seccomp_allowlist(lists) < 0)
                return 10;
        return after();
}

static int allowed_calls(void) {
        char buf[16];
        int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

        if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
                return 11;
        close(fd);
        return getpid() > 0 ? 0 : 12;
}
static int child_allowed(void) { return broker_lists_then(allowed_calls); }

static int do_mount(void) {
        (void) mount("none", "/nonexistent", "tmpfs", 0, NULL);
        return 20;  /* not reached: killed */
}
static int child_mount(void) { return broker_lists_then(do_mount); }

static int do_clone_newuser(void) {
        (void) syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
        return 21;
}
static int puller_then_clone_newuser(void) {
        const char *const *lists[] = { sandbox_syscalls_base, sandbox_syscalls_puller, NULL };
        if (sandbox_seccomp_allowlist(lists) < 0)
                return 10;
        return do_clone_newuser();
}

/* clone without namespace flags (a thread, a fork) is fine; clone3 says ENOSYS */
static int puller_then_fork(void) {
        const char *const *lists[] = { sandbox_syscalls_base, sandbox_syscalls_puller, NULL };
        int st;
        pid_t pid;

        if (sandbox_seccomp_allowlist(lists) < 0)
                return 10;
        if (syscall(SYS_clone3, NULL, 0) >= 0 || errno != ENOSYS)
                return 13;
        pid = fork();
        if (pid < 0)
                return 14;
        if (pid == 0)
                _exit(7);
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
                return 15;
        return 0;
}

static void test_seccomp_allowlist_enforced(void **state) {
        int st;

        st = run_child(child_allowed);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);

        st = run_child(child_mount);
        assert_true(WIFSIGNALED(st));
        assert_int_equal(WTERMSIG(st), SIGSYS);

        st = run_child(puller_then_clone_newuser);
        assert_true(WIFSIGNALED(st));
        assert_int_equal(WTERMSIG(st), SIGSYS);

        st = run_child(puller_then_fork);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
}

static char landlock_dir[64];

static int landlock_child(void) {
        char inside[128], outside[128];
        const LandlockPath paths[] = {
                { landlock_dir, LANDLOCK_READ_WRITE },
                { "/nonexistent-zl", LANDLOCK_READ },   /* skipped */
        };
        int fd;

        snprintf(inside, sizeof(inside), "%s/in", landlock_dir);
        snprintf(outside, sizeof(outside), "%s-out", landlock_dir);
        if (landlock_restrict(paths, 2) < 0)
                return 30;
        fd = open(inside, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return 31;
        close(fd);
        if (unlink(inside) < 0)
                return 32;
        if (open(outside, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) >= 0 || errno != EACCES)
                return 33;
        if (open("/etc/hostname", O_RDONLY | O_CLOEXEC) >= 0 || errno != EACCES)
                return 34;
        return 0;
}

static void test_landlock_confines(void **state) {
        int st;

        if (landlock_abi() < 0)
                skip();
        strcpy(landlock_dir, "/tmp/zl-test-landlock-XXXXXX");
        assert_non_null(mkdtemp(landlock_dir));
        st = run_child(landlock_child);
        assert_int_equal(rmdir(landlock_dir), 0);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_name_resolves),
                cmocka_unit_test(test_forbidden_calls_absent),
                cmocka_unit_test(test_seccomp_allowlist_enforced),
                cmocka_unit_test(test_landlock_confines),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
