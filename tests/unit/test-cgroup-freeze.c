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
#include "fake-cgroupfs.h"

static void test_v1_freeze(void **state) {
        _cleanup_cgroup_driver_ CgroupDriver *d = NULL;

        fake_put("freezer/zlayer/c1/freezer.state", "THAWED\n");
        fake_put("memory/zlayer/c1/cgroup.procs", "");
        assert_int_equal(cgroup_driver_new(fake_root, CGROUP_V1, &d), 0);

        assert_int_equal(cgroup_freeze(d, "zlayer/c1", true), 0);
        fake_expect("freezer/zlayer/c1/freezer.state", "FROZEN");
        assert_int_equal(cgroup_freeze(d, "zlayer/c1", false), 0);
        fake_expect("freezer/zlayer/c1/freezer.state", "THAWED");
        /* a cgroup that is not there is not created by freezing it */
        assert_int_equal(cgroup_freeze(d, "zlayer/nope", true), -ENOENT);
}

static void test_v1_no_freezer(void **state) {
        _cleanup_cgroup_driver_ CgroupDriver *d = NULL;

        fake_put("memory/zlayer/c1/cgroup.procs", "");
        assert_int_equal(cgroup_driver_new(fake_root, CGROUP_V1, &d), 0);
        assert_int_equal(cgroup_freeze(d, "zlayer/c1", true), -EOPNOTSUPP);
}

static void test_v2_freeze(void **state) {
        _cleanup_cgroup_driver_ CgroupDriver *d = NULL;

        fake_put("zlayer/c1/cgroup.procs", "");
        assert_int_equal(cgroup_driver_new(fake_root, CGROUP_V2, &d), 0);
        assert_int_equal(cgroup_freeze(d, "zlayer/c1", true), 0);
        fake_expect("zlayer/c1/cgroup.freeze", "1");
        assert_int_equal(cgroup_freeze(d, "zlayer/c1", false), 0);
        fake_expect("zlayer/c1/cgroup.freeze", "0");
        assert_int_equal(cgroup_freeze(d, "zlayer/nope", true), -ENOENT);

        /* cgroup.events says when the transition is done: wait for it */
        fake_put("zlayer/c1/cgroup.events", "populated 1\nfrozen 1\n");
        assert_int_equal(cgroup_freeze(d, "zlayer/c1", true), 0);
        /* never reported thawed: a timeout, not a false success */
        assert_int_equal(cgroup_freeze(d, "zlayer/c1", false), -ETIMEDOUT);
}

static void test_read_pids(void **state) {
        _cleanup_cgroup_driver_ CgroupDriver *d1 = NULL, *d2 = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 99;

        /* v1: pids hierarchy first, sorted on the way out */
        fake_put("pids/zlayer/c1/cgroup.procs", "42\n7\n1000\n");
        fake_put("memory/zlayer/c1/cgroup.procs", "1\n");
        assert_int_equal(cgroup_driver_new(fake_root, CGROUP_V1, &d1), 0);
        assert_int_equal(cgroup_read_pids(d1, "zlayer/c1", &pids, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(pids[0], 7);
        assert_int_equal(pids[1], 42);
        assert_int_equal(pids[2], 1000);
        free(TAKE_PTR(pids));

        fake_put("pids/zlayer/c2/cgroup.procs", "");
        assert_int_equal(cgroup_read_pids(d1, "zlayer/c2", &pids, &n), 0);
        assert_int_equal(n, 0);
        free(TAKE_PTR(pids));

        fake_put("pids/zlayer/bad/cgroup.procs", "12\nabc\n");
        assert_int_equal(cgroup_read_pids(d1, "zlayer/bad", &pids, &n), -EBADMSG);
        assert_int_equal(cgroup_read_pids(d1, "zlayer/none", &pids, &n), -ENOENT);

        /* v2: the unified directory */
        fake_put("zlayer/c3/cgroup.procs", "5\n3\n");
        assert_int_equal(cgroup_driver_new(fake_root, CGROUP_V2, &d2), 0);
        assert_int_equal(cgroup_read_pids(d2, "zlayer/c3", &pids, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(pids[0], 3);
        assert_int_equal(pids[1], 5);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_v1_freeze, fake_cgroupfs_setup, fake_cgroupfs_teardown),
                cmocka_unit_test_setup_teardown(test_v1_no_freezer, fake_cgroupfs_setup, fake_cgroupfs_teardown),
                cmocka_unit_test_setup_teardown(test_v2_freeze, fake_cgroupfs_setup, fake_cgroupfs_teardown),
                cmocka_unit_test_setup_teardown(test_read_pids, fake_cgroupfs_setup, fake_cgroupfs_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
