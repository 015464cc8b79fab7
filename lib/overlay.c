/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "macro.h"
#include "overlay.h"

static int set_string(int fsfd, const char *key, const char *value) {
        return fsconfig(fsfd, FSCONFIG_SET_STRING, key, value, 0) < 0 ? -errno : 0;
}

static int lowerdir_joined(char *const *lowers, char **ret) {
        size_t n = 1;
        char *s, *p;

        for (size_t i = 0; lowers[i]; i++) {
                /* ':' separates layers in the legacy option */
                if (strchr(lowers[i], ':'))
                        return -EINVAL;
                n += strlen(lowers[i]) + 1;
        }
        s = p = malloc(n);
        if (!s)
                return -ENOMEM;
        *p = '\0';
        for (size_t i = 0; lowers[i]; i++)
                p = stpcpy(stpcpy(p, i > 0 ? ":" : ""), lowers[i]);
        *ret = s;
        return 0;
}

static int try_create(char *const *lowers, const char *upper, const char *work, bool append) {
        _cleanup_close_ int fsfd = -1;
        int r;

        fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return -errno;
        if (append) {
                for (size_t i = 0; lowers[i]; i++)
                        if ((r = set_string(fsfd, "lowerdir+", lowers[i])) < 0)
                                return r;
        } else {
                _cleanup_free_ char *joined = NULL;
                if ((r = lowerdir_joined(lowers, &joined)) < 0 ||
                    (r = set_string(fsfd, "lowerdir", joined)) < 0)
                        return r;
        }
        if ((r = set_string(fsfd, "upperdir", upper)) < 0 ||
            (r = set_string(fsfd, "workdir", work)) < 0)
                return r;
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        return TAKE_FD(fsfd);
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
