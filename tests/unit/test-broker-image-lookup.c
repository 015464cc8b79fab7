/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image_store_resolve(): references, digest references, image ids and id
 * prefixes; image_store_remove() and image_store_remove_untagged(); dangling
 * (untagged commit) entries. */
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
#include "fileio.h"
#include "macro.h"

/* Two config ids sharing their first 13 hex digits, one apart. */
#define ID_A "sha256:0123456789abc" "0000000000000000000000000000000000000000000000000aa"
#define ID_B "sha256:0123456789abc" "1111111111111111111111111111111111111111111111111bb"
#define ID_C "sha256:fedcba987654" "3210fedcba9876543210fedcba9876543210fedcba9876543210"
#define HEX(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define M1 "sha256:" HEX("1")
#define M2 "sha256:" HEX("2")
#define M3 "sha256:" HEX("3")
#define R1 "sha256:" HEX("9")

static char tmpdir[64];
static int images_fd = -1;

/* A manifest blob naming @config; the store reads only what it needs. */
static void write_manifest(const char *digest, const char *config) {
        char text[512];
        int dfd = openat(images_fd, "blobs/sha256", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        assert_true(dfd >= 0);
        snprintf(text, sizeof(text),
                 "{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\",\"size\":10},"
                 "\"layers\":[{\"digest\":\"%s\",\"size\":100}]}", config, digest);
        assert_int_equal(write_file_atomic_at(dfd, digest + 7, text, strlen(text), 0644), 0);
        close(dfd);
}

static int setup(void **state) {
        strcpy(tmpdir, "/tmp/test-broker-lookup-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
        images_fd = open(tmpdir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        assert_true(images_fd >= 0);
        assert_int_equal(mkdir_p_at(images_fd, "blobs/sha256", 0755), 0);
        write_manifest(M1, ID_A);
        write_manifest(M2, ID_B);
        write_manifest(M3, ID_C);
        return 0;
}

static int teardown(void **state) {
        close(images_fd);
        assert_int_equal(rm_rf_at(AT_FDCWD, tmpdir), 0);
        return 0;
}

static ImageStore *store_with_three(void) {
        ImageStore *s = NULL;
        ImageEntry e = { .reference = "127.0.0.1:5000/a:latest", .repo_digest = R1, .manifest = M1 };

        assert_int_equal(image_store_load(images_fd, &s), 0);
        assert_int_equal(image_store_put(s, &e), 0);
        e = (ImageEntry) { .reference = "127.0.0.1:5000/a:other", .manifest = M1 };
        assert_int_equal(image_store_put(s, &e), 0);
        e = (ImageEntry) { .reference = "127.0.0.1:5000/b:latest", .manifest = M2 };
        assert_int_equal(image_store_put(s, &e), 0);
        e = (ImageEntry) { .reference = "docker.io/library/busybox:latest", .manifest = M3 };
        assert_int_equal(image_store_put(s, &e), 0);
        return s;
}

static void test_id_prefix_parse(void **state) {
        char hex[65];

        assert_true(image_id_prefix_parse("0123456789ab", hex));
        assert_string_equal(hex, "0123456789ab");
        assert_true(image_id_prefix_parse("sha256:0123456789AB", hex));
        assert_string_equal(hex, "0123456789ab");
        assert_true(image_id_prefix_parse(ID_C, hex));
        assert_string_equal(hex, &ID_C[7]);
        assert_false(image_id_prefix_parse("0123456789a", hex));       /* 11 digits */
        assert_false(image_id_prefix_parse("0123456789ag", hex));      /* not hex */
        assert_false(image_id_prefix_parse("busybox", hex));
        assert_false(image_id_prefix_parse("sha256:", hex));
        assert_false(image_id_prefix_parse(ID_C "0", hex));            /* 65 digits */
        assert_false(image_id_prefix_parse(NULL, hex));
}

static void test_resolve(void **state) {
        ImageStore *s = store_with_three();
        ImageEntry e;
        char id[72];

        /* References, normalized. */
        assert_int_equal(image_store_resolve(s, "busybox", &e, id), 0);
        assert_string_equal(e.reference, "docker.io/library/busybox:latest");
        assert_string_equal(id, ID_C);
        assert_int_equal(image_store_resolve(s, "127.0.0.1:5000/b", &e, id), 0);
        assert_string_equal(id, ID_B);

        /* Digest references: by repo digest or manifest, same repository only. */
        assert_int_equal(image_store_resolve(s, "127.0.0.1:5000/a@" R1, &e, id), 0);
        assert_string_equal(e.reference, "127.0.0.1:5000/a:latest");
        assert_int_equal(image_store_resolve(s, "127.0.0.1:5000/b@" M2, &e, id), 0);
        assert_string_equal(id, ID_B);
        assert_int_equal(image_store_resolve(s, "127.0.0.1:5000/c@" M2, &e, id), -ENOENT);

        /* Full ids, with or without sha256:, and unique prefixes. */
        assert_int_equal(image_store_resolve(s, ID_C, &e, id), 0);
        assert_string_equal(e.reference, "docker.io/library/busybox:latest");
        assert_int_equal(image_store_resolve(s, &ID_B[7], &e, id), 0);
        assert_string_equal(e.reference, "127.0.0.1:5000/b:latest");
        assert_int_equal(image_store_resolve(s, "fedcba987654", &e, id), 0);
        assert_string_equal(id, ID_C);
        assert_int_equal(image_store_resolve(s, "sha256:0123456789abc0", &e, id), 0);
        assert_string_equal(id, ID_A);
        /* Two tags of one image are not ambiguous. */
        assert_int_equal(image_store_resolve(s, "0123456789abc0000", &e, id), 0);
        assert_string_equal(id, ID_A);

        /* A prefix of two different ids is. */
        assert_int_equal(image_store_resolve(s, "0123456789abc", &e, id), -ENOTUNIQ);
        assert_int_equal(image_store_resolve(s, "sha256:0123456789ab", &e, id), -ENOTUNIQ);
        /* Too short, unknown, empty. */
        assert_int_equal(image_store_resolve(s, "fedcba98765", &e, id), -ENOENT);
        assert_int_equal(image_store_resolve(s, "aaaaaaaaaaaa", &e, id), -ENOENT);
        assert_int_equal(image_store_resolve(s, "", &e, id), -ENOENT);
        image_store_free(s);
}

static void test_remove(void **state) {
        ImageStore *s = store_with_three();
        ImageEntry e;
        char id[72];
        char **all = NULL, **untagged = NULL;

        assert_int_equal(image_store_remove(s, "127.0.0.1:5000/a:latest"), 0);
        assert_int_equal(image_store_remove(s, "127.0.0.1:5000/a:latest"), -ENOENT);
        assert_int_equal(image_store_count(s), 3);
        /* The other tag still finds the image by id. */
        assert_int_equal(image_store_resolve(s, ID_A, &e, id), 0);
        assert_string_equal(e.reference, "127.0.0.1:5000/a:other");
        image_store_free(s);

        /* On disk too. */
        s = NULL;
        assert_int_equal(image_store_load(images_fd, &s), 0);
        assert_int_equal(image_store_count(s), 3);
        assert_int_equal(image_store_find(s, "127.0.0.1:5000/a:latest", &e), -ENOENT);

        /* Untagged entries (from other tools) are dropped by remove_untagged. */
        image_store_free(s);
        static const char index[] =
                "{\"schemaVersion\":2,\"manifests\":["
                "{\"digest\":\"" M1 "\",\"size\":1},"
                "{\"digest\":\"" M2 "\",\"size\":2,\"annotations\":{\"org.opencontainers.image.ref.name\":\"x.io/a:b\"}}"
                "]}";
        assert_int_equal(write_file_atomic_at(images_fd, "index.json", index, strlen(index), 0644), 0);
        s = NULL;
        assert_int_equal(image_store_load(images_fd, &s), 0);
        assert_int_equal(image_store_all_manifests(s, &all), 0);
        assert_int_equal(strv_length(all), 2);
        assert_int_equal(image_store_remove_untagged(s, NULL, &untagged), 0);
        assert_int_equal(strv_length(untagged), 1);
        assert_string_equal(untagged[0], M1);
        strv_free(all);
        all = NULL;
        assert_int_equal(image_store_all_manifests(s, &all), 0);
        assert_int_equal(strv_length(all), 1);
        assert_string_equal(all[0], M2);
        strv_free(all);
        strv_free(untagged);
        image_store_free(s);
}

/* A dangling entry is keyed by its image id, listed, found by id (not by
 * a reference), survives a reload, gives way to a tag of its manifest, and
 * remove_untagged drops it unless its manifest is in the keep list. */
static void test_dangling(void **state) {
        ImageStore *s = NULL;
        ImageEntry e = { .reference = ID_A, .dangling = true, .manifest = M1 }, f;
        char **untagged = NULL, *keep[] = { (char *) M2, NULL };
        char id[72];

        assert_int_equal(image_store_load(images_fd, &s), 0);
        e.reference = "127.0.0.1:5000/a:latest"; /* a dangling key must be an image id */
        assert_int_equal(image_store_put(s, &e), -EINVAL);
        e.reference = ID_A;
        assert_int_equal(image_store_put(s, &e), 0);
        e = (ImageEntry) { .reference = ID_B, .dangling = true, .manifest = M2 };
        assert_int_equal(image_store_put(s, &e), 0);
        assert_int_equal(image_store_count(s), 2);
        image_store_free(s);
        s = NULL;

        assert_int_equal(image_store_load(images_fd, &s), 0);
        assert_int_equal(image_store_count(s), 2);
        assert_int_equal(image_store_get(s, 0, &f), 0);
        assert_true(f.dangling);
        assert_string_equal(f.reference, ID_A);
        assert_string_equal(f.manifest, M1);
        assert_int_equal(image_store_resolve(s, "0123456789abc0", &f, id), 0);
        assert_true(f.dangling);
        assert_string_equal(id, ID_A);
        assert_int_equal(image_store_resolve(s, "sha256", &f, id), -ENOENT);
        /* A full manifest digest names the image (how zlayerctl images finds
         * a dangling image's id); a prefix of one does not. */
        assert_int_equal(image_store_resolve(s, M2, &f, id), 0);
        assert_true(f.dangling);
        assert_string_equal(id, ID_B);
        assert_int_equal(image_store_resolve(s, HEX("2"), &f, id), 0);
        assert_int_equal(image_store_resolve(s, "sha256:22222222222222", &f, id), -ENOENT);

        /* Tagging M1 replaces its dangling entry. */
        e = (ImageEntry) { .reference = "x.io/tagged:v1", .manifest = M1 };
        assert_int_equal(image_store_put(s, &e), 0);
        assert_int_equal(image_store_count(s), 2);
        assert_int_equal(image_store_resolve(s, ID_A, &f, id), 0);
        assert_false(f.dangling);
        assert_string_equal(f.reference, "x.io/tagged:v1");

        /* Kept: M2 is in the keep list (a container uses it). */
        assert_int_equal(image_store_remove_untagged(s, keep, &untagged), 0);
        assert_int_equal(strv_length(untagged), 0);
        strv_free(untagged);
        assert_int_equal(image_store_remove_untagged(s, NULL, &untagged), 0);
        assert_int_equal(strv_length(untagged), 1);
        assert_string_equal(untagged[0], M2);
        strv_free(untagged);
        assert_int_equal(image_store_count(s), 1);
        /* and removal by its key works like a reference */
        e = (ImageEntry) { .reference = ID_C, .dangling = true, .manifest = M3 };
        assert_int_equal(image_store_put(s, &e), 0);
        assert_int_equal(image_store_remove(s, ID_C), 0);
        assert_int_equal(image_store_count(s), 1);
        image_store_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_id_prefix_parse),
                cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dangling, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
