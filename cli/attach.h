/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct AttachOptions {
        bool interactive;       /* our stdin goes in */
        bool tty;
        bool logs;              /* replay what this run printed before we attached */
        uint64_t since_usec;    /* with @logs: a container that exited before we
                                 * attached gets its log from here printed instead */
        bool stdin_once;        /* our stdin's EOF ends the container's (run -i):
                                 * a half-close of the attach socket */
} AttachOptions;

/* cli/attach.c: attaches our stdio to a running container (AttachContainer)
 * until its output ends, then returns its exit code (or 125 on our failure,
 * 0 after the detach keys). */
int attach_container(const char *id, const AttachOptions *o);

/* start -a / -i: StartContainer, then attached (-i: with our stdin). A
 * non-tty container without -i is followed through its log from the start
 * on, so that nothing it prints before an attach could be lost; a tty one
 * gets this run's output replayed by the attach. */
int start_attached(const char *id, bool interactive);

/* verbs-run.c: follows the log of @id from @since_usec (0 = all) while
 * waiting for it to exit; returns its exit code. */
int follow_container(const char *id, uint64_t since_usec);

/* Config.Tty and Config.OpenStdin of InspectContainer; 0 or an exit code. */
int container_tty_flags(const char *id, bool *ret_tty, bool *ret_open_stdin);
