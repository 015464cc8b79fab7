/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <net/if.h>
#include <sys/types.h>

#include "launch-config.h"

/* The container's network (workers/shim/network.c), set up by the shim
 * between the clone of the init (in its new network namespace) and the
 * sync byte that lets the init go on, and torn down after the init exits. */
typedef struct ShimNetwork {
        int *port_fds;          /* one bound socket per published port: holds the host port */
        size_t n_port_fds;
        size_t n_published;     /* ports entered into the nft map */
        bool veth;              /* the veth pair exists */
        char veth_name[IF_NAMESIZE];
        char table[64];         /* "" = nothing to tear down */
        const char *run_dir;
        const LaunchConfig *config;
        pid_t init_pid;         /* whose network namespace holds the veth's peer */
} ShimNetwork;

/* none: brings lo up; bridge: bridge + nft table (when missing), veth into
 * @pid's namespace, address, lo, default route, published ports. On
 * failure everything made is undone and *ret_error says what failed
 * ("host port 8080/tcp is already in use"). host: nothing. */
int network_setup(const char *run_dir, const LaunchConfig *c, pid_t pid, ShimNetwork *n, char **ret_error);
/* Removes the ports and the veth (the bridge and its nft table stay:
 * lib/netlink-bridges.h). Idempotent; usable as a cleanup
 * attribute, so every exit of the shim after the setup runs it. */
void network_teardown(ShimNetwork *n);

/* Bind-mounts ROOT/containers/<id>/{hosts,resolv.conf,hostname} (written
 * by the broker, broker/network.c) on /etc/… of the container root, in
 * every network mode; a file that does not exist is skipped. */
int network_mount_name_files(const char *root, int rootfd, const LaunchConfig *c, char **ret_error);
