/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What image save, load and import share. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>

#include "digest.h"
#include "fileio.h"
#include "image-archive.h"
#include "macro.h"

#define CHUNK (128U << 10)

int image_set_error(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;

        if (ret_error && !*ret_error) {
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return r;
}

/* A small JSON document (config, manifest) as a blob: temp, fsync, rename. */
int image_blob_write_json(int images_fd, const char *text, char ret_digest[72], uint64_t *ret_size) {
        _cleanup_close_ int dir = -1;
        size_t n = strlen(text);
        int r;

        r = sha256_digest(text, n, ret_digest);
        if (r < 0)
                return r;
        dir = openat(images_fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return -errno;
        r = write_file_atomic_at(dir, ret_digest + strlen("sha256:"), text, n, 0644);
        if (r < 0)
                return r;
        if (ret_size)
                *ret_size = n;
        return 0;
}

/* The uncompressed stream of a layer blob: libarchive's filters in front
 * of its "raw" format. */
static int layer_stream_open(int fd, struct archive **ret) {
        struct archive *a;
        struct archive_entry *e;

        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        a = archive_read_new();
        if (!a)
                return -ENOMEM;
        archive_read_support_filter_all(a);
        archive_read_support_format_raw(a);
        if (archive_read_open_fd(a, fd, CHUNK) != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK) {
                archive_read_free(a);
                return -EBADMSG;
        }
        *ret = a;
        return 0;
}

/* Streams the uncompressed layer; into @w (as the data of the current
 * entry) when not NULL. Checks the diff_id, returns the length. */
int image_layer_stream(int fd, const char *diff_id, struct archive *w, uint64_t *ret_len, char **ret_error) {
        _cleanup_sha256_ Sha256 *h = NULL;
        _cleanup_free_ void *buf = malloc(CHUNK);
        struct archive *a = NULL;
        uint64_t len = 0;
        char got[72];
        ssize_t n;
        int r;

        if (!buf)
                return -ENOMEM;
        r = sha256_new(&h);
        if (r < 0)
                return r;
        r = layer_stream_open(fd, &a);
        if (r < 0)
                return image_set_error(ret_error, r, "layer %s: the blob cannot be read", diff_id);
        while ((n = archive_read_data(a, buf, CHUNK)) > 0) {
                len += (uint64_t) n;
                r = sha256_update(h, buf, (size_t) n);
                if (r >= 0 && w && archive_write_data(w, buf, (size_t) n) != n)
                        r = image_set_error(ret_error, -EIO, "writing layer %s: %s", diff_id,
                                            archive_error_string(w) ?: "error");
                if (r < 0)
                        break;
        }
        if (r >= 0 && n < 0)
                r = image_set_error(ret_error, -EBADMSG, "layer %s: the blob is corrupt: %s", diff_id,
                                    archive_error_string(a) ?: "read error");
        archive_read_free(a);
        if (r < 0)
                return r;
        r = sha256_final(h, got);
        if (r < 0)
                return r;
        if (!streq(got, diff_id))
                return image_set_error(ret_error, -EBADMSG, "layer blob of %s uncompresses to %s: the store is corrupt",
                                       diff_id, got);
        *ret_len = len;
        return 0;
}


const char *image_json_str(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
                       json_object_get_string(v) : NULL;
}

json_object *image_json_arr(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array) ? v : NULL;
}
