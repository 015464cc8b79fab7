/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

/* The com.zlayer.Worker.Puller1 object at /com/zlayer/Worker. Each Pull runs
 * in a thread of its own; its reply is sent from the loop thread when the
 * thread signals its eventfd, so only the loop thread touches sd-bus. */

/* Concurrent pulls beyond this are answered with Busy. */
#define PULLS_MAX 16U

typedef struct Puller Puller;

/* @auth_file: Docker config.json-style credentials, read at each pull
 * without username/password options (NULL = none). */
int puller_new(sd_event *event, sd_bus *bus, const char *auth_file, Puller **ret);
/* Cancels the pulls still running and waits for their threads. */
Puller *puller_free(Puller *p);
static inline void puller_freep(Puller **p) {
        if (*p)
                puller_free(*p);
}
