/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cgroup drivers against fake cgroupfs trees in a temp dir. */
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

static const LaunchResources full = {
        .cpu_quota = 50000,
        .cpu_period = 100000,
        .cpu_shares = 512,
        .memory = 64 * 1024 * 1024,
        .memory_swap = 128 * 1024 * 1024,
        .memory_reservation = 32 * 1024 * 1024,
        .pids_limit = 100,
        .cpuset_cpus = (char *) "0-1",
};

static void test_detect(void **state) {
        CgroupVersion v;
        /* a temp dir is no cgroup2 mount */
        assert_int_equal(cgroup_detect_version(fake_root, &v), 0);
        assert_int_equal(v, CGROUP_V1);
        assert_int_equal(cgroup_detect_version("/nonexistent-zl", &v), -ENOENT);
}

static void test_v1(void **state) {
        _cleanup_cgroup_driver_ CgroupDriver *d = NULL;
        uint64_t oom;

        /* hierarchies present: cpu memory pids cpuset (no freezer, blkio…) */
        fake_put("cpu/cpu.shares", "1024\n");
        fake_put("memory/memory.limit_in_bytes", "9223372036854771712\n");
        fake_put("pids/pids.max", "max\n");
        fake_put("cpuset/cpuset.cpus", "0-3\n");
        fake_put("cpuset/cpuset.mems", "0\n");
        /* swap accounting available in the leaf (kernel would create it) */
        fake_put("memory/zlayer/c1/memory.memsw.limit_in_bytes", "9223372036854771712\n");

        assert_int_equal(cgroup_driver_new(fake_root, CGROUP_V1, &d), 0);
        assert_int_equal(cgroup_create(d, "zlayer/c1"), 0);
        assert_true(fake_exists("cpu/zlayer/c1"));
        assert_true(fake_exists("pids/zlayer/c1"));
        assert_false(fake_exists("freezer"));
        /* cpuset copied down level by level */
        fake_expect("cpuset/zlayer/cpuset.cpus", "0-3");
        fake_expect("cpuset/zlayer/cpuset.mems", "0");
        fake_expect("cpuset/zlayer/c1/cpuset.mems", "0");

        assert_int_equal(cgroup_apply_resources(d, "zlayer/c1", &full), 0);
        fake_expect("cpu/zlayer/c1/cpu.cfs_period_us", "100000");
        fake_expect("cpu/zlayer/c1/cpu.cfs_quota_us", "50000");
        fake_expect("cpu/zlayer/c1/cpu.shares", "512");
        fake_expect("memory/zlayer/c1/memory.limit_in_bytes", "67108864");
        fake_expect("memory/zlayer/c1/memory.memsw.limit_in_bytes", "134217728");
        fake_expect("memory/zlayer/c1/memory.soft_limit_in_bytes", "33554432");
        fake_expect("pids/zlayer/c1/pids.max", "100");
        fake_expect("cpuset/zlayer/c1/cpuset.cpus", "0-1");

        assert_int_equal(cgroup_attach_pid(d, "zlayer/c1", 4242), 0);
        fake_expect("cpu/zlayer/c1/cgroup.procs", "4242");
        fake_expect("memory/zlayer/c1/cgroup.procs", "4242");
        fake_expect("cpuset/zlayer/c1/cgroup.procs", "4242");

        fake_put("memory/zlayer/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
        assert_int_equal(cgroup_read_oom_kills(d, "zlayer/c1", &oom), 0);
        assert_int_equal(oom, 3);
}

static void test_v1_defaults(void **state) {
        _cleanup_cgroup_driver_ CgroupDriver *d = NULL;
        LaunchResources r = { .memory = 10 * 1024 * 1024, .pids_limit = -1, .cpu_quota = 20000 };

        fake_put("cpu/cpu.shares", "1024\n");
        fake_put("memory/memory.limit_in_bytes", "1\n");
        fake_put("pids/pids.max", "max\n");
        fake_put("memory/zlayer/c2/memory.memsw.limit_in_bytes", "1\n");
        assert_int_equal(cgroup_driver_new(fake_root, CGROUP_V1, &d), 0);
        assert_int_equal(cgroup_create(d, "zlayer/c2"), 0);
        assert_int_equal(cgroup_apply_resources(d, "zlayer/c2", &r), 0);
        /* default period, Docker's default swap (twice the memory), no shares */
        fake_expect("cpu/zlayer/c2/cpu.cfs_period_us", "100000");
        fake_expect("cpu/zlayer/c2/cpu.cfs_quota_us", "20000");
        assert_false(fake_exists("cpu/zlayer/c2/cpu.shares"));
        fake_expect("memory/zlayer/c2/memory.memsw.limit_in_bytes", "20971520");
        fake_expect("pids/zlayer/c2/pids.max", "max");

        r.memory_swap = -1;
        assert_int_equal(cgroup_apply_resources(d, "zlayer/c2", &r), 0);
        fake_expect("memory/zlayer/c2/memory.memsw.limit_in_bytes", "-1");

        /* nothing asked, nothing written */
        LaunchResources none = {};
        assert_int_equal(cgroup_create(d, "zlayer/c3"), 0);
        assert_int_equal(cgroup_apply_resources(d, "zlayer/c3", &none), 0);
        assert_false(fake_exists("memory/zlayer/c3/memory.limit_in_bytes"));
        assert_false(fake_exists("pids/zlayer/c3/pids.max"));

        /* destroy removes the leaf in every hierarchy (fake tree: empty dirs only) */
        assert_int_equal(cgroup_destroy(d, "zlayer/c3"), 0);
        assert_false(fake_exists("memory/zlayer/c3"));
        assert_false(fake_exists("cpu/zlayer/c3"));
        assert_int_equal(cgroup_destroy(d, "zlayer/c3"), 0); /* missing is fine */
}

static void test_v2(void **state) {
        _cleanup_cgroup_driver_ CgroupDriver *d = NULL;
        uint64_t oom;

        fake_put("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        assert_int_equal(cgroup_driver_new(fake_root, CGROUP_V2, &d), 0);
        assert_int_equal(cgroup_create(d, "zlayer/c1"), 0);
        assert_true(fake_exists("zlayer/c1"));
        fake_expect("cgroup.subtree_control", "+cpu +cpuset +io +memory +pids");
        fake_expect("zlayer/cgroup.subtree_control", "+cpu +cpuset +io +memory +pids");

        assert_int_equal(cgroup_apply_resources(d, "zlayer/c1", &full), 0);
        fake_expect("zlayer/c1/cpu.max", "50000 100000");
        /* 1 + ((512 - 2) * 9999) / 262142 */
        fake_expect("zlayer/c1/cpu.weight", "20");
        fake_expect("zlayer/c1/memory.max", "67108864");
        fake_expect("zlayer/c1/memory.swap.max", "67108864"); /* swap alone: 128 MiB - 64 MiB */
        fake_expect("zlayer/c1/memory.low", "33554432");
        fake_expect("zlayer/c1/pids.max", "100");
        fake_expect("zlayer/c1/cpuset.cpus", "0-1");

        LaunchResources r = { .cpu_period = 50000, .memory = 8 * 1024 * 1024, .memory_swap = -1, .pids_limit = -1 };
        assert_int_equal(cgroup_apply_resources(d, "zlayer/c1", &r), 0);
        fake_expect("zlayer/c1/cpu.max", "max 50000");
        fake_expect("zlayer/c1/memory.swap.max", "max");
        fake_expect("zlayer/c1/pids.max", "max");

        assert_int_equal(cgroup_attach_pid(d, "zlayer/c1", 77), 0);
        fake_expect("zlayer/c1/cgroup.procs", "77");

        fake_put("zlayer/c1/memory.events", "low 0\nhigh 0\nmax 5\noom 2\noom_kill 1\noom_group_kill 0\n");
        assert_int_equal(cgroup_read_oom_kills(d, "zlayer/c1", &oom), 0);
        assert_int_equal(oom, 1);
}

static void test_v2_partial_controllers(void **state) {
        _cleanup_cgroup_driver_ CgroupDriver *d = NULL;

        fake_put("cgroup.controllers", "memory pids\n");
        assert_int_equal(cgroup_driver_new(fake_root, CGROUP_V2, &d), 0);
        assert_int_equal(cgroup_create(d, "zlayer/shims"), 0);
        fake_expect("cgroup.subtree_control", "+memory +pids");
        fake_expect("zlayer/cgroup.subtree_control", "+memory +pids");
}

static void test_weight_and_paths(void **state) {
        _cleanup_free_ char *p = NULL;

        assert_int_equal(cgroup_shares_to_weight(2), 1);
        assert_int_equal(cgroup_shares_to_weight(1024), 39);
        assert_int_equal(cgroup_shares_to_weight(262144), 10000);
        assert_int_equal(cgroup_shares_to_weight(0), 0);

        assert_int_equal(cgroup_container_path("web-rep-1", &p), 0);
        assert_string_equal(p, "zlayer/web-rep-1");
        assert_int_equal(cgroup_container_path("../x", &p), -EINVAL);
        assert_int_equal(cgroup_container_path("shims", &p), -EINVAL);
        assert_int_equal(cgroup_driver_new("relative", CGROUP_V1, &(CgroupDriver *) { NULL }), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_detect, fake_cgroupfs_setup, fake_cgroupfs_teardown),
                cmocka_unit_test_setup_teardown(test_v1, fake_cgroupfs_setup, fake_cgroupfs_teardown),
                cmocka_unit_test_setup_teardown(test_v1_defaults, fake_cgroupfs_setup, fake_cgroupfs_teardown),
                cmocka_unit_test_setup_teardown(test_v2, fake_cgroupfs_setup, fake_cgroupfs_teardown),
                cmocka_unit_test_setup_teardown(test_v2_partial_controllers, fake_cgroupfs_setup, fake_cgroupfs_teardown),
                cmocka_unit_test(test_weight_and_paths),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
