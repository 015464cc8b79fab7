/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "backoff.h"

/* zlayerd's whole state: the processes it runs and the control link to the
 * broker. Nothing about containers or images lives here. */

typedef enum ChildKind {
        CHILD_BROKER,
        CHILD_PULLER,
        CHILD_ARCHIVE,
        CHILD_EXEC,
        CHILD_STATS,
        _CHILD_KIND_MAX,
} ChildKind;

typedef struct Supervisor Supervisor;

typedef struct Child {
        Supervisor *supervisor;
        ChildKind kind;
        const char *name;        /* AttachWorker name: "puller", … ("broker" for the broker) */
        const char *binary;      /* file name in the libexec dir */
        bool optional;           /* started only when its binary is installed */
        bool enabled;

        pid_t pid;               /* 0 = not running */
        uint64_t started_usec;   /* CLOCK_MONOTONIC */
        sd_event_source *child_source;
        sd_event_source *restart_timer;
        Backoff backoff;

        /* Workers: the broker's end of the socketpair, held until it has been
         * handed to the broker with AttachWorker. */
        int link_fd;
        sd_bus_slot *attach_slot;
        /* When the link died but the process did not: SIGKILL for a worker
         * that outlived its broker, SIGTERM for a broker that closed its
         * control link. */
        sd_event_source *link_lost_timer;
} Child;

struct Supervisor {
        sd_event *event;

        const char *bus_address;   /* NULL = system bus (not passed down) */
        const char *root;
        const char *run_dir;
        const char *user;
        const char *libexec_dir;
        const char *auth_file;     /* passed to zlayer-puller only */
        const char *bridge_name, *bridge_subnet, *network_pool; /* passed to the broker only; NULL = default */
        const char *max_concurrent_ops;          /* idem */
        const char *const *search_registries;    /* idem, n_search_registries of them */
        unsigned n_search_registries;
        bool debug;

        Child children[_CHILD_KIND_MAX];

        sd_bus *control;           /* client end of the broker's control link */
        bool notified_ready;       /* READY=1 went to the service manager */
        bool stopping;
        sd_event_source *kill_timer;
};

int supervisor_init(Supervisor *s, sd_event *event);
/* Starts the broker and every enabled worker. */
int supervisor_start(Supervisor *s);
/* SIGTERM every child; the event loop exits once all are gone (SIGKILL after 5 s). */
void supervisor_stop(Supervisor *s);
void supervisor_done(Supervisor *s);
