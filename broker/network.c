/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bridge networking in the broker: addresses and name files.
 *
 * The allocator's state is ROOT/containers/.network-<bridge>.json (written
 * atomically: temp, fsync, rename; the dot keeps it out of every container
 * listing). It is loaded at first use and reconciled with the containers
 * the broker loaded: an address whose container does not exist (a crash
 * between the allocation and state.json) is freed. An address is saved
 * before the config.json that names it, so no container ever holds an
 * address the allocator could hand out again.
 *
 * Names: every container holding an address gets an /etc/hosts listing
 * itself and every other container of the bridge by id and service name,
 * rewritten in place (its inode is bind-mounted) whenever a container gets
 * or loses an address. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "fileio.h"
#include "ipam.h"
#include "log.h"
#include "netnames.h"
#include "network.h"

#define NAME_FILE_MAX (1024 * 1024)
#define streq_ptr(a, b) ((a) && (b) && streq((a), (b)))
#define SPEC_MAX (4 * 1024 * 1024)
#define NETWORK_POOL_FILE ".networks.json"

/* one network: the daemon's bridge (name NULL) or a named one */
typedef struct Net {
        char *name;
        char bridge[IF_NAMESIZE];
        Cidr subnet;
        Ipam ipam;
        char state_name[64];   /* .network-<bridge>.json */
        char gateway[INET_ADDRSTRLEN];
} Net;

struct BrokerNetwork {
        Net *nets;             /* [0] is the daemon's bridge */
        size_t n_nets;
        NetworkPool pool;      /* the named networks' subnets */
        char isolate[2][INET_ADDRSTRLEN + 4];  /* every network's subnets: the bridge's, the pool */
};

static const char *bridge_name(Broker *b) {
        return b->opts.bridge_name ?: ZL_DEFAULT_BRIDGE;
}

static int save(Broker *b, Net *n) {
        _cleanup_free_ char *text = NULL;
        int r = ipam_to_json(&n->ipam, &text);
        if (r < 0)
                return r;
        return write_file_atomic_at(b->containers_fd, n->state_name, text, strlen(text), 0640);
}

static int save_pool(Broker *b, BrokerNetwork *bn) {
        _cleanup_free_ char *text = NULL;
        int r = network_pool_to_json(&bn->pool, &text);
        if (r < 0)
                return r;
        return write_file_atomic_at(b->containers_fd, NETWORK_POOL_FILE, text, strlen(text), 0640);
}

/* Loads a network's allocator, freeing the addresses of containers that do
 * not exist (a crash between the allocation and state.json). */
static int load_net(Broker *b, Net *n) {
        _cleanup_free_ char *text = NULL;
        bool dirty = false;
        int r;

        snprintf(n->state_name, sizeof(n->state_name), ".network-%s.json", n->bridge);
        ipv4_to_string(cidr_gateway(&n->subnet), n->gateway);
        r = read_file_at(b->containers_fd, n->state_name, SPEC_MAX, &text, NULL);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Failed to read %s: %m", n->state_name);
        r = ipam_from_json(text, &n->subnet, &n->ipam);
        if (r < 0) {
                /* addresses still in use are in the containers' config.json;
                 * a broken file must not stop every container from starting */
                log_warning_errno(r, "Ignoring unreadable %s: %m", n->state_name);
                r = ipam_from_json(NULL, &n->subnet, &n->ipam);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n->ipam.n_entries;) {
                const char *owner = n->ipam.entries[i].owner;
                if (container_find_by_id(b, owner)) {
                        i++;
                        continue;
                }
                log_info("Freeing the address of container %s, which no longer exists.", owner);
                _cleanup_free_ char *o = strdup(owner);
                if (!o)
                        return -ENOMEM;
                (void) ipam_release(&n->ipam, o);
                dirty = true;
        }
        if (dirty && (r = save(b, n)) < 0)
                log_warning_errno(r, "Failed to write %s: %m", n->state_name);
        return 0;
}

static int add_net(Broker *b, BrokerNetwork *bn, const char *name, const Cidr *subnet, Net **ret) {
        Net *nets = realloc(bn->nets, (bn->n_nets + 1) * sizeof(Net)), *n;
        int r;

        if (!nets)
                return -ENOMEM;
        bn->nets = nets;
        n = &bn->nets[bn->n_nets];
        *n = (Net) { .subnet = *subnet };
        if (name && !(n->name = strdup(name)))
                return -ENOMEM;
        r = name ? network_bridge_name(bridge_name(b), name, n->bridge, sizeof(n->bridge))
                 : (snprintf(n->bridge, sizeof(n->bridge), "%s", bridge_name(b)), 0);
        if (r >= 0)
                r = load_net(b, n);
        if (r < 0) {
                free(n->name);
                ipam_done(&n->ipam);
                return r;
        }
        bn->n_nets++;
        if (ret)
                *ret = n;
        return 0;
}

static void broker_network_free(BrokerNetwork *bn) {
        if (!bn)
                return;
        for (size_t i = 0; i < bn->n_nets; i++) {
                free(bn->nets[i].name);
                ipam_done(&bn->nets[i].ipam);
        }
        free(bn->nets);
        network_pool_done(&bn->pool);
        free(bn);
}

static int get(Broker *b, BrokerNetwork **ret) {
        _cleanup_free_ char *text = NULL;
        BrokerNetwork *bn;
        Cidr subnet, pool;
        int r;

        if (b->network) {
                *ret = b->network;
                return 0;
        }
        r = cidr_parse(b->opts.bridge_subnet ?: ZL_DEFAULT_BRIDGE_SUBNET, &subnet);
        if (r < 0)
                return log_error_errno(r, "Invalid bridge subnet %s: %m", b->opts.bridge_subnet);
        r = cidr_parse(b->opts.network_pool ?: ZL_DEFAULT_NETWORK_POOL, &pool);
        if (r < 0)
                return log_error_errno(r, "Invalid network pool %s: %m", b->opts.network_pool);
        bn = calloc(1, sizeof(BrokerNetwork));
        if (!bn)
                return -ENOMEM;
        cidr_to_string(&subnet, bn->isolate[0]);
        cidr_to_string(&pool, bn->isolate[1]);
        r = add_net(b, bn, NULL, &subnet, NULL);
        if (r < 0)
                goto fail;
        r = read_file_at(b->containers_fd, NETWORK_POOL_FILE, SPEC_MAX, &text, NULL);
        if (r < 0 && r != -ENOENT) {
                log_error_errno(r, "Failed to read %s: %m", NETWORK_POOL_FILE);
                goto fail;
        }
        r = network_pool_from_json(text, &pool, &bn->pool);
        if (r < 0) {
                log_error_errno(r, "Failed to parse %s: %m", NETWORK_POOL_FILE);
                goto fail;
        }
        for (size_t i = 0; i < bn->pool.n_entries; i++)
                if ((r = add_net(b, bn, bn->pool.entries[i].name, &bn->pool.entries[i].subnet, NULL)) < 0)
                        goto fail;
        *ret = b->network = bn;
        return 0;
fail:
        broker_network_free(bn);
        return r;
}

void network_free(Broker *b) {
        broker_network_free(b->network);
        b->network = NULL;
}

/* the network holding @id's address, NULL if none */
static Net *net_of(BrokerNetwork *bn, const char *id) {
        for (size_t i = 0; i < bn->n_nets; i++)
                if (ipam_find_owner(&bn->nets[i].ipam, id))
                        return &bn->nets[i];
        return NULL;
}

/* the named network @name, made (a subnet of the pool) on first use */
static int named_net(Broker *b, BrokerNetwork *bn, const char *name, Net **ret) {
        Cidr subnet;
        int r;

        for (size_t i = 1; i < bn->n_nets; i++)
                if (streq(bn->nets[i].name, name)) {
                        *ret = &bn->nets[i];
                        return 0;
                }
        r = network_pool_allocate(&bn->pool, name, &subnet);
        if (r < 0)
                return r;
        r = save_pool(b, bn);
        if (r >= 0)
                r = add_net(b, bn, name, &subnet, ret);
        if (r < 0) {
                /* not saved, or saved and loaded at the next start */
                log_warning_errno(r, "Failed to add network %s: %m", name);
                return r;
        }
        char buf[INET_ADDRSTRLEN + 4];
        log_info("Network %s: subnet %s, bridge %s.", name, cidr_to_string(&subnet, buf), (*ret)->bridge);
        return 0;
}

static const char *launch_string(json_object *o, const char *key) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

int network_attach(Broker *b, const char *id, json_object *launch) {
        const char *name = launch_string(launch, "network_name");
        char addr[INET_ADDRSTRLEN];
        BrokerNetwork *bn;
        json_object *net, *iso;
        Net *n;
        uint32_t a;
        int r;

        if (!streq_ptr(launch_string(launch, "network_mode"), "bridge"))
                return 0;
        r = get(b, &bn);
        if (r < 0)
                return r;
        n = &bn->nets[0];
        if (name && (r = named_net(b, bn, name, &n)) < 0)
                return r;
        r = ipam_allocate(&n->ipam, id, &a);
        if (r < 0)
                return r;
        r = save(b, n);
        if (r < 0) {
                (void) ipam_release(&n->ipam, id);
                return r;
        }
        net = json_object_new_object();
        iso = json_object_new_array();
        if (!net || !iso || json_object_object_add(launch, "network", net) < 0) {
                json_object_put(net);
                json_object_put(iso);
                return -ENOMEM;
        }
        json_object_object_add(net, "bridge", json_object_new_string(n->bridge));
        json_object_object_add(net, "address", json_object_new_string(ipv4_to_string(a, addr)));
        json_object_object_add(net, "prefix", json_object_new_int((int) n->subnet.prefix));
        json_object_object_add(net, "gateway", json_object_new_string(n->gateway));
        for (size_t i = 0; i < ELEMENTSOF(bn->isolate); i++)
                json_object_array_add(iso, json_object_new_string(bn->isolate[i]));
        json_object_object_add(net, "isolate", iso);
        return 0;
}

void network_detach(Broker *b, const char *id) {
        BrokerNetwork *bn;
        Net *n;
        int r;

        if (get(b, &bn) < 0 || !(n = net_of(bn, id)) || ipam_release(&n->ipam, id) < 0)
                return;
        r = save(b, n);
        if (r < 0)
                log_warning_errno(r, "Failed to write %s after freeing the address of %s: %m", n->state_name, id);
        network_refresh_hosts(b);
}

const char *network_address(Broker *b, const char *id) {
        static char buf[INET_ADDRSTRLEN];
        const IpamEntry *e;
        BrokerNetwork *bn;
        Net *n;

        if (get(b, &bn) < 0 || !(n = net_of(bn, id)) || !(e = ipam_find_owner(&n->ipam, id)))
                return "";
        return ipv4_to_string(e->addr, buf);
}

/* Rewrites @name in place: its inode may be bind-mounted in a running
 * container, where a rename would not be seen. */
static int write_in_place(int dfd, const char *name, const char *text) {
        _cleanup_close_ int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        size_t len = strlen(text);
        struct stat st;
        int r;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return -EBADFD;
        r = loop_write(fd, text, len);
        if (r < 0)
                return r;
        return ftruncate(fd, (off_t) len) < 0 ? -errno : 0;
}

static int open_container_dir(Broker *b, const char *id) {
        int fd = openat(b->containers_fd, id, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        return fd < 0 ? -errno : fd;
}

/* extra_hosts "name:ip" of the container's spec.json as hosts lines */
static void append_extra_hosts(FILE *f, json_object *spec) {
        json_object *eh;
        if (!spec || !json_object_object_get_ex(spec, "extra_hosts", &eh) || !json_object_is_type(eh, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(eh); i++) {
                const char *e = json_object_get_string(json_object_array_get_idx(eh, i)), *colon;
                if (!e || !(colon = strchr(e, ':')))
                        continue;
                fprintf(f, "%s\t%.*s\n", colon + 1, (int) (colon - e), e);
        }
}

static json_object *read_spec(Broker *b, const char *id) {
        _cleanup_free_ char *rel = NULL, *text = NULL;
        if (asprintf(&rel, "%s/spec.json", id) < 0 || read_file_at(b->containers_fd, rel, SPEC_MAX, &text, NULL) < 0)
                return NULL;
        return json_tokener_parse(text);
}

static int write_hosts(Broker *b, Net *n, const char *id, json_object *spec, const char *mode,
                       const char *hostname) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int dfd = -1;
        const IpamEntry *self = n ? ipam_find_owner(&n->ipam, id) : NULL;
        size_t size = 0;
        char buf[INET_ADDRSTRLEN];
        FILE *f;

        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        if (streq(mode, "host")) {
                /* the host's names, as Docker does with host networking */
                _cleanup_free_ char *host = NULL;
                if (read_file_at(AT_FDCWD, "/etc/hosts", NAME_FILE_MAX, &host, NULL) >= 0)
                        fputs(host, f);
        } else {
                fputs("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n", f);
                if (self) {
                        Container *c = container_find_by_id(b, id);
                        fprintf(f, "%s\t%s", ipv4_to_string(self->addr, buf), hostname);
                        if (!streq(hostname, id))
                                fprintf(f, " %s", id);
                        if (c && !streq(c->service, hostname) && !streq(c->service, id))
                                fprintf(f, " %s", c->service);
                        fputc('\n', f);
                        /* the other containers of its network (only: the
                         * names of another network are not resolved) */
                        for (size_t i = 0; i < n->ipam.n_entries; i++) {
                                const IpamEntry *e = &n->ipam.entries[i];
                                Container *o = container_find_by_id(b, e->owner);
                                if (e == self || !o)
                                        continue;
                                fprintf(f, "%s\t%s", ipv4_to_string(e->addr, buf), o->id);
                                if (!streq(o->service, o->id))
                                        fprintf(f, " %s", o->service);
                                fputc('\n', f);
                        }
                }
        }
        append_extra_hosts(f, spec);
        if (fclose(f) != 0)
                return -ENOMEM;
        if (size > NAME_FILE_MAX)
                return -E2BIG;
        dfd = open_container_dir(b, id);
        if (dfd < 0)
                return dfd;
        return write_in_place(dfd, "hosts", text);
}

static int write_resolv_conf(int dfd, json_object *spec, const char *mode) {
        _cleanup_free_ char *text = NULL, *host = NULL;
        size_t size = 0;
        json_object *dns;
        FILE *f;

        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        if (spec && json_object_object_get_ex(spec, "dns", &dns) && json_object_is_type(dns, json_type_array) &&
            json_object_array_length(dns) > 0) {
                for (size_t i = 0; i < json_object_array_length(dns); i++)
                        fprintf(f, "nameserver %s\n", json_object_get_string(json_object_array_get_idx(dns, i)));
        } else if (read_file_at(AT_FDCWD, "/etc/resolv.conf", NAME_FILE_MAX, &host, NULL) >= 0) {
                /* the host's, minus loopback name servers the container's own
                 * namespace cannot reach (as Docker does) */
                for (char *line = host, *next; line && *line; line = next) {
                        next = strchr(line, '\n');
                        if (next)
                                *next++ = '\0';
                        if (!streq(mode, "host") && strneq(line, "nameserver", 10) &&
                            (strstr(line, " 127.") || strstr(line, "\t127.") || strstr(line, " ::1")))
                                continue;
                        fprintf(f, "%s\n", line);
                }
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        return write_in_place(dfd, "resolv.conf", text);
}

int network_write_files(Broker *b, const char *id, json_object *spec, json_object *launch) {
        _cleanup_free_ char *hostname_line = NULL;
        _cleanup_close_ int dfd = -1;
        const char *mode = launch_string(launch, "network_mode") ?: "none";
        const char *hostname = launch_string(launch, "hostname") ?: id;
        BrokerNetwork *bn;
        Net *n = NULL;
        int r;

        if (streq(mode, "bridge")) {
                if ((r = get(b, &bn)) < 0)
                        return r;
                n = net_of(bn, id);
        }
        dfd = open_container_dir(b, id);
        if (dfd < 0)
                return dfd;
        if (asprintf(&hostname_line, "%s\n", hostname) < 0)
                return -ENOMEM;
        if ((r = write_in_place(dfd, "hostname", hostname_line)) < 0 || (r = write_resolv_conf(dfd, spec, mode)) < 0)
                return r;
        return write_hosts(b, n, id, spec, mode, hostname);
}

static void refresh_net(Broker *b, Net *n) {
        for (size_t i = 0; i < n->ipam.n_entries; i++) {
                const char *id = n->ipam.entries[i].owner;
                _cleanup_free_ char *rel = NULL, *hostname = NULL;
                json_object *spec;
                int r;

                Container *c = container_find_by_id(b, id);

                /* not one zlayer-exec is deleting: the file would appear
                 * again in the directory it empties (ENOTEMPTY) */
                if (!c || c->removing)
                        continue;
                if (asprintf(&rel, "%s/hostname", id) < 0)
                        return;
                if (read_file_at(b->containers_fd, rel, 256, &hostname, NULL) < 0 || !hostname[0])
                        continue; /* created before the name files existed */
                hostname[strcspn(hostname, "\n")] = '\0';
                spec = read_spec(b, id);
                r = write_hosts(b, n, id, spec, "bridge", hostname);
                json_object_put(spec);
                if (r < 0)
                        log_warning_errno(r, "Failed to update the hosts file of %s: %m", id);
        }
}

void network_refresh_hosts(Broker *b) {
        BrokerNetwork *bn;

        if (get(b, &bn) < 0)
                return;
        for (size_t i = 0; i < bn->n_nets; i++)
                refresh_net(b, &bn->nets[i]);
}

int inspect_network_settings(Broker *b, Container *c, const char *mode, json_object *net) {
        BrokerNetwork *bn;
        Net *n = streq(mode, "bridge") && get(b, &bn) >= 0 ? net_of(bn, c->id) : NULL;
        const char *addr = n ? network_address(b, c->id) : "", *gateway = n ? n->gateway : "";
        unsigned prefix = n ? n->subnet.prefix : 0;
        json_object *networks = json_object_new_object(), *e = json_object_new_object();

        if (!networks || !e) {
                json_object_put(networks);
                json_object_put(e);
                return -ENOMEM;
        }
        json_object_object_add(net, "IPAddress", json_object_new_string(addr));
        json_object_object_add(net, "Gateway", json_object_new_string(gateway));
        json_object_object_add(net, "IPPrefixLen", json_object_new_int((int) prefix));
        json_object_object_add(net, "Bridge", json_object_new_string(n ? n->bridge : streq(mode, "bridge") ? bridge_name(b) : ""));
        json_object_object_add(e, "IPAddress", json_object_new_string(addr));
        json_object_object_add(e, "Gateway", json_object_new_string(gateway));
        json_object_object_add(e, "IPPrefixLen", json_object_new_int((int) prefix));
        /* a named network under its name, as Docker lists user networks */
        json_object_object_add(networks, n && n->name ? n->name : mode, e);
        json_object_object_add(net, "Networks", networks);
        return 0;
}
