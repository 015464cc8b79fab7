/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "broker/logs.h"
#include "crilog.h"
#include "fileio.h"
#include "launch-config.h"
#include "logrotate.h"
#include "macro.h"
#include "servicespec.h"

static char tmpdir[] = "/tmp/test-logrotate-XXXXXX";
static int dfd = -1;

static int setup(void **state) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir %s", tmpdir, tmpdir);
        if (system(cmd) != 0)
                return -1;
        dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return dfd < 0 ? -1 : 0;
}

static int teardown(void **state) {
        char cmd[128];
        close(dfd);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *name, const char *text) {
        assert_int_equal(write_file_replace_at(dfd, name, text, strlen(text), 0640), 0);
}

static char *get(const char *name) {
        char *s = NULL;
        int r = read_file_at(dfd, name, 1 << 20, &s, NULL);
        if (r == -ENOENT)
                return NULL;
        assert_int_equal(r, 0);
        return s;
}

static bool exists(const char *name) {
        return faccessat(dfd, name, F_OK, 0) == 0;
}

static void test_shift(void **state) {
        put("ctr.log", "0");
        put("ctr.log.1", "1");
        put("ctr.log.2", "2");
        assert_int_equal(logrotate_shift(dfd, "ctr.log", 3), 0);
        assert_false(exists("ctr.log"));
        _cleanup_free_ char *a = get("ctr.log.1"), *b = get("ctr.log.2");
        assert_string_equal(a, "0");
        assert_string_equal(b, "1");
        assert_false(exists("ctr.log.3"));

        /* gaps are fine */
        assert_int_equal(logrotate_shift(dfd, "ctr.log", 3), 0);
        _cleanup_free_ char *c = get("ctr.log.2");
        assert_string_equal(c, "0");
        assert_false(exists("ctr.log.1"));

        /* one file: dropped */
        put("ctr.log", "x");
        assert_int_equal(logrotate_shift(dfd, "ctr.log", 1), 0);
        assert_false(exists("ctr.log"));
        assert_int_equal(logrotate_shift(dfd, "ctr.log", LOGROTATE_FILES_MAX + 1), -EINVAL);
        unlinkat(dfd, "ctr.log.2", 0);
}

static void add(LogRotate *l, const char *text) {
        char *p;
        assert_int_equal(logrotate_reserve(l, strlen(text), &p), 0);
        memcpy(p, text, strlen(text));
        logrotate_commit(l, strlen(text));
}

/* Lines "line NNN\n" (9 bytes) through a 40-byte limit, 3 files; records
 * batched 3 at a time (one write each), rotation between records as with
 * one write per record. */
static void test_writer(void **state) {
        LogRotate l = { .dir_fd = dfd, .name = "w.log", .max_size = 40, .max_files = 3, .gid = getgid(), .fd = -1 };
        char line[16];
        struct stat st;

        assert_int_equal(logrotate_open(&l), 0);
        assert_int_equal(l.size, 0u);
        for (int i = 0; i < 20; i++) {
                snprintf(line, sizeof(line), "line %03d\n", i);
                add(&l, line);
                if (i % 3 == 2)
                        assert_int_equal(logrotate_flush(&l), 0);
        }
        /* the batch is not on disk before it is flushed */
        assert_int_equal(fstat(l.fd, &st), 0);
        assert_int_equal((uint64_t) st.st_size, l.size);
        assert_int_equal(l.batch_len, 18u);
        assert_int_equal(logrotate_flush(&l), 0);
        assert_int_equal(fstatat(dfd, "w.log", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_false(exists("w.log.3"));
        /* 4 lines (36 bytes) per file: 16..19, 12..15, 8..11 kept */
        _cleanup_free_ char *a = get("w.log.2"), *b = get("w.log.1"), *c = get("w.log");
        assert_string_equal(a, "line 008\nline 009\nline 010\nline 011\n");
        assert_string_equal(b, "line 012\nline 013\nline 014\nline 015\n");
        assert_string_equal(c, "line 016\nline 017\nline 018\nline 019\n");
        assert_int_equal(l.size, 36u);
        assert_int_equal((uint64_t) st.st_size, l.size);

        /* a reopened writer continues the file and its size */
        logrotate_close(&l);
        assert_int_equal(logrotate_open(&l), 0);
        assert_int_equal(l.size, 36u);
        /* one oversized record into an empty file still lands, no rotation */
        assert_int_equal(logrotate_prepare(&l, 100), 1);
        assert_int_equal(l.size, 0u);
        assert_int_equal(logrotate_prepare(&l, 100), 0);
        /* a batch beyond LOGROTATE_BATCH_MAX is written before it grows further */
        l.max_size = 0;
        char big[4096];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\n';
        for (size_t i = 0; i < LOGROTATE_BATCH_MAX / sizeof(big) + 1; i++) {
                char *p;
                assert_int_equal(logrotate_reserve(&l, sizeof(big), &p), 0);
                memcpy(p, big, sizeof(big));
                logrotate_commit(&l, sizeof(big));
                assert_true(l.batch_len <= LOGROTATE_BATCH_MAX);
        }
        assert_int_equal(l.size, LOGROTATE_BATCH_MAX);
        /* close writes what is left */
        logrotate_close(&l);
        assert_int_equal(fstatat(dfd, "w.log", &st, 0), 0);
        assert_int_equal((uint64_t) st.st_size, LOGROTATE_BATCH_MAX + sizeof(big));
        for (int i = 0; i < 3; i++) {
                char n[16];
                snprintf(n, sizeof(n), i ? "w.log.%d" : "w.log", i);
                unlinkat(dfd, n, 0);
        }
}

static void test_open_all_and_next(void **state) {
        _cleanup_free_ int *fds = NULL;
        size_t n;
        int next;

        /* nothing yet */
        assert_int_equal(logrotate_open_all(dfd, "ctr.log", &fds, &n), 0);
        assert_int_equal(n, 0u);
        free(TAKE_PTR(fds));

        put("ctr.log.2", "A");
        put("ctr.log.1", "B");
        put("ctr.log", "C");
        put("ctr.log.4", "not reached: .3 is missing");
        assert_int_equal(logrotate_open_all(dfd, "ctr.log", &fds, &n), 0);
        assert_int_equal(n, 3u);
        const char *want[] = { "A", "B", "C" };
        for (size_t i = 0; i < n; i++) {
                char buf[4] = {};
                assert_int_equal(pread(fds[i], buf, sizeof(buf) - 1, 0), 1);
                assert_string_equal(buf, want[i]);
        }

        /* the reader at the end of the oldest goes on with .1, then ctr.log */
        assert_int_equal(logrotate_open_next(dfd, "ctr.log", fds[0], &next), 1);
        char buf[4] = {};
        assert_int_equal(pread(next, buf, 3, 0), 1);
        assert_string_equal(buf, "B");
        close(next);
        assert_int_equal(logrotate_open_next(dfd, "ctr.log", fds[2], &next), 0);
        assert_int_equal(next, -1);

        unlinkat(dfd, "ctr.log.4", 0);
        /* a reader of ctr.log after two rotations: the file after its own */
        assert_int_equal(logrotate_shift(dfd, "ctr.log", 4), 0);
        put("ctr.log", "D");
        assert_int_equal(logrotate_shift(dfd, "ctr.log", 4), 0);
        put("ctr.log", "E");
        assert_int_equal(logrotate_open_next(dfd, "ctr.log", fds[2], &next), 1);
        memset(buf, 0, sizeof(buf));
        assert_int_equal(pread(next, buf, 3, 0), 1);
        assert_string_equal(buf, "D");
        close(next);

        /* a reader holding nothing (/dev/null) gets the oldest */
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        assert_int_equal(logrotate_open_next(dfd, "ctr.log", null, &next), 1);
        memset(buf, 0, sizeof(buf));
        assert_int_equal(pread(next, buf, 3, 0), 1);
        assert_string_equal(buf, "B"); /* .3; A was dropped beyond 4 files */
        close(next);
        close(null);

        for (size_t i = 0; i < n; i++)
                close(fds[i]);
        for (int i = 0; i < 5; i++) {
                char nm[16];
                snprintf(nm, sizeof(nm), i ? "ctr.log.%d" : "ctr.log", i);
                unlinkat(dfd, nm, 0);
        }
}

#define T0 1795927437000000000ULL

static void cri(const char *name, uint64_t sec, const char *text, bool partial) {
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        assert_true(fd >= 0);
        assert_int_equal(crilog_write(fd, T0 + sec * 1000000000ULL, false, text, strlen(text), partial), 0);
        close(fd);
}

/* GetContainerLogs' reader: ctr.log.2, .1, ctr.log in that order; a P
 * record continues across files; tail counts over all of them. */
static void test_read_dir(void **state) {
        LogRecord *r;
        size_t n;

        cri("ctr.log.2", 1, "one", false);
        cri("ctr.log.2", 2, "two", false);
        cri("ctr.log.1", 3, "three", false);
        cri("ctr.log.1", 4, "fo", true);
        cri("ctr.log", 4, "ur", false);
        cri("ctr.log", 5, "five", false);

        assert_int_equal(logs_read_dir(dfd, "ctr.log", 0, &r, &n), 0);
        assert_int_equal(n, 5u);
        const char *want[] = { "one", "two", "three", "four", "five" };
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(r[i].text, want[i]);
                if (i > 0)
                        assert_true(r[i].timestamp_usec >= r[i - 1].timestamp_usec);
        }
        log_records_free(r, n);

        assert_int_equal(logs_read_dir(dfd, "ctr.log", 3, &r, &n), 0);
        assert_int_equal(n, 3u);
        assert_string_equal(r[0].text, "three");
        assert_string_equal(r[2].text, "five");
        log_records_free(r, n);

        /* only rotated files (ctr.log not recreated yet) */
        unlinkat(dfd, "ctr.log", 0);
        assert_int_equal(logs_read_dir(dfd, "ctr.log", 0, &r, &n), 0);
        assert_int_equal(n, 3u);
        assert_string_equal(r[2].text, "three");
        log_records_free(r, n);
        unlinkat(dfd, "ctr.log.1", 0);
        unlinkat(dfd, "ctr.log.2", 0);
}

/* logs: {max_size, max_files} from the spec to the shim's launch config */
static void test_spec_to_launch_config(void **state) {
        static const char *img = "{\"config\":{\"Cmd\":[\"/bin/sh\"]}}";
        char *const layers[] = { (char *) "1111111111111111111111111111111111111111111111111111111111111111", NULL };
        const struct {
                const char *yaml;
                uint64_t size;
                unsigned files;
        } cases[] = {
                { "image: {name: busybox}\nlogs: {max_size: 64Ki, max_files: 3}\n", 65536, 3 },
                { "image: {name: busybox}\nlogs: {max_size: 5000}\n", 5000, 0 },
                { "image: {name: busybox}\n", 0, 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_service_spec_ ServiceSpec *spec = NULL;
                _cleanup_launch_config_ LaunchConfig *lc = NULL;
                _cleanup_free_ char *err = NULL, *err2 = NULL;
                json_object *o = NULL;
                assert_int_equal(service_spec_parse(cases[i].yaml, strlen(cases[i].yaml), &spec, &err), 0);
                assert_int_equal(launch_config_build(spec, "x-rep-1", "busybox", img, layers, &o, &err), 0);
                assert_int_equal(launch_config_parse(json_object_to_json_string(o), &lc, &err2), 0);
                json_object_put(o);
                assert_int_equal(lc->log_max_size, cases[i].size);
                assert_int_equal(lc->log_max_files, cases[i].files);
        }
        const char *bad[] = {
                "image: {name: busybox}\nlogs: {max_size: 100}\n",
                "image: {name: busybox}\nlogs: {max_files: 101}\n",
                "image: {name: busybox}\nlogs: {max_size: lots}\n",
                "image: {name: busybox}\nlogs: {compress: true}\n",
                "image: {name: busybox}\nlogs: 5\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ServiceSpec *spec = NULL;
                _cleanup_free_ char *err = NULL;
                assert_int_equal(service_spec_parse(bad[i], strlen(bad[i]), &spec, &err), -EINVAL);
                assert_non_null(strstr(err, "logs"));
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shift),
                cmocka_unit_test(test_writer),
                cmocka_unit_test(test_open_all_and_next),
                cmocka_unit_test(test_read_dir),
                cmocka_unit_test(test_spec_to_launch_config),
        };
        if (!mkdtemp(tmpdir))
                return 1;
        return cmocka_run_group_tests(tests, setup, teardown);
}
