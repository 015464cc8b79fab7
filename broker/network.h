/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>

#include "broker.h"
#include "container.h"

/* The broker's part of bridge networking (broker/network.c): the address
 * allocator of the bridge (persisted in ROOT/containers/.network-<bridge>.json),
 * and each container's /etc/hosts, /etc/resolv.conf and /etc/hostname
 * (ROOT/containers/<id>/{hosts,resolv.conf,hostname}, bind-mounted by the
 * shim). The bridge itself, the veths and nftables are the shim's. */

/* At create, after launch_config_build(): a bridge container gets an
 * address ("network" in @launch, saved in the allocator before the
 * caller writes config.json). -ENOSPC when the subnet is full. */
int network_attach(Broker *b, const char *id, json_object *launch);
/* At create, once config.json is written: the files the shim mounts. */
int network_write_files(Broker *b, const char *id, json_object *spec, json_object *launch);
/* At removal (or a failed create): frees the address, updates the others' hosts. */
void network_detach(Broker *b, const char *id);
/* Rewrites the hosts file of every container holding an address. */
void network_refresh_hosts(Broker *b);
/* The container's address, "" without one. */
const char *network_address(Broker *b, const char *id);
void network_free(Broker *b);
/* InspectContainer's NetworkSettings: IPAddress, Gateway, IPPrefixLen,
 * Bridge, Networks {<mode>: {IPAddress, Gateway, IPPrefixLen}} */
int inspect_network_settings(Broker *b, Container *c, const char *mode, json_object *net);
