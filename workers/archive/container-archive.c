/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tar in and out of a container root: see container-archive.h. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "container-archive.h"
#include "container-archive-internal.h"
#include "fileio.h"
#include "log.h"

#define COPY_BUFFER_SIZE (128U * 1024U)
#define WALK_MAX_DEPTH 256U
#define RESOLVE_FLAGS (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_write_free);

int carchive_set_error(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;

        if (ret_error && !*ret_error) {
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return r;
}

int carchive_openat2(int root_fd, const char *path, uint64_t flags, int *ret_fd) {
        struct open_how how = {
                .flags = flags | O_CLOEXEC,
                .resolve = RESOLVE_FLAGS,
        };
        int fd;

        fd = (int) syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int carchive_clean_path(const char *path, bool allow_absolute, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t n = 0;
        const char *p = path;

        if (!path || strlen(path) >= 4096)
                return -EINVAL;
        if (*p == '/') {
                if (!allow_absolute)
                        return -EINVAL;
                while (*p == '/')
                        p++;
        }
        out = malloc(strlen(p) + 2);
        if (!out)
                return -ENOMEM;
        while (*p) {
                size_t len = strcspn(p, "/");

                if (len == 2 && p[0] == '.' && p[1] == '.')
                        return -EINVAL;
                if (len > 0 && !(len == 1 && p[0] == '.')) {
                        if (n > 0)
                                out[n++] = '/';
                        memcpy(out + n, p, len);
                        n += len;
                }
                p += len;
                while (*p == '/')
                        p++;
        }
        if (n == 0)
                out[n++] = '.';
        out[n] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

int carchive_split(const char *clean, char **ret_parent, char **ret_base) {
        const char *slash = strrchr(clean, '/');
        char *parent, *base;

        if (slash) {
                parent = strndup(clean, (size_t) (slash - clean));
                base = strdup(slash + 1);
        } else {
                parent = strdup(".");
                base = strdup(clean);
        }
        if (!parent || !base) {
                free(parent);
                free(base);
                return -ENOMEM;
        }
        *ret_parent = parent;
        *ret_base = base;
        return 0;
}

/* "x/" and "x/." name the directory x itself (followed if a symlink). */
static bool path_wants_directory(const char *path) {
        size_t n = strlen(path);
        return (n > 0 && path[n - 1] == '/') || (n >= 2 && streq(path + n - 2, "/.")) || streq(path, ".");
}

int carchive_open_in_root(int root_fd, const char *path, int *ret_fd) {
        _cleanup_free_ char *clean = NULL;
        bool dir = path_wants_directory(path);
        int r;

        r = carchive_clean_path(path, true, &clean);
        if (r < 0)
                return r;
        return carchive_openat2(root_fd, clean, O_PATH | (dir ? O_DIRECTORY : O_NOFOLLOW), ret_fd);
}

void carchive_format_time(int64_t sec, uint32_t nsec, char buf[static 40]) {
        struct tm tm;
        time_t t = (time_t) sec;
        char date[24];

        if (!gmtime_r(&t, &tm))
                memset(&tm, 0, sizeof(tm));
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, 40, "%s.%09uZ", date, (unsigned) nsec);
}

static int stat_fd(int fd, struct statx *stx) {
        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_MNT_ID, stx) < 0)
                return -errno;
        return 0;
}

/* The last component of @path as docker cp names it. */
static void path_name(const char *path, char *buf, size_t size) {
        _cleanup_free_ char *clean = NULL, *parent = NULL, *base = NULL;

        if (carchive_clean_path(path, true, &clean) < 0 || streq(clean, ".") ||
            carchive_split(clean, &parent, &base) < 0) {
                snprintf(buf, size, "/");
                return;
        }
        snprintf(buf, size, "%s", base);
}

int carchive_stat(int root_fd, const char *path, CArchiveStat *ret) {
        _cleanup_close_ int fd = -1;
        struct statx stx;
        int r;

        r = carchive_open_in_root(root_fd, path, &fd);
        if (r < 0)
                return r;
        r = stat_fd(fd, &stx);
        if (r < 0)
                return r;
        memset(ret, 0, sizeof(*ret));
        path_name(path, ret->name, sizeof(ret->name));
        ret->size = (int64_t) stx.stx_size;
        ret->mode = stx.stx_mode;
        carchive_format_time(stx.stx_mtime.tv_sec, stx.stx_mtime.tv_nsec, ret->mtime);
        if (S_ISLNK(stx.stx_mode)) {
                ssize_t n = readlinkat(fd, "", ret->link_target, sizeof(ret->link_target) - 1);
                if (n < 0)
                        return -errno;
                ret->link_target[n] = 0;
        }
        return 0;
}

/* Writing tars */

typedef struct Writer {
        struct archive *a;
        struct archive_entry_linkresolver *links;
        uint64_t root_mnt_id;
        bool skip_other_mounts;
        char **error;
        char buffer[COPY_BUFFER_SIZE];
} Writer;

static int writer_fail(Writer *w, int r, const char *what) {
        const char *s = archive_error_string(w->a);
        return carchive_set_error(w->error, r, "%s: %s", what, s ?: strerror(r < 0 ? -r : EIO));
}

/* Reopen an O_PATH fd for reading: the O_PATH open never blocked on a FIFO
 * nor opened a device, and this is only done for regular files. */
static int reopen_read(int path_fd) {
        char p[64];

        snprintf(p, sizeof(p), "/proc/self/fd/%d", path_fd);
        return open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

static int copy_file_data(Writer *w, int path_fd, uint64_t size, const char *name) {
        _cleanup_close_ int fd = reopen_read(path_fd);
        uint64_t left = size;

        if (fd < 0)
                return carchive_set_error(w->error, -errno, "opening %s: %s", name, strerror(errno));
        while (left > 0) {
                ssize_t n = read(fd, w->buffer, MIN((uint64_t) sizeof(w->buffer), left));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return carchive_set_error(w->error, -errno, "reading %s: %s", name, strerror(errno));
                }
                if (n == 0)
                        break;  /* shrank meanwhile: libarchive pads the rest */
                if (archive_write_data(w->a, w->buffer, (size_t) n) < 0)
                        return writer_fail(w, -EIO, name);
                left -= (uint64_t) n;
        }
        return 0;
}

static int write_one(Writer *w, int path_fd, const struct statx *stx, const char *tarname) {
        struct archive_entry *e = archive_entry_new(), *spare = NULL;
        char target[4096];
        int r = 0;

        if (!e)
                return -ENOMEM;
        archive_entry_set_pathname(e, tarname);
        archive_entry_set_mode(e, stx->stx_mode);
        archive_entry_set_uid(e, stx->stx_uid);
        archive_entry_set_gid(e, stx->stx_gid);
        archive_entry_set_mtime(e, stx->stx_mtime.tv_sec, stx->stx_mtime.tv_nsec);
        archive_entry_set_dev(e, makedev(stx->stx_dev_major, stx->stx_dev_minor));
        archive_entry_set_ino64(e, (int64_t) stx->stx_ino);
        archive_entry_set_nlink(e, stx->stx_nlink);
        if (S_ISREG(stx->stx_mode))
                archive_entry_set_size(e, (int64_t) stx->stx_size);
        else
                archive_entry_set_size(e, 0);
        if (S_ISCHR(stx->stx_mode) || S_ISBLK(stx->stx_mode))
                archive_entry_set_rdev(e, makedev(stx->stx_rdev_major, stx->stx_rdev_minor));
        if (S_ISLNK(stx->stx_mode)) {
                ssize_t n = readlinkat(path_fd, "", target, sizeof(target) - 1);
                if (n < 0) {
                        r = carchive_set_error(w->error, -errno, "readlink %s: %s", tarname, strerror(errno));
                        goto out;
                }
                target[n] = 0;
                archive_entry_set_symlink(e, target);
        }
        if (S_ISSOCK(stx->stx_mode))
                goto out;  /* tar cannot hold sockets */

        /* Hard links become link entries after their first occurrence. */
        archive_entry_linkify(w->links, &e, &spare);
        if (e) {
                if (archive_write_header(w->a, e) < ARCHIVE_WARN) {
                        r = writer_fail(w, -EIO, tarname);
                        goto out;
                }
                if (S_ISREG(stx->stx_mode) && !archive_entry_hardlink(e) && stx->stx_size > 0)
                        r = copy_file_data(w, path_fd, stx->stx_size, tarname);
        }
out:
        archive_entry_free(e);
        archive_entry_free(spare);
        return r;
}

static int write_tree(Writer *w, int path_fd, const struct statx *stx, const char *tarname, bool emit_self,
                      unsigned depth);

static int write_children(Writer *w, int dir_path_fd, const char *tarname, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd, r;

        if (depth >= WALK_MAX_DEPTH)
                return carchive_set_error(w->error, -ELOOP, "%s: deeper than %u directories", tarname, WALK_MAX_DEPTH);
        fd = openat(dir_path_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return carchive_set_error(w->error, -errno, "opening %s: %s", tarname, strerror(errno));
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((errno = 0, de = readdir(d))) {
                _cleanup_close_ int child = -1;
                _cleanup_free_ char *name = NULL;
                struct statx stx;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                child = openat(dirfd(d), de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (child < 0) {
                        if (errno == ENOENT)
                                continue;  /* removed meanwhile */
                        return carchive_set_error(w->error, -errno, "opening %s/%s: %s", tarname, de->d_name, strerror(errno));
                }
                r = stat_fd(child, &stx);
                if (r < 0)
                        return carchive_set_error(w->error, r, "stat %s/%s: %s", tarname, de->d_name, strerror(-r));
                if (streq(tarname, "") ? asprintf(&name, "%s", de->d_name) < 0
                                       : asprintf(&name, "%s/%s", tarname, de->d_name) < 0)
                        return -ENOMEM;
                r = write_tree(w, child, &stx, name, true, depth + 1);
                if (r < 0)
                        return r;
        }
        if (errno != 0)
                return carchive_set_error(w->error, -errno, "reading directory %s: %s", tarname, strerror(errno));
        return 0;
}

/* Kernel interfaces, not files: /proc/kcore alone claims 128 TiB. Their
 * mount points are archived, their contents never. */
bool carchive_is_pseudo_fs(int fd) {
        static const unsigned long magic[] = {
                PROC_SUPER_MAGIC, SYSFS_MAGIC, CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, DEBUGFS_MAGIC,
                TRACEFS_MAGIC, SECURITYFS_MAGIC, BPF_FS_MAGIC, PSTOREFS_MAGIC, EFIVARFS_MAGIC,
                SELINUX_MAGIC, 0x62656570 /* configfs */, 0x65735543 /* fusectl */,
        };
        struct statfs sfs;

        if (fstatfs(fd, &sfs) < 0)
                return true;  /* cannot tell: do not descend */
        for (size_t i = 0; i < ELEMENTSOF(magic); i++)
                if ((unsigned long) sfs.f_type == magic[i])
                        return true;
        return false;
}

static int write_tree(Writer *w, int path_fd, const struct statx *stx, const char *tarname, bool emit_self,
                      unsigned depth) {
        bool on_other_mount = (stx->stx_mask & STATX_MNT_ID) && stx->stx_mnt_id != w->root_mnt_id;
        bool other_mount = on_other_mount &&
                           (w->skip_other_mounts || (S_ISDIR(stx->stx_mode) && carchive_is_pseudo_fs(path_fd)));
        int r;

        if (w->skip_other_mounts && other_mount && !S_ISDIR(stx->stx_mode))
                return 0;  /* a bind-mounted file from the host */
        if (emit_self) {
                _cleanup_free_ char *dirname = NULL;
                const char *n = tarname;

                if (S_ISDIR(stx->stx_mode)) {
                        if (asprintf(&dirname, "%s/", tarname) < 0)
                                return -ENOMEM;
                        n = dirname;
                }
                r = write_one(w, path_fd, stx, n);
                if (r < 0)
                        return r;
        }
        if (!S_ISDIR(stx->stx_mode) || other_mount)
                return 0;
        return write_children(w, path_fd, tarname, depth);
}

static int writer_run(int out_fd, char **ret_error, int (*body)(Writer *w, void *userdata), void *userdata) {
        _cleanup_(archive_write_freep) struct archive *a = archive_write_new();
        _cleanup_free_ Writer *w = calloc(1, sizeof(Writer));
        int r;

        if (!a || !w)
                return -ENOMEM;
        w->a = a;
        w->error = ret_error;
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
            archive_write_open_fd(a, out_fd) != ARCHIVE_OK)
                return writer_fail(w, -EIO, "starting the tar");
        w->links = archive_entry_linkresolver_new();
        if (!w->links)
                return -ENOMEM;
        archive_entry_linkresolver_set_strategy(w->links, archive_format(a));

        r = body(w, userdata);
        if (r >= 0 && archive_write_close(a) != ARCHIVE_OK)
                r = writer_fail(w, -EIO, "finishing the tar");
        archive_entry_linkresolver_free(w->links);
        return r;
}

typedef struct GetArgs {
        int root_fd;
        const char *path;
} GetArgs;

static bool path_wants_contents(const char *path, const char *clean) {
        size_t n = strlen(path);
        return streq(clean, ".") || (n >= 2 && streq(path + n - 2, "/."));
}

static int get_body(Writer *w, void *userdata) {
        GetArgs *g = userdata;
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *clean = NULL;
        char name[256];
        struct statx stx;
        int r;

        r = carchive_clean_path(g->path, true, &clean);
        if (r < 0)
                return carchive_set_error(w->error, r, "invalid path %s", g->path);
        r = stat_fd(g->root_fd, &stx);
        if (r < 0)
                return carchive_set_error(w->error, r, "stat of the container root: %s", strerror(-r));
        w->root_mnt_id = stx.stx_mnt_id;
        r = carchive_open_in_root(g->root_fd, g->path, &fd);
        if (r < 0)
                return carchive_set_error(w->error, r, "%s: %s", g->path, strerror(-r));
        r = stat_fd(fd, &stx);
        if (r < 0)
                return carchive_set_error(w->error, r, "stat %s: %s", g->path, strerror(-r));
        if (S_ISDIR(stx.stx_mode) && path_wants_contents(g->path, clean))
                return write_children(w, fd, "", 0);
        path_name(g->path, name, sizeof(name));
        return write_tree(w, fd, &stx, name, true, 0);
}

int carchive_get(int root_fd, const char *path, int out_fd, char **ret_error) {
        GetArgs g = { .root_fd = root_fd, .path = path };
        return writer_run(out_fd, ret_error, get_body, &g);
}

static int export_body(Writer *w, void *userdata) {
        int root_fd = *(int *) userdata;
        struct statx stx;
        int r;

        r = stat_fd(root_fd, &stx);
        if (r < 0)
                return carchive_set_error(w->error, r, "stat of the container root: %s", strerror(-r));
        w->root_mnt_id = stx.stx_mnt_id;
        w->skip_other_mounts = (stx.stx_mask & STATX_MNT_ID) != 0;
        return write_children(w, root_fd, "", 0);
}

int carchive_export(int root_fd, int out_fd, char **ret_error) {
        return writer_run(out_fd, ret_error, export_body, &root_fd);
}
