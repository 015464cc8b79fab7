/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "macro.h"
#include "seccomp-profile.h"

/* Allowed to every container: Docker's default allowlist (moby
 * profiles/seccomp/default.json), the calls of every architecture together.
 * A name that is no call on the filter's architectures is skipped. As in
 * Docker 25 and later, not io_uring_*: its operations bypass the filter. */
static const char *const allowed[] = {
        /* files and directories */
        "access", "chdir", "chmod", "chown", "chown32", "close", "close_range", "copy_file_range", "creat",
        "dup", "dup2", "dup3", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
        "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64",
        "fdatasync", "fgetxattr", "flistxattr", "flock", "fremovexattr", "fsetxattr", "fstat", "fstat64",
        "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futimesat", "getcwd",
        "getdents", "getdents64", "getxattr", "lchown", "lchown32", "lgetxattr", "link", "linkat",
        "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64",
        "mkdir", "mkdirat", "mknod", "mknodat", "name_to_handle_at", "newfstatat", "open", "openat",
        "openat2", "pread64", "preadv", "preadv2", "pwrite64", "pwritev", "pwritev2", "read", "readahead",
        "readlink", "readlinkat", "readv", "removexattr", "rename", "renameat", "renameat2", "rmdir",
        "sendfile", "sendfile64", "setxattr", "splice", "stat", "stat64", "statfs", "statfs64", "statx",
        "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "tee", "truncate", "truncate64",
        "umask", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes", "vmsplice",
        "write", "writev", "fanotify_mark", "inotify_add_watch", "inotify_init", "inotify_init1",
        "inotify_rm_watch",
        /* asynchronous I/O, polling, events */
        "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup",
        "io_submit", "ioctl", "ioprio_get",
        "ioprio_set", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
        "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "poll", "ppoll",
        "ppoll_time64", "pselect6", "pselect6_time64", "select", "_newselect", "signalfd", "signalfd4",
        "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64",
        "pipe", "pipe2",
        /* memory */
        "brk", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mlock", "mlock2",
        "mlockall", "mmap", "mmap2", "mprotect", "mremap", "msync", "munlock", "munlockall", "munmap",
        "pkey_alloc", "pkey_free", "pkey_mprotect", "remap_file_pages",
        /* processes, threads, signals */
        "capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "vfork", "futex",
        "futex_time64", "futex_waitv", "get_robust_list", "set_robust_list", "get_thread_area",
        "set_thread_area", "set_tid_address", "getcpu", "getpgid", "getpgrp", "getpid", "getppid",
        "getpriority", "setpriority", "getsid", "setsid", "setpgid", "gettid", "kill", "tgkill", "tkill",
        "pidfd_open", "pidfd_send_signal", "process_mrelease", "pause", "prctl", "restart_syscall", "rseq",
        "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
        "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sigaltstack",
        "sigprocmask", "sigreturn", "wait4", "waitid", "waitpid", "seccomp", "landlock_add_rule",
        "landlock_create_ruleset", "landlock_restrict_self",
        "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
        "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
        "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
        "sched_setscheduler", "sched_yield",
        /* credentials and limits (the capabilities still decide) */
        "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
        "getresgid", "getresgid32", "getresuid", "getresuid32", "getuid", "getuid32", "setfsgid",
        "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32",
        "setregid", "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid",
        "setreuid32", "setuid", "setuid32", "getrlimit", "setrlimit", "prlimit64", "ugetrlimit",
        "getrusage", "times",
        /* time (reading it; adjtimex only changes it with CAP_SYS_TIME) */
        "adjtimex", "alarm", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
        "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "getitimer",
        "setitimer", "gettimeofday", "nanosleep", "time", "timer_create", "timer_delete",
        "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
        /* sockets (socket itself: below, without AF_VSOCK) */
        "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt", "listen",
        "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "send", "sendmmsg", "sendmsg",
        "sendto", "setsockopt", "shutdown", "socketcall", "socketpair",
        /* System V and POSIX IPC (the container's IPC namespace) */
        "ipc", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop", "semtimedop",
        "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget", "mq_getsetattr", "mq_notify",
        "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
        "mq_unlink",
        /* the system */
        "getrandom", "sysinfo", "uname",
};

/* Allowed on a native architecture only (Docker's "arches" includes); the
 * aarch64 entries hold for a native 32-bit arm too. */
static const struct {
        uint32_t arch;
        const char *name;
} allowed_on_arch[] = {
        { SCMP_ARCH_X86_64,  "arch_prctl" },
        { SCMP_ARCH_X86_64,  "modify_ldt" },
        { SCMP_ARCH_X86,     "modify_ldt" },
        { SCMP_ARCH_AARCH64, "arm_fadvise64_64" },
        { SCMP_ARCH_AARCH64, "arm_sync_file_range" },
        { SCMP_ARCH_AARCH64, "sync_file_range2" },
        { SCMP_ARCH_AARCH64, "breakpoint" },
        { SCMP_ARCH_AARCH64, "cacheflush" },
        { SCMP_ARCH_AARCH64, "set_tls" },
        { SCMP_ARCH_PPC64LE, "sync_file_range2" },
        { SCMP_ARCH_PPC64LE, "swapcontext" },
        { SCMP_ARCH_S390X,   "s390_pci_mmio_read" },
        { SCMP_ARCH_S390X,   "s390_pci_mmio_write" },
        { SCMP_ARCH_S390X,   "s390_runtime_instr" },
        { SCMP_ARCH_RISCV64, "riscv_flush_icache" },
};

/* Allowed when the container keeps the capability that makes the call
 * legitimate (Docker's "caps" includes); refused with EPERM otherwise. */
static const struct {
        int cap;
        const char *name;
} allowed_with_cap[] = {
        /* mounts, namespaces, the host and domain name */
        { CAP_SYS_ADMIN,       "mount" },
        { CAP_SYS_ADMIN,       "umount" },
        { CAP_SYS_ADMIN,       "umount2" },
        { CAP_SYS_ADMIN,       "fsopen" },
        { CAP_SYS_ADMIN,       "fsconfig" },
        { CAP_SYS_ADMIN,       "fsmount" },
        { CAP_SYS_ADMIN,       "fspick" },
        { CAP_SYS_ADMIN,       "move_mount" },
        { CAP_SYS_ADMIN,       "open_tree" },
        { CAP_SYS_ADMIN,       "mount_setattr" },
        { CAP_SYS_ADMIN,       "unshare" },
        { CAP_SYS_ADMIN,       "setns" },
        { CAP_SYS_ADMIN,       "sethostname" },
        { CAP_SYS_ADMIN,       "setdomainname" },
        { CAP_SYS_ADMIN,       "bpf" },
        { CAP_SYS_ADMIN,       "perf_event_open" },
        { CAP_SYS_ADMIN,       "fanotify_init" },
        { CAP_SYS_ADMIN,       "lookup_dcookie" },
        { CAP_SYS_ADMIN,       "quotactl" },
        { CAP_SYS_ADMIN,       "quotactl_fd" },
        { CAP_SYS_ADMIN,       "syslog" },
        /* clone and clone3 with any flags: the rules for the others below */
        { CAP_SYS_ADMIN,       "clone" },
        { CAP_SYS_ADMIN,       "clone3" },
        { CAP_BPF,             "bpf" },
        { CAP_PERFMON,         "perf_event_open" },
        { CAP_SYSLOG,          "syslog" },
        { CAP_DAC_READ_SEARCH, "open_by_handle_at" },
        { CAP_SYS_BOOT,        "reboot" },
        { CAP_SYS_CHROOT,      "chroot" },
        { CAP_SYS_MODULE,      "init_module" },
        { CAP_SYS_MODULE,      "finit_module" },
        { CAP_SYS_MODULE,      "delete_module" },
        { CAP_SYS_PACCT,       "acct" },
        { CAP_SYS_PTRACE,      "ptrace" },
        { CAP_SYS_PTRACE,      "process_vm_readv" },
        { CAP_SYS_PTRACE,      "process_vm_writev" },
        { CAP_SYS_PTRACE,      "kcmp" },
        { CAP_SYS_PTRACE,      "pidfd_getfd" },
        { CAP_SYS_PTRACE,      "process_madvise" },
        { CAP_SYS_RAWIO,       "iopl" },
        { CAP_SYS_RAWIO,       "ioperm" },
        { CAP_SYS_TIME,        "settimeofday" },
        { CAP_SYS_TIME,        "stime" },
        { CAP_SYS_TIME,        "clock_settime" },
        { CAP_SYS_TIME,        "clock_settime64" },
        { CAP_SYS_TTY_CONFIG,  "vhangup" },
        { CAP_SYS_NICE,        "get_mempolicy" },
        { CAP_SYS_NICE,        "set_mempolicy" },
        { CAP_SYS_NICE,        "set_mempolicy_home_node" },
        { CAP_SYS_NICE,        "mbind" },
};

/* Allowed from Linux 4.8 on, where ptrace can no longer step around a
 * seccomp filter (Docker's "minKernel": "4.8"). */
static const char *const allowed_ptrace[] = { "ptrace", "process_vm_readv", "process_vm_writev" };

/* personality(2) values Docker allows: PER_LINUX, PER_LINUX32,
 * UNAME26, UNAME26|PER_LINUX32 and the query 0xffffffff. */
static const uint64_t personalities[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };

/* clone flags that make a new namespace: CLONE_NEWNS, NEWCGROUP, NEWUTS,
 * NEWIPC, NEWUSER, NEWPID, NEWNET. */
#define CLONE_NS_FLAGS                                                                          \
        ((uint64_t) (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
                     CLONE_NEWPID | CLONE_NEWNET))

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static bool has_cap(SeccompCaps caps, int cap) {
        return cap >= 0 && cap < 64 && (caps & (UINT64_C(1) << cap));
}

bool seccomp_kernel_allows_ptrace(const char *release) {
        unsigned major = 0, minor = 0;

        if (!release || sscanf(release, "%u.%u", &major, &minor) != 2)
                return false;
        return major > 4 || (major == 4 && minor >= 8);
}

/* Adds a rule for @name; a name that is no call on any of the filter's
 * architectures (chown32 on x86_64 alone, arm_* on x86) is skipped, and so
 * is a rule already there (syslog by CAP_SYS_ADMIN and by CAP_SYSLOG). */
static int add_rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n_args,
                    const struct scmp_arg_cmp *args) {
        int nr = seccomp_syscall_resolve_name(name);
        int r;

        if (nr == __NR_SCMP_ERROR)
                return 0; /* libseccomp does not know it: it is refused by default */
        r = seccomp_rule_add_array(ctx, action, nr, n_args, args);
        if (r == -EDOM || r == -EFAULT || r == -EEXIST)
                return 0;
        return r;
}

static int add_allow(scmp_filter_ctx ctx, const char *name) {
        return add_rule(ctx, SCMP_ACT_ALLOW, name, 0, NULL);
}

static int add_arg0_allow(scmp_filter_ctx ctx, const char *name, unsigned arg, enum scmp_compare op,
                          uint64_t a, uint64_t b) {
        struct scmp_arg_cmp cmp = { .arg = arg, .op = op, .datum_a = a, .datum_b = b };
        return add_rule(ctx, SCMP_ACT_ALLOW, name, 1, &cmp);
}

/* The whole profile for the capabilities @caps. */
static int build(scmp_filter_ctx ctx, SeccompCaps caps, bool allow_ptrace) {
        uint32_t native = seccomp_arch_native();
        int r;

        if (native == SCMP_ARCH_X86_64) {
                r = seccomp_arch_add(ctx, SCMP_ARCH_X86);
                if (r < 0 && r != -EEXIST)
                        return r;
                r = seccomp_arch_add(ctx, SCMP_ARCH_X32);
                if (r < 0 && r != -EEXIST)
                        return r;
        } else if (native == SCMP_ARCH_AARCH64) {
                r = seccomp_arch_add(ctx, SCMP_ARCH_ARM);
                if (r < 0 && r != -EEXIST)
                        return r;
        }

        for (size_t i = 0; i < ELEMENTSOF(allowed); i++) {
                r = add_allow(ctx, allowed[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(allowed_on_arch); i++) {
                if (allowed_on_arch[i].arch != (native == SCMP_ARCH_ARM ? SCMP_ARCH_AARCH64 : native))
                        continue;
                r = add_allow(ctx, allowed_on_arch[i].name);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(allowed_with_cap); i++) {
                if (!has_cap(caps, allowed_with_cap[i].cap))
                        continue;
                r = add_allow(ctx, allowed_with_cap[i].name);
                if (r < 0)
                        return r;
        }
        if (allow_ptrace && !has_cap(caps, CAP_SYS_PTRACE))
                for (size_t i = 0; i < ELEMENTSOF(allowed_ptrace); i++) {
                        r = add_allow(ctx, allowed_ptrace[i]);
                        if (r < 0)
                                return r;
                }

        for (size_t i = 0; i < ELEMENTSOF(personalities); i++) {
                r = add_arg0_allow(ctx, "personality", 0, SCMP_CMP_EQ, personalities[i], 0);
                if (r < 0)
                        return r;
        }
        /* every address family but vsock, which reaches the host (or other
         * guests) past the container's network namespace; socketcall (i386)
         * stays open as in Docker: its arguments are in memory */
        r = add_arg0_allow(ctx, "socket", 0, SCMP_CMP_NE, AF_VSOCK, 0);
        if (r < 0)
                return r;

        if (!has_cap(caps, CAP_SYS_ADMIN)) {
                /* clone's flags are its first argument, its second on s390 */
                unsigned arg = native == SCMP_ARCH_S390X || native == SCMP_ARCH_S390 ? 1 : 0;

                r = add_arg0_allow(ctx, "clone", arg, SCMP_CMP_MASKED_EQ, CLONE_NS_FLAGS, 0);
                if (r < 0)
                        return r;
                /* clone3 passes its flags in memory a filter cannot read:
                 * ENOSYS makes libc fall back to clone. */
                r = add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

const char *seccomp_profile_unknown_name(void) {
        for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
                if (seccomp_syscall_resolve_name(allowed[i]) == __NR_SCMP_ERROR)
                        return allowed[i];
        for (size_t i = 0; i < ELEMENTSOF(allowed_on_arch); i++)
                if (seccomp_syscall_resolve_name(allowed_on_arch[i].name) == __NR_SCMP_ERROR)
                        return allowed_on_arch[i].name;
        for (size_t i = 0; i < ELEMENTSOF(allowed_with_cap); i++)
                if (seccomp_syscall_resolve_name(allowed_with_cap[i].name) == __NR_SCMP_ERROR)
                        return allowed_with_cap[i].name;
        for (size_t i = 0; i < ELEMENTSOF(allowed_ptrace); i++)
                if (seccomp_syscall_resolve_name(allowed_ptrace[i]) == __NR_SCMP_ERROR)
                        return allowed_ptrace[i];
        return NULL;
}

int seccomp_profile_apply_default(SeccompCaps caps) {
        scmp_filter_ctx ctx;
        struct utsname u;
        bool allow_ptrace;
        int r;

        allow_ptrace = uname(&u) == 0 && seccomp_kernel_allows_ptrace(u.release);

        /* Docker's defaultAction: EPERM for every call not listed, a call
         * newer than the table included (see seccomp-profile.h) */
        ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        if (!ctx)
                return -ENOMEM;
        r = build(ctx, caps, allow_ptrace);
        if (r >= 0)
                r = seccomp_load(ctx);
        seccomp_release(ctx);
        return r;
}

/* ---- the compiled default profile, made once ---- */

#define PROGRAM_CACHE_MAX 8

static struct {
        SeccompCaps caps;
        SeccompProgram program;
} program_cache[PROGRAM_CACHE_MAX];
static size_t program_cache_len;

static uint64_t fnv1a(uint64_t h, const void *data, size_t size) {
        const unsigned char *p = data;

        for (size_t i = 0; i < size; i++) {
                h ^= p[i];
                h *= UINT64_C(0x100000001b3);
        }
        return h;
}

static uint64_t fnv1a_str(uint64_t h, const char *s) {
        return fnv1a(h, s, strlen(s) + 1);
}

/* Everything the program depends on: a file made by another version of the
 * tables, of libseccomp or for another kernel answer is never used. */
static uint64_t program_key(SeccompCaps caps, bool allow_ptrace) {
        const struct scmp_version *v = seccomp_version();
        uint64_t h = UINT64_C(0xcbf29ce484222325);
        uint32_t native = seccomp_arch_native();

        h = fnv1a(h, &caps, sizeof(caps));
        h = fnv1a(h, &allow_ptrace, sizeof(allow_ptrace));
        h = fnv1a(h, &native, sizeof(native));
        if (v)
                h = fnv1a(h, v, sizeof(*v));
        for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
                h = fnv1a_str(h, allowed[i]);
        for (size_t i = 0; i < ELEMENTSOF(allowed_on_arch); i++) {
                h = fnv1a(h, &allowed_on_arch[i].arch, sizeof(allowed_on_arch[i].arch));
                h = fnv1a_str(h, allowed_on_arch[i].name);
        }
        for (size_t i = 0; i < ELEMENTSOF(allowed_with_cap); i++) {
                h = fnv1a(h, &allowed_with_cap[i].cap, sizeof(allowed_with_cap[i].cap));
                h = fnv1a_str(h, allowed_with_cap[i].name);
        }
        for (size_t i = 0; i < ELEMENTSOF(allowed_ptrace); i++)
                h = fnv1a_str(h, allowed_ptrace[i]);
        h = fnv1a(h, personalities, sizeof(personalities));
        return fnv1a_str(h, "clone-ns-flags, socket without vsock, clone3 ENOSYS, default EPERM");
}

/* A program is whole instructions, at most the kernel's limit. */
static int program_from_fd(int fd, SeccompProgram *ret) {
        struct stat st;
        ssize_t n;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_size <= 0 ||
            st.st_size % (off_t) sizeof(struct sock_filter) != 0 ||
            st.st_size / (off_t) sizeof(struct sock_filter) > BPF_MAXINSNS)
                return -EBADMSG;
        ret->insns = malloc((size_t) st.st_size);
        if (!ret->insns)
                return -ENOMEM;
        n = pread(fd, ret->insns, (size_t) st.st_size, 0);
        if (n != st.st_size) {
                free(ret->insns);
                ret->insns = NULL;
                return n < 0 ? -errno : -EBADMSG;
        }
        ret->len = (unsigned short) (st.st_size / (off_t) sizeof(struct sock_filter));
        return 0;
}

static int program_compile(SeccompCaps caps, bool allow_ptrace, SeccompProgram *ret) {
        scmp_filter_ctx ctx;
        int fd, r;

        fd = memfd_create("zlayer-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        if (!ctx) {
                close(fd);
                return -ENOMEM;
        }
        r = build(ctx, caps, allow_ptrace);
        if (r >= 0)
                r = seccomp_export_bpf(ctx, fd);
        seccomp_release(ctx);
        if (r >= 0)
                r = program_from_fd(fd, ret);
        close(fd);
        return r;
}

/* Written whole under a temporary name, then renamed: a reader finds the
 * complete program or none. A failure only costs the next start a compile. */
static void program_store(int dir_fd, const char *name, const SeccompProgram *p) {
        char tmp[96];
        size_t size = (size_t) p->len * sizeof(struct sock_filter);
        int fd;

        snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", name, (int) getpid());
        (void) unlinkat(dir_fd, tmp, 0);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return;
        if (write(fd, p->insns, size) != (ssize_t) size || fsync(fd) < 0 || close(fd) < 0 ||
            renameat(dir_fd, tmp, dir_fd, name) < 0) {
                (void) unlinkat(dir_fd, tmp, 0);
                return;
        }
}

int seccomp_profile_default_program(int cache_dir_fd, SeccompCaps caps, const SeccompProgram **ret) {
        SeccompProgram p = {};
        struct utsname u;
        bool allow_ptrace;
        char name[64];
        int r = -ENOENT;

        for (size_t i = 0; i < program_cache_len; i++)
                if (program_cache[i].caps == caps) {
                        *ret = &program_cache[i].program;
                        return 0;
                }

        allow_ptrace = uname(&u) == 0 && seccomp_kernel_allows_ptrace(u.release);
        snprintf(name, sizeof(name), "default-%016" PRIx64 ".bpf", program_key(caps, allow_ptrace));
        if (cache_dir_fd >= 0) {
                int fd = openat(cache_dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd >= 0) {
                        r = program_from_fd(fd, &p);
                        close(fd);
                }
        }
        if (r < 0) {
                r = program_compile(caps, allow_ptrace, &p);
                if (r < 0)
                        return r;
                if (cache_dir_fd >= 0)
                        program_store(cache_dir_fd, name, &p);
        }
        if (program_cache_len == PROGRAM_CACHE_MAX) {
                /* a process sees few capability sets: forget the oldest */
                free(program_cache[0].program.insns);
                memmove(program_cache, program_cache + 1, sizeof(program_cache[0]) * (PROGRAM_CACHE_MAX - 1));
                program_cache_len--;
        }
        program_cache[program_cache_len].caps = caps;
        program_cache[program_cache_len].program = p;
        *ret = &program_cache[program_cache_len++].program;
        return 0;
}

int seccomp_program_load(const SeccompProgram *p) {
        struct sock_fprog prog = { .len = p->len, .filter = p->insns };

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
                return -errno;
        return 0;
}
