/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "logrotate.h"
#include "macro.h"

static void file_name(char *buf, size_t size, const char *name, unsigned i) {
        if (i == 0)
                snprintf(buf, size, "%s", name);
        else
                snprintf(buf, size, "%s.%u", name, i);
}

int logrotate_shift(int dir_fd, const char *name, unsigned max_files) {
        char from[PATH_MAX], to[PATH_MAX];

        if (dir_fd < 0 || !name || max_files > LOGROTATE_FILES_MAX)
                return -EINVAL;
        if (max_files <= 1) {
                if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
                        return -errno;
                return 0;
        }
        /* the oldest kept one is overwritten by the rename below */
        for (unsigned i = max_files - 1; i > 0; i--) {
                file_name(from, sizeof(from), name, i - 1);
                file_name(to, sizeof(to), name, i);
                if (renameat(dir_fd, from, dir_fd, to) < 0 && errno != ENOENT)
                        return -errno;
        }
        return 0;
}

int logrotate_open(LogRotate *l) {
        struct stat st;
        int fd;

        fd = openat(l->dir_fd, l->name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
        if (fd < 0)
                return -errno;
        /* readable by the unprivileged broker through its group */
        if (fchown(fd, 0, l->gid) < 0 || fchmod(fd, 0640) < 0 || fstat(fd, &st) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        l->fd = fd;
        l->size = (uint64_t) st.st_size;
        return 0;
}

int logrotate_prepare(LogRotate *l, size_t n) {
        int r;

        if (l->max_size == 0 || l->size == 0 || l->size + n <= l->max_size)
                return 0;
        r = logrotate_shift(l->dir_fd, l->name, l->max_files);
        if (r < 0)
                return r;
        /* keep writing to the old file until a new one is open */
        int old = l->fd;
        r = logrotate_open(l);
        if (r < 0)
                return r;
        close(old);
        return 1;
}

int logrotate_flush(LogRotate *l) {
        struct stat st;
        int r;

        if (l->batch_len == 0)
                return 0;
        r = loop_write(l->fd, l->batch, l->batch_len);
        if (r >= 0)
                l->size += l->batch_len;
        else {
                log_warning_errno(r, "Failed to write %zu bytes to %s: %m", l->batch_len, l->name);
                /* part of it may have landed */
                if (fstat(l->fd, &st) >= 0)
                        l->size = (uint64_t) st.st_size;
        }
        l->batch_len = 0;
        return r;
}

int logrotate_reserve(LogRotate *l, size_t n, char **ret) {
        uint64_t pending = l->size + l->batch_len;

        if (l->max_size > 0 && pending > 0 && pending + n > l->max_size) {
                (void) logrotate_flush(l);
                int r = logrotate_prepare(l, n);
                if (r < 0) {
                        log_warning_errno(r, "Failed to rotate %s, no longer rotating it: %m", l->name);
                        l->max_size = 0;
                }
        } else if (l->batch_len > 0 && l->batch_len + n > LOGROTATE_BATCH_MAX)
                (void) logrotate_flush(l);

        if (l->batch_len + n > l->batch_alloc) {
                size_t want = MAX(l->batch_len + n, MIN(2 * l->batch_alloc + 4096, (size_t) LOGROTATE_BATCH_MAX));
                char *grown = realloc(l->batch, want);
                if (!grown)
                        return -ENOMEM;
                l->batch = grown;
                l->batch_alloc = want;
        }
        *ret = l->batch + l->batch_len;
        return 0;
}

void logrotate_commit(LogRotate *l, size_t n) {
        l->batch_len = MIN(l->batch_len + n, l->batch_alloc);
}

void logrotate_close(LogRotate *l) {
        if (l->fd >= 0) {
                (void) logrotate_flush(l);
                close(l->fd);
        }
        l->fd = -1;
        free(l->batch);
        l->batch = NULL;
        l->batch_len = l->batch_alloc = 0;
}

static int open_ro(int dir_fd, const char *path) {
        return openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
}

int logrotate_open_all(int dir_fd, const char *name, int **ret_fds, size_t *ret_n) {
        int fds[LOGROTATE_FILES_MAX + 1];
        struct stat seen[LOGROTATE_FILES_MAX + 1];
        size_t n = 0;
        char p[PATH_MAX];
        int r;

        /* newest first, so that a rotation meanwhile shows up as a file
         * already seen (skipped), never as a gap between two files */
        for (unsigned i = 0; i <= LOGROTATE_FILES_MAX; i++) {
                struct stat st;
                bool dup = false;
                int fd;

                file_name(p, sizeof(p), name, i);
                fd = open_ro(dir_fd, p);
                if (fd < 0) {
                        if (errno == ENOENT && i == 0)
                                continue; /* not written yet, or rotated this instant */
                        if (errno == ENOENT)
                                break;
                        r = -errno;
                        goto fail;
                }
                if (fstat(fd, &st) < 0) {
                        r = -errno;
                        close(fd);
                        goto fail;
                }
                for (size_t k = 0; k < n; k++)
                        dup = dup || (seen[k].st_ino == st.st_ino && seen[k].st_dev == st.st_dev);
                if (dup) {
                        close(fd);
                        continue;
                }
                seen[n] = st;
                fds[n++] = fd;
        }
        int *out = malloc(MAX(n, (size_t) 1) * sizeof(int));
        if (!out) {
                r = -ENOMEM;
                goto fail;
        }
        for (size_t k = 0; k < n; k++)
                out[k] = fds[n - 1 - k];
        *ret_fds = out;
        *ret_n = n;
        return 0;
fail:
        for (size_t k = 0; k < n; k++)
                close(fds[k]);
        return r;
}

int logrotate_open_next(int dir_fd, const char *name, int fd, int *ret_fd) {
        struct stat cur, st, prev = {}, want;
        char p[PATH_MAX];
        int found = -1, last = -1;

        *ret_fd = -1;
        if (fstat(fd, &cur) < 0)
                return -errno;
        for (unsigned i = 0; i <= LOGROTATE_FILES_MAX; i++) {
                file_name(p, sizeof(p), name, i);
                if (fstatat(dir_fd, p, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT)
                                return -errno;
                        if (i == 0)
                                continue;
                        break;
                }
                if (st.st_ino == cur.st_ino && st.st_dev == cur.st_dev) {
                        found = (int) i;
                        break;
                }
                last = (int) i;
                prev = st;
        }
        if (found == 0)
                return 0; /* still the current file */
        /* the one just newer than ours, or (ours dropped, or none held)
         * the oldest: both are the last one seen before stopping */
        if (last < 0)
                return 0;
        file_name(p, sizeof(p), name, (unsigned) last);
        int nfd = open_ro(dir_fd, p);
        if (nfd < 0)
                return errno == ENOENT ? 0 : -errno; /* rotated meanwhile: next time */
        if (fstat(nfd, &want) < 0 || want.st_ino != prev.st_ino || want.st_dev != prev.st_dev) {
                close(nfd); /* rotated meanwhile: next time */
                return 0;
        }
        *ret_fd = nfd;
        return 1;
}
