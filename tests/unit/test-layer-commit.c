/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of workers/archive/layer-commit.c: an overlay-style upper dir
 * (file, symlink, whiteout, opaque dir, a hard-linked pair, user.* and
 * security.capability xattrs) committed, then unpacked again with
 * layer_unpack() — which checks the diff_id — gives the same tree back.
 * Runs as root (mknod, trusted.* xattrs). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "digest.h"
#include "fileio.h"
#include "layer-commit.h"
#include "layer-unpack.h"
#include "macro.h"

static char tmpl[] = "/tmp/zl-test-commit-XXXXXX";

static char upper_path[64];
static const char *tmpl_upper_path(void) {
        snprintf(upper_path, sizeof(upper_path), "%s/upper/hello.txt", tmpl);
        return upper_path;
}

static int make_upper(int dir) {
        assert_int_equal(mkdirat(dir, "upper", 0755), 0);
        _cleanup_close_ int u = openat(dir, "upper", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(u >= 0);
        assert_int_equal(write_file_atomic_at(u, "hello.txt", "hello\n", 6, 0640), 0);
        assert_int_equal(linkat(u, "hello.txt", u, "hello-link", 0), 0);
        assert_int_equal(setxattr(tmpl_upper_path(), "user.zl", "v1", 2, 0), 0);
        assert_int_equal(symlinkat("/etc/passwd", u, "link"), 0);
        assert_int_equal(mkdirat(u, "etc", 0755), 0);
        assert_int_equal(mknodat(u, "etc/hosts", S_IFCHR | 0000, makedev(0, 0)), 0);
        assert_int_equal(mkdirat(u, "opq", 0700), 0);
        assert_int_equal(mkdirat(u, "opq/sub", 0755), 0);
        {
                _cleanup_close_ int o = openat(u, "opq", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                assert_true(o >= 0);
                assert_int_equal(fsetxattr(o, "trusted.overlay.opaque", "y", 1, 0), 0);
                assert_int_equal(write_file_atomic_at(o, "new", "n", 1, 0644), 0);
        }
        return TAKE_FD(u);
}

static void test_commit_roundtrip(void **state) {
        _cleanup_free_ char *err = NULL, *content = NULL;
        _cleanup_close_ int dir = -1, upper = -1, out = -1, layers = -1, l = -1;
        char diff_id[72], digest[72], chain_path[80], target[64], v[4];
        uint64_t size = 0, unpacked = 0;
        struct stat st;
        ssize_t n;

        assert_non_null(mkdtemp(tmpl));
        dir = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dir >= 0);
        upper = make_upper(dir);
        out = openat(dir, "blob", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(out >= 0);

        assert_int_equal(layer_commit(upper, out, diff_id, digest, &size, &err), 0);
        assert_true(size > 0);
        assert_int_equal(fstat(out, &st), 0);
        assert_int_equal((uint64_t) st.st_size, size);
        assert_string_not_equal(digest, diff_id);

        /* the blob digest is the sha256 of the file */
        {
                _cleanup_free_ char *blob = NULL;
                size_t len;
                char d[72];
                assert_int_equal(read_file_at(dir, "blob", 1 << 20, &blob, &len), 0);
                assert_int_equal(sha256_digest(blob, len, d), 0);
                assert_string_equal(d, digest);
        }

        /* unpacking checks the diff_id and turns .wh. back into overlay form */
        assert_int_equal(mkdirat(dir, "layers", 0755), 0);
        layers = openat(dir, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(layers >= 0);
        assert_int_equal(lseek(out, 0, SEEK_SET), 0);
        assert_int_equal(layer_unpack(out, layers, diff_id, diff_id, &unpacked, &err), 0);
        snprintf(chain_path, sizeof(chain_path), "%s", diff_id + strlen("sha256:"));
        l = openat(layers, chain_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(l >= 0);

        assert_int_equal(read_file_at(l, "hello.txt", 100, &content, NULL), 0);
        assert_string_equal(content, "hello\n");
        assert_int_equal(fstatat(l, "hello.txt", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        /* the pair is one inode again, the data stored once, the xattr back */
        {
                struct stat st2;
                assert_int_equal(fstatat(l, "hello-link", &st2, AT_SYMLINK_NOFOLLOW), 0);
                assert_int_equal(st.st_ino, st2.st_ino);
                assert_int_equal(st.st_nlink, 2);
                assert_int_equal(unpacked, 6 + 1); /* hello\n once, opq/new */
                n = getxattr(tmpl_upper_path(), "user.zl", v, sizeof(v));
                assert_int_equal(n, 2);
                _cleanup_close_ int hf = openat(l, "hello-link", O_RDONLY | O_CLOEXEC);
                assert_true(hf >= 0);
                n = fgetxattr(hf, "user.zl", v, sizeof(v));
                assert_int_equal(n, 2);
                assert_memory_equal(v, "v1", 2);
        }
        n = readlinkat(l, "link", target, sizeof(target) - 1);
        assert_int_equal(n, (ssize_t) strlen("/etc/passwd"));
        target[n] = 0;
        assert_string_equal(target, "/etc/passwd");
        assert_int_equal(fstatat(l, "etc/hosts", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
        assert_int_equal(fstatat(l, "opq/new", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(fstatat(l, "opq/sub", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISDIR(st.st_mode));
        {
                _cleanup_close_ int o = openat(l, "opq", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                assert_true(o >= 0);
                n = fgetxattr(o, "trusted.overlay.opaque", v, sizeof(v));
                assert_int_equal(n, 1);
                assert_int_equal(v[0], 'y');
                assert_int_equal(fstat(o, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0700);
        }
        /* no .wh. file is left as such */
        assert_int_equal(fstatat(l, "etc/.wh.hosts", &st, AT_SYMLINK_NOFOLLOW), -1);
        assert_int_equal(fstatat(l, "opq/.wh..wh..opq", &st, AT_SYMLINK_NOFOLLOW), -1);

        /* the out file is truncated and written anew by a second commit */
        assert_int_equal(layer_commit(upper, out, diff_id, digest, &size, &err), 0);

        assert_int_equal(rm_rf_at(AT_FDCWD, tmpl), 0);
}

static void test_commit_bad_fds(void **state) {
        _cleanup_free_ char *err = NULL;
        char diff_id[72], digest[72];
        uint64_t size;
        assert_int_equal(layer_commit(-1, -1, diff_id, digest, &size, &err), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_commit_roundtrip),
                cmocka_unit_test(test_commit_bad_fds),
        };
        if (geteuid() != 0) {
                fprintf(stderr, "test-layer-commit needs root (mknod, trusted.* xattrs); skipping\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
