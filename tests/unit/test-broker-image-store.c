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

#include "broker/image-store.h"
#include "digest.h"
#include "fileio.h"
#include "macro.h"

#define D(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static char tmpdir[64];
static int images_fd = -1;

static int setup(void **state) {
        strcpy(tmpdir, "/tmp/test-broker-images-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
        images_fd = open(tmpdir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        assert_true(images_fd >= 0);
        return 0;
}

static int teardown(void **state) {
        close(images_fd);
        assert_int_equal(rm_rf_at(AT_FDCWD, tmpdir), 0);
        return 0;
}

static void test_empty_and_layout(void **state) {
        ImageStore *s = NULL;
        ImageEntry e;
        char *layout = NULL;

        assert_int_equal(image_store_load(images_fd, &s), 0);
        assert_int_equal(image_store_count(s), 0);
        assert_int_equal(image_store_find(s, "docker.io/library/busybox:latest", &e), -ENOENT);
        assert_int_equal(image_store_get(s, 0, &e), -ENOENT);
        assert_int_equal(read_file_at(images_fd, "oci-layout", 4096, &layout, NULL), 0);
        assert_non_null(strstr(layout, "\"imageLayoutVersion\":\"1.0.0\""));
        /* Nothing written until something is put. */
        assert_int_equal(faccessat(images_fd, "index.json", F_OK, 0), -1);
        free(layout);
        image_store_free(s);
}

static void test_put_find_reload(void **state) {
        ImageStore *s = NULL;
        ImageEntry e = {
                .reference = "127.0.0.1:5000/busybox:latest",
                .repo_digest = D("a"),
                .manifest = D("b"),
                .media_type = "application/vnd.oci.image.manifest.v1+json",
                .manifest_size = 480,
        }, f;
        char *text = NULL;

        assert_int_equal(image_store_load(images_fd, &s), 0);
        assert_int_equal(image_store_put(s, &e), 0);
        e.reference = "127.0.0.1:5000/layered:latest";
        e.repo_digest = D("c");
        e.manifest = D("c");
        assert_int_equal(image_store_put(s, &e), 0);
        assert_int_equal(image_store_count(s), 2);
        image_store_free(s);

        /* What is on disk is an OCI index with our annotations. */
        assert_int_equal(read_file_at(images_fd, "index.json", 1 << 20, &text, NULL), 0);
        assert_non_null(strstr(text, "\"schemaVersion\":2"));
        assert_non_null(strstr(text, "\"org.opencontainers.image.ref.name\":\"127.0.0.1:5000/busybox:latest\""));
        assert_non_null(strstr(text, "\"com.zlayer.repo-digest\":\"" D("a") "\""));
        free(text);

        s = NULL;
        assert_int_equal(image_store_load(images_fd, &s), 0);
        assert_int_equal(image_store_count(s), 2);
        assert_int_equal(image_store_find(s, "127.0.0.1:5000/busybox:latest", &f), 0);
        assert_string_equal(f.repo_digest, D("a"));
        assert_string_equal(f.manifest, D("b"));
        assert_string_equal(f.media_type, "application/vnd.oci.image.manifest.v1+json");
        assert_true(f.manifest_size == 480);

        /* The tag moves: same reference, new manifest, still two images. */
        e.reference = "127.0.0.1:5000/busybox:latest";
        e.repo_digest = D("d");
        e.manifest = D("e");
        assert_int_equal(image_store_put(s, &e), 0);
        assert_int_equal(image_store_count(s), 2);
        assert_int_equal(image_store_find(s, "127.0.0.1:5000/busybox:latest", &f), 0);
        assert_string_equal(f.manifest, D("e"));
        assert_int_equal(image_store_get(s, 0, &f), 0);
        assert_string_equal(f.reference, "127.0.0.1:5000/layered:latest");
        assert_int_equal(image_store_get(s, 1, &f), 0);
        assert_string_equal(f.reference, "127.0.0.1:5000/busybox:latest");
        assert_int_equal(image_store_get(s, 2, &f), -ENOENT);

        /* Bad digests never reach the file. */
        e.manifest = "sha256:short";
        assert_int_equal(image_store_put(s, &e), -EINVAL);
        e.manifest = D("e");
        e.repo_digest = "md5:abc";
        assert_int_equal(image_store_put(s, &e), -EINVAL);
        image_store_free(s);
}

static void test_foreign_entries_kept(void **state) {
        static const char index[] =
                "{\"schemaVersion\":2,\"manifests\":["
                "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D("1") "\",\"size\":1},"
                "{\"digest\":\"" D("2") "\",\"size\":2,\"annotations\":{\"org.opencontainers.image.ref.name\":\"x.io/a:b\"}}"
                "]}";
        ImageStore *s = NULL;
        ImageEntry e = { .reference = "x.io/c:d", .manifest = D("3") }, f;
        char *text = NULL;

        assert_int_equal(write_file_atomic_at(images_fd, "index.json", index, strlen(index), 0644), 0);
        assert_int_equal(image_store_load(images_fd, &s), 0);
        /* Only entries with a reference are images; no repo digest = the manifest. */
        assert_int_equal(image_store_count(s), 1);
        assert_int_equal(image_store_find(s, "x.io/a:b", &f), 0);
        assert_string_equal(f.repo_digest, D("2"));
        assert_int_equal(image_store_put(s, &e), 0);
        image_store_free(s);
        assert_int_equal(read_file_at(images_fd, "index.json", 1 << 20, &text, NULL), 0);
        assert_non_null(strstr(text, D("1")));
        free(text);

        assert_int_equal(write_file_atomic_at(images_fd, "index.json", "[1]", 3, 0644), 0);
        s = NULL;
        assert_int_equal(image_store_load(images_fd, &s), -EBADMSG);
        assert_null(s);
        assert_int_equal(write_file_atomic_at(images_fd, "index.json", "{\"manifests\":{}}", 16, 0644), 0);
        assert_int_equal(image_store_load(images_fd, &s), -EBADMSG);
}

static void test_chain_ids(void **state) {
        char *diff[] = { D("a"), D("b"), D("c"), NULL }, *bad[] = { "sha256:zz", NULL }, **chains = NULL;

        assert_int_equal(image_chain_ids(diff, &chains), 0);
        assert_int_equal(strv_length(chains), 3);
        assert_string_equal(chains[0], &D("a")[7]);
        assert_string_equal(chains[1], "ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c");
        assert_string_equal(chains[2], "c1377126441fb2f5ec2c21ae2a60255331d639e830f0ee1b40a36e52d4c40588");
        strv_free(chains);
        assert_int_equal(image_chain_ids(bad, &chains), -EINVAL);
}

static void put_blob(const char *text, char digest[72]) {
        int dfd;
        assert_int_equal(sha256_digest(text, strlen(text), digest), 0);
        assert_int_equal(mkdir_p_at(images_fd, "blobs/sha256", 0755), 0);
        dfd = openat(images_fd, "blobs/sha256", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        assert_true(dfd >= 0);
        assert_int_equal(write_file_atomic_at(dfd, digest + 7, text, strlen(text), 0644), 0);
        close(dfd);
}

static void test_manifest_and_config(void **state) {
        char config_digest[72], manifest_digest[72], manifest[1024], other[72];
        char *cfg = NULL, **layers = NULL, **diff_ids = NULL, *text = NULL;
        const char *config = "{\"config\":{\"Cmd\":[\"sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D("a") "\",\"" D("b") "\"]}}";
        uint64_t size = 0;

        put_blob(config, config_digest);
        snprintf(manifest, sizeof(manifest),
                 "{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\",\"size\":%zu},"
                 "\"layers\":[{\"digest\":\"%s\",\"size\":1000},{\"digest\":\"%s\",\"size\":24}]}",
                 config_digest, strlen(config), D("1"), D("2"));
        put_blob(manifest, manifest_digest);

        assert_int_equal(image_manifest_read(images_fd, manifest_digest, &cfg, &layers, &size), 0);
        assert_string_equal(cfg, config_digest);
        assert_int_equal(strv_length(layers), 2);
        assert_string_equal(layers[0], D("1"));
        assert_string_equal(layers[1], D("2"));
        assert_true(size == strlen(manifest) + strlen(config) + 1000 + 24);

        assert_int_equal(image_config_read(images_fd, cfg, &text, &diff_ids), 0);
        assert_string_equal(text, config);
        assert_int_equal(strv_length(diff_ids), 2);
        assert_string_equal(diff_ids[1], D("b"));

        assert_int_equal(image_manifest_read(images_fd, D("f"), NULL, NULL, NULL), -ENOENT);
        assert_int_equal(image_manifest_read(images_fd, "sha256:../../etc/passwd", NULL, NULL, NULL), -EINVAL);
        /* A config is not a manifest. */
        assert_int_equal(image_manifest_read(images_fd, config_digest, NULL, NULL, NULL), -EBADMSG);
        put_blob("{\"rootfs\":{\"diff_ids\":[\"nope\"]}}", other);
        assert_int_equal(image_config_read(images_fd, other, NULL, NULL), -EBADMSG);

        int fd = image_blob_open(images_fd, manifest_digest);
        assert_true(fd >= 0);
        close(fd);

        free(cfg);
        free(text);
        strv_free(layers);
        strv_free(diff_ids);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_empty_and_layout, setup, teardown),
                cmocka_unit_test_setup_teardown(test_put_find_reload, setup, teardown),
                cmocka_unit_test_setup_teardown(test_foreign_entries_kept, setup, teardown),
                cmocka_unit_test(test_chain_ids),
                cmocka_unit_test_setup_teardown(test_manifest_and_config, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
