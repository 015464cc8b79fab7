/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <setjmp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "digest.h"
#include "fileio.h"
#include "workers/puller/blob-store.h"

static char tmpdir[] = "/tmp/test-puller-blob-store.XXXXXX";
static int images_fd = -1;

static int setup(void **state) {
        if (!mkdtemp(tmpdir))
                return -1;
        images_fd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return images_fd >= 0 ? 0 : -1;
}

static int teardown(void **state) {
        char cmd[200];

        close(images_fd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

static unsigned ingest_entries(void) {
        int fd = openat(images_fd, "ingest", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;
        unsigned n = 0;
        DIR *d;

        assert_true(fd >= 0);
        d = fdopendir(fd);
        assert_non_null(d);
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

static void test_layout(void **state) {
        BlobStore s;
        char *data = NULL;
        size_t len;
        struct stat st;

        assert_int_equal(blob_store_open(images_fd, &s), 0);
        assert_int_equal(read_file_at(images_fd, "oci-layout", 4096, &data, &len), 0);
        assert_string_equal(data, "{\"imageLayoutVersion\":\"1.0.0\"}");
        free(data);
        assert_int_equal(fstatat(images_fd, "blobs/sha256", &st, 0), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(fstatat(images_fd, "ingest", &st, 0), 0);
        assert_true(S_ISDIR(st.st_mode));
        blob_store_close(&s);

        /* An existing oci-layout is left alone. */
        assert_int_equal(write_file_atomic_at(images_fd, "oci-layout", "{\"x\":1}", 7, 0644), 0);
        assert_int_equal(blob_store_open(images_fd, &s), 0);
        assert_int_equal(read_file_at(images_fd, "oci-layout", 4096, &data, &len), 0);
        assert_string_equal(data, "{\"x\":1}");
        free(data);
        blob_store_close(&s);
}

static void test_put_and_has(void **state) {
        const char *content = "hello blob";
        char digest[72], path[128];
        BlobStore s;

        assert_int_equal(sha256_digest(content, strlen(content), digest), 0);
        assert_int_equal(blob_store_open(images_fd, &s), 0);
        assert_int_equal(blob_store_has(&s, digest, UINT64_MAX), 0);
        assert_int_equal(blob_store_put(&s, digest, content, strlen(content)), 0);
        assert_int_equal(blob_store_has(&s, digest, UINT64_MAX), 1);
        assert_int_equal(blob_store_has(&s, digest, strlen(content)), 1);
        assert_int_equal(blob_store_has(&s, digest, 3), 0);     /* size differs: not that blob */
        assert_int_equal(blob_store_has(&s, "sha256:nope", 3), -EINVAL);

        snprintf(path, sizeof(path), "blobs/sha256/%s", digest + 7);
        char *data = NULL;
        size_t len;
        assert_int_equal(read_file_at(images_fd, path, 4096, &data, &len), 0);
        assert_string_equal(data, content);
        free(data);

        /* Wrong bytes for a digest are refused and leave nothing. */
        char other[72];
        assert_int_equal(sha256_digest("other", 5, other), 0);
        assert_int_equal(blob_store_put(&s, other, "OTHER", 5), -EBADMSG);
        assert_int_equal(blob_store_has(&s, other, UINT64_MAX), 0);
        assert_int_equal(ingest_entries(), 0);
        blob_store_close(&s);
}

static void test_writer(void **state) {
        char digest[72], actual[72];
        BlobWriter *w = NULL;
        uint64_t size;
        BlobStore s;

        assert_int_equal(sha256_digest("abcdef", 6, digest), 0);
        assert_int_equal(blob_store_open(images_fd, &s), 0);

        /* Streamed in pieces, verified at the end. */
        assert_int_equal(blob_writer_new(&s, digest, 6, &w), 0);
        assert_int_equal(ingest_entries(), 1);
        assert_int_equal(blob_writer_write(w, "abc", 3), 0);
        assert_int_equal(blob_writer_write(w, "def", 3), 0);
        assert_int_equal(blob_writer_commit(w, actual, &size), 0);
        assert_string_equal(actual, digest);
        assert_int_equal(size, 6);
        assert_int_equal(blob_store_has(&s, digest, 6), 1);
        assert_int_equal(ingest_entries(), 0);

        /* More than the descriptor said: refused while streaming. */
        assert_int_equal(blob_writer_new(&s, digest, 4, &w), 0);
        assert_int_equal(blob_writer_write(w, "abc", 3), 0);
        assert_int_equal(blob_writer_write(w, "def", 3), -EFBIG);
        blob_writer_free(w);
        assert_int_equal(ingest_entries(), 0);

        /* Less than the descriptor said, right digest of a prefix or not: mismatch. */
        char abc[72];
        assert_int_equal(sha256_digest("abc", 3, abc), 0);
        assert_int_equal(blob_writer_new(&s, abc, 6, &w), 0);
        assert_int_equal(blob_writer_write(w, "abc", 3), 0);
        assert_int_equal(blob_writer_commit(w, actual, &size), -EBADMSG);
        assert_int_equal(size, 3);
        assert_int_equal(blob_store_has(&s, abc, UINT64_MAX), 0);
        assert_int_equal(ingest_entries(), 0);

        /* Two writers of one blob at once do not collide. */
        BlobWriter *w2 = NULL;
        assert_int_equal(blob_writer_new(&s, digest, UINT64_MAX, &w), 0);
        assert_int_equal(blob_writer_new(&s, digest, UINT64_MAX, &w2), 0);
        assert_int_equal(ingest_entries(), 2);
        assert_int_equal(blob_writer_write(w, "abcdef", 6), 0);
        assert_int_equal(blob_writer_write(w2, "abcdef", 6), 0);
        assert_int_equal(blob_writer_commit(w, NULL, NULL), 0);
        assert_int_equal(blob_writer_commit(w2, NULL, NULL), 0);
        assert_int_equal(ingest_entries(), 0);

        assert_int_equal(blob_writer_new(&s, "md5:00", 1, &w), -EINVAL);
        assert_null(blob_writer_free(NULL));
        blob_store_close(&s);
}

static void test_clean_ingest(void **state) {
        BlobStore s;
        int fd;

        assert_int_equal(blob_store_open(images_fd, &s), 0);
        fd = openat(s.ingest_fd, ".0123456789ab-0123456789abcdef.tmp", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
        fd = openat(s.ingest_fd, "not-ours", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(ingest_entries(), 2);
        assert_int_equal(blob_store_clean_ingest(images_fd), 0);
        assert_int_equal(ingest_entries(), 1);
        assert_int_equal(faccessat(s.ingest_fd, "not-ours", F_OK, 0), 0);
        assert_int_equal(unlinkat(s.ingest_fd, "not-ours", 0), 0);
        blob_store_close(&s);

        /* No ingest/ at all is fine. */
        int empty = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(blob_store_clean_ingest(empty), 0);
        close(empty);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_layout),
                cmocka_unit_test(test_put_and_has),
                cmocka_unit_test(test_writer),
                cmocka_unit_test(test_clean_ingest),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
