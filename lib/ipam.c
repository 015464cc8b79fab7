/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipam.h"
#include "macro.h"

int ipv4_parse(const char *s, uint32_t *ret) {
        struct in_addr a;

        if (!s || inet_pton(AF_INET, s, &a) != 1)
                return -EINVAL;
        *ret = ntohl(a.s_addr);
        return 0;
}

const char *ipv4_to_string(uint32_t addr, char buf[static INET_ADDRSTRLEN]) {
        struct in_addr a = { .s_addr = htonl(addr) };
        return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static uint32_t prefix_mask(unsigned prefix) {
        return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

int cidr_parse(const char *s, Cidr *ret) {
        char buf[INET_ADDRSTRLEN + 4], *slash, *end;
        unsigned long n;
        uint32_t a;

        if (!s || strlen(s) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, s);
        slash = strchr(buf, '/');
        if (!slash)
                return -EINVAL;
        *slash = '\0';
        errno = 0;
        n = strtoul(slash + 1, &end, 10);
        if (errno != 0 || *end || end == slash + 1 || n < 8 || n > 30)
                return -EINVAL;
        if (ipv4_parse(buf, &a) < 0)
                return -EINVAL;
        if (a & ~prefix_mask((unsigned) n))
                return -EINVAL;
        *ret = (Cidr) { .addr = a, .prefix = (unsigned) n };
        return 0;
}

bool cidr_contains(const Cidr *c, uint32_t addr) {
        return (addr & prefix_mask(c->prefix)) == c->addr;
}

uint32_t cidr_gateway(const Cidr *c) {
        return c->addr + 1;
}

void ipam_done(Ipam *p) {
        for (size_t i = 0; i < p->n_entries; i++)
                free(p->entries[i].owner);
        free(p->entries);
        *p = (Ipam) {};
}

static const IpamEntry *find_addr(const Ipam *p, uint32_t a) {
        for (size_t i = 0; i < p->n_entries; i++)
                if (p->entries[i].addr == a)
                        return &p->entries[i];
        return NULL;
}

const IpamEntry *ipam_find_owner(const Ipam *p, const char *owner) {
        for (size_t i = 0; i < p->n_entries; i++)
                if (streq(p->entries[i].owner, owner))
                        return &p->entries[i];
        return NULL;
}

static int add_entry(Ipam *p, uint32_t a, const char *owner) {
        IpamEntry *n;
        char *o;

        if (p->n_entries >= IPAM_MAX_ADDRESSES)
                return -ENOSPC;
        o = strdup(owner);
        if (!o)
                return -ENOMEM;
        n = realloc(p->entries, (p->n_entries + 1) * sizeof(IpamEntry));
        if (!n) {
                free(o);
                return -ENOMEM;
        }
        p->entries = n;
        p->entries[p->n_entries++] = (IpamEntry) { .addr = a, .owner = o };
        return 0;
}

int ipam_from_json(const char *text, const Cidr *subnet, Ipam *ret) {
        _cleanup_(ipam_done) Ipam p = { .subnet = *subnet, .last = cidr_gateway(subnet) };
        json_object *o = NULL, *v;
        int r = 0;

        if (!text) {
                *ret = p;
                p = (Ipam) {};
                return 0;
        }
        o = json_tokener_parse(text);
        if (!o || !json_object_is_type(o, json_type_object)) {
                r = -EBADMSG;
                goto finish;
        }
        if (json_object_object_get_ex(o, "last", &v)) {
                uint32_t last;
                if (ipv4_parse(json_object_get_string(v), &last) >= 0 && cidr_contains(subnet, last))
                        p.last = last;
        }
        if (json_object_object_get_ex(o, "addresses", &v)) {
                if (!json_object_is_type(v, json_type_object)) {
                        r = -EBADMSG;
                        goto finish;
                }
                json_object_object_foreach(v, k, owner) {
                        uint32_t a;
                        if (ipv4_parse(k, &a) < 0 || !json_object_is_type(owner, json_type_string) ||
                            find_addr(&p, a) || ipam_find_owner(&p, json_object_get_string(owner))) {
                                r = -EBADMSG;
                                goto finish;
                        }
                        r = add_entry(&p, a, json_object_get_string(owner));
                        if (r < 0)
                                goto finish;
                }
        }
        *ret = p;
        p = (Ipam) {};
finish:
        json_object_put(o);
        return r;
}

/* the file's text of @o (taken); NULL members are -ENOMEM */
static int state_to_text(json_object *o, json_object *members, const char *key, char **ret) {
        int r = -ENOMEM;

        if (o && members) {
                json_object_object_add(o, key, json_object_get(members));
                *ret = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                r = *ret ? 0 : -ENOMEM;
        }
        json_object_put(members);
        json_object_put(o);
        return r;
}

int ipam_to_json(const Ipam *p, char **ret) {
        json_object *o = json_object_new_object(), *a = json_object_new_object();
        char buf[INET_ADDRSTRLEN + 4];

        if (o && a) {
                json_object_object_add(o, "subnet", json_object_new_string(cidr_to_string(&p->subnet, buf)));
                json_object_object_add(o, "last", json_object_new_string(ipv4_to_string(p->last, buf)));
                for (size_t i = 0; i < p->n_entries; i++)
                        json_object_object_add(a, ipv4_to_string(p->entries[i].addr, buf),
                                               json_object_new_string(p->entries[i].owner));
        }
        return state_to_text(o, a, "addresses", ret);
}

int ipam_allocate(Ipam *p, const char *owner, uint32_t *ret) {
        const IpamEntry *e = ipam_find_owner(p, owner);
        uint32_t size = 1u << (32 - p->subnet.prefix), first = p->subnet.addr + 2, last = p->subnet.addr + size - 2;
        uint32_t a;
        int r;

        if (e) {
                *ret = e->addr;
                return 0;
        }
        /* round the subnet once, starting after the last address handed out */
        a = p->last;
        for (uint32_t n = 0; n <= last - first; n++) {
                a = (a < first || a >= last) ? first : a + 1;
                if (find_addr(p, a))
                        continue;
                r = add_entry(p, a, owner);
                if (r < 0)
                        return r;
                p->last = a;
                *ret = a;
                return 0;
        }
        return -ENOSPC;
}

int ipam_release(Ipam *p, const char *owner) {
        for (size_t i = 0; i < p->n_entries; i++)
                if (streq(p->entries[i].owner, owner)) {
                        free(p->entries[i].owner);
                        p->entries[i] = p->entries[--p->n_entries];
                        return 0;
                }
        return -ENOENT;
}

const char *cidr_to_string(const Cidr *c, char buf[static INET_ADDRSTRLEN + 4]) {
        char a[INET_ADDRSTRLEN];
        snprintf(buf, INET_ADDRSTRLEN + 4, "%s/%u", ipv4_to_string(c->addr, a), c->prefix);
        return buf;
}

unsigned network_pool_prefix(const Cidr *pool) {
        unsigned p = pool->prefix + 4 > 24 ? pool->prefix + 4 : 24;
        return p > 30 ? 30 : p;
}

void network_pool_done(NetworkPool *p) {
        for (size_t i = 0; i < p->n_entries; i++)
                free(p->entries[i].name);
        free(p->entries);
        *p = (NetworkPool) {};
}

static bool cidr_overlaps(const Cidr *a, const Cidr *b) {
        unsigned prefix = a->prefix < b->prefix ? a->prefix : b->prefix;
        return ((a->addr ^ b->addr) & prefix_mask(prefix)) == 0;
}

static const NetworkPoolEntry *pool_find(const NetworkPool *p, const char *name) {
        for (size_t i = 0; i < p->n_entries; i++)
                if (streq(p->entries[i].name, name))
                        return &p->entries[i];
        return NULL;
}

static bool pool_overlaps(const NetworkPool *p, const Cidr *c) {
        for (size_t i = 0; i < p->n_entries; i++)
                if (cidr_overlaps(&p->entries[i].subnet, c))
                        return true;
        return false;
}

static int pool_add(NetworkPool *p, const char *name, const Cidr *c) {
        NetworkPoolEntry *n;
        char *s;

        if (p->n_entries >= NETWORK_POOL_MAX)
                return -ENOSPC;
        if (!(s = strdup(name)))
                return -ENOMEM;
        n = realloc(p->entries, (p->n_entries + 1) * sizeof(NetworkPoolEntry));
        if (!n) {
                free(s);
                return -ENOMEM;
        }
        p->entries = n;
        p->entries[p->n_entries++] = (NetworkPoolEntry) { .name = s, .subnet = *c };
        return 0;
}

int network_pool_from_json(const char *text, const Cidr *pool, NetworkPool *ret) {
        _cleanup_(network_pool_done) NetworkPool p = { .pool = *pool };
        json_object *o = NULL, *v;
        int r = 0;

        if (text) {
                o = json_tokener_parse(text);
                if (!o || !json_object_is_type(o, json_type_object)) {
                        r = -EBADMSG;
                        goto finish;
                }
                if (json_object_object_get_ex(o, "networks", &v)) {
                        if (!json_object_is_type(v, json_type_object)) {
                                r = -EBADMSG;
                                goto finish;
                        }
                        json_object_object_foreach(v, name, sub) {
                                Cidr c;
                                if (!json_object_is_type(sub, json_type_string) ||
                                    cidr_parse(json_object_get_string(sub), &c) < 0 || pool_find(&p, name) ||
                                    pool_overlaps(&p, &c)) {
                                        r = -EBADMSG;
                                        goto finish;
                                }
                                if ((r = pool_add(&p, name, &c)) < 0)
                                        goto finish;
                        }
                }
        }
        *ret = p;
        p = (NetworkPool) {};
finish:
        json_object_put(o);
        return r;
}

int network_pool_to_json(const NetworkPool *p, char **ret) {
        json_object *o = json_object_new_object(), *a = json_object_new_object();
        char buf[INET_ADDRSTRLEN + 4];

        if (o && a) {
                json_object_object_add(o, "pool", json_object_new_string(cidr_to_string(&p->pool, buf)));
                for (size_t i = 0; i < p->n_entries; i++)
                        json_object_object_add(a, p->entries[i].name,
                                               json_object_new_string(cidr_to_string(&p->entries[i].subnet, buf)));
        }
        return state_to_text(o, a, "networks", ret);
}

int network_pool_allocate(NetworkPool *p, const char *name, Cidr *ret) {
        const NetworkPoolEntry *e = pool_find(p, name);
        unsigned prefix = network_pool_prefix(&p->pool);
        uint64_t n = 1ull << (prefix - p->pool.prefix);

        if (e) {
                *ret = e->subnet;
                return 0;
        }
        for (uint64_t i = 0; i < n && i < NETWORK_POOL_MAX; i++) {
                Cidr c = { .addr = p->pool.addr + (uint32_t) (i << (32 - prefix)), .prefix = prefix };
                int r;
                if (pool_overlaps(p, &c))
                        continue;
                if ((r = pool_add(p, name, &c)) < 0)
                        return r;
                *ret = c;
                return 0;
        }
        return -ENOSPC;
}
