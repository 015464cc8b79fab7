/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake-cgroupfs.h"
#include "lib/fileio.h"
#include "lib/macro.h"

char fake_root[64];

int fake_cgroupfs_setup(void **state) {
        snprintf(fake_root, sizeof(fake_root), "/tmp/zl-fake-cgroupfs-XXXXXX");
        assert_non_null(mkdtemp(fake_root));
        return 0;
}

int fake_cgroupfs_teardown(void **state) {
        (void) rm_rf_at(AT_FDCWD, fake_root);
        return 0;
}

void fake_put(const char *rel, const char *content) {
        _cleanup_free_ char *p = NULL, *dir = NULL;
        assert_true(asprintf(&p, "%s/%s", fake_root, rel) > 0);
        dir = strdup(p);
        *strrchr(dir, '/') = '\0';
        assert_int_equal(mkdir_p_at(AT_FDCWD, dir, 0755), 0);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(loop_write(fd, content, strlen(content)), 0);
}

void fake_expect(const char *rel, const char *content) {
        _cleanup_free_ char *p = NULL, *s = NULL;
        assert_true(asprintf(&p, "%s/%s", fake_root, rel) > 0);
        if (read_file_at(AT_FDCWD, p, 4096, &s, NULL) < 0)
                fail_msg("missing %s", rel);
        assert_string_equal(s, content);
}

bool fake_exists(const char *rel) {
        _cleanup_free_ char *p = NULL;
        assert_true(asprintf(&p, "%s/%s", fake_root, rel) > 0);
        return access(p, F_OK) >= 0;
}
