/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "workers/puller/manifest.h"

#define D(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define DA D("a")
#define DB D("b")
#define DC D("c")
#define DD D("d")
#define DE D("e")

static const char index_json[] =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
        /* unknown media type, claims amd64: must be skipped */
        "{\"mediaType\":\"application/vnd.in-toto+json\",\"digest\":\"" DA "\",\"size\":10,"
        " \"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
        /* no platform: skipped */
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DE "\",\"size\":11},"
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DB "\",\"size\":500,"
        " \"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
        "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" DC "\",\"size\":600,"
        " \"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DD "\",\"size\":700,"
        " \"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}}"
        "]}";

static const char manifest_json[] =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" DA "\",\"size\":123},"
        "\"layers\":["
        "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" DB "\",\"size\":1000},"
        "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" DC "\",\"size\":2000},"
        "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" DD "\",\"size\":0}"
        "]}\n";

static Platform plat(const char *s) {
        Platform p;
        assert_int_equal(platform_parse(s, &p), 0);
        return p;
}

static void test_platform_parse(void **state) {
        Platform p;
        char buf[100];

        p = plat("linux/amd64");
        assert_string_equal(p.os, "linux");
        assert_string_equal(p.architecture, "amd64");
        assert_string_equal(p.variant, "");
        p = plat("linux/arm64/v8");
        assert_string_equal(p.variant, "v8");
        assert_string_equal(platform_to_string(&p, buf, sizeof(buf)), "linux/arm64/v8");

        assert_int_equal(platform_parse("linux", &p), -EINVAL);
        assert_int_equal(platform_parse("", &p), -EINVAL);
        assert_int_equal(platform_parse(NULL, &p), -EINVAL);
        assert_int_equal(platform_parse("/amd64", &p), -EINVAL);
        assert_int_equal(platform_parse("linux/", &p), -EINVAL);
        assert_int_equal(platform_parse("linux/arm/", &p), -EINVAL);
        assert_int_equal(platform_parse("linux/arm/v7/x", &p), -EINVAL);
        assert_int_equal(platform_parse("Linux/AMD64", &p), -EINVAL);
        assert_int_equal(platform_parse("linux/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &p), -EINVAL);

        platform_native(&p);
        assert_string_equal(p.os, "linux");
        assert_true(strlen(p.architecture) > 0);
}

static void select_ok(const char *platform, const char *digest, uint64_t size) {
        Platform p = plat(platform);
        Descriptor d = {};
        char *err = NULL;

        assert_int_equal(manifest_index_select(index_json, strlen(index_json), &p, &d, &err), 0);
        if (strcmp(d.digest, digest) != 0)
                fail_msg("%s selected %s, expected %s", platform, d.digest, digest);
        assert_int_equal(d.size, size);
        assert_null(err);
        descriptor_done(&d);
}

static void test_index_select(void **state) {
        Platform p;
        Descriptor d = {};
        char *err = NULL;

        select_ok("linux/amd64", DB, 500);        /* not the unknown type listed first */
        select_ok("linux/arm/v7", DC, 600);       /* Docker manifest type in the list */
        select_ok("linux/arm", DC, 600);          /* no variant asked: first arm */
        select_ok("linux/arm64", DD, 700);
        select_ok("linux/arm64/v8", DD, 700);     /* v8 is arm64's implied variant */

        p = plat("linux/arm/v6");
        assert_int_equal(manifest_index_select(index_json, strlen(index_json), &p, &d, &err), -ENOENT);
        p = plat("windows/amd64");
        assert_int_equal(manifest_index_select(index_json, strlen(index_json), &p, &d, &err), -ENOENT);
        p = plat("linux/s390x");
        assert_int_equal(manifest_index_select(index_json, strlen(index_json), &p, &d, &err), -ENOENT);

        /* Malformed indexes. */
        static const char *bad[] = {
                "",
                "[]",
                "{\"manifests\":{}}",
                "{}",
                "{\"manifests\":[1]}",
                "{\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:x\","
                "\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}",
                "{\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DA "\","
                "\"size\":-1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}",
                "{\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DA "\","
                "\"size\":99999999,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}",
                "{\"manifests\":[]} trailing",
        };
        p = plat("linux/amd64");
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int k = manifest_index_select(bad[i], strlen(bad[i]), &p, &d, &err);
                if (k != -EBADMSG)
                        fail_msg("index %zu: %d, expected -EBADMSG", i, k);
                assert_non_null(err);
                free(err);
                err = NULL;
        }
}

static void test_detect(void **state) {
        ManifestKind kind;
        char *mt = NULL;
        const char *oci_bare = "{\"schemaVersion\":2,\"config\":{},\"layers\":[]}";
        const char *index_bare = "{\"schemaVersion\":2,\"manifests\":[]}";
        const char *v1 = "{\"schemaVersion\":1,\"name\":\"x\"}";

        assert_int_equal(manifest_detect(index_json, strlen(index_json), NULL, &kind, &mt), 0);
        assert_int_equal(kind, MANIFEST_KIND_INDEX);
        assert_string_equal(mt, MT_OCI_INDEX);
        free(mt);

        assert_int_equal(manifest_detect(manifest_json, strlen(manifest_json), "text/plain", &kind, &mt), 0);
        assert_int_equal(kind, MANIFEST_KIND_IMAGE);
        free(mt);

        /* No mediaType in the body: the header decides, parameters ignored. */
        assert_int_equal(manifest_detect(index_bare, strlen(index_bare),
                                         "application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8",
                                         &kind, &mt), 0);
        assert_int_equal(kind, MANIFEST_KIND_INDEX);
        assert_string_equal(mt, MT_DOCKER_LIST);
        free(mt);

        /* Neither: the shape. */
        assert_int_equal(manifest_detect(oci_bare, strlen(oci_bare), "application/json", &kind, &mt), 0);
        assert_int_equal(kind, MANIFEST_KIND_IMAGE);
        free(mt);
        assert_int_equal(manifest_detect(index_bare, strlen(index_bare), NULL, &kind, &mt), 0);
        assert_int_equal(kind, MANIFEST_KIND_INDEX);
        free(mt);

        assert_int_equal(manifest_detect(v1, strlen(v1), MT_DOCKER_MANIFEST_V1_SIGNED, &kind, &mt), -EPROTONOSUPPORT);
        assert_string_equal(mt, MT_DOCKER_MANIFEST_V1_SIGNED);
        free(mt);
        assert_int_equal(manifest_detect("nope", 4, NULL, &kind, NULL), -EBADMSG);
        assert_int_equal(manifest_detect("\"str\"", 5, NULL, &kind, NULL), -EBADMSG);
}

static void test_manifest_parse(void **state) {
        ImageManifest *m = NULL;
        char *err = NULL;

        assert_int_equal(image_manifest_parse(manifest_json, strlen(manifest_json), NULL, &m, &err), 0);
        assert_string_equal(m->media_type, MT_OCI_MANIFEST);
        assert_string_equal(m->config.digest, DA);
        assert_int_equal(m->config.size, 123);
        assert_int_equal(m->n_layers, 3);
        assert_string_equal(m->layers[0].digest, DB);
        assert_int_equal(m->layers[0].size, 1000);
        assert_string_equal(m->layers[1].media_type, "application/vnd.oci.image.layer.v1.tar+zstd");
        assert_int_equal(m->layers[2].size, 0);
        image_manifest_free(m);
        m = NULL;

        /* Docker schema 2 with the type only in the header. */
        const char *docker =
                "{\"schemaVersion\":2,"
                "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"" DA "\",\"size\":5},"
                "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"digest\":\"" DB "\",\"size\":9}]}";
        assert_int_equal(image_manifest_parse(docker, strlen(docker), MT_DOCKER_MANIFEST, &m, &err), 0);
        assert_string_equal(m->media_type, MT_DOCKER_MANIFEST);
        assert_int_equal(m->n_layers, 1);
        image_manifest_free(m);
        m = NULL;

        /* A foreign layer is refused, naming its media type. */
        const char *foreign =
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
                "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"" DA "\",\"size\":5},"
                "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\",\"digest\":\"" DB "\",\"size\":9}]}";
        assert_int_equal(image_manifest_parse(foreign, strlen(foreign), NULL, &m, &err), -EPROTONOSUPPORT);
        assert_non_null(strstr(err, "foreign"));
        free(err);
        err = NULL;

        /* Not a container image (e.g. a Helm chart or an attestation). */
        const char *artifact =
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                "\"config\":{\"mediaType\":\"application/vnd.cncf.helm.config.v1+json\",\"digest\":\"" DA "\",\"size\":5},"
                "\"layers\":[]}";
        assert_int_equal(image_manifest_parse(artifact, strlen(artifact), NULL, &m, &err), -EPROTONOSUPPORT);
        assert_non_null(strstr(err, "helm"));
        free(err);
        err = NULL;

        static const char *bad[] = {
                "{}",
                "{\"schemaVersion\":1,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}",
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"layers\":[]}",
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                "\"config\":{\"digest\":\"" DA "\",\"size\":1}}",
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                "\"config\":{\"digest\":\"" DA "\"},\"layers\":[]}",
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                "\"config\":{\"digest\":\"" DA "\",\"size\":1},\"layers\":[{\"digest\":\"md5:00\",\"size\":1}]}",
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                "\"config\":{\"digest\":\"" DA "\",\"size\":\"1\"},\"layers\":[]}",
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                "\"config\":{\"digest\":\"" DA "\",\"size\":99999999},\"layers\":[]}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int k = image_manifest_parse(bad[i], strlen(bad[i]), NULL, &m, &err);
                if (k != -EBADMSG)
                        fail_msg("manifest %zu: %d (%s), expected -EBADMSG", i, k, err);
                assert_non_null(err);
                free(err);
                err = NULL;
        }
        /* An index is not an image manifest. */
        assert_int_equal(image_manifest_parse(index_json, strlen(index_json), NULL, &m, &err), -EPROTONOSUPPORT);
        free(err);
}

static void test_config_diff_ids(void **state) {
        const char *cfg = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
                          "\"diff_ids\":[\"" DA "\",\"" DB "\"]}}";
        const char *empty = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
        char **ids = NULL, *err = NULL;

        assert_int_equal(image_config_diff_ids(cfg, strlen(cfg), &ids, &err), 0);
        assert_string_equal(ids[0], DA);
        assert_string_equal(ids[1], DB);
        assert_null(ids[2]);
        for (char **i = ids; *i; i++)
                free(*i);
        free(ids);

        assert_int_equal(image_config_diff_ids(empty, strlen(empty), &ids, &err), 0);
        assert_null(ids[0]);
        free(ids);

        static const char *bad[] = {
                "{}",
                "{\"rootfs\":{\"type\":\"other\",\"diff_ids\":[]}}",
                "{\"rootfs\":{\"type\":\"layers\"}}",
                "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:zz\"]}}",
                "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[1]}}",
                "{\"rootfs\":[]}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(image_config_diff_ids(bad[i], strlen(bad[i]), &ids, &err), -EBADMSG);
                assert_non_null(err);
                free(err);
                err = NULL;
        }
}

static void test_layer_types(void **state) {
        assert_true(layer_media_type_supported("application/vnd.oci.image.layer.v1.tar"));
        assert_true(layer_media_type_supported("application/vnd.oci.image.layer.v1.tar+gzip"));
        assert_true(layer_media_type_supported("application/vnd.oci.image.layer.v1.tar+zstd"));
        assert_true(layer_media_type_supported("application/vnd.docker.image.rootfs.diff.tar.gzip"));
        assert_false(layer_media_type_supported("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"));
        assert_false(layer_media_type_supported("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"));
        assert_false(layer_media_type_supported(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_platform_parse),
                cmocka_unit_test(test_index_select),
                cmocka_unit_test(test_detect),
                cmocka_unit_test(test_manifest_parse),
                cmocka_unit_test(test_config_diff_ids),
                cmocka_unit_test(test_layer_types),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
