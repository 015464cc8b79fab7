/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "cgroup.h"
#include "daemon-options.h"

typedef struct Exec Exec;
typedef struct ExecProcess ExecProcess;

/* One container zlayer-exec started or adopted. */
typedef struct Container {
        Exec *exec;
        char *id;
        bool running;
        pid_t shim_pid, init_pid;
        uint64_t shim_start, init_start, started_at;
        int shim_pidfd;
        sd_event_source *shim_watch;
        /* while starting: the Start call and the shim's status pipe */
        sd_bus_message *start_call;
        int status_fd;
        sd_event_source *status_source, *start_timeout;
        char status[1200];
        size_t status_len;
        struct Container *next;
} Container;

struct Exec {
        DaemonOptions opts;
        gid_t log_gid;
        char *shim_path;
        sd_event *event;
        sd_bus *bus;
        CgroupDriver *cgroup;
        int containers_dir; /* ROOT/containers */
        Container *containers;
        ExecProcess *processes;    /* exec-process.c */
        unsigned n_processes;
        uint32_t next_process_id;
};

extern const sd_bus_vtable exec_vtable[];

/* workers/exec/spawn.c */
int spawn_shim(Exec *e, const char *id, int *ret_status_fd);
int container_watch_shim(Container *c);
void container_free(Container *c);
Container *container_find(Exec *e, const char *id);
int container_read_exit(Exec *e, const char *id, int *ret_code, char **ret_reason, char **ret_signal, uint64_t *ret_finished);

/* workers/exec/exec-process.c: processes exec'd into containers */
int method_exec_start(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_exec_kill(sd_bus_message *m, void *userdata, sd_bus_error *error);
void exec_processes_free_all(Exec *e);
