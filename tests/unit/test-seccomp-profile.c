/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The containers' default seccomp profile, loaded for real in a child. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "launch-config.h"
#include "seccomp-profile.h"

static void test_ptrace_kernel_version(void **state) {
        assert_true(seccomp_kernel_allows_ptrace("6.18.0-1-amd64"));
        assert_true(seccomp_kernel_allows_ptrace("4.8.0"));
        assert_true(seccomp_kernel_allows_ptrace("5.0"));
        assert_false(seccomp_kernel_allows_ptrace("4.7.10"));
        assert_false(seccomp_kernel_allows_ptrace("3.10.0-1160.el7"));
        assert_false(seccomp_kernel_allows_ptrace("junk"));
        assert_false(seccomp_kernel_allows_ptrace(NULL));
}

/* In the child: 0 when @ret/@err is what we expect, else the line number. */
#define EXPECT(call, want_errno)                                                        \
        do {                                                                            \
                errno = 0;                                                              \
                long _r = (call);                                                       \
                if (_r != -1 || errno != (want_errno)) {                                \
                        fprintf(stderr, "line %d: %s = %ld (%s), wanted errno %s\n",    \
                                __LINE__, #call, _r, strerror(errno), strerror(want_errno)); \
                        _exit(__LINE__ % 250 + 1);                                      \
                }                                                                       \
        } while (0)
#define EXPECT_OK(call)                                                                 \
        do {                                                                            \
                if ((long) (call) < 0) {                                                \
                        fprintf(stderr, "line %d: %s failed: %m\n", __LINE__, #call);   \
                        _exit(__LINE__ % 250 + 1);                                      \
                }                                                                       \
        } while (0)

#if defined(__x86_64__)
/* A system call through the i386 entry point (int 0x80). */
static long sys32(long nr) {
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(0), "c"(0), "d"(0), "S"(0), "D"(0) : "memory");
        return r;
}
#endif

static char target[] = "/tmp/zl-test-seccomp-XXXXXX";

static int run_child(void (*fn)(void)) {
        int st;
        pid_t pid;

        assert_non_null(mkdtemp(target));
        pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                /* A mount that wrongly succeeds must not land on the host:
                 * our own mount namespace (as root), a target of our own. */
                if (geteuid() == 0 &&
                    (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0))
                        _exit(251);
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        _exit(250);
                fn();
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        (void) umount2(target, MNT_DETACH);
        assert_int_equal(rmdir(target), 0);
        strcpy(target + strlen(target) - 6, "XXXXXX");
        assert_true(WIFEXITED(st));
        return WEXITSTATUS(st);
}

/* set: child_default loads this compiled program instead of building one */
static const SeccompProgram *program_to_load;

static void child_default(void) {
        struct utsname u;
        pid_t p;
        int st;

        if (program_to_load)
                EXPECT_OK(seccomp_program_load(program_to_load));
        else
                EXPECT_OK(seccomp_profile_apply_default(0));
        EXPECT(mount("none", target, "tmpfs", 0, NULL), EPERM);
        EXPECT(umount2(target, MNT_DETACH), EPERM);
        EXPECT(unshare(CLONE_NEWNET), EPERM);
        EXPECT(unshare(CLONE_NEWUSER), EPERM);
        EXPECT(setns(0, 0), EPERM);
        EXPECT(syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0), EPERM);
        EXPECT(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), EPERM);
        EXPECT(syscall(SYS_clone3, NULL, 0), ENOSYS);
        EXPECT(syscall(SYS_init_module, NULL, 0, ""), EPERM);
        EXPECT(syscall(SYS_finit_module, -1, "", 0), EPERM);
        EXPECT(syscall(SYS_delete_module, "nope", 0), EPERM);
        EXPECT(syscall(SYS_kexec_load, 0, 0, NULL, 0), EPERM);
        EXPECT(syscall(SYS_bpf, 0, NULL, 0), EPERM);
        EXPECT(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), EPERM);
        EXPECT(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0), EPERM);
        EXPECT(syscall(SYS_add_key, "user", "x", "y", 1, -3), EPERM);
        EXPECT(syscall(SYS_open_by_handle_at, -1, NULL, 0), EPERM);
        EXPECT(syscall(SYS_reboot, 0, 0, 0, NULL), EPERM);
        EXPECT(syscall(SYS_swapon, "/nonexistent", 0), EPERM);
        EXPECT(syscall(SYS_acct, NULL), EPERM);
        EXPECT(syscall(SYS_settimeofday, NULL, NULL), EPERM);
        EXPECT(syscall(SYS_iopl, 0), EPERM);
        EXPECT(syscall(SYS_userfaultfd, 0), EPERM);
        EXPECT(syscall(SYS_io_uring_setup, 1, NULL), EPERM);
        /* an allowlist: what no table names is refused too, a number no
         * kernel has yet included (a denylist would answer ENOSYS) */
        EXPECT(syscall(SYS_vhangup), EPERM);
        EXPECT(syscall(SYS_pidfd_getfd, -1, 0, 0), EPERM);
        EXPECT(syscall(SYS_kcmp, getpid(), getpid(), 0, 0, 0), EPERM);
        EXPECT(syscall(1000), EPERM);
        /* CAP_SYS_CHROOT is not in 0 */
        EXPECT(chroot("/"), EPERM);
        EXPECT(sethostname("x", 1), EPERM);
        /* personality: only the values Docker lists */
        EXPECT(personality(PER_BSD), EPERM);
        EXPECT_OK(personality(0xffffffff));
        /* vsock reaches past the network namespace */
        EXPECT(socket(AF_VSOCK, SOCK_STREAM, 0), EPERM);
        {
                int fd = socket(AF_UNIX, SOCK_STREAM, 0);
                EXPECT_OK(fd);
                close(fd);
        }
#if defined(__x86_64__)
        /* the i386 entry point is filtered too (not killed as a foreign
         * architecture, not let through): getpid works, kexec_load does not */
        if (sys32(20 /* i386 getpid */) != getpid())
                _exit(248);
        if (sys32(283 /* i386 kexec_load */) != -EPERM)
                _exit(247);
#endif
        /* everything else still works: fork (clone without namespace flags), exec-like basics */
        EXPECT_OK(uname(&u));
        EXPECT_OK(getpid());
        p = fork();
        EXPECT_OK(p);
        if (p == 0)
                _exit(7);
        EXPECT_OK(waitpid(p, &st, 0));
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 7)
                _exit(249);
}

/* every name in the tables is a system call libseccomp knows: a typo would
 * be skipped silently and leave that call refused */
static void test_table_names_known(void **state) {
        const char *n = seccomp_profile_unknown_name();
        if (n)
                fail_msg("unknown system call name in lib/seccomp-profile.c: %s", n);
}

static void test_default_profile_refuses(void **state) {
        assert_int_equal(run_child(child_default), 0);
}

/* The compiled program the shim and the exec monitor load: stored whole in
 * the cache dir, found there again, and it refuses what the profile does. */
static void test_compiled_program(void **state) {
        char dir[] = "/tmp/zl-test-seccomp-cache-XXXXXX", path[320];
        const SeccompProgram *p, *again;
        struct dirent *de;
        int dfd, fd, n_files = 0;
        struct stat st;
        DIR *d;

        assert_non_null(mkdtemp(dir));
        dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        assert_int_equal(seccomp_profile_default_program(dfd, 0, &p), 0);
        assert_true(p->len > 100);
        /* one file, no temporary left, holding exactly the program */
        assert_non_null(d = opendir(dir));
        while ((de = readdir(d)))
                if (de->d_name[0] != '.') {
                        n_files++;
                        assert_true(strncmp(de->d_name, "default-", 8) == 0);
                        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                } else
                        assert_true(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0);
        closedir(d);
        assert_int_equal(n_files, 1);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_size, (off_t) p->len * (off_t) sizeof(struct sock_filter));
        {
                struct sock_filter *buf = malloc((size_t) st.st_size);
                assert_non_null(buf);
                assert_int_equal(read(fd, buf, (size_t) st.st_size), st.st_size);
                assert_memory_equal(buf, p->insns, (size_t) st.st_size);
                free(buf);
        }
        close(fd);
        /* the same capabilities: the same program; others: another one */
        assert_int_equal(seccomp_profile_default_program(dfd, 0, &again), 0);
        assert_ptr_equal(again, p);
        assert_int_equal(seccomp_profile_default_program(-1, UINT64_C(1) << CAP_SYS_ADMIN, &again), 0);
        assert_ptr_not_equal(again, p);
        assert_int_equal(seccomp_profile_default_program(dfd, 0, &p), 0);

        program_to_load = p;
        assert_int_equal(run_child(child_default), 0);
        program_to_load = NULL;

        assert_int_equal(unlink(path), 0);
        close(dfd);
        assert_int_equal(rmdir(dir), 0);
}

static void child_sys_admin(void) {
        EXPECT_OK(seccomp_profile_apply_default(UINT64_C(1) << CAP_SYS_ADMIN));
        /* with CAP_SYS_ADMIN (we are root here) a new namespace is allowed */
        EXPECT_OK(unshare(CLONE_NEWUTS));
        EXPECT_OK(sethostname("zl-seccomp-test", 15));
        /* what CAP_SYS_ADMIN does not bring back stays refused */
        EXPECT(syscall(SYS_init_module, NULL, 0, ""), EPERM);
        EXPECT(syscall(SYS_keyctl, 0, -3, 0), EPERM);
}

static void child_chroot_ptrace(void) {
        EXPECT_OK(seccomp_profile_apply_default(UINT64_C(1) << CAP_SYS_CHROOT | UINT64_C(1) << CAP_SYS_PTRACE));
        EXPECT_OK(chroot("/"));
        /* allowed by the filter: the kernel answers (no such process) */
        EXPECT(syscall(SYS_kcmp, 0x7ffffff0, getpid(), 0, 0, 0), ESRCH);
        EXPECT(unshare(CLONE_NEWUTS), EPERM);
        EXPECT(syscall(SYS_clone3, NULL, 0), ENOSYS);
}

static void test_capabilities_lift_refusals(void **state) {
        if (geteuid() != 0)
                skip();
        assert_int_equal(run_child(child_sys_admin), 0);
        assert_int_equal(run_child(child_chroot_ptrace), 0);
}

/* A Docker-format profile of the container's own (lib/seccomp-profile-json.c) */
#define OWN_PROFILE                                                                                            \
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\","          \
        "\"subArchitectures\":[\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]}],\"syscalls\":["                          \
        "{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13},"                 \
        "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\","                                        \
        "\"args\":[{\"index\":0,\"value\":6,\"op\":\"SCMP_CMP_EQ\"},{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]}," \
        "{\"names\":[\"getpriority\"],\"action\":\"SCMP_ACT_ERRNO\",\"includes\":{\"caps\":[\"CAP_SYS_NICE\"]}}," \
        "{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":5,\"excludes\":{\"caps\":[\"CAP_SYS_NICE\"]}}," \
        "{\"names\":[\"getpgrp\"],\"action\":\"SCMP_ACT_ERRNO\",\"excludes\":{\"caps\":[\"CAP_SYS_NICE\",\"CAP_CHOWN\"]}}," \
        "{\"names\":[\"sched_yield\"],\"action\":\"SCMP_ACT_ERRNO\",\"includes\":{\"minKernel\":\"99.0\"}}]}"

static void child_own_profile(void) {
        char *err = NULL;

        if (seccomp_profile_json_apply(OWN_PROFILE, 0, &err) < 0) {
                fprintf(stderr, "apply: %s\n", err);
                _exit(240);
        }
        EXPECT(mkdir(target, 0755), EACCES);
        /* conditions on one argument are alternatives */
        EXPECT(syscall(SYS_personality, PER_BSD), EPERM);
        EXPECT(syscall(SYS_personality, PER_LINUX32), EPERM);
        EXPECT_OK(syscall(SYS_personality, 0xffffffffUL));
        /* includes: not without CAP_SYS_NICE; excludes: applies without it */
        errno = 0;
        if (getpriority(PRIO_PROCESS, 0) == -1 && errno != 0)
                _exit(239);
        EXPECT(syscall(SYS_getppid), EIO);
        EXPECT(syscall(SYS_getpgrp), EPERM);
        /* minKernel beyond this kernel: no rule */
        EXPECT_OK(sched_yield());
        /* the default action: allowed */
        EXPECT_OK(getpid());
#if defined(__x86_64__)
        /* the sub-architectures of archMap are covered: not killed */
        if (sys32(20 /* i386 getpid */) != getpid())
                _exit(238);
#endif
}

/* one capability of an "excludes" list held drops the rule */
static void child_own_profile_chown(void) {
        if (seccomp_profile_json_apply(OWN_PROFILE, UINT64_C(1) << CAP_CHOWN, NULL) < 0)
                _exit(240);
        EXPECT_OK(syscall(SYS_getpgrp));
        EXPECT(syscall(SYS_getppid), EIO);
}

static void test_own_profile(void **state) {
        assert_int_equal(seccomp_profile_json_check(OWN_PROFILE, NULL, NULL), 0);
        assert_int_equal(run_child(child_own_profile), 0);
        assert_int_equal(run_child(child_own_profile_chown), 0);
}

/* a pretty-printed file becomes one launch config string: no newline, no tab */
static void test_own_profile_compact(void **state) {
        char *compact = NULL;

        assert_int_equal(seccomp_profile_json_check("{\n\t\"defaultAction\": \"SCMP_ACT_ALLOW\",\n\t\"syscalls\": [\n"
                                                    "\t\t{ \"names\": [ \"mkdir\" ], \"action\": \"SCMP_ACT_ERRNO\" }\n\t]\n}\n",
                                                    &compact, NULL),
                         0);
        assert_string_equal(compact, "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
                                     "\"action\":\"SCMP_ACT_ERRNO\"}]}");
        free(compact);
}

/* check_bad(TEXT, WORD): refused, the message naming WORD */
static void check_bad(const char *text, const char *word) {
        char *err = NULL;

        assert_int_equal(seccomp_profile_json_check(text, NULL, &err), -EINVAL);
        assert_non_null(err);
        if (!strstr(err, word))
                fail_msg("'%s' does not name '%s'", err, word);
        free(err);
}

static void test_own_profile_refused(void **state) {
        char *big;

        check_bad("nope", "JSON");
        check_bad("{}", "defaultAction");
        check_bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\"} junk", "JSON");
        check_bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"x\x7f\":1}", "DEL");
        check_bad("{\"defaultAction\":\"SCMP_ACT_NOPE\"}", "SCMP_ACT_NOPE");
        check_bad("{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", "SCMP_ACT_NOTIFY");
        check_bad("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":5000}", "5000");
        check_bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/x\"}", "listenerPath");
        check_bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_VAX\"]}", "SCMP_ARCH_VAX");
        check_bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"]}]}", "syscalls[0]");
        check_bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
                  "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":7,\"op\":\"SCMP_CMP_EQ\"}]}]}", "7");
        check_bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
                  "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"op\":\"SCMP_CMP_ABOUT\"}]}]}", "SCMP_CMP_ABOUT");
        check_bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
                  "\"action\":\"SCMP_ACT_ERRNO\",\"includes\":{\"caps\":[\"CAP_NOPE\"]}}]}", "CAP_NOPE");
        /* limits: the text's size */
        big = malloc(SECCOMP_PROFILE_SIZE_MAX + 2);
        assert_non_null(big);
        memset(big, ' ', SECCOMP_PROFILE_SIZE_MAX + 1);
        big[SECCOMP_PROFILE_SIZE_MAX + 1] = 0;
        check_bad(big, "larger");
        free(big);
}

#define LC(extra) "{\"id\":\"a-rep-1\",\"layers\":[\"" \
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"],\"args\":[\"/bin/true\"]" extra "}"

/* The launch config's "seccomp" field: default "default", validated. */
static void test_launch_config_seccomp_field(void **state) {
        LaunchConfig *c = NULL;
        char *err = NULL;

        assert_int_equal(launch_config_parse(LC(""), &c, &err), 0);
        assert_string_equal(c->seccomp, "default");
        launch_config_free(c);
        assert_int_equal(launch_config_parse(LC(",\"seccomp\":\"unconfined\""), &c, &err), 0);
        assert_string_equal(c->seccomp, "unconfined");
        launch_config_free(c);
        assert_int_equal(launch_config_parse(LC(",\"seccomp\":\"{\\\"defaultAction\\\":\\\"SCMP_ACT_LOG\\\"}\""), &c, &err),
                         0);
        assert_string_equal(c->seccomp, "{\"defaultAction\":\"SCMP_ACT_LOG\"}");
        launch_config_free(c);
        assert_true(launch_config_parse(LC(",\"seccomp\":\"{\\\"defaultAction\\\":1}\""), &c, &err) < 0);
        assert_non_null(strstr(err, "seccomp"));
        free(err);
        err = NULL;
        assert_true(launch_config_parse(LC(",\"seccomp\":\"/etc/profile.json\""), &c, &err) < 0);
        assert_non_null(err);
        assert_non_null(strstr(err, "seccomp"));
        free(err);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ptrace_kernel_version),
                cmocka_unit_test(test_table_names_known),
                cmocka_unit_test(test_default_profile_refuses),
                cmocka_unit_test(test_capabilities_lift_refusals),
                cmocka_unit_test(test_compiled_program),
                cmocka_unit_test(test_own_profile),
                cmocka_unit_test(test_own_profile_refused),
                cmocka_unit_test(test_own_profile_compact),
                cmocka_unit_test(test_launch_config_seccomp_field),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
