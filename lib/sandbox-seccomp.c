/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>

#include "log.h"
#include "macro.h"
#include "sandbox-seccomp.h"

static void seccomp_releasep(scmp_filter_ctx *ctx) {
        if (*ctx)
                seccomp_release(*ctx);
}

const char *sandbox_syscalls_unknown(const char *const *list) {
        for (; *list; list++)
                if (seccomp_syscall_resolve_name(*list) == __NR_SCMP_ERROR)
                        return *list;
        return NULL;
}

/* Flags that make a new namespace: even without a capability, a user
 * namespace gives its creator every capability inside it, and with that a
 * much larger kernel surface. The filter cannot read clone3's flags (they
 * are in memory), so clone3 says ENOSYS and glibc falls back to clone. */
#define CLONE_NEW_ANY                                                                            \
        ((uint64_t) (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
                     CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME))

static int allow(scmp_filter_ctx ctx, const char *name, int nr) {
        if (streq(name, "clone"))
                return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEW_ANY, 0));
        if (streq(name, "clone3"))
                return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

#if defined(__SANITIZE_ADDRESS__)
#define ZL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZL_ASAN 1
#endif
#endif

int sandbox_seccomp_allowlist(const char *const *const *lists) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        unsigned n = 0;
        int r;

        ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
        if (!ctx)
                return -ENOMEM;
        /* Every thread, including libcurl's resolver threads started later
         * (they inherit it) and any started earlier (synchronized now). */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
        if (r < 0)
                return r;
        /* No SCMP_FLTATR_CTL_LOG: the kernel logs every kill anyway
         * (kill_process is in /proc/sys/kernel/seccomp/actions_logged), and
         * logging clone3's ENOSYS would add a line per libcurl thread. */

        for (; *lists; lists++)
                for (const char *const *s = *lists; *s; s++) {
                        int nr = seccomp_syscall_resolve_name(*s);

                        if (nr == __NR_SCMP_ERROR) {
                                log_debug("seccomp: no system call %s on this architecture.", *s);
                                continue;
                        }
                        r = allow(ctx, *s, nr);
                        if (r < 0 && r != -EEXIST)
                                return log_debug_errno(r, "seccomp: cannot allow %s: %m", *s);
                        n++;
                }

#ifdef ZL_ASAN
        for (const char *const *s = sandbox_syscalls_sanitizer; *s; s++) {
                r = allow(ctx, *s, seccomp_syscall_resolve_name(*s));
                if (r < 0 && r != -EEXIST)
                        return r;
        }
#endif
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        r = seccomp_load(ctx);
        if (r < 0)
                return r;
        log_debug("seccomp: allowlist of %u system calls loaded.", n);
        return 0;
}
