/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "broker.h"

typedef enum WorkerKind {
        WORKER_PULLER,
        WORKER_ARCHIVE,
        WORKER_EXEC,
        WORKER_STATS,
        _WORKER_MAX,
} WorkerKind;

#define WORKER_WAIT_USEC (10 * USEC_PER_SEC)

const char *worker_kind_to_string(WorkerKind k);
int worker_kind_from_string(const char *s);

/* Called with the worker's link, or with link NULL and error < 0 when the
 * worker did not become available within WORKER_WAIT_USEC. */
typedef void (*worker_ready_t)(Broker *b, sd_bus *link, int error, void *userdata);

int worker_links_new(Broker *b, WorkerLinks **ret);
/* Fails what still waits for a worker (the callbacks run with -ESHUTDOWN). */
WorkerLinks *worker_links_free(WorkerLinks *w);
/* True while worker_links_free() runs: results are not worth persisting. */
bool worker_links_shutting_down(Broker *b);

/* Serve com.zlayer.Broker.Control1 on @fd (taken). */
int control_link_open(Broker *b, int fd);
/* Emit Ready() on the control link. */
int control_link_emit_ready(Broker *b);

/* Runs @cb now when the worker is linked, else queues it (with a timeout). */
int worker_acquire(Broker *b, WorkerKind k, worker_ready_t cb, void *userdata);

/* The linked worker or NULL. */
sd_bus *worker_link(Broker *b, WorkerKind k);

/* Replace the link of a worker (AttachWorker); takes @fd. */
int worker_attach(Broker *b, WorkerKind k, int fd);
