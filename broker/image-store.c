/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <json-c/json.h>
#include <sys/stat.h>

#include "digest.h"
#include "fileio.h"
#include "ids.h"
#include "image-store.h"
#include "log.h"
#include "reference.h"

#define INDEX_MAX (64 * 1024 * 1024)
#define MANIFEST_MAX (4 * 1024 * 1024)
#define CONFIG_MAX (8 * 1024 * 1024)
#define LAYERS_MAX 512

struct ImageStore {
        int images_fd;
        json_object *index;     /* the whole index.json */
        json_object *manifests; /* its "manifests" array (borrowed) */
};

static void json_object_putp(json_object **j) {
        if (*j)
                json_object_put(*j);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

static const char *json_get_string(json_object *o, const char *key) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

ImageStore *image_store_free(ImageStore *s) {
        if (!s)
                return NULL;
        json_object_put(s->index);
        free(s);
        return NULL;
}

static int image_store_write(ImageStore *s) {
        const char *text = json_object_to_json_string_ext(s->index, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;
        return write_file_atomic_at(s->images_fd, "index.json", text, strlen(text), 0644);
}

int image_store_load(int images_fd, ImageStore **ret) {
        _cleanup_(image_store_freep) ImageStore *s = NULL;
        _cleanup_free_ char *text = NULL;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->images_fd = images_fd;

        if (faccessat(images_fd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
                r = write_file_atomic_at(images_fd, "oci-layout", layout, strlen(layout), 0644);
                if (r < 0)
                        return log_error_errno(r, "Failed to write oci-layout: %m");
        }

        r = read_file_at(images_fd, "index.json", INDEX_MAX, &text, NULL);
        if (r == -ENOENT) {
                s->index = json_object_new_object();
                s->manifests = json_object_new_array();
                if (!s->index || !s->manifests)
                        return -ENOMEM;
                json_object_object_add(s->index, "schemaVersion", json_object_new_int(2));
                json_object_object_add(s->index, "mediaType",
                                       json_object_new_string("application/vnd.oci.image.index.v1+json"));
                json_object_object_add(s->index, "manifests", s->manifests);
        } else if (r < 0)
                return log_error_errno(r, "Failed to read index.json: %m");
        else {
                s->index = json_tokener_parse(text);
                if (!s->index || !json_object_is_type(s->index, json_type_object))
                        return log_error_errno(-EBADMSG, "index.json is not a JSON object");
                if (!json_object_object_get_ex(s->index, "manifests", &s->manifests)) {
                        s->manifests = json_object_new_array();
                        if (!s->manifests)
                                return -ENOMEM;
                        json_object_object_add(s->index, "manifests", s->manifests);
                } else if (!json_object_is_type(s->manifests, json_type_array))
                        return log_error_errno(-EBADMSG, "index.json: manifests is not an array");
        }
        *ret = TAKE_PTR(s);
        return 0;
}

/* Entries without a usable reference annotation (written by other tools)
 * are kept in the file but not listed; dangling commits are listed, keyed
 * by their image id. */
static int entry_decode(json_object *m, ImageEntry *ret) {
        json_object *ann = NULL, *size;
        ImageEntry e = {};

        if (!json_object_is_type(m, json_type_object))
                return -EBADMSG;
        json_object_object_get_ex(m, "annotations", &ann);
        e.reference = json_get_string(ann, IMAGE_ANNOTATION_REF);
        if (!e.reference) {
                e.reference = json_get_string(ann, IMAGE_ANNOTATION_DANGLING);
                if (!e.reference || !digest_is_valid(e.reference))
                        return -EBADMSG;
                e.dangling = true;
        }
        e.repo_digest = json_get_string(ann, IMAGE_ANNOTATION_REPO_DIGEST);
        e.manifest = json_get_string(m, "digest");
        e.media_type = json_get_string(m, "mediaType");
        if (json_object_object_get_ex(m, "size", &size) && json_object_is_type(size, json_type_int))
                e.manifest_size = json_object_get_uint64(size);
        if (!e.reference || !e.manifest || !digest_is_valid(e.manifest))
                return -EBADMSG;
        if (!e.repo_digest)
                e.repo_digest = e.manifest;
        *ret = e;
        return 0;
}

size_t image_store_count(const ImageStore *s) {
        size_t n = 0, len = json_object_array_length(s->manifests);
        ImageEntry e;

        for (size_t i = 0; i < len; i++)
                if (entry_decode(json_object_array_get_idx(s->manifests, i), &e) >= 0)
                        n++;
        return n;
}

int image_store_get(const ImageStore *s, size_t i, ImageEntry *ret) {
        size_t len = json_object_array_length(s->manifests);

        for (size_t j = 0; j < len; j++) {
                if (entry_decode(json_object_array_get_idx(s->manifests, j), ret) < 0)
                        continue;
                if (i-- == 0)
                        return 0;
        }
        return -ENOENT;
}

int image_store_find(const ImageStore *s, const char *reference, ImageEntry *ret) {
        size_t len = json_object_array_length(s->manifests);
        ImageEntry e;

        for (size_t j = 0; j < len; j++)
                if (entry_decode(json_object_array_get_idx(s->manifests, j), &e) >= 0 &&
                    streq(e.reference, reference)) {
                        *ret = e;
                        return 0;
                }
        return -ENOENT;
}

int image_store_put(ImageStore *s, const ImageEntry *e) {
        _cleanup_json_ json_object *m = NULL, *ann = NULL, *manifests = NULL;
        size_t len = json_object_array_length(s->manifests);
        int r;

        if (!e->reference || !e->manifest || !digest_is_valid(e->manifest) ||
            (e->repo_digest && !digest_is_valid(e->repo_digest)))
                return -EINVAL;

        m = json_object_new_object();
        ann = json_object_new_object();
        manifests = json_object_new_array();
        if (!m || !ann || !manifests)
                return -ENOMEM;
        json_object_object_add(m, "mediaType",
                               json_object_new_string(e->media_type ?: "application/vnd.oci.image.manifest.v1+json"));
        json_object_object_add(m, "digest", json_object_new_string(e->manifest));
        json_object_object_add(m, "size", json_object_new_int64((int64_t) e->manifest_size));
        if (e->dangling && !digest_is_valid(e->reference))
                return -EINVAL;
        json_object_object_add(ann, e->dangling ? IMAGE_ANNOTATION_DANGLING : IMAGE_ANNOTATION_REF,
                               json_object_new_string(e->reference));
        json_object_object_add(ann, IMAGE_ANNOTATION_REPO_DIGEST, json_object_new_string(e->repo_digest ?: e->manifest));
        json_object_object_add(m, "annotations", TAKE_PTR(ann));

        /* A new array without the old entry of this reference (a tag moves). */
        for (size_t j = 0; j < len; j++) {
                json_object *old = json_object_array_get_idx(s->manifests, j);
                ImageEntry oe;
                if (entry_decode(old, &oe) >= 0 && (streq(oe.reference, e->reference) ||
                                                    (oe.dangling && !e->dangling && streq(oe.manifest, e->manifest))))
                        continue;
                json_object_array_add(manifests, json_object_get(old));
        }
        json_object_array_add(manifests, TAKE_PTR(m));

        json_object *previous = json_object_get(s->manifests);
        json_object_object_add(s->index, "manifests", json_object_get(manifests));
        s->manifests = manifests;
        r = image_store_write(s);
        if (r < 0) {
                /* Keep memory and disk the same. */
                json_object_object_add(s->index, "manifests", previous);
                s->manifests = previous;
                return r;
        }
        json_object_put(previous);
        return 0;
}

int image_store_remove(ImageStore *s, const char *reference) {
        _cleanup_json_ json_object *manifests = NULL;
        size_t len = json_object_array_length(s->manifests);
        bool found = false;
        int r;

        manifests = json_object_new_array();
        if (!manifests)
                return -ENOMEM;
        for (size_t j = 0; j < len; j++) {
                json_object *old = json_object_array_get_idx(s->manifests, j);
                ImageEntry oe;
                if (entry_decode(old, &oe) >= 0 && streq(oe.reference, reference)) {
                        found = true;
                        continue;
                }
                json_object_array_add(manifests, json_object_get(old));
        }
        if (!found)
                return -ENOENT;

        json_object *previous = json_object_get(s->manifests);
        json_object_object_add(s->index, "manifests", json_object_get(manifests));
        s->manifests = manifests;
        r = image_store_write(s);
        if (r < 0) {
                json_object_object_add(s->index, "manifests", previous);
                s->manifests = previous;
                return r;
        }
        json_object_put(previous);
        return 0;
}

static const char *entry_manifest_digest(json_object *m) {
        const char *d = json_get_string(m, "digest");
        return d && digest_is_valid(d) ? d : NULL;
}

static int strv_add(char ***l, const char *s) {
        size_t n = strv_length(*l);
        char **nl = realloc(*l, (n + 2) * sizeof(char *));
        if (!nl)
                return -ENOMEM;
        *l = nl;
        nl[n] = strdup(s);
        nl[n + 1] = NULL;
        return nl[n] ? 0 : -ENOMEM;
}

int image_store_all_manifests(const ImageStore *s, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        size_t len = json_object_array_length(s->manifests);
        int r;

        if (!l)
                return -ENOMEM;
        for (size_t j = 0; j < len; j++) {
                const char *d = entry_manifest_digest(json_object_array_get_idx(s->manifests, j));
                if (d && (r = strv_add(&l, d)) < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static bool manifest_listed(char *const *l, const char *d) {
        for (; l && *l; l++)
                if (streq(*l, d))
                        return true;
        return false;
}

int image_store_remove_untagged(ImageStore *s, char *const *keep, char ***ret) {
        _cleanup_json_ json_object *manifests = NULL;
        _cleanup_strv_free_ char **removed = calloc(1, sizeof(char *));
        size_t len = json_object_array_length(s->manifests);
        int r;

        if (!removed)
                return -ENOMEM;
        manifests = json_object_new_array();
        if (!manifests)
                return -ENOMEM;
        for (size_t j = 0; j < len; j++) {
                json_object *old = json_object_array_get_idx(s->manifests, j), *ann = NULL;
                const char *d = entry_manifest_digest(old);

                if (d && json_object_is_type(old, json_type_object)) {
                        json_object_object_get_ex(old, "annotations", &ann);
                        if (!json_get_string(ann, IMAGE_ANNOTATION_REF) && !manifest_listed(keep, d)) {
                                r = strv_add(&removed, d);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                }
                json_object_array_add(manifests, json_object_get(old));
        }
        if (removed[0]) {
                json_object *previous = json_object_get(s->manifests);
                json_object_object_add(s->index, "manifests", json_object_get(manifests));
                s->manifests = manifests;
                r = image_store_write(s);
                if (r < 0) {
                        json_object_object_add(s->index, "manifests", previous);
                        s->manifests = previous;
                        return r;
                }
                json_object_put(previous);
        }
        *ret = TAKE_PTR(removed);
        return 0;
}

int image_entry_id(const ImageStore *s, const ImageEntry *e, char ret[72]) {
        _cleanup_free_ char *config = NULL;
        int r;

        r = image_manifest_read(s->images_fd, e->manifest, &config, NULL, NULL);
        if (r < 0)
                return r;
        snprintf(ret, 72, "%s", config);
        return 0;
}

bool image_id_prefix_parse(const char *name, char ret[65]) {
        const char *hex = name;
        size_t n;

        if (!name)
                return false;
        if (strneq(name, "sha256:", 7))
                hex += 7;
        n = strlen(hex);
        if (n < 12 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = hex[i];
                if (c >= 'A' && c <= 'F')
                        c = (char) (c - 'A' + 'a');
                else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                        return false;
                ret[i] = c;
        }
        ret[n] = 0;
        return true;
}

/* "host/repo" of a normalized reference (up to '@' or the tag's ':'). */
static size_t reference_repo_len(const char *ref) {
        const char *at = strchr(ref, '@'), *slash = strrchr(ref, '/'), *colon;
        size_t end = at ? (size_t) (at - ref) : strlen(ref);

        colon = memrchr(ref, ':', end);
        if (colon && (!slash || colon > slash))
                end = (size_t) (colon - ref);
        return end;
}

int image_store_resolve(const ImageStore *s, const char *name, ImageEntry *ret, char ret_id[72]) {
        _cleanup_free_ char *ref = NULL;
        size_t len = json_object_array_length(s->manifests);
        char prefix[65], found_id[72] = "";
        ImageEntry e, found = {};
        int r;

        if (isempty(name))
                return -ENOENT;

        if (image_reference_normalize(name, &ref) >= 0) {
                const char *at = strchr(ref, '@');

                if (image_store_find(s, ref, &e) >= 0) {
                        if (ret_id && image_entry_id(s, &e, ret_id) < 0)
                                ret_id[0] = 0;
                        *ret = e;
                        return 0;
                }
                if (at) {
                        size_t rl = reference_repo_len(ref);
                        for (size_t j = 0; j < len; j++) {
                                if (entry_decode(json_object_array_get_idx(s->manifests, j), &e) < 0)
                                        continue;
                                if (reference_repo_len(e.reference) != rl || !strneq(e.reference, ref, rl))
                                        continue;
                                if (streq(e.repo_digest, at + 1) || streq(e.manifest, at + 1)) {
                                        if (ret_id && image_entry_id(s, &e, ret_id) < 0)
                                                ret_id[0] = 0;
                                        *ret = e;
                                        return 0;
                                }
                        }
                }
        }

        if (!image_id_prefix_parse(name, prefix))
                return -ENOENT;
        for (size_t j = 0; j < len; j++) {
                char id[72];

                if (entry_decode(json_object_array_get_idx(s->manifests, j), &e) < 0)
                        continue;
                r = image_entry_id(s, &e, id);
                if (r < 0) {
                        log_debug_errno(r, "Cannot read the image id of %s: %m", e.reference);
                        continue;
                }
                /* A full manifest digest names its image too: a dangling image
                 * has no other name ListImages shows. */
                if (!strneq(id + 7, prefix, strlen(prefix)) && !(strlen(prefix) == 64 && streq(e.manifest + 7, prefix)))
                        continue;
                if (found_id[0] && !streq(found_id, id))
                        return -ENOTUNIQ;
                if (!found_id[0]) {
                        memcpy(found_id, id, sizeof(found_id));
                        found = e;
                }
        }
        if (!found_id[0])
                return -ENOENT;
        if (ret_id)
                memcpy(ret_id, found_id, 72);
        *ret = found;
        return 0;
}

int image_blob_open(int images_fd, const char *digest) {
        char path[strlen("blobs/sha256/") + 65];
        int fd;

        if (!digest_is_valid(digest))
                return -EINVAL;
        snprintf(path, sizeof(path), "blobs/sha256/%s", digest + strlen("sha256:"));
        fd = openat(images_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        return fd < 0 ? -errno : fd;
}

static int blob_read(int images_fd, const char *digest, size_t max, char **ret) {
        _cleanup_close_ int fd = image_blob_open(images_fd, digest);
        if (fd < 0)
                return fd;
        return read_fd_full(fd, max, ret, NULL);
}

static int json_int_size(json_object *o, uint64_t *ret) {
        json_object *v;
        if (!json_object_object_get_ex(o, "size", &v) || !json_object_is_type(v, json_type_int))
                return -EBADMSG;
        int64_t i = json_object_get_int64(v);
        if (i < 0)
                return -EBADMSG;
        *ret = (uint64_t) i;
        return 0;
}

int image_manifest_read(int images_fd, const char *manifest_digest, char **ret_config, char ***ret_layers,
                        uint64_t *ret_total_size) {
        _cleanup_free_ char *text = NULL, *config = NULL;
        _cleanup_strv_free_ char **layers = NULL;
        _cleanup_json_ json_object *o = NULL;
        json_object *cfg, *arr;
        uint64_t total, sz;
        size_t n;
        int r;

        r = blob_read(images_fd, manifest_digest, MANIFEST_MAX, &text);
        if (r < 0)
                return r;
        total = strlen(text);
        o = json_tokener_parse(text);
        if (!o || !json_object_object_get_ex(o, "config", &cfg) || !json_object_object_get_ex(o, "layers", &arr) ||
            !json_object_is_type(arr, json_type_array))
                return -EBADMSG;
        const char *cd = json_get_string(cfg, "digest");
        if (!cd || !digest_is_valid(cd) || json_int_size(cfg, &sz) < 0)
                return -EBADMSG;
        total += sz;
        config = strdup(cd);
        if (!config)
                return -ENOMEM;

        n = json_object_array_length(arr);
        if (n > LAYERS_MAX)
                return -E2BIG;
        layers = calloc(n + 1, sizeof(char *));
        if (!layers)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *l = json_object_array_get_idx(arr, i);
                const char *d = json_get_string(l, "digest");
                if (!d || !digest_is_valid(d) || json_int_size(l, &sz) < 0)
                        return -EBADMSG;
                total += sz;
                layers[i] = strdup(d);
                if (!layers[i])
                        return -ENOMEM;
        }
        if (ret_config)
                *ret_config = TAKE_PTR(config);
        if (ret_layers)
                *ret_layers = TAKE_PTR(layers);
        if (ret_total_size)
                *ret_total_size = total;
        return 0;
}

int image_manifest_layer_sizes(int images_fd, const char *manifest_digest, uint64_t **ret, size_t *ret_n) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ uint64_t *sizes = NULL;
        _cleanup_json_ json_object *o = NULL;
        json_object *arr;
        size_t n;
        int r;

        r = blob_read(images_fd, manifest_digest, MANIFEST_MAX, &text);
        if (r < 0)
                return r;
        o = json_tokener_parse(text);
        if (!o || !json_object_object_get_ex(o, "layers", &arr) || !json_object_is_type(arr, json_type_array))
                return -EBADMSG;
        n = json_object_array_length(arr);
        if (n > LAYERS_MAX)
                return -E2BIG;
        sizes = calloc(n + 1, sizeof(uint64_t));
        if (!sizes)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (json_int_size(json_object_array_get_idx(arr, i), &sizes[i]) < 0)
                        return -EBADMSG;
        *ret = TAKE_PTR(sizes);
        *ret_n = n;
        return 0;
}

int image_config_read(int images_fd, const char *config_digest, char **ret_text, char ***ret_diff_ids) {
        _cleanup_free_ char *text = NULL;
        _cleanup_strv_free_ char **ids = NULL;
        _cleanup_json_ json_object *o = NULL;
        json_object *rootfs, *arr;
        size_t n;
        int r;

        r = blob_read(images_fd, config_digest, CONFIG_MAX, &text);
        if (r < 0)
                return r;
        o = json_tokener_parse(text);
        if (!o || !json_object_object_get_ex(o, "rootfs", &rootfs) ||
            !json_object_object_get_ex(rootfs, "diff_ids", &arr) || !json_object_is_type(arr, json_type_array))
                return -EBADMSG;
        n = json_object_array_length(arr);
        if (n > LAYERS_MAX)
                return -E2BIG;
        ids = calloc(n + 1, sizeof(char *));
        if (!ids)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(arr, i);
                if (!json_object_is_type(v, json_type_string) || !digest_is_valid(json_object_get_string(v)))
                        return -EBADMSG;
                ids[i] = strdup(json_object_get_string(v));
                if (!ids[i])
                        return -ENOMEM;
        }
        if (ret_text)
                *ret_text = TAKE_PTR(text);
        if (ret_diff_ids)
                *ret_diff_ids = TAKE_PTR(ids);
        return 0;
}

int image_chain_ids(char *const *diff_ids, char ***ret) {
        size_t n = strv_length(diff_ids);
        _cleanup_strv_free_ char **l = calloc(n + 1, sizeof(char *));
        char chain[72] = "";
        int r;

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char next[72];
                if (!digest_is_valid(diff_ids[i]))
                        return -EINVAL;
                r = chain_id_next(i == 0 ? NULL : chain, diff_ids[i], next);
                if (r < 0)
                        return r;
                memcpy(chain, next, sizeof(chain));
                l[i] = strdup(chain + strlen("sha256:"));
                if (!l[i])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}
