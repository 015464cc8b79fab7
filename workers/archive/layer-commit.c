/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Archive1.CommitLayer: an overlay upper dir → an OCI layer blob. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <linux/limits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "digest.h"
#include "fileio.h"
#include "layer-commit.h"
#include "layer-unpack.h"
#include "macro.h"

#define COMMIT_MAX_DEPTH 256

typedef struct Commit {
        struct archive *a;
        struct archive_entry_linkresolver *links;
        int out_fd;
        Sha256 *blob_sha;
        uint64_t blob_size, entries;
        char **error;
} Commit;

static int fail(Commit *c, int r, const char *fmt, ...) {
        va_list ap;
        if (c->error && !*c->error) {
                va_start(ap, fmt);
                if (vasprintf(c->error, fmt, ap) < 0)
                        *c->error = NULL;
                va_end(ap);
        }
        return r;
}

static la_ssize_t on_write(struct archive *a, void *userdata, const void *buf, size_t len) {
        Commit *c = userdata;
        int r = loop_write(c->out_fd, buf, len);
        if (r < 0 || sha256_update(c->blob_sha, buf, len) < 0) {
                archive_set_error(a, r < 0 ? -r : EIO, "writing the layer blob failed");
                return -1;
        }
        c->blob_size += len;
        return (la_ssize_t) len;
}

static int write_header(Commit *c, struct archive_entry *e, const char *path) {
        if (++c->entries > LAYER_MAX_ENTRIES)
                return fail(c, -E2BIG, "more than %llu entries", (unsigned long long) LAYER_MAX_ENTRIES);
        if (archive_write_header(c->a, e) != ARCHIVE_OK)
                return fail(c, -EIO, "writing the header of %s: %s", path, archive_error_string(c->a));
        return 0;
}

static int add_whiteout(Commit *c, const char *dir, const char *name, const struct stat *st) {
        _cleanup_free_ char *path = NULL;
        struct archive_entry *e;
        int r;

        if (asprintf(&path, "%s%s.wh.%s", dir, *dir ? "/" : "", name) < 0)
                return -ENOMEM;
        e = archive_entry_new();
        if (!e)
                return -ENOMEM;
        archive_entry_set_pathname(e, path);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, 0);
        if (st)
                archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
        r = write_header(c, e, path);
        archive_entry_free(e);
        return r;
}

static int copy_data(Commit *c, int fd, const char *path) {
        char buf[64 * 1024];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0)
                        return fail(c, -errno, "reading %s: %s", path, strerror(errno));
                if (n == 0)
                        return 0;
                if (archive_write_data(c->a, buf, (size_t) n) != n)
                        return fail(c, -EIO, "writing %s: %s", path, archive_error_string(c->a));
        }
}

/* The xattrs a layer carries (pax SCHILY.xattr.*): user.* and file
 * capabilities, as Docker keeps security.capability. Overlay's own marks
 * (trusted.overlay.*) become whiteouts instead; security.selinux and the
 * like belong to the host's labelling. */
static bool xattr_carried(const char *name) {
        return strneq(name, "user.", 5) || streq(name, "security.capability");
}

static int add_xattrs(Commit *c, int fd, struct archive_entry *e, const char *path) {
        _cleanup_free_ char *names = NULL, *value = NULL;
        ssize_t n;

        n = flistxattr(fd, NULL, 0);
        if (n < 0)
                return errno == ENOTSUP ? 0 : fail(c, -errno, "listing the xattrs of %s: %s", path, strerror(errno));
        if (n == 0)
                return 0;
        names = malloc((size_t) n);
        value = malloc(XATTR_SIZE_MAX);
        if (!names || !value)
                return -ENOMEM;
        n = flistxattr(fd, names, (size_t) n);
        if (n < 0) /* ERANGE: changed meanwhile; the container is not frozen */
                return fail(c, -errno, "listing the xattrs of %s: %s", path, strerror(errno));
        for (const char *name = names; name < names + n; name += strlen(name) + 1) {
                ssize_t len;

                if (!xattr_carried(name))
                        continue;
                len = fgetxattr(fd, name, value, XATTR_SIZE_MAX);
                if (len < 0) {
                        if (errno == ENODATA) /* removed meanwhile */
                                continue;
                        return fail(c, -errno, "reading xattr %s of %s: %s", name, path, strerror(errno));
                }
                archive_entry_xattr_add_entry(e, name, value, (size_t) len);
        }
        return 0;
}

static int walk(Commit *c, int dir_fd, const char *prefix, unsigned depth);

static int add_entry(Commit *c, int dir_fd, const char *prefix, const char *name, unsigned depth) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        struct archive_entry *e = NULL, *spare = NULL;
        struct stat st;
        int r;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return fail(c, -errno, "stat %s/%s: %s", prefix, name, strerror(errno));
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
                return add_whiteout(c, prefix, name, &st);
        if (asprintf(&path, "%s%s%s", prefix, *prefix ? "/" : "", name) < 0)
                return -ENOMEM;

        e = archive_entry_new();
        if (!e)
                return -ENOMEM;
        archive_entry_copy_stat(e, &st);
        archive_entry_set_pathname(e, path);
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(dir_fd, name, target, sizeof(target) - 1);
                if (n < 0) {
                        r = fail(c, -errno, "readlink %s: %s", path, strerror(errno));
                        goto out;
                }
                target[n] = 0;
                archive_entry_set_symlink(e, target);
        } else if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
                fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
                                                   (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
                if (fd < 0) {
                        r = fail(c, -errno, "open %s: %s", path, strerror(errno));
                        goto out;
                }
                if (S_ISREG(st.st_mode)) {
                        struct stat st2;
                        if (fstat(fd, &st2) < 0 || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev) {
                                r = fail(c, -ESTALE, "%s changed during the commit", path);
                                goto out;
                        }
                }
                r = add_xattrs(c, fd, e, path);
                if (r < 0)
                        goto out;
        } else if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode) && !S_ISFIFO(st.st_mode)) {
                /* sockets: tar has no form for them, as Docker skips them */
                r = 0;
                goto out;
        }
        /* A second name of an inode becomes a hard link entry to the first
         * (size 0): the layer holds the data once and the link survives. */
        archive_entry_linkify(c->links, &e, &spare);
        r = write_header(c, e, path);
        if (r < 0)
                goto out;
        if (S_ISREG(st.st_mode) && !archive_entry_hardlink(e))
                r = copy_data(c, fd, path);
        else if (S_ISDIR(st.st_mode)) {
                char v[2];
                ssize_t n = fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v));
                if (n == 1 && v[0] == 'y') {
                        r = add_whiteout(c, path, ".wh..opq", &st); /* .wh..wh..opq */
                        if (r < 0)
                                goto out;
                }
                r = walk(c, TAKE_FD(fd), path, depth + 1);
        }
out:
        archive_entry_free(e);
        archive_entry_free(spare);
        return r;
}

/* Takes @dir_fd. */
static int walk(Commit *c, int dir_fd, const char *prefix, unsigned depth) {
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (depth > COMMIT_MAX_DEPTH) {
                close(dir_fd);
                return fail(c, -ELOOP, "%s is nested more than %d levels deep", prefix, COMMIT_MAX_DEPTH);
        }
        d = fdopendir(dir_fd);
        if (!d) {
                r = -errno;
                close(dir_fd);
                return fail(c, r, "opendir %s: %s", prefix, strerror(-r));
        }
        /* Sorted would make the digest reproducible; readdir order is fine for one commit. */
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                r = add_entry(c, dirfd(d), prefix, de->d_name, depth);
                if (r < 0)
                        break;
        }
        if (r >= 0 && errno != 0)
                r = fail(c, -errno, "readdir %s: %s", prefix, strerror(errno));
        closedir(d);
        return r;
}

/* sha256 of the gunzipped blob. */
static int diff_id_of(int fd, char out[72], char **error) {
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        _cleanup_sha256_ Sha256 *sha = NULL;
        char buf[64 * 1024];
        int r;

        if (!a)
                return -ENOMEM;
        r = sha256_new(&sha);
        if (r < 0)
                goto out;
        archive_read_support_filter_gzip(a);
        archive_read_support_format_raw(a);
        if (lseek(fd, 0, SEEK_SET) < 0 || archive_read_open_fd(a, fd, sizeof(buf)) != ARCHIVE_OK ||
            archive_read_next_header(a, &e) != ARCHIVE_OK) {
                r = -EIO;
                goto out;
        }
        for (;;) {
                la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
                if (n < 0) {
                        r = -EIO;
                        goto out;
                }
                if (n == 0)
                        break;
                r = sha256_update(sha, buf, (size_t) n);
                if (r < 0)
                        goto out;
        }
        r = sha256_final(sha, out);
out:
        if (r == -EIO && error && !*error)
                (void) asprintf(error, "reading the layer back: %s", archive_error_string(a) ?: "unknown error");
        archive_read_free(a);
        return r;
}

int layer_commit(int upper_fd, int out_fd, char ret_diff_id[72], char ret_digest[72], uint64_t *ret_size,
                 char **ret_error) {
        Commit c = { .out_fd = out_fd, .error = ret_error };
        int dfd, r;

        if (upper_fd < 0 || out_fd < 0)
                return -EINVAL;
        if (ftruncate(out_fd, 0) < 0 || lseek(out_fd, 0, SEEK_SET) < 0)
                return fail(&c, -errno, "preparing the blob file: %s", strerror(errno));
        r = sha256_new(&c.blob_sha);
        if (r < 0)
                return r;
        c.a = archive_write_new();
        if (!c.a) {
                r = -ENOMEM;
                goto out;
        }
        if (archive_write_set_format_pax_restricted(c.a) != ARCHIVE_OK ||
            archive_write_add_filter_gzip(c.a) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(c.a, 1) != ARCHIVE_OK ||
            archive_write_open2(c.a, &c, NULL, on_write, NULL, NULL) != ARCHIVE_OK) {
                r = fail(&c, -EIO, "setting up the tar writer: %s", archive_error_string(c.a));
                goto out;
        }
        c.links = archive_entry_linkresolver_new();
        if (!c.links) {
                r = -ENOMEM;
                goto out;
        }
        archive_entry_linkresolver_set_strategy(c.links, archive_format(c.a));
        dfd = openat(upper_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                r = fail(&c, -errno, "opening the upper dir: %s", strerror(errno));
                goto out;
        }
        r = walk(&c, dfd, "", 0);
        if (r < 0)
                goto out;
        if (archive_write_close(c.a) != ARCHIVE_OK) {
                r = fail(&c, -EIO, "finishing the tar: %s", archive_error_string(c.a));
                goto out;
        }
        r = sha256_final(c.blob_sha, ret_digest);
        if (r < 0)
                goto out;
        if (fsync(out_fd) < 0) {
                r = fail(&c, -errno, "fsync of the blob: %s", strerror(errno));
                goto out;
        }
        r = diff_id_of(out_fd, ret_diff_id, ret_error);
        if (r >= 0)
                *ret_size = c.blob_size;
out:
        archive_entry_linkresolver_free(c.links);
        if (c.a)
                archive_write_free(c.a);
        sha256_free(c.blob_sha);
        return r;
}
