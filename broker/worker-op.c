/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plumbing of the methods that take a container's directory from
 * zlayer-exec and hand it to zlayer-archive (manager-archive.c,
 * manager-commit.c): waiting for a worker, the exec step, forwarding a
 * worker's error to the caller. */
#include <fcntl.h>
#include <stdio.h>

#include "errors.h"
#include "worker-op.h"

void worker_op_clear(WorkerOp *op) {
        op->container = container_unref(op->container);
        op->call = sd_bus_message_unref(op->call);
}

bool worker_op_forward_error(WorkerOp *op, sd_bus_message *reply) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (!e)
                return false;
        (void) reply_forward_error(op->call, e);
        op->free(op);
        return true;
}

static void step_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        WorkerOp *op = userdata;
        char what[64];

        if (!link) {
                snprintf(what, sizeof(what), "worker %s is not available", worker_kind_to_string(op->step_kind));
                return op->fail(op, what, error);
        }
        op->step(op, link);
}

int worker_op_acquire(WorkerOp *op, WorkerKind k, worker_op_step_t step) {
        op->step_kind = k;
        op->step = step;
        return worker_acquire(op->broker, k, step_with_link, op);
}

static int on_open_fd_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        WorkerOp *op = userdata;
        char what[64];
        int fd, running = false, r;

        if (worker_op_forward_error(op, reply))
                return 0;
        r = sd_bus_message_read(reply, "h", &fd);
        if (r >= 0 && sd_bus_message_at_end(reply, false) == 0)
                r = sd_bus_message_read(reply, "b", &running);
        if (r < 0) {
                snprintf(what, sizeof(what), "reading the reply of %s", op->open_method);
                op->fail(op, what, r);
                return 0;
        }
        *op->open_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (*op->open_fd < 0) {
                snprintf(what, sizeof(what), "duplicating the %s fd", op->open_what);
                op->fail(op, what, -errno);
                return 0;
        }
        op->running = running;
        r = worker_op_acquire(op, WORKER_ARCHIVE, op->open_next);
        if (r < 0)
                op->fail(op, "waiting for zlayer-archive", r);
        return 0;
}

static void open_fd_with_link(WorkerOp *op, sd_bus *link) {
        char what[64];
        int r;

        r = sd_bus_call_method_async(link, NULL, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, op->open_method,
                                     on_open_fd_reply, op, "s", op->container->id);
        if (r < 0) {
                snprintf(what, sizeof(what), "calling %s", op->open_method);
                op->fail(op, what, r);
        }
}

int worker_op_open_fd(WorkerOp *op, const char *method, const char *what, int *ret_fd, worker_op_step_t next) {
        op->open_method = method;
        op->open_what = what;
        op->open_fd = ret_fd;
        op->open_next = next;
        return worker_op_acquire(op, WORKER_EXEC, open_fd_with_link);
}

int container_method_check(Broker *b, sd_bus_message *m, const char *id, ContainerNeed need, Container **ret,
                           sd_bus_error *error) {
        Container *c;
        int r;

        r = container_find_or_error(b, id, &c, error);
        if (r < 0)
                return r;
        r = authz_verify(b, m, c->id, error);
        if (r <= 0)
                return r;
        if (c->removing)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is being removed", c->id);
        switch (need) {
        case CONTAINER_NEED_STARTED:
                /* Its directory is still the broker's alone (RemoveContainer
                 * deletes it without zlayer-exec); the overlay's upper/ and
                 * work/ appear with the first start. */
                if (c->state == CONTAINER_PENDING && c->started_at == 0)
                        return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' has never been started",
                                                 c->id);
                break;
        case CONTAINER_NEED_RUNNING:
                if (c->state != CONTAINER_RUNNING)
                        return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is %s", c->id,
                                                 container_state_to_string(c->state));
                break;
        }
        *ret = c;
        return 1;
}

int message_copy_after_id(sd_bus_message *req, sd_bus_message *call) {
        int r;

        r = sd_bus_message_rewind(call, true);
        if (r >= 0)
                r = sd_bus_message_skip(call, "s");
        if (r >= 0)
                r = sd_bus_message_copy(req, call, false);
        return r;
}
