/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "container.h"
#include "worker-links.h"

/* The part every multi-step method on the private links shares (archive,
 * commit): embedded first in the method's own op, it carries the caller's
 * message from step to step until the op answers it, exactly once. */
typedef struct WorkerOp WorkerOp;

/* Answers the caller with an error that names @what and errno @r, then
 * frees the op. Each method words its errors its own way. */
typedef void (*worker_op_fail_t)(WorkerOp *op, const char *what, int r);
/* Frees the op without answering. */
typedef void (*worker_op_free_t)(WorkerOp *op);
/* One step, run with the link of the worker it waited for. */
typedef void (*worker_op_step_t)(WorkerOp *op, sd_bus *link);

struct WorkerOp {
        Broker *broker;
        Container *container;
        sd_bus_message *call;
        worker_op_fail_t fail;
        worker_op_free_t free;

        /* private to worker-op.c */
        WorkerKind step_kind;
        worker_op_step_t step;
        const char *open_method, *open_what;
        int *open_fd;
        worker_op_step_t open_next;
        bool running;             /* OpenRoot's answer */
};

/* True when @reply is an error: it went to the caller as it is, the op is
 * freed. */
bool worker_op_forward_error(WorkerOp *op, sd_bus_message *reply);

/* Runs @step with the link of worker @k, now or once it is linked; when the
 * worker stays away the op fails with "worker NAME is not available".
 * < 0 only when it could not even wait: the op is still the caller's. */
int worker_op_acquire(WorkerOp *op, WorkerKind k, worker_op_step_t step);

/* Exec1.@method(the container's id) answers a directory fd (OpenRoot: and
 * whether the container runs, op->running): a CLOEXEC copy goes to
 * *@ret_fd, then @next runs with zlayer-archive's link. @what names the fd
 * in an error ("root", "upper"). Returns as worker_op_acquire(). */
int worker_op_open_fd(WorkerOp *op, const char *method, const char *what, int *ret_fd, worker_op_step_t next);

typedef enum ContainerNeed {
        CONTAINER_NEED_STARTED,   /* started once at least: its overlay exists */
        CONTAINER_NEED_RUNNING,
} ContainerNeed;

/* The checks a method on one container starts with: it exists, the caller
 * may act on it (polkit), it is not being removed, it is as @need says.
 * > 0: go on with *ret; 0: polkit was asked, the method is dispatched again
 * when it answers (the handler returns 1); < 0: the error, in @error. */
int container_method_check(Broker *b, sd_bus_message *m, const char *id, ContainerNeed need, Container **ret,
                           sd_bus_error *error);

/* Appends to @req what follows the container id ("s") in the caller's
 * @call, as it is: the options that zlayer-exec checks key by key. */
int message_copy_after_id(sd_bus_message *req, sd_bus_message *call);

/* Drops what the WorkerOp part holds (the container, the caller's message):
 * for the method's own free function. */
void worker_op_clear(WorkerOp *op);
