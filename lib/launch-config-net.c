/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The networking part of the launch config (docs/internals.md):
 *   "network": {"bridge":"zlayer0","address":"10.89.0.2","prefix":16,"gateway":"10.89.0.1",
 *               "isolate":["10.90.0.0/16"]}
 *   "ports": [{"container_port":80,"host_port":8080,"protocol":"tcp"}]
 * Both only with network_mode "bridge". "network" is added by the broker,
 * which owns the address allocator (broker/network.c); "ports" is built from
 * the spec's port_mappings. */
#include <stdarg.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "ipam.h"
#include "launch-config.h"
#include "macro.h"
#include "netnames.h"

#define LAUNCH_ISOLATE_MAX 16

#define strnull(s) ((s) ?: "(null)")

_printf_(2, 3) static int fail(char **ret_error, const char *fmt, ...) {
        va_list ap;
        if (ret_error) {
                free(*ret_error);
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return -EINVAL;
}

static const char *member_string(json_object *o, const char *key) {
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static bool member_int(json_object *o, const char *key, int64_t min, int64_t max, int64_t *ret) {
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return false;
        *ret = json_object_get_int64(v);
        return *ret >= min && *ret <= max;
}

static int parse_ports(json_object *a, LaunchConfig *c, char **ret_error) {
        size_t n = json_object_array_length(a);

        if (n > LAUNCH_PORTS_MAX)
                return fail(ret_error, "ports: too many (%zu, at most %d)", n, LAUNCH_PORTS_MAX);
        c->ports = calloc(n ? n : 1, sizeof(LaunchPort));
        if (!c->ports)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(a, i);
                const char *proto;
                int64_t cp, hp;

                if (!json_object_is_type(e, json_type_object))
                        return fail(ret_error, "ports[%zu]: not an object", i);
                if (!member_int(e, "container_port", 1, 65535, &cp))
                        return fail(ret_error, "ports[%zu].container_port: missing or not 1…65535", i);
                if (!member_int(e, "host_port", 1, 65535, &hp))
                        return fail(ret_error, "ports[%zu].host_port: missing or not 1…65535", i);
                proto = member_string(e, "protocol");
                if (!proto || (!streq(proto, "tcp") && !streq(proto, "udp")))
                        return fail(ret_error, "ports[%zu].protocol: not tcp or udp: %s", i, strnull(proto));
                for (size_t k = 0; k < i; k++)
                        if (c->ports[k].host_port == hp && streq(c->ports[k].protocol, proto))
                                return fail(ret_error, "ports[%zu]: host port %" PRIi64 "/%s is published twice", i, hp, proto);
                c->ports[i].container_port = (uint16_t) cp;
                c->ports[i].host_port = (uint16_t) hp;
                snprintf(c->ports[i].protocol, sizeof(c->ports[i].protocol), "%s", proto);
                c->n_ports = i + 1;
        }
        return 0;
}

/* "isolate": the subnets of zlayer's other networks, as an nft set body */
static int parse_isolate(json_object *net, LaunchConfig *c, char **ret_error) {
        _cleanup_free_ char *list = NULL;
        json_object *a;
        size_t n;

        if (!json_object_object_get_ex(net, "isolate", &a))
                return 0;
        if (!json_object_is_type(a, json_type_array) || (n = json_object_array_length(a)) > LAUNCH_ISOLATE_MAX)
                return fail(ret_error, "network.isolate: not an array of at most %d subnets", LAUNCH_ISOLATE_MAX);
        for (size_t i = 0; i < n; i++) {
                const char *s = json_object_get_string(json_object_array_get_idx(a, i));
                char *l;
                Cidr cidr;

                if (!json_object_is_type(json_object_array_get_idx(a, i), json_type_string) || cidr_parse(s, &cidr) < 0)
                        return fail(ret_error, "network.isolate[%zu]: not an IPv4 subnet: %s", i, strnull(s));
                if (asprintf(&l, "%s%s%s", strempty(list), list ? ", " : "", s) < 0)
                        return -ENOMEM;
                free(list);
                list = l;
        }
        c->isolate = TAKE_PTR(list);
        return 0;
}

int launch_config_parse_network(json_object *o, LaunchConfig *c, char **ret_error) {
        json_object *net, *ports;
        const char *s;
        uint32_t addr, gw;
        int64_t prefix;
        Cidr cidr;
        int r;

        if (!streq(c->network_mode, "bridge")) {
                if (json_object_object_get_ex(o, "network", NULL))
                        return fail(ret_error, "network: only with network_mode bridge");
                if (json_object_object_get_ex(o, "ports", &ports) && json_object_is_type(ports, json_type_array) &&
                    json_object_array_length(ports) > 0)
                        return fail(ret_error, "ports: only with network_mode bridge");
                return 0;
        }
        /* missing: a config as launch_config_build() made it, before the
         * broker gave it an address; the shim refuses to start it */
        if (!json_object_object_get_ex(o, "network", &net))
                goto ports;
        if (!json_object_is_type(net, json_type_object))
                return fail(ret_error, "network: not an object");
        s = member_string(net, "bridge");
        if (!bridge_name_is_valid(s))
                return fail(ret_error, "network.bridge: not a valid bridge name: %s", strnull(s));
        if (!(c->bridge = strdup(s)))
                return -ENOMEM;
        if (!member_int(net, "prefix", 8, 30, &prefix))
                return fail(ret_error, "network.prefix: missing or not 8…30");
        c->prefix = (unsigned) prefix;
        s = member_string(net, "address");
        if (ipv4_parse(s, &addr) < 0)
                return fail(ret_error, "network.address: not an IPv4 address: %s", strnull(s));
        s = member_string(net, "gateway");
        if (ipv4_parse(s, &gw) < 0)
                return fail(ret_error, "network.gateway: not an IPv4 address: %s", strnull(s));
        cidr = (Cidr) { .addr = gw & (0xffffffffu << (32 - c->prefix)), .prefix = c->prefix };
        if (!cidr_contains(&cidr, addr) || addr == gw || addr == cidr.addr)
                return fail(ret_error, "network.address: %s is not a host address of the gateway's subnet",
                            member_string(net, "address"));
        if (!(c->address = strdup(member_string(net, "address"))) || !(c->gateway = strdup(s)))
                return -ENOMEM;
        r = parse_isolate(net, c, ret_error);
        if (r < 0)
                return r;

ports:
        if (json_object_object_get_ex(o, "ports", &ports)) {
                if (!json_object_is_type(ports, json_type_array))
                        return fail(ret_error, "ports: not an array");
                return parse_ports(ports, c, ret_error);
        }
        return 0;
}

void launch_config_free_network(LaunchConfig *c) {
        free(c->bridge);
        free(c->address);
        free(c->gateway);
        free(c->isolate);
        free(c->ports);
}

int launch_config_build_ports(json_object *spec, const char *network_mode, json_object *out, char **ret_error) {
        json_object *maps, *a;
        size_t n;

        if (!streq(network_mode, "bridge") || !spec || !json_object_object_get_ex(spec, "port_mappings", &maps) ||
            !json_object_is_type(maps, json_type_array))
                return 0;
        n = json_object_array_length(maps);
        if (n > LAUNCH_PORTS_MAX)
                return fail(ret_error, "port_mappings: too many (%zu, at most %d)", n, LAUNCH_PORTS_MAX);
        a = json_object_new_array();
        if (!a || json_object_object_add(out, "ports", a) < 0) {
                json_object_put(a);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(maps, i), *p;
                const char *ip = member_string(e, "host_ip") ?: "", *proto = member_string(e, "protocol") ?: "tcp";
                int64_t cp, hp = 0;

                if (!member_int(e, "container_port", 1, 65535, &cp))
                        return fail(ret_error, "port_mappings[%zu].container_port: missing or not 1…65535", i);
                if (json_object_object_get_ex(e, "host_port", NULL) && !member_int(e, "host_port", 0, 65535, &hp))
                        return fail(ret_error, "port_mappings[%zu].host_port: not 0…65535", i);
                if (hp == 0)
                        continue; /* not published: reachable on the container's address */
                if (!isempty(ip) && !streq(ip, "0.0.0.0"))
                        return fail(ret_error,
                                    "port_mappings[%zu].host_ip: '%s' is not supported (ports are published on every host address: '' or 0.0.0.0)",
                                    i, ip);
                if (!streq(proto, "tcp") && !streq(proto, "udp"))
                        return fail(ret_error, "port_mappings[%zu].protocol: '%s' is not tcp or udp", i, proto);
                for (size_t k = 0; k < json_object_array_length(a); k++) {
                        json_object *o = json_object_array_get_idx(a, k);
                        int64_t ohp;
                        if (member_int(o, "host_port", 1, 65535, &ohp) && ohp == hp && streq(member_string(o, "protocol"), proto))
                                return fail(ret_error, "port_mappings[%zu].host_port: %" PRIi64 "/%s is published twice", i, hp, proto);
                }
                p = json_object_new_object();
                if (!p || json_object_array_add(a, p) < 0) {
                        json_object_put(p);
                        return -ENOMEM;
                }
                json_object_object_add(p, "container_port", json_object_new_int64(cp));
                json_object_object_add(p, "host_port", json_object_new_int64(hp));
                json_object_object_add(p, "protocol", json_object_new_string(proto));
        }
        return 0;
}
