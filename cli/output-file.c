/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* -o FILE is written whole or not at all: a temp file next to it, renamed
 * over it once complete, removed on failure. */
#include <fcntl.h>
#include <sys/stat.h>

#include "zlayerctl.h"

int output_file_open(const char *path, char **ret_tmp) {
        _cleanup_free_ char *tmp = NULL;
        int fd;

        if (asprintf(&tmp, "%s.zlayerctl-XXXXXX", path) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        (void) fchmod(fd, 0644);
        *ret_tmp = TAKE_PTR(tmp);
        return fd;
}

int output_file_finish(int fd, const char *tmp, const char *path, bool ok) {
        int r = 0;

        if (ok && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (ok && r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (!ok || r < 0)
                (void) unlink(tmp);
        return r;
}
