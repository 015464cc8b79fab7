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
