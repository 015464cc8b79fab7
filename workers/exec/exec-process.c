/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exec1.ExecStart / ExecKill and the ExecExited signal: processes exec'd
 * into running containers (docs/internals.md, "Exec into a container"). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "errors.h"
#include "exec-monitor.h"
#include "exec.h"
#include "fileio.h"
#include "ids.h"
#include "launch-config.h"
#include "log.h"
#include "procfs.h"

#define EXEC_PROCESSES_MAX 256
#define EXEC_ARGS_MAX 4096
#define LAUNCH_JSON_MAX (4 * 1024 * 1024)

struct ExecProcess {
        Exec *exec;
        uint32_t id;
        char *container;
        pid_t monitor_pid, pid;
        int status_fd;
        sd_event_source *status_source;
        sd_bus_message *start_call;   /* until the monitor reports OK/ERR */
        bool exit_reported;
        ExecProcess *next;
};

static void exec_process_free(ExecProcess *p) {
        Exec *e = p->exec;

        for (ExecProcess **q = &e->processes; *q; q = &(*q)->next)
                if (*q == p) {
                        *q = p->next;
                        e->n_processes--;
                        break;
                }
        sd_event_source_disable_unref(p->status_source);
        if (p->status_fd >= 0)
                close(p->status_fd); /* the monitor SIGKILLs the child if it still runs */
        if (p->monitor_pid > 0)
                (void) waitpid(p->monitor_pid, NULL, 0); /* it exits on EOF */
        sd_bus_message_unref(p->start_call);
        free(p->container);
        free(p);
}

void exec_processes_free_all(Exec *e) {
        while (e->processes)
                exec_process_free(e->processes);
}

static void emit_exited(ExecProcess *p, int code) {
        int r;

        if (p->exit_reported)
                return;
        p->exit_reported = true;
        log_debug("Exec %u in %s exited with %d", p->id, p->container, code);
        r = sd_bus_emit_signal(p->exec->bus, ZL_WORKER_PATH, ZL_EXEC_IFACE, "ExecExited", "ui", p->id, (int32_t) code);
        if (r < 0)
                log_warning_errno(r, "Failed to emit ExecExited: %m");
}

static int on_monitor_status(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ExecProcess *p = userdata;
        char buf[1200];
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                             .msg_controllen = sizeof(control) };
        _cleanup_close_ int passed = -1;
        ssize_t n;
        int code, pid, r;

        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); n > 0 && c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                        memcpy(&passed, CMSG_DATA(c), sizeof(int));
        if (n <= 0) {
                if (p->start_call)
                        (void) sd_bus_reply_method_errorf(p->start_call, ZL_ERROR_EXEC_FAILED,
                                                          "Exec in %s: the exec monitor died", p->container);
                else
                        emit_exited(p, -1);
                exec_process_free(p);
                return 0;
        }
        buf[n] = '\0';

        if (p->start_call && sscanf(buf, "OK %d", &pid) == 1 && passed >= 0) {
                p->pid = pid;
                r = sd_bus_reply_method_return(p->start_call, "huu", passed, p->id, (uint32_t) pid);
                if (r < 0)
                        log_warning_errno(r, "Failed to reply to ExecStart: %m");
                p->start_call = sd_bus_message_unref(p->start_call);
                log_info("Exec %u in %s started, pid %d", p->id, p->container, pid);
        } else if (p->start_call && strneq(buf, "ERR ", 4)) {
                log_info("Exec in %s failed: %s", p->container, buf + 4);
                (void) sd_bus_reply_method_errorf(p->start_call, ZL_ERROR_EXEC_FAILED, "%s", buf + 4);
                p->start_call = sd_bus_message_unref(p->start_call);
        } else if (!p->start_call && sscanf(buf, "EXIT %d", &code) == 1)
                emit_exited(p, code);
        else
                log_warning("Unexpected message from the exec monitor of %s: %s", p->container, buf);
        return 0;
}

typedef struct ExecOptions {
        char **command, **env;
        char *working_dir, *user;
        int privileged, tty, attach_stdin, attach_stdout, attach_stderr;
} ExecOptions;

static void exec_options_done(ExecOptions *o) {
        strv_free(o->command);
        strv_free(o->env);
        free(o->working_dir);
        free(o->user);
}

static int read_strv(sd_bus_message *m, char ***ret) {
        char **l = NULL;
        int r = sd_bus_message_read_strv(m, &l);
        if (r < 0)
                return r;
        strv_free(*ret);
        *ret = l;
        return 0;
}

static int read_string(sd_bus_message *m, char **ret) {
        const char *s;
        int r = sd_bus_message_read(m, "s", &s);
        if (r < 0)
                return r;
        free(*ret);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* Same keys as the public ExecPty options (dbus-api.md). */
static int parse_options(sd_bus_message *m, ExecOptions *o, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                static const struct {
                        const char *key, *sig;
                        size_t off;
                } table[] = {
                        { "command", "as", offsetof(ExecOptions, command) },
                        { "env", "as", offsetof(ExecOptions, env) },
                        { "working_dir", "s", offsetof(ExecOptions, working_dir) },
                        { "user", "s", offsetof(ExecOptions, user) },
                        { "privileged", "b", offsetof(ExecOptions, privileged) },
                        { "tty", "b", offsetof(ExecOptions, tty) },
                        { "attach_stdin", "b", offsetof(ExecOptions, attach_stdin) },
                        { "attach_stdout", "b", offsetof(ExecOptions, attach_stdout) },
                        { "attach_stderr", "b", offsetof(ExecOptions, attach_stderr) },
                };
                const char *key;
                size_t i;

                if ((r = sd_bus_message_read(m, "s", &key)) < 0)
                        return r;
                for (i = 0; i < ELEMENTSOF(table); i++)
                        if (streq(key, table[i].key))
                                break;
                if (i == ELEMENTSOF(table))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown exec option: %s", key);
                r = sd_bus_message_enter_container(m, 'v', table[i].sig);
                if (r < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Exec option %s must be of type %s",
                                                 key, table[i].sig);
                void *field = (char *) o + table[i].off;
                if (streq(table[i].sig, "as"))
                        r = read_strv(m, field);
                else if (streq(table[i].sig, "s"))
                        r = read_string(m, field);
                else
                        r = sd_bus_message_read(m, "b", field);
                if (r < 0)
                        return r;
                if ((r = sd_bus_message_exit_container(m)) < 0 || (r = sd_bus_message_exit_container(m)) < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;

        if (strv_length(o->command) == 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Exec needs a non-empty command");
        if (strv_length(o->command) > EXEC_ARGS_MAX || strv_length(o->env) > EXEC_ARGS_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Exec command or env has more than %d entries",
                                         EXEC_ARGS_MAX);
        for (char **e = o->env; e && *e; e++)
                if (!strchr(*e, '=') || **e == '=')
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Exec env entry is not KEY=VALUE: %s", *e);
        if (!isempty(o->working_dir) && o->working_dir[0] != '/')
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Exec working_dir is not absolute: %s",
                                         o->working_dir);
        return 0;
}

static int load_launch_config(Exec *e, const char *id, LaunchConfig **ret, sd_bus_error *error) {
        _cleanup_free_ char *path = NULL, *json = NULL, *perr = NULL;
        int r;

        if (asprintf(&path, "%s/containers/%s/launch.json", e->opts.run_dir, id) < 0)
                return -ENOMEM;
        r = read_file_at(AT_FDCWD, path, LAUNCH_JSON_MAX, &json, NULL);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "Reading %s: %s", path, strerror(-r));
        r = launch_config_parse(json, ret, &perr);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "Parsing %s: %s", path, perr ?: strerror(-r));
        return 0;
}

int method_exec_start(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Exec *e = userdata;
        _cleanup_(exec_options_done) ExecOptions o = { .attach_stdout = 1, .attach_stderr = 1 };
        _cleanup_launch_config_ LaunchConfig *cfg = NULL;
        _cleanup_free_ char *cg = NULL;
        _cleanup_close_ int init_pidfd = -1;
        const char *id;
        ExecProcess *p;
        Container *c;
        pid_t monitor;
        int r, status_fd;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        if (!container_id_is_valid(id))
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "Invalid container id: %s", id);
        r = parse_options(m, &o, error);
        if (r < 0)
                return r;

        c = container_find(e, id);
        if (!c || !c->running)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "Container %s is not running", id);
        if (e->n_processes >= EXEC_PROCESSES_MAX)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "Too many execs running (%d)", EXEC_PROCESSES_MAX);
        init_pidfd = pidfd_open_verified(c->init_pid, c->init_start);
        if (init_pidfd < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "The entrypoint of container %s is gone", id);
        r = load_launch_config(e, id, &cfg, error);
        if (r < 0)
                return r;
        r = cgroup_container_path(id, &cg);
        if (r < 0)
                return r;

        ExecRequest req = {
                .config = cfg,
                .argv = o.command,
                .env = o.env,
                .working_dir = o.working_dir,
                .user = o.user,
                .privileged = o.privileged,
                .tty = o.tty,
                .attach_stdin = o.attach_stdin,
                .attach_stdout = o.attach_stdout,
                .attach_stderr = o.attach_stderr,
                .init_pidfd = init_pidfd,
                .cgroup = e->cgroup,
                .cgroup_path = cg,
        };
        p = calloc(1, sizeof(*p));
        if (!p || !(p->container = strdup(id))) {
                free(p);
                return -ENOMEM;
        }
        r = exec_monitor_spawn(&req, &monitor, &status_fd);
        if (r < 0) {
                free(p->container);
                free(p);
                return sd_bus_error_setf(error, ZL_ERROR_EXEC_FAILED, "Spawning the exec monitor for %s: %s", id,
                                         strerror(-r));
        }
        p->exec = e;
        p->id = ++e->next_process_id;
        p->monitor_pid = monitor;
        p->status_fd = status_fd;
        p->start_call = sd_bus_message_ref(m);
        p->next = e->processes;
        e->processes = p;
        e->n_processes++;
        r = sd_event_add_io(e->event, &p->status_source, status_fd, EPOLLIN, on_monitor_status, p);
        if (r < 0) {
                exec_process_free(p);
                return r;
        }
        return 1; /* replied when the monitor reports */
}

int method_exec_kill(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Exec *e = userdata;
        uint32_t id;
        int32_t sig;
        char buf[32];
        int r;

        r = sd_bus_message_read(m, "ui", &id, &sig);
        if (r < 0)
                return r;
        if (sig < 1 || sig > SIGRTMAX)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "Invalid signal number: %d", (int) sig);
        for (ExecProcess *p = e->processes; p; p = p->next)
                if (p->id == id && !p->start_call && !p->exit_reported) {
                        snprintf(buf, sizeof(buf), "KILL %d", (int) sig);
                        if (send(p->status_fd, buf, strlen(buf), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                                return sd_bus_error_set_errnof(error, errno, "Signalling exec %u: %m", id);
                        return sd_bus_reply_method_return(m, NULL);
                }
        return sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND, "No running exec %u", id);
}
