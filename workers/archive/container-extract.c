/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Extraction into a container root (ArchivePut) and the container's users:
 * see container-archive.h. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "container-archive.h"
#include "container-archive-internal.h"
#include "fileio.h"
#include "log.h"

#define COPY_BUFFER_SIZE (128U * 1024U)

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free);

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
        r = carchive_openat2(x->root_fd, full, O_PATH | O_DIRECTORY, ret_fd);
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
                r = carchive_openat2(x->root_fd, cut ? full : ".", O_PATH | O_DIRECTORY, &pfd);
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
        return carchive_openat2(x->root_fd, full, O_PATH | O_DIRECTORY, ret_fd);
}

#define REPLACE_MAX_DEPTH 256

/* The first mount point at or below @fd (a running container's /proc, a
 * bind mount, a bind-mounted file), as a container path in *@ret, else
 * NULL. Not entered, never followed. */
static int find_mount_below(int fd, uint64_t mnt_id, const char *path, unsigned depth, char **ret) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int dfd;

        if (depth > REPLACE_MAX_DEPTH)
                return -ELOOP;
        dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return -errno;
        }
        while ((errno = 0, de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;
                _cleanup_close_ int cfd = -1;
                struct statx stx;
                int r;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (asprintf(&sub, "%s/%s", path, de->d_name) < 0)
                        return -ENOMEM;
                if (statx(dirfd(d), de->d_name, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MNT_ID, &stx) < 0)
                        return -errno;
                if (!(stx.stx_mask & STATX_MNT_ID) || stx.stx_mnt_id != mnt_id) {
                        *ret = TAKE_PTR(sub);
                        return 0;
                }
                if (!S_ISDIR(stx.stx_mode))
                        continue;
                cfd = openat(dirfd(d), de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (cfd < 0)
                        return -errno;
                r = find_mount_below(cfd, mnt_id, sub, depth + 1, ret);
                if (r < 0 || *ret)
                        return r;
        }
        return -errno;
}

/* Docker (no no_overwrite_dir_non_dir) replaces a directory by a
 * non-directory whole, contents and all. We do too, unless a mount is
 * below it: then nothing is removed. */
static int remove_dir_tree(Extract *x, int pfd, const char *base, const char *where) {
        _cleanup_free_ char *mount = NULL;
        _cleanup_close_ int fd = -1;
        struct statx pstx, stx;
        int r;

        fd = openat(pfd, base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0 ||
            statx(pfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &pstx) < 0)
                return carchive_set_error(x->error, -errno, "cannot replace directory %s: %s", where, strerror(errno));
        if (!(stx.stx_mask & pstx.stx_mask & STATX_MNT_ID) || stx.stx_mnt_id != pstx.stx_mnt_id)
                return carchive_set_error(x->error, -EBUSY, "cannot replace directory %s with a non-directory: it is a mount point",
                                          where);
        r = find_mount_below(fd, stx.stx_mnt_id, where, 0, &mount);
        if (r < 0)
                return carchive_set_error(x->error, r, "cannot replace directory %s: %s", where, strerror(-r));
        if (mount)
                return carchive_set_error(x->error, -EBUSY, "cannot replace directory %s with a non-directory: %s is a mount point",
                                          where, mount);
        r = rm_rf_at(pfd, base);
        if (r < 0)
                return carchive_set_error(x->error, r, "cannot replace directory %s: %s", where, strerror(-r));
        return 0;
}

/* Clears the way for a new entry @base in @pfd (@where: its container
 * path, for messages). Returns 1 when an existing directory stays (the new
 * entry is a directory too: docker cp merges). */
static int make_room(Extract *x, int pfd, const char *base, bool new_is_dir, const char *where) {
        struct stat st;

        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode) && new_is_dir)
                return 1;
        if (S_ISDIR(st.st_mode) != new_is_dir && x->o->no_overwrite_dir_non_dir)
                return carchive_set_error(x->error, -EEXIST, "cannot overwrite %s %s with a %s (no_overwrite_dir_non_dir)",
                                 S_ISDIR(st.st_mode) ? "directory" : "non-directory", where,
                                 new_is_dir ? "directory" : "non-directory");
        if (S_ISDIR(st.st_mode))
                return remove_dir_tree(x, pfd, base, where);
        if (unlinkat(pfd, base, 0) < 0)
                return carchive_set_error(x->error, -errno, "cannot replace %s: %s", where, strerror(errno));
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
                return carchive_set_error(x->error, -errno, "setting owner/mode/time of %s: %s", name, strerror(errno));
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
                        return carchive_set_error(x->error, -EBADMSG, "reading data of %s: %s", name,
                                         archive_error_string(x->a) ?: "corrupt archive");
                if (len == 0)
                        continue;
                x->bytes += len;
                if (x->bytes > x->o->max_bytes)
                        return carchive_set_error(x->error, -EFBIG, "archive data exceeds the limit of %llu bytes (at %s)",
                                         (unsigned long long) x->o->max_bytes, name);
                for (size_t done = 0; done < len;) {
                        ssize_t n = pwrite(fd, (const char *) buf + done, len - done, (off_t) off + (off_t) done);
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                return carchive_set_error(x->error, -errno, "writing %s: %s", name, strerror(errno));
                        }
                        done += (size_t) n;
                }
        }
}

static int extract_entry(Extract *x, struct archive_entry *e) {
        _cleanup_free_ char *rel = NULL, *parent = NULL, *base = NULL, *full = NULL, *where = NULL;
        _cleanup_close_ int pfd = -1, fd = -1;
        const char *raw = archive_entry_pathname(e), *hardlink = archive_entry_hardlink(e);
        mode_t type = archive_entry_filetype(e);
        mode_t perm = archive_entry_perm(e);
        struct timespec ts[2];
        uid_t uid;
        gid_t gid;
        int r;

        if (!raw)
                return carchive_set_error(x->error, -EINVAL, "archive entry without a name");
        r = carchive_clean_path(raw, false, &rel);
        if (r < 0)
                return carchive_set_error(x->error, r, "refusing archive entry %.256s: %s", raw,
                                 raw[0] == '/' ? "absolute path" : "\"..\" component");
        if (type == AE_IFCHR || type == AE_IFBLK)
                return carchive_set_error(x->error, -EINVAL, "refusing device node %.256s", raw);
        if (perm & (S_ISUID | S_ISGID))
                return carchive_set_error(x->error, -EINVAL, "refusing %s bit on %.256s",
                                 (perm & S_ISUID) ? "setuid" : "setgid", raw);
        if (streq(rel, ".")) {
                /* the destination itself: docker cp leaves it alone */
                (void) archive_read_data_skip(x->a);
                return 0;
        }

        r = carchive_split(rel, &parent, &base);
        if (r < 0)
                return r;
        r = join_dest(x, rel, &full);
        if (r < 0)
                return r;
        if (asprintf(&where, "/%s", full) < 0)
                return -ENOMEM;
        r = open_parent(x, parent, &pfd);
        if (r < 0)
                return carchive_set_error(x->error, r, "parent directory of %.256s: %s", raw, strerror(-r));
        if (carchive_is_pseudo_fs(pfd))
                return carchive_set_error(x->error, -EINVAL, "refusing %.256s: inside a kernel filesystem (proc, sys, cgroup)", raw);

        entry_owner(x, e, &uid, &gid);
        entry_times(e, ts);

        if (hardlink) {
                _cleanup_free_ char *lrel = NULL, *lparent = NULL, *lbase = NULL;
                _cleanup_close_ int lpfd = -1;

                r = carchive_clean_path(hardlink, false, &lrel);
                if (r < 0 || streq(lrel, "."))
                        return carchive_set_error(x->error, -EINVAL, "refusing hard link %.256s to %.256s: outside the destination",
                                         raw, hardlink);
                r = carchive_split(lrel, &lparent, &lbase);
                if (r < 0)
                        return r;
                r = open_parent(x, lparent, &lpfd);
                if (r < 0)
                        return carchive_set_error(x->error, r, "hard link target %.256s: %s", hardlink, strerror(-r));
                r = make_room(x, pfd, base, false, where);
                if (r < 0)
                        return r;
                /* flags 0: a symlink target is linked itself, never followed */
                if (linkat(lpfd, lbase, pfd, base, 0) < 0)
                        return carchive_set_error(x->error, -errno, "hard link %.256s to %.256s: %s", raw, hardlink, strerror(errno));
                return 0;
        }

        switch (type) {
        case AE_IFDIR:
                r = make_room(x, pfd, base, true, where);
                if (r < 0)
                        return r;
                if (r == 0 && mkdirat(pfd, base, 0700) < 0)
                        return carchive_set_error(x->error, -errno, "creating directory %.256s: %s", raw, strerror(errno));
                fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return carchive_set_error(x->error, -errno, "opening directory %.256s: %s", raw, strerror(errno));
                return apply_meta_fd(x, fd, e, raw);

        case AE_IFREG:
                r = make_room(x, pfd, base, false, where);
                if (r < 0)
                        return r;
                fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        return carchive_set_error(x->error, -errno, "creating %.256s: %s", raw, strerror(errno));
                r = extract_data(x, fd, raw);
                if (r < 0)
                        return r;
                if (archive_entry_size_is_set(e) && ftruncate(fd, archive_entry_size(e)) < 0)
                        return carchive_set_error(x->error, -errno, "truncating %.256s: %s", raw, strerror(errno));
                return apply_meta_fd(x, fd, e, raw);

        case AE_IFLNK: {
                const char *target = archive_entry_symlink(e);

                /* Any target is fine: it is only ever resolved inside the
                 * container (RESOLVE_IN_ROOT here, the container's root there). */
                if (!target)
                        return carchive_set_error(x->error, -EINVAL, "symlink %.256s without a target", raw);
                r = make_room(x, pfd, base, false, where);
                if (r < 0)
                        return r;
                if (symlinkat(target, pfd, base) < 0)
                        return carchive_set_error(x->error, -errno, "creating symlink %.256s: %s", raw, strerror(errno));
                if (fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                    utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
                        return carchive_set_error(x->error, -errno, "setting owner/time of %.256s: %s", raw, strerror(errno));
                return 0;
        }

        case AE_IFIFO:
                r = make_room(x, pfd, base, false, where);
                if (r < 0)
                        return r;
                if (mknodat(pfd, base, S_IFIFO | 0600, 0) < 0)
                        return carchive_set_error(x->error, -errno, "creating fifo %.256s: %s", raw, strerror(errno));
                /* O_PATH: no open of the FIFO itself; then via the fd only */
                fd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 || fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0 ||
                    utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0 ||
                    fchmodat(pfd, base, perm & 07777, AT_SYMLINK_NOFOLLOW) < 0)
                        return carchive_set_error(x->error, -errno, "setting owner/mode/time of %.256s: %s", raw, strerror(errno));
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
                return carchive_set_error(ret_error, -EINVAL, "invalid path %.256s", path);
        r = carchive_openat2(root_fd, dest, O_PATH, &dfd);
        if (r < 0)
                return carchive_set_error(ret_error, r, "%.256s: %s", path, strerror(-r));
        if (fstat(dfd, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return carchive_set_error(ret_error, -ENOTDIR, "%.256s is not a directory", path);
        if (carchive_is_pseudo_fs(dfd))
                return carchive_set_error(ret_error, -EINVAL, "refusing to extract into %.256s: a kernel filesystem (proc, sys, cgroup)", path);

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
                return carchive_set_error(ret_error, -EBADMSG, "not a tar archive: %s",
                                 archive_error_string(a) ?: "unreadable");
        for (;;) {
                struct archive_entry *e;
                int ar = archive_read_next_header(a, &e);

                if (ar == ARCHIVE_EOF)
                        break;
                if (ar < ARCHIVE_WARN)
                        return carchive_set_error(ret_error, -EBADMSG, "corrupt or truncated archive after %llu entries: %s",
                                         (unsigned long long) x->entries, archive_error_string(a) ?: "read error");
                if (++x->entries > o->max_entries)
                        return carchive_set_error(ret_error, -E2BIG, "archive has more than %llu entries",
                                         (unsigned long long) o->max_entries);
                r = extract_entry(x, e);
                if (r < 0)
                        return carchive_set_error(ret_error, r, "extracting %.256s: %s", strempty(archive_entry_pathname(e)),
                                         strerror(-r));
        }
        log_debug("Extracted %llu entries, %llu bytes into %s", (unsigned long long) x->entries,
                  (unsigned long long) x->bytes, dest);
        return 0;
}

/* Users */

static int lookup_db(int root_fd, const char *file, const char *name, unsigned long *ret_id, unsigned long *ret_gid) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *text = NULL;
        char *line, *save = NULL;
        int r;

        r = carchive_openat2(root_fd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, &fd);
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
