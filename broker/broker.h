/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "daemon-options.h"
#include "macro.h"

typedef struct Container Container;
typedef struct ImageStore ImageStore;
typedef struct WorkerLinks WorkerLinks;
typedef struct AuthzQuery AuthzQuery;
typedef struct BrokerNetwork BrokerNetwork;

/* The broker's whole state: one per process, passed to every handler. */
typedef struct Broker {
        DaemonOptions opts;
        sd_event *event;
        sd_bus *bus;             /* the public bus */
        sd_bus *control;         /* the control link to zlayerd (server side) */

        int root_fd;             /* ROOT */
        int images_fd;           /* ROOT/images */
        int layers_fd;           /* ROOT/layers */
        int containers_fd;       /* ROOT/containers */

        unsigned cgroup_version;
        unsigned n_pulls;        /* PullImage calls in flight */
        unsigned n_container_ops; /* lifecycle calls in flight (container-ops.c) */
        bool name_owned;

        Container *containers;   /* linked list */
        unsigned n_containers;
        ImageStore *images;
        WorkerLinks *workers;
        AuthzQuery *authz_queries;  /* polkit checks, pending or answered (authz.c) */
        unsigned n_authz_pending;
        BrokerNetwork *network;  /* bridge addresses, loaded at first use (network.c) */
} Broker;

/* Manager (manager.c) */
int manager_register(Broker *b);
int manager_emit_counts_changed(Broker *b);
extern const sd_bus_vtable manager_vtable[];

/* Authorization (authz.c): call after validating the arguments, before any
 * change. @target is the container id or image reference (polkit detail), or
 * NULL. Returns 1 when allowed (uid 0, or polkit said yes); 0 when polkit was
 * asked: the handler must return 1 at once, it is dispatched again with the
 * same message when polkit answers; < 0 refused, @error set to AccessDenied
 * naming the action. */
int authz_verify(Broker *b, sd_bus_message *m, const char *target, sd_bus_error *error);
/* Drops every pending check (broker exit). */
void authz_queries_free(Broker *b);

/* Handlers (manager-images.c, manager-containers.c, logs.c) */
int method_pull_image(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_list_images(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_create_container(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_start_container(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_stop_container(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_kill_container(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_remove_container(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_get_container_state(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_wait_container(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_get_container_pid(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_list_containers(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_get_container_logs(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* Pull @reference (normalized) for the broker itself: @done runs once with
 * error NULL on success (manager-images.c). -EBUSY at the pull limit. */
typedef void (*pull_done_t)(Broker *b, const char *reference, const sd_bus_error *error, void *userdata);
int image_pull_start(Broker *b, const char *reference, pull_done_t done, void *userdata);

/* Sends an error reply for a deferred call whose handler already returned. */
int reply_error_errnof(sd_bus_message *call, const char *name, const char *fmt, ...) _printf_(3, 4);
/* Forward a worker's error reply as it is. */
int reply_forward_error(sd_bus_message *call, const sd_bus_error *e);
