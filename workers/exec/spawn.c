/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "errors.h"
#include "exec.h"
#include "fileio.h"
#include "log.h"
#include "procfs.h"

/* Double fork + setsid: the shim is nobody's child among the daemons, so
 * restarting zlayer-exec, the broker or zlayerd leaves containers running.
 * The shim reports on the pipe whose read end is returned. */
int spawn_shim(Exec *e, const char *id, int *ret_status_fd) {
        _cleanup_free_ char *a_root = NULL, *a_run = NULL, *a_id = NULL, *a_gid = NULL;
        int status[2];
        pid_t pid;
        int st;

        if (asprintf(&a_root, "--root=%s", e->opts.root) < 0 || asprintf(&a_run, "--run-dir=%s", e->opts.run_dir) < 0 ||
            asprintf(&a_id, "--id=%s", id) < 0 || asprintf(&a_gid, "--log-gid=%u", (unsigned) e->log_gid) < 0)
                return -ENOMEM;
        char *argv[] = { e->shim_path, a_root, a_run, a_id, a_gid, e->opts.debug ? (char *) "--debug" : NULL, NULL };

        if (pipe2(status, O_CLOEXEC) < 0)
                return -errno;

        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(status[0]);
                close(status[1]);
                return r;
        }
        if (pid == 0) {
                sigset_t all;
                int null;

                if (setsid() < 0)
                        _exit(1);
                pid_t grandchild = fork();
                if (grandchild < 0)
                        _exit(1);
                if (grandchild > 0)
                        _exit(0);

                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                for (int sig = 1; sig < _NSIG; sig++)
                        signal(sig, SIG_DFL);
                null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
                    dup2(status[1], 3) < 0)
                        _exit(1);
                close_range(4, ~0U, 0);
                execv(argv[0], argv);
                dprintf(3, "ERR exec %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }

        close(status[1]);
        if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                close(status[0]);
                return -ECHILD;
        }
        *ret_status_fd = status[0];
        return 0;
}

int container_read_exit(Exec *e, const char *id, int *ret_code, char **ret_reason, char **ret_signal, uint64_t *ret_finished) {
        _cleanup_free_ char *path = NULL, *buf = NULL;
        json_object *o, *v;
        int r;

        if (asprintf(&path, "%s/containers/%s/exit.json", e->opts.run_dir, id) < 0)
                return -ENOMEM;
        r = read_file_at(AT_FDCWD, path, 64 * 1024, &buf, NULL);
        if (r < 0)
                return r;
        o = json_tokener_parse(buf);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret_code = json_object_object_get_ex(o, "exit_code", &v) ? json_object_get_int(v) : -1;
        *ret_reason = strdup(json_object_object_get_ex(o, "reason", &v) ? strempty(json_object_get_string(v)) : "runtime_error");
        *ret_signal = strdup(json_object_object_get_ex(o, "signal", &v) ? strempty(json_object_get_string(v)) : "");
        *ret_finished = json_object_object_get_ex(o, "finished_at", &v) ? json_object_get_uint64(v) : 0;
        json_object_put(o);
        if (!*ret_reason || !*ret_signal) {
                free(*ret_reason);
                free(*ret_signal);
                return -ENOMEM;
        }
        return 0;
}

static void emit_exited(Container *c) {
        _cleanup_free_ char *reason = NULL, *sig = NULL;
        uint64_t finished = 0;
        int code = -1, r;

        r = container_read_exit(c->exec, c->id, &code, &reason, &sig, &finished);
        if (r < 0) {
                log_warning_errno(r, "No exit status of %s: %m", c->id);
                code = -1;
                free(reason);
                free(sig);
                reason = strdup("runtime_error");
                sig = strdup("");
                finished = now_usec();
                if (!reason || !sig)
                        return;
        }
        log_info("Container %s exited: %d %s %s", c->id, code, reason, sig);
        r = sd_bus_emit_signal(c->exec->bus, ZL_WORKER_PATH, ZL_EXEC_IFACE, "ContainerExited", "sisst",
                               c->id, code, reason, sig, finished);
        if (r < 0)
                log_warning_errno(r, "Failed to emit ContainerExited for %s: %m", c->id);
}

static int on_shim_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Container *c = userdata;

        c->shim_watch = sd_event_source_disable_unref(c->shim_watch);
        if (c->shim_pidfd >= 0)
                close(c->shim_pidfd);
        c->shim_pidfd = -1;
        c->running = false;
        emit_exited(c);
        return 0;
}

static int on_shim_gone(sd_event_source *s, void *userdata) {
        Container *c = userdata;

        c->shim_watch = sd_event_source_disable_unref(c->shim_watch);
        c->running = false;
        emit_exited(c);
        return 0;
}

/* Event driven: the shim's pidfd becomes readable when it exits. */
int container_watch_shim(Container *c) {
        int fd, r;

        c->running = true;
        fd = pidfd_open_verified(c->shim_pid, c->shim_start);
        if (fd == -ESRCH) /* already gone: report the exit from the loop */
                return sd_event_add_defer(c->exec->event, &c->shim_watch, on_shim_gone, c);
        if (fd < 0)
                return fd;
        c->shim_pidfd = fd;
        r = sd_event_add_io(c->exec->event, &c->shim_watch, fd, EPOLLIN, on_shim_exit, c);
        return r;
}

void container_free(Container *c) {
        if (!c)
                return;
        sd_event_source_disable_unref(c->shim_watch);
        sd_event_source_disable_unref(c->status_source);
        sd_event_source_disable_unref(c->start_timeout);
        sd_bus_message_unref(c->start_call);
        if (c->shim_pidfd >= 0)
                close(c->shim_pidfd);
        if (c->status_fd >= 0)
                close(c->status_fd);
        free(c->id);
        free(c);
}

Container *container_find(Exec *e, const char *id) {
        for (Container *c = e->containers; c; c = c->next)
                if (streq(c->id, id))
                        return c;
        return NULL;
}
