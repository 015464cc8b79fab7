/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zl-syscall NAME…: makes each named system call with harmless arguments
 * and prints "NAME: ok" or "NAME: errno ENAME", one line each. Built static
 * by tests/integration/scenarios.d/security.sh and bind-mounted into a
 * busybox container, to reach the calls busybox has no applet for. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

static long call(const char *name) {
        if (!strcmp(name, "add_key"))
                /* a key on this process's own keyring: gone when it exits */
                return syscall(SYS_add_key, "user", "zl-probe", "x", 1, -2 /* KEY_SPEC_PROCESS_KEYRING */);
        if (!strcmp(name, "keyctl"))
                return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
        if (!strcmp(name, "userfaultfd"))
                return syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
        if (!strcmp(name, "personality-bsd"))
                return syscall(SYS_personality, PER_BSD);
        if (!strcmp(name, "personality-query"))
                return syscall(SYS_personality, 0xffffffffUL);
        if (!strcmp(name, "socket-vsock"))
                return socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (!strcmp(name, "socket-unix"))
                return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (!strcmp(name, "clone3"))
                return syscall(SYS_clone3, NULL, 0);
        if (!strcmp(name, "unshare-uts"))
                return unshare(CLONE_NEWUTS);
        if (!strcmp(name, "sethostname"))
                return sethostname("zl-probe", 8);
        if (!strcmp(name, "kexec_load"))
                return syscall(SYS_kexec_load, 0, 0, NULL, 0);
        if (!strcmp(name, "nr-1000")) /* no kernel has it yet */
                return syscall(1000);
        if (!strcmp(name, "getppid"))
                return getppid();
        errno = EINVAL;
        return -1;
}

int main(int argc, char **argv) {
        for (int i = 1; i < argc; i++) {
                errno = 0;
                if (call(argv[i]) < 0)
                        printf("%s: errno %s\n", argv[i], strerrorname_np(errno) ?: "?");
                else
                        printf("%s: ok\n", argv[i]);
        }
        return 0;
}
