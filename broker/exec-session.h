/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "broker.h"

/* A process exec'd into a container through zlayer-exec (Exec1.ExecStart).
 * ExecStream and ExecPty export it as /com/zlayer/Runtime1/exec/<n>
 * (com.zlayer.Runtime1.Exec, exec-object.c); the buffered Exec keeps it
 * private and collects the output itself (manager-exec.c). */

#define ZL_EXEC_OBJECT_IFACE "com.zlayer.Runtime1.Exec"
#define ZL_EXEC_OBJECT_PREFIX "/com/zlayer/Runtime1/exec"
/* running execs per broker; a caller beyond it gets Busy */
#define EXEC_SESSIONS_RUNNING_MAX 64
/* sessions kept (running or exited, not yet expired) */
#define EXEC_SESSIONS_MAX 1024
/* an exited Exec object stays this long for Wait/ExitCode */
#define EXEC_SESSION_LINGER_USEC (300 * USEC_PER_SEC)
/* how often an exited one checks whether its container is gone */
#define EXEC_SESSION_RECHECK_USEC (2 * USEC_PER_SEC)
#define EXEC_WAITERS_MAX 64
/* the buffered Exec keeps at most this much of stdout and of stderr each */
#define EXEC_OUTPUT_MAX (16U * 1024U * 1024U)

typedef struct ExecSession ExecSession;
typedef void (*exec_exited_t)(ExecSession *s);

struct ExecSession {
        Broker *broker;
        unsigned n;                /* object number */
        char *path;                /* NULL when not exported */
        char *container;
        char **command;
        bool running;
        int32_t exit_code;         /* -1 while running or when lost */
        uint32_t worker_id;        /* Exec1 exec_id */
        sd_bus *link;              /* the zlayer-exec link that runs it (ref) */
        int pty_fd;                /* our copy of the PTY master, for Resize */
        char *owner;               /* unique bus name of the caller */
        sd_bus_slot *object_slot, *owner_slot, *owner_check_slot;
        sd_bus_message *waiters[EXEC_WAITERS_MAX];
        unsigned n_waiters;
        sd_event_source *expire;
        uint64_t exited_at;        /* CLOCK_MONOTONIC */
        exec_exited_t on_exited;   /* the buffered Exec's hook */
        void *userdata;
        ExecSession *next;
};

/* exec-object.c */
int exec_session_new(Broker *b, const char *container, char **command, const char *owner, ExecSession **ret);
/* Export on the bus (emits InterfacesAdded); sets s->path. */
int exec_session_export(ExecSession *s);
void exec_session_free(ExecSession *s);
ExecSession *exec_session_find_worker(Broker *b, sd_bus *link, uint32_t worker_id);
unsigned exec_sessions_running(Broker *b);
unsigned exec_sessions_count(Broker *b);
/* The process ended: properties, Exited, Wait replies, expiry. */
void exec_session_exited(ExecSession *s, int32_t code);
/* Every running session of @link is lost (the worker is gone). */
void exec_sessions_link_lost(Broker *b, sd_bus *link);
/* Kill the process when its owner leaves the bus. */
int exec_session_watch_owner(ExecSession *s);
/* Ask zlayer-exec to signal the process. */
int exec_session_kill(ExecSession *s, int sig);
void exec_sessions_free_all(Broker *b);

/* manager-exec.c */
int method_exec(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_exec_stream(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_exec_pty(sd_bus_message *m, void *userdata, sd_bus_error *error);
