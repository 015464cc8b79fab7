/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Named and anonymous volumes, made by the shim (root) right before it
 * mounts them: a named volume is ROOT/volumes/<name>/_data, shared by every
 * container naming it and kept after they are removed; an anonymous one is
 * ROOT/containers/<id>/volumes/<index>/_data, removed with the container's
 * directory by Exec1.Delete. On first use a volume is seeded, as Docker does,
 * with what the image has at the mount target; it is built in a temporary
 * directory and renamed into place, so a crash never leaves a half-seeded
 * volume that later containers would take as complete. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "fileio.h"
#include "shim.h"

#define SEED_MAX_DEPTH 64

_printf_(2, 3) static int shim_fail(char **ret_error, const char *fmt, ...) {
        int saved = errno;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return saved > 0 ? -saved : -EIO;
}

static int openat_beneath(int dirfd, const char *path, int flags) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH,
        };
        int fd = (int) syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
        return fd < 0 ? -errno : fd;
}

static int copy_attrs(int fd, const struct stat *st) {
        struct timespec ts[2] = { st->st_atim, st->st_mtim };

        if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0)
                return -errno;
        return futimens(fd, ts) < 0 ? -errno : 0;
}

static int copy_file(int src_dir, int dst_dir, const char *name, const struct stat *st) {
        _cleanup_close_ int in = -1, out = -1;

        in = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0)
                return -errno;
        out = openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return -errno;
        bool plain = false;
        for (off_t left = st->st_size; left > 0;) {
                size_t chunk = (size_t) MIN(left, (off_t) 1 << 30);
                ssize_t n = plain ? -1 : copy_file_range(in, NULL, out, NULL, chunk, 0);
                /* overlay → another filesystem: EXDEV on newer kernels */
                if (n < 0 && !plain && (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS))
                        plain = true;
                if (plain)
                        n = sendfile(out, in, NULL, chunk);
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break; /* the file shrank: the image is read-only, cannot happen */
                left -= n;
        }
        return copy_attrs(out, st);
}

/* Copies the directory tree @src into @dst (both open directories), keeping
 * owners, modes and times; never follows a symlink of the image. */
static int copy_tree(int src, int dst, unsigned depth) {
        _cleanup_close_ int dfd = -1;
        DIR *d;
        int r = 0;

        if (depth > SEED_MAX_DEPTH)
                return -ELOOP;
        dfd = dup(src);
        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d)
                return -errno;
        TAKE_FD(dfd);
        for (struct dirent *de; r >= 0 && (de = readdir(d));) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(src, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        break;
                }
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int s = -1, t = -1;
                        if (mkdirat(dst, de->d_name, 0700) < 0) {
                                r = -errno;
                                break;
                        }
                        s = openat(src, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        t = openat(dst, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (s < 0 || t < 0) {
                                r = -errno;
                                break;
                        }
                        r = copy_tree(s, t, depth + 1);
                        if (r >= 0)
                                r = copy_attrs(t, &st);
                } else if (S_ISREG(st.st_mode))
                        r = copy_file(src, dst, de->d_name, &st);
                else if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(src, de->d_name, target, sizeof(target) - 1);
                        if (n < 0) {
                                r = -errno;
                                break;
                        }
                        target[n] = 0;
                        if (symlinkat(target, dst, de->d_name) < 0 ||
                            fchownat(dst, de->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                                r = -errno;
                } else if (mknodat(dst, de->d_name, st.st_mode, st.st_rdev) < 0 ||
                           fchownat(dst, de->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                        r = -errno; /* fifos, sockets, device nodes: as they are */
        }
        closedir(d);
        return r;
}

/* The directory holding the volume: ROOT/volumes (made here, root's, 0700)
 * or the container's own volumes/ (made by zlayer-exec; the container dir
 * belongs to the broker's user, so it must be root's and no symlink). */
static int open_volumes_parent(const char *root, const LaunchConfig *c, const LaunchMount *m, char **ret_error) {
        _cleanup_free_ char *p = NULL;
        _cleanup_close_ int root_fd = -1;
        struct stat st;
        int fd;

        root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return shim_fail(ret_error, "opening %s: %m", root);
        if (m->type == MOUNT_VOLUME) {
                if (mkdirat(root_fd, "volumes", 0700) < 0 && errno != EEXIST)
                        return shim_fail(ret_error, "creating %s/volumes: %m", root);
                p = strdup("volumes");
        } else if (asprintf(&p, "containers/%s/volumes", c->id) < 0)
                p = NULL;
        if (!p)
                return -ENOMEM;
        fd = openat_beneath(root_fd, p, O_RDONLY | O_DIRECTORY);
        if (fd < 0) {
                errno = -fd;
                return shim_fail(ret_error, "opening %s/%s without symlinks: %m", root, p);
        }
        if (fstat(fd, &st) < 0 || st.st_uid != 0) {
                close(fd);
                errno = EPERM;
                return shim_fail(ret_error, "%s/%s is not owned by root", root, p);
        }
        return fd;
}

/* Builds <parent>/<name>/_data in a temporary directory, seeded from
 * @seed (an open directory of the image, or -1), and renames it into place.
 * Losing a race against another container creating the same volume is fine:
 * theirs is kept. */
static int volume_create(int parent, const char *name, int seed, char **ret_error) {
        char tmp[] = ".tmp.XXXXXX";
        _cleanup_close_ int tmp_fd = -1, data = -1;
        struct stat st;
        int r;

        /* mkdtemp needs a path: do it by hand with a random suffix */
        for (unsigned attempt = 0;; attempt++) {
                _cleanup_close_ int urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
                unsigned char rnd[6];

                if (urandom < 0 || read(urandom, rnd, sizeof(rnd)) != sizeof(rnd))
                        return shim_fail(ret_error, "reading /dev/urandom: %m");
                for (size_t i = 0; i < 6; i++)
                        tmp[5 + i] = "abcdefghijklmnopqrstuvwxyz0123456789"[rnd[i] % 36];
                if (mkdirat(parent, tmp, 0700) >= 0)
                        break;
                if (errno != EEXIST || attempt > 16)
                        return shim_fail(ret_error, "creating a volume directory: %m");
        }
        tmp_fd = openat(parent, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tmp_fd < 0 || mkdirat(tmp_fd, "_data", 0755) < 0 ||
            (data = openat(tmp_fd, "_data", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
                r = shim_fail(ret_error, "creating volume %s: %m", name);
                goto fail;
        }
        if (seed >= 0) {
                r = copy_tree(seed, data, 0);
                if (r >= 0 && fstat(seed, &st) >= 0)
                        r = copy_attrs(data, &st);
                if (r < 0) {
                        errno = -r;
                        r = shim_fail(ret_error, "seeding volume %s from the image: %m", name);
                        goto fail;
                }
        }
        if (fchmod(tmp_fd, 0755) < 0 || syncfs(data) < 0) {
                r = shim_fail(ret_error, "finishing volume %s: %m", name);
                goto fail;
        }
        if (renameat(parent, tmp, parent, name) < 0) {
                if (errno != EEXIST && errno != ENOTEMPTY) {
                        r = shim_fail(ret_error, "renaming volume %s into place: %m", name);
                        goto fail;
                }
                (void) rm_rf_at(parent, tmp);
        }
        return 0;
fail:
        (void) rm_rf_at(parent, tmp);
        return r;
}

int volume_open(const char *root, int rootfd, const LaunchConfig *c, size_t index, char **ret_error) {
        const LaunchMount *m = &c->mounts[index];
        _cleanup_close_ int parent = -1, seed = -1;
        _cleanup_free_ char *data = NULL;
        char anon_name[32];
        const char *name = m->source;
        int fd, r;

        if (m->type == MOUNT_ANONYMOUS) {
                snprintf(anon_name, sizeof(anon_name), "%zu", index);
                name = anon_name;
        }
        parent = open_volumes_parent(root, c, m, ret_error);
        if (parent < 0)
                return parent;
        if (asprintf(&data, "%s/_data", name) < 0)
                return -ENOMEM;

        fd = openat_beneath(parent, data, O_PATH | O_DIRECTORY);
        if (fd >= 0)
                return fd;
        if (fd != -ENOENT) {
                errno = -fd;
                return shim_fail(ret_error, "opening volume %s: %m", name);
        }

        /* first use: what the image has at the target, if a directory */
        seed = open_in_root(rootfd, m->target, O_RDONLY | O_DIRECTORY);
        if (seed < 0 && seed != -ENOENT && seed != -ENOTDIR) {
                errno = -seed;
                return shim_fail(ret_error, "opening %s in the image: %m", m->target);
        }
        r = volume_create(parent, name, seed, ret_error);
        if (r < 0)
                return r;
        fd = openat_beneath(parent, data, O_PATH | O_DIRECTORY);
        if (fd < 0) {
                errno = -fd;
                return shim_fail(ret_error, "opening volume %s: %m", name);
        }
        return fd;
}
