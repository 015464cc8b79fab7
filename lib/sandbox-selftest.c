/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The test hook of the sandboxes (lib/sandbox.h): a daemon built with
 * -Dtest_hooks=true and started with $ZL_SANDBOX_SELFTEST set tries the
 * named forbidden thing from inside its own sandbox, right where its main
 * would start serving, and reports what the kernel answered. Release builds
 * compile this to nothing. tests/integration/scenarios.d/security.sh drives it. */
#include "config.h"
#include "sandbox.h"

#if ZL_TEST_HOOKS
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macro.h"

static bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int try_connect(const char *arg) {
        struct sockaddr_in sa = { .sin_family = AF_INET };
        _cleanup_free_ char *host = strdup(arg);
        _cleanup_close_ int fd = -1;
        char *colon;

        if (!host || !(colon = strrchr(host, ':')))
                return -EINVAL;
        *colon = 0;
        sa.sin_port = htons((uint16_t) atoi(colon + 1));
        if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
                return -EINVAL;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        return 0;
}

static int try_op(const char *op) {
        int fd;

        if (startswith(op, "write:")) {
                fd = open(op + 6, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0)
                        return -errno;
                close(fd);
                (void) unlink(op + 6);
                return 0;
        }
        if (startswith(op, "read:")) {
                fd = open(op + 5, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                close(fd);
                return 0;
        }
        if (startswith(op, "connect:"))
                return try_connect(op + 8);
        if (streq(op, "setuid0"))
                return setuid(0) < 0 ? -errno : 0;
        /* not in any allowlist: these end in SIGSYS */
        if (streq(op, "mount"))
                return mount("none", "/mnt", "tmpfs", 0, NULL) < 0 ? -errno : 0;
        if (streq(op, "ptrace"))
                return ptrace(PTRACE_ATTACH, getppid(), NULL, NULL) < 0 ? -errno : 0;
        if (streq(op, "unshare-user"))
                return unshare(CLONE_NEWUSER) < 0 ? -errno : 0;
        /* clone is allowed, but not with a namespace flag */
        if (streq(op, "clone-newuser")) {
                long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
                if (pid == 0)
                        _exit(0);
                return pid < 0 ? -errno : 0;
        }
        return -EOPNOTSUPP;
}

void sandbox_selftest_maybe(void) {
        const char *op = getenv("ZL_SANDBOX_SELFTEST");
        int r;

        if (!op)
                return;
        /* a normal exit: atexit handlers (LeakSanitizer's in ASan builds) run
         * under the filter too */
        if (streq(op, "exit")) {
                printf("selftest exit: ok\n");
                exit(EXIT_SUCCESS);
        }
        r = try_op(op);
        if (r == 0)
                printf("selftest %s: ok\n", op);
        else
                printf("selftest %s: errno %s\n", op, strerrorname_np(-r) ?: "?");
        fflush(stdout);
        _exit(0);
}
#else
void sandbox_selftest_maybe(void) {
}
#endif
