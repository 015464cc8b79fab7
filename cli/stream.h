/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Copies one frame of a multiplexed stream from @fd to @out_fd (stdout
 * frames) or @err_fd (stderr frames): 1 = one frame, 0 = EOF, -errno
 * (-EBADMSG for a bad header, -EPIPE for a truncated frame). */
int demux_frame(int fd, int out_fd, int err_fd);
/* All frames until EOF: 0, or -errno. */
int demux_stream(int fd, int out_fd, int err_fd);
