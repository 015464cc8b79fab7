/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* com.zlayer.Worker.Archive1 methods on container roots (docs/internals.md,
 * "Archive"): Head, Get, Put, Export. The root is a directory fd the broker
 * got from zlayer-exec (Exec1.OpenRoot). Head answers at once; Get, Put and
 * Export run in a child process each (a crash in libarchive costs one
 * request, and the streams never pass through this process's memory).
 * Get and Export reply when the stream starts, Put when the child is done. */
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "archive-bus.h"
#include "container-archive.h"
#include "errors.h"
#include "fileio.h"
#include "log.h"

#define CONTAINER_MAX_JOBS 32

typedef struct JobResult {
        int r;
        char message[2048];
} JobResult;

typedef struct Job Job;
struct Job {
        Job *next;
        const char *what;              /* "Get", "Put", "Export" */
        sd_bus_message *request;       /* Put: answered at the child's exit */
        sd_event_source *child;
        int result_fd;
};

static Job *jobs;
static unsigned n_jobs;
static uint64_t max_entries = CARCHIVE_MAX_ENTRIES, max_bytes = CARCHIVE_MAX_BYTES;

static void job_free(Job *j) {
        for (Job **p = &jobs; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        n_jobs--;
                        break;
                }
        sd_event_source_disable_unref(j->child);
        sd_bus_message_unref(j->request);
        if (j->result_fd >= 0)
                close(j->result_fd);
        free(j);
}

static const char *error_name(int r) {
        switch (r) {
        case -ENOENT:
                return ZL_ERROR_NOT_FOUND;
        case -ENOMEM:
        case -EIO:
        case -ENOSPC:
                return ZL_ERROR_INTERNAL;
        default:
                /* what the caller sent (path, tar, options) is refused */
                return SD_BUS_ERROR_INVALID_ARGS;
        }
}

static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Job *j = userdata;
        JobResult res = {};
        ssize_t n = read(j->result_fd, &res, sizeof(res));
        bool died = si->si_code != CLD_EXITED || si->si_status != 0 || n != (ssize_t) sizeof(res);

        res.message[sizeof(res.message) - 1] = 0;
        if (died)
                log_error("%s process died (%s %d)", j->what, si->si_code == CLD_EXITED ? "status" : "signal",
                          si->si_status);
        else if (res.r < 0)
                log_warning_errno(res.r, "%s failed: %s", j->what, res.message);
        else
                log_debug("%s done", j->what);

        if (j->request) {
                if (died)
                        (void) sd_bus_reply_method_errorf(j->request, ZL_ERROR_INTERNAL, "%s process died (%s %d)",
                                                          j->what, si->si_code == CLD_EXITED ? "status" : "signal",
                                                          si->si_status);
                else if (res.r < 0)
                        (void) sd_bus_reply_method_errorf(j->request, error_name(res.r), "%s",
                                                          res.message[0] ? res.message : strerror(-res.r));
                else
                        (void) sd_bus_reply_method_return(j->request, NULL);
        }
        job_free(j);
        return 0;
}

typedef int (*job_fn_t)(void *userdata, char **ret_error);

/* Forks a child running @fn; @request is answered at its exit when
 * @reply_at_exit, else the caller replies itself. */
static int job_start(sd_bus_message *request, const char *what, bool reply_at_exit, job_fn_t fn, void *userdata) {
        sd_bus *bus = sd_bus_message_get_bus(request);
        int pipefd[2], r;
        pid_t pid;
        Job *j;

        if (n_jobs >= CONTAINER_MAX_JOBS)
                return -EBUSY;
        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->result_fd = -1;
        j->what = what;
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                r = -errno;
                free(j);
                return r;
        }
        pid = archive_fork_child(bus);
        if (pid < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                free(j);
                return pid;
        }
        if (pid == 0) {
                JobResult res = {};
                _cleanup_free_ char *message = NULL;

                close(pipefd[0]);
                res.r = fn(userdata, &message);
                if (message)
                        snprintf(res.message, sizeof(res.message), "%s", message);
                if (loop_write(pipefd[1], &res, sizeof(res)) < 0)
                        _exit(EXIT_FAILURE);
                _exit(EXIT_SUCCESS);
        }
        close(pipefd[1]);
        j->result_fd = pipefd[0];
        if (reply_at_exit)
                j->request = sd_bus_message_ref(request);
        r = sd_event_add_child(sd_bus_get_event(bus), &j->child, pid, WEXITED, on_child_exit, j);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                j->request = sd_bus_message_unref(j->request);
                job_free(j);
                return r;
        }
        j->next = jobs;
        jobs = j;
        n_jobs++;
        return 0;
}

static int check_root(int root_fd, sd_bus_error *error) {
        struct stat st;

        if (fstat(root_fd, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "root is not a directory");
        return 0;
}

static int stat_or_error(int root_fd, const char *path, CArchiveStat *st, sd_bus_error *error) {
        int r = carchive_stat(root_fd, path, st);

        if (r == -ENOENT || r == -ENOTDIR)
                return sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND, "No such file or directory in the container: %.512s", path);
        if (r == -EINVAL)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid path: %.512s", path);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "%.512s: %m", path);
        return 0;
}

static int reply_stat(sd_bus_message *m, int out_fd, const CArchiveStat *st) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0 && out_fd >= 0)
                r = sd_bus_message_append(reply, "h", out_fd);
        if (r >= 0)
                r = sd_bus_message_append(reply, "sxuss", st->name, st->size, st->mode, st->mtime, st->link_target);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_head(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *path;
        CArchiveStat st;
        int root_fd, r;

        r = sd_bus_message_read(m, "hs", &root_fd, &path);
        if (r < 0)
                return r;
        r = check_root(root_fd, error);
        if (r != 0)
                return r;
        r = stat_or_error(root_fd, path, &st, error);
        if (r != 0)
                return r;
        return reply_stat(m, -1, &st);
}

typedef struct StreamArgs {
        int root_fd, fd;
        const char *path;
        CArchivePutOptions put;
        const char *user;
} StreamArgs;

static int run_get(void *userdata, char **ret_error) {
        StreamArgs *a = userdata;
        return carchive_get(a->root_fd, a->path, a->fd, ret_error);
}

static int run_export(void *userdata, char **ret_error) {
        StreamArgs *a = userdata;
        return carchive_export(a->root_fd, a->fd, ret_error);
}

static int run_put(void *userdata, char **ret_error) {
        StreamArgs *a = userdata;
        int r;

        if (!a->put.copy_uid_gid) {
                r = carchive_resolve_user(a->root_fd, a->user, &a->put.uid, &a->put.gid);
                if (r < 0) {
                        if (asprintf(ret_error, "cannot resolve the container's user %.256s: %s", a->user,
                                     strerror(-r)) < 0)
                                *ret_error = NULL;
                        return -EINVAL;
                }
        }
        return carchive_put(a->root_fd, a->path, a->fd, &a->put, ret_error);
}

static int busy_or_errno(int r, sd_bus_error *error) {
        if (r == -EBUSY)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "Already running %u archive jobs", n_jobs);
        return r;
}

static int method_get(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        StreamArgs a = {};
        CArchiveStat st;
        int r;

        r = sd_bus_message_read(m, "hsh", &a.root_fd, &a.path, &a.fd);
        if (r < 0)
                return r;
        r = check_root(a.root_fd, error);
        if (r != 0)
                return r;
        r = stat_or_error(a.root_fd, a.path, &st, error);
        if (r != 0)
                return r;
        r = job_start(m, "Get", false, run_get, &a);
        if (r < 0)
                return busy_or_errno(r, error);
        return reply_stat(m, -1, &st);
}

static int method_export(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        StreamArgs a = {};
        int r;

        r = sd_bus_message_read(m, "hh", &a.root_fd, &a.fd);
        if (r < 0)
                return r;
        r = check_root(a.root_fd, error);
        if (r != 0)
                return r;
        r = job_start(m, "Export", false, run_export, &a);
        if (r < 0)
                return busy_or_errno(r, error);
        return sd_bus_reply_method_return(m, NULL);
}

static int read_put_options(sd_bus_message *m, StreamArgs *a, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;
                int b;

                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "no_overwrite_dir_non_dir") || streq(key, "copy_uid_gid")) {
                        r = sd_bus_message_read(m, "v", "b", &b);
                        if (r < 0)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Option %s must be a boolean", key);
                        if (streq(key, "copy_uid_gid"))
                                a->put.copy_uid_gid = b;
                        else
                                a->put.no_overwrite_dir_non_dir = b;
                } else if (streq(key, "user")) {
                        r = sd_bus_message_read(m, "v", "s", &a->user);
                        if (r < 0)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Option user must be a string");
                } else
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown option %.100s", key);
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        return r < 0 ? r : 0;
}

static int method_put(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        StreamArgs a = { .put = { .max_entries = max_entries, .max_bytes = max_bytes } };
        int r;

        r = sd_bus_message_read(m, "hsh", &a.root_fd, &a.path, &a.fd);
        if (r < 0)
                return r;
        r = read_put_options(m, &a, error);
        if (r != 0)
                return r;
        r = check_root(a.root_fd, error);
        if (r != 0)
                return r;
        r = job_start(m, "Put", true, run_put, &a);
        if (r < 0)
                return busy_or_errno(r, error);
        return 1;  /* answered at the child's exit */
}

static const sd_bus_vtable container_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Head", SD_BUS_ARGS("h", root, "s", path),
                                SD_BUS_RESULT("s", name, "x", size, "u", mode, "s", mtime, "s", link_target),
                                method_head, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Get", SD_BUS_ARGS("h", root, "s", path, "h", out),
                                SD_BUS_RESULT("s", name, "x", size, "u", mode, "s", mtime, "s", link_target),
                                method_get, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Put", SD_BUS_ARGS("h", root, "s", path, "h", in, "a{sv}", options), SD_BUS_NO_RESULT,
                                method_put, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Export", SD_BUS_ARGS("h", root, "h", out), SD_BUS_NO_RESULT,
                                method_export, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static uint64_t env_limit(const char *name, uint64_t def) {
        const char *v = getenv(name);
        char *end;
        unsigned long long n;

        if (isempty(v))
                return def;
        errno = 0;
        n = strtoull(v, &end, 10);
        if (errno != 0 || *end != 0 || n == 0) {
                log_warning("Ignoring invalid %s=%s", name, v);
                return def;
        }
        return n;
}

int archive_container_bus_add_object(sd_bus *bus) {
        max_entries = env_limit("ZLAYER_ARCHIVE_MAX_ENTRIES", CARCHIVE_MAX_ENTRIES);
        max_bytes = env_limit("ZLAYER_ARCHIVE_MAX_BYTES", CARCHIVE_MAX_BYTES);
        return sd_bus_add_object_vtable(bus, NULL, ZL_WORKER_PATH, ZL_ARCHIVE_IFACE, container_vtable, NULL);
}
