/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Freezing and listing the tasks of a cgroup, against fake v1/v2 trees. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "lib/cgroup.h"
#include "lib/fileio.h"
#include "lib/macro.h"

static char tmp[64];

static void put(const char *rel, const char *content) {
        _cleanup_free_ char *p = NULL, *dir = NULL;
        assert_true(asprintf(&p, "%s/%s", tmp, rel) > 0);
        dir = strdup(p);
        *strrchr(dir, '/') = '\0';
        assert_int_equal(mkdir_p_at(AT_FDCWD, dir, 0755), 0);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(loop_write(fd, content, strlen(content)), 0);
}

static void expect(const char *rel, const char *content) {
        _cleanup_free_ char *p = NULL, *s = NULL;
        assert_true(asprintf(&p, "%s/%s", tmp, rel) > 0);
        if (read_file_at(AT_FDCWD, p, 4096, &s, NULL) < 0)
                fail_msg("missing %s", rel);
        assert_string_equal(s, content);
}

static int setup(void **state) {
        snprintf(tmp, sizeof(tmp), "/tmp/zl-cgfreeze-test-XXXXXX");
        assert_non_null(mkdtemp(tmp));
        return 0;
}

static int teardown(void **state) {
        (void) rm_rf_at(AT_FDCWD, tmp);
        return 0;
}

static void test_v1_freeze(void **state) {
        _cleanup_cgroup_driver_ CgroupDriver *d = NULL;

        put("freezer/zlayer/c1/freezer.state", "THAWED\n");
        put("memory/zlayer/c1/cgroup.procs", "");
        assert_int_equal(cgroup_driver_new(tmp, CGROUP_V1, &d), 0);

        assert_int_equal(cgroup_freeze(d, "zlayer/c1", true), 0);
        expect("freezer/zlayer/c1/freezer.state", "FROZEN");
        assert_int_equal(cgroup_freeze(d, "zlayer/c1", false), 0);
        expect("freezer/zlayer/c1/freezer.state", "THAWED");
        /* a cgroup that is not there is not created by freezing it */
        assert_int_equal(cgroup_freeze(d, "zlayer/nope", true), -ENOENT);
}

static void test_v1_no_freezer(void **state) {
        _cleanup_cgroup_driver_ CgroupDriver *d = NULL;

        put("memory/zlayer/c1/cgroup.procs", "");
        assert_int_equal(cgroup_driver_new(tmp, CGROUP_V1, &d), 0);
        assert_int_equal(cgroup_freeze(d, "zlayer/c1", true), -EOPNOTSUPP);
}

static void test_v2_freeze(void **state) {
        _cleanup_cgroup_driver_ CgroupDriver *d = NULL;

        put("zlayer/c1/cgroup.procs", "");
        assert_int_equal(cgroup_driver_new(tmp, CGROUP_V2, &d), 0);
        assert_int_equal(cgroup_freeze(d, "zlayer/c1", true), 0);
        expect("zlayer/c1/cgroup.freeze", "1");
        assert_int_equal(cgroup_freeze(d, "zlayer/c1", false), 0);
        expect("zlayer/c1/cgroup.freeze", "0");
        assert_int_equal(cgroup_freeze(d, "zlayer/nope", true), -ENOENT);

        /* cgroup.events says when the transition is done: wait for it */
        put("zlayer/c1/cgroup.events", "populated 1\nfrozen 1\n");
        assert_int_equal(cgroup_freeze(d, "zlayer/c1", true), 0);
        /* never reported thawed: a timeout, not a false success */
        assert_int_equal(cgroup_freeze(d, "zlayer/c1", false), -ETIMEDOUT);
}

static void test_read_pids(void **state) {
        _cleanup_cgroup_driver_ CgroupDriver *d1 = NULL, *d2 = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 99;

        /* v1: pids hierarchy first, sorted on the way out */
        put("pids/zlayer/c1/cgroup.procs", "42\n7\n1000\n");
        put("memory/zlayer/c1/cgroup.procs", "1\n");
        assert_int_equal(cgroup_driver_new(tmp, CGROUP_V1, &d1), 0);
        assert_int_equal(cgroup_read_pids(d1, "zlayer/c1", &pids, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(pids[0], 7);
        assert_int_equal(pids[1], 42);
        assert_int_equal(pids[2], 1000);
        free(TAKE_PTR(pids));

        put("pids/zlayer/c2/cgroup.procs", "");
        assert_int_equal(cgroup_read_pids(d1, "zlayer/c2", &pids, &n), 0);
        assert_int_equal(n, 0);
        free(TAKE_PTR(pids));

        put("pids/zlayer/bad/cgroup.procs", "12\nabc\n");
        assert_int_equal(cgroup_read_pids(d1, "zlayer/bad", &pids, &n), -EBADMSG);
        assert_int_equal(cgroup_read_pids(d1, "zlayer/none", &pids, &n), -ENOENT);

        /* v2: the unified directory */
        put("zlayer/c3/cgroup.procs", "5\n3\n");
        assert_int_equal(cgroup_driver_new(tmp, CGROUP_V2, &d2), 0);
        assert_int_equal(cgroup_read_pids(d2, "zlayer/c3", &pids, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(pids[0], 3);
        assert_int_equal(pids[1], 5);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_v1_freeze, setup, teardown),
                cmocka_unit_test_setup_teardown(test_v1_no_freezer, setup, teardown),
                cmocka_unit_test_setup_teardown(test_v2_freeze, setup, teardown),
                cmocka_unit_test_setup_teardown(test_read_pids, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
