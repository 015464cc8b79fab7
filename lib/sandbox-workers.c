/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <libgen.h>
#include <sched.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon-options.h"
#include "landlock.h"
#include "log.h"
#include "macro.h"
#include "sandbox-seccomp.h"
#include "sandbox.h"

int sandbox_become_user(const char *user) {
        unsigned uid, gid;
        int r;

        r = daemon_user_lookup(user, &uid, &gid);
        if (r == -ESRCH)
                return log_error_errno(r, "No such user: %s", user);
        if (r < 0)
                return log_error_errno(r, "Failed to look up user %s: %m", user);

        /* Running unprivileged already as that user (tests) is fine. */
        if (geteuid() != 0) {
                if (geteuid() != uid)
                        return log_error_errno(-EPERM, "Cannot become user %s without privileges.", user);
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        return log_error_errno(-errno, "Failed to set no_new_privs: %m");
                return 0;
        }
        r = drop_privileges(uid, gid);
        if (r < 0)
                return log_error_errno(r, "Failed to drop privileges to %s: %m", user);
        return 0;
}

int sandbox_broker(void) {
        const char *const *lists[] = { sandbox_syscalls_base, sandbox_syscalls_files, sandbox_syscalls_broker, NULL };
        int r;

        r = sandbox_seccomp_allowlist(lists);
        if (r < 0)
                return log_error_errno(r, "Failed to load the seccomp allowlist: %m");
        return 0;
}

int sandbox_puller(const char *root, const char *auth_file) {
        const char *const *lists[] = { sandbox_syscalls_base, sandbox_syscalls_files, sandbox_syscalls_puller, NULL };
        _cleanup_free_ char *images = NULL, *auth_dir = NULL;
        int r;

        if (asprintf(&images, "%s/images", root) < 0)
                return log_oom();
        if (auth_file && *auth_file) {
                auth_dir = strdup(auth_file);
                if (!auth_dir)
                        return log_oom();
                /* the directory: a new login replaces the file by rename */
                dirname(auth_dir);
        }

        const LandlockPath paths[] = {
                /* libraries (NSS modules are loaded at the first lookup),
                 * resolv.conf, hosts, nsswitch.conf, openssl.cnf, CA store */
                { "/usr", LANDLOCK_READ },
                { "/lib", LANDLOCK_READ },
                { "/lib64", LANDLOCK_READ },
                { "/etc", LANDLOCK_READ },
                { "/dev/null", LANDLOCK_READ },
                { "/dev/urandom", LANDLOCK_READ },
                /* its own /proc/PID (the link resolves now, to this process):
                 * pthread_getattr_np() reads maps, LeakSanitizer task/ */
                { "/proc/self", LANDLOCK_READ },
                /* glibc's get_nprocs() */
                { "/sys/devices/system/cpu", LANDLOCK_READ },
                { images, LANDLOCK_READ_WRITE },
                { auth_dir ?: images, LANDLOCK_READ },
        };
        r = landlock_restrict(paths, ELEMENTSOF(paths));
        if (r == -EOPNOTSUPP)
                log_warning("This kernel has no Landlock: the puller is not confined to %s.", images);
        else if (r < 0)
                return log_error_errno(r, "Failed to confine the puller with Landlock: %m");

        r = sandbox_seccomp_allowlist(lists);
        if (r < 0)
                return log_error_errno(r, "Failed to load the seccomp allowlist: %m");
        return 0;
}

int sandbox_archive(void) {
        const char *const *lists[] = { sandbox_syscalls_base, sandbox_syscalls_files, sandbox_syscalls_archive, NULL };
        int r;

        /* Only the loopback, down: nothing it parses can reach a network. */
        if (unshare(CLONE_NEWNET) < 0)
                return log_error_errno(-errno, "Failed to move into a network namespace of its own: %m");

        r = sandbox_seccomp_allowlist(lists);
        if (r < 0)
                return log_error_errno(r, "Failed to load the seccomp allowlist: %m");
        return 0;
}

int sandbox_stats(const char *user) {
        const char *const *lists[] = { sandbox_syscalls_base, sandbox_syscalls_stats, NULL };
        const LandlockPath paths[] = {
                /* the cgroups' counters, /proc/stat, /proc/meminfo and the
                 * containers' /proc/<pid>/net/dev */
                { "/sys/fs/cgroup", LANDLOCK_READ },
                { "/proc", LANDLOCK_READ },
                /* glibc's get_nprocs() (online_cpus) */
                { "/sys/devices/system/cpu", LANDLOCK_READ },
        };
        int r;

        /* No network (it reads other namespaces' counters through /proc);
         * only root may unshare, so before the privileges go. */
        if (geteuid() == 0 && unshare(CLONE_NEWNET) < 0)
                return log_error_errno(-errno, "Failed to move into a network namespace of its own: %m");
        r = sandbox_become_user(user);
        if (r < 0)
                return r;

        r = landlock_restrict(paths, ELEMENTSOF(paths));
        if (r == -EOPNOTSUPP)
                log_warning("This kernel has no Landlock: zlayer-stats is not confined to reading cgroupfs and /proc.");
        else if (r < 0)
                return log_error_errno(r, "Failed to confine zlayer-stats with Landlock: %m");

        r = sandbox_seccomp_allowlist(lists);
        if (r < 0)
                return log_error_errno(r, "Failed to load the seccomp allowlist: %m");
        return 0;
}
