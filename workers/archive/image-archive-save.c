/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SaveImages in zlayer-archive: a docker-archive tar, as `docker save` wrote
 * it before the OCI layout (and as `podman save` still does): config
 * `<hex>.json`, layers `<diffhex>.tar` uncompressed, manifest.json,
 * repositories. Layers are streamed from their blobs twice when compressed
 * (once to learn the tar header's size, once to write), never held. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <sys/stat.h>

#include "digest.h"
#include "fileio.h"
#include "ids.h"
#include "image-archive.h"
#include "macro.h"

#define CHUNK (128U << 10)

static int blob_open(int images_fd, const char *digest) {
        char name[128];
        int fd;

        snprintf(name, sizeof(name), "blobs/sha256/%s", digest + strlen("sha256:"));
        fd = openat(images_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static int write_header(struct archive *w, const char *name, uint64_t size) {
        struct archive_entry *e = archive_entry_new();
        int r;

        if (!e)
                return -ENOMEM;
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t) size);
        archive_entry_set_mtime(e, 0, 0);
        r = archive_write_header(w, e) == ARCHIVE_OK ? 0 : -EIO;
        archive_entry_free(e);
        return r;
}

static int write_buffer(struct archive *w, const char *name, const char *data, size_t len, char **ret_error) {
        if (write_header(w, name, len) < 0 || archive_write_data(w, data, len) != (la_ssize_t) len)
                return image_set_error(ret_error, -EIO, "writing %s: %s", name, archive_error_string(w) ?: "error");
        return 0;
}

static int save_layer(struct archive *w, int images_fd, const char *blob, const char *diff_id, char **ret_error) {
        _cleanup_close_ int fd = -1;
        char name[80];
        uint64_t len;
        struct stat st;
        int r;

        fd = blob_open(images_fd, blob);
        if (fd < 0)
                return image_set_error(ret_error, fd, "layer blob %s is missing from the store", blob);
        if (streq(blob, diff_id)) {
                /* stored uncompressed: its size is the tar's */
                if (fstat(fd, &st) < 0)
                        return -errno;
                len = (uint64_t) st.st_size;
        } else {
                r = image_layer_stream(fd, diff_id, NULL, &len, ret_error);
                if (r < 0)
                        return r;
        }
        snprintf(name, sizeof(name), "%s.tar", diff_id + strlen("sha256:"));
        if (write_header(w, name, len) < 0)
                return image_set_error(ret_error, -EIO, "writing %s: %s", name, archive_error_string(w) ?: "error");
        return image_layer_stream(fd, diff_id, w, &len, ret_error);
}

static int save_config(struct archive *w, int images_fd, const char *config, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        char name[128], got[72];
        size_t len;
        int r;

        snprintf(name, sizeof(name), "blobs/sha256/%s", config + strlen("sha256:"));
        r = read_file_at(images_fd, name, IMAGE_JSON_MAX, &text, &len);
        if (r < 0)
                return image_set_error(ret_error, r, "config blob %s cannot be read", config);
        r = sha256_digest(text, len, got);
        if (r < 0)
                return r;
        if (!streq(got, config))
                return image_set_error(ret_error, -EBADMSG, "config blob %s has digest %s: the store is corrupt", config,
                                       got);
        snprintf(name, sizeof(name), "%s.json", config + strlen("sha256:"));
        return write_buffer(w, name, text, len, ret_error);
}

/* One image of the plan; adds its manifest.json item and repositories. */
static int save_image(struct archive *w, int images_fd, json_object *img, json_object *written, json_object *manifest,
                      json_object *repositories, char **ret_error) {
        const char *config = image_json_str(img, "config");
        json_object *layers = image_json_arr(img, "layers"), *tags = image_json_arr(img, "repo_tags");
        json_object *item, *names, *tag_list;
        char name[80], top[72] = "";
        int r;

        if (!config || !digest_is_valid(config) || !layers)
                return image_set_error(ret_error, -EINVAL, "invalid save plan");
        if (!json_object_object_get_ex(written, config, NULL)) {
                r = save_config(w, images_fd, config, ret_error);
                if (r < 0)
                        return r;
                json_object_object_add(written, config, NULL);
        }
        names = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(layers); i++) {
                json_object *l = json_object_array_get_idx(layers, i);
                const char *blob = image_json_str(l, "blob"), *diff_id = image_json_str(l, "diff_id");

                if (!blob || !diff_id || !digest_is_valid(blob) || !digest_is_valid(diff_id)) {
                        json_object_put(names);
                        return image_set_error(ret_error, -EINVAL, "invalid save plan");
                }
                /* shared layers once */
                if (!json_object_object_get_ex(written, diff_id, NULL)) {
                        r = save_layer(w, images_fd, blob, diff_id, ret_error);
                        if (r < 0) {
                                json_object_put(names);
                                return r;
                        }
                        json_object_object_add(written, diff_id, NULL);
                }
                snprintf(name, sizeof(name), "%s.tar", diff_id + strlen("sha256:"));
                json_object_array_add(names, json_object_new_string(name));
                snprintf(top, sizeof(top), "%s", diff_id + strlen("sha256:"));
        }
        snprintf(name, sizeof(name), "%s.json", config + strlen("sha256:"));
        item = json_object_new_object();
        json_object_object_add(item, "Config", json_object_new_string(name));
        tag_list = json_object_new_array();
        for (size_t i = 0; tags && i < json_object_array_length(tags); i++) {
                const char *t = json_object_get_string(json_object_array_get_idx(tags, i));
                const char *colon = t ? strrchr(t, ':') : NULL;
                json_object *repo;

                if (!t || !colon || strchr(colon, '/'))
                        continue;
                json_object_array_add(tag_list, json_object_new_string(t));
                /* repositories: {"repo": {"tag": "<top layer>"}} */
                {
                        _cleanup_free_ char *rn = strndup(t, (size_t) (colon - t));
                        if (!rn)
                                return -ENOMEM;
                        if (!json_object_object_get_ex(repositories, rn, &repo)) {
                                repo = json_object_new_object();
                                json_object_object_add(repositories, rn, repo);
                        }
                        if (top[0])
                                json_object_object_add(repo, colon + 1, json_object_new_string(top));
                }
        }
        json_object_object_add(item, "RepoTags", tag_list);
        json_object_object_add(item, "Layers", names);
        json_object_array_add(manifest, item);
        return 0;
}

int image_save(int images_fd, const char *plan_json, int out_fd, char **ret_error) {
        json_object *plan = json_tokener_parse(plan_json), *images = plan ? image_json_arr(plan, "images") : NULL;
        json_object *written = json_object_new_object(), *manifest = json_object_new_array();
        json_object *repositories = json_object_new_object();
        struct archive *w = archive_write_new();
        const char *text;
        int r = 0;

        if (!images || !written || !manifest || !repositories || !w) {
                r = images ? -ENOMEM : image_set_error(ret_error, -EINVAL, "invalid save plan");
                goto finish;
        }
        if (archive_write_set_format_pax_restricted(w) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(w, 1) != ARCHIVE_OK ||
            archive_write_open_fd(w, out_fd) != ARCHIVE_OK) {
                r = image_set_error(ret_error, -EIO, "cannot write the archive: %s", archive_error_string(w) ?: "error");
                goto finish;
        }
        for (size_t i = 0; r >= 0 && i < json_object_array_length(images); i++)
                r = save_image(w, images_fd, json_object_array_get_idx(images, i), written, manifest, repositories,
                               ret_error);
        if (r >= 0) {
                text = json_object_to_json_string_ext(manifest, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
                r = write_buffer(w, "manifest.json", text, strlen(text), ret_error);
        }
        if (r >= 0) {
                text = json_object_to_json_string_ext(repositories, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
                r = write_buffer(w, "repositories", text, strlen(text), ret_error);
        }
        if (r >= 0 && archive_write_close(w) != ARCHIVE_OK)
                r = image_set_error(ret_error, -EIO, "finishing the archive: %s", archive_error_string(w) ?: "error");
finish:
        archive_write_free(w);
        json_object_put(plan);
        json_object_put(written);
        json_object_put(manifest);
        json_object_put(repositories);
        return r;
}
