/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/* One text message on a SOCK_SEQPACKET (or datagram) socket, with an fd
 * attached by SCM_RIGHTS when @fd >= 0. -errno on failure. */
int fdpass_send(int sock, int fd, const char *text);

/* Receives one message into @buf (NUL-terminated, at most @size - 1 bytes);
 * *ret_fd is the fd attached (CLOEXEC) or -1. Returns the text's length, 0
 * at EOF, -errno on failure (-EBADMSG for a truncated message or control
 * data, whose fds are closed). */
ssize_t fdpass_recv(int sock, char *buf, size_t size, int *ret_fd);
