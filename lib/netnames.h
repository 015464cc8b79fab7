/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Names of zlayer's network objects, derived from the bridge's name so that
 * two zlayerd (say, two test runs) with different --bridge-name never touch
 * each other's bridge, veths or nftables table. */

#define ZL_DEFAULT_BRIDGE "zlayer0"
#define ZL_DEFAULT_BRIDGE_SUBNET "10.89.0.0/16"
#define ZL_DEFAULT_NETWORK_POOL "10.90.0.0/16"
#define LAUNCH_PORTS_MAX 256

/* [a-z0-9_-], 1…12 characters (room for derived names within IFNAMSIZ) */
bool bridge_name_is_valid(const char *s);
/* "zlayer-<bridge>": zlayer's own nftables table (family ip) */
int nft_table_name(const char *bridge, char *buf, size_t size);
/* "zv<8 hex>": the host end of a container's veth, from a hash of the
 * bridge and the container id (IFNAMSIZ-safe, stable across restarts) */
int veth_host_name(const char *bridge, const char *id, char *buf, size_t size);

/* A named network (ServiceSpec network_mode other than default, host, none
 * and bridge): [a-z0-9][a-z0-9_.-]*, at most 64 characters. */
#define NETWORK_NAME_MAX 64
bool network_name_is_valid(const char *s);
/* "zn<8 hex>": the bridge of named network @name, from a hash of the
 * daemon's own bridge and the name (two zlayerd never share one) */
int network_bridge_name(const char *bridge, const char *name, char *buf, size_t size);
