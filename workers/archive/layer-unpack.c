/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include "digest.h"
#include "fileio.h"
#include "ids.h"
#include "layer-unpack.h"
#include "log.h"

#define STREAM_BUFFER_SIZE (128U * 1024U)
#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_META_PREFIX ".wh..wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"
#define OVERLAY_XATTR_PREFIX "trusted.overlay."
#define OVERLAY_USER_XATTR_PREFIX "user.overlay."   /* overlayfs with userxattr */
#define OVERLAY_OPAQUE_XATTR "trusted.overlay.opaque"

/* What a layer may ask of the disk writer. No ARCHIVE_EXTRACT_FFLAGS: an
 * immutable flag would make the layer impossible to remove. Ownership stays
 * numeric (no archive_write_disk_set_standard_lookup()): the ids belong to
 * the container, not to the host's passwd. */
#define EXTRACT_FLAGS                                                           \
        (ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |    \
         ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_OWNER |       \
         ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR)

typedef struct Unpack {
        int blob_fd;
        uint64_t blob_offset;
        bool blob_is_pipe;      /* streamed from the puller: read(), no offset */
        Sha256 *blob_sha;       /* the compressed bytes, when their digest is to be checked */

        struct archive *outer;  /* raw format + decompression: the uncompressed stream */
        struct archive *inner;  /* tar, fed from the outer reader through stream_read() */
        struct archive *disk;
        int root_fd;            /* the temp dir we extract into (also the cwd meanwhile) */

        Sha256 *sha;
        uint64_t stream_bytes;
        uint64_t entries;
        uint64_t file_bytes;
        bool stream_over_limit;

        char **opaque_dirs;
        size_t n_opaque_dirs;

        char *error;

        char blob_buffer[STREAM_BUFFER_SIZE];
        char stream_buffer[STREAM_BUFFER_SIZE];
} Unpack;

static int unpack_fail(Unpack *u, int r, const char *fmt, ...) _printf_(3, 4);
static int unpack_fail(Unpack *u, int r, const char *fmt, ...) {
        va_list ap;

        /* The first failure is the cause; later ones are consequences. */
        if (!u->error) {
                va_start(ap, fmt);
                if (vasprintf(&u->error, fmt, ap) < 0)
                        u->error = NULL;
                va_end(ap);
        }
        return r;
}

static la_ssize_t blob_read(struct archive *a, void *userdata, const void **buf) {
        Unpack *u = userdata;
        ssize_t n;

        /* pread with our own offset: the fd came over the bus and its file
         * offset is shared with the sender. */
        do
                n = u->blob_is_pipe ? read(u->blob_fd, u->blob_buffer, sizeof(u->blob_buffer))
                                    : pread(u->blob_fd, u->blob_buffer, sizeof(u->blob_buffer), (off_t) u->blob_offset);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                archive_set_error(a, errno, "Failed to read the layer blob: %s", strerror(errno));
                return -1;
        }
        if (u->blob_sha && n > 0 && sha256_update(u->blob_sha, u->blob_buffer, (size_t) n) < 0) {
                archive_set_error(a, EIO, "Failed to hash the layer blob");
                return -1;
        }
        u->blob_offset += (uint64_t) n;
        *buf = u->blob_buffer;
        return n;
}

/* The next piece of the uncompressed stream, hashed on the way. Returns the
 * bytes read, 0 at the end, or -1 with the error set on @a. */
static la_ssize_t stream_next(Unpack *u, struct archive *a) {
        la_ssize_t n = archive_read_data(u->outer, u->stream_buffer, sizeof(u->stream_buffer));
        if (n < 0) {
                archive_set_error(a, EILSEQ, "Failed to decompress the layer: %s",
                                  strempty(archive_error_string(u->outer)));
                return -1;
        }
        if (n == 0)
                return 0;

        u->stream_bytes += (uint64_t) n;
        if (u->stream_bytes > LAYER_MAX_STREAM_BYTES) {
                u->stream_over_limit = true;
                archive_set_error(a, EFBIG, "Uncompressed layer is larger than %llu bytes",
                                  (unsigned long long) LAYER_MAX_STREAM_BYTES);
                return -1;
        }
        if (sha256_update(u->sha, u->stream_buffer, (size_t) n) < 0) {
                archive_set_error(a, EIO, "Failed to hash the layer");
                return -1;
        }
        return n;
}

static la_ssize_t stream_read(struct archive *a, void *userdata, const void **buf) {
        Unpack *u = userdata;
        *buf = u->stream_buffer;
        return stream_next(u, a);
}

static bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A tar member name made canonical: no "." or empty components, no trailing
 * slash; "" for the layer root. Absolute paths and ".." are refused. */
static int path_normalize(const char *path, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t n = 0;

        if (isempty(path) || path[0] == '/')
                return -EBADMSG;

        out = malloc(strlen(path) + 1);
        if (!out)
                return -ENOMEM;

        for (const char *p = path; *p;) {
                size_t len = strcspn(p, "/");

                if (len == 2 && strneq(p, "..", 2))
                        return -EBADMSG;
                if (len > 0 && !(len == 1 && p[0] == '.')) {
                        if (n > 0)
                                out[n++] = '/';
                        memcpy(out + n, p, len);
                        n += len;
                }
                p += len;
                p += *p == '/';
        }
        out[n] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

/* Opens a directory of the layer without following any symlink or leaving it. */
static int layer_open_dir(Unpack *u, const char *dir) {
        struct open_how how = {
                .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        int fd;

        if (isempty(dir))
                fd = fcntl(u->root_fd, F_DUPFD_CLOEXEC, 3);
        else
                fd = (int) syscall(SYS_openat2, u->root_fd, dir, &how, sizeof(how));
        return fd < 0 ? -errno : fd;
}

static bool disk_error_is_host_side(struct archive *disk) {
        int e = archive_errno(disk);
        return e == ENOSPC || e == EDQUOT || e == EIO || e == ENOMEM || e == EROFS;
}

static int disk_write_entry(Unpack *u, struct archive_entry *entry, const char *path, bool with_data) {
        int r;

        r = archive_write_header(u->disk, entry);
        if (r < ARCHIVE_WARN)
                return unpack_fail(u, disk_error_is_host_side(u->disk) ? -archive_errno(u->disk) : -EBADMSG,
                                   "Failed to extract layer entry %s: %s", path,
                                   strempty(archive_error_string(u->disk)));
        if (r == ARCHIVE_WARN)
                log_warning("Layer entry %s: %s", path, strempty(archive_error_string(u->disk)));

        while (with_data && archive_entry_size(entry) > 0) {
                const void *buf;
                size_t size;
                la_int64_t offset;

                r = archive_read_data_block(u->inner, &buf, &size, &offset);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return unpack_fail(u, u->stream_over_limit ? -EFBIG : -EBADMSG,
                                           "Failed to read layer entry %s: %s", path,
                                           strempty(archive_error_string(u->inner)));
                if (archive_write_data_block(u->disk, buf, size, offset) < ARCHIVE_WARN)
                        return unpack_fail(u, disk_error_is_host_side(u->disk) ? -archive_errno(u->disk) : -EBADMSG,
                                           "Failed to write layer entry %s: %s", path,
                                           strempty(archive_error_string(u->disk)));
        }

        r = archive_write_finish_entry(u->disk);
        if (r < ARCHIVE_WARN)
                return unpack_fail(u, disk_error_is_host_side(u->disk) ? -archive_errno(u->disk) : -EBADMSG,
                                   "Failed to finish layer entry %s: %s", path,
                                   strempty(archive_error_string(u->disk)));
        if (r == ARCHIVE_WARN)
                log_warning("Layer entry %s: %s", path, strempty(archive_error_string(u->disk)));
        return 0;
}

/* `dir/.wh..wh..opq`: remember @dir; the xattr is set once everything is
 * written. The directory is created now if the layer did not carry it yet. */
static int unpack_opaque(Unpack *u, struct archive_entry *entry, const char *dir) {
        _cleanup_free_ char *copy = strdup(dir);
        int fd, r;

        if (!copy)
                return -ENOMEM;

        fd = layer_open_dir(u, dir);
        if (fd >= 0)
                close(fd);
        else if (fd == -ENOENT) {
                struct archive_entry *d = archive_entry_new();
                if (!d)
                        return -ENOMEM;
                archive_entry_set_pathname(d, dir);
                archive_entry_set_filetype(d, AE_IFDIR);
                archive_entry_set_perm(d, 0755);
                archive_entry_set_uid(d, archive_entry_uid(entry));
                archive_entry_set_gid(d, archive_entry_gid(entry));
                r = disk_write_entry(u, d, dir, false);
                archive_entry_free(d);
                if (r < 0)
                        return r;
        } else
                return unpack_fail(u, fd == -ENOTDIR || fd == -ELOOP || fd == -EXDEV ? -EBADMSG : fd,
                                   "Opaque whiteout in %s, which is not a directory of the layer: %s",
                                   dir, strerror(-fd));

        char **l = realloc(u->opaque_dirs, (u->n_opaque_dirs + 1) * sizeof(char *));
        if (!l)
                return -ENOMEM;
        u->opaque_dirs = l;
        u->opaque_dirs[u->n_opaque_dirs++] = TAKE_PTR(copy);
        return 0;
}

/* `dir/.wh.name` becomes what overlayfs reads as a whiteout: a 0:0 character
 * device `dir/name`, mode 0, owned like the whiteout entry. */
static int unpack_whiteout(Unpack *u, struct archive_entry *entry, const char *dir, const char *name) {
        _cleanup_free_ char *target = NULL;
        struct archive_entry *wh;
        int r;

        if (isempty(name) || streq(name, ".") || streq(name, ".."))
                return unpack_fail(u, -EBADMSG, "Invalid whiteout entry %s/%s%s", dir, WHITEOUT_PREFIX, name);

        if (asprintf(&target, "%s%s%s", dir, isempty(dir) ? "" : "/", name) < 0)
                return -ENOMEM;

        wh = archive_entry_new();
        if (!wh)
                return -ENOMEM;
        archive_entry_set_pathname(wh, target);
        archive_entry_set_filetype(wh, AE_IFCHR);
        archive_entry_set_perm(wh, 0);
        archive_entry_set_rdev(wh, 0);
        archive_entry_set_uid(wh, archive_entry_uid(entry));
        archive_entry_set_gid(wh, archive_entry_gid(entry));
        archive_entry_set_mtime(wh, archive_entry_mtime(entry), archive_entry_mtime_nsec(entry));
        r = disk_write_entry(u, wh, target, false);
        archive_entry_free(wh);
        return r;
}

static bool is_overlay_xattr(const char *name) {
        return startswith(name, OVERLAY_XATTR_PREFIX) || startswith(name, OVERLAY_USER_XATTR_PREFIX);
}

/* Only we decide which overlayfs xattrs a layer carries: a layer could
 * otherwise smuggle in redirects or metacopy markers. */
static int entry_drop_overlay_xattrs(struct archive_entry *entry) {
        const char *name;
        const void *value;
        size_t size;
        bool found = false;

        archive_entry_xattr_reset(entry);
        while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK)
                if (is_overlay_xattr(name))
                        found = true;
        if (!found)
                return 0;

        struct archive_entry *copy = archive_entry_clone(entry);
        if (!copy)
                return -ENOMEM;
        archive_entry_xattr_clear(entry);
        archive_entry_xattr_reset(copy);
        while (archive_entry_xattr_next(copy, &name, &value, &size) == ARCHIVE_OK)
                if (!is_overlay_xattr(name))
                        archive_entry_xattr_add_entry(entry, name, value, size);
        archive_entry_free(copy);
        return 0;
}

/* The entry for the layer root ("./"): its owner and mode apply to the temp
 * dir itself, which libarchive would not touch through an empty path. */
static int unpack_root_entry(Unpack *u, struct archive_entry *entry) {
        if (archive_entry_filetype(entry) != AE_IFDIR)
                return unpack_fail(u, -EBADMSG, "Layer root entry is not a directory");
        if (fchown(u->root_fd, (uid_t) archive_entry_uid(entry), (gid_t) archive_entry_gid(entry)) < 0)
                return unpack_fail(u, -errno, "Failed to chown the layer root: %m");
        if (fchmod(u->root_fd, archive_entry_perm(entry) & 07777) < 0)
                return unpack_fail(u, -errno, "Failed to chmod the layer root: %m");
        return 0;
}

static int unpack_entry(Unpack *u, struct archive_entry *entry) {
        _cleanup_free_ char *path = NULL, *link = NULL;
        const char *raw = archive_entry_pathname(entry);
        const char *raw_link = archive_entry_hardlink(entry);
        int r;

        if (!raw)
                return unpack_fail(u, -EBADMSG, "Layer entry without a path name");
        r = path_normalize(raw, &path);
        if (r == -EBADMSG)
                return unpack_fail(u, r, "Refusing layer entry %s: absolute path or '..'", raw);
        if (r < 0)
                return r;

        if (raw_link) {
                r = path_normalize(raw_link, &link);
                if (r == -EBADMSG || (r >= 0 && isempty(link)))
                        return unpack_fail(u, -EBADMSG, "Refusing hard link %s -> %s: target outside the layer",
                                           raw, raw_link);
                if (r < 0)
                        return r;
                archive_entry_set_hardlink(entry, link);
        }

        if (isempty(path))
                return unpack_root_entry(u, entry);

        char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;

        if (startswith(base, WHITEOUT_PREFIX)) {
                _cleanup_free_ char *dir = strndup(path, slash ? (size_t) (slash - path) : 0);
                if (!dir)
                        return -ENOMEM;
                if (streq(base, WHITEOUT_OPAQUE))
                        return unpack_opaque(u, entry, dir);
                if (startswith(base, WHITEOUT_META_PREFIX)) {
                        /* aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): nothing for overlayfs. */
                        log_debug("Skipping layer entry %s", path);
                        return 0;
                }
                return unpack_whiteout(u, entry, dir, base + strlen(WHITEOUT_PREFIX));
        }

        archive_entry_set_pathname(entry, path);

        r = entry_drop_overlay_xattrs(entry);
        if (r < 0)
                return r;

        if (archive_entry_filetype(entry) == AE_IFREG && !raw_link && archive_entry_size_is_set(entry)) {
                la_int64_t size = archive_entry_size(entry);
                if (size < 0 || (uint64_t) size > LAYER_MAX_UNPACKED_BYTES - u->file_bytes)
                        return unpack_fail(u, -EFBIG, "Layer unpacks to more than %llu bytes (at %s)",
                                           (unsigned long long) LAYER_MAX_UNPACKED_BYTES, path);
                u->file_bytes += (uint64_t) size;
        }

        return disk_write_entry(u, entry, path, true);
}

static int unpack_set_opaque(Unpack *u) {
        for (size_t i = 0; i < u->n_opaque_dirs; i++) {
                const char *dir = u->opaque_dirs[i];
                _cleanup_close_ int fd = layer_open_dir(u, dir);
                if (fd < 0)
                        return unpack_fail(u, fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP || fd == -EXDEV ? -EBADMSG : fd,
                                           "Opaque directory %s is no longer a directory of the layer: %s",
                                           isempty(dir) ? "/" : dir, strerror(-fd));
                if (fsetxattr(fd, OVERLAY_OPAQUE_XATTR, "y", 1, 0) < 0)
                        return unpack_fail(u, -errno, "Failed to mark %s opaque: %m", isempty(dir) ? "/" : dir);
        }
        return 0;
}

/* Reads the whole tar and writes it below the cwd (the temp dir). Frees the
 * disk writer before returning: its deferred fixups use cwd-relative paths. */
static int unpack_extract(Unpack *u) {
        struct archive_entry *entry;
        int r;

        for (;;) {
                r = archive_read_next_header(u->inner, &entry);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return unpack_fail(u, u->stream_over_limit ? -EFBIG : -EBADMSG,
                                           "Failed to read the layer tar: %s",
                                           strempty(archive_error_string(u->inner)));
                if (r == ARCHIVE_WARN)
                        log_warning("Layer tar: %s", strempty(archive_error_string(u->inner)));

                if (++u->entries > LAYER_MAX_ENTRIES)
                        return unpack_fail(u, -E2BIG, "Layer has more than %llu entries",
                                           (unsigned long long) LAYER_MAX_ENTRIES);

                r = unpack_entry(u, entry);
                if (r < 0)
                        return unpack_fail(u, r, "Failed to extract layer entry %s: %s",
                                           strempty(archive_entry_pathname(entry)), strerror(-r));
        }

        r = archive_write_close(u->disk);
        if (r < ARCHIVE_WARN)
                return unpack_fail(u, -EBADMSG, "Failed to finish the layer: %s",
                                   strempty(archive_error_string(u->disk)));

        return unpack_set_opaque(u);
}

/* Whatever follows the tar's end-of-archive blocks belongs to the stream the
 * diff_id was computed over. */
static int unpack_drain(Unpack *u) {
        for (;;) {
                la_ssize_t n = stream_next(u, u->inner);
                if (n < 0)
                        return unpack_fail(u, u->stream_over_limit ? -EFBIG : -EBADMSG, "%s",
                                           strempty(archive_error_string(u->inner)));
                if (n == 0)
                        return 0;
        }
}

/* The compressed bytes after the end of the compressed stream (none in a
 * well-formed blob) still count for the blob digest. */
static int unpack_drain_blob(Unpack *u) {
        for (;;) {
                la_ssize_t n = blob_read(u->outer, u, &(const void *) { NULL });
                if (n < 0)
                        return unpack_fail(u, -EIO, "%s", strempty(archive_error_string(u->outer)));
                if (n == 0)
                        return 0;
                if (u->blob_offset > LAYER_MAX_STREAM_BYTES)
                        return unpack_fail(u, -EFBIG, "Layer blob is larger than %llu bytes",
                                           (unsigned long long) LAYER_MAX_STREAM_BYTES);
        }
}

static int unpack_open_readers(Unpack *u) {
        struct archive_entry *entry;
        int r;

        u->outer = archive_read_new();
        u->inner = archive_read_new();
        u->disk = archive_write_disk_new();
        if (!u->outer || !u->inner || !u->disk)
                return -ENOMEM;

        /* The layer media types of the OCI image spec, decompressed in
         * process; support_filter_all() would also run external programs. */
        /* ARCHIVE_WARN: libarchive was built without the library and will
         * run the external program; better than refusing such layers. */
        if (archive_read_support_filter_gzip(u->outer) < ARCHIVE_WARN ||
            archive_read_support_filter_zstd(u->outer) < ARCHIVE_WARN ||
            archive_read_support_format_raw(u->outer) != ARCHIVE_OK ||
            archive_read_support_format_tar(u->inner) != ARCHIVE_OK ||
            archive_write_disk_set_options(u->disk, EXTRACT_FLAGS) != ARCHIVE_OK)
                return unpack_fail(u, -EIO, "Failed to set up libarchive: %s",
                                   strempty(archive_error_string(u->outer)));

        if (archive_read_open2(u->outer, u, NULL, blob_read, NULL, NULL) != ARCHIVE_OK)
                return unpack_fail(u, -EBADMSG, "Failed to open the layer blob: %s",
                                   strempty(archive_error_string(u->outer)));
        r = archive_read_next_header(u->outer, &entry);
        if (r != ARCHIVE_OK)
                return unpack_fail(u, -EBADMSG, "Failed to read the layer blob: %s",
                                   r == ARCHIVE_EOF ? "empty" : strempty(archive_error_string(u->outer)));

        if (archive_read_open2(u->inner, u, NULL, stream_read, NULL, NULL) != ARCHIVE_OK)
                return unpack_fail(u, u->stream_over_limit ? -EFBIG : -EBADMSG, "Layer is not a tar archive: %s",
                                   strempty(archive_error_string(u->inner)));
        return 0;
}

static void unpack_done(Unpack *u) {
        if (u->disk)
                archive_write_free(u->disk);
        if (u->inner)
                archive_read_free(u->inner);
        if (u->outer)
                archive_read_free(u->outer);
        sha256_free(u->sha);
        sha256_free(u->blob_sha);
        for (size_t i = 0; i < u->n_opaque_dirs; i++)
                free(u->opaque_dirs[i]);
        free(u->opaque_dirs);
        free(u->error);
        free(u);
}

/* mkdtemp() under a dirfd. */
static int make_temp_dir(int dirfd, const char *prefix, char **ret) {
        for (unsigned attempt = 0; attempt < 100; attempt++) {
                uint64_t rnd;
                char *name;

                if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                        return -EIO;
                if (asprintf(&name, "%s%06llx", prefix, (unsigned long long) (rnd & 0xffffff)) < 0)
                        return -ENOMEM;
                if (mkdirat(dirfd, name, 0700) >= 0) {
                        *ret = name;
                        return 0;
                }
                int e = errno;
                free(name);
                if (e != EEXIST)
                        return -e;
        }
        return -EEXIST;
}

int layer_unpack_clean_leftovers(int layers_dir_fd, const char *chain_id) {
        _cleanup_free_ char *prefix = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd, r = 0;

        if (chain_id && !digest_is_valid(chain_id))
                return -EINVAL;
        if (asprintf(&prefix, ".tmp-%s%s", chain_id ? chain_id + strlen("sha256:") : "", chain_id ? "-" : "") < 0)
                return -ENOMEM;

        fd = openat(layers_dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((de = readdir(d)))
                if (startswith(de->d_name, prefix)) {
                        int k = rm_rf_at(dirfd(d), de->d_name);
                        if (k < 0) {
                                log_warning_errno(k, "Failed to remove leftover %s: %m", de->d_name);
                                r = r < 0 ? r : k;
                        } else
                                log_info("Removed leftover %s", de->d_name);
                }
        return r;
}

static int layer_unpack_in_temp(Unpack *u, int layers_dir_fd, const char *temp_name) {
        _cleanup_close_ int saved_cwd = -1;
        int r, k;

        saved_cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fchdir(u->root_fd) < 0)
                return unpack_fail(u, -errno, "Failed to enter %s: %m", temp_name);

        r = unpack_extract(u);

        /* The disk writer runs its fixups (cwd-relative) when freed: here,
         * inside the temp dir, never after we left it. */
        archive_write_free(u->disk);
        u->disk = NULL;

        if (saved_cwd < 0 || fchdir(saved_cwd) < 0)
                k = chdir("/") < 0 ? -errno : 0;
        else
                k = 0;
        if (r < 0)
                return r;
        if (k < 0)
                return unpack_fail(u, k, "Failed to leave %s: %s", temp_name, strerror(-k));
        return 0;
}

/* What layer_unpack() answers when the layer (or the call) is at fault. */
#define IN_SET_UNPACK_BAD(r) ((r) == -EBADMSG || (r) == -EINVAL || (r) == -EFBIG || (r) == -E2BIG)

int layer_unpack(int blob_fd, int layers_dir_fd, const char *chain_id, const char *diff_id,
                 uint64_t *ret_size, char **ret_error) {
        return layer_unpack_verified(blob_fd, layers_dir_fd, chain_id, diff_id, NULL, ret_size, ret_error);
}

int layer_unpack_verified(int blob_fd, int layers_dir_fd, const char *chain_id, const char *diff_id,
                          const char *blob_digest, uint64_t *ret_size, char **ret_error) {
        _cleanup_free_ char *temp_name = NULL, *prefix = NULL, *error = NULL;
        _cleanup_close_ int root_fd = -1, layers_fd = -1;
        char digest[72];
        const char *chainhex;
        Unpack *u = NULL;
        struct stat st;
        bool blob_is_pipe;
        int r;

#define FAIL(code, ...)                                                 \
        do {                                                            \
                r = (code);                                             \
                if (asprintf(&error, __VA_ARGS__) < 0)                  \
                        error = NULL;                                   \
                goto finish;                                            \
        } while (0)

        if (!chain_id || !digest_is_valid(chain_id))
                FAIL(-EINVAL, "Invalid chain id: %s", strempty(chain_id));
        if (!diff_id || !digest_is_valid(diff_id))
                FAIL(-EINVAL, "Invalid diff id: %s", strempty(diff_id));
        if (blob_digest && !digest_is_valid(blob_digest))
                FAIL(-EINVAL, "Invalid blob digest: %s", blob_digest);
        if (fstat(blob_fd, &st) < 0 || !(S_ISREG(st.st_mode) || (blob_digest && S_ISFIFO(st.st_mode))))
                FAIL(-EINVAL, "Layer blob fd %d is not a regular file%s", blob_fd, blob_digest ? " or a pipe" : "");
        blob_is_pipe = S_ISFIFO(st.st_mode);
        if (fstat(layers_dir_fd, &st) < 0 || !S_ISDIR(st.st_mode))
                FAIL(-EINVAL, "Layers dir fd %d is not a directory", layers_dir_fd);

        chainhex = chain_id + strlen("sha256:");

        /* An O_PATH fd would do for *at() but not for fsync(). */
        layers_fd = openat(layers_dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (layers_fd < 0)
                FAIL(-errno, "Failed to open the layers directory: %m");

        u = calloc(1, sizeof(*u));
        if (!u)
                FAIL(-ENOMEM, "Out of memory");
        u->blob_fd = blob_fd;
        u->blob_is_pipe = blob_is_pipe;
        u->root_fd = -1;
        r = sha256_new(&u->sha);
        if (r >= 0 && blob_digest)
                r = sha256_new(&u->blob_sha);
        if (r < 0)
                FAIL(r, "Failed to set up sha256");

        if (asprintf(&prefix, ".tmp-%s-", chainhex) < 0)
                FAIL(-ENOMEM, "Out of memory");
        r = make_temp_dir(layers_fd, prefix, &temp_name);
        if (r < 0)
                FAIL(r, "Failed to create a temp dir for layer %s: %s", chain_id, strerror(-r));

        root_fd = openat(layers_fd, temp_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root_fd < 0)
                FAIL(-errno, "Failed to open %s: %m", temp_name);
        /* The mode the layer root has unless the tar carries a "./" entry. */
        if (fchmod(root_fd, 0755) < 0)
                FAIL(-errno, "Failed to chmod %s: %m", temp_name);
        u->root_fd = root_fd;

        r = unpack_open_readers(u);
        if (r >= 0)
                r = layer_unpack_in_temp(u, layers_fd, temp_name);
        if (r >= 0)
                r = unpack_drain(u);
        if (r >= 0 && blob_digest)
                r = unpack_drain_blob(u);
        if (r < 0) {
                error = TAKE_PTR(u->error);
                if (!error && asprintf(&error, "Failed to unpack layer %s: %s", chain_id, strerror(-r)) < 0)
                        error = NULL;
                goto finish;
        }

        r = sha256_final(u->sha, digest);
        if (r < 0)
                FAIL(r, "Failed to compute the layer digest");
        if (!streq(digest, diff_id))
                FAIL(-EBADMSG, "Layer digest mismatch: expected %s, got %s", diff_id, digest);
        if (blob_digest) {
                r = sha256_final(u->blob_sha, digest);
                if (r < 0)
                        FAIL(r, "Failed to compute the blob digest");
                if (!streq(digest, blob_digest))
                        FAIL(-EBADMSG, "Layer blob digest mismatch: expected %s, got %s (%llu bytes)", blob_digest,
                             digest, (unsigned long long) u->blob_offset);
        }

        /* One call flushes all the layer's files and directories. */
        if (syncfs(root_fd) < 0)
                FAIL(-errno, "Failed to sync layer %s: %m", chain_id);

        if (renameat2(layers_fd, temp_name, layers_fd, chainhex, RENAME_NOREPLACE) < 0) {
                if (errno != EEXIST && errno != ENOTEMPTY)
                        FAIL(-errno, "Failed to rename %s to %s: %m", temp_name, chainhex);
                log_debug("Layer %s already unpacked, dropping ours", chain_id);
                (void) rm_rf_at(layers_fd, temp_name);
        }
        free(temp_name);
        temp_name = NULL;
        if (fsync(layers_fd) < 0)
                FAIL(-errno, "Failed to sync the layers directory: %m");

        log_debug("Unpacked layer %s: %llu entries, %llu bytes in files, %llu bytes uncompressed",
                  chain_id, (unsigned long long) u->entries, (unsigned long long) u->file_bytes,
                  (unsigned long long) u->stream_bytes);
        if (ret_size)
                *ret_size = u->file_bytes;
        r = 0;

finish:
#undef FAIL
        /* A host-side failure (a full disk …) says which disk. */
        if (r < 0 && error && !IN_SET_UNPACK_BAD(r)) {
                char proc[64], path[256] = "";
                _cleanup_free_ char *e = TAKE_PTR(error);
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", layers_dir_fd);
                ssize_t n = readlink(proc, path, sizeof(path) - 1);
                if (n > 0)
                        path[n] = 0;
                if (asprintf(&error, "%s (layers in %s)", e, n > 0 ? path : "?") < 0)
                        error = TAKE_PTR(e);
        }
        if (temp_name && layers_fd >= 0) {
                int k = rm_rf_at(layers_fd, temp_name);
                if (k < 0)
                        log_warning_errno(k, "Failed to remove %s: %m", temp_name);
        }
        if (u)
                unpack_done(u);
        if (r < 0 && ret_error)
                *ret_error = TAKE_PTR(error);
        return r;
}
