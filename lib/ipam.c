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

int ipam_to_json(const Ipam *p, char **ret) {
        json_object *o = json_object_new_object(), *a = json_object_new_object();
        char buf[INET_ADDRSTRLEN], sub[INET_ADDRSTRLEN + 4];
        int r = -ENOMEM;

        if (!o || !a)
                goto finish;
        snprintf(sub, sizeof(sub), "%s/%u", ipv4_to_string(p->subnet.addr, buf), p->subnet.prefix);
        json_object_object_add(o, "subnet", json_object_new_string(sub));
        json_object_object_add(o, "last", json_object_new_string(ipv4_to_string(p->last, buf)));
        for (size_t i = 0; i < p->n_entries; i++)
                json_object_object_add(a, ipv4_to_string(p->entries[i].addr, buf),
                                       json_object_new_string(p->entries[i].owner));
        json_object_object_add(o, "addresses", a);
        a = NULL;
        *ret = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        r = *ret ? 0 : -ENOMEM;
finish:
        json_object_put(a);
        json_object_put(o);
        return r;
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
