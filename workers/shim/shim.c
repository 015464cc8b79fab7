/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zlayer-shim: one per container, parent of the container's init. Started by
 * zlayer-exec (double fork, setsid) with a status pipe on fd 3, on which it
 * reports "OK <shim pid> <shim starttime> <init pid> <init starttime>
 * <started_at usec>\n" once the entrypoint was exec'd, or "ERR <cause>\n".
 * Then it copies the init's stdout/stderr into ctr.log as CRI lines, waits
 * for the init and writes exit.json. */
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "attach.h"
#include "cgroup.h"
#include "crilog.h"
#include "fdpass.h"
#include "fileio.h"
#include "ids.h"
#include "log.h"
#include "logrotate.h"
#include "network.h"
#include "procfs.h"
#include "shim.h"
#include "signals.h"

#define STATUS_FD 3
#define DRAIN_TIMEOUT_MSEC 2000

/* attach.c: the container's output also goes to its attachers */
static AttachServer *attach_server;

typedef struct Args {
        const char *root, *run_dir, *id;
        gid_t log_gid;
        bool debug;
} Args;

/* One read() takes up to a pipe's default capacity: fewer reads, and
 * bigger batches of records per write() to ctr.log. */
#define STREAM_BUF (4 * CRILOG_MAX_RECORD)

typedef struct Stream {
        int fd;
        bool is_stderr;
        char buf[STREAM_BUF];
        size_t len;             /* < CRILOG_MAX_RECORD between reads: an unfinished line */
} Stream;

static int parse_args(int argc, char **argv, Args *a) {
        enum { ARG_ROOT = 0x100, ARG_RUN_DIR, ARG_ID, ARG_LOG_GID, ARG_DEBUG };
        static const struct option options[] = {
                { "root", required_argument, NULL, ARG_ROOT },
                { "run-dir", required_argument, NULL, ARG_RUN_DIR },
                { "id", required_argument, NULL, ARG_ID },
                { "log-gid", required_argument, NULL, ARG_LOG_GID },
                { "debug", no_argument, NULL, ARG_DEBUG },
                {}
        };
        int c;

        *a = (Args) { .log_gid = 0 };
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_ROOT: a->root = optarg; break;
                case ARG_RUN_DIR: a->run_dir = optarg; break;
                case ARG_ID: a->id = optarg; break;
                case ARG_LOG_GID: {
                        char *end;
                        errno = 0;
                        unsigned long g = strtoul(optarg, &end, 10);
                        if (errno != 0 || *end || end == optarg || g >= (gid_t) -1)
                                return -EINVAL;
                        a->log_gid = (gid_t) g;
                        break;
                }
                case ARG_DEBUG: a->debug = true; break;
                default: return -EINVAL;
                }
        if (!a->root || a->root[0] != '/' || !a->run_dir || a->run_dir[0] != '/' ||
            !container_id_is_valid(a->id) || optind < argc)
                return -EINVAL;
        return 0;
}

static uint64_t now_nsec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static void report(const char *fmt, ...) _printf_(1, 2);
static void report(const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        for (char *p = msg; *p; p++)
                if (*p == '\n' && p[1] != '\0')
                        *p = ' ';
        (void) loop_write(STATUS_FD, msg, (size_t) n);
        close(STATUS_FD);
}

/* One record into the batch of ctr.log (written by stream_flush). */
static void log_record(LogRotate *l, const char *ts, size_t ts_len, bool is_stderr, const char *text, size_t n,
                       bool partial) {
        size_t size = crilog_record_size(ts_len, n);
        char *p;

        if (logrotate_reserve(l, size, &p) < 0) {
                log_warning("Out of memory, a record of %zu bytes is not logged", n);
                return;
        }
        logrotate_commit(l, crilog_format_record(p, ts, ts_len, is_stderr, text, n, partial));
}

/* Emits complete lines of @s as F records, an unfinished line of
 * CRILOG_MAX_RECORD bytes or more as P records of that size (the rest waits
 * for more), then writes them all at once: every record of one read() in
 * one write(), with the time of that read(). */
static void stream_flush(Stream *s, LogRotate *l, bool eof) {
        size_t start = 0;
        char ts[40];
        int ts_len;

        ts_len = crilog_format_time(now_nsec(), ts, sizeof(ts));
        if (ts_len < 0)
                return;
        for (;;) {
                char *nl = memchr(s->buf + start, '\n', s->len - start);
                if (!nl)
                        break;
                size_t n = (size_t) (nl - (s->buf + start));
                log_record(l, ts, (size_t) ts_len, s->is_stderr, s->buf + start, n, false);
                start += n + 1;
        }
        while (s->len - start >= CRILOG_MAX_RECORD) {
                log_record(l, ts, (size_t) ts_len, s->is_stderr, s->buf + start, CRILOG_MAX_RECORD, true);
                start += CRILOG_MAX_RECORD;
        }
        if (eof && s->len > start) {
                log_record(l, ts, (size_t) ts_len, s->is_stderr, s->buf + start, s->len - start, false);
                start = s->len;
        }
        if (start > 0) {
                memmove(s->buf, s->buf + start, s->len - start);
                s->len -= start;
        }
        (void) logrotate_flush(l);
}

/* false at EOF */
static bool stream_read(Stream *s, LogRotate *l) {
        ssize_t n = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        if (n <= 0) {
                stream_flush(s, l, true);
                close(s->fd);
                s->fd = -1;
                return false;
        }
        attach_server_output(attach_server, s->is_stderr, s->buf + s->len, (size_t) n);
        s->len += (size_t) n;
        stream_flush(s, l, false);
        return true;
}

static int receive_pid(int fd, pid_t *ret) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(struct ucred))];
        } control;
        char byte;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = control.buf,
                .msg_controllen = sizeof(control.buf),
        };

        if (recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1)
                return errno > 0 ? -errno : -EBADMSG;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS &&
                    cm->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
                        struct ucred cred;
                        memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
                        if (cred.pid <= 0)
                                return -ESRCH;
                        *ret = cred.pid;
                        return 0;
                }
        return -EBADMSG;
}

static int write_exit_json(int rundir, int exit_code, const char *reason, const char *sig, uint64_t finished_at) {
        json_object *o = json_object_new_object();
        const char *s;
        int r;

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "exit_code", json_object_new_int(exit_code));
        json_object_object_add(o, "reason", json_object_new_string(reason));
        json_object_object_add(o, "signal", json_object_new_string(sig));
        json_object_object_add(o, "finished_at", json_object_new_uint64(finished_at));
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        r = write_file_replace_at(rundir, "exit.json", s, strlen(s), 0644);
        json_object_put(o);
        return r;
}

static int open_ctr_log(const Args *a, const LaunchConfig *config, int *ret_dir, LogRotate *l) {
        _cleanup_free_ char *p = NULL;
        _cleanup_close_ int dfd = -1;
        int r;

        if (asprintf(&p, "%s/containers/%s", a->root, a->id) < 0)
                return -ENOMEM;
        dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        *l = (LogRotate) {
                .dir_fd = dfd,
                .name = "ctr.log",
                .max_size = LOGROTATE_DEFAULT_MAX_SIZE,
                .max_files = LOGROTATE_DEFAULT_MAX_FILES,
                .gid = a->log_gid,
                .fd = -1,
        };
        if (config->log_max_size > 0)
                l->max_size = config->log_max_size;
        if (config->log_max_files > 0)
                l->max_files = config->log_max_files;
        r = logrotate_open(l);
        if (r < 0)
                return r;
        *ret_dir = TAKE_FD(dfd);
        return 0;
}

int main(int argc, char **argv) {
        _cleanup_launch_config_ LaunchConfig *config = NULL;
        _cleanup_cgroup_driver_ CgroupDriver *cg = NULL;
        _cleanup_free_ char *json = NULL, *perr = NULL, *cgpath = NULL, *rundir_path = NULL;
        _cleanup_close_ int rundir = -1, log_dir = -1, sfd = -1;
        LogRotate lr = { .fd = -1 };
        int out[2], err[2], sync_pipe[2], exec_err[2], exit_pipe[2], pid_sock[2], in[2] = { -1, -1 };
        int master = -1;
        uint64_t shim_start, init_start, oom_before = 0, started_at;
        Stream sout = { .is_stderr = false }, serr = { .is_stderr = true }, smaster = { .fd = -1 };
        sigset_t mask, oldmask;
        char msg[1024];
        ssize_t n;
        pid_t pid;
        Args a;
        int r;

        log_set_program("zlayer-shim");
        if (parse_args(argc, argv, &a) < 0) {
                report("ERR zlayer-shim: invalid arguments\n");
                return 2;
        }
        if (a.debug)
                log_set_max_level(LOG_DEBUG);

        if (asprintf(&rundir_path, "%s/containers/%s", a.run_dir, a.id) < 0)
                return 1;
        rundir = open(rundir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rundir < 0) {
                report("ERR opening %s: %s\n", rundir_path, strerror(errno));
                return 1;
        }
        int shim_log = openat(rundir, "shim.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (shim_log >= 0) {
                (void) dup2(shim_log, STDERR_FILENO);
                close(shim_log);
        }

        r = read_file_at(rundir, "launch.json", 4 * 1024 * 1024, &json, NULL);
        if (r < 0) {
                report("ERR reading %s/launch.json: %s\n", rundir_path, strerror(-r));
                return 1;
        }
        r = launch_config_parse(json, &config, &perr);
        if (r < 0 || !streq(config->id, a.id)) {
                report("ERR invalid launch config: %s\n", perr ?: "id does not match");
                return 1;
        }
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                log_warning_errno(-errno, "PR_SET_CHILD_SUBREAPER failed: %m");

        r = cgroup_driver_new_detect(NULL, &cg);
        if (r < 0) {
                report("ERR detecting the cgroup version: %s\n", strerror(-r));
                return 1;
        }
        if ((r = cgroup_create(cg, CGROUP_SHIMS_PATH)) < 0 || (r = cgroup_attach_pid(cg, CGROUP_SHIMS_PATH, getpid())) < 0)
                log_warning_errno(r, "Failed to move the shim into cgroup %s: %m", CGROUP_SHIMS_PATH);
        r = cgroup_container_path(a.id, &cgpath);
        if (r < 0)
                return 1;
        (void) cgroup_read_oom_kills(cg, cgpath, &oom_before);

        if ((r = proc_starttime(getpid(), &shim_start)) < 0 ||
            (r = pid_file_write_at(rundir, "shim.pid", getpid(), shim_start)) < 0) {
                report("ERR writing shim.pid: %s\n", strerror(-r));
                return 1;
        }

        r = open_ctr_log(&a, config, &log_dir, &lr);
        if (r < 0) {
                report("ERR opening ctr.log of %s: %s\n", a.id, strerror(-r));
                return 1;
        }

        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
            pipe2(sync_pipe, O_CLOEXEC) < 0 || pipe2(exec_err, O_CLOEXEC) < 0 ||
            pipe2(exit_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
            socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pid_sock) < 0 ||
            setsockopt(pid_sock[0], SOL_SOCKET, SO_PASSCRED, &(int) { 1 }, sizeof(int)) < 0 ||
            (config->stdin_open && !config->tty && pipe2(in, O_CLOEXEC) < 0)) {
                report("ERR pipe: %s\n", strerror(errno));
                return 1;
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, &oldmask);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0) {
                report("ERR signalfd: %s\n", strerror(errno));
                return 1;
        }

        /* compiled (or found in ROOT/seccomp) while ROOT is reachable; the
         * init loads it last, inside the container */
        SeccompCaps seccomp_caps = 0;
        const SeccompProgram *seccomp_program = container_seccomp_prepare(a.root, config, config->privileged,
                                                                          &seccomp_caps);

        unsigned long flags = CLONE_NEWNS | CLONE_NEWUTS | SIGCHLD;
        /* pid_mode / ipc_mode "host": the host's namespace instead of a new one */
        if (!config->host_pid)
                flags |= CLONE_NEWPID;
        if (!config->host_ipc)
                flags |= CLONE_NEWIPC;
        if (!streq(config->network_mode, "host"))
                flags |= CLONE_NEWNET;
        /* fork-like clone: no new stack, the child continues here */
        pid = (pid_t) syscall(SYS_clone, flags, NULL, NULL, NULL, 0);
        if (pid < 0) {
                report("ERR clone: %s\n", strerror(errno));
                return 1;
        }
        if (pid == 0) {
                InitParams p = {
                        .config = config,
                        .root = a.root,
                        .sync_fd = sync_pipe[0],
                        .error_fd = exec_err[1],
                        .stdout_fd = out[1],
                        .stderr_fd = err[1],
                        .stdin_fd = in[0],
                        .exit_status_fd = exit_pipe[1],
                        .pid_socket = pid_sock[1],
                        .seccomp_program = seccomp_program,
                        .seccomp_caps = seccomp_caps,
                        .title_area = argv[0],
                        .title_size = (size_t) (argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]),
                };
                close(exit_pipe[0]);
                close(pid_sock[0]);
                if (in[1] >= 0)
                        close(in[1]);
                close(STATUS_FD);
                close(sfd);
                logrotate_close(&lr);
                close(log_dir);
                sigprocmask(SIG_SETMASK, &oldmask, NULL);
                container_init_run(&p);
        }

        close(out[1]);
        close(err[1]);
        close(sync_pipe[0]);
        close(exec_err[1]);
        close(exit_pipe[1]);
        close(pid_sock[1]);
        if (in[0] >= 0)
                close(in[0]);

        r = cgroup_attach_pid(cg, cgpath, pid);
        if (r < 0) {
                kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                report("ERR placing the init into cgroup %s: %s\n", cgpath, strerror(-r));
                return 1;
        }
        /* the init waits on the sync pipe in its new network namespace */
        _cleanup_(network_teardown) ShimNetwork net = {};
        _cleanup_free_ char *net_error = NULL;
        r = network_setup(a.run_dir, config, pid, &net, &net_error);
        if (r < 0) {
                kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                report("ERR %s\n", net_error ?: strerror(-r));
                return 1;
        }
        if (write(sync_pipe[1], "x", 1) != 1) {
                kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                report("ERR starting the init: %s\n", strerror(errno));
                return 1;
        }
        close(sync_pipe[1]);

        n = loop_read(exec_err[0], msg, sizeof(msg) - 1);
        close(exec_err[0]);
        if (n != 0) {
                msg[n > 0 ? n : 0] = '\0';
                (void) waitpid(pid, NULL, 0);
                (void) unlinkat(rundir, "init.pid", 0);
                log_error("Starting %s failed: %s", a.id, n > 0 ? msg : "reading the init's status failed");
                report("ERR %s\n", n > 0 ? msg : "reading the init's status failed");
                return 1;
        }
        started_at = now_usec();

        /* the entrypoint (pid 2 inside) is what callers see as the container's
         * process and what Kill signals; it sent its credentials before exec */
        pid_t entry_pid;
        r = 0;
        if (config->tty) {
                /* the init sent the master of the container's PTY before forking the entrypoint */
                char tag[8];
                if (fdpass_recv(pid_sock[0], tag, sizeof(tag), &master) < 0 || master < 0)
                        r = -EBADMSG;
        }
        if (r >= 0)
                r = receive_pid(pid_sock[0], &entry_pid);
        close(pid_sock[0]);
        if (r >= 0) {
                r = proc_starttime(entry_pid, &init_start);
                if (r == -ESRCH) {
                        /* ran and was reaped already: nothing left to signal */
                        init_start = 0;
                        r = 0;
                }
        }
        if (r >= 0)
                r = pid_file_write_at(rundir, "init.pid", entry_pid, init_start);
        if (r < 0) {
                kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                report("ERR recording the entrypoint's pid: %s\n", strerror(-r));
                return 1;
        }
        if (master >= 0) {
                smaster.fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
                if (smaster.fd < 0) {
                        kill(pid, SIGKILL);
                        (void) waitpid(pid, NULL, 0);
                        report("ERR duplicating the PTY master: %s\n", strerror(errno));
                        return 1;
                }
        }
        r = attach_server_new(rundir, log_dir, "ctr.log", master, in[1], config->stdin_open, &attach_server);
        if (r < 0)
                log_warning_errno(r, "Failed to listen for attachers of %s, AttachContainer will fail: %m", a.id);
        else {
                attach_server_set_pending(attach_server, false, master >= 0 ? smaster.buf : sout.buf,
                                          master >= 0 ? &smaster.len : &sout.len);
                attach_server_set_pending(attach_server, true, serr.buf, &serr.len);
        }
        report("OK %d %llu %d %llu %llu\n", (int) getpid(), (unsigned long long) shim_start,
               (int) entry_pid, (unsigned long long) init_start, (unsigned long long) started_at);

        /* copy output until the init is gone and the pipes drained */
        sout.fd = out[0];
        serr.fd = err[0];
        bool init_done = false;
        int status = 0;
        uint64_t drain_deadline = 0;
        while (!init_done || sout.fd >= 0 || serr.fd >= 0 || smaster.fd >= 0) {
                struct pollfd p[4 + ATTACH_POLLFDS_MAX] = {
                        { .fd = sout.fd, .events = POLLIN },
                        { .fd = serr.fd, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                        { .fd = smaster.fd, .events = POLLIN },
                };
                size_t n_attach = attach_server_pollfds(attach_server, p + 4);
                int timeout = -1;
                if (init_done) {
                        uint64_t now = now_usec();
                        if (now >= drain_deadline)
                                break;
                        timeout = (int) ((drain_deadline - now) / 1000 + 1);
                }
                if (poll(p, 4 + n_attach, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        log_error_errno(-errno, "poll: %m");
                        break;
                }
                if (p[0].revents)
                        stream_read(&sout, &lr);
                if (p[1].revents)
                        stream_read(&serr, &lr);
                if (p[3].revents)
                        stream_read(&smaster, &lr);
                attach_server_dispatch(attach_server, p + 4, n_attach);
                if (p[2].revents) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) == sizeof(si))
                                ;
                        /* reap everything: we are the subreaper of the container */
                        for (;;) {
                                int st;
                                pid_t w = waitpid(-1, &st, WNOHANG);
                                if (w <= 0)
                                        break;
                                if (w == pid) {
                                        status = st;
                                        init_done = true;
                                        attach_server_set_exited(attach_server);
                                        drain_deadline = now_usec() + DRAIN_TIMEOUT_MSEC * 1000ULL;
                                }
                        }
                }
        }

        /* the entrypoint's status, as the init (our forwarder) saw it; when
         * the init itself was killed (SIGKILL), its own status */
        int entry_status;
        if (read(exit_pipe[0], &entry_status, sizeof(entry_status)) == sizeof(entry_status))
                status = entry_status;
        close(exit_pipe[0]);

        uint64_t finished_at = now_usec(), oom_after = 0;
        int exit_code;
        const char *reason, *signame = "";
        if (WIFSIGNALED(status)) {
                exit_code = 128 + WTERMSIG(status);
                reason = "signal";
                signame = signal_to_name(WTERMSIG(status));
        } else {
                exit_code = WEXITSTATUS(status);
                reason = "exited";
        }
        if (cgroup_read_oom_kills(cg, cgpath, &oom_after) >= 0 && oom_after > oom_before)
                reason = "oom_killed";

        r = write_exit_json(rundir, exit_code, reason, signame, finished_at);
        if (r < 0) {
                log_error_errno(r, "Failed to write exit.json of %s: %m", a.id);
                return 1;
        }
        /* attachers see EOF once the exit is recorded */
        attach_server = attach_server_free(attach_server);
        log_debug("%s exited: %d %s %s", a.id, exit_code, reason, signame);
        return 0;
}
