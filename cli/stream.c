/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Docker's multiplexed stream framing (dbus-api.md): an 8-byte header
 * {stream u8, 0, 0, 0, length u32 big-endian}, then length bytes. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "stream.h"
#include "macro.h"

#define FRAME_MAX (1024 * 1024)

static int read_full(int fd, void *buf, size_t n) {
        size_t done = 0;

        while (done < n) {
                ssize_t k = read(fd, (char *) buf + done, n - done);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return done == 0 ? 0 : -EPIPE;
                done += k;
        }
        return 1;
}

static int write_full(int fd, const void *buf, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, buf, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                buf = (const char *) buf + k;
                n -= k;
        }
        return 0;
}

int demux_frame(int fd, int out_fd, int err_fd) {
        unsigned char hdr[8];
        _cleanup_free_ char *buf = NULL;
        uint32_t len;
        int r;

        r = read_full(fd, hdr, sizeof hdr);
        if (r <= 0)
                return r;
        len = (uint32_t) hdr[4] << 24 | (uint32_t) hdr[5] << 16 | (uint32_t) hdr[6] << 8 | hdr[7];
        if (hdr[0] > 2 || len > FRAME_MAX)
                return -EBADMSG;
        buf = malloc(len ?: 1);
        if (!buf)
                return -ENOMEM;
        r = read_full(fd, buf, len);
        if (r < 0 || (r == 0 && len > 0))
                return r < 0 ? r : -EPIPE;
        r = write_full(hdr[0] == 2 ? err_fd : out_fd, buf, len);
        return r < 0 ? r : 1;
}

int demux_stream(int fd, int out_fd, int err_fd) {
        int r;

        while ((r = demux_frame(fd, out_fd, err_fd)) > 0)
                ;
        return r;
}
