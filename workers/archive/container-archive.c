/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tar in and out of a container root: see container-archive.h. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "container-archive.h"
#include "fileio.h"
#include "log.h"

#define COPY_BUFFER_SIZE (128U * 1024U)
#define WALK_MAX_DEPTH 256U
#define RESOLVE_FLAGS (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_write_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive_entry *, archive_entry_free);

static int set_error(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
static int set_error(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;

        if (ret_error && !*ret_error) {
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return r;
}

static int openat2_in_root(int root_fd, const char *path, uint64_t flags, int *ret_fd) {
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
        return openat2_in_root(root_fd, clean, O_PATH | (dir ? O_DIRECTORY : O_NOFOLLOW), ret_fd);
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
        return set_error(w->error, r, "%s: %s", what, s ?: strerror(r < 0 ? -r : EIO));
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
                return set_error(w->error, -errno, "opening %s: %s", name, strerror(errno));
        while (left > 0) {
                ssize_t n = read(fd, w->buffer, MIN((uint64_t) sizeof(w->buffer), left));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return set_error(w->error, -errno, "reading %s: %s", name, strerror(errno));
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
                        r = set_error(w->error, -errno, "readlink %s: %s", tarname, strerror(errno));
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
                return set_error(w->error, -ELOOP, "%s: deeper than %u directories", tarname, WALK_MAX_DEPTH);
        fd = openat(dir_path_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return set_error(w->error, -errno, "opening %s: %s", tarname, strerror(errno));
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
                        return set_error(w->error, -errno, "opening %s/%s: %s", tarname, de->d_name, strerror(errno));
                }
                r = stat_fd(child, &stx);
                if (r < 0)
                        return set_error(w->error, r, "stat %s/%s: %s", tarname, de->d_name, strerror(-r));
                if (streq(tarname, "") ? asprintf(&name, "%s", de->d_name) < 0
                                       : asprintf(&name, "%s/%s", tarname, de->d_name) < 0)
                        return -ENOMEM;
                r = write_tree(w, child, &stx, name, true, depth + 1);
                if (r < 0)
                        return r;
        }
        if (errno != 0)
                return set_error(w->error, -errno, "reading directory %s: %s", tarname, strerror(errno));
        return 0;
}

static int write_tree(Writer *w, int path_fd, const struct statx *stx, const char *tarname, bool emit_self,
                      unsigned depth) {
        bool other_mount = w->skip_other_mounts && (stx->stx_mask & STATX_MNT_ID) &&
                           stx->stx_mnt_id != w->root_mnt_id;
        int r;

        if (other_mount && !S_ISDIR(stx->stx_mode))
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
                return set_error(w->error, r, "invalid path %s", g->path);
        r = carchive_open_in_root(g->root_fd, g->path, &fd);
        if (r < 0)
                return set_error(w->error, r, "%s: %s", g->path, strerror(-r));
        r = stat_fd(fd, &stx);
        if (r < 0)
                return set_error(w->error, r, "stat %s: %s", g->path, strerror(-r));
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
                return set_error(w->error, r, "stat of the container root: %s", strerror(-r));
        w->root_mnt_id = stx.stx_mnt_id;
        w->skip_other_mounts = (stx.stx_mask & STATX_MNT_ID) != 0;
        return write_children(w, root_fd, "", 0);
}

int carchive_export(int root_fd, int out_fd, char **ret_error) {
        return writer_run(out_fd, ret_error, export_body, &root_fd);
}

/* Extracting */

typedef struct Extract {
        int root_fd;
        const CArchivePutOptions *o;
        char *dest;              /* clean container path of the destination */
        struct archive *a;
        uint64_t entries, bytes;
        char **error;
        char buffer[COPY_BUFFER_SIZE];
} Extract;

static int join_dest(Extract *x, const char *rel, char **ret) {
        if (streq(rel, "."))
                return (*ret = strdup(x->dest)) ? 0 : -ENOMEM;
        if (streq(x->dest, "."))
                return (*ret = strdup(rel)) ? 0 : -ENOMEM;
        return asprintf(ret, "%s/%s", x->dest, rel) < 0 ? -ENOMEM : 0;
}

/* An O_PATH fd of directory @rel (clean, relative to the destination),
 * creating what is missing, each step resolved from the container root. */
static int open_parent(Extract *x, const char *rel, int *ret_fd) {
        _cleanup_free_ char *full = NULL;
        char *p;
        int r;

        r = join_dest(x, rel, &full);
        if (r < 0)
                return r;
        r = openat2_in_root(x->root_fd, full, O_PATH | O_DIRECTORY, ret_fd);
        if (r != -ENOENT || streq(rel, "."))
                return r;

        /* mkdir -p below the destination, one component at a time, each
         * parent resolved from the container root again. */
        p = full + (streq(x->dest, ".") ? 0 : strlen(x->dest) + 1);
        for (;;) {
                _cleanup_close_ int pfd = -1;
                char *slash = strchr(p, '/'), *cut;
                const char *base;
                bool created;

                if (slash)
                        *slash = 0;
                cut = strrchr(full, '/');
                if (cut)
                        *cut = 0;
                base = cut ? cut + 1 : full;
                r = openat2_in_root(x->root_fd, cut ? full : ".", O_PATH | O_DIRECTORY, &pfd);
                if (cut)
                        *cut = '/';
                if (r < 0)
                        return r;
                created = mkdirat(pfd, base, 0755) >= 0;
                if (!created && errno != EEXIST)
                        return -errno;
                if (created && fchownat(pfd, base, x->o->uid, x->o->gid, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (!slash)
                        break;
                *slash = '/';
                p = slash + 1;
        }
        return openat2_in_root(x->root_fd, full, O_PATH | O_DIRECTORY, ret_fd);
}

/* Clears the way for a new entry @base in @pfd. Returns 1 when an existing
 * directory stays (the new entry is a directory too). */
static int make_room(Extract *x, int pfd, const char *base, bool new_is_dir, const char *name) {
        struct stat st;

        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode) && new_is_dir)
                return 1;
        if (S_ISDIR(st.st_mode) != new_is_dir && x->o->no_overwrite_dir_non_dir)
                return set_error(x->error, -EEXIST, "cannot overwrite %s %s with a %s (no_overwrite_dir_non_dir)",
                                 S_ISDIR(st.st_mode) ? "directory" : "non-directory", name,
                                 new_is_dir ? "directory" : "non-directory");
        if (unlinkat(pfd, base, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
                return set_error(x->error, -errno, "cannot replace %s: %s", name, strerror(errno));
        return 0;
}

static void entry_owner(Extract *x, struct archive_entry *e, uid_t *uid, gid_t *gid) {
        if (x->o->copy_uid_gid) {
                *uid = (uid_t) archive_entry_uid(e);
                *gid = (gid_t) archive_entry_gid(e);
        } else {
                *uid = x->o->uid;
                *gid = x->o->gid;
        }
}

static void entry_times(struct archive_entry *e, struct timespec ts[2]) {
        ts[0].tv_sec = archive_entry_atime_is_set(e) ? archive_entry_atime(e) : archive_entry_mtime(e);
        ts[0].tv_nsec = archive_entry_atime_is_set(e) ? archive_entry_atime_nsec(e) : archive_entry_mtime_nsec(e);
        ts[1].tv_sec = archive_entry_mtime(e);
        ts[1].tv_nsec = archive_entry_mtime_nsec(e);
}

static int apply_meta_fd(Extract *x, int fd, struct archive_entry *e, const char *name) {
        struct timespec ts[2];
        uid_t uid;
        gid_t gid;

        entry_owner(x, e, &uid, &gid);
        entry_times(e, ts);
        /* chown before chmod: chown clears mode bits. */
        if (fchown(fd, uid, gid) < 0 || fchmod(fd, archive_entry_perm(e) & 07777) < 0 || futimens(fd, ts) < 0)
                return set_error(x->error, -errno, "setting owner/mode/time of %s: %s", name, strerror(errno));
        return 0;
}

static int extract_data(Extract *x, int fd, const char *name) {
        for (;;) {
                const void *buf;
                size_t len;
                la_int64_t off;
                int ar = archive_read_data_block(x->a, &buf, &len, &off);

                if (ar == ARCHIVE_EOF)
                        return 0;
                if (ar < ARCHIVE_WARN)
                        return set_error(x->error, -EBADMSG, "reading data of %s: %s", name,
                                         archive_error_string(x->a) ?: "corrupt archive");
                if (len == 0)
                        continue;
                x->bytes += len;
                if (x->bytes > x->o->max_bytes)
                        return set_error(x->error, -EFBIG, "archive data exceeds the limit of %llu bytes (at %s)",
                                         (unsigned long long) x->o->max_bytes, name);
                for (size_t done = 0; done < len;) {
                        ssize_t n = pwrite(fd, (const char *) buf + done, len - done, (off_t) off + (off_t) done);
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                return set_error(x->error, -errno, "writing %s: %s", name, strerror(errno));
                        }
                        done += (size_t) n;
                }
        }
}

static int extract_entry(Extract *x, struct archive_entry *e) {
        _cleanup_free_ char *rel = NULL, *parent = NULL, *base = NULL;
        _cleanup_close_ int pfd = -1, fd = -1;
        const char *raw = archive_entry_pathname(e), *hardlink = archive_entry_hardlink(e);
        mode_t type = archive_entry_filetype(e);
        mode_t perm = archive_entry_perm(e);
        struct timespec ts[2];
        uid_t uid;
        gid_t gid;
        int r;

        if (!raw)
                return set_error(x->error, -EINVAL, "archive entry without a name");
        r = carchive_clean_path(raw, false, &rel);
        if (r < 0)
                return set_error(x->error, r, "refusing archive entry %.256s: %s", raw,
                                 raw[0] == '/' ? "absolute path" : "\"..\" component");
        if (type == AE_IFCHR || type == AE_IFBLK)
                return set_error(x->error, -EINVAL, "refusing device node %.256s", raw);
        if (perm & (S_ISUID | S_ISGID))
                return set_error(x->error, -EINVAL, "refusing %s bit on %.256s",
                                 (perm & S_ISUID) ? "setuid" : "setgid", raw);
        if (streq(rel, ".")) {
                /* the destination itself: docker cp leaves it alone */
                (void) archive_read_data_skip(x->a);
                return 0;
        }

        r = carchive_split(rel, &parent, &base);
        if (r < 0)
                return r;
        r = open_parent(x, parent, &pfd);
        if (r < 0)
                return set_error(x->error, r, "parent directory of %.256s: %s", raw, strerror(-r));

        entry_owner(x, e, &uid, &gid);
        entry_times(e, ts);

        if (hardlink) {
                _cleanup_free_ char *lrel = NULL, *lparent = NULL, *lbase = NULL;
                _cleanup_close_ int lpfd = -1;

                r = carchive_clean_path(hardlink, false, &lrel);
                if (r < 0 || streq(lrel, "."))
                        return set_error(x->error, -EINVAL, "refusing hard link %.256s to %.256s: outside the destination",
                                         raw, hardlink);
                r = carchive_split(lrel, &lparent, &lbase);
                if (r < 0)
                        return r;
                r = open_parent(x, lparent, &lpfd);
                if (r < 0)
                        return set_error(x->error, r, "hard link target %.256s: %s", hardlink, strerror(-r));
                r = make_room(x, pfd, base, false, raw);
                if (r < 0)
                        return r;
                /* flags 0: a symlink target is linked itself, never followed */
                if (linkat(lpfd, lbase, pfd, base, 0) < 0)
                        return set_error(x->error, -errno, "hard link %.256s to %.256s: %s", raw, hardlink, strerror(errno));
                return 0;
        }

        switch (type) {
        case AE_IFDIR:
                r = make_room(x, pfd, base, true, raw);
                if (r < 0)
                        return r;
                if (r == 0 && mkdirat(pfd, base, 0700) < 0)
                        return set_error(x->error, -errno, "creating directory %.256s: %s", raw, strerror(errno));
                fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return set_error(x->error, -errno, "opening directory %.256s: %s", raw, strerror(errno));
                return apply_meta_fd(x, fd, e, raw);

        case AE_IFREG:
                r = make_room(x, pfd, base, false, raw);
                if (r < 0)
                        return r;
                fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        return set_error(x->error, -errno, "creating %.256s: %s", raw, strerror(errno));
                r = extract_data(x, fd, raw);
                if (r < 0)
                        return r;
                if (archive_entry_size_is_set(e) && ftruncate(fd, archive_entry_size(e)) < 0)
                        return set_error(x->error, -errno, "truncating %.256s: %s", raw, strerror(errno));
                return apply_meta_fd(x, fd, e, raw);

        case AE_IFLNK: {
                const char *target = archive_entry_symlink(e);

                /* Any target is fine: it is only ever resolved inside the
                 * container (RESOLVE_IN_ROOT here, the container's root there). */
                if (!target)
                        return set_error(x->error, -EINVAL, "symlink %.256s without a target", raw);
                r = make_room(x, pfd, base, false, raw);
                if (r < 0)
                        return r;
                if (symlinkat(target, pfd, base) < 0)
                        return set_error(x->error, -errno, "creating symlink %.256s: %s", raw, strerror(errno));
                if (fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                    utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
                        return set_error(x->error, -errno, "setting owner/time of %.256s: %s", raw, strerror(errno));
                return 0;
        }

        case AE_IFIFO:
                r = make_room(x, pfd, base, false, raw);
                if (r < 0)
                        return r;
                if (mknodat(pfd, base, S_IFIFO | 0600, 0) < 0)
                        return set_error(x->error, -errno, "creating fifo %.256s: %s", raw, strerror(errno));
                /* O_PATH: no open of the FIFO itself; then via the fd only */
                fd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 || fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0 ||
                    utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0 ||
                    fchmodat(pfd, base, perm & 07777, AT_SYMLINK_NOFOLLOW) < 0)
                        return set_error(x->error, -errno, "setting owner/mode/time of %.256s: %s", raw, strerror(errno));
                return 0;

        default:
                /* sockets: tar has no use for them; skip like docker does */
                (void) archive_read_data_skip(x->a);
                return 0;
        }
}

int carchive_put(int root_fd, const char *path, int in_fd, const CArchivePutOptions *o, char **ret_error) {
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        _cleanup_free_ Extract *x = calloc(1, sizeof(Extract));
        _cleanup_free_ char *dest = NULL;
        _cleanup_close_ int dfd = -1;
        struct stat st;
        int r;

        if (!a || !x)
                return -ENOMEM;
        r = carchive_clean_path(path, true, &dest);
        if (r < 0)
                return set_error(ret_error, -EINVAL, "invalid path %.256s", path);
        r = openat2_in_root(root_fd, dest, O_PATH, &dfd);
        if (r < 0)
                return set_error(ret_error, r, "%.256s: %s", path, strerror(-r));
        if (fstat(dfd, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return set_error(ret_error, -ENOTDIR, "%.256s is not a directory", path);

        /* Symlinks were followed: from here on the destination is where
         * that directory really is. */
        x->root_fd = root_fd;
        x->o = o;
        x->dest = dest;
        x->a = a;
        x->error = ret_error;

        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_gnutar(a);
        if (archive_read_open_fd(a, in_fd, COPY_BUFFER_SIZE) != ARCHIVE_OK)
                return set_error(ret_error, -EBADMSG, "not a tar archive: %s",
                                 archive_error_string(a) ?: "unreadable");
        for (;;) {
                struct archive_entry *e;
                int ar = archive_read_next_header(a, &e);

                if (ar == ARCHIVE_EOF)
                        break;
                if (ar < ARCHIVE_WARN)
                        return set_error(ret_error, -EBADMSG, "corrupt or truncated archive after %llu entries: %s",
                                         (unsigned long long) x->entries, archive_error_string(a) ?: "read error");
                if (++x->entries > o->max_entries)
                        return set_error(ret_error, -E2BIG, "archive has more than %llu entries",
                                         (unsigned long long) o->max_entries);
                r = extract_entry(x, e);
                if (r < 0)
                        return set_error(ret_error, r, "extracting %.256s: %s", strempty(archive_entry_pathname(e)),
                                         strerror(-r));
        }
        if (x->entries == 0 && archive_read_has_encrypted_entries(a) == 0)
                log_debug("Empty archive put into %s", dest);
        return 0;
}

/* Users */

static int lookup_db(int root_fd, const char *file, const char *name, unsigned long *ret_id, unsigned long *ret_gid) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *text = NULL;
        char *line, *save = NULL;
        int r;

        r = openat2_in_root(root_fd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, &fd);
        if (r < 0)
                return r;
        r = read_fd_full(fd, 4U << 20, &text, NULL);
        if (r < 0)
                return r;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                /* name:x:id:gid:... */
                char *f[4] = {};
                char *p = line;
                for (size_t i = 0; i < 4 && p; i++) {
                        f[i] = p;
                        p = strchr(p, ':');
                        if (p)
                                *p++ = 0;
                }
                if (!f[2] || !streq(f[0], name))
                        continue;
                *ret_id = strtoul(f[2], NULL, 10);
                if (ret_gid)
                        *ret_gid = f[3] ? strtoul(f[3], NULL, 10) : 0;
                return 0;
        }
        return -ESRCH;
}

static bool parse_id(const char *s, unsigned long *ret) {
        char *end;

        if (isempty(s) || s[0] < '0' || s[0] > '9')
                return false;
        errno = 0;
        *ret = strtoul(s, &end, 10);
        return errno == 0 && *end == 0 && *ret < 0xFFFFFFFFUL;
}

int carchive_resolve_user(int root_fd, const char *user, uid_t *ret_uid, gid_t *ret_gid) {
        _cleanup_free_ char *u = NULL;
        unsigned long uid = 0, gid = 0;
        char *group;
        int r;

        if (isempty(user)) {
                *ret_uid = 0;
                *ret_gid = 0;
                return 0;
        }
        u = strdup(user);
        if (!u)
                return -ENOMEM;
        group = strchr(u, ':');
        if (group)
                *group++ = 0;
        if (!parse_id(u, &uid)) {
                r = lookup_db(root_fd, "etc/passwd", u, &uid, &gid);
                if (r < 0)
                        return r;
        }
        if (group && !parse_id(group, &gid)) {
                r = lookup_db(root_fd, "etc/group", group, &gid, NULL);
                if (r < 0)
                        return r;
        }
        *ret_uid = (uid_t) uid;
        *ret_gid = (gid_t) gid;
        return 0;
}
