/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ArchiveGet / ArchivePut / ArchiveHead / ExportContainer. Two steps on the
 * private links: Exec1.OpenRoot(id) gives a directory fd of the container's
 * root (running or not), Archive1.<method> does the tar work on it. The
 * broker never touches the container's files nor the data: Get and Export
 * hand the caller the read end of a pipe whose write end went to
 * zlayer-archive, Put passes the caller's fd on. */
#include <fcntl.h>

#include "container.h"
#include "errors.h"
#include "fileio.h"
#include "launch-config.h"
#include "log.h"
#include "manager-archive.h"
#include "worker-op.h"

#define OPEN_ROOT_TIMEOUT_USEC (60 * USEC_PER_SEC)
/* Put answers when the whole tar is extracted: as long as the caller sends. */
#define PUT_TIMEOUT_USEC (24ULL * 3600 * USEC_PER_SEC)
#define CONFIG_JSON_MAX (1U << 20)

typedef enum ArchiveKind {
        ARCHIVE_GET,
        ARCHIVE_PUT,
        ARCHIVE_HEAD,
        ARCHIVE_EXPORT,
} ArchiveKind;

typedef struct ArchiveOp {
        WorkerOp w;              /* first: the steps get it as a WorkerOp */
        ArchiveKind kind;
        char *path;
        int tar_fd;              /* Put: the caller's tar */
        bool no_overwrite_dir_non_dir, copy_uid_gid;
        char *user;              /* Put: the container's user (config.json) */
        int root_fd;             /* from Exec1.OpenRoot */
        int pipe_read;           /* Get / Export: the caller's end */
} ArchiveOp;

static int safe_close_fd(int fd) {
        if (fd >= 0)
                close(fd);
        return -1;
}

static const char *kind_method(ArchiveKind k) {
        return (const char *[]) { "Get", "Put", "Head", "Export" }[k];
}

static void archive_op_free(WorkerOp *w) {
        ArchiveOp *op = (ArchiveOp *) w;

        if (!op)
                return;
        worker_op_clear(&op->w);
        free(op->path);
        free(op->user);
        if (op->tar_fd >= 0)
                close(op->tar_fd);
        if (op->root_fd >= 0)
                close(op->root_fd);
        if (op->pipe_read >= 0)
                close(op->pipe_read);
        free(op);
}

static void archive_op_fail(WorkerOp *w, const char *what, int r) {
        ArchiveOp *op = (ArchiveOp *) w;

        (void) reply_error_errnof(op->w.call, ZL_ERROR_INTERNAL, "%s for %s: %s", what, op->w.container->id,
                                  strerror(r < 0 ? -r : r));
        archive_op_free(&op->w);
}

static int on_archive_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        ArchiveOp *op = userdata;
        const char *name, *mtime, *link_target;
        int64_t size;
        uint32_t mode;
        int r;

        if (worker_op_forward_error(&op->w, reply))
                return 0;
        switch (op->kind) {
        case ARCHIVE_PUT:
                r = sd_bus_reply_method_return(op->w.call, NULL);
                break;
        case ARCHIVE_EXPORT:
                r = sd_bus_reply_method_return(op->w.call, "h", op->pipe_read);
                break;
        default:
                r = sd_bus_message_read(reply, "sxuss", &name, &size, &mode, &mtime, &link_target);
                if (r < 0)
                        break;
                if (op->kind == ARCHIVE_HEAD)
                        r = sd_bus_reply_method_return(op->w.call, "sxuss", name, size, mode, mtime, link_target);
                else
                        r = sd_bus_reply_method_return(op->w.call, "hsxuss", op->pipe_read, name, size, mode, mtime,
                                                       link_target);
        }
        if (r < 0)
                log_warning_errno(r, "Failed to reply to Archive%s of %s: %m", kind_method(op->kind), op->w.container->id);
        archive_op_free(&op->w);
        return 0;
}

static int append_put_options(sd_bus_message *m, ArchiveOp *op) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", "no_overwrite_dir_non_dir", "b", op->no_overwrite_dir_non_dir);
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", "copy_uid_gid", "b", op->copy_uid_gid);
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", "user", "s", strempty(op->user));
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static void archive_with_link(WorkerOp *w, sd_bus *link) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_close_ int pipe_write = -1;
        ArchiveOp *op = (ArchiveOp *) w;
        uint64_t timeout = OPEN_ROOT_TIMEOUT_USEC;
        int r;

        log_debug("Archive%s %s: root of the %s container", kind_method(op->kind), op->w.container->id,
                  op->w.running ? "running" : "stopped");
        if (op->kind == ARCHIVE_GET || op->kind == ARCHIVE_EXPORT) {
                int p[2];
                if (pipe2(p, O_CLOEXEC) < 0)
                        return archive_op_fail(&op->w, "pipe", -errno);
                op->pipe_read = p[0];
                pipe_write = p[1];
        }
        r = sd_bus_message_new_method_call(link, &m, NULL, ZL_WORKER_PATH, ZL_ARCHIVE_IFACE, kind_method(op->kind));
        if (r >= 0)
                r = sd_bus_message_append(m, "h", op->root_fd);
        if (r >= 0)
                switch (op->kind) {
                case ARCHIVE_GET:
                        r = sd_bus_message_append(m, "sh", op->path, pipe_write);
                        break;
                case ARCHIVE_HEAD:
                        r = sd_bus_message_append(m, "s", op->path);
                        break;
                case ARCHIVE_EXPORT:
                        r = sd_bus_message_append(m, "h", pipe_write);
                        break;
                case ARCHIVE_PUT:
                        r = sd_bus_message_append(m, "sh", op->path, op->tar_fd);
                        if (r >= 0)
                                r = append_put_options(m, op);
                        timeout = PUT_TIMEOUT_USEC;
                        break;
                }
        if (r >= 0)
                r = sd_bus_call_async(link, NULL, m, on_archive_reply, op, timeout);
        if (r < 0)
                return archive_op_fail(&op->w, "calling zlayer-archive", r);
        /* The message holds its own copies of the fds; ours go now, so
         * the caller sees EOF when zlayer-archive is done writing. */
        op->root_fd = safe_close_fd(op->root_fd);
        op->tar_fd = safe_close_fd(op->tar_fd);
}

/* The common part of every handler: find, authorize, start step one.
 * Returns what the handler returns. */
static int archive_start(sd_bus_message *m, Broker *b, const char *id, ArchiveOp *tmpl, sd_bus_error *error) {
        ArchiveOp *op;
        Container *c;
        int r;

        r = container_method_check(b, m, id, CONTAINER_NEED_STARTED, &c, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */

        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        *op = *tmpl;
        op->w = (WorkerOp) { .broker = b, .container = container_ref(c), .call = sd_bus_message_ref(m),
                             .fail = archive_op_fail, .free = archive_op_free };
        op->root_fd = op->pipe_read = -1;
        op->tar_fd = -1;
        if (tmpl->path && !(op->path = strdup(tmpl->path))) {
                archive_op_free(&op->w);
                return -ENOMEM;
        }
        if (tmpl->tar_fd >= 0) {
                op->tar_fd = fcntl(tmpl->tar_fd, F_DUPFD_CLOEXEC, 3);
                if (op->tar_fd < 0) {
                        r = -errno;
                        archive_op_free(&op->w);
                        return r;
                }
        }
        if (op->kind == ARCHIVE_PUT) {
                /* Files are owned by the container's user, as docker cp does. */
                _cleanup_(launch_config_freep) LaunchConfig *cfg = NULL;
                _cleanup_free_ char *path = NULL, *json = NULL, *perr = NULL;

                if (asprintf(&path, "%s/config.json", c->id) < 0)
                        r = -ENOMEM;
                else
                        r = read_file_at(b->containers_fd, path, CONFIG_JSON_MAX, &json, NULL);
                if (r >= 0)
                        r = launch_config_parse(json, &cfg, &perr);
                if (r >= 0)
                        op->user = strdup(strempty(cfg->user));
                if (r < 0 || !op->user) {
                        archive_op_free(&op->w);
                        return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "cannot read the user of %s from config.json: %s",
                                                 c->id, perr ?: strerror(r < 0 ? -r : ENOMEM));
                }
        }
        r = worker_op_open_fd(&op->w, "OpenRoot", "root", &op->root_fd, archive_with_link);
        if (r < 0) {
                archive_op_free(&op->w);
                return r;
        }
        return 1;
}

static int check_path(const char *path, sd_bus_error *error) {
        if (isempty(path) || strlen(path) >= 4096 || strchr(path, '\n'))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid path: '%.200s'", path);
        return 0;
}

/* Head and Get: (id, path). */
static int archive_path_method(sd_bus_message *m, Broker *b, ArchiveKind kind, sd_bus_error *error) {
        ArchiveOp t = { .kind = kind, .tar_fd = -1 };
        const char *id, *path;
        int r;

        r = sd_bus_message_read(m, "ss", &id, &path);
        if (r < 0)
                return r;
        if ((r = check_path(path, error)) < 0)
                return r;
        t.path = (char *) path;
        return archive_start(m, b, id, &t, error);
}

int method_archive_head(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return archive_path_method(m, userdata, ARCHIVE_HEAD, error);
}

int method_archive_get(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return archive_path_method(m, userdata, ARCHIVE_GET, error);
}

int method_export_container(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ArchiveOp t = { .kind = ARCHIVE_EXPORT, .tar_fd = -1 };
        const char *id;
        int r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        return archive_start(m, userdata, id, &t, error);
}

int method_archive_put(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ArchiveOp t = { .kind = ARCHIVE_PUT };
        const char *id, *path;
        int r;

        r = sd_bus_message_read(m, "ssh", &id, &path, &t.tar_fd);
        if (r < 0)
                return r;
        if ((r = check_path(path, error)) < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;
                int v;

                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                if (!streq(key, "no_overwrite_dir_non_dir") && !streq(key, "copy_uid_gid"))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown ArchivePut option '%.100s'", key);
                r = sd_bus_message_read(m, "v", "b", &v);
                if (r < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "ArchivePut option '%s' must be a boolean", key);
                if (streq(key, "copy_uid_gid"))
                        t.copy_uid_gid = v;
                else
                        t.no_overwrite_dir_non_dir = v;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        t.path = (char *) path;
        return archive_start(m, userdata, id, &t, error);
}
