/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "broker.h"

typedef enum ContainerState {
        CONTAINER_PENDING,
        CONTAINER_INITIALIZING,
        CONTAINER_RUNNING,
        CONTAINER_STOPPING,
        CONTAINER_EXITED,
        CONTAINER_FAILED,
        _CONTAINER_STATE_MAX,
} ContainerState;

typedef enum WaiterKind {
        WAITER_NOT_RUNNING,  /* WaitContainer "" / "not-running" */
        WAITER_NEXT_EXIT,    /* WaitContainer "next-exit" */
        WAITER_REMOVED,      /* WaitContainer "removed" */
        WAITER_STOP,         /* StopContainer: empty reply on exit */
        WAITER_REMOVE,       /* RemoveContainer force: delete on exit */
} WaiterKind;

typedef struct ContainerWaiter ContainerWaiter;
struct ContainerWaiter {
        WaiterKind kind;
        sd_bus_message *call;
        ContainerWaiter *next;
};

/* Limits on what callers can make the broker hold. */
#define CONTAINERS_MAX 4096
#define CONTAINER_WAITERS_MAX 1024

struct Container {
        unsigned n_ref;
        Broker *broker;
        Container *next;

        char *id, *name, *service;
        unsigned replica;
        char *image, *image_digest;
        ContainerState state;
        int32_t exit_code;
        char *reason, *signal;   /* of the last exit */
        uint32_t pid;
        uint64_t created_at, started_at, finished_at;
        unsigned restart_count;
        char **labels;           /* key, value, …, NULL */

        /* From config.json. */
        char *stop_signal;
        uint64_t stop_grace_usec;

        /* lifecycle.c, restart.c */
        bool paused;             /* cgroup frozen (state stays running) */
        bool pausing;            /* a Freeze in flight */
        bool updating;           /* an UpdateContainerResources in flight */
        bool stopped_by_user;    /* Stop/Kill: the restart policy leaves it */
        char *restart_kind;      /* set by UpdateContainerResources; NULL = the spec's */
        int64_t restart_max;     /* idem; -1 = the spec's */
        unsigned restart_backoff; /* consecutive quick restarts */
        bool restarting;         /* the policy (not a user) is starting it */
        sd_event_source *restart_timer;
        struct Health *health;   /* health.c; NULL without a check */
        sd_event_source *cron_timer; /* container-cron.c: rtype cron's next run */
        uint64_t cron_next_usec;     /* CLOCK_REALTIME of that run, 0 = none */
        int64_t cron_last_tick;      /* the (schedule clock's) minute of the last run, seconds */

        bool registered;         /* on the bus and in the broker's list */
        bool removing;           /* Exec1.Delete in flight */
        sd_event_source *stop_timer;
        struct ContainerOp *delete_retry; /* a Delete waiting for its next try */
        struct ContainerOp *ops;          /* every Kill/Delete in progress */
        ContainerWaiter *waiters;
        unsigned n_waiters;
};

const char *container_state_to_string(ContainerState s);
int container_state_from_string(const char *s);
static inline bool container_state_is_active(ContainerState s) {
        return s == CONTAINER_INITIALIZING || s == CONTAINER_RUNNING || s == CONTAINER_STOPPING;
}

Container *container_new(void);
Container *container_ref(Container *c);
Container *container_unref(Container *c);
static inline void container_unrefp(Container **c) {
        if (*c)
                container_unref(*c);
}
#define _cleanup_container_ __attribute__((cleanup(container_unrefp)))

/* state.json (container-state.c) */
int container_state_to_json(const Container *c, char **ret);
int container_state_from_json(Container *c, const char *text);
int container_state_save(const Container *c, int containers_fd);
int container_state_load(int containers_fd, const char *id, Container **ret);

/* The bus object and the broker's table (container.c) */
int container_register(Broker *b, Container *c);   /* adds to list, emits ContainerNew */
void container_unregister(Container *c);           /* drops, emits ContainerRemoved */
Container *container_find_by_id(Broker *b, const char *id);
Container *container_find(Broker *b, const char *id_or_name);
int container_find_or_error(Broker *b, const char *id_or_name, Container **ret, sd_bus_error *error);
int container_find_authorized(Broker *b, sd_bus_message *m, Container **ret, sd_bus_error *error);
char *container_object_path(const char *id);
int containers_register_fallback(Broker *b);
int containers_load_all(Broker *b);
void containers_free_all(Broker *b);

/* Change state: persist state.json, PropertiesChanged, ContainerStateChanged. */
int container_set_state(Container *c, ContainerState s);
void container_emit_changed(Container *c, const char *first, ...);
int container_add_waiter(Container *c, WaiterKind kind, sd_bus_message *call);

/* An exit reported by zlayer-exec (signal or Adopt). */
void container_apply_exit(Container *c, int32_t exit_code, const char *reason, const char *sig, uint64_t finished_at);

/* Restart policies (restart.c). */
int container_set_restart_policy(Container *c, const char *kind, int64_t max_attempts);
void container_restart_on_exit(Container *c);
void container_restart_cancel(Container *c);
void containers_restart_pending(Broker *b);
/* Asks zlayer-exec to remove state/run dirs of no container (lifecycle.c), once. */
void containers_cleanup_orphans(Broker *b);
bool restart_kind_is_valid(const char *s);
/* Exec1.Start from config.json without a caller: a policy restart (@policy:
 * RestartCount+1) or a cron run (like a user's start). */
int container_start_unattended(Container *c, bool policy);

/* rtype cron (container-cron.c): arm the timer of the next run from
 * spec.json's schedule (no-op for other rtypes, when stopped by a user or
 * already armed); disarm it (Stop/Kill/Remove). */
void container_cron_arm(Container *c);
void container_cron_disarm(Container *c);
/* The policy's decision and its wait (pure, restart.c). */
bool restart_wanted(const char *kind, bool failed, unsigned restart_count, int64_t max_attempts, bool stopped_by_user);
uint64_t restart_wait_usec(uint64_t delay, unsigned backoff);

/* The cap on lifecycle calls in flight (container-ops.c): admit answers
 * Busy on @error (< 0) when the cap is reached; hold/release count one. */
int container_ops_admit(Broker *b, const char *method, const char *id, sd_bus_error *error);
void container_ops_hold(Broker *b);
void container_ops_release(Broker *b);

/* Ask zlayer-exec to Adopt every container we believe active. */
void containers_adopt_all(Broker *b);

/* Ask zlayer-exec to delete the container, then drop it; replies to @call (may be NULL). */
int container_remove(Container *c, sd_bus_message *call);
/* Send @sig to the container's init via zlayer-exec; reply on @call (may be NULL). */
int container_kill(Container *c, int sig, sd_bus_message *call);
