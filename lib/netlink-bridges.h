/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The lifetime of zlayer's bridges (docs/lifecycle.md, "Networking"): a
 * bridge and its nftables table are made by the first container that
 * starts on it and then stay, as docker0 does; zlayerd removes the ones no
 * container is attached to when it stops cleanly. One lock file per bridge,
 * RUN/network-<bridge>.lock, orders whoever creates or removes them; the
 * lock files also tell zlayerd which bridges are zlayer's. */

/* takes the bridge's lock (blocking); returns the fd holding it */
int network_lock_bridge(const char *run_dir, const char *bridge);
/* every bridge of RUN/network-*.lock without a container on it goes, with
 * its table; bridges with containers (a live restore) are left alone */
void network_remove_idle_bridges(const char *run_dir);
