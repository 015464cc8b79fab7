/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* workers/archive/image-archive-*.c: LoadImages' archive checks (docker-
 * and oci-archive, digests, diff_ids, hostile names, truncation), that a
 * refused load leaves nothing behind, and SaveImages' output read back. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <cmocka.h>

#include "digest.h"
#include "fileio.h"
#include "image-archive.h"
#include "macro.h"

typedef struct Store {
        char dir[64];
        int images_fd, layers_fd;
} Store;

static void store_open(Store *s) {
        int root;
        snprintf(s->dir, sizeof(s->dir), "/tmp/test-image-archive-XXXXXX");
        assert_non_null(mkdtemp(s->dir));
        root = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(root >= 0);
        assert_int_equal(mkdir_p_at(root, "images/blobs/sha256", 0755), 0);
        assert_int_equal(mkdir_p_at(root, "images/ingest", 0755), 0);
        assert_int_equal(mkdir_p_at(root, "layers", 0755), 0);
        s->images_fd = openat(root, "images", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        s->layers_fd = openat(root, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(s->images_fd >= 0 && s->layers_fd >= 0);
        close(root);
}

static void store_close(Store *s) {
        int root = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        close(s->images_fd);
        close(s->layers_fd);
        assert_int_equal(rm_rf_at(root, s->dir + strlen("/tmp/")), 0);
        close(root);
}

/* Entries of a directory, dot files included, "." and ".." not. */
static int count_entries(int dirfd, const char *name) {
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
        DIR *d;
        struct dirent *de;

        assert_true(fd >= 0);
        d = fdopendir(fd);
        assert_non_null(d);
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

/* ---- building archives ---- */

typedef struct Entry {
        const char *name;
        const void *data;
        size_t len;
        const char *symlink;
} Entry;

/* A tar (gzip when @gzip) of @entries in a temp file, read back from its start. */
static int make_tar(const Entry *entries, size_t n, bool gzip) {
        char path[] = "/tmp/test-image-archive-tar-XXXXXX";
        int fd = mkstemp(path);
        struct archive *w = archive_write_new();

        assert_true(fd >= 0);
        unlink(path);
        if (gzip)
                archive_write_add_filter_gzip(w);
        archive_write_set_format_pax_restricted(w);
        assert_int_equal(archive_write_open_fd(w, fd), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, entries[i].name);
                if (entries[i].symlink) {
                        archive_entry_set_filetype(e, AE_IFLNK);
                        archive_entry_set_symlink(e, entries[i].symlink);
                } else {
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_size(e, (la_int64_t) entries[i].len);
                }
                archive_entry_set_perm(e, 0644);
                assert_int_equal(archive_write_header(w, e), ARCHIVE_OK);
                if (!entries[i].symlink)
                        assert_int_equal(archive_write_data(w, entries[i].data, entries[i].len), (la_ssize_t) entries[i].len);
                archive_entry_free(e);
        }
        assert_int_equal(archive_write_close(w), ARCHIVE_OK);
        archive_write_free(w);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

static char *fd_to_buffer(int fd, size_t *ret_len) {
        char *buf = NULL;
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_int_equal(read_fd_full(fd, 64 << 20, &buf, ret_len), 0);
        return buf;
}

/* One image: a layer with /etc/marker, its config, as a docker-archive. */
typedef struct Image {
        char *layer;
        size_t layer_len;
        char diff_id[72];
        char config[1024];
        char config_digest[72];
        char layer_name[80], config_name[80], manifest[1024];
} Image;

static void image_build(Image *img, const char *marker, const char *tag) {
        Entry e = { "etc/marker", marker, strlen(marker) };
        int fd = make_tar(&e, 1, false);

        img->layer = fd_to_buffer(fd, &img->layer_len);
        close(fd);
        assert_int_equal(sha256_digest(img->layer, img->layer_len, img->diff_id), 0);
        snprintf(img->config, sizeof(img->config),
                 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
                 img->diff_id);
        assert_int_equal(sha256_digest(img->config, strlen(img->config), img->config_digest), 0);
        snprintf(img->layer_name, sizeof(img->layer_name), "%.64s.tar", img->diff_id + 7);
        snprintf(img->config_name, sizeof(img->config_name), "%.64s.json", img->config_digest + 7);
        snprintf(img->manifest, sizeof(img->manifest), "[{\"Config\":\"%s\",\"RepoTags\":[\"%s\"],\"Layers\":[\"%s\"]}]",
                 img->config_name, tag, img->layer_name);
}

static int image_docker_archive(const Image *img, bool gzip) {
        Entry es[] = {
                { img->layer_name, img->layer, img->layer_len },
                { img->config_name, img->config, strlen(img->config) },
                { "manifest.json", img->manifest, strlen(img->manifest) },
        };
        return make_tar(es, ELEMENTSOF(es), gzip);
}

static bool blob_exists(const Store *s, const char *digest) {
        char name[128];
        snprintf(name, sizeof(name), "blobs/sha256/%.64s", digest + 7);
        return faccessat(s->images_fd, name, F_OK, 0) == 0;
}

static void assert_store_empty(const Store *s) {
        assert_int_equal(count_entries(s->images_fd, "blobs/sha256"), 0);
        assert_int_equal(count_entries(s->images_fd, "ingest"), 0);
        assert_int_equal(count_entries(s->layers_fd, "."), 0);
}

static void expect_refused(Store *s, int fd, const char *words) {
        _cleanup_free_ char *json = NULL, *msg = NULL;
        int r = image_load(s->images_fd, s->layers_fd, fd, &json, &msg);

        assert_true(r == -EBADMSG || r == -EINVAL);
        assert_null(json);
        assert_non_null(msg);
        if (!strstr(msg, words))
                fail_msg("message '%s' lacks '%s'", msg, words);
        assert_store_empty(s);
}

/* ---- tests ---- */

static void test_load_docker_archive(void **state) {
        _cleanup_free_ char *json = NULL, *msg = NULL;
        json_object *result, *item;
        Store s;
        Image img;
        int fd;

        store_open(&s);
        image_build(&img, "marker-1\n", "zlunit/one:v1");
        fd = image_docker_archive(&img, true);
        assert_int_equal(image_load(s.images_fd, s.layers_fd, fd, &json, &msg), 0);
        close(fd);
        result = json_tokener_parse(json);
        assert_non_null(result);
        assert_int_equal(json_object_array_length(result), 1);
        item = json_object_array_get_idx(result, 0);
        assert_string_equal(image_json_str(item, "id"), img.config_digest);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(image_json_arr(item, "references"), 0)),
                            "docker.io/zlunit/one:v1");
        assert_true(blob_exists(&s, img.config_digest));
        assert_true(blob_exists(&s, img.diff_id)); /* uncompressed: digest = diff_id */
        assert_true(blob_exists(&s, image_json_str(item, "manifest")));
        /* one layer: its chain id is its diff_id; the file is there */
        {
                char path[128];
                snprintf(path, sizeof(path), "%.64s/etc/marker", img.diff_id + 7);
                assert_int_equal(faccessat(s.layers_fd, path, F_OK, 0), 0);
        }
        assert_int_equal(count_entries(s.images_fd, "ingest"), 0);
        json_object_put(result);
        free(img.layer);
        store_close(&s);
}

static void test_load_refuses_wrong_diff_id(void **state) {
        Store s;
        Image img, other;
        int fd;

        store_open(&s);
        image_build(&img, "marker-1\n", "zlunit/one:v1");
        image_build(&other, "something else\n", "zlunit/one:v1");
        /* the layer of another image under a neutral name: only the diff_id check can tell */
        snprintf(img.layer_name, sizeof(img.layer_name), "abc/layer.tar");
        snprintf(img.manifest, sizeof(img.manifest), "[{\"Config\":\"%s\",\"RepoTags\":[\"x:1\"],\"Layers\":[\"abc/layer.tar\"]}]",
                 img.config_name);
        free(img.layer);
        img.layer = other.layer;
        img.layer_len = other.layer_len;
        fd = image_docker_archive(&img, false);
        expect_refused(&s, fd, "digest mismatch");
        close(fd);
        free(other.layer);
        store_close(&s);
}

static void test_load_refuses_bad_names(void **state) {
        Store s;
        Image img;
        int fd;

        store_open(&s);
        image_build(&img, "m\n", "zlunit/one:v1");
        {
                Entry es[] = { { "../evil", "x", 1 }, { "manifest.json", img.manifest, strlen(img.manifest) } };
                fd = make_tar(es, 2, false);
                expect_refused(&s, fd, "'../evil'");
                close(fd);
        }
        {
                Entry es[] = { { "/abs", "x", 1 } };
                fd = make_tar(es, 1, false);
                expect_refused(&s, fd, "'/abs'");
                close(fd);
        }
        {
                Entry es[] = { { "manifest.json", NULL, 0, "../../etc/passwd" } };
                fd = make_tar(es, 1, false);
                expect_refused(&s, fd, "points out of the archive");
                close(fd);
        }
        {
                /* a config whose name promises another digest */
                char bad[80];
                snprintf(bad, sizeof(bad), "%064d.json", 0);
                snprintf(img.manifest, sizeof(img.manifest), "[{\"Config\":\"%s\",\"RepoTags\":[\"x:1\"],\"Layers\":[\"%s\"]}]",
                         bad, img.layer_name);
                snprintf(img.config_name, sizeof(img.config_name), "%s", bad);
                fd = image_docker_archive(&img, false);
                expect_refused(&s, fd, "has the digest");
                close(fd);
        }
        {
                /* a bad tag */
                free(img.layer);
                image_build(&img, "m\n", "Not A Name");
                fd = image_docker_archive(&img, false);
                expect_refused(&s, fd, "'Not A Name'");
                close(fd);
        }
        free(img.layer);
        store_close(&s);
}

static void test_load_refuses_truncated(void **state) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        Store s;
        Image img;
        int fd, half;
        char path[] = "/tmp/test-image-archive-trunc-XXXXXX";

        store_open(&s);
        image_build(&img, "marker-1\n", "zlunit/one:v1");
        fd = image_docker_archive(&img, false);
        buf = fd_to_buffer(fd, &len);
        close(fd);
        half = mkstemp(path);
        unlink(path);
        assert_int_equal(loop_write(half, buf, len / 2 + 7), 0); /* mid-entry */
        assert_int_equal(lseek(half, 0, SEEK_SET), 0);
        expect_refused(&s, half, "truncated");
        /* cut at an entry boundary, libarchive sees a short archive: still refused */
        assert_int_equal(ftruncate(half, 0), 0);
        assert_int_equal(pwrite(half, buf, len - 2048, 0), (ssize_t) (len - 2048));
        assert_int_equal(lseek(half, 0, SEEK_SET), 0);
        expect_refused(&s, half, "neither manifest.json");
        close(half);
        free(img.layer);
        store_close(&s);
}

/* The OCI manifest of @img and the blob paths of an oci-archive. */
typedef struct OciImage {
        char manifest[2048], mdigest[72];
        char lname[128], cname[128], mname[128];
} OciImage;

static void oci_image_build(const Image *img, OciImage *o) {
        snprintf(o->manifest, sizeof(o->manifest),
                 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
                 "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%zu}]}",
                 img->config_digest, strlen(img->config), img->diff_id, img->layer_len);
        assert_int_equal(sha256_digest(o->manifest, strlen(o->manifest), o->mdigest), 0);
        snprintf(o->lname, sizeof(o->lname), "blobs/sha256/%.64s", img->diff_id + 7);
        snprintf(o->cname, sizeof(o->cname), "blobs/sha256/%.64s", img->config_digest + 7);
        snprintf(o->mname, sizeof(o->mname), "blobs/sha256/%.64s", o->mdigest + 7);
}

static void test_load_oci_archive(void **state) {
        _cleanup_free_ char *json = NULL, *msg = NULL;
        char index[2048];
        Store s;
        Image img;
        OciImage o;
        int fd;

        store_open(&s);
        image_build(&img, "oci\n", "unused:1");
        oci_image_build(&img, &o);
        snprintf(index, sizeof(index),
                 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                 "\"digest\":\"%s\",\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref.name\":\"localhost/zlunit/oci:v2\"}}]}",
                 o.mdigest, strlen(o.manifest));
        {
                Entry es[] = {
                        { "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30 },
                        { "index.json", index, strlen(index) },
                        { o.mname, o.manifest, strlen(o.manifest) },
                        { o.cname, img.config, strlen(img.config) },
                        { o.lname, img.layer, img.layer_len },
                };
                fd = make_tar(es, ELEMENTSOF(es), false);
                assert_int_equal(image_load(s.images_fd, s.layers_fd, fd, &json, &msg), 0);
                close(fd);
                assert_non_null(strstr(json, "\"localhost/zlunit/oci:v2\""));
                assert_non_null(strstr(json, o.mdigest));
                assert_true(blob_exists(&s, o.mdigest));
        }
        store_close(&s);
        store_open(&s);
        {
                /* a blob whose content is not its name */
                Entry es[] = {
                        { "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30 },
                        { "index.json", index, strlen(index) },
                        { o.mname, o.manifest, strlen(o.manifest) },
                        { o.cname, img.config, strlen(img.config) },
                        { o.lname, "garbage", 7 },
                };
                fd = make_tar(es, ELEMENTSOF(es), false);
                expect_refused(&s, fd, o.lname);
                close(fd);
        }
        free(img.layer);
        store_close(&s);
}

/* Load, then save: the docker-archive holds the same config and layer bytes. */
static void test_save_reads_back(void **state) {
        _cleanup_free_ char *json = NULL, *msg = NULL, *plan = NULL;
        struct archive *a;
        struct archive_entry *e;
        bool seen_layer = false, seen_config = false, seen_manifest = false;
        Store s;
        Image img;
        int fd, out;
        char path[] = "/tmp/test-image-archive-save-XXXXXX";

        store_open(&s);
        image_build(&img, "saved\n", "zlunit/saved:v1");
        fd = image_docker_archive(&img, true);
        assert_int_equal(image_load(s.images_fd, s.layers_fd, fd, &json, &msg), 0);
        close(fd);
        assert_true(asprintf(&plan, "{\"images\":[{\"config\":\"%s\",\"repo_tags\":[\"docker.io/zlunit/saved:v1\"],"
                                    "\"layers\":[{\"blob\":\"%s\",\"diff_id\":\"%s\"}]}]}",
                             img.config_digest, img.diff_id, img.diff_id) > 0);
        out = mkstemp(path);
        unlink(path);
        assert_int_equal(image_save(s.images_fd, plan, out, &msg), 0);
        assert_int_equal(lseek(out, 0, SEEK_SET), 0);
        a = archive_read_new();
        archive_read_support_format_tar(a);
        assert_int_equal(archive_read_open_fd(a, out, 4096), ARCHIVE_OK);
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                const char *name = archive_entry_pathname(e);
                char buf[8192];
                la_ssize_t n = archive_read_data(a, buf, sizeof(buf) - 1);
                assert_true(n >= 0);
                buf[n] = 0;
                if (strcmp(name, img.layer_name) == 0) {
                        assert_int_equal((size_t) n, img.layer_len);
                        assert_memory_equal(buf, img.layer, img.layer_len);
                        seen_layer = true;
                } else if (strcmp(name, img.config_name) == 0) {
                        assert_string_equal(buf, img.config);
                        seen_config = true;
                } else if (strcmp(name, "manifest.json") == 0) {
                        assert_non_null(strstr(buf, "\"RepoTags\":[\"docker.io/zlunit/saved:v1\"]"));
                        assert_non_null(strstr(buf, img.layer_name));
                        seen_manifest = true;
                }
        }
        assert_true(seen_layer && seen_config && seen_manifest);
        archive_read_free(a);
        close(out);

        /* a plan naming a blob the store lacks */
        free(msg);
        msg = NULL;
        out = open("/dev/null", O_WRONLY | O_CLOEXEC);
        free(plan);
        assert_true(asprintf(&plan, "{\"images\":[{\"config\":\"sha256:%064d\",\"layers\":[]}]}", 1) > 0);
        assert_true(image_save(s.images_fd, plan, out, &msg) < 0);
        assert_non_null(strstr(msg, "cannot be read"));
        close(out);
        free(img.layer);
        store_close(&s);
}

/* docker save IMAGE_ID writes "RepoTags": null: loaded, without a name. */
static void test_load_untagged_docker_archive(void **state) {
        _cleanup_free_ char *json = NULL, *msg = NULL;
        json_object *result, *item, *refs, *id;
        Store s;
        Image img;
        int fd;

        store_open(&s);
        image_build(&img, "untagged\n", "unused:1");
        snprintf(img.manifest, sizeof(img.manifest), "[{\"Config\":\"%s\",\"RepoTags\":null,\"Layers\":[\"%s\"]}]",
                 img.config_name, img.layer_name);
        fd = image_docker_archive(&img, false);
        assert_int_equal(image_load(s.images_fd, s.layers_fd, fd, &json, &msg), 0);
        close(fd);
        result = json_tokener_parse(json);
        assert_int_equal(json_object_array_length(result), 1);
        item = json_object_array_get_idx(result, 0);
        assert_true(json_object_object_get_ex(item, "references", &refs));
        assert_int_equal(json_object_array_length(refs), 0);
        assert_true(json_object_object_get_ex(item, "id", &id));
        assert_string_equal(json_object_get_string(id), img.config_digest);
        assert_true(blob_exists(&s, img.config_digest));
        json_object_put(result);
        free(img.layer);
        store_close(&s);
}

static const char *native_arch(void) {
        struct utsname u;
        assert_int_equal(uname(&u), 0);
        return strcmp(u.machine, "x86_64") == 0 ? "amd64" : strcmp(u.machine, "aarch64") == 0 ? "arm64" : NULL;
}

/* A multi-platform oci-archive (skopeo copy --all): index.json → image
 * index → the host's manifest; the other platform's blobs stay out. */
static void test_load_nested_index(void **state) {
        _cleanup_free_ char *json = NULL, *msg = NULL;
        char nested[2048], ndigest[72], index[2048], only_other[2048], odigest[72];
        char nname[128], oname[128], fake[72], fname[128];
        const char *arch = native_arch();
        static const char fake_manifest[] = "{\"schemaVersion\":2,\"not\":\"loaded\"}";
        Store s;
        Image img;
        OciImage o;
        int fd;

        if (!arch)
                skip();
        store_open(&s);
        image_build(&img, "multi\n", "unused:1");
        oci_image_build(&img, &o);
        assert_int_equal(sha256_digest(fake_manifest, strlen(fake_manifest), fake), 0);
        snprintf(nested, sizeof(nested),
                 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
                 "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu,"
                 "\"platform\":{\"os\":\"linux\",\"architecture\":\"mips64le\"}},"
                 "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu,"
                 "\"platform\":{\"os\":\"linux\",\"architecture\":\"%s\"}}]}",
                 fake, strlen(fake_manifest), o.mdigest, strlen(o.manifest), arch);
        assert_int_equal(sha256_digest(nested, strlen(nested), ndigest), 0);
        snprintf(index, sizeof(index),
                 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                 "\"digest\":\"%s\",\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref.name\":\"localhost/zlunit/multi:v1\"}}]}",
                 ndigest, strlen(nested));
        snprintf(nname, sizeof(nname), "blobs/sha256/%.64s", ndigest + 7);
        snprintf(fname, sizeof(fname), "blobs/sha256/%.64s", fake + 7);
        {
                Entry es[] = {
                        { "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30 },
                        { "index.json", index, strlen(index) },
                        { nname, nested, strlen(nested) },
                        { fname, fake_manifest, strlen(fake_manifest) },
                        { o.mname, o.manifest, strlen(o.manifest) },
                        { o.cname, img.config, strlen(img.config) },
                        { o.lname, img.layer, img.layer_len },
                };
                fd = make_tar(es, ELEMENTSOF(es), false);
                assert_int_equal(image_load(s.images_fd, s.layers_fd, fd, &json, &msg), 0);
                close(fd);
                /* the outer entry names it; the chosen manifest is recorded */
                assert_non_null(strstr(json, "\"localhost/zlunit/multi:v1\""));
                assert_non_null(strstr(json, o.mdigest));
                assert_true(blob_exists(&s, o.mdigest) && blob_exists(&s, img.config_digest) && blob_exists(&s, img.diff_id));
                assert_false(blob_exists(&s, fake));
                assert_false(blob_exists(&s, ndigest));
                assert_int_equal(count_entries(s.images_fd, "blobs/sha256"), 3);
        }
        store_close(&s);
        store_open(&s);
        {
                /* only another platform: refused, naming what is there */
                snprintf(only_other, sizeof(only_other),
                         "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                         "\"digest\":\"%s\",\"size\":%zu,\"platform\":{\"os\":\"linux\",\"architecture\":\"mips64le\"}}]}",
                         fake, strlen(fake_manifest));
                assert_int_equal(sha256_digest(only_other, strlen(only_other), odigest), 0);
                snprintf(oname, sizeof(oname), "blobs/sha256/%.64s", odigest + 7);
                snprintf(index, sizeof(index),
                         "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                         "\"digest\":\"%s\",\"size\":%zu}]}", odigest, strlen(only_other));
                Entry es[] = {
                        { "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30 },
                        { "index.json", index, strlen(index) },
                        { oname, only_other, strlen(only_other) },
                        { fname, fake_manifest, strlen(fake_manifest) },
                };
                fd = make_tar(es, ELEMENTSOF(es), false);
                expect_refused(&s, fd, "(it has: linux/mips64le)");
                close(fd);
        }
        free(img.layer);
        store_close(&s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_load_docker_archive),
                cmocka_unit_test(test_load_refuses_wrong_diff_id),
                cmocka_unit_test(test_load_refuses_bad_names),
                cmocka_unit_test(test_load_refuses_truncated),
                cmocka_unit_test(test_load_oci_archive),
                cmocka_unit_test(test_save_reads_back),
                cmocka_unit_test(test_load_untagged_docker_archive),
                cmocka_unit_test(test_load_nested_index),
        };
        if (geteuid() != 0) {
                fprintf(stderr, "test-image-archive: needs root (layer unpacking), skipped\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
