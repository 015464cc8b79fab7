/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "launch-config.h"
#include "seccomp-profile.h"

/* A process exec'd into a running container (ExecStart, docs/internals.md).
 *
 * zlayer-exec forks one monitor per exec. The monitor (host root, host pid
 * namespace) joins the container's pid namespace so that its child is born
 * in it, puts the child into the container's cgroups, and stays the child's
 * parent: it reaps it, relays stdio (multiplexed frames over a socket when
 * there is no tty) and talks to zlayer-exec over a SOCK_SEQPACKET status
 * socket:
 *
 *   monitor → worker  "OK <host pid>" with one fd (PTY master or the
 *                     caller's end of the stdio socket), or "ERR <cause>";
 *                     later "EXIT <code>" (128+N for signal N), then EOF.
 *   worker → monitor  "KILL <signo>"; EOF (worker gone) = SIGKILL the child.
 *
 * The child joins the container's mount, uts, ipc, net and cgroup
 * namespaces, allocates its PTY from the container's devpts, resolves the
 * user in the container's /etc/passwd and gets the container's capability
 * set and no_new_privs before exec. */
typedef struct ExecRequest {
        const LaunchConfig *config;
        char **argv;            /* never empty */
        char **env;             /* KEY=VALUE, override the container's */
        const char *working_dir; /* NULL/"" = the container's */
        const char *user;        /* NULL/"" = the container's */
        bool privileged, tty;
        bool attach_stdin, attach_stdout, attach_stderr;
        int init_pidfd;          /* pidfd of the container's entrypoint */
        const CgroupDriver *cgroup;
        const char *cgroup_path; /* "zlayer/<id>" */
        /* set by exec_monitor_spawn(): the default seccomp program, compiled
         * once per capability set in zlayer-exec and inherited by the fork */
        const SeccompProgram *seccomp_program;
        SeccompCaps seccomp_caps;
} ExecRequest;

/* Forks the monitor. Returns its pid and the worker's end of the status socket. */
int exec_monitor_spawn(const ExecRequest *req, pid_t *ret_pid, int *ret_status_fd);

/* Exit code as Docker reports it: the status, or 128+N for signal N. */
int exec_wait_status_to_code(int status);
