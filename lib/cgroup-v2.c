/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "cgroup.h"
#include "macro.h"

/* cgroup v2: one unified tree. Controllers are enabled top-down through
 * each parent's cgroup.subtree_control. */
static const char *const v2_wanted[] = { "cpu", "cpuset", "io", "memory", "pids" };

static int dir_of(const CgroupDriver *d, const char *path, char **ret) {
        if (isempty(path))
                return (*ret = strdup(d->root)) ? 0 : -ENOMEM;
        return asprintf(ret, "%s/%s", d->root, path) < 0 ? -ENOMEM : 0;
}

static bool word_in(const char *list, const char *word) {
        size_t n = strlen(word);
        for (const char *p = list; (p = strstr(p, word)); p += n)
                if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
                        return true;
        return false;
}

/* Enable in @parent (absolute) the wanted controllers it has available.
 * @inherited: the parent's list, for a fake tree where the file is missing
 * (the kernel always provides it). Returns the list used in *ret_avail. */
static int enable_controllers(const char *parent, const char *inherited, char **ret_avail) {
        _cleanup_free_ char *avail = NULL;
        char buf[128] = "";
        int r;

        r = cgroup_read_file(parent, "cgroup.controllers", &avail);
        if (r == -ENOENT && inherited)
                avail = strdup(inherited);
        else if (r < 0)
                return r;
        if (!avail)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(v2_wanted); i++)
                if (word_in(avail, v2_wanted[i])) {
                        if (buf[0])
                                strcat(buf, " ");
                        strcat(buf, "+");
                        strcat(buf, v2_wanted[i]);
                }
        if (buf[0]) {
                r = cgroup_write_file(parent, "cgroup.subtree_control", buf);
                if (r < 0)
                        return r;
        }
        if (ret_avail)
                *ret_avail = TAKE_PTR(avail);
        return 0;
}

static int v2_create(const CgroupDriver *d, const char *path) {
        _cleanup_free_ char *copy = strdup(path), *avail = NULL;
        int r;

        if (!copy)
                return -ENOMEM;
        r = cgroup_mkdir_p(d->root, path);
        if (r < 0)
                return r;

        /* every ancestor of the leaf: the root, then each intermediate level */
        r = enable_controllers(d->root, NULL, &avail);
        if (r < 0)
                return r;
        for (char *slash = copy; (slash = strchr(slash, '/')); slash++) {
                _cleanup_free_ char *dir = NULL;
                char *next = NULL;

                *slash = '\0';
                r = dir_of(d, copy, &dir);
                *slash = '/';
                if (r < 0)
                        return r;
                r = enable_controllers(dir, avail, &next);
                if (r < 0)
                        return r;
                free(avail);
                avail = next;
        }
        return 0;
}

static int write_u64(const char *dir, const char *file, uint64_t v) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long) v);
        return cgroup_write_file(dir, file, buf);
}

static int v2_apply_resources(const CgroupDriver *d, const char *path, const LaunchResources *res) {
        _cleanup_free_ char *dir = NULL;
        char buf[64];
        int r;

        if ((r = dir_of(d, path, &dir)) < 0)
                return r;

        if (res->cpu_quota > 0 || res->cpu_period > 0) {
                uint64_t period = res->cpu_period ?: CGROUP_DEFAULT_CPU_PERIOD;
                if (res->cpu_quota > 0)
                        snprintf(buf, sizeof(buf), "%lld %llu", (long long) res->cpu_quota, (unsigned long long) period);
                else
                        snprintf(buf, sizeof(buf), "max %llu", (unsigned long long) period);
                if ((r = cgroup_write_file(dir, "cpu.max", buf)) < 0)
                        return r;
        }
        if (res->cpu_shares > 0 && (r = write_u64(dir, "cpu.weight", cgroup_shares_to_weight(res->cpu_shares))) < 0)
                return r;

        if (res->memory > 0) {
                if ((r = write_u64(dir, "memory.max", (uint64_t) res->memory)) < 0)
                        return r;
                /* v2 limits swap alone; the launch config's memory_swap is
                 * memory+swap (Docker's), 0 = as much swap as memory. */
                if (cgroup_file_exists(dir, "memory.swap.max") || res->memory_swap != 0) {
                        if (res->memory_swap == -1)
                                r = cgroup_write_file(dir, "memory.swap.max", "max");
                        else
                                r = write_u64(dir, "memory.swap.max",
                                              res->memory_swap > 0 ? (uint64_t) (res->memory_swap - res->memory)
                                                                   : (uint64_t) res->memory);
                        if (r < 0 && r != -ENOENT) /* no swap accounting */
                                return r;
                }
        }
        if (res->memory_reservation > 0 && (r = write_u64(dir, "memory.low", (uint64_t) res->memory_reservation)) < 0)
                return r;

        if (res->pids_limit != 0) {
                if (res->pids_limit < 0)
                        r = cgroup_write_file(dir, "pids.max", "max");
                else
                        r = write_u64(dir, "pids.max", (uint64_t) res->pids_limit);
                if (r < 0)
                        return r;
        }
        if (!isempty(res->cpuset_cpus) && (r = cgroup_write_file(dir, "cpuset.cpus", res->cpuset_cpus)) < 0)
                return r;
        return 0;
}

static int v2_attach_pid(const CgroupDriver *d, const char *path, pid_t pid) {
        _cleanup_free_ char *dir = NULL;
        char buf[32];
        int r;

        if ((r = dir_of(d, path, &dir)) < 0)
                return r;
        snprintf(buf, sizeof(buf), "%d", (int) pid);
        return cgroup_write_file(dir, "cgroup.procs", buf);
}

static int v2_destroy(const CgroupDriver *d, const char *path) {
        return cgroup_rmdir_path(d->root, path);
}

static int v2_read_oom_kills(const CgroupDriver *d, const char *path, uint64_t *ret) {
        _cleanup_free_ char *dir = NULL;
        int r;

        if ((r = dir_of(d, path, &dir)) < 0)
                return r;
        return cgroup_read_keyed(dir, "memory.events", "oom_kill", ret);
}

/* cgroup.freeze (5.2+); cgroup.events says "frozen 1" once every task stopped. */
static int v2_freeze(const CgroupDriver *d, const char *path, bool frozen) {
        _cleanup_free_ char *dir = NULL;
        int r;

        if ((r = dir_of(d, path, &dir)) < 0)
                return r;
        if (!cgroup_file_exists(dir, "cgroup.freeze") && !cgroup_file_exists(dir, "cgroup.procs"))
                return -ENOENT;
        r = cgroup_write_file(dir, "cgroup.freeze", frozen ? "1" : "0");
        if (r < 0)
                return r == -ENOENT ? -EOPNOTSUPP : r;
        return cgroup_wait_value(dir, "cgroup.events", frozen ? "frozen 1" : "frozen 0");
}

static int v2_procs_dir(const CgroupDriver *d, const char *path, char **ret) {
        return dir_of(d, path, ret);
}

const CgroupDriverOps cgroup_v2_ops = {
        .create = v2_create,
        .apply_resources = v2_apply_resources,
        .attach_pid = v2_attach_pid,
        .destroy = v2_destroy,
        .read_oom_kills = v2_read_oom_kills,
        .freeze = v2_freeze,
        .procs_dir = v2_procs_dir,
};
