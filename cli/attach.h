/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* cli/attach.c: attaches our stdio to a running container (AttachContainer:
 * our stdin with @interactive, the log replayed first with @logs), until its
 * output ends, then returns its exit code (or 125 on our failure, 0 after
 * the detach keys). With @logs, a container that exited already gets its
 * log printed instead. */
int attach_container(const char *id, bool interactive, bool tty, bool logs);

/* start -a / -i: StartContainer, then attached (-i: with our stdin). A
 * non-tty container without -i is followed through its log from the start
 * on, so that nothing it prints before an attach could be lost. */
int start_attached(const char *id, bool interactive);

/* verbs-run.c: follows the log of @id from @since_usec (0 = all) while
 * waiting for it to exit; returns its exit code. */
int follow_container(const char *id, uint64_t since_usec);

/* Config.Tty and Config.OpenStdin of InspectContainer; 0 or an exit code. */
int container_tty_flags(const char *id, bool *ret_tty, bool *ret_open_stdin);
