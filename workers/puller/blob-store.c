/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "blob-store.h"
#include "digest.h"
#include "fileio.h"
#include "ids.h"
#include "log.h"
#include "macro.h"

#define OCI_LAYOUT "{\"imageLayoutVersion\":\"1.0.0\"}"

struct BlobWriter {
        BlobStore *store;
        char digest[72];
        char tmp_name[128];
        int fd;
        Sha256 *hash;
        uint64_t written;
        uint64_t expected_size;
};

static int open_dir_p(int parent_fd, const char *path, int *ret) {
        int r, fd;

        r = mkdir_p_at(parent_fd, path, 0755);
        if (r < 0)
                return r;
        fd = openat(parent_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        *ret = fd;
        return 0;
}

int blob_store_open(int images_fd, BlobStore *ret) {
        BlobStore s = { .ingest_fd = -1, .blobs_fd = -1 };
        int r;

        r = open_dir_p(images_fd, "ingest", &s.ingest_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to open ingest/ of the image store: %m");
        r = open_dir_p(images_fd, "blobs/sha256", &s.blobs_fd);
        if (r < 0) {
                blob_store_close(&s);
                return log_error_errno(r, "Failed to open blobs/sha256/ of the image store: %m");
        }
        if (faccessat(images_fd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT) {
                        r = -errno;
                        blob_store_close(&s);
                        return log_error_errno(r, "Failed to check oci-layout: %m");
                }
                r = write_file_atomic_at(images_fd, "oci-layout", OCI_LAYOUT, strlen(OCI_LAYOUT), 0644);
                if (r < 0) {
                        blob_store_close(&s);
                        return log_error_errno(r, "Failed to write oci-layout: %m");
                }
        }
        *ret = s;
        return 0;
}

void blob_store_close(BlobStore *s) {
        if (s->ingest_fd >= 0)
                close(s->ingest_fd);
        if (s->blobs_fd >= 0)
                close(s->blobs_fd);
        s->ingest_fd = s->blobs_fd = -1;
}

int blob_store_has(BlobStore *s, const char *digest, uint64_t size) {
        struct stat st;

        if (!digest_is_valid(digest))
                return -EINVAL;
        if (fstatat(s->blobs_fd, digest + 7, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISREG(st.st_mode))
                return 0;
        if (size != UINT64_MAX && (uint64_t) st.st_size != size)
                return 0;
        return 1;
}

int blob_writer_new(BlobStore *s, const char *digest, uint64_t expected_size, BlobWriter **ret) {
        _cleanup_(blob_writer_freep) BlobWriter *w = NULL;
        uint64_t rnd;
        int r;

        if (!digest_is_valid(digest))
                return -EINVAL;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->fd = -1;
        w->store = s;
        w->expected_size = expected_size;
        strcpy(w->digest, digest);

        r = sha256_new(&w->hash);
        if (r < 0)
                return r;

        /* Concurrent pulls of one blob each get their own temp file; the
         * second rename just replaces identical bytes. */
        for (unsigned attempt = 0;; attempt++) {
                if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                        return -errno;
                snprintf(w->tmp_name, sizeof(w->tmp_name), ".%.12s-%016llx.tmp", digest + 7, (unsigned long long) rnd);
                w->fd = openat(s->ingest_fd, w->tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (w->fd >= 0)
                        break;
                if (errno != EEXIST || attempt >= 16) {
                        w->tmp_name[0] = 0;
                        return -errno;
                }
        }

        *ret = TAKE_PTR(w);
        return 0;
}

int blob_writer_write(BlobWriter *w, const void *data, size_t len) {
        int r;

        if (w->expected_size != UINT64_MAX && (len > w->expected_size || w->written > w->expected_size - len))
                return -EFBIG;
        r = sha256_update(w->hash, data, len);
        if (r < 0)
                return r;
        r = loop_write(w->fd, data, len);
        if (r < 0)
                return r;
        w->written += len;
        return 0;
}

BlobWriter *blob_writer_free(BlobWriter *w) {
        if (!w)
                return NULL;
        if (w->fd >= 0)
                close(w->fd);
        if (w->tmp_name[0] && unlinkat(w->store->ingest_fd, w->tmp_name, 0) < 0 && errno != ENOENT)
                log_warning_errno(-errno, "Failed to remove ingest/%s: %m", w->tmp_name);
        sha256_free(w->hash);
        free(w);
        return NULL;
}

int blob_writer_commit(BlobWriter *w, char ret_actual[72], uint64_t *ret_size) {
        _unused_ _cleanup_(blob_writer_freep) BlobWriter *writer = w; /* owns w until we return */
        char actual[72];
        int r;

        r = sha256_final(w->hash, actual);
        if (r < 0)
                return r;
        if (ret_actual)
                strcpy(ret_actual, actual);
        if (ret_size)
                *ret_size = w->written;
        if (!streq(actual, w->digest) || (w->expected_size != UINT64_MAX && w->written != w->expected_size))
                return -EBADMSG;

        if (fsync(w->fd) < 0)
                return -errno;
        if (close(w->fd) < 0) {
                w->fd = -1;
                return -errno;
        }
        w->fd = -1;
        if (renameat(w->store->ingest_fd, w->tmp_name, w->store->blobs_fd, w->digest + 7) < 0)
                return -errno;
        w->tmp_name[0] = 0;
        /* The rename must survive a crash too. */
        if (fsync(w->store->blobs_fd) < 0)
                return -errno;
        return 0;
}

int blob_store_put(BlobStore *s, const char *digest, const void *data, size_t len) {
        _cleanup_(blob_writer_freep) BlobWriter *w = NULL;
        int r;

        r = blob_store_has(s, digest, len);
        if (r != 0)
                return r < 0 ? r : 0;
        r = blob_writer_new(s, digest, len, &w);
        if (r < 0)
                return r;
        r = blob_writer_write(w, data, len);
        if (r < 0)
                return r;
        return blob_writer_commit(TAKE_PTR(w), NULL, NULL);
}

int blob_store_clean_ingest(int images_fd) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd, r = 0;

        fd = openat(images_fd, "ingest", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        while ((errno = 0, de = readdir(d))) {
                size_t n = strlen(de->d_name);
                /* Only our own names: ".<12 hex>-<16 hex>.tmp". */
                if (de->d_name[0] != '.' || n < 5 || !streq(de->d_name + n - 4, ".tmp"))
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
                        r = log_warning_errno(-errno, "Failed to remove stale ingest/%s: %m", de->d_name);
                else
                        log_debug("Removed stale ingest/%s.", de->d_name);
        }
        if (errno > 0)
                return -errno;
        return r;
}
