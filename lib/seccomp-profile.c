/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "macro.h"
#include "seccomp-profile.h"

#define ALWAYS (-1)

/* What Docker's default profile leaves out of its allowlist, and the
 * capability that brings each call back (ALWAYS: nothing does). */
static const struct {
        const char *name;
        int cap;
} denied[] = {
        /* mounts and the root */
        { "mount",             CAP_SYS_ADMIN },
        { "umount",            CAP_SYS_ADMIN },
        { "umount2",           CAP_SYS_ADMIN },
        { "pivot_root",        CAP_SYS_ADMIN },
        { "fsopen",            CAP_SYS_ADMIN },
        { "fsconfig",          CAP_SYS_ADMIN },
        { "fsmount",           CAP_SYS_ADMIN },
        { "fspick",            CAP_SYS_ADMIN },
        { "move_mount",        CAP_SYS_ADMIN },
        { "open_tree",         CAP_SYS_ADMIN },
        { "mount_setattr",     CAP_SYS_ADMIN },
        /* namespaces (clone's flags: below) */
        { "unshare",           CAP_SYS_ADMIN },
        { "setns",             CAP_SYS_ADMIN },
        /* kernel code, tracing and the kernel's own state */
        { "kexec_load",        ALWAYS },
        { "kexec_file_load",   ALWAYS },
        { "init_module",       CAP_SYS_MODULE },
        { "finit_module",      CAP_SYS_MODULE },
        { "delete_module",     CAP_SYS_MODULE },
        { "create_module",     ALWAYS },
        { "get_kernel_syms",   ALWAYS },
        { "query_module",      ALWAYS },
        { "bpf",               CAP_SYS_ADMIN },
        { "perf_event_open",   CAP_SYS_ADMIN },
        { "lookup_dcookie",    CAP_SYS_ADMIN },
        { "fanotify_init",     CAP_SYS_ADMIN },
        { "quotactl",          CAP_SYS_ADMIN },
        { "quotactl_fd",       CAP_SYS_ADMIN },
        { "swapon",            CAP_SYS_ADMIN },
        { "swapoff",           CAP_SYS_ADMIN },
        { "syslog",            CAP_SYSLOG },
        { "reboot",            CAP_SYS_BOOT },
        { "acct",              CAP_SYS_PACCT },
        { "settimeofday",      CAP_SYS_TIME },
        { "stime",             CAP_SYS_TIME },
        { "clock_settime",     CAP_SYS_TIME },
        { "clock_adjtime",     CAP_SYS_TIME },
        { "iopl",              CAP_SYS_RAWIO },
        { "ioperm",            CAP_SYS_RAWIO },
        { "vm86",              ALWAYS },
        { "vm86old",           ALWAYS },
        { "nfsservctl",        ALWAYS },
        { "_sysctl",           ALWAYS },
        { "uselib",            ALWAYS },
        { "ustat",             ALWAYS },
        { "sysfs",             ALWAYS },
        /* the kernel keyring is not namespaced */
        { "keyctl",            ALWAYS },
        { "add_key",           ALWAYS },
        { "request_key",       ALWAYS },
        /* file handles reach outside the root */
        { "open_by_handle_at", CAP_DAC_READ_SEARCH },
        { "name_to_handle_at", CAP_SYS_ADMIN },
        /* other processes' memory */
        { "process_vm_readv",  CAP_SYS_PTRACE },
        { "process_vm_writev", CAP_SYS_PTRACE },
        { "kcmp",              CAP_SYS_PTRACE },
        /* memory policy across nodes and exploit primitives */
        { "move_pages",        CAP_SYS_NICE },
        { "userfaultfd",       CAP_SYS_PTRACE },
        { "io_uring_setup",    ALWAYS },
        { "io_uring_enter",    ALWAYS },
        { "io_uring_register", ALWAYS },
};

/* clone flags that make a new namespace (CLONE_NEWTIME only exists in
 * clone3 and unshare, both covered otherwise). */
static const uint64_t clone_ns_flags[] = {
        CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP,
};

static bool has_cap(SeccompCaps caps, int cap) {
        return cap >= 0 && cap < 64 && (caps & (UINT64_C(1) << cap));
}

bool seccomp_kernel_allows_ptrace(const char *release) {
        unsigned major = 0, minor = 0;

        if (!release || sscanf(release, "%u.%u", &major, &minor) != 2)
                return false;
        return major > 4 || (major == 4 && minor >= 8);
}

static int add_errno(scmp_filter_ctx ctx, const char *name, int err) {
        int nr = seccomp_syscall_resolve_name(name);
        int r;

        if (nr == __NR_SCMP_ERROR)
                return 0; /* not a system call on any architecture libseccomp knows */
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), nr, 0);
        /* a call that exists on none of the filter's architectures */
        if (r == -EDOM || r == -EFAULT)
                return 0;
        return r;
}

static int build(scmp_filter_ctx ctx, SeccompCaps caps, bool allow_ptrace) {
        int r;

        if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
                r = seccomp_arch_add(ctx, SCMP_ARCH_X86);
                if (r < 0 && r != -EEXIST)
                        return r;
                r = seccomp_arch_add(ctx, SCMP_ARCH_X32);
                if (r < 0 && r != -EEXIST)
                        return r;
        }

        for (size_t i = 0; i < ELEMENTSOF(denied); i++) {
                if (denied[i].cap != ALWAYS && has_cap(caps, denied[i].cap))
                        continue;
                r = add_errno(ctx, denied[i].name, EPERM);
                if (r < 0)
                        return r;
        }
        if (!allow_ptrace && !has_cap(caps, CAP_SYS_PTRACE)) {
                r = add_errno(ctx, "ptrace", EPERM);
                if (r < 0)
                        return r;
        }

        if (!has_cap(caps, CAP_SYS_ADMIN)) {
                /* clone's flags are its first argument on x86 (not on s390) */
                for (size_t i = 0; i < ELEMENTSOF(clone_ns_flags); i++) {
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                             SCMP_A0(SCMP_CMP_MASKED_EQ, clone_ns_flags[i], clone_ns_flags[i]));
                        if (r < 0)
                                return r;
                }
                /* clone3 passes its flags in memory a filter cannot read:
                 * ENOSYS makes libc fall back to clone. */
                r = add_errno(ctx, "clone3", ENOSYS);
                if (r < 0)
                        return r;
        }
        return 0;
}

int seccomp_profile_apply_default(SeccompCaps caps) {
        scmp_filter_ctx ctx;
        struct utsname u;
        bool allow_ptrace;
        int r;

        allow_ptrace = uname(&u) == 0 && seccomp_kernel_allows_ptrace(u.release);

        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return -ENOMEM;
        r = build(ctx, caps, allow_ptrace);
        if (r >= 0)
                r = seccomp_load(ctx);
        seccomp_release(ctx);
        return r;
}
