/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ImportImage in zlayer-archive: a rootfs tar (any compression libarchive
 * reads) becomes a gzip layer blob, staged in images/ingest/; its diff_id is
 * hashed from the uncompressed stream on the way, its digest from the blob.
 * The layer is unpacked (which refuses a hostile tar and checks the
 * diff_id again), then config and manifest are written and the blob moves
 * into blobs/sha256/. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <sys/utsname.h>
#include <time.h>

#include "digest.h"
#include "fileio.h"
#include "image-archive.h"
#include "timestamp.h"
#include "layer-unpack.h"
#include "macro.h"

#define CHUNK (128U << 10)

static const char *go_arch(void) {
        struct utsname u;
        if (uname(&u) < 0)
                return "amd64";
        return streq(u.machine, "x86_64") ? "amd64" : streq(u.machine, "aarch64") ? "arm64" :
               streq(u.machine, "armv7l") ? "arm" : streq(u.machine, "i686") ? "386" : "amd64";
}

/* Input → uncompressed (hash = diff_id) → gzip into @blob_fd. */
static int recompress(int in_fd, int blob_fd, char diff_id[72], char **ret_error) {
        _cleanup_sha256_ Sha256 *h = NULL;
        _cleanup_free_ void *buf = malloc(CHUNK);
        struct archive *a = archive_read_new(), *w = archive_write_new();
        struct archive_entry *e = NULL, *in_entry;
        uint64_t len = 0;
        ssize_t n = 0;
        int r;

        r = !buf || !a || !w ? -ENOMEM : sha256_new(&h);
        if (r < 0)
                goto finish;
        archive_read_support_filter_all(a);
        archive_read_support_format_raw(a);
        if (archive_read_open_fd(a, in_fd, CHUNK) != ARCHIVE_OK || archive_read_next_header(a, &in_entry) != ARCHIVE_OK) {
                r = image_set_error(ret_error, -EBADMSG, "the input cannot be read: %s",
                                    archive_error_string(a) ?: "unknown format");
                goto finish;
        }
        e = archive_entry_new();
        if (!e) {
                r = -ENOMEM;
                goto finish;
        }
        archive_entry_set_pathname(e, "layer.tar");
        archive_entry_set_filetype(e, AE_IFREG);
        if ( archive_write_add_filter_gzip(w) != ARCHIVE_OK || archive_write_set_format_raw(w) != ARCHIVE_OK ||
            archive_write_open_fd(w, blob_fd) != ARCHIVE_OK || archive_write_header(w, e) != ARCHIVE_OK) {
                r = image_set_error(ret_error, -EIO, "cannot write the layer: %s", archive_error_string(w) ?: "error");
                goto finish;
        }
        while ((n = archive_read_data(a, buf, CHUNK)) > 0) {
                len += (uint64_t) n;
                if (len > LAYER_MAX_STREAM_BYTES) {
                        r = image_set_error(ret_error, -EFBIG, "the rootfs tar is larger than %llu bytes",
                                            (unsigned long long) LAYER_MAX_STREAM_BYTES);
                        goto finish;
                }
                r = sha256_update(h, buf, (size_t) n);
                if (r < 0)
                        goto finish;
                if (archive_write_data(w, buf, (size_t) n) != n) {
                        r = image_set_error(ret_error, -EIO, "cannot write the layer: %s",
                                            archive_error_string(w) ?: "error");
                        goto finish;
                }
        }
        if (n < 0) {
                r = image_set_error(ret_error, -EBADMSG, "the input is truncated or corrupt: %s",
                                    archive_error_string(a) ?: "read error");
                goto finish;
        }
        if (len == 0) {
                r = image_set_error(ret_error, -EBADMSG, "the input is empty");
                goto finish;
        }
        if (archive_write_close(w) != ARCHIVE_OK) {
                r = image_set_error(ret_error, -EIO, "cannot write the layer: %s", archive_error_string(w) ?: "error");
                goto finish;
        }
        r = sha256_final(h, diff_id);
finish:
        if (e)
                archive_entry_free(e);
        archive_read_free(a);
        archive_write_free(w);
        return r;
}

static int file_digest(int fd, char ret[72], uint64_t *ret_size) {
        _cleanup_sha256_ Sha256 *h = NULL;
        _cleanup_free_ void *buf = malloc(CHUNK);
        uint64_t size = 0;
        ssize_t n;
        int r;

        r = buf ? sha256_new(&h) : -ENOMEM;
        if (r < 0)
                return r;
        while ((n = pread(fd, buf, CHUNK, (off_t) size)) > 0) {
                size += (uint64_t) n;
                r = sha256_update(h, buf, (size_t) n);
                if (r < 0)
                        return r;
        }
        if (n < 0)
                return -errno;
        *ret_size = size;
        return sha256_final(h, ret);
}

static json_object *descriptor(const char *media_type, const char *digest, uint64_t size) {
        json_object *d = json_object_new_object();
        json_object_object_add(d, "mediaType", json_object_new_string(media_type));
        json_object_object_add(d, "digest", json_object_new_string(digest));
        json_object_object_add(d, "size", json_object_new_int64((int64_t) size));
        return d;
}

static int write_image(int images_fd, const char *digest, uint64_t size, const char *diff_id, const char *reference,
                       char **ret_json) {
        json_object *config = json_object_new_object(), *o, *a, *manifest = NULL, *result = NULL, *item;
        char created[64], config_digest[72], manifest_digest[72];
        uint64_t config_size, manifest_size;
        struct timespec ts;
        const char *text;
        int r;

        clock_gettime(CLOCK_REALTIME, &ts);
        r = format_rfc3339_nano(&ts, created, sizeof(created));
        if (r < 0) {
                json_object_put(config);
                return r;
        }
        json_object_object_add(config, "created", json_object_new_string(created));
        json_object_object_add(config, "architecture", json_object_new_string(go_arch()));
        json_object_object_add(config, "os", json_object_new_string("linux"));
        o = json_object_new_object();
        a = json_object_new_array();
        json_object_array_add(a, json_object_new_string("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
        json_object_object_add(o, "Env", a);
        json_object_object_add(config, "config", o);
        o = json_object_new_object();
        a = json_object_new_array();
        json_object_object_add(o, "type", json_object_new_string("layers"));
        json_object_array_add(a, json_object_new_string(diff_id));
        json_object_object_add(o, "diff_ids", a);
        json_object_object_add(config, "rootfs", o);
        a = json_object_new_array();
        o = json_object_new_object();
        json_object_object_add(o, "created", json_object_new_string(created));
        json_object_object_add(o, "created_by", json_object_new_string("zlayer import"));
        json_object_object_add(o, "comment", json_object_new_string("imported from a rootfs tar"));
        json_object_array_add(a, o);
        json_object_object_add(config, "history", a);
        text = json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        r = image_blob_write_json(images_fd, text, config_digest, &config_size);
        if (r < 0)
                goto finish;

        manifest = json_object_new_object();
        json_object_object_add(manifest, "schemaVersion", json_object_new_int(2));
        json_object_object_add(manifest, "mediaType", json_object_new_string("application/vnd.oci.image.manifest.v1+json"));
        json_object_object_add(manifest, "config",
                               descriptor("application/vnd.oci.image.config.v1+json", config_digest, config_size));
        a = json_object_new_array();
        json_object_array_add(a, descriptor("application/vnd.oci.image.layer.v1.tar+gzip", digest, size));
        json_object_object_add(manifest, "layers", a);
        text = json_object_to_json_string_ext(manifest, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        r = image_blob_write_json(images_fd, text, manifest_digest, &manifest_size);
        if (r < 0)
                goto finish;

        result = json_object_new_array();
        item = json_object_new_object();
        a = json_object_new_array();
        if (!isempty(reference))
                json_object_array_add(a, json_object_new_string(reference));
        json_object_object_add(item, "references", a);
        json_object_object_add(item, "id", json_object_new_string(config_digest));
        json_object_object_add(item, "manifest", json_object_new_string(manifest_digest));
        json_object_object_add(item, "media_type", json_object_new_string("application/vnd.oci.image.manifest.v1+json"));
        json_object_object_add(item, "manifest_size", json_object_new_int64((int64_t) manifest_size));
        json_object_array_add(result, item);
        *ret_json = strdup(json_object_to_json_string_ext(result, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        r = *ret_json ? 0 : -ENOMEM;
finish:
        json_object_put(config);
        json_object_put(manifest);
        json_object_put(result);
        return r;
}

int image_import(int images_fd, int layers_fd, int in_fd, const char *reference, char **ret_json, char **ret_error) {
        static unsigned counter;
        _cleanup_free_ char *msg = NULL;
        _cleanup_close_ int fd = -1, blobs = -1;
        char stage[96], diff_id[72], digest[72];
        uint64_t size = 0, unpacked;
        bool created = false;
        int r;

        snprintf(stage, sizeof(stage), "ingest/.import-%d-%u", (int) getpid(), ++counter);
        fd = openat(images_fd, stage, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return image_set_error(ret_error, -errno, "cannot create %s: %m", stage);
        r = recompress(in_fd, fd, diff_id, ret_error);
        if (r >= 0 && fsync(fd) < 0)
                r = image_set_error(ret_error, -errno, "cannot write the layer: %m");
        if (r >= 0)
                r = file_digest(fd, digest, &size);
        if (r >= 0) {
                /* one layer: its chain id is its diff_id */
                created = faccessat(layers_fd, diff_id + strlen("sha256:"), F_OK, AT_SYMLINK_NOFOLLOW) < 0;
                r = layer_unpack(fd, layers_fd, diff_id, diff_id, &unpacked, &msg);
                if (r < 0) {
                        created = false;
                        r = image_set_error(ret_error, r == -EINVAL ? -EBADMSG : r, "the rootfs tar is refused: %s",
                                            msg ?: strerror(-r));
                }
        }
        if (r >= 0) {
                blobs = openat(images_fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (blobs < 0 || renameat(images_fd, stage, blobs, digest + strlen("sha256:")) < 0)
                        r = image_set_error(ret_error, -errno, "cannot store blob %s: %m", digest);
        }
        if (r >= 0)
                r = write_image(images_fd, digest, size, diff_id, reference, ret_json);
        if (r < 0) {
                (void) unlinkat(images_fd, stage, 0);
                if (created) {
                        char tmp[128];
                        snprintf(tmp, sizeof(tmp), ".tmp-%s-removing", diff_id + strlen("sha256:"));
                        if (renameat(layers_fd, diff_id + strlen("sha256:"), layers_fd, tmp) >= 0)
                                (void) rm_rf_at(layers_fd, tmp);
                }
        }
        return r;
}
