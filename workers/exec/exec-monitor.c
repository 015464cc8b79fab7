/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-exec monitor and the exec'd child (see exec-monitor.h). Both run
 * in processes forked from zlayer-exec and never return. */
#include <endian.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <limits.h>
#include <termios.h>

#include "container-exec.h"
#include "exec-monitor.h"
#include "fdpass.h"
#include "macro.h"
#include "seccomp-profile.h"
#include "../shim/shim.h"

#define RELAY_CHUNK 32768
/* after the child exited: how long output of its leftovers is still relayed */
#define DRAIN_TIMEOUT_MS 200

int exec_wait_status_to_code(int status) {
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return -1;
}

static int send_msg(int sock, int fd, const char *fmt, ...) _printf_(3, 4);
static int send_msg(int sock, int fd, const char *fmt, ...) {
        char buf[1024];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        return fdpass_send(sock, fd, buf);
}

/* ---------------------------------------------------------------- child */

static int child_sync = -1;

_noreturn_ _printf_(1, 2) static void child_die(const char *fmt, ...) {
        char buf[1024];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        (void) send_msg(child_sync, -1, "ERR %s", buf);
        _exit(127);
}

/* Returns the capabilities kept, as a SeccompCaps mask. */
static SeccompCaps child_set_caps(const LaunchConfig *c, bool privileged, const ContainerUser *u) {
        int ncaps = (int) cap_max_bits();
        SeccompCaps mask = 0;
        bool want[64];
        cap_value_t list[64];
        int n = 0;

        if (ncaps <= 0 || ncaps > 64)
                ncaps = CAP_LAST_CAP + 1;
        container_caps_compute(c->cap_add, c->cap_drop, privileged, want, ncaps);
        for (int cap = 0; cap < ncaps; cap++) {
                if (!want[cap] && cap_drop_bound(cap) < 0 && errno != EINVAL)
                        child_die("dropping capability %d from the bounding set: %s", cap, strerror(errno));
        }

        char *err = NULL;
        if (container_user_switch(u, &err) < 0)
                child_die("%s", err ?: "switching the user: out of memory");

        cap_t caps = cap_init();
        if (!caps)
                child_die("cap_init: %s", strerror(errno));
        for (int cap = 0; cap < ncaps; cap++)
                if (want[cap]) {
                        list[n++] = cap;
                        mask |= UINT64_C(1) << cap;
                }
        if (n > 0 &&
            (cap_set_flag(caps, CAP_EFFECTIVE, n, list, CAP_SET) < 0 ||
             cap_set_flag(caps, CAP_PERMITTED, n, list, CAP_SET) < 0 ||
             cap_set_flag(caps, CAP_INHERITABLE, n, list, CAP_SET) < 0))
                child_die("cap_set_flag: %s", strerror(errno));
        if (cap_set_proc(caps) < 0)
                child_die("setting capabilities: %s", strerror(errno));
        cap_free(caps);
        return mask;
}

/* The container's rlimits, clamped like the shim does (a hard limit cannot
 * be raised without CAP_SYS_RESOURCE). */
static void child_apply_rlimits(const LaunchConfig *c) {
        char err[512];

        if (container_apply_rlimits(c, err, sizeof(err)) < 0)
                child_die("%s", err);
}

/* The container's env, then the exec's (a key set twice: the exec's wins),
 * then HOME from passwd and TERM for a tty when neither set them. */
static char **child_build_env(const ExecRequest *q, const ContainerUser *u) {
        size_t n = strv_length(q->config->env) + strv_length(q->env) + 3, k = 0;
        char **env = calloc(n, sizeof(char *));

        if (!env)
                child_die("out of memory");
        for (size_t pass = 0; pass < 2; pass++)
                for (char *const *e = pass == 0 ? q->config->env : q->env; e && *e; e++) {
                        const char *eq = strchr(*e, '=');
                        size_t klen = eq ? (size_t) (eq - *e) : strlen(*e);
                        size_t i;
                        for (i = 0; i < k; i++)
                                if (strneq(env[i], *e, klen) && env[i][klen] == '=')
                                        break;
                        env[i] = *e;
                        if (i == k)
                                k++;
                }
        if (!container_env_get(env, "HOME") && asprintf(&env[k++], "HOME=%s", u->home) < 0)
                child_die("out of memory");
        if (q->tty && !container_env_get(env, "TERM") && !(env[k++] = strdup("TERM=xterm")))
                child_die("out of memory");
        return env;
}

/* Every regular file of that name in $PATH is tried, as execvp() does; the
 * error is the last one's. */
_noreturn_ static void child_exec(char **argv, char **env) {
        _cleanup_free_ char *file = NULL;
        int r;

        r = path_execve(argv, env, container_env_get(env, "PATH") ?: CONTAINER_DEFAULT_PATH, 0, &file);
        if (!file && r == -ENOMEM)
                child_die("out of memory");
        child_die("exec %s: %s", argv[0], strerror(-r));
}

/* Allocates the PTY from the devpts of the container (we are in its mount
 * namespace): the master goes to the monitor, the slave becomes our
 * controlling terminal and stdio. */
static void child_setup_pty(void) {
        char name[64];
        int master, slave;

        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                child_die("opening /dev/ptmx in the container: %s", strerror(errno));
        if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
                child_die("unlocking the PTY: %s", strerror(errno));
        slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                child_die("opening %s: %s", name, strerror(errno));
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                child_die("TIOCSCTTY: %s", strerror(errno));
        if (send_msg(child_sync, master, "PTY") < 0)
                _exit(127);
        close(master);
        if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
                child_die("dup2: %s", strerror(errno));
        close(slave);
}

_noreturn_ static void child_run(const ExecRequest *q, int sync_fd, const int stdio[3]) {
        ContainerUser user = {};
        char *err = NULL;
        char go;

        child_sync = sync_fd;
        /* the monitor puts us into the container's cgroups first */
        if (read(sync_fd, &go, 1) != 1)
                _exit(127);
        if (setns(q->init_pidfd, CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP) < 0)
                child_die("joining the namespaces of the container: %s", strerror(errno));
        close(q->init_pidfd);
        if (setsid() < 0)
                child_die("setsid: %s", strerror(errno));

        if (q->tty)
                child_setup_pty();
        else {
                for (int i = 0; i < 3; i++)
                        if (dup2(stdio[i], i) < 0)
                                child_die("dup2: %s", strerror(errno));
                for (int i = 0; i < 3; i++)
                        if (stdio[i] > 2)
                                close(stdio[i]);
        }

        child_apply_rlimits(q->config);
        if (container_user_resolve(!isempty(q->user) ? q->user : q->config->user, q->config->extra_groups, &user,
                                   &err) < 0)
                child_die("%s", err ?: "resolving the user: out of memory");
        const char *cwd = !isempty(q->working_dir) ? q->working_dir : q->config->cwd;
        if (chdir(cwd) < 0)
                child_die("chdir to %s: %s", cwd, strerror(errno));
        char **env = child_build_env(q, &user);

        bool privileged = q->privileged || q->config->privileged;
        SeccompCaps kept = child_set_caps(q->config, privileged, &user);
        if (!privileged && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                child_die("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
        /* the container's filter, as the shim loads it for the entrypoint:
         * none for a privileged or seccomp=unconfined container */
        if (!q->config->privileged && !streq(strempty(q->config->seccomp), "unconfined")) {
                if (q->config->seccomp && q->config->seccomp[0] == '{') {
                        char *perr = NULL;
                        if (seccomp_profile_json_apply(q->config->seccomp, kept, &perr) < 0)
                                child_die("loading the container's seccomp profile: %s", perr ?: "out of memory");
                } else {
                        int r = container_seccomp_apply_default(q->seccomp_program, q->seccomp_caps, kept);
                        if (r < 0)
                                child_die("loading the seccomp profile: %s", strerror(-r));
                }
        }
        /* after the credential change, which resets it: a monitor killed
         * outright takes the exec'd process with it */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (getppid() == 1)
                _exit(127);

        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < _NSIG; sig++)
                signal(sig, SIG_DFL);
        child_exec(q->argv, env);
}

/* -------------------------------------------------------------- monitor */

typedef struct Relay {
        int sock;               /* our end of the caller's socket, -1 when closed */
        int in_w;               /* the child's stdin pipe, -1 when none/closed */
        int out_r[2];           /* stdout/stderr pipes, -1 when none/EOF */
        bool sock_eof, sock_broken;
        char out[8 + RELAY_CHUNK];
        size_t out_len, out_off;
        char in[RELAY_CHUNK];
        size_t in_len, in_off;
} Relay;

static void relay_close(int *fd) {
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

/* One read of stdout (i = 0) or stderr (i = 1) into a frame. */
static void relay_read_output(Relay *r, int i) {
        ssize_t n = read(r->out_r[i], r->out + 8, RELAY_CHUNK);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) {
                relay_close(&r->out_r[i]);
                return;
        }
        if (r->sock_broken) /* nobody reads: drain so that the child never blocks */
                return;
        uint32_t len = htobe32((uint32_t) n);
        r->out[0] = (char) (i + 1);
        r->out[1] = r->out[2] = r->out[3] = 0;
        memcpy(r->out + 4, &len, 4);
        r->out_len = 8 + (size_t) n;
        r->out_off = 0;
}

static void relay_write_output(Relay *r) {
        ssize_t n = send(r->sock, r->out + r->out_off, r->out_len - r->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n < 0) {
                r->sock_broken = true;
                r->out_len = r->out_off = 0;
                return;
        }
        r->out_off += (size_t) n;
        if (r->out_off == r->out_len)
                r->out_len = r->out_off = 0;
}

static void relay_read_input(Relay *r) {
        ssize_t n = recv(r->sock, r->in, sizeof(r->in), MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) {
                r->sock_eof = true;
                if (r->in_len == 0)
                        relay_close(&r->in_w); /* the caller is done: EOF on stdin */
                return;
        }
        if (r->in_w < 0)
                return; /* stdin not attached: discard */
        r->in_len = (size_t) n;
        r->in_off = 0;
}

static void relay_write_input(Relay *r) {
        ssize_t n = write(r->in_w, r->in + r->in_off, r->in_len - r->in_off);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n < 0) {
                relay_close(&r->in_w);
                r->in_len = r->in_off = 0;
                return;
        }
        r->in_off += (size_t) n;
        if (r->in_off == r->in_len) {
                r->in_len = r->in_off = 0;
                if (r->sock_eof)
                        relay_close(&r->in_w);
        }
}

static void monitor_handle_request(int status_fd, pid_t child, bool *worker_gone) {
        char buf[64];
        ssize_t n = recv(status_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        int sig;

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) {
                /* zlayer-exec is gone, and with it whoever could wait for us */
                *worker_gone = true;
                (void) kill(child, SIGKILL);
                return;
        }
        buf[n] = '\0';
        if (sscanf(buf, "KILL %d", &sig) == 1 && sig > 0 && sig < _NSIG)
                (void) kill(child, sig);
}

/* Relays until the child exited and its output is drained; returns the wait status. */
static int monitor_loop(Relay *r, int status_fd, pid_t child) {
        int child_pidfd = (int) syscall(SYS_pidfd_open, child, 0);
        bool exited = false, worker_gone = false;
        int status = 0;

        for (;;) {
                struct pollfd p[6];
                int np = 0, i_status, i_child = -1, i_sock = -1, i_out[2] = { -1, -1 }, i_in = -1;
                bool outputs_open = r->out_r[0] >= 0 || r->out_r[1] >= 0 || r->out_len > 0;

                if (exited && (!outputs_open || r->sock < 0))
                        break;

                i_status = np;
                p[np++] = (struct pollfd) { .fd = worker_gone ? -1 : status_fd, .events = POLLIN };
                if (!exited && child_pidfd >= 0) {
                        i_child = np;
                        p[np++] = (struct pollfd) { .fd = child_pidfd, .events = POLLIN };
                }
                if (r->sock >= 0) {
                        short ev = 0;
                        if (r->out_len > 0)
                                ev |= POLLOUT;
                        if (!r->sock_eof && r->in_len == 0)
                                ev |= POLLIN;
                        if (ev) {
                                i_sock = np;
                                p[np++] = (struct pollfd) { .fd = r->sock, .events = ev };
                        }
                }
                for (int k = 0; k < 2; k++)
                        if (r->out_len == 0 && r->out_r[k] >= 0) {
                                i_out[k] = np;
                                p[np++] = (struct pollfd) { .fd = r->out_r[k], .events = POLLIN };
                        }
                if (r->in_len > 0 && r->in_w >= 0) {
                        i_in = np;
                        p[np++] = (struct pollfd) { .fd = r->in_w, .events = POLLOUT };
                }

                int n = poll(p, np, exited ? DRAIN_TIMEOUT_MS : (child_pidfd >= 0 ? -1 : 100));
                if (n < 0 && errno != EINTR)
                        break;
                if (n == 0 && exited)
                        break; /* leftovers of the child keep the pipes open: stop here */
                if (!exited && (child_pidfd < 0 || (i_child >= 0 && p[i_child].revents))) {
                        pid_t w = waitpid(child, &status, child_pidfd < 0 ? WNOHANG : 0);
                        if (w == child)
                                exited = true;
                }
                if (n <= 0)
                        continue;
                if (p[i_status].revents)
                        monitor_handle_request(status_fd, child, &worker_gone);
                if (i_sock >= 0 && (p[i_sock].revents & (POLLOUT | POLLERR | POLLHUP)) && r->out_len > 0)
                        relay_write_output(r);
                if (i_sock >= 0 && (p[i_sock].revents & (POLLIN | POLLHUP | POLLERR)) && !r->sock_eof &&
                    r->in_len == 0)
                        relay_read_input(r);
                for (int k = 0; k < 2; k++)
                        if (i_out[k] >= 0 && p[i_out[k]].revents && r->out_len == 0)
                                relay_read_output(r, k);
                if (i_in >= 0 && p[i_in].revents)
                        relay_write_input(r);
        }
        if (!exited)
                (void) waitpid(child, &status, 0);
        if (child_pidfd >= 0)
                close(child_pidfd);
        return status;
}

static void close_all_except(const int *keep, size_t n) {
        int from = 3;
        for (;;) {
                int next = INT_MAX;
                for (size_t i = 0; i < n; i++)
                        if (keep[i] >= from && keep[i] < next)
                                next = keep[i];
                if (next == INT_MAX) {
                        (void) close_range((unsigned) from, ~0U, 0);
                        return;
                }
                if (next > from)
                        (void) close_range((unsigned) from, (unsigned) next - 1, 0);
                from = next + 1;
        }
}

/* Gets the master or "ERR …" from the child, or EOF once it exec'd. */
static int monitor_await_exec(int sync_fd, int *ret_master, char *err, size_t errsize) {
        for (;;) {
                char buf[1100];
                union {
                        struct cmsghdr h;
                        char buf[CMSG_SPACE(sizeof(int))];
                } control = {};
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                                     .msg_controllen = sizeof(control) };
                ssize_t n = recvmsg(sync_fd, &mh, MSG_CMSG_CLOEXEC);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return 0;
                buf[n] = '\0';
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                                memcpy(ret_master, CMSG_DATA(c), sizeof(int));
                if (strneq(buf, "ERR ", 4)) {
                        snprintf(err, errsize, "%s", buf + 4);
                        return -EINVAL;
                }
        }
}

_noreturn_ static void monitor_run(const ExecRequest *q, int status_fd) {
        Relay relay = { .sock = -1, .in_w = -1, .out_r = { -1, -1 } };
        int child_stdio[3] = { -1, -1, -1 }, sync[2], caller_fd = -1, master = -1;
        char err[1100] = "";
        pid_t child;

        {
                const int keep[] = { status_fd, q->init_pidfd };
                close_all_except(keep, ELEMENTSOF(keep));
        }
        for (int sig = 1; sig < _NSIG; sig++)
                signal(sig, SIG_DFL);
        signal(SIGPIPE, SIG_IGN);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        (void) prctl(PR_SET_NAME, "zlayer-exec-mon", 0, 0, 0);

        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
                _exit(1);

        if (!q->tty) {
                int sp[2], p[2];
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                        goto fail_errno;
                relay.sock = sp[0];
                caller_fd = sp[1];
                (void) fcntl(relay.sock, F_SETFL, O_NONBLOCK);
                child_stdio[0] = child_stdio[1] = child_stdio[2] = null;
                if (q->attach_stdin) {
                        if (pipe2(p, O_CLOEXEC) < 0)
                                goto fail_errno;
                        child_stdio[0] = p[0];
                        relay.in_w = p[1];
                        (void) fcntl(relay.in_w, F_SETFL, O_NONBLOCK);
                }
                for (int i = 0; i < 2; i++)
                        if (i == 0 ? q->attach_stdout : q->attach_stderr) {
                                if (pipe2(p, O_CLOEXEC) < 0)
                                        goto fail_errno;
                                relay.out_r[i] = p[0];
                                child_stdio[i + 1] = p[1];
                        }
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0)
                goto fail_errno;

        /* joining a pid namespace applies to children: fork after it */
        if (setns(q->init_pidfd, CLONE_NEWPID) < 0) {
                snprintf(err, sizeof(err), "joining the pid namespace of the container: %s", strerror(errno));
                goto fail;
        }
        child = fork();
        if (child < 0)
                goto fail_errno;
        if (child == 0) {
                close(sync[0]);
                close(status_fd);
                relay_close(&relay.sock);
                relay_close(&relay.in_w);
                relay_close(&relay.out_r[0]);
                relay_close(&relay.out_r[1]);
                if (caller_fd >= 0)
                        close(caller_fd);
                child_run(q, sync[1], child_stdio);
        }
        close(sync[1]);
        for (int i = 0; i < 3; i++)
                if (child_stdio[i] != null && child_stdio[i] >= 0)
                        close(child_stdio[i]);

        /* still in the host's mount and cgroup namespaces: the cgroupfs paths are ours */
        int r = cgroup_attach_pid(q->cgroup, q->cgroup_path, child);
        if (r < 0) {
                snprintf(err, sizeof(err), "joining cgroup %s: %s", q->cgroup_path, strerror(-r));
                (void) kill(child, SIGKILL);
                (void) waitpid(child, NULL, 0);
                goto fail;
        }
        if (write(sync[0], "G", 1) != 1 || monitor_await_exec(sync[0], &master, err, sizeof(err)) < 0 ||
            (q->tty && master < 0)) {
                if (!err[0])
                        snprintf(err, sizeof(err), "the exec'd process died before exec");
                (void) kill(child, SIGKILL);
                (void) waitpid(child, NULL, 0);
                goto fail;
        }
        close(sync[0]);

        if (send_msg(status_fd, q->tty ? master : caller_fd, "OK %d", (int) child) < 0) {
                (void) kill(child, SIGKILL);
                (void) waitpid(child, NULL, 0);
                _exit(1);
        }
        /* no copy of the caller's fd stays here: its close is the caller's hangup */
        if (master >= 0)
                close(master);
        if (caller_fd >= 0)
                close(caller_fd);

        int status = monitor_loop(&relay, status_fd, child);
        relay_close(&relay.sock);
        (void) send_msg(status_fd, -1, "EXIT %d", exec_wait_status_to_code(status));
        _exit(0);

fail_errno:
        snprintf(err, sizeof(err), "setting up the exec: %s", strerror(errno));
fail:
        (void) send_msg(status_fd, -1, "ERR %s", err);
        _exit(1);
}

int exec_monitor_spawn(const ExecRequest *req, pid_t *ret_pid, int *ret_status_fd) {
        ExecRequest q = *req;
        int sp[2];
        pid_t pid;

        /* here, where the compiled program outlives the fork: an exec then
         * pays libseccomp's compile once per capability set, not each time */
        q.seccomp_program = container_seccomp_prepare(NULL, req->config, req->privileged || req->config->privileged,
                                                      &q.seccomp_caps);

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(sp[0]);
                close(sp[1]);
                return r;
        }
        if (pid == 0) {
                close(sp[0]);
                monitor_run(&q, sp[1]);
        }
        close(sp[1]);
        *ret_pid = pid;
        *ret_status_fd = sp[0];
        return 0;
}
