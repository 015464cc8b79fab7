/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* com.zlayer.Worker.Exec1 at /com/zlayer/Worker (docs/internals.md, "Exec"). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "attach-client.h"
#include "errors.h"
#include "exec-volumes.h"
#include "probe.h"
#include "exec.h"
#include "exec-lifecycle.h"
#include "exec-root.h"
#include "fileio.h"
#include "ids.h"
#include "launch-config.h"
#include "log.h"
#include "procfs.h"

#define START_TIMEOUT_USEC (60 * USEC_PER_SEC)

static int run_dir_of(Exec *e, const char *id, char **ret) {
        return asprintf(ret, "%s/containers/%s", e->opts.run_dir, id) < 0 ? -ENOMEM : 0;
}

/* A shim alive for @id (maybe not tracked: before Adopt after a restart). */
static bool shim_alive(Exec *e, const char *id) {
        _cleanup_free_ char *run = NULL;
        _cleanup_close_ int run_fd = -1, pidfd = -1;
        pid_t pid;
        uint64_t start;

        if (run_dir_of(e, id, &run) < 0)
                return false;
        run_fd = open(run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (run_fd < 0 || pid_file_read_at(run_fd, "shim.pid", &pid, &start) < 0)
                return false;
        pidfd = pidfd_open_verified(pid, start);
        return pidfd >= 0;
}

static void container_unlink(Exec *e, Container *c) {
        for (Container **p = &e->containers; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        container_free(c);
}

/* After a failed start: nothing running, no cgroup, no run dir. */
static void start_cleanup(Exec *e, const char *id) {
        _cleanup_free_ char *cg = NULL;
        _cleanup_close_ int run = open(e->opts.run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (cgroup_container_path(id, &cg) >= 0 && (r = cgroup_destroy(e->cgroup, cg)) < 0)
                log_warning_errno(r, "Failed to remove cgroup %s: %m", cg);
        if (run >= 0) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "containers/%s", id) >= 0 && (r = rm_rf_at(run, p)) < 0)
                        log_warning_errno(r, "Failed to remove %s/%s: %m", e->opts.run_dir, p);
        }
}

static void start_fail(Container *c, const char *msg) {
        Exec *e = c->exec;
        _cleanup_free_ char *id = strdup(c->id);
        int r;

        log_error("Starting %s failed: %s", c->id, msg);
        /* clean up first: once the caller has the answer, nothing is left */
        if (id)
                start_cleanup(e, id);
        r = sd_bus_reply_method_errorf(c->start_call, ZL_ERROR_START_FAILED, "%s", msg);
        if (r < 0)
                log_warning_errno(r, "Failed to reply to Start: %m");
        container_unlink(e, c);
}

static void start_finish(Container *c) {
        char *line = c->status;
        int shim_pid, init_pid, r;
        unsigned long long shim_start, init_start, started;

        c->status_source = sd_event_source_disable_unref(c->status_source);
        c->start_timeout = sd_event_source_disable_unref(c->start_timeout);
        if (c->status_fd >= 0)
                close(c->status_fd);
        c->status_fd = -1;

        c->status[MIN(c->status_len, sizeof(c->status) - 1)] = '\0';
        char *nl = strchr(line, '\n');
        if (nl)
                *nl = '\0';

        if (strneq(line, "ERR ", 4))
                return start_fail(c, line + 4);
        if (sscanf(line, "OK %d %llu %d %llu %llu", &shim_pid, &shim_start, &init_pid, &init_start, &started) != 5)
                return start_fail(c, c->status_len > 0 ? line : "zlayer-shim exited without reporting a status");

        c->shim_pid = shim_pid;
        c->shim_start = shim_start;
        c->init_pid = init_pid;
        c->init_start = init_start;
        c->started_at = started;
        r = container_watch_shim(c);
        if (r < 0)
                log_warning_errno(r, "Failed to watch the shim of %s: %m", c->id);

        log_info("Started container %s, init pid %d", c->id, init_pid);
        r = sd_bus_reply_method_return(c->start_call, "ut", (uint32_t) init_pid, (uint64_t) started);
        if (r < 0)
                log_warning_errno(r, "Failed to reply to Start: %m");
        c->start_call = sd_bus_message_unref(c->start_call);
}

static int on_status(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Container *c = userdata;
        ssize_t n = read(fd, c->status + c->status_len, sizeof(c->status) - 1 - c->status_len);

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n > 0) {
                c->status_len += (size_t) n;
                if (!memchr(c->status, '\n', c->status_len) && c->status_len < sizeof(c->status) - 1)
                        return 0;
        }
        start_finish(c);
        return 0;
}

static void kill_verified(int dirfd, const char *pidfile) {
        _cleanup_close_ int pidfd = -1;
        pid_t pid;
        uint64_t start;

        if (pid_file_read_at(dirfd, pidfile, &pid, &start) < 0)
                return;
        pidfd = pidfd_open_verified(pid, start);
        if (pidfd >= 0)
                (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
}

static int on_start_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Container *c = userdata;
        _cleanup_free_ char *run = NULL;

        /* a hung start must not come alive later: kill what is there */
        if (run_dir_of(c->exec, c->id, &run) >= 0) {
                _cleanup_close_ int fd = open(run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd >= 0) {
                        kill_verified(fd, "init.pid");
                        kill_verified(fd, "shim.pid");
                }
        }
        c->status_len = 0;
        memcpy(c->status, "ERR zlayer-shim did not report within 60 s", 43);
        c->status_len = 43;
        start_finish(c);
        return 0;
}

static int prepare_dirs(Exec *e, const LaunchConfig *cfg, const char *json, sd_bus_error *error) {
        _cleanup_close_ int cdir = -1, rdir = -1;
        _cleanup_free_ char *run = NULL;
        int r;

        cdir = openat(e->containers_dir, cfg->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cdir < 0)
                return sd_bus_error_set_errnof(error, errno, "%s/containers/%s: %m", e->opts.root, cfg->id);
        for (size_t i = 0; i < 4; i++) {
                const char *d = (const char *[]) { "upper", "work", "rootfs", "volumes" }[i];
                struct stat st;
                if (mkdirat(cdir, d, 0755) < 0 && errno != EEXIST)
                        return sd_bus_error_set_errnof(error, errno, "creating %s/containers/%s/%s: %m",
                                                       e->opts.root, cfg->id, d);
                /* the container dir belongs to the unprivileged user: what we
                 * mount must be our own directory, not something planted */
                if (fstatat(cdir, d, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return sd_bus_error_set_errnof(error, errno, "%s/containers/%s/%s: %m", e->opts.root, cfg->id, d);
                if (!S_ISDIR(st.st_mode) || st.st_uid != 0)
                        return sd_bus_error_setf(error, ZL_ERROR_START_FAILED,
                                                 "%s/containers/%s/%s is not a directory owned by root",
                                                 e->opts.root, cfg->id, d);
        }

        r = run_dir_of(e, cfg->id, &run);
        if (r < 0)
                return r;
        r = mkdir_p_at(AT_FDCWD, run, 0700);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "creating %s: %m", run);
        rdir = open(run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rdir < 0)
                return sd_bus_error_set_errnof(error, errno, "opening %s: %m", run);
        for (size_t i = 0; i < 3; i++)
                (void) unlinkat(rdir, (const char *[]) { "exit.json", "init.pid", "shim.pid" }[i], 0);
        r = write_file_replace_at(rdir, "launch.json", json, strlen(json), 0600);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "writing %s/launch.json: %m", run);
        return 0;
}

static int method_start(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Exec *e = userdata;
        _cleanup_launch_config_ LaunchConfig *cfg = NULL;
        _cleanup_free_ char *perr = NULL, *cg = NULL;
        const char *id, *json;
        Container *c;
        int r, status_fd;

        r = sd_bus_message_read(m, "ss", &id, &json);
        if (r < 0)
                return r;
        if (!container_id_is_valid(id))
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "Invalid container id: %s", id);
        r = launch_config_parse(json, &cfg, &perr);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "Invalid launch config of %s: %s", id,
                                         perr ?: strerror(-r));
        if (!streq(cfg->id, id))
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "Launch config id %s does not match %s", cfg->id, id);

        c = container_find(e, id);
        if (c && (c->running || c->start_call))
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "Container %s is already running", id);
        if (c)
                container_unlink(e, c);
        if (shim_alive(e, id))
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "Container %s is already running", id);

        r = prepare_dirs(e, cfg, json, error);
        if (r < 0)
                return sd_bus_error_is_set(error) ? r :
                        sd_bus_error_setf(error, ZL_ERROR_START_FAILED, "Preparing %s: %s", id, strerror(-r));

        r = cgroup_container_path(id, &cg);
        /* a fresh cgroup: limits of an earlier run must not linger */
        if (r >= 0)
                (void) cgroup_destroy(e->cgroup, cg);
        if (r >= 0)
                r = cgroup_create(e->cgroup, cg);
        if (r < 0) {
                start_cleanup(e, id);
                return sd_bus_error_setf(error, ZL_ERROR_START_FAILED, "Creating cgroup zlayer/%s: %s", id, strerror(-r));
        }
        r = cgroup_apply_resources(e->cgroup, cg, &cfg->resources);
        if (r < 0) {
                start_cleanup(e, id);
                return sd_bus_error_setf(error, ZL_ERROR_START_FAILED, "Applying the resource limits of %s: %s", id, strerror(-r));
        }

        r = spawn_shim(e, id, &status_fd);
        if (r < 0) {
                start_cleanup(e, id);
                return sd_bus_error_setf(error, ZL_ERROR_START_FAILED, "Spawning zlayer-shim for %s: %s", id, strerror(-r));
        }

        c = calloc(1, sizeof(*c));
        if (!c || !(c->id = strdup(id))) {
                free(c);
                close(status_fd);
                return -ENOMEM;
        }
        c->exec = e;
        c->shim_pidfd = -1;
        c->status_fd = status_fd;
        c->start_call = sd_bus_message_ref(m);
        c->next = e->containers;
        e->containers = c;

        r = sd_event_add_io(e->event, &c->status_source, status_fd, EPOLLIN, on_status, c);
        if (r >= 0)
                r = sd_event_add_time_relative(e->event, &c->start_timeout, CLOCK_MONOTONIC, START_TIMEOUT_USEC, 0,
                                               on_start_timeout, c);
        if (r < 0) {
                c->start_call = sd_bus_message_unref(c->start_call);
                container_unlink(e, c);
                return r;
        }
        return 1; /* replied when the shim reports */
}

static int method_kill(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Exec *e = userdata;
        _cleanup_free_ char *run = NULL;
        _cleanup_close_ int run_fd = -1, pidfd = -1;
        const char *id;
        int32_t sig;
        pid_t pid;
        uint64_t start;
        Container *c;
        int r;

        r = sd_bus_message_read(m, "si", &id, &sig);
        if (r < 0)
                return r;
        if (!container_id_is_valid(id))
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "Invalid container id: %s", id);
        if (sig < 1 || sig > SIGRTMAX)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "Invalid signal number: %d", (int) sig);
        c = container_find(e, id);
        if (!c || !c->running)
                return sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND, "No running container %s", id);

        if ((r = run_dir_of(e, id, &run)) < 0)
                return r;
        run_fd = open(run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (run_fd < 0 || pid_file_read_at(run_fd, "init.pid", &pid, &start) < 0)
                return sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND, "No init.pid for container %s", id);
        pidfd = pidfd_open_verified(pid, start);
        if (pidfd < 0)
                return sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND, "The init of container %s is gone", id);
        if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0) {
                if (errno == ESRCH)
                        return sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND, "The init of container %s is gone", id);
                return sd_bus_error_set_errnof(error, errno, "Signalling %s: %m", id);
        }
        /* a paused container gets the signal when thawed (Docker does the same) */
        _cleanup_free_ char *cg = NULL;
        if (cgroup_container_path(id, &cg) >= 0 && (r = cgroup_freeze(e->cgroup, cg, false)) < 0 && r != -EOPNOTSUPP)
                log_warning_errno(r, "Failed to thaw %s after signalling it: %m", id);
        return sd_bus_reply_method_return(m, NULL);
}

static int method_adopt(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Exec *e = userdata;
        _cleanup_free_ char *run = NULL, *reason = NULL, *sig = NULL;
        _cleanup_close_ int run_fd = -1, pidfd = -1;
        const char *id;
        pid_t shim_pid, init_pid;
        uint64_t shim_start, init_start, finished = 0;
        int code = -1, r;
        Container *c;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        if (!container_id_is_valid(id))
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "Invalid container id: %s", id);

        c = container_find(e, id);
        if (c && c->running)
                return sd_bus_reply_method_return(m, "butisst", 1, (uint32_t) c->init_pid, c->started_at,
                                                  0, "", "", UINT64_C(0));
        if (c && c->start_call)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "Container %s is starting", id);

        if ((r = run_dir_of(e, id, &run)) < 0)
                return r;
        run_fd = open(run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (run_fd >= 0 && pid_file_read_at(run_fd, "shim.pid", &shim_pid, &shim_start) >= 0 &&
            (pidfd = pidfd_open_verified(shim_pid, shim_start)) >= 0 &&
            pid_file_read_at(run_fd, "init.pid", &init_pid, &init_start) >= 0) {
                if (!c) {
                        c = calloc(1, sizeof(*c));
                        if (!c || !(c->id = strdup(id))) {
                                free(c);
                                return -ENOMEM;
                        }
                        c->exec = e;
                        c->status_fd = -1;
                        c->next = e->containers;
                        e->containers = c;
                }
                c->shim_pidfd = -1;
                c->shim_pid = shim_pid;
                c->shim_start = shim_start;
                c->init_pid = init_pid;
                c->init_start = init_start;
                c->started_at = proc_starttime_to_usec(init_start);
                r = container_watch_shim(c);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, -r, "Watching the shim of %s: %m", id);
                log_info("Adopted running container %s (shim %d, init %d)", id, shim_pid, init_pid);
                return sd_bus_reply_method_return(m, "butisst", 1, (uint32_t) init_pid, c->started_at,
                                                  0, "", "", UINT64_C(0));
        }

        r = container_read_exit(e, id, &code, &reason, &sig, &finished);
        if (r < 0) {
                code = -1;
                finished = 0;
                free(reason);
                free(sig);
                reason = strdup("runtime_error");
                sig = strdup("");
                if (!reason || !sig)
                        return -ENOMEM;
        }
        return sd_bus_reply_method_return(m, "butisst", 0, UINT32_C(0), UINT64_C(0), code, reason, sig, finished);
}

static int method_delete(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Exec *e = userdata;
        _cleanup_free_ char *run = NULL, *cg = NULL;
        const char *id;
        Container *c;
        int r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        if (!container_id_is_valid(id))
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "Invalid container id: %s", id);
        c = container_find(e, id);
        if (c && (c->running || c->start_call))
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "Container %s is running", id);
        if ((r = run_dir_of(e, id, &run)) < 0)
                return r;
        /* not tracked, but maybe alive (not adopted yet) */
        if (shim_alive(e, id))
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "Container %s is running", id);

        if ((r = cgroup_container_path(id, &cg)) < 0)
                return r;
        r = cgroup_destroy(e->cgroup, cg);
        if (r < 0)
                return sd_bus_error_setf(error, r == -EBUSY ? ZL_ERROR_INVALID_STATE : ZL_ERROR_INTERNAL,
                                         "Removing cgroup %s: %s", cg, strerror(-r));
        _cleanup_close_ int rundir_parent = open(e->opts.run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rundir_parent >= 0) {
                _cleanup_free_ char *rel = NULL;
                if (asprintf(&rel, "containers/%s", id) < 0)
                        return -ENOMEM;
                r = rm_rf_at(rundir_parent, rel);
                if (r < 0)
                        return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "Removing %s: %s", run, strerror(-r));
        }
        r = rm_rf_at(e->containers_dir, id);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "Removing %s/containers/%s: %s",
                                         e->opts.root, id, strerror(-r));
        if (c)
                container_unlink(e, c);
        log_info("Deleted container %s", id);
        return sd_bus_reply_method_return(m, NULL);
}

const sd_bus_vtable exec_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Start", SD_BUS_ARGS("s", id, "s", launch_json),
                                SD_BUS_RESULT("u", pid, "t", started_at), method_start, 0),
        SD_BUS_METHOD_WITH_ARGS("Kill", SD_BUS_ARGS("s", id, "i", signal), SD_BUS_NO_RESULT, method_kill, 0),
        SD_BUS_METHOD_WITH_ARGS("Adopt", SD_BUS_ARGS("s", id),
                                SD_BUS_RESULT("b", running, "u", pid, "t", started_at, "i", exit_code,
                                              "s", reason, "s", signal, "t", finished_at),
                                method_adopt, 0),
        SD_BUS_METHOD_WITH_ARGS("Delete", SD_BUS_ARGS("s", id), SD_BUS_NO_RESULT, method_delete, 0),
        SD_BUS_METHOD_WITH_ARGS("Freeze", SD_BUS_ARGS("s", id, "b", frozen), SD_BUS_NO_RESULT, method_freeze, 0),
        SD_BUS_METHOD_WITH_ARGS("Changes", SD_BUS_ARGS("s", id), SD_BUS_RESULT("a(sy)", changes), method_changes, 0),
        SD_BUS_METHOD_WITH_ARGS("DiskUsage", SD_BUS_ARGS("s", id), SD_BUS_RESULT("t", bytes), method_disk_usage, 0),
        SD_BUS_METHOD_WITH_ARGS("UpdateResources", SD_BUS_ARGS("s", id, "s", launch_json), SD_BUS_NO_RESULT,
                                method_update_resources, 0),
        SD_BUS_METHOD_WITH_ARGS("CleanupOrphans", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", removed), method_cleanup_orphans, 0),
        SD_BUS_METHOD_WITH_ARGS("OpenRoot", SD_BUS_ARGS("s", id), SD_BUS_RESULT("h", root, "b", running),
                                method_open_root, 0),
        SD_BUS_METHOD_WITH_ARGS("Probe", SD_BUS_ARGS("s", id, "s", kind, "as", args, "t", timeout),
                                SD_BUS_RESULT("i", exit_code, "s", output), method_probe, 0),
        SD_BUS_METHOD_WITH_ARGS("SyncVolumes", SD_BUS_ARGS("as", names), SD_BUS_RESULT("u", synced), method_sync_volumes, 0),
        SD_BUS_METHOD_WITH_ARGS("OpenUpper", SD_BUS_ARGS("s", id), SD_BUS_RESULT("h", upper), method_open_upper, 0),
        SD_BUS_METHOD_WITH_ARGS("ExecStart", SD_BUS_ARGS("s", id, "a{sv}", options),
                                SD_BUS_RESULT("h", fd, "u", exec_id, "u", pid), method_exec_start, 0),
        SD_BUS_METHOD_WITH_ARGS("ExecKill", SD_BUS_ARGS("u", exec_id, "i", signal), SD_BUS_NO_RESULT, method_exec_kill, 0),
        SD_BUS_METHOD_WITH_ARGS("Attach", SD_BUS_ARGS("s", id, "a{sv}", options), SD_BUS_RESULT("h", fd), method_attach, 0),
        SD_BUS_METHOD_WITH_ARGS("Resize", SD_BUS_ARGS("s", id, "q", rows, "q", cols), SD_BUS_NO_RESULT, method_resize, 0),
        SD_BUS_SIGNAL_WITH_ARGS("ExecExited", SD_BUS_ARGS("u", exec_id, "i", exit_code), 0),
        SD_BUS_SIGNAL_WITH_ARGS("ContainerExited",
                                SD_BUS_ARGS("s", id, "i", exit_code, "s", reason, "s", signal, "t", finished_at), 0),
        SD_BUS_VTABLE_END,
};
