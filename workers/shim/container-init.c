/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "container-exec.h"
#include "fdpass.h"
#include "seccomp-profile.h"
#include "shim.h"

static int error_fd = -1, pid_socket_fd = -1;

_noreturn_ _printf_(1, 2) static void die(const char *fmt, ...) {
        char buf[1024];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (n < 0)
                n = 0;
        if ((size_t) n >= sizeof(buf))
                n = sizeof(buf) - 1;
        if (error_fd >= 0)
                (void) !write(error_fd, buf, (size_t) n);
        _exit(127);
}

static void die_with(char *msg, const char *fallback) {
        if (msg)
                die("%s", msg);
        die("%s", fallback);
}

static void apply_rlimits(const LaunchConfig *c) {
        char err[512];

        if (container_apply_rlimits(c, err, sizeof(err)) < 0)
                die("%s", err);
}

/* Namespaced sysctls (the launch config allows no others), written through
 * the container's own /proc: they reach its network / IPC namespace only. */
static void apply_sysctls(const LaunchConfig *c) {
        for (char **s = c->sysctls; s && *s; s++) {
                _cleanup_free_ char *path = NULL;
                const char *eq = strchr(*s, '=');
                _cleanup_close_ int fd = -1;
                size_t n;

                if (asprintf(&path, "/proc/sys/%.*s", (int) (eq - *s), *s) < 0)
                        die("out of memory");
                for (char *q = path + strlen("/proc/sys/"); *q; q++)
                        if (*q == '.')
                                *q = '/';
                fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
                n = strlen(eq + 1);
                if (fd < 0 || write(fd, eq + 1, n) != (ssize_t) n)
                        die("sysctl %.*s=%s: %s", (int) (eq - *s), *s, eq + 1, strerror(errno));
        }
}

static void drop_bounding_set(const bool *want, int ncaps) {
        for (int cap = 0; cap < ncaps; cap++)
                if (!want[cap] && cap_drop_bound(cap) < 0 && errno != EINVAL)
                        die("dropping capability %d from the bounding set: %s", cap, strerror(errno));
}

static void set_caps(const bool *want, int ncaps) {
        cap_t caps = cap_init();
        cap_value_t list[64];
        int n = 0;

        if (!caps)
                die("cap_init: %s", strerror(errno));
        for (int cap = 0; cap < ncaps && n < 64; cap++)
                if (want[cap])
                        list[n++] = cap;
        if (n > 0 &&
            (cap_set_flag(caps, CAP_EFFECTIVE, n, list, CAP_SET) < 0 ||
             cap_set_flag(caps, CAP_PERMITTED, n, list, CAP_SET) < 0 ||
             cap_set_flag(caps, CAP_INHERITABLE, n, list, CAP_SET) < 0))
                die("cap_set_flag: %s", strerror(errno));
        if (cap_set_proc(caps) < 0)
                die("setting capabilities: %s", strerror(errno));
        cap_free(caps);
}

static void switch_user(const ContainerUser *u) {
        char *err = NULL;

        if (container_user_switch(u, &err) < 0)
                die("%s", err ?: "switching the user: out of memory");
}

/* env plus HOME from passwd when the config has none (Docker does this). */
static char **build_env(const LaunchConfig *c, const ContainerUser *u) {
        size_t n = strv_length(c->env);
        char **env = calloc(n + 2, sizeof(char *));
        if (!env)
                die("out of memory");
        memcpy(env, c->env, n * sizeof(char *));
        if (!container_env_get(c->env, "HOME") && asprintf(&env[n], "HOME=%s", u->home) < 0)
                die("out of memory");
        return env;
}

/* The default seccomp profile, unless the container is privileged or its
 * spec says seccomp=unconfined; the calls the container's capabilities make
 * legitimate stay allowed (lib/seccomp-profile.h). */
static void apply_seccomp(const InitParams *p, const bool *caps, int ncaps) {
        const LaunchConfig *c = p->config;
        SeccompCaps mask = 0;
        int r;

        if (c->privileged || streq(strempty(c->seccomp), "unconfined"))
                return;
        for (int i = 0; i < ncaps && i < 64; i++)
                if (caps[i])
                        mask |= UINT64_C(1) << i;
        if (c->seccomp && c->seccomp[0] == '{') {
                char *err = NULL;
                if (seccomp_profile_json_apply(c->seccomp, mask, &err) < 0)
                        die("loading the container's seccomp profile: %s", err ?: "out of memory");
                return;
        }
        r = container_seccomp_apply_default(p->seccomp_program, p->seccomp_caps, mask);
        if (r < 0)
                die("loading the seccomp profile: %s", strerror(-r));
}

/* The first executable file found is the one: when it fails to run, that
 * is the error (a later one in $PATH is not tried). */
_noreturn_ static void exec_entrypoint(const LaunchConfig *c, char **env) {
        _cleanup_free_ char *file = NULL;
        int r;

        (void) prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
        r = path_execve(c->args, env, container_env_get(c->env, "PATH") ?: CONTAINER_DEFAULT_PATH,
                        PATH_EXEC_NEED_X | PATH_EXEC_FIRST, &file);
        if (file)
                die("exec %s: %s", file, strerror(-r));
        if (r == -ENOMEM)
                die("out of memory");
        die("exec: \"%s\": executable file not found in $PATH", c->args[0]);
}

/* The kernel translates the pid in SCM_CREDENTIALS into the receiver's pid
 * namespace: the shim gets our host pid, the one callers see and signal. */
static void send_credentials(int fd) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(struct ucred))];
        } control = {};
        char byte = 'p';
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = control.buf,
                .msg_controllen = sizeof(control.buf),
        };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        struct ucred cred = { .pid = getpid(), .uid = getuid(), .gid = getgid() };

        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_CREDENTIALS;
        cm->cmsg_len = CMSG_LEN(sizeof(cred));
        memcpy(CMSG_DATA(cm), &cred, sizeof(cred));
        if (sendmsg(fd, &mh, MSG_NOSIGNAL) != 1)
                die("sending the entrypoint's pid: %s", strerror(errno));
        close(fd);
}

/* What the container sees as its pid 1: not the shim's command line, which
 * names host paths. prctl(PR_SET_MM_ARG_*) would need CAP_SYS_RESOURCE, so
 * the inherited argv strings are overwritten in place. */
static void set_title(char *area, size_t size) {
        static const char title[] = "zlayer-init";

        (void) prctl(PR_SET_NAME, title, 0, 0, 0);
        if (!area || size < sizeof(title))
                return;
        memset(area, 0, size);
        memcpy(area, title, sizeof(title));
        /* A non-NUL last byte tells the kernel the title was rewritten
         * (setproctitle style): /proc/PID/cmdline then ends at the first NUL
         * instead of showing the whole old area as NULs. */
        if (size > sizeof(title))
                area[size - 1] = ' ';
}

/* tty: a PTY from the container's own devpts (mounted newinstance, so the
 * entrypoint sees /dev/pts/0 and nothing of the host's); the master goes to
 * the shim, the slave becomes the entrypoint's terminal (setup_terminal). */
static int open_container_pty(int shim_socket, const ContainerUser *u) {
        char name[64];
        int master, slave, r;

        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                die("opening /dev/ptmx in the container: %s", strerror(errno));
        if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
                die("unlocking the PTY: %s", strerror(errno));
        slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                die("opening %s: %s", name, strerror(errno));
        /* the user's own terminal, as login would leave it */
        if (fchown(slave, u->uid, (gid_t) -1) < 0)
                die("chown %s: %s", name, strerror(errno));
        r = fdpass_send(shim_socket, master, "T");
        if (r < 0)
                die("sending the PTY master to the shim: %s", strerror(-r));
        close(master);
        return slave;
}

static void setup_terminal(int slave) {
        if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
                die("making the PTY the controlling terminal: %s", strerror(errno));
        if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
                die("dup2 of the PTY: %s", strerror(errno));
        close(slave);
}

_noreturn_ static void run_forwarder(pid_t child, int exit_status_fd, const sigset_t *all) {
        /* the entrypoint's copy of error_fd alone decides EOF (exec) now */
        close(error_fd);
        close(pid_socket_fd);
        error_fd = -1;
        (void) prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);

        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(all, &si);

                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        (void) kill(child, sig);
                        continue;
                }
                for (;;) {
                        int st;
                        pid_t w = waitpid(-1, &st, WNOHANG);
                        if (w <= 0)
                                break;
                        if (w == child) {
                                (void) !write(exit_status_fd, &st, sizeof(st));
                                _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
                        }
                }
        }
}

void container_init_run(const InitParams *p) {
        const LaunchConfig *c = p->config;
        _cleanup_free_ char *err = NULL;
        _cleanup_close_ int rootfd = -1;
        ContainerUser user = {};
        int ncaps, devnull, tty_slave = -1;
        char go;

        error_fd = p->error_fd;
        pid_socket_fd = p->pid_socket;
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                die("PR_SET_PDEATHSIG: %s", strerror(errno));

        /* stdio: the shim's pipes; stdin the shim's pipe with stdin_open, else
         * empty (a tty container's entrypoint gets its PTY later) */
        devnull = p->stdin_fd >= 0 ? p->stdin_fd : open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(p->stdout_fd, 1) < 0 || dup2(p->stderr_fd, 2) < 0)
                die("setting up stdio: %s", strerror(errno));

        /* wait until the shim has moved us into the container's cgroup */
        if (read(p->sync_fd, &go, 1) != 1)
                _exit(126);
        /* a cgroup namespace rooted at our own cgroup, now that we are in it */
        if (unshare(CLONE_NEWCGROUP) < 0)
                die("unshare(CLONE_NEWCGROUP): %s", strerror(errno));
        if (setsid() < 0)
                die("setsid: %s", strerror(errno));

        umask(0);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                die("making mounts private: %s", strerror(errno));
        if (rootfs_mount_overlay(p->root, c, &rootfd, &err) < 0)
                die_with(err, "mounting the overlay");
        if (rootfs_setup(p->root, rootfd, c, &err) < 0)
                die_with(err, "setting up the rootfs");
        if (rootfs_pivot(rootfd, &err) < 0)
                die_with(err, "pivot_root");
        apply_sysctls(c); /* before rootfs_finish makes /proc/sys read-only */
        if (rootfs_finish(c, &err) < 0)
                die_with(err, "finishing the rootfs");
        umask(022);

        if (!isempty(c->hostname) && sethostname(c->hostname, strlen(c->hostname)) < 0)
                die("sethostname %s: %s", c->hostname, strerror(errno));

        apply_rlimits(c);

        if (container_user_resolve(c->user, c->extra_groups, &user, &err) < 0)
                die_with(err, "resolving the user");

        if (c->tty)
                tty_slave = open_container_pty(p->pid_socket, &user);

        ncaps = (int) cap_max_bits();
        if (ncaps <= 0 || ncaps > 64)
                ncaps = CAP_LAST_CAP + 1;
        bool want[64];
        container_caps_compute(c->cap_add, c->cap_drop, c->privileged, want, ncaps);
        drop_bounding_set(want, ncaps);
        switch_user(&user);
        set_caps(want, ncaps);
        if (!c->privileged && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                die("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));

        if (chdir(c->cwd) < 0)
                die("chdir to cwd (\"%s\") set in config.json failed: %s", c->cwd, strerror(errno));

        char **env = build_env(c, &user);
        sigset_t all, old;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, &old);

        pid_t child = fork();
        if (child < 0)
                die("fork: %s", strerror(errno));
        if (child == 0) {
                if (tty_slave >= 0)
                        setup_terminal(tty_slave);
                send_credentials(p->pid_socket);
                /* the shim's fds we still hold are CLOEXEC; reset what we inherited */
                close(p->exit_status_fd);
                signal(SIGPIPE, SIG_DFL);
                sigemptyset(&old);
                sigprocmask(SIG_SETMASK, &old, NULL);
                apply_seccomp(p, want, ncaps); /* last, after no_new_privs */
                exec_entrypoint(c, env);
        }
        if (tty_slave >= 0)
                close(tty_slave);
        set_title(p->title_area, p->title_size);
        run_forwarder(child, p->exit_status_fd, &all);
}
