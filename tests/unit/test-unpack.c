/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of workers/archive/layer-unpack.c, plus one test that talks to
 * the built zlayer-archive over its link. Runs as root (owners, mknod,
 * trusted.* xattrs). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <locale.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <systemd/sd-bus.h>

#include "digest.h"
#include "errors.h"
#include "fileio.h"
#include "layer-unpack.h"
#include "link.h"
#include "macro.h"

enum { PLAIN, GZIP, ZSTD };

typedef struct TarEntry {
        const char *path;
        mode_t type;              /* S_IFREG, S_IFDIR, S_IFLNK; 0 = hard link */
        mode_t perm;
        const char *data;         /* regular file contents */
        const char *link;         /* symlink target or hard link target */
        const char *xattr_name;   /* optional */
        const char *xattr_value;
        unsigned uid, gid;
} TarEntry;

#define TAR_MAX (1024 * 1024)

typedef struct Blob {
        int fd;                   /* memfd with the (compressed) blob */
        char diff_id[72];         /* sha256 of the uncompressed tar */
        size_t size;
} Blob;

/* Writes @entries as a tar (the uncompressed stream, padded as tar(1) would),
 * then compresses it through libarchive's raw writer. */
static Blob make_blob(int filter, const TarEntry *entries, size_t n) {
        static char tar[TAR_MAX], out[TAR_MAX + 4096];
        size_t tar_len = 0, out_len = 0;
        struct archive *a = archive_write_new();
        Blob b = { .fd = -1 };

        assert_non_null(a);
        assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
        assert_int_equal(archive_write_open_memory(a, tar, sizeof(tar), &tar_len), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                const TarEntry *t = &entries[i];
                struct archive_entry *e = archive_entry_new();
                size_t len = t->data ? strlen(t->data) : 0;

                archive_entry_set_pathname(e, t->path);
                archive_entry_set_uid(e, t->uid);
                archive_entry_set_gid(e, t->gid);
                archive_entry_set_mtime(e, 1700000000, 0);
                if (t->type == 0) {
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_perm(e, 0644);
                        archive_entry_set_hardlink(e, t->link);
                } else {
                        archive_entry_set_filetype(e, t->type);
                        archive_entry_set_perm(e, t->perm);
                        if (t->type == S_IFLNK)
                                archive_entry_set_symlink(e, t->link);
                        if (t->type == S_IFREG)
                                archive_entry_set_size(e, (la_int64_t) len);
                }
                if (t->xattr_name)
                        archive_entry_xattr_add_entry(e, t->xattr_name, t->xattr_value, strlen(t->xattr_value));
                assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
                if (len > 0)
                        assert_int_equal(archive_write_data(a, t->data, len), (la_ssize_t) len);
                archive_entry_free(e);
        }
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);

        assert_int_equal(sha256_digest(tar, tar_len, b.diff_id), 0);

        if (filter == PLAIN) {
                memcpy(out, tar, tar_len);
                out_len = tar_len;
        } else {
                struct archive_entry *e = archive_entry_new();
                a = archive_write_new();
                assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
                assert_int_equal(filter == GZIP ? archive_write_add_filter_gzip(a) : archive_write_add_filter_zstd(a),
                                 ARCHIVE_OK);
                assert_int_equal(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
                assert_int_equal(archive_write_open_memory(a, out, sizeof(out), &out_len), ARCHIVE_OK);
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_pathname(e, "layer");
                assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
                assert_int_equal(archive_write_data(a, tar, tar_len), (la_ssize_t) tar_len);
                assert_int_equal(archive_write_close(a), ARCHIVE_OK);
                archive_write_free(a);
                archive_entry_free(e);
                assert_true(out_len > 0 && out_len != tar_len);
        }

        b.fd = memfd_create("blob", MFD_CLOEXEC);
        assert_true(b.fd >= 0);
        assert_int_equal(loop_write(b.fd, out, out_len), 0);
        b.size = out_len;
        return b;
}

typedef struct Fixture {
        char root[64];            /* /var/tmp/test-unpack-XXXXXX */
        int root_fd;
        int layers_fd;            /* root/layers */
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        strcpy(f->root, "/var/tmp/test-unpack-XXXXXX");
        assert_non_null(mkdtemp(f->root));
        f->root_fd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->root_fd >= 0);
        assert_int_equal(mkdirat(f->root_fd, "layers", 0700), 0);
        f->layers_fd = openat(f->root_fd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->layers_fd >= 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        close(f->layers_fd);
        close(f->root_fd);
        assert_int_equal(rm_rf_at(AT_FDCWD, f->root), 0);
        free(f);
        return 0;
}

static size_t count_entries(int dirfd) {
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fdopendir(fd);
        struct dirent *de;
        size_t n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static const TarEntry good_layer[] = {
        { "./", S_IFDIR, 0755 },
        { "etc/", S_IFDIR, 0755 },
        { "etc/hostname", S_IFREG, 0640, "zlayer\n", .uid = 1234, .gid = 4321 },
        { "etc/hostname2", 0, 0, NULL, "etc/hostname" },
        { "./bin/tool", S_IFREG, 04755, "#!/bin/sh\necho hi\n" },
        { "bin/link", S_IFLNK, 0777, NULL, "tool" },
        { "abs", S_IFLNK, 0777, NULL, "/etc/passwd" },
        { "etc/.wh.removed", S_IFREG, 0644, "" },
        { "var/", S_IFDIR, 0711, .xattr_name = "trusted.overlay.redirect", .xattr_value = "/elsewhere" },
        { "var/.wh..wh..opq", S_IFREG, 0644, "" },
        { "var/keep", S_IFREG, 0600, "k", .xattr_name = "user.note", .xattr_value = "kept" },
        { "new/.wh..wh..opq", S_IFREG, 0644, "" },
        { ".wh..wh.plnk", S_IFDIR, 0700 },
        { "etc/F\xc5\x91tan\xc3\xbas\xc3\xadtv\xc3\xa1ny.crt", S_IFREG, 0644, "",
          .xattr_name = "user.overlay.opaque", .xattr_value = "y" },
};
/* etc/hostname + bin/tool + var/keep; the hard link is not counted twice. */
#define GOOD_LAYER_SIZE (7 + 18 + 1)

static void check_good_layer(int layers_fd, const char *diff_id) {
        const char *hex = diff_id + strlen("sha256:");
        char buf[128];
        struct stat st, st2;
        int fd;

        fd = openat(layers_fd, hex, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);

        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0755);

        assert_int_equal(fstatat(fd, "etc/hostname", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(st.st_uid, 1234);
        assert_int_equal(st.st_gid, 4321);
        assert_int_equal(st.st_mtime, 1700000000);
        char *data = NULL;
        assert_int_equal(read_file_at(fd, "etc/hostname", 1024, &data, NULL), 0);
        assert_string_equal(data, "zlayer\n");
        free(data);

        assert_int_equal(fstatat(fd, "etc/hostname2", &st2, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st2.st_ino, st.st_ino);

        assert_int_equal(fstatat(fd, "bin/tool", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mode & 07777, 04755);

        ssize_t n = readlinkat(fd, "bin/link", buf, sizeof(buf));
        assert_int_equal(n, 4);
        assert_memory_equal(buf, "tool", 4);
        n = readlinkat(fd, "abs", buf, sizeof(buf));
        assert_int_equal(n, 11);
        assert_memory_equal(buf, "/etc/passwd", 11);

        /* .wh.removed → 0:0 char device "removed", and no .wh. file left. */
        assert_int_equal(fstatat(fd, "etc/removed", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(major(st.st_rdev), 0);
        assert_int_equal(minor(st.st_rdev), 0);
        assert_int_equal(fstatat(fd, "etc/.wh.removed", &st, AT_SYMLINK_NOFOLLOW), -1);
        assert_int_equal(errno, ENOENT);

        /* .wh..wh..opq → trusted.overlay.opaque=y; the smuggled overlay xattr is dropped. */
        int vfd = openat(fd, "var", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(vfd >= 0);
        assert_int_equal(fstat(vfd, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0711);
        assert_int_equal(fgetxattr(vfd, "trusted.overlay.opaque", buf, sizeof(buf)), 1);
        assert_int_equal(buf[0], 'y');
        assert_int_equal(fgetxattr(vfd, "trusted.overlay.redirect", buf, sizeof(buf)), -1);
        assert_int_equal(errno, ENODATA);
        close(vfd);
        assert_int_equal(fstatat(fd, "var/.wh..wh..opq", &st, AT_SYMLINK_NOFOLLOW), -1);
        char path[256];
        snprintf(path, sizeof(path), "/proc/self/fd/%d/var/keep", fd);
        assert_int_equal(getxattr(path, "user.note", buf, sizeof(buf)), 4);
        assert_memory_equal(buf, "kept", 4);

        /* An opaque marker in a directory the layer did not list creates it. */
        snprintf(path, sizeof(path), "/proc/self/fd/%d/new", fd);
        assert_int_equal(getxattr(path, "trusted.overlay.opaque", buf, sizeof(buf)), 1);

        /* A UTF-8 name lands byte for byte; overlay xattrs in user.* are dropped too. */
        snprintf(path, sizeof(path), "/proc/self/fd/%d/etc/F\xc5\x91tan\xc3\xbas\xc3\xadtv\xc3\xa1ny.crt", fd);
        assert_int_equal(lstat(path, &st), 0);
        assert_int_equal(lgetxattr(path, "user.overlay.opaque", buf, sizeof(buf)), -1);
        assert_int_equal(errno, ENODATA);

        /* aufs bookkeeping is dropped. */
        assert_int_equal(fstatat(fd, ".wh..wh.plnk", &st, AT_SYMLINK_NOFOLLOW), -1);

        close(fd);
        /* Exactly the layer dir: no temp dir left. */
        assert_int_equal(count_entries(layers_fd), 1);
}

static void unpack_good(void **state, int filter) {
        Fixture *f = *state;
        Blob b = make_blob(filter, good_layer, ELEMENTSOF(good_layer));
        _cleanup_free_ char *error = NULL;
        uint64_t size = 0;

        assert_int_equal(layer_unpack(b.fd, f->layers_fd, b.diff_id, b.diff_id, &size, &error), 0);
        assert_null(error);
        assert_int_equal(size, GOOD_LAYER_SIZE);
        check_good_layer(f->layers_fd, b.diff_id);
        close(b.fd);
}

static void test_unpack_plain(void **state) {
        unpack_good(state, PLAIN);
}

static void test_unpack_gzip(void **state) {
        unpack_good(state, GZIP);
}

static void test_unpack_zstd(void **state) {
        unpack_good(state, ZSTD);
}

static void test_wrong_diff_id(void **state) {
        Fixture *f = *state;
        Blob b = make_blob(GZIP, good_layer, ELEMENTSOF(good_layer));
        const char *wrong = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        _cleanup_free_ char *error = NULL;
        uint64_t size = 0;

        assert_int_equal(layer_unpack(b.fd, f->layers_fd, b.diff_id, wrong, &size, &error), -EBADMSG);
        assert_non_null(error);
        assert_non_null(strstr(error, wrong));
        assert_non_null(strstr(error, b.diff_id));
        assert_int_equal(count_entries(f->layers_fd), 0);
        close(b.fd);
}

static void test_invalid_args(void **state) {
        Fixture *f = *state;
        Blob b = make_blob(PLAIN, good_layer, 1);
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL;

        assert_int_equal(layer_unpack(b.fd, f->layers_fd, "sha256:nope", b.diff_id, NULL, &e1), -EINVAL);
        assert_non_null(strstr(e1, "sha256:nope"));
        assert_int_equal(layer_unpack(b.fd, f->layers_fd, b.diff_id, "md5:1", NULL, &e2), -EINVAL);
        assert_non_null(strstr(e2, "md5:1"));
        /* The blob fd where the layers dir belongs. */
        assert_int_equal(layer_unpack(f->layers_fd, b.fd, b.diff_id, b.diff_id, NULL, &e3), -EINVAL);
        assert_int_equal(count_entries(f->layers_fd), 0);
        close(b.fd);
}

/* The first @len bytes of @b in a pipe whose write end is closed, as the
 * puller hands a layer to UnpackLayerStream; *ret_digest: of all of @b. */
static int blob_pipe(const Blob *b, size_t len, char ret_digest[72]) {
        static char buf[TAR_MAX + 4096];
        int p[2];

        assert_true(b->size <= sizeof(buf));
        assert_int_equal(pread(b->fd, buf, b->size, 0), (ssize_t) b->size);
        assert_int_equal(sha256_digest(buf, b->size, ret_digest), 0);
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_true(fcntl(p[1], F_SETPIPE_SZ, (int) (b->size + 4096)) >= (int) b->size);
        assert_int_equal(loop_write(p[1], buf, len), 0);
        close(p[1]);
        return p[0];
}

static void test_unpack_stream(void **state) {
        Fixture *f = *state;
        Blob b = make_blob(GZIP, good_layer, ELEMENTSOF(good_layer));
        _cleanup_free_ char *error = NULL;
        char digest[72];
        uint64_t size = 0;
        int p;

        p = blob_pipe(&b, b.size, digest);
        assert_int_equal(layer_unpack_verified(p, f->layers_fd, b.diff_id, b.diff_id, digest, &size, &error), 0);
        assert_null(error);
        assert_int_equal(size, GOOD_LAYER_SIZE);
        check_good_layer(f->layers_fd, b.diff_id);
        close(p);
        close(b.fd);
}

static void test_unpack_stream_bad(void **state) {
        Fixture *f = *state;
        Blob b = make_blob(GZIP, good_layer, ELEMENTSOF(good_layer));
        const char *wrong = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
        char digest[72];
        int p;

        /* Right bytes, but not those the manifest names: nothing is kept. */
        {
                _cleanup_free_ char *error = NULL;
                p = blob_pipe(&b, b.size, digest);
                assert_int_equal(layer_unpack_verified(p, f->layers_fd, b.diff_id, b.diff_id, wrong, NULL, &error),
                                 -EBADMSG);
                assert_non_null(strstr(error, wrong));
                assert_non_null(strstr(error, digest));
                assert_int_equal(count_entries(f->layers_fd), 0);
                close(p);
        }
        /* The download broke off half-way. */
        {
                _cleanup_free_ char *error = NULL;
                p = blob_pipe(&b, b.size / 2, digest);
                assert_true(layer_unpack_verified(p, f->layers_fd, b.diff_id, b.diff_id, digest, NULL, &error) < 0);
                assert_non_null(error);
                print_message("short stream refused: %s\n", error);
                assert_int_equal(count_entries(f->layers_fd), 0);
                close(p);
        }
        /* A pipe is only taken with a blob digest to check. */
        {
                _cleanup_free_ char *error = NULL;
                p = blob_pipe(&b, b.size, digest);
                assert_int_equal(layer_unpack(p, f->layers_fd, b.diff_id, b.diff_id, NULL, &error), -EINVAL);
                assert_int_equal(count_entries(f->layers_fd), 0);
                close(p);
        }
        close(b.fd);
}

/* Unpacks a hostile layer; it must fail and leave nothing anywhere. */
static void unpack_hostile(Fixture *f, const TarEntry *entries, size_t n, const char *must_not_exist) {
        Blob b = make_blob(PLAIN, entries, n);
        _cleanup_free_ char *error = NULL;
        char cwd_before[4096], cwd_after[4096];
        struct stat st;

        assert_non_null(getcwd(cwd_before, sizeof(cwd_before)));
        assert_true(layer_unpack(b.fd, f->layers_fd, b.diff_id, b.diff_id, NULL, &error) < 0);
        assert_non_null(error);
        print_message("refused as expected: %s\n", error);
        assert_int_equal(count_entries(f->layers_fd), 0);
        assert_int_equal(lstat(must_not_exist, &st), -1);
        assert_int_equal(errno, ENOENT);
        /* The working directory is restored. */
        assert_non_null(getcwd(cwd_after, sizeof(cwd_after)));
        assert_string_equal(cwd_before, cwd_after);
        close(b.fd);
}

static void test_hostile_absolute(void **state) {
        Fixture *f = *state;
        char target[128];

        snprintf(target, sizeof(target), "%s/absolute-owned", f->root);
        const TarEntry e[] = { { "ok", S_IFREG, 0644, "x" }, { target, S_IFREG, 0644, "owned" } };
        unpack_hostile(f, e, ELEMENTSOF(e), target);
}

static void test_hostile_dotdot(void **state) {
        Fixture *f = *state;
        char target[128];

        /* temp dir is root/layers/.tmp-…; "../../escape" would be root/escape. */
        snprintf(target, sizeof(target), "%s/escape", f->root);
        const TarEntry e[] = { { "ok", S_IFREG, 0644, "x" }, { "../../escape", S_IFREG, 0644, "owned" } };
        unpack_hostile(f, e, ELEMENTSOF(e), target);

        const TarEntry e2[] = { { "a/", S_IFDIR, 0755 }, { "a/../../../escape", S_IFREG, 0644, "owned" } };
        unpack_hostile(f, e2, ELEMENTSOF(e2), target);

        /* A whiteout must not reach out either. */
        const TarEntry e3[] = { { "../../.wh.escape", S_IFREG, 0644, "" } };
        unpack_hostile(f, e3, ELEMENTSOF(e3), target);
}

static void test_hostile_symlink(void **state) {
        Fixture *f = *state;
        char outside[128], owned[160];

        /* The symlink's target exists, so writing through it would work. */
        snprintf(outside, sizeof(outside), "%s/outside", f->root);
        assert_int_equal(mkdir(outside, 0755), 0);
        snprintf(owned, sizeof(owned), "%s/owned", outside);

        const TarEntry e[] = { { "evil", S_IFLNK, 0777, NULL, outside }, { "evil/owned", S_IFREG, 0644, "owned" } };
        unpack_hostile(f, e, ELEMENTSOF(e), owned);

        /* A relative symlink climbing out, then a directory through it. */
        const TarEntry e2[] = { { "evil", S_IFLNK, 0777, NULL, "../../outside" },
                                { "evil/owned/", S_IFDIR, 0755 } };
        unpack_hostile(f, e2, ELEMENTSOF(e2), owned);

        /* An opaque marker through a symlink must not set xattrs outside. */
        const TarEntry e3[] = { { "evil", S_IFLNK, 0777, NULL, outside }, { "evil/.wh..wh..opq", S_IFREG, 0644, "" } };
        unpack_hostile(f, e3, ELEMENTSOF(e3), owned);
        char buf[8];
        assert_int_equal(getxattr(outside, "trusted.overlay.opaque", buf, sizeof(buf)), -1);
}

/* libarchive fixes directory modes and times up at the end, by path; a
 * directory replaced by a symlink must not pass that on to the target. */
static void test_fixups_do_not_follow_symlinks(void **state) {
        Fixture *f = *state;
        char outside[128];
        struct stat before, after;
        uint64_t size;

        snprintf(outside, sizeof(outside), "%s/outside", f->root);
        assert_int_equal(mkdir(outside, 0755), 0);
        assert_int_equal(stat(outside, &before), 0);

        const TarEntry e[] = { { "d/", S_IFDIR, 0700 }, { "d", S_IFLNK, 0777, NULL, outside } };
        Blob b = make_blob(PLAIN, e, ELEMENTSOF(e));
        assert_int_equal(layer_unpack(b.fd, f->layers_fd, b.diff_id, b.diff_id, &size, NULL), 0);
        assert_int_equal(stat(outside, &after), 0);
        assert_int_equal(after.st_mode, before.st_mode);
        assert_int_equal(after.st_mtime, before.st_mtime);
        close(b.fd);
}

static void test_hostile_hardlink(void **state) {
        Fixture *f = *state;
        char target[128], outside[128];
        struct stat st;

        snprintf(target, sizeof(target), "%s/passwd-link", f->root);
        const TarEntry e[] = { { "passwd", 0, 0, NULL, "../../etc/passwd" } };
        unpack_hostile(f, e, ELEMENTSOF(e), target);

        const TarEntry e2[] = { { "passwd", 0, 0, NULL, "/etc/passwd" } };
        unpack_hostile(f, e2, ELEMENTSOF(e2), target);

        /* Through a symlink to a host file. */
        snprintf(outside, sizeof(outside), "%s/hostfile", f->root);
        int hfd = open(outside, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(hfd >= 0);
        assert_int_equal(loop_write(hfd, "host", 4), 0);
        close(hfd);
        const TarEntry e3[] = { { "dir", S_IFLNK, 0777, NULL, f->root }, { "stolen", 0, 0, NULL, "dir/hostfile" } };
        unpack_hostile(f, e3, ELEMENTSOF(e3), target);
        assert_int_equal(stat(outside, &st), 0);
        assert_int_equal(st.st_nlink, 1);
}

static void test_truncated(void **state) {
        Fixture *f = *state;
        static char big[64 * 1024];

        memset(big, 'z', sizeof(big) - 1);
        const TarEntry e[] = { { "a", S_IFREG, 0644, "hello" }, { "big", S_IFREG, 0644, big } };

        for (int filter = PLAIN; filter <= ZSTD; filter++) {
                Blob b = make_blob(filter, e, ELEMENTSOF(e));
                _cleanup_free_ char *error = NULL;

                assert_int_equal(ftruncate(b.fd, (off_t) (b.size / 2)), 0);
                assert_int_equal(layer_unpack(b.fd, f->layers_fd, b.diff_id, b.diff_id, NULL, &error), -EBADMSG);
                assert_non_null(error);
                assert_int_equal(count_entries(f->layers_fd), 0);
                close(b.fd);
        }

        /* Not an archive at all. */
        int fd = memfd_create("junk", MFD_CLOEXEC);
        _cleanup_free_ char *error = NULL;
        assert_int_equal(loop_write(fd, "definitely not a tar", 20), 0);
        const char *d = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        assert_int_equal(layer_unpack(fd, f->layers_fd, d, d, NULL, &error), -EBADMSG);
        assert_int_equal(count_entries(f->layers_fd), 0);
        close(fd);
}

/* A tar header claiming a regular file of @size bytes (GNU base-256 size
 * field), followed by no data: the limit must trip on the header alone. */
static void test_size_limit(void **state) {
        Fixture *f = *state;
        unsigned char tar[512 * 3] = {};
        uint64_t size = LAYER_MAX_UNPACKED_BYTES + 1;
        unsigned sum = 0;
        char digest[72];
        _cleanup_free_ char *error = NULL;

        strcpy((char *) tar, "huge");
        memcpy(tar + 100, "0000644", 8);
        memcpy(tar + 108, "0000000", 8);
        memcpy(tar + 116, "0000000", 8);
        tar[124] = 0x80;
        for (int i = 0; i < 8; i++)
                tar[135 - i] = (unsigned char) (size >> (8 * i));
        memcpy(tar + 136, "14000000000", 12);
        tar[156] = '0';
        memcpy(tar + 257, "ustar  ", 8);
        memset(tar + 148, ' ', 8);
        for (int i = 0; i < 512; i++)
                sum += tar[i];
        snprintf((char *) tar + 148, 8, "%06o", sum);

        int fd = memfd_create("huge", MFD_CLOEXEC);
        assert_int_equal(loop_write(fd, tar, sizeof(tar)), 0);
        assert_int_equal(sha256_digest(tar, sizeof(tar), digest), 0);
        assert_int_equal(layer_unpack(fd, f->layers_fd, digest, digest, NULL, &error), -EFBIG);
        print_message("refused as expected: %s\n", error);
        assert_non_null(strstr(error, "huge"));
        assert_int_equal(count_entries(f->layers_fd), 0);
        close(fd);
}

static void test_leftovers_and_existing(void **state) {
        Fixture *f = *state;
        Blob b = make_blob(PLAIN, good_layer, ELEMENTSOF(good_layer));
        const char *hex = b.diff_id + strlen("sha256:");
        char name[128];
        uint64_t size = 0;

        /* A temp dir of an earlier crash of the same chain goes away. */
        snprintf(name, sizeof(name), ".tmp-%s-abcdef", hex);
        assert_int_equal(mkdirat(f->layers_fd, name, 0700), 0);
        char inner[160];
        snprintf(inner, sizeof(inner), "%s/junk", name);
        assert_int_equal(mkdirat(f->layers_fd, inner, 0700), 0);

        /* Another chain's temp dir is not touched. */
        assert_int_equal(mkdirat(f->layers_fd, ".tmp-0000000000000000000000000000000000000000000000000000000000000000-abcdef", 0700), 0);

        assert_int_equal(layer_unpack_clean_leftovers(f->layers_fd, b.diff_id), 0);
        assert_int_equal(count_entries(f->layers_fd), 1);
        /* Without a chain: every temp dir, and nothing else. */
        assert_int_equal(mkdirat(f->layers_fd, "not-a-tmp", 0700), 0);
        assert_int_equal(layer_unpack_clean_leftovers(f->layers_fd, NULL), 0);
        assert_int_equal(count_entries(f->layers_fd), 1);
        assert_int_equal(unlinkat(f->layers_fd, "not-a-tmp", AT_REMOVEDIR), 0);

        assert_int_equal(layer_unpack(b.fd, f->layers_fd, b.diff_id, b.diff_id, &size, NULL), 0);
        assert_int_equal(size, GOOD_LAYER_SIZE);
        check_good_layer(f->layers_fd, b.diff_id);

        /* Unpacked again: the existing layer wins, ours is dropped. */
        char marker[160];
        snprintf(marker, sizeof(marker), "%s/marker", hex);
        assert_int_equal(mkdirat(f->layers_fd, marker, 0700), 0);
        assert_int_equal(layer_unpack(b.fd, f->layers_fd, b.diff_id, b.diff_id, &size, NULL), 0);
        assert_int_equal(count_entries(f->layers_fd), 1);
        struct stat st;
        assert_int_equal(fstatat(f->layers_fd, marker, &st, 0), 0);
        close(b.fd);
}

typedef struct AsyncReply {
        bool done;
        char *error;
        uint64_t size;
} AsyncReply;

static int on_async_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        AsyncReply *a = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        a->done = true;
        if (e)
                a->error = strdup(e->name);
        else
                assert_int_equal(sd_bus_message_read(m, "t", &a->size), 1);
        return 0;
}

static void test_link(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *worker = getenv("ZLAYER_ARCHIVE") ?: ZLAYER_ARCHIVE_PATH;
        Blob b = make_blob(ZSTD, good_layer, ELEMENTSOF(good_layer));
        int sv[2], status;
        uint64_t size = 0;
        pid_t pid;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (dup2(sv[1], LINK_FD) < 0)
                        _exit(126);
                execl(worker, worker, "--debug", (char *) NULL);
                _exit(127);
        }
        close(sv[1]);

        assert_int_equal(link_open_client(sv[0], NULL, &bus), 0);

        /* A temp dir left by an earlier crash of this chain's unpack. */
        char leftover[128];
        snprintf(leftover, sizeof(leftover), ".tmp-%s-123456", b.diff_id + strlen("sha256:"));
        assert_int_equal(mkdirat(f->layers_fd, leftover, 0700), 0);
        /* And one of another chain: with nothing running, the worker drops it too. */
        assert_int_equal(mkdirat(f->layers_fd, ".tmp-3333333333333333333333333333333333333333333333333333333333333333-654321", 0700), 0);

        /* Bad argument: InvalidArgs naming it. */
        assert_true(sd_bus_call_method(bus, NULL, ZL_WORKER_PATH, ZL_ARCHIVE_IFACE, "UnpackLayer", &error, NULL,
                                       "hhss", b.fd, f->layers_fd, "sha256:XYZ", b.diff_id) < 0);
        assert_string_equal(error.name, SD_BUS_ERROR_INVALID_ARGS);
        assert_non_null(strstr(error.message, "sha256:XYZ"));
        sd_bus_error_free(&error);
        assert_int_equal(count_entries(f->layers_fd), 2);

        /* Wrong digest: PullFailed. */
        const char *wrong = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
        assert_true(sd_bus_call_method(bus, NULL, ZL_WORKER_PATH, ZL_ARCHIVE_IFACE, "UnpackLayer", &error, NULL,
                                       "hhss", b.fd, f->layers_fd, b.diff_id, wrong) < 0);
        assert_string_equal(error.name, ZL_ERROR_PULL_FAILED);
        assert_non_null(strstr(error.message, wrong));
        assert_non_null(strstr(error.message, b.diff_id));
        sd_bus_error_free(&error);
        assert_int_equal(count_entries(f->layers_fd), 0);

        /* The real thing. */
        assert_int_equal(sd_bus_call_method(bus, NULL, ZL_WORKER_PATH, ZL_ARCHIVE_IFACE, "UnpackLayer", &error, &reply,
                                            "hhss", b.fd, f->layers_fd, b.diff_id, b.diff_id), 1);
        assert_int_equal(sd_bus_message_read(reply, "t", &size), 1);
        assert_int_equal(size, GOOD_LAYER_SIZE);
        check_good_layer(f->layers_fd, b.diff_id);

        /* Two at once: each runs in its own child of the worker. */
        const TarEntry other[] = { { "only-here", S_IFREG, 0600, "other layer" } };
        Blob b2 = make_blob(GZIP, other, ELEMENTSOF(other));
        AsyncReply r1 = {}, r2 = {};
        assert_true(sd_bus_call_method_async(bus, NULL, NULL, ZL_WORKER_PATH, ZL_ARCHIVE_IFACE, "UnpackLayer",
                                             on_async_reply, &r1, "hhss", b2.fd, f->layers_fd, b2.diff_id, b2.diff_id) >= 0);
        assert_true(sd_bus_call_method_async(bus, NULL, NULL, ZL_WORKER_PATH, ZL_ARCHIVE_IFACE, "UnpackLayer",
                                             on_async_reply, &r2, "hhss", b.fd, f->layers_fd, b.diff_id, b.diff_id) >= 0);
        while (!r1.done || !r2.done) {
                int k = sd_bus_process(bus, NULL);
                assert_true(k >= 0);
                if (k == 0)
                        assert_true(sd_bus_wait(bus, 10 * USEC_PER_SEC) > 0);
        }
        assert_null(r1.error);
        assert_int_equal(r1.size, strlen("other layer"));
        assert_null(r2.error);
        assert_int_equal(r2.size, GOOD_LAYER_SIZE);
        assert_int_equal(count_entries(f->layers_fd), 2);
        close(b2.fd);

        /* EOF on the link: the worker exits 0. */
        bus = sd_bus_flush_close_unref(bus);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        close(b.fd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_unpack_plain, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unpack_gzip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unpack_zstd, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wrong_diff_id, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unpack_stream, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unpack_stream_bad, setup, teardown),
                cmocka_unit_test_setup_teardown(test_invalid_args, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hostile_absolute, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hostile_dotdot, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hostile_symlink, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fixups_do_not_follow_symlinks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hostile_hardlink, setup, teardown),
                cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
                cmocka_unit_test_setup_teardown(test_size_limit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_leftovers_and_existing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_link, setup, teardown),
        };
        /* As zlayer-archive does: pax names are UTF-8. */
        assert_non_null(setlocale(LC_CTYPE, "C.UTF-8"));
        if (geteuid() != 0) {
                fprintf(stderr, "test-unpack needs root (owners, mknod, trusted.* xattrs)\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
