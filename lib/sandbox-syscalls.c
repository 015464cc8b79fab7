/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The seccomp allowlists of lib/sandbox-seccomp.h. Taken from strace -f -c
 * of every process during the whole integration suite, plus what the same
 * code paths reach on error and what glibc may use instead (newfstatat or
 * statx, epoll_wait or epoll_pwait, clone or clone3). Not here on purpose:
 * mount and the other namespace calls, ptrace, process_vm_*, bpf,
 * perf_event_open, keyctl, init_module, kexec, reboot, swapon, execve
 * (nothing behind zlayerd execs after its start), setuid and friends
 * (privileges are dropped before the filter is loaded), personality. */
#include <stddef.h>

#include "sandbox-seccomp.h"

const char *const sandbox_syscalls_base[] = {
        /* memory, threads' bookkeeping, glibc start-up */
        "brk", "mmap", "munmap", "mprotect", "mremap", "madvise", "futex", "set_robust_list",
        "get_robust_list", "rseq", "set_tid_address", "arch_prctl", "membarrier", "sched_yield",
        "sched_getaffinity", "exit", "exit_group", "restart_syscall", "getrandom", "uname",
        "sysinfo", "prlimit64", "getrlimit", "prctl", "capget",
        /* identity */
        "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getresuid",
        "getresgid", "getgroups",
        /* signals (sd-event's signalfd; abort() and raise()) */
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "signalfd4",
        "kill", "tgkill", "tkill",
        /* sd-event */
        "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
        "timerfd_create", "timerfd_settime", "timerfd_gettime", "eventfd2", "pidfd_open",
        "waitid", "wait4", "poll", "ppoll", "pselect6", "select",
        "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
        /* sd-bus over the links and the bus socket, with fd passing */
        "socket", "connect", "sendmsg", "recvmsg", "sendto", "recvfrom", "getsockopt",
        "setsockopt", "getsockname", "getpeername", "shutdown", "socketpair",
        /* fds */
        "read", "write", "readv", "writev", "pread64", "pwrite64", "lseek", "close",
        "close_range", "fcntl", "ioctl", "dup", "dup2", "dup3", "pipe2",
        NULL
};

const char *const sandbox_syscalls_files[] = {
        "openat", "openat2", "open", "newfstatat", "fstat", "stat", "lstat", "statx", "statfs",
        "fstatfs", "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents64",
        "getcwd", "umask", "mkdirat", "mkdir", "unlinkat", "unlink", "rmdir", "renameat",
        "renameat2", "rename", "linkat", "symlinkat", "fsync", "fdatasync", "ftruncate",
        "fallocate", "fadvise64", "syncfs", "sync_file_range", "getdents", "fchmod", "fchmodat", "flock", "utimensat", "fgetxattr",
        "flistxattr", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
        "copy_file_range", "sendfile", "splice",
        NULL
};

/* fchown: its own directories under --root, created as root and given to
 * --user before the filter is loaded, chowned again when they exist. */
const char *const sandbox_syscalls_broker[] = {
        "fchown",
        NULL
};

/* Only in ASan builds (-Db_sanitize=address): LeakSanitizer stops the world
 * at exit with a tracer thread (clone + ptrace), and a report runs the
 * symbolizer (fork + execve). Without these a sanitizer build's daemons
 * would die of SIGSYS at every exit instead of reporting leaks. */
const char *const sandbox_syscalls_sanitizer[] = {
        "clone", "ptrace", "execve", "process_vm_readv", "wait4", "waitid",
        NULL
};

/* libcurl's threaded resolver, OpenSSL, getaddrinfo's sockets. clone and
 * clone3 are allowed without namespace flags only (lib/sandbox-seccomp.c). */
const char *const sandbox_syscalls_puller[] = {
        "clone", "clone3", "bind", "listen", "accept4", "sched_setaffinity",
        NULL
};

/* Extraction: ownership, modes, times, xattrs, device nodes for whiteouts;
 * a child per unpack (fork) that drops capabilities it does not need. */
const char *const sandbox_syscalls_archive[] = {
        "clone", "clone3", "fchown", "fchownat", "lchown", "chown", "mknodat", "mknod",
        "fsetxattr", "setxattr", "lsetxattr", "getxattr", "lgetxattr", "listxattr", "llistxattr",
        "fremovexattr", "lremovexattr", "removexattr", "capset", "symlink", "link", "chmod",
        "futimesat", "utimes", "utime", "truncate", "chdir", "fchdir",
        NULL
};

/* zlayer-stats, instead of sandbox_syscalls_files: it only reads, so it has
 * no call that creates, removes, renames, links, truncates or chowns. */
const char *const sandbox_syscalls_stats[] = {
        "openat", "open", "newfstatat", "fstat", "stat", "lstat", "statx", "statfs", "fstatfs",
        "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents64", "getdents",
        "fadvise64",
        NULL
};
