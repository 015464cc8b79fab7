/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "landlock.h"
#include "log.h"
#include "macro.h"

/* Rights newer than Debian 12's linux-libc-dev (6.1: ABI 2). */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

#define FS_READ (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* A right that only applies to files (not directories) must not be given
 * on a regular file together with directory rights: add_rule says EINVAL. */
#define FS_FILE_RIGHTS                                                                             \
        (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
         LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* Everything the kernel of ABI @abi can refuse. */
static uint64_t handled_rights(int abi) {
        uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;   /* ABI 1: bits 0…12 */

        if (abi >= 2)
                r |= LANDLOCK_ACCESS_FS_REFER;
        if (abi >= 3)
                r |= LANDLOCK_ACCESS_FS_TRUNCATE;
        if (abi >= 5)
                r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
        return r;
}

int landlock_abi(void) {
        long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

        if (v < 0)
                return errno == ENOSYS ? -ENOSYS : -EOPNOTSUPP;
        return (int) v;
}

static int add_path(int ruleset_fd, const LandlockPath *p, uint64_t handled) {
        struct landlock_path_beneath_attr attr = {};
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = open(p->path, O_PATH | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return log_debug_errno(-errno, "Landlock: cannot open %s: %m", p->path);
        }
        if (fstat(fd, &st) < 0)
                return -errno;

        attr.parent_fd = fd;
        if (p->access == LANDLOCK_READ)
                attr.allowed_access = FS_READ;
        else    /* no device nodes: nothing we confine makes them */
                attr.allowed_access = handled & ~(LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                                                  LANDLOCK_ACCESS_FS_IOCTL_DEV);
        if (!S_ISDIR(st.st_mode))
                attr.allowed_access &= FS_FILE_RIGHTS;
        attr.allowed_access &= handled;

        if (syscall(SYS_landlock_add_rule, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) < 0)
                return log_debug_errno(-errno, "Landlock: cannot add %s: %m", p->path);
        return 0;
}

int landlock_restrict(const LandlockPath *paths, size_t n) {
        struct landlock_ruleset_attr attr = {};
        _cleanup_close_ int ruleset_fd = -1;
        int abi, r;

        abi = landlock_abi();
        if (abi < 0)
                return -EOPNOTSUPP;

        attr.handled_access_fs = handled_rights(abi);
        ruleset_fd = (int) syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
        if (ruleset_fd < 0)
                return -errno;

        for (size_t i = 0; i < n; i++) {
                r = add_path(ruleset_fd, &paths[i], attr.handled_access_fs);
                if (r < 0)
                        return r;
        }

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        if (syscall(SYS_landlock_restrict_self, ruleset_fd, 0) < 0)
                return -errno;
        log_debug("Landlock (ABI %d) confines this process to %zu paths.", abi, n);
        return 0;
}

int landlock_confine_broker(const char *root) {
        _cleanup_free_ char *images = NULL, *containers = NULL, *layers = NULL;

        if (asprintf(&images, "%s/images", root) < 0 || asprintf(&containers, "%s/containers", root) < 0 ||
            asprintf(&layers, "%s/layers", root) < 0)
                return -ENOMEM;

        const LandlockPath paths[] = {
                /* what it owns: the image index and blobs, the containers'
                 * state, specs and logs */
                { images, LANDLOCK_READ_WRITE },
                { containers, LANDLOCK_READ_WRITE },
                /* which layers exist (CreateContainer, the image GC) */
                { layers, LANDLOCK_READ },
                /* libraries loaded late (NSS, libgcc_s), /etc/hosts and
                 * resolv.conf for the containers, the time zone */
                { "/usr", LANDLOCK_READ },
                { "/lib", LANDLOCK_READ },
                { "/lib64", LANDLOCK_READ },
                { "/etc", LANDLOCK_READ },
                { "/dev/null", LANDLOCK_READ_WRITE },
                { "/dev/urandom", LANDLOCK_READ },
                /* ContainerTop (/proc/PID of the container's processes,
                 * /proc/stat), its own /proc/self (pthread_getattr_np,
                 * LeakSanitizer), the pids of a container's cgroup, get_nprocs() */
                { "/proc", LANDLOCK_READ },
                { "/sys/fs/cgroup", LANDLOCK_READ },
                { "/sys/devices/system/cpu", LANDLOCK_READ },
        };
        return landlock_restrict(paths, ELEMENTSOF(paths));
}
