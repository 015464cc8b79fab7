/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* IPv4 subnets and the address allocator of a bridge network.
 *
 * The allocator's state is one JSON file (docs/internals.md, "Networking"):
 *   {"subnet":"10.89.0.0/16","last":"10.89.0.7",
 *    "addresses":{"10.89.0.2":"web-rep-1", …}}
 * The network address, the gateway (first host) and the broadcast address
 * are never handed out; an address is handed out to one container at a
 * time; allocation goes round the subnet from "last", so a freed address is
 * the last one to be reused. */

#define IPAM_MAX_ADDRESSES 65536u

typedef struct Cidr {
        uint32_t addr;    /* host byte order, host bits cleared */
        unsigned prefix;  /* 8…30 */
} Cidr;

/* "a.b.c.d/n" with 8 <= n <= 30; host bits must be zero. */
int cidr_parse(const char *s, Cidr *ret);
bool cidr_contains(const Cidr *c, uint32_t addr);
uint32_t cidr_gateway(const Cidr *c);    /* first host address */
/* "a.b.c.d" into @buf (INET_ADDRSTRLEN) */
const char *ipv4_to_string(uint32_t addr, char buf[static INET_ADDRSTRLEN]);
int ipv4_parse(const char *s, uint32_t *ret);

typedef struct IpamEntry {
        uint32_t addr;
        char *owner;
} IpamEntry;

typedef struct Ipam {
        Cidr subnet;
        uint32_t last;
        IpamEntry *entries;
        size_t n_entries;
} Ipam;

void ipam_done(Ipam *p);
/* Parses the state file's text (NULL = none yet) for @subnet; entries
 * outside @subnet are kept (their containers keep their address). */
int ipam_from_json(const char *text, const Cidr *subnet, Ipam *ret);
int ipam_to_json(const Ipam *p, char **ret);
/* The owner's address if it has one, else a free one (-ENOSPC when full). */
int ipam_allocate(Ipam *p, const char *owner, uint32_t *ret);
/* Frees @owner's address; 0 if it had one, -ENOENT if not. */
int ipam_release(Ipam *p, const char *owner);
const IpamEntry *ipam_find_owner(const Ipam *p, const char *owner);

/* The subnets of named networks, carved from a pool (zlayerd
 * --network-pool, default 10.90.0.0/16) in blocks of
 * network_pool_prefix(pool): /24 from a /20 or larger pool, else a
 * sixteenth of it (a /24 pool gives /28s). Its state is one JSON file:
 *   {"pool":"10.90.0.0/16","networks":{"front":"10.90.0.0/24", …}}
 * A name keeps its subnet for as long as the file exists (its bridge may
 * outlive its containers); at most NETWORK_POOL_MAX names. */
#define NETWORK_POOL_MAX 256u

typedef struct NetworkPoolEntry {
        char *name;
        Cidr subnet;
} NetworkPoolEntry;

typedef struct NetworkPool {
        Cidr pool;
        NetworkPoolEntry *entries;
        size_t n_entries;
} NetworkPool;

unsigned network_pool_prefix(const Cidr *pool);
void network_pool_done(NetworkPool *p);
/* entries outside @pool are kept, and never overlapped by a new one */
int network_pool_from_json(const char *text, const Cidr *pool, NetworkPool *ret);
int network_pool_to_json(const NetworkPool *p, char **ret);
/* @name's subnet if it has one, else the first free block (-ENOSPC when none) */
int network_pool_allocate(NetworkPool *p, const char *name, Cidr *ret);
const char *cidr_to_string(const Cidr *c, char buf[static INET_ADDRSTRLEN + 4]);
