/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exec1.Probe: one health check of a running container (broker/health.c
 * schedules them).
 *
 * - "command": the command through the exec monitor (exec-monitor.c), like
 *   Manager.Exec: the container's namespaces, cgroup, user, capabilities and
 *   seccomp; its exit code is the result.
 * - "tcp" / "http": a child of ours joins the container's network namespace
 *   (setns on the entrypoint's pidfd) and connects to 127.0.0.1:<port>
 *   there, so the check works for every network mode and needs no tool in
 *   the image; http sends a GET and compares the status code.
 *
 * Replies (i exit_code, s output) when the check finished: 0 = healthy. A
 * check running past its timeout is killed and answers -1 "timed out". */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "errors.h"
#include "exec-monitor.h"
#include "probe.h"
#include <inttypes.h>
#include <stdarg.h>
#include "fileio.h"
#include "ids.h"
#include "log.h"
#include "procfs.h"

#define PROBES_MAX 64
#define PROBE_OUTPUT_MAX 512
#define LAUNCH_JSON_MAX_PROBE (4 * 1024 * 1024)

typedef struct Probe {
        Exec *exec;
        sd_bus_message *call;
        pid_t pid;              /* the monitor or our network child */
        bool monitor;
        int fd;                 /* monitor status socket / child's pipe */
        sd_event_source *io, *timer;
        char output[PROBE_OUTPUT_MAX];
        size_t output_len;
} Probe;

static unsigned n_probes;

static void probe_reply(Probe *p, int code, const char *output) {
        int r;

        if (!p->call)
                return;
        r = sd_bus_reply_method_return(p->call, "is", (int32_t) code, output);
        if (r < 0)
                log_warning_errno(r, "Failed to reply to Probe: %m");
        p->call = sd_bus_message_unref(p->call);
}

static void probe_free(Probe *p) {
        sd_event_source_disable_unref(p->io);
        sd_event_source_disable_unref(p->timer);
        if (p->fd >= 0)
                close(p->fd);
        if (p->pid > 0) {
                /* the monitor kills its child on EOF; our own child we kill */
                if (!p->monitor)
                        (void) kill(p->pid, SIGKILL);
                (void) waitpid(p->pid, NULL, 0);
        }
        probe_reply(p, -1, "the check was abandoned");
        n_probes--;
        free(p);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Probe *p = userdata;

        probe_reply(p, -1, "timed out");
        if (p->monitor)
                (void) send(p->fd, "KILL 9", 6, MSG_NOSIGNAL | MSG_DONTWAIT);
        else
                (void) kill(p->pid, SIGKILL);
        return 0;
}

static int on_monitor(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Probe *p = userdata;
        char buf[1200];
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                             .msg_controllen = sizeof(control) };
        ssize_t n;
        int code;

        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); n > 0 && c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        int passed;
                        memcpy(&passed, CMSG_DATA(c), sizeof(int));
                        close(passed); /* the stdio socket: nothing attached */
                }
        if (n <= 0) {
                probe_reply(p, -1, "the exec monitor died");
                probe_free(p);
                return 0;
        }
        buf[n] = '\0';
        if (strneq(buf, "ERR ", 4)) {
                probe_reply(p, 127, buf + 4);
                probe_free(p);
        } else if (sscanf(buf, "EXIT %d", &code) == 1) {
                char out[64];
                snprintf(out, sizeof(out), "exit code %d", code);
                probe_reply(p, code, out);
                probe_free(p);
        }
        return 0;
}

static int on_child_output(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Probe *p = userdata;
        ssize_t n;

        n = read(fd, p->output + p->output_len, sizeof(p->output) - 1 - p->output_len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n > 0) {
                p->output_len += (size_t) n;
                if (p->output_len < sizeof(p->output) - 1)
                        return 0;
        }
        /* EOF (or full): "<code> <message>" */
        p->output[p->output_len] = '\0';
        int code = -1, off = 0;
        if (sscanf(p->output, "%d %n", &code, &off) >= 1)
                probe_reply(p, code, p->output + off);
        else
                probe_reply(p, -1, "the check died");
        probe_free(p);
        return 0;
}

_noreturn_ static void child_report(int fd, int code, const char *fmt, ...) _printf_(3, 4);
_noreturn_ static void child_report(int fd, int code, const char *fmt, ...) {
        char msg[PROBE_OUTPUT_MAX - 16];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        dprintf(fd, "%d %s", code, msg);
        _exit(0);
}

/* In the child: the container's network namespace, then one connection. */
_noreturn_ static void child_check(int out, int init_pidfd, bool http, uint16_t port, const char *path) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        char buf[256];
        int s, status;
        ssize_t n;
        size_t len = 0;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (setns(init_pidfd, CLONE_NEWNET) < 0)
                child_report(out, -1, "joining the container's network namespace: %s", strerror(errno));
        s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                child_report(out, -1, "socket: %s", strerror(errno));
        if (connect(s, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                child_report(out, 1, "connect to 127.0.0.1:%u: %s", port, strerror(errno));
        if (!http)
                child_report(out, 0, "connected to 127.0.0.1:%u", port);

        dprintf(s, "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%u\r\nUser-Agent: zlayer-health\r\nConnection: close\r\n\r\n", path,
                port);
        while (len < sizeof(buf) - 1 && (n = read(s, buf + len, sizeof(buf) - 1 - len)) > 0) {
                len += (size_t) n;
                if (memchr(buf, '\n', len))
                        break;
        }
        buf[len] = '\0';
        buf[strcspn(buf, "\r\n")] = '\0';
        if (sscanf(buf, "HTTP/%*d.%*d %d", &status) != 1)
                child_report(out, 1, "GET %s: no HTTP status line", path);
        child_report(out, 0, "%d %s", status, buf); /* the broker compares the status */
}

static int probe_network(Exec *e, Probe *p, Container *c, const char *kind, char **args, sd_bus_error *error) {
        _cleanup_close_ int init_pidfd = -1;
        int pipefd[2];
        unsigned port;
        pid_t pid;

        if (strv_length(args) < 1 || sscanf(args[0], "%u", &port) != 1 || port == 0 || port > 65535)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Probe %s: invalid port '%s'", kind,
                                         strempty(args[0]));
        if (streq(kind, "http") && (strv_length(args) < 2 || args[1][0] != '/' || strpbrk(args[1], " \r\n")))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Probe http: invalid path '%s'",
                                         strempty(args[1]));
        init_pidfd = pidfd_open_verified(c->init_pid, c->init_start);
        if (init_pidfd < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "The entrypoint of container %s is gone", c->id);
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return -errno;
        }
        if (pid == 0) {
                close(pipefd[0]);
                child_check(pipefd[1], init_pidfd, streq(kind, "http"), (uint16_t) port, streq(kind, "http") ? args[1] : "/");
        }
        close(pipefd[1]);
        p->pid = pid;
        p->fd = pipefd[0];
        return sd_event_add_io(e->event, &p->io, p->fd, EPOLLIN, on_child_output, p);
}

static int probe_command(Exec *e, Probe *p, Container *c, char **argv, sd_bus_error *error) {
        _cleanup_launch_config_ LaunchConfig *cfg = NULL;
        _cleanup_free_ char *path = NULL, *json = NULL, *perr = NULL, *cg = NULL;
        _cleanup_close_ int init_pidfd = -1;
        int r, status_fd;
        pid_t monitor;

        if (strv_length(argv) == 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Probe command: no command");
        init_pidfd = pidfd_open_verified(c->init_pid, c->init_start);
        if (init_pidfd < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "The entrypoint of container %s is gone", c->id);
        if (asprintf(&path, "%s/containers/%s/launch.json", e->opts.run_dir, c->id) < 0)
                return -ENOMEM;
        r = read_file_at(AT_FDCWD, path, LAUNCH_JSON_MAX_PROBE, &json, NULL);
        if (r >= 0)
                r = launch_config_parse(json, &cfg, &perr);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "Reading %s: %s", path, perr ?: strerror(-r));
        r = cgroup_container_path(c->id, &cg);
        if (r < 0)
                return r;

        ExecRequest req = {
                .config = cfg,
                .argv = argv,
                .init_pidfd = init_pidfd,
                .cgroup = e->cgroup,
                .cgroup_path = cg,
        };
        r = exec_monitor_spawn(&req, &monitor, &status_fd);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_EXEC_FAILED, "Spawning the exec monitor for %s: %s", c->id,
                                         strerror(-r));
        p->pid = monitor;
        p->monitor = true;
        p->fd = status_fd;
        return sd_event_add_io(e->event, &p->io, p->fd, EPOLLIN, on_monitor, p);
}

int method_probe(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **args = NULL;
        Exec *e = userdata;
        const char *id, *kind;
        uint64_t timeout;
        Container *c;
        Probe *p;
        int r;

        r = sd_bus_message_read(m, "ss", &id, &kind);
        if (r < 0)
                return r;
        r = sd_bus_message_read_strv(m, &args);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "t", &timeout);
        if (r < 0)
                return r;
        if (!container_id_is_valid(id))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid container id: %s", id);
        if (!streq(kind, "command") && !streq(kind, "tcp") && !streq(kind, "http"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown probe kind '%s'", kind);
        if (timeout == 0 || timeout > 3600 * USEC_PER_SEC)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Probe timeout out of range: %" PRIu64, timeout);
        c = container_find(e, id);
        if (!c || !c->running)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "Container %s is not running", id);
        if (n_probes >= PROBES_MAX)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "Too many health checks running (%d)", PROBES_MAX);

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        n_probes++;
        p->exec = e;
        p->fd = -1;
        p->call = sd_bus_message_ref(m);
        r = streq(kind, "command") ? probe_command(e, p, c, args, error) : probe_network(e, p, c, kind, args, error);
        if (r >= 0)
                r = sd_event_add_time_relative(e->event, &p->timer, CLOCK_MONOTONIC, timeout, 0, on_timeout, p);
        if (r < 0 || sd_bus_error_is_set(error)) {
                p->call = sd_bus_message_unref(p->call);
                probe_free(p);
                return r;
        }
        return 1;
}
