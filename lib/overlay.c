/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "macro.h"
#include "overlay.h"

static int set_string(int fsfd, const char *key, const char *value) {
        return fsconfig(fsfd, FSCONFIG_SET_STRING, key, value, 0) < 0 ? -errno : 0;
}

/* The legacy single "lowerdir": fsconfig() takes at most 255 bytes of a
 * value (a silent EINVAL beyond), too few for full layer paths, so each
 * layer goes in as an fd, /proc/self/fd/N, kept open in @fds until
 * FSCONFIG_CMD_CREATE. */
static int lowerdir_by_fd(char *const *lowers, int *fds, char **ret) {
        char buf[256] = "";
        size_t len = 0;

        for (size_t i = 0; lowers[i]; i++) {
                int n;

                fds[i] = open(lowers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fds[i] < 0)
                        return -errno;
                n = snprintf(buf + len, sizeof(buf) - len, "%s/proc/self/fd/%d", i > 0 ? ":" : "", fds[i]);
                if (n < 0 || (size_t) n >= sizeof(buf) - len)
                        return -E2BIG; /* about 14 layers on a kernel without lowerdir+ */
                len += n;
        }
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

static int try_create(char *const *lowers, const char *upper, const char *work, bool append) {
        _cleanup_close_ int fsfd = -1;
        _cleanup_free_ int *fds = NULL;
        _cleanup_free_ char *joined = NULL;
        size_t n = strv_length(lowers);
        int r = 0;

        fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return -errno;
        if (append)
                for (size_t i = 0; r >= 0 && lowers[i]; i++)
                        r = set_string(fsfd, "lowerdir+", lowers[i]);
        else {
                fds = malloc(n * sizeof(int));
                if (!fds)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++)
                        fds[i] = -1;
                r = lowerdir_by_fd(lowers, fds, &joined);
                if (r >= 0)
                        r = set_string(fsfd, "lowerdir", joined);
        }
        if (r >= 0)
                r = set_string(fsfd, "upperdir", upper);
        if (r >= 0)
                r = set_string(fsfd, "workdir", work);
        if (r >= 0 && fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                r = -errno;
        for (size_t i = 0; fds && i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        return r < 0 ? r : TAKE_FD(fsfd);
}

int overlay_fs_create(char *const *lowers, const char *upper, const char *work) {
        int r;

        if (!lowers || !lowers[0])
                return -EINVAL;
        r = try_create(lowers, upper, work, true);
        if (r == -EINVAL)
                r = try_create(lowers, upper, work, false);
        return r;
}
