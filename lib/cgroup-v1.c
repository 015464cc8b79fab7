/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "cgroup.h"
#include "macro.h"

/* cgroup v1: one hierarchy per controller under the root. A controller whose
 * hierarchy is not mounted is skipped. "systemd" is the name=systemd one. */
static const char *const v1_controllers[] = {
        "cpu", "cpuacct", "memory", "pids", "cpuset", "freezer", "blkio", "devices", "systemd",
};

static int hierarchy_dir(const CgroupDriver *d, const char *ctrl, const char *path, char **ret) {
        if (path)
                return asprintf(ret, "%s/%s/%s", d->root, ctrl, path) < 0 ? -ENOMEM : 0;
        return asprintf(ret, "%s/%s", d->root, ctrl) < 0 ? -ENOMEM : 0;
}

static bool hierarchy_present(const CgroupDriver *d, const char *ctrl) {
        _cleanup_free_ char *p = NULL;
        if (hierarchy_dir(d, ctrl, NULL, &p) < 0)
                return false;
        return access(p, F_OK) >= 0;
}

/* A new cpuset cgroup starts with empty cpus and mems and takes no task
 * until both are set: copy them down from the parent, level by level. */
static int cpuset_inherit(const CgroupDriver *d, const char *path) {
        _cleanup_free_ char *parent = NULL, *copy = strdup(path);
        int r;

        if (!copy)
                return -ENOMEM;
        r = hierarchy_dir(d, "cpuset", NULL, &parent);
        if (r < 0)
                return r;

        for (char *slash = copy;; slash++) {
                _cleanup_free_ char *child = NULL;
                bool last;

                slash = strchr(slash, '/');
                last = !slash;
                if (slash)
                        *slash = '\0';
                r = hierarchy_dir(d, "cpuset", copy, &child);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < 2; i++) {
                        const char *f = i == 0 ? "cpuset.cpus" : "cpuset.mems";
                        _cleanup_free_ char *cur = NULL, *up = NULL;

                        if (cgroup_read_file(child, f, &cur) >= 0 && !isempty(cur))
                                continue;
                        r = cgroup_read_file(parent, f, &up);
                        if (r < 0)
                                return r;
                        r = cgroup_write_file(child, f, up);
                        if (r < 0)
                                return r;
                }
                free(parent);
                parent = TAKE_PTR(child);
                if (last)
                        return 0;
                *slash = '/';
        }
}

static int v1_create(const CgroupDriver *d, const char *path) {
        int r;

        for (size_t i = 0; i < ELEMENTSOF(v1_controllers); i++) {
                _cleanup_free_ char *base = NULL;

                if (!hierarchy_present(d, v1_controllers[i]))
                        continue;
                r = hierarchy_dir(d, v1_controllers[i], NULL, &base);
                if (r < 0)
                        return r;
                r = cgroup_mkdir_p(base, path);
                if (r < 0)
                        return r;
                if (streq(v1_controllers[i], "cpuset")) {
                        r = cpuset_inherit(d, path);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int write_u64(const char *dir, const char *file, uint64_t v) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long) v);
        return cgroup_write_file(dir, file, buf);
}

static int write_i64(const char *dir, const char *file, int64_t v) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", (long long) v);
        return cgroup_write_file(dir, file, buf);
}

static int v1_apply_resources(const CgroupDriver *d, const char *path, const LaunchResources *res) {
        int r;

        if (res->cpu_quota > 0 || res->cpu_period > 0 || res->cpu_shares > 0) {
                _cleanup_free_ char *dir = NULL;
                if ((r = hierarchy_dir(d, "cpu", path, &dir)) < 0)
                        return r;
                if (res->cpu_quota > 0 || res->cpu_period > 0) {
                        r = write_u64(dir, "cpu.cfs_period_us", res->cpu_period ?: CGROUP_DEFAULT_CPU_PERIOD);
                        if (r < 0)
                                return r;
                }
                if (res->cpu_quota > 0 && (r = write_i64(dir, "cpu.cfs_quota_us", res->cpu_quota)) < 0)
                        return r;
                if (res->cpu_shares > 0 && (r = write_u64(dir, "cpu.shares", res->cpu_shares)) < 0)
                        return r;
        }

        if (res->memory > 0 || res->memory_reservation > 0) {
                _cleanup_free_ char *dir = NULL;
                if ((r = hierarchy_dir(d, "memory", path, &dir)) < 0)
                        return r;
                if (res->memory > 0) {
                        bool memsw = cgroup_file_exists(dir, "memory.memsw.limit_in_bytes");
                        /* memsw is memory+swap; Docker's default is twice the memory. */
                        int64_t sw = res->memory_swap == -1 ? -1 :
                                     res->memory_swap > 0 ? res->memory_swap : 2 * res->memory;

                        r = write_i64(dir, "memory.limit_in_bytes", res->memory);
                        /* the kernel keeps memory <= memsw at every step: raising
                         * both (an update of a running container) goes memsw first */
                        if (r == -EINVAL && memsw) {
                                r = write_i64(dir, "memory.memsw.limit_in_bytes", sw);
                                if (r < 0)
                                        return r;
                                r = write_i64(dir, "memory.limit_in_bytes", res->memory);
                        }
                        if (r < 0)
                                return r;
                        if (memsw) {
                                r = write_i64(dir, "memory.memsw.limit_in_bytes", sw);
                                if (r < 0)
                                        return r;
                        }
                }
                if (res->memory_reservation > 0 &&
                    (r = write_i64(dir, "memory.soft_limit_in_bytes", res->memory_reservation)) < 0)
                        return r;
        }

        if (res->pids_limit != 0) {
                _cleanup_free_ char *dir = NULL;
                if ((r = hierarchy_dir(d, "pids", path, &dir)) < 0)
                        return r;
                if (res->pids_limit < 0)
                        r = cgroup_write_file(dir, "pids.max", "max");
                else
                        r = write_i64(dir, "pids.max", res->pids_limit);
                if (r < 0)
                        return r;
        }

        if (!isempty(res->cpuset_cpus)) {
                _cleanup_free_ char *dir = NULL;
                if ((r = hierarchy_dir(d, "cpuset", path, &dir)) < 0)
                        return r;
                if ((r = cgroup_write_file(dir, "cpuset.cpus", res->cpuset_cpus)) < 0)
                        return r;
        }
        return 0;
}

static int v1_attach_pid(const CgroupDriver *d, const char *path, pid_t pid) {
        char buf[32];
        int r;

        snprintf(buf, sizeof(buf), "%d", (int) pid);
        for (size_t i = 0; i < ELEMENTSOF(v1_controllers); i++) {
                _cleanup_free_ char *dir = NULL;

                if (!hierarchy_present(d, v1_controllers[i]))
                        continue;
                if ((r = hierarchy_dir(d, v1_controllers[i], path, &dir)) < 0)
                        return r;
                r = cgroup_write_file(dir, "cgroup.procs", buf);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int v1_destroy(const CgroupDriver *d, const char *path) {
        int ret = 0;

        for (size_t i = 0; i < ELEMENTSOF(v1_controllers); i++) {
                _cleanup_free_ char *base = NULL;
                int r;

                if (!hierarchy_present(d, v1_controllers[i]))
                        continue;
                if ((r = hierarchy_dir(d, v1_controllers[i], NULL, &base)) < 0)
                        return r;
                r = cgroup_rmdir_path(base, path);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

static int v1_read_oom_kills(const CgroupDriver *d, const char *path, uint64_t *ret) {
        _cleanup_free_ char *dir = NULL;
        int r;

        if ((r = hierarchy_dir(d, "memory", path, &dir)) < 0)
                return r;
        return cgroup_read_keyed(dir, "memory.oom_control", "oom_kill", ret);
}

/* The v1 freezer: writing FROZEN starts the transition, freezer.state reads
 * FREEZING until every task stopped. */
static int v1_freeze(const CgroupDriver *d, const char *path, bool frozen) {
        _cleanup_free_ char *dir = NULL;
        const char *want = frozen ? "FROZEN" : "THAWED";
        int r;

        if (!hierarchy_present(d, "freezer"))
                return -EOPNOTSUPP;
        if ((r = hierarchy_dir(d, "freezer", path, &dir)) < 0)
                return r;
        if (access(dir, F_OK) < 0)
                return -errno;
        r = cgroup_write_file(dir, "freezer.state", want);
        if (r < 0)
                return r;
        return cgroup_wait_value(dir, "freezer.state", want);
}

/* Every v1 hierarchy lists the same tasks; take one that is there. */
static int v1_procs_dir(const CgroupDriver *d, const char *path, char **ret) {
        static const char *const order[] = { "pids", "memory", "cpu", "freezer", "cpuset", "systemd" };

        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                _cleanup_free_ char *dir = NULL;
                int r;

                if (!hierarchy_present(d, order[i]))
                        continue;
                if ((r = hierarchy_dir(d, order[i], path, &dir)) < 0)
                        return r;
                if (access(dir, F_OK) < 0)
                        return -errno;
                *ret = TAKE_PTR(dir);
                return 0;
        }
        return -ENOENT;
}

const CgroupDriverOps cgroup_v1_ops = {
        .create = v1_create,
        .apply_resources = v1_apply_resources,
        .attach_pid = v1_attach_pid,
        .destroy = v1_destroy,
        .read_oom_kills = v1_read_oom_kills,
        .freeze = v1_freeze,
        .procs_dir = v1_procs_dir,
};
