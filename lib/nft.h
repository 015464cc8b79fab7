/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* zlayer's own nftables table through libnftables (docs/lifecycle.md,
 * "Networking"): table ip zlayer-<bridge> with
 *   map ports {proto . host port : container address . container port}
 *   prerouting + output (nat): local destinations DNAT through @ports
 *   postrouting (nat): the subnet masqueraded off the bridge, and
 *                      127.0.0.0/8 masqueraded onto the bridge (published
 *                      ports on 127.0.0.1: route_localnet on the bridge)
 *   forward (filter): with @isolate ("a/n, b/m"), traffic from the bridge
 *                     to those subnets by another interface is dropped
 * Nothing outside that table is ever touched. Errors come back as -errno
 * with *ret_error holding nft's message. */

/* creates the table when it is missing (never duplicates its rules) */
int nft_network_ensure(const char *table, const char *bridge, const char *subnet, const char *isolate,
                       char **ret_error);
int nft_network_remove(const char *table, char **ret_error);  /* a missing table is success */
/* a stale element of the same key (a crashed shim's) is replaced */
int nft_port_add(const char *table, const char *proto, uint16_t host_port, const char *addr, uint16_t port,
                 char **ret_error);
int nft_port_remove(const char *table, const char *proto, uint16_t host_port);  /* missing: success */
