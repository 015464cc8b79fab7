/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of workers/archive/container-archive.c: the path helpers, and
 * Get/Put/Export on a temp dir standing in for a container root, with
 * hostile tars. Runs as root (owners). */
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "container-archive.h"
#include "fileio.h"
#include "macro.h"

typedef struct Ent {
        const char *path;
        mode_t type;            /* S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR; 0 = hard link */
        mode_t perm;
        const char *data;
        const char *link;
} Ent;

/* A memfd holding a tar of @e; its offset at 0. */
static int make_tar(const Ent *e, size_t n) {
        struct archive *a = archive_write_new();
        int fd = memfd_create("tar", MFD_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
        assert_int_equal(archive_write_open_fd(a, fd), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *ae = archive_entry_new();
                archive_entry_set_pathname(ae, e[i].path);
                archive_entry_set_mtime(ae, 1700000000, 0);
                if (e[i].type == 0) {
                        archive_entry_set_filetype(ae, AE_IFREG);
                        archive_entry_set_hardlink(ae, e[i].link);
                } else {
                        archive_entry_set_filetype(ae, e[i].type);
                        if (e[i].type == S_IFLNK)
                                archive_entry_set_symlink(ae, e[i].link);
                        if (e[i].type == S_IFCHR)
                                archive_entry_set_rdev(ae, makedev(1, 3));
                }
                archive_entry_set_perm(ae, e[i].perm ?: 0644);
                archive_entry_set_uid(ae, 1234);
                archive_entry_set_gid(ae, 99);
                if (e[i].type == S_IFREG && e[i].data)
                        archive_entry_set_size(ae, (la_int64_t) strlen(e[i].data));
                assert_true(archive_write_header(a, ae) >= ARCHIVE_WARN);
                if (e[i].type == S_IFREG && e[i].data)
                        assert_int_equal(archive_write_data(a, e[i].data, strlen(e[i].data)), (la_ssize_t) strlen(e[i].data));
                archive_entry_free(ae);
        }
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

/* A fake host: <tmp>/outside (canary) and <tmp>/root (the container). */
static char top[64];
static int root_fd = -1;

static int setup(void **state) {
        char p[128];

        snprintf(top, sizeof(top), "/tmp/test-carchive-XXXXXX");
        assert_non_null(mkdtemp(top));
        snprintf(p, sizeof(p), "%s/outside", top);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/outside/victim", top);
        {
                _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                assert_true(fd >= 0);
                assert_int_equal(write(fd, "orig", 4), 4);
        }
        snprintf(p, sizeof(p), "%s/root", top);
        assert_int_equal(mkdir(p, 0755), 0);
        root_fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(root_fd >= 0);
        assert_int_equal(mkdirat(root_fd, "tmp", 0755) == 0 || errno == EEXIST, 1);
        return 0;
}

static int teardown(void **state) {
        close(root_fd);
        assert_int_equal(rm_rf_at(AT_FDCWD, top), 0);
        return 0;
}

static void assert_outside_untouched(void) {
        char p[128], *text = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        struct stat st;
        unsigned n = 0;

        snprintf(p, sizeof(p), "%s/outside/victim", top);
        assert_int_equal(read_file_at(AT_FDCWD, p, 100, &text, NULL), 0);
        assert_string_equal(text, "orig");
        free(text);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_nlink, 1);
        snprintf(p, sizeof(p), "%s/outside", top);
        d = opendir(p);
        while ((de = readdir(d)))
                n++;
        assert_int_equal(n, 3); /* . .. victim */
        snprintf(p, sizeof(p), "%s", top);
        d = (closedir(d), opendir(p));
        n = 0;
        while ((de = readdir(d)))
                n++;
        assert_int_equal(n, 4); /* . .. outside root */
}

static CArchivePutOptions opts(void) {
        return (CArchivePutOptions) { .max_entries = 1000, .max_bytes = 1 << 20 };
}

static int put(const char *dest, const Ent *e, size_t n, const CArchivePutOptions *o, char **err) {
        _cleanup_close_ int fd = make_tar(e, n);
        return carchive_put(root_fd, dest, fd, o, err);
}

static void test_clean_path(void **state) {
        char *s = NULL;

        assert_int_equal(carchive_clean_path("a//b/./c/", false, &s), 0);
        assert_string_equal(s, "a/b/c");
        free(s);
        assert_int_equal(carchive_clean_path("./", false, &s), 0);
        assert_string_equal(s, ".");
        free(s);
        assert_int_equal(carchive_clean_path("/etc/./passwd", true, &s), 0);
        assert_string_equal(s, "etc/passwd");
        free(s);
        assert_int_equal(carchive_clean_path("/", true, &s), 0);
        assert_string_equal(s, ".");
        free(s);
        assert_int_equal(carchive_clean_path("/etc", false, &s), -EINVAL);
        assert_int_equal(carchive_clean_path("a/../b", true, &s), -EINVAL);
        assert_int_equal(carchive_clean_path("..", true, &s), -EINVAL);
        assert_int_equal(carchive_clean_path("a/..", true, &s), -EINVAL);
        /* ".." only as a whole component */
        assert_int_equal(carchive_clean_path("a/..b/c..", false, &s), 0);
        assert_string_equal(s, "a/..b/c..");
        free(s);
}

static void test_split(void **state) {
        char *p = NULL, *b = NULL;

        assert_int_equal(carchive_split("a/b/c", &p, &b), 0);
        assert_string_equal(p, "a/b");
        assert_string_equal(b, "c");
        free(p), free(b);
        assert_int_equal(carchive_split("c", &p, &b), 0);
        assert_string_equal(p, ".");
        assert_string_equal(b, "c");
        free(p), free(b);
}

static void test_resolve_in_root(void **state) {
        CArchiveStat st;
        char p[128];

        /* /tmp/up → "/" of the container, not of the host */
        assert_int_equal(symlinkat("../../../../..", root_fd, "tmp/up"), 0);
        snprintf(p, sizeof(p), "%s", top);
        assert_int_equal(symlinkat(p, root_fd, "tmp/abs"), 0);
        assert_int_equal(carchive_stat(root_fd, "/tmp/up/tmp/up", &st), 0);
        assert_true(S_ISLNK(st.mode));
        assert_string_equal(st.name, "up");
        assert_string_equal(st.link_target, "../../../../..");
        assert_int_equal(carchive_stat(root_fd, "/tmp/up/", &st), 0);
        assert_true(S_ISDIR(st.mode));
        /* the host's <top>/outside does not exist in the container */
        assert_int_equal(carchive_stat(root_fd, "/tmp/abs/outside/victim", &st), -ENOENT);
        assert_int_equal(carchive_stat(root_fd, "/tmp/up/../../x", &st), -EINVAL);
        assert_int_equal(unlinkat(root_fd, "tmp/up", 0), 0);
        assert_int_equal(unlinkat(root_fd, "tmp/abs", 0), 0);
}

static void test_put_get_roundtrip(void **state) {
        const Ent e[] = {
                { "d/", S_IFDIR, 0750, NULL, NULL },
                { "d/f", S_IFREG, 0640, "hello", NULL },
                { "d/l", S_IFLNK, 0777, NULL, "/etc/passwd" },
                { "d/h", 0, 0, NULL, "d/f" },
                { "deep/er/file", S_IFREG, 0600, "x", NULL },
        };
        CArchivePutOptions o = opts();
        char *err = NULL;
        CArchiveStat st;
        struct stat s;
        int pipefd[2];

        assert_int_equal(put("/tmp", e, ELEMENTSOF(e), &o, &err), 0);
        assert_null(err);
        assert_int_equal(fstatat(root_fd, "tmp/d/f", &s, 0), 0);
        assert_int_equal(s.st_uid, 0);
        assert_int_equal(s.st_mode & 07777, 0640);
        assert_int_equal(s.st_nlink, 2);
        assert_int_equal(fstatat(root_fd, "tmp/deep/er/file", &s, 0), 0);
        assert_int_equal(carchive_stat(root_fd, "/tmp/d/f", &st), 0);
        assert_int_equal(st.size, 5);
        assert_int_equal(st.mode, S_IFREG | 0640);
        assert_string_equal(st.mtime, "2023-11-14T22:13:20.000000000Z");

        o.copy_uid_gid = true;
        if (put("/tmp", e, ELEMENTSOF(e), &o, &err) < 0)
                fail_msg("second put: %s", err);
        assert_int_equal(fstatat(root_fd, "tmp/d/f", &s, 0), 0);
        assert_int_equal(s.st_uid, 1234);
        assert_int_equal(s.st_gid, 99);

        /* Get of the directory: top entry d/ and below */
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        assert_int_equal(carchive_get(root_fd, "/tmp/d/.", pipefd[1], &err), 0);
        close(pipefd[1]);
        {
                struct archive *a = archive_read_new();
                struct archive_entry *ae;
                char names[256] = "";
                archive_read_support_format_tar(a);
                assert_int_equal(archive_read_open_fd(a, pipefd[0], 4096), ARCHIVE_OK);
                while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
                        strcat(names, archive_entry_pathname(ae));
                        strcat(names, " ");
                }
                archive_read_free(a);
                /* f and h are one inode: one of them is a hard link entry */
                assert_non_null(strstr(names, "f "));
                assert_non_null(strstr(names, "l "));
                assert_non_null(strstr(names, "h "));
                assert_null(strstr(names, "d/"));
        }
        close(pipefd[0]);
        assert_outside_untouched();
}

static void expect_refused(const char *what, const Ent *e, size_t n, int want, const char *word) {
        CArchivePutOptions o = opts();
        char *err = NULL;
        int r = put("/tmp", e, n, &o, &err);

        print_message("%s: %d %s\n", what, r, strempty(err));
        assert_int_equal(r, want);
        assert_non_null(err);
        assert_non_null(strstr(err, word));
        free(err);
        assert_outside_untouched();
}

static void test_put_hostile(void **state) {
        char abs[128], dotdot[160], victim[128];

        snprintf(abs, sizeof(abs), "%s/outside/pwned", top);
        snprintf(dotdot, sizeof(dotdot), "../../../../../..%s/outside/pwned", top);
        snprintf(victim, sizeof(victim), "%s/outside/victim", top);
        expect_refused("absolute", (Ent[]) { { abs, S_IFREG, 0644, "x", NULL } }, 1, -EINVAL, "absolute");
        expect_refused("dotdot", (Ent[]) { { dotdot, S_IFREG, 0644, "x", NULL } }, 1, -EINVAL, "..");
        expect_refused("hardlink abs", (Ent[]) { { "hl", 0, 0, NULL, victim } }, 1, -EINVAL, "hl");
        expect_refused("hardlink dotdot", (Ent[]) { { "hl", 0, 0, NULL, dotdot } }, 1, -EINVAL, "hl");
        expect_refused("device", (Ent[]) { { "null", S_IFCHR, 0666, NULL, NULL } }, 1, -EINVAL, "device node null");
        expect_refused("setuid", (Ent[]) { { "su", S_IFREG, 04755, "x", NULL } }, 1, -EINVAL, "setuid");
        expect_refused("setgid dir", (Ent[]) { { "sg", S_IFDIR, 02755, NULL, NULL } }, 1, -EINVAL, "setgid");
        /* a symlink to the host path, then a file through it: the path is
         * resolved in the container, where it does not exist */
        snprintf(abs, sizeof(abs), "%s/outside", top);
        expect_refused("symlink then file",
                       (Ent[]) { { "esc", S_IFLNK, 0777, NULL, abs }, { "esc/pwned", S_IFREG, 0644, "x", NULL } }, 2,
                       -ENOENT, "esc/pwned");
        /* a hard link through a symlink leading up: stays in the root */
        {
                const Ent e[] = { { "up", S_IFLNK, 0777, NULL, "../../../.." },
                                  { "up/tmp/contained", S_IFREG, 0644, "in", NULL } };
                CArchivePutOptions o = opts();
                char *err = NULL;
                struct stat s;
                assert_int_equal(put("/tmp", e, 2, &o, &err), 0);
                assert_int_equal(fstatat(root_fd, "tmp/contained", &s, 0), 0);
                assert_outside_untouched();
        }
        assert_int_equal(faccessat(root_fd, "tmp/null", F_OK, AT_SYMLINK_NOFOLLOW), -1);
        assert_int_equal(faccessat(root_fd, "tmp/su", F_OK, AT_SYMLINK_NOFOLLOW), -1);
}

static void test_put_limits(void **state) {
        Ent many[20];
        char names[20][16];
        CArchivePutOptions o = opts();
        char *err = NULL;
        static char big[4096];

        for (size_t i = 0; i < ELEMENTSOF(many); i++) {
                snprintf(names[i], sizeof(names[i]), "m%zu", i);
                many[i] = (Ent) { names[i], S_IFREG, 0644, "", NULL };
        }
        o.max_entries = 10;
        assert_int_equal(put("/tmp", many, ELEMENTSOF(many), &o, &err), -E2BIG);
        assert_non_null(strstr(err, "more than 10 entries"));
        free(err), err = NULL;

        memset(big, 'z', sizeof(big) - 1);
        o = opts();
        o.max_bytes = 1000;
        assert_int_equal(put("/tmp", (Ent[]) { { "big", S_IFREG, 0644, big, NULL } }, 1, &o, &err), -EFBIG);
        assert_non_null(strstr(err, "limit of 1000 bytes"));
        free(err), err = NULL;
        assert_outside_untouched();
}

static void test_put_truncated(void **state) {
        static char big[100000];
        CArchivePutOptions o = opts();
        _cleanup_close_ int fd = -1;
        char *err = NULL;

        memset(big, 'z', sizeof(big) - 1);
        fd = make_tar((Ent[]) { { "big", S_IFREG, 0644, big, NULL } }, 1);
        assert_int_equal(ftruncate(fd, 30000), 0);
        assert_int_equal(carchive_put(root_fd, "/tmp", fd, &o, &err), -EBADMSG);
        print_message("truncated: %s\n", err);
        assert_non_null(strstr(err, "big"));
        free(err);
}

static void test_put_dest_checks(void **state) {
        CArchivePutOptions o = opts();
        const Ent e[] = { { "f", S_IFREG, 0644, "x", NULL } };
        char *err = NULL;

        assert_int_equal(put("/nope", e, 1, &o, &err), -ENOENT);
        assert_non_null(strstr(err, "/nope"));
        free(err), err = NULL;
        assert_int_equal(put("/tmp/contained", e, 1, &o, &err), -ENOTDIR);
        assert_non_null(strstr(err, "not a directory"));
        free(err), err = NULL;

        /* no_overwrite_dir_non_dir: a dir does not become a file */
        assert_int_equal(put("/tmp", (Ent[]) { { "dd/", S_IFDIR, 0755, NULL, NULL } }, 1, &o, &err), 0);
        o.no_overwrite_dir_non_dir = true;
        assert_int_equal(put("/tmp", (Ent[]) { { "dd", S_IFREG, 0644, "x", NULL } }, 1, &o, &err), -EEXIST);
        free(err), err = NULL;
        o.no_overwrite_dir_non_dir = false;
        assert_int_equal(put("/tmp", (Ent[]) { { "dd", S_IFREG, 0644, "x", NULL } }, 1, &o, &err), 0);
}

static void test_resolve_user(void **state) {
        uid_t u;
        gid_t g;

        assert_int_equal(mkdirat(root_fd, "etc", 0755) == 0 || errno == EEXIST, 1);
        {
                _cleanup_close_ int etc = openat(root_fd, "etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                const char *pw = "root:x:0:0::/root:/bin/sh\nwww:x:33:34::/var/www:/bin/false\n";
                const char *gr = "root:x:0:\nstaff:x:50:\n";
                assert_int_equal(write_file_atomic_at(etc, "passwd", pw, strlen(pw), 0644), 0);
                assert_int_equal(write_file_atomic_at(etc, "group", gr, strlen(gr), 0644), 0);
        }
        assert_int_equal(carchive_resolve_user(root_fd, "", &u, &g), 0);
        assert_int_equal(u, 0);
        assert_int_equal(carchive_resolve_user(root_fd, "www", &u, &g), 0);
        assert_int_equal(u, 33);
        assert_int_equal(g, 34);
        assert_int_equal(carchive_resolve_user(root_fd, "www:staff", &u, &g), 0);
        assert_int_equal(g, 50);
        assert_int_equal(carchive_resolve_user(root_fd, "1000:7", &u, &g), 0);
        assert_int_equal(u, 1000);
        assert_int_equal(g, 7);
        assert_int_equal(carchive_resolve_user(root_fd, "nobody-here", &u, &g), -ESRCH);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_clean_path),
                cmocka_unit_test(test_split),
                cmocka_unit_test(test_resolve_in_root),
                cmocka_unit_test(test_put_get_roundtrip),
                cmocka_unit_test(test_put_hostile),
                cmocka_unit_test(test_put_limits),
                cmocka_unit_test(test_put_truncated),
                cmocka_unit_test(test_put_dest_checks),
                cmocka_unit_test(test_resolve_user),
        };
        if (geteuid() != 0) {
                print_message("needs root (file owners)\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, setup, teardown);
}
