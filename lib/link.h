/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

/* Peer-to-peer sd-bus connections over a socketpair end (docs/internals.md):
 * the child process is the server, the parent the client, fds negotiated on
 * both. The connection is attached to @event and started. Takes ownership
 * of @fd, also on failure. */
int link_open_server(int fd, sd_event *event, sd_bus **ret);
int link_open_client(int fd, sd_event *event, sd_bus **ret);

/* The fd a child process finds its link on. */
#define LINK_FD 3

/* A worker's start: the event loop, SIGTERM and SIGINT blocked and ending
 * it (plus the signals of @extra_blocked, 0-terminated or NULL, blocked
 * only), the link on LINK_FD opened as the server, and the loop ended when
 * the link closes (the broker died: zlayerd starts the worker again with
 * the new one). @name is the worker's for the messages. Logs its errors. */
int link_serve_worker(const char *name, const int *extra_blocked, sd_event **ret_event, sd_bus **ret_bus);
