/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* An overlay file system context, created (FSCONFIG_CMD_CREATE done) and
 * ready for fsmount(): @lowers are the lower dirs, topmost first, @upper
 * and @work may be /proc/self/fd/N paths. Kernels since 6.8 get the layers
 * one by one ("lowerdir+", no page-size limit on the options); older ones
 * (Debian 12's 6.1) refuse that key at FSCONFIG_CMD_CREATE with EINVAL and
 * get a single colon-separated "lowerdir" of /proc/self/fd/N paths instead
 * (fsconfig takes at most 255 bytes: about 14 layers, else -E2BIG).
 * Returns the fd or -errno. */
int overlay_fs_create(char *const *lowers, const char *upper, const char *work);
