/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/sandbox.c for real in a child process (needs root: skips otherwise). */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox.h"

static void test_read_status_self(void **state) {
        uint64_t eff, prm, bnd;
        int nnp;

        assert_int_equal(sandbox_read_status(0, &eff, &prm, &bnd, &nnp), 0);
        assert_true((eff & ~prm) == 0); /* effective is a subset of permitted */
        assert_true(nnp == 0 || nnp == 1);
        assert_int_equal(sandbox_read_status(-1, &eff, &prm, &bnd, &nnp), 0);
        assert_true(sandbox_read_status(999999999, &eff, &prm, &bnd, &nnp) < 0);
}

static void test_limit_capabilities(void **state) {
        char dir[] = "/tmp/zl-test-sandbox-XXXXXX", node[64], file[64];
        int st;
        pid_t pid;

        if (geteuid() != 0)
                skip();
        assert_non_null(mkdtemp(dir));
        snprintf(node, sizeof(node), "%s/null", dir);
        snprintf(file, sizeof(file), "%s/f", dir);
        assert_int_equal(close(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)), 0);

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                const uint64_t keep = UINT64_C(1) << CAP_CHOWN;
                uint64_t eff, prm, bnd;
                int nnp;

                if (sandbox_limit_capabilities(keep) < 0)
                        _exit(10);
                if (sandbox_read_status(0, &eff, &prm, &bnd, &nnp) < 0)
                        _exit(11);
                if (eff != keep || prm != keep || bnd != keep || nnp != 1) {
                        fprintf(stderr, "eff %llx prm %llx bnd %llx nnp %d\n", (unsigned long long) eff,
                                (unsigned long long) prm, (unsigned long long) bnd, nnp);
                        _exit(12);
                }
                /* kept: chown to another owner */
                if (chown(file, 65534, 65534) < 0)
                        _exit(13);
                /* dropped: mknod of a device */
                if (mknod(node, S_IFCHR | 0600, makedev(1, 3)) == 0 || errno != EPERM)
                        _exit(14);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        (void) unlink(node);
        assert_int_equal(unlink(file), 0);
        assert_int_equal(rmdir(dir), 0);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_read_status_self),
                cmocka_unit_test(test_limit_capabilities),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
