/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <time.h>

/* Go's time.RFC3339Nano in UTC, the form Docker, podman and skopeo write
 * image timestamps in: "2026-11-29T14:30:00.12345Z", the fraction without
 * its trailing zeros, none at all on a whole second. An image config made
 * here must be byte-for-byte what those tools write when they re-marshal
 * it (skopeo converting a docker-archive to an oci-archive does), or the
 * image's id changes on the way. -EINVAL for a time gmtime cannot show,
 * -ENOBUFS when @size is too small (31 bytes always suffice until 9999). */
int format_rfc3339_nano(const struct timespec *ts, char *buf, size_t size);
