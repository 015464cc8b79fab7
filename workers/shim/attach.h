/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

/* The shim's side of AttachContainer and ResizeContainerTTY
 * (docs/internals.md, "Attach"): a SOCK_SEQPACKET socket attach.sock in the
 * container's run dir (root only), on which zlayer-exec asks for an
 * attacher's fd or a resize; the container's output fanned out to every
 * attacher, their input fed to the container's stdin. */

#define ATTACHERS_MAX 16
#define ATTACH_POLLFDS_MAX (ATTACHERS_MAX + 2)

typedef struct AttachServer AttachServer;

/* @master: the container's PTY master (tty) or -1; @stdin_fd: the write end
 * of its stdin pipe (stdin_open without tty) or -1; both taken. Without
 * @stdin_open, what attachers write is dropped. @log_dir/@log_name: ctr.log,
 * for the `logs` replay. */
int attach_server_new(int rundir, int log_dir, const char *log_name, int master, int stdin_fd, bool stdin_open,
                      AttachServer **ret);
AttachServer *attach_server_free(AttachServer *s);

/* What the shim read but did not log yet (an unfinished line), replayed
 * after the log to an attacher that asks for `logs`. */
void attach_server_set_pending(AttachServer *s, bool is_stderr, const char *buf, const size_t *len);

/* The container's output as it comes: @is_stderr is false for a tty. */
void attach_server_output(AttachServer *s, bool is_stderr, const char *buf, size_t n);

/* The init exited: new attach requests are refused (InvalidState). */
void attach_server_set_exited(AttachServer *s);

/* Fills at most ATTACH_POLLFDS_MAX entries of @p; returns how many. */
size_t attach_server_pollfds(AttachServer *s, struct pollfd *p);
/* Handles the revents of the entries attach_server_pollfds() filled. */
void attach_server_dispatch(AttachServer *s, const struct pollfd *p, size_t n);
