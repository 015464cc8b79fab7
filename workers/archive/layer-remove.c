/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "ids.h"
#include "layer-remove.h"
#include "log.h"
#include "macro.h"

/* Deeper trees are still removed (rm_rf_at), only not counted. */
#define COUNT_DEPTH_MAX 256

static uint64_t count_regular_bytes(int dir_fd, dev_t dev, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        uint64_t total = 0;
        int fd;

        if (depth > COUNT_DEPTH_MAX)
                return 0;
        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return 0;
        }
        while ((de = readdir(d))) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISREG(st.st_mode))
                        total += (uint64_t) st.st_size;
                else if (S_ISDIR(st.st_mode) && st.st_dev == dev) {
                        _cleanup_close_ int sub = openat(dirfd(d), de->d_name,
                                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0)
                                total += count_regular_bytes(sub, dev, depth + 1);
                }
        }
        return total;
}

int layer_remove(int layers_dir_fd, const char *chain_id, uint64_t *ret_size) {
        char tmp[strlen(".tmp-") + 64 + strlen("-removing") + 1];
        const char *hex;
        struct stat st;
        uint64_t size;
        int r;

        if (!digest_is_valid(chain_id))
                return -EINVAL;
        hex = chain_id + strlen("sha256:");
        snprintf(tmp, sizeof(tmp), ".tmp-%s-removing", hex);

        if (fstatat(layers_dir_fd, hex, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return -errno;
                /* A removal that crashed mid-way: finish it. */
                r = rm_rf_at(layers_dir_fd, tmp);
                if (r < 0)
                        return r;
                *ret_size = 0;
                return 0;
        }
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;

        (void) rm_rf_at(layers_dir_fd, tmp);
        if (renameat(layers_dir_fd, hex, layers_dir_fd, tmp) < 0)
                return -errno;

        {
                _cleanup_close_ int fd = openat(layers_dir_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                size = fd >= 0 ? count_regular_bytes(fd, st.st_dev, 0) : 0;
        }
        r = rm_rf_at(layers_dir_fd, tmp);
        if (r < 0)
                return r;
        *ret_size = size;
        return 0;
}
