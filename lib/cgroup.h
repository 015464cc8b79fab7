/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "launch-config.h"

/* Cgroups of containers and shims (docs/internals.md): a container lives in
 * "<hierarchy>/zlayer/<id>", shims in "<hierarchy>/zlayer/shims". One driver
 * interface, two implementations: v1 (one hierarchy per controller, as on
 * hybrid hosts) and v2 (the unified tree). The cgroupfs root is a parameter
 * so that unit tests render into a fake tree. */

typedef enum CgroupVersion {
        CGROUP_V1 = 1,
        CGROUP_V2 = 2,
} CgroupVersion;

typedef struct CgroupDriver CgroupDriver;

typedef struct CgroupDriverOps {
        /* mkdir -p @path (relative, e.g. "zlayer/<id>") in every hierarchy used */
        int (*create)(const CgroupDriver *d, const char *path);
        int (*apply_resources)(const CgroupDriver *d, const char *path, const LaunchResources *res);
        int (*attach_pid)(const CgroupDriver *d, const char *path, pid_t pid);
        /* rmdir @path in every hierarchy; missing is success, -EBUSY while populated */
        int (*destroy)(const CgroupDriver *d, const char *path);
        /* the "oom_kill" counter of the memory controller */
        int (*read_oom_kills)(const CgroupDriver *d, const char *path, uint64_t *ret);
        /* freeze (true) or thaw (false) every task of @path; returns once the
         * kernel reports the new state (-ETIMEDOUT after 2 s), -EOPNOTSUPP
         * without a freezer */
        int (*freeze)(const CgroupDriver *d, const char *path, bool frozen);
        /* the absolute directory whose cgroup.procs lists the tasks of @path */
        int (*procs_dir)(const CgroupDriver *d, const char *path, char **ret);
} CgroupDriverOps;

struct CgroupDriver {
        CgroupVersion version;
        char *root;                 /* "/sys/fs/cgroup" or a fake tree */
        const CgroupDriverOps *ops;
};

#define CGROUP_DEFAULT_ROOT "/sys/fs/cgroup"
#define CGROUP_DEFAULT_CPU_PERIOD 100000ULL

/* v2 when @root (NULL = /sys/fs/cgroup) is a cgroup2 mount, else v1. */
int cgroup_detect_version(const char *root, CgroupVersion *ret);
int cgroup_driver_new(const char *root, CgroupVersion version, CgroupDriver **ret);
/* Detects the version of @root and creates its driver. */
int cgroup_driver_new_detect(const char *root, CgroupDriver **ret);
CgroupDriver *cgroup_driver_free(CgroupDriver *d);
static inline void cgroup_driver_freep(CgroupDriver **d) {
        if (*d)
                cgroup_driver_free(*d);
}
#define _cleanup_cgroup_driver_ __attribute__((cleanup(cgroup_driver_freep)))

/* Container and shim cgroup paths relative to each hierarchy. */
int cgroup_container_path(const char *id, char **ret);
#define CGROUP_SHIMS_PATH "zlayer/shims"

static inline int cgroup_create(const CgroupDriver *d, const char *path) {
        return d->ops->create(d, path);
}
static inline int cgroup_apply_resources(const CgroupDriver *d, const char *path, const LaunchResources *res) {
        return d->ops->apply_resources(d, path, res);
}
static inline int cgroup_attach_pid(const CgroupDriver *d, const char *path, pid_t pid) {
        return d->ops->attach_pid(d, path, pid);
}
static inline int cgroup_destroy(const CgroupDriver *d, const char *path) {
        return d->ops->destroy(d, path);
}
static inline int cgroup_read_oom_kills(const CgroupDriver *d, const char *path, uint64_t *ret) {
        return d->ops->read_oom_kills(d, path, ret);
}

static inline int cgroup_freeze(const CgroupDriver *d, const char *path, bool frozen) {
        return d->ops->freeze(d, path, frozen);
}
/* The pids in @path's cgroup.procs (sorted, at most 65536). */
int cgroup_read_pids(const CgroupDriver *d, const char *path, pid_t **ret, size_t *ret_n);

/* v2 cpu.weight from v1 cpu.shares (the runc/Docker conversion). */
uint64_t cgroup_shares_to_weight(uint64_t shares);

/* For the drivers (lib/cgroup-v1.c, lib/cgroup-v2.c). */
extern const CgroupDriverOps cgroup_v1_ops;
extern const CgroupDriverOps cgroup_v2_ops;
/* @dir is absolute; writes @value (creating the file only in a fake tree,
 * where the kernel does not provide it). */
int cgroup_write_file(const char *dir, const char *file, const char *value);
int cgroup_read_file(const char *dir, const char *file, char **ret);
bool cgroup_file_exists(const char *dir, const char *file);
int cgroup_mkdir_p(const char *base, const char *path);
int cgroup_rmdir_path(const char *base, const char *path);
/* Polls @dir/@file (2 s at most) until one of its lines is @want. */
int cgroup_wait_value(const char *dir, const char *file, const char *want);
/* Finds "key N" in a flat-keyed file such as memory.events. */
int cgroup_read_keyed(const char *dir, const char *file, const char *key, uint64_t *ret);
