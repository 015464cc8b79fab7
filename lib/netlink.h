/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* rtnetlink through libmnl: what bridge networking needs, nothing more.
 * Each function works in the network namespace the socket was opened in.
 * Addresses are IPv4 in host byte order. */

typedef struct Netlink Netlink;

int netlink_open(Netlink **ret);
Netlink *netlink_close(Netlink *nl);
static inline void netlink_closep(Netlink **nl) {
        if (*nl)
                netlink_close(*nl);
}
#define _cleanup_netlink_ __attribute__((cleanup(netlink_closep)))

/* ifindex of @name in the socket's namespace, -ENODEV if none */
int netlink_link_index(Netlink *nl, const char *name);
/* creates bridge @name (EEXIST is success, *ret_created says which) */
int netlink_bridge_add(Netlink *nl, const char *name, bool *ret_created);
/* creates the veth pair @host_name (enslaved to @master_index) ⇄ @peer_name,
 * the peer created right in the network namespace of @peer_pid */
int netlink_veth_add(Netlink *nl, const char *host_name, int master_index, const char *peer_name, pid_t peer_pid);
int netlink_link_delete(Netlink *nl, const char *name);  /* -ENODEV if none */
int netlink_link_up(Netlink *nl, int index);
/* EEXIST is success */
int netlink_addr_add(Netlink *nl, int index, uint32_t addr, unsigned prefix);
int netlink_default_route_add(Netlink *nl, uint32_t gateway);
/* number of links enslaved to @master_index */
int netlink_count_slaves(Netlink *nl, int master_index, unsigned *ret);
