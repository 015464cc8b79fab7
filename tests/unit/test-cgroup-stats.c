/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container stats from fake cgroupfs (v1 and v2) and /proc trees, the JSON
 * line of Stats1.Sample, and the seccomp allowlist of zlayer-stats
 * (lib/sandbox-syscalls.c): it reads, and has no call that changes a file
 * system, loaded for real in children. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/cgroup-stats.h"
#include "lib/fileio.h"
#include "lib/macro.h"
#include "fake-cgroupfs.h"
#include "lib/sandbox-seccomp.h"

#define NET_DEV                                                                                                   \
        "Inter-|   Receive                                                |  Transmit\n"                           \
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls " \
        "carrier compressed\n"                                                                                     \
        "    lo:  999999      10    0    0    0     0          0         0   888888      10    0    0    0     0 " \
        "      0          0\n"                                                                                     \
        "  eth0:    1500      12    0    0    0     0          0         0      700       7    0    0    0     0 " \
        "      0          0\n"                                                                                     \
        "  eth1:      20       1    0    0    0     0          0         0       30       1    0    0    0     0 " \
        "      0          0\n"

static void proc_tree(void) {
        fake_put("proc/stat", "cpu  100 5 50 1000 20 3 2 0 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n");
        fake_put("proc/meminfo", "MemTotal:        2000000 kB\nMemFree:          100000 kB\n");
        fake_put("proc/42/net/dev", NET_DEV);
}

static void test_parse_net_dev(void **state) {
        uint64_t rx = 1, tx = 1;
        assert_int_equal(stats_parse_net_dev(NET_DEV, &rx, &tx), 0);
        assert_int_equal(rx, 1520);
        assert_int_equal(tx, 730);
        assert_int_equal(stats_parse_net_dev("h1\nh2\n  eth0: 1 2 3\n", &rx, &tx), -EBADMSG);
}

static void test_parse_blkio(void **state) {
        uint64_t r = 0, w = 0;
        assert_int_equal(stats_parse_blkio_v1("8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 1\n8:0 Total 12288\n"
                                              "8:16 Read 1\n8:16 Write 2\nTotal 12291\n",
                                              &r, &w),
                         0);
        assert_int_equal(r, 4097);
        assert_int_equal(w, 8194);
        assert_int_equal(stats_parse_io_stat_v2("8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n"
                                                "8:16 rbytes=5 wbytes=7 rios=1 wios=1 dbytes=9 dios=1",
                                                &r, &w),
                         0);
        assert_int_equal(r, 105);
        assert_int_equal(w, 207);
}

static void test_parse_proc_stat(void **state) {
        uint64_t ns = 0;
        assert_int_equal(stats_parse_proc_stat_cpu("cpu  100 5 50 1000 20 3 2 0 7 7\n", 100, &ns), 0);
        assert_int_equal(ns, 1180ULL * 10000000ULL);
        assert_int_equal(stats_parse_proc_stat_cpu("intr 1 2\n", 100, &ns), -EBADMSG);
}

static void test_v1(void **state) {
        _cleanup_cgroup_driver_ CgroupDriver *d = NULL;
        _cleanup_free_ char *proc = NULL;
        ContainerStats s;

        proc_tree();
        fake_put("cg/cpuacct/zlayer/c1/cpuacct.usage", "123456789\n");
        fake_put("cg/memory/zlayer/c1/memory.usage_in_bytes", "90000000\n");
        fake_put("cg/memory/zlayer/c1/memory.stat", "cache 1000\ninactive_file 1\ntotal_cache 30000000\n"
                                               "total_inactive_file 20000000\ntotal_active_file 5\n");
        fake_put("cg/memory/zlayer/c1/memory.limit_in_bytes", "104857600\n");
        fake_put("cg/pids/zlayer/c1/pids.current", "3\n");
        fake_put("cg/pids/zlayer/c1/pids.max", "64\n");
        fake_put("cg/blkio/zlayer/c1/blkio.throttle.io_service_bytes", "8:0 Read 4096\n8:0 Write 20971520\nTotal 20975616\n");

        _cleanup_free_ char *root = NULL;
        assert_true(asprintf(&root, "%s/cg", fake_root) > 0);
        assert_true(asprintf(&proc, "%s/proc", fake_root) > 0);
        assert_int_equal(cgroup_driver_new(root, CGROUP_V1, &d), 0);
        assert_int_equal(container_stats_read(d, "zlayer/c1", proc, 42, &s), 0);
        assert_int_equal(s.cpu_total_ns, 123456789);
        assert_int_equal(s.cpu_system_ns, 1180ULL * (1000000000ULL / (uint64_t) sysconf(_SC_CLK_TCK)));
        assert_true(s.online_cpus >= 1);
        assert_int_equal(s.mem_used_bytes, 70000000);
        assert_int_equal(s.mem_limit_bytes, 104857600);
        assert_int_equal(s.net_rx_bytes, 1520);
        assert_int_equal(s.net_tx_bytes, 730);
        assert_int_equal(s.blkio_read_bytes, 4096);
        assert_int_equal(s.blkio_write_bytes, 20971520);
        assert_int_equal(s.pids_current, 3);
        assert_int_equal(s.pids_limit, 64);
        assert_true(s.timestamp > 1600000000ULL * 1000000ULL);

        /* no limits: the host's memory, pids 0; no pid: no network */
        fake_put("cg/memory/zlayer/c1/memory.limit_in_bytes", "9223372036854771712\n");
        fake_put("cg/pids/zlayer/c1/pids.max", "max\n");
        assert_int_equal(container_stats_read(d, "zlayer/c1", proc, 0, &s), 0);
        assert_int_equal(s.mem_limit_bytes, 2000000ULL * 1024);
        assert_int_equal(s.pids_limit, 0);
        assert_int_equal(s.net_rx_bytes, 0);

        assert_int_equal(container_stats_read(d, "zlayer/nope", proc, 0, &s), -ENOENT);
}

static void test_v2(void **state) {
        _cleanup_cgroup_driver_ CgroupDriver *d = NULL;
        _cleanup_free_ char *proc = NULL, *root = NULL;
        ContainerStats s;

        proc_tree();
        fake_put("cg/zlayer/c2/cpu.stat", "usage_usec 5000\nuser_usec 4000\nsystem_usec 1000\n");
        fake_put("cg/zlayer/c2/memory.current", "60000000\n");
        fake_put("cg/zlayer/c2/memory.stat", "anon 50000000\nfile 10000000\nactive_file 2000000\ninactive_file 8000000\n");
        fake_put("cg/zlayer/c2/memory.max", "max\n");
        fake_put("cg/zlayer/c2/pids.current", "2\n");
        fake_put("cg/zlayer/c2/pids.max", "100\n");
        fake_put("cg/zlayer/c2/io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n");

        assert_true(asprintf(&root, "%s/cg", fake_root) > 0);
        assert_true(asprintf(&proc, "%s/proc", fake_root) > 0);
        assert_int_equal(cgroup_driver_new(root, CGROUP_V2, &d), 0);
        assert_int_equal(container_stats_read(d, "zlayer/c2", proc, 42, &s), 0);
        assert_int_equal(s.cpu_total_ns, 5000000);
        assert_int_equal(s.mem_used_bytes, 52000000);
        assert_int_equal(s.mem_limit_bytes, 2000000ULL * 1024);
        assert_int_equal(s.pids_current, 2);
        assert_int_equal(s.pids_limit, 100);
        assert_int_equal(s.blkio_read_bytes, 100);
        assert_int_equal(s.blkio_write_bytes, 200);
        assert_int_equal(s.net_rx_bytes, 1520);

        fake_put("cg/zlayer/c2/memory.max", "67108864\n");
        assert_int_equal(container_stats_read(d, "zlayer/c2", proc, 42, &s), 0);
        assert_int_equal(s.mem_limit_bytes, 67108864);
        assert_int_equal(container_stats_read(d, "zlayer/nope", proc, 0, &s), -ENOENT);
}

/* The JSON line zlayer-stats answers and the broker streams, both ways. */
static void test_json_round_trip(void **state) {
        ContainerStats in = {
                .cpu_total_ns = 1, .cpu_system_ns = 2, .online_cpus = 3, .mem_used_bytes = 4,
                .mem_limit_bytes = UINT64_MAX, .net_rx_bytes = 6, .net_tx_bytes = 7, .blkio_read_bytes = 8,
                .blkio_write_bytes = 9, .pids_current = 10, .pids_limit = 11, .timestamp = 1700000000000000,
        }, out;
        _cleanup_free_ char *line = NULL, *again = NULL;

        assert_int_equal(container_stats_to_json_line(&in, &line), 0);
        assert_non_null(strchr(line, '\n'));
        assert_string_equal(strchr(line, '\n') + 1, "");
        assert_int_equal(container_stats_from_json(line, &out), 0);
        /* every field: written again, the same line */
        assert_int_equal(container_stats_to_json_line(&out, &again), 0);
        assert_string_equal(again, line);
        /* and each value under its own key */
        assert_int_equal(out.cpu_system_ns, 2);
        assert_int_equal(out.online_cpus, 3);
        assert_true(out.mem_limit_bytes == UINT64_MAX);
        assert_int_equal(out.blkio_write_bytes, 9);
        assert_true(out.timestamp == 1700000000000000ULL);
}

/* The 12 keys with values 1…12, @key's value replaced by @value (NULL:
 * left out), and @extra appended when not NULL. */
static char *sample_json(const char *key, const char *value, const char *extra) {
        static const char *const keys[] = {
                "cpu_total_ns", "cpu_system_ns", "online_cpus", "mem_used_bytes", "mem_limit_bytes", "net_rx_bytes",
                "net_tx_bytes", "blkio_read_bytes", "blkio_write_bytes", "pids_current", "pids_limit", "timestamp",
        };
        char buf[1024] = "{";
        size_t n = 1;

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                bool this = key && streq(keys[i], key);
                if (this && !value)
                        continue;
                if (this)
                        n += snprintf(buf + n, sizeof(buf) - n, "\"%s\":%s,", keys[i], value);
                else
                        n += snprintf(buf + n, sizeof(buf) - n, "\"%s\":%zu,", keys[i], i + 1);
        }
        if (extra)
                n += snprintf(buf + n, sizeof(buf) - n, "%s,", extra);
        buf[n - 1] = '}';
        return strdup(buf);
}

static void test_json_strict(void **state) {
        static const char *const bad[][3] = {
                { "pids_limit", NULL, NULL },             /* a key missing */
                { "cpu_total_ns", "-1", NULL },           /* negative */
                { "cpu_total_ns", "\"1\"", NULL },        /* a string */
                { "timestamp", "1.5", NULL },             /* not an integer */
                { "online_cpus", "4294967296", NULL },    /* beyond a u */
                { NULL, NULL, "\"extra\":1" },            /* an extra key */
        };
        ContainerStats s;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *j = sample_json(bad[i][0], bad[i][1], bad[i][2]);
                assert_non_null(j);
                if (container_stats_from_json(j, &s) != -EBADMSG)
                        fail_msg("accepted: %s", j);
        }
        assert_int_equal(container_stats_from_json("", &s), -EBADMSG);
        assert_int_equal(container_stats_from_json("[]", &s), -EBADMSG);
        assert_int_equal(container_stats_from_json("not json", &s), -EBADMSG);

        _cleanup_free_ char *good = sample_json(NULL, NULL, NULL);
        assert_int_equal(container_stats_from_json(good, &s), 0);
        assert_int_equal(s.online_cpus, 3);
        assert_int_equal(s.timestamp, 12);
        _cleanup_free_ char *big = sample_json("mem_limit_bytes", "18446744073709551615", NULL);
        assert_int_equal(container_stats_from_json(big, &s), 0);
        assert_true(s.mem_limit_bytes == UINT64_MAX);
}

static void test_allowlist_names_resolve(void **state) {
        const char *bad = sandbox_syscalls_unknown(sandbox_syscalls_stats);
        if (bad)
                fail_msg("unknown system call in the stats allowlist: %s", bad);
}

static void test_allowlist_no_writing_calls(void **state) {
        static const char *const writing[] = {
                "mkdir", "mkdirat", "unlink", "unlinkat", "rmdir", "rename", "renameat", "renameat2",
                "link", "linkat", "symlink", "symlinkat", "truncate", "ftruncate", "fallocate",
                "chmod", "fchmod", "fchmodat", "chown", "fchown", "fchownat", "lchown", "mknod",
                "mknodat", "setxattr", "fsetxattr", "lsetxattr", "removexattr", "fremovexattr",
                "utimensat", "mount", "unshare", "setns", "execve", "clone", "clone3", "ptrace", NULL,
        };
        const char *const *lists[] = { sandbox_syscalls_base, sandbox_syscalls_stats, NULL };
        for (const char *const *const *l = lists; *l; l++)
                for (const char *const *s = *l; *s; s++)
                        for (const char *const *w = writing; *w; w++)
                                if (strcmp(*s, *w) == 0)
                                        fail_msg("%s is allowed to zlayer-stats", *s);
}

static char victim[64];

/* In a child: the stats filter, then @op; the child's wait status. */
static int run_filtered(int op) {
        int st;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                const char *const *lists[] = { sandbox_syscalls_base, sandbox_syscalls_stats, NULL };
                char buf[64];
                int fd;

                if (sandbox_seccomp_allowlist(lists) < 0)
                        _exit(2);
                if (op == 0) { /* what it does all day */
                        fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
                        _exit(fd >= 0 && read(fd, buf, sizeof(buf)) > 0 ? 0 : 3);
                }
                if (op == 1)
                        (void) unlink(victim);
                else
                        (void) mkdir(victim, 0755);
                _exit(4); /* not reached: SIGSYS */
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        return st;
}

static void test_allowlist_reads_and_kills_writers(void **state) {
        int st;

        snprintf(victim, sizeof(victim), "/tmp/zl-stats-sandbox-XXXXXX");
        int fd = mkstemp(victim);
        assert_true(fd >= 0);
        close(fd);

        st = run_filtered(0);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        for (int op = 1; op <= 2; op++) {
                st = run_filtered(op);
                assert_true(WIFSIGNALED(st));
                assert_int_equal(WTERMSIG(st), SIGSYS);
        }
        /* the file the child tried to unlink is still there */
        assert_int_equal(access(victim, F_OK), 0);
        assert_int_equal(unlink(victim), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_net_dev),
                cmocka_unit_test(test_parse_blkio),
                cmocka_unit_test(test_parse_proc_stat),
                cmocka_unit_test_setup_teardown(test_v1, fake_cgroupfs_setup, fake_cgroupfs_teardown),
                cmocka_unit_test_setup_teardown(test_v2, fake_cgroupfs_setup, fake_cgroupfs_teardown),
                cmocka_unit_test(test_json_round_trip),
                cmocka_unit_test(test_json_strict),
                cmocka_unit_test(test_allowlist_names_resolve),
                cmocka_unit_test(test_allowlist_no_writing_calls),
                cmocka_unit_test(test_allowlist_reads_and_kills_writers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
