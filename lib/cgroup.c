/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>

#include "cgroup.h"
#include "fileio.h"
#include "ids.h"
#include "macro.h"

int cgroup_detect_version(const char *root, CgroupVersion *ret) {
        struct statfs fs;

        if (statfs(root ?: CGROUP_DEFAULT_ROOT, &fs) < 0)
                return -errno;
        /* Hybrid hosts mount tmpfs at the root with v1 controllers below it
         * and an (unused) cgroup2 at unified/: those are v1. */
        *ret = fs.f_type == CGROUP2_SUPER_MAGIC ? CGROUP_V2 : CGROUP_V1;
        return 0;
}

int cgroup_driver_new(const char *root, CgroupVersion version, CgroupDriver **ret) {
        CgroupDriver *d;

        if (version != CGROUP_V1 && version != CGROUP_V2)
                return -EINVAL;
        root = root ?: CGROUP_DEFAULT_ROOT;
        if (root[0] != '/')
                return -EINVAL;
        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->root = strdup(root);
        if (!d->root) {
                free(d);
                return -ENOMEM;
        }
        d->version = version;
        d->ops = version == CGROUP_V2 ? &cgroup_v2_ops : &cgroup_v1_ops;
        *ret = d;
        return 0;
}

int cgroup_driver_new_detect(const char *root, CgroupDriver **ret) {
        CgroupVersion v;
        int r = cgroup_detect_version(root, &v);
        if (r < 0)
                return r;
        return cgroup_driver_new(root, v, ret);
}

CgroupDriver *cgroup_driver_free(CgroupDriver *d) {
        if (d) {
                free(d->root);
                free(d);
        }
        return NULL;
}

int cgroup_container_path(const char *id, char **ret) {
        if (!container_id_is_valid(id) || streq(id, "shims"))
                return -EINVAL;
        return asprintf(ret, "zlayer/%s", id) < 0 ? -ENOMEM : 0;
}

uint64_t cgroup_shares_to_weight(uint64_t shares) {
        if (shares == 0)
                return 0;
        if (shares < 2)
                shares = 2;
        if (shares > 262144)
                shares = 262144;
        return 1 + ((shares - 2) * 9999) / 262142;
}

int cgroup_write_file(const char *dir, const char *file, const char *value) {
        _cleanup_free_ char *p = NULL;
        _cleanup_close_ int fd = -1;
        int flags = O_WRONLY | O_CLOEXEC | O_NOCTTY;
        struct statfs fs;

        if (asprintf(&p, "%s/%s", dir, file) < 0)
                return -ENOMEM;
        /* Real cgroupfs files exist (or the controller is missing: ENOENT);
         * only in a fake tree on a regular file system do we create them. */
        if (statfs(dir, &fs) >= 0 && fs.f_type != CGROUP_SUPER_MAGIC && fs.f_type != CGROUP2_SUPER_MAGIC)
                flags |= O_CREAT | O_TRUNC;
        fd = open(p, flags, 0644);
        if (fd < 0)
                return -errno;
        /* cgroupfs takes one value per write() */
        if (write(fd, value, strlen(value)) < 0)
                return -errno;
        return 0;
}

int cgroup_read_file(const char *dir, const char *file, char **ret) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *p = NULL;
        char *s;
        size_t n;
        int r;

        if (asprintf(&p, "%s/%s", dir, file) < 0)
                return -ENOMEM;
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = read_fd_full(fd, 1024 * 1024, &s, &n);
        if (r < 0)
                return r;
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
                s[--n] = '\0';
        *ret = s;
        return 0;
}

bool cgroup_file_exists(const char *dir, const char *file) {
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, file) < 0)
                return false;
        return access(p, F_OK) >= 0;
}

int cgroup_mkdir_p(const char *base, const char *path) {
        _cleanup_close_ int fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return mkdir_p_at(fd, path, 0755);
}

int cgroup_rmdir_path(const char *base, const char *path) {
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s/%s", base, path) < 0)
                return -ENOMEM;
        /* A cgroup whose last task just exited stays busy for a moment. */
        for (int i = 0; i < 50; i++) {
                if (rmdir(p) >= 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        return -errno;
                nanosleep(&(struct timespec) { .tv_nsec = 10 * 1000 * 1000 }, NULL);
        }
        return -EBUSY;
}

int cgroup_read_keyed(const char *dir, const char *file, const char *key, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        size_t klen = strlen(key);
        int r;

        r = cgroup_read_file(dir, file, &s);
        if (r < 0)
                return r;
        for (char *line = s; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                if (strneq(line, key, klen) && line[klen] == ' ') {
                        char *end;
                        errno = 0;
                        unsigned long long v = strtoull(line + klen + 1, &end, 10);
                        if (errno != 0 || end == line + klen + 1)
                                return -EBADMSG;
                        *ret = v;
                        return 0;
                }
                line = nl ? nl + 1 : NULL;
        }
        return -ENODATA;
}

static int pid_compare(const void *a, const void *b) {
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
        return x < y ? -1 : x > y;
}

#define CGROUP_PIDS_MAX 65536

int cgroup_read_pids(const CgroupDriver *d, const char *path, pid_t **ret, size_t *ret_n) {
        _cleanup_free_ char *dir = NULL, *s = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0, cap = 0;
        int r;

        r = d->ops->procs_dir(d, path, &dir);
        if (r < 0)
                return r;
        r = cgroup_read_file(dir, "cgroup.procs", &s);
        if (r < 0)
                return r;
        for (char *p = s, *end; *p; p = end) {
                long v;

                while (*p == '\n')
                        p++;
                if (!*p)
                        break;
                errno = 0;
                v = strtol(p, &end, 10);
                if (errno != 0 || end == p || v <= 0 || v > INT32_MAX || (*end && *end != '\n'))
                        return -EBADMSG;
                if (n >= CGROUP_PIDS_MAX)
                        return -E2BIG;
                if (n == cap) {
                        pid_t *t = reallocarray(pids, cap ? cap * 2 : 16, sizeof(pid_t));
                        if (!t)
                                return -ENOMEM;
                        pids = t;
                        cap = cap ? cap * 2 : 16;
                }
                pids[n++] = (pid_t) v;
        }
        if (n > 0)
                qsort(pids, n, sizeof(pid_t), pid_compare);
        *ret = TAKE_PTR(pids);
        *ret_n = n;
        return 0;
}

/* Polls @file in @dir until a line equals @want (the freezer reports the
 * transition asynchronously). A fake tree has nothing to poll. */
int cgroup_wait_value(const char *dir, const char *file, const char *want) {
        for (int i = 0; i < 200; i++) {
                _cleanup_free_ char *s = NULL;
                int r = cgroup_read_file(dir, file, &s);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return r;
                for (char *line = s; line;) {
                        char *nl = strchr(line, '\n');
                        if (nl)
                                *nl = '\0';
                        if (streq(line, want))
                                return 0;
                        line = nl ? nl + 1 : NULL;
                }
                nanosleep(&(struct timespec) { .tv_nsec = 10 * 1000 * 1000 }, NULL);
        }
        return -ETIMEDOUT;
}
