/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bridge networking, done by the shim (root, in the host's network
 * namespace) for its container. The bridge and its nft table outlive the
 * containers (lib/netlink-bridges.h): per container, only the veth, the
 * address and the published ports are made and undone. The bridge's lock
 * orders the shim that creates them against zlayerd removing them. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "fileio.h"
#include "ipam.h"
#include "log.h"
#include "netlink.h"
#include "netlink-bridges.h"
#include "netnames.h"
#include "network.h"
#include "nft.h"
#include "shim.h"

#define CONTAINER_IFNAME "eth0"
#define strnull(s) ((s) ?: "(null)")

static int safe_close(int fd) {
        if (fd >= 0)
                close(fd);
        return -1;
}

_printf_(2, 3) static int fail(char **ret_error, const char *fmt, ...) {
        int saved = errno;
        va_list ap;
        va_start(ap, fmt);
        free(*ret_error);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return saved > 0 ? -saved : -EIO;
}

/* sets a boolean sysctl to 1, writing only when it is not (a host-wide
 * one such as ip_forward is left untouched when already on) */
static int enable_sysctl(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
        char c = 0;

        if (fd < 0)
                return -errno;
        if (read(fd, &c, 1) == 1 && c == '1')
                return 0;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        return loop_write(fd, "1", 1);
}

static int disable_ipv6(const char *ifname) {
        char path[128];
        snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
        int r = enable_sysctl(path);
        if (r < 0 && r != -ENOENT) /* no IPv6 in the kernel: nothing to disable */
                log_debug_errno(r, "Failed to disable IPv6 on %s: %m", ifname);
        return r;
}

/* Runs @f with a netlink socket of @pid's network namespace. */
static int in_netns(pid_t pid, int (*f)(Netlink *nl, const LaunchConfig *c), const LaunchConfig *c) {
        _cleanup_close_ int self = -1, target = -1;
        _cleanup_netlink_ Netlink *nl = NULL;
        char p[64];
        int r;

        self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        snprintf(p, sizeof(p), "/proc/%d/ns/net", (int) pid);
        target = open(p, O_RDONLY | O_CLOEXEC);
        if (self < 0 || target < 0)
                return -errno;
        if (setns(target, CLONE_NEWNET) < 0)
                return -errno;
        /* a netlink socket stays in the namespace it was made in */
        r = netlink_open(&nl);
        /* so does a /proc/sys/net file: zlayer gives containers IPv4 only, and
         * eth0 stays quiet (no IPv6 autoconfiguration traffic), as Docker
         * does for a network without IPv6 */
        if (r >= 0 && c->bridge)
                (void) disable_ipv6(CONTAINER_IFNAME);
        if (setns(self, CLONE_NEWNET) < 0) {
                /* we cannot work in the container's namespace by mistake */
                log_error_errno(-errno, "Failed to return to the host's network namespace: %m");
                abort();
        }
        if (r < 0)
                return r;
        return f(nl, c);
}

static int lo_up(Netlink *nl, const LaunchConfig *c) {
        (void) c;
        int idx = netlink_link_index(nl, "lo");
        return idx < 0 ? idx : netlink_link_up(nl, idx);
}

static int container_side(Netlink *nl, const LaunchConfig *c) {
        uint32_t addr, gw;
        int idx, r;

        if ((r = lo_up(nl, c)) < 0)
                return r;
        if (ipv4_parse(c->address, &addr) < 0 || ipv4_parse(c->gateway, &gw) < 0)
                return -EINVAL;
        idx = netlink_link_index(nl, CONTAINER_IFNAME);
        if (idx < 0)
                return idx;
        if ((r = netlink_addr_add(nl, idx, addr, c->prefix)) < 0 || (r = netlink_link_up(nl, idx)) < 0)
                return r;
        return netlink_default_route_add(nl, gw);
}

/* Binds the host port, so that no host process takes it while it is
 * published (and one that has it already fails the start). */
static int hold_port(const LaunchPort *p) {
        bool udp = streq(p->protocol, "udp");
        struct sockaddr_in sa = {
                .sin_family = AF_INET,
                .sin_port = htons(p->host_port),
                .sin_addr.s_addr = htonl(INADDR_ANY),
        };
        int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        /* no SO_REUSEADDR: with it, two unconnected sockets (two shims
         * publishing the same port) could both bind */
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static int setup_bridge(Netlink *nl, const LaunchConfig *c, ShimNetwork *n, char **ret_error) {
        char path[128], subnet[INET_ADDRSTRLEN + 4], buf[INET_ADDRSTRLEN];
        uint32_t gw;
        int br, r;

        if (ipv4_parse(c->gateway, &gw) < 0)
                return fail(ret_error, "gateway %s: invalid", c->gateway);
        br = netlink_link_index(nl, c->bridge);
        if (br == -ENODEV) {
                /* the table first: a bridge that exists has its table, so
                 * that the next containers need no nft transaction (~12 ms
                 * each) to make sure of it */
                snprintf(subnet, sizeof(subnet), "%s/%u", ipv4_to_string(gw & (0xffffffffu << (32 - c->prefix)), buf),
                         c->prefix);
                r = nft_network_ensure(n->table, c->bridge, subnet, c->isolate, ret_error);
                if (r < 0)
                        return fail(ret_error, "creating nftables table %s: %s", n->table, strnull(*ret_error));
                r = netlink_bridge_add(nl, c->bridge, NULL);
                if (r < 0)
                        return fail(ret_error, "creating bridge %s: %s", c->bridge, strerror(-r));
                log_info("Created bridge %s (%s/%u) and table %s.", c->bridge, c->gateway, c->prefix, n->table);
                br = netlink_link_index(nl, c->bridge);
        }
        if (br < 0)
                return fail(ret_error, "bridge %s: %s", c->bridge, strerror(-br));
        /* the rest is cheap and idempotent: done every time, it repairs a
         * bridge left half-configured by a shim that died */
        /* IPv4 only: without this the bridge sends IPv6 router solicitations
         * and MLD reports into every container */
        (void) disable_ipv6(c->bridge);
        if ((r = netlink_addr_add(nl, br, gw, c->prefix)) < 0 || (r = netlink_link_up(nl, br)) < 0)
                return fail(ret_error, "configuring bridge %s: %s", c->bridge, strerror(-r));
        /* DNAT of 127.0.0.1 to a container needs loopback sources routable
         * on the bridge; forwarding for the masqueraded outbound traffic */
        snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", c->bridge);
        if ((r = enable_sysctl(path)) < 0)
                return fail(ret_error, "setting %s: %s", path, strerror(-r));
        if ((r = enable_sysctl("/proc/sys/net/ipv4/ip_forward")) < 0)
                return fail(ret_error, "enabling IPv4 forwarding: %s", strerror(-r));
        return br;
}

int network_setup(const char *run_dir, const LaunchConfig *c, pid_t pid, ShimNetwork *n, char **ret_error) {
        _cleanup_netlink_ Netlink *nl = NULL;
        _cleanup_close_ int lock = -1;
        int br, r;

        *n = (ShimNetwork) { .run_dir = run_dir, .config = c, .init_pid = pid };
        if (streq(c->network_mode, "host"))
                return 0;
        if (streq(c->network_mode, "none")) {
                r = in_netns(pid, lo_up, c);
                return r < 0 ? fail(ret_error, "bringing lo up: %s", strerror(-r)) : 0;
        }

        if (!c->address) {
                errno = EINVAL;
                return fail(ret_error, "network_mode bridge without an address in the launch config");
        }
        if ((r = nft_table_name(c->bridge, n->table, sizeof(n->table))) < 0 ||
            (r = veth_host_name(c->bridge, c->id, n->veth_name, sizeof(n->veth_name))) < 0)
                return fail(ret_error, "network names of %s: %s", c->id, strerror(-r));
        lock = network_lock_bridge(run_dir, c->bridge);
        if (lock < 0)
                return fail(ret_error, "locking bridge %s: %s", c->bridge, strerror(-lock));
        r = netlink_open(&nl);
        if (r < 0)
                return fail(ret_error, "netlink: %s", strerror(-r));

        n->port_fds = calloc(c->n_ports ?: 1, sizeof(int));
        if (!n->port_fds)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_ports; i++) {
                int fd = hold_port(&c->ports[i]);
                if (fd < 0) {
                        r = fail(ret_error, fd == -EADDRINUSE ? "host port %u/%s is already in use" : "host port %u/%s: %s",
                                 c->ports[i].host_port, c->ports[i].protocol, strerror(-fd));
                        goto undo;
                }
                n->port_fds[n->n_port_fds++] = fd;
        }

        br = setup_bridge(nl, c, n, ret_error);
        if (br < 0) {
                r = br;
                goto undo;
        }
        r = netlink_veth_add(nl, n->veth_name, br, CONTAINER_IFNAME, pid);
        if (r == -EEXIST) {
                /* a leftover of a crash; its namespace is gone or ours */
                (void) netlink_link_delete(nl, n->veth_name);
                r = netlink_veth_add(nl, n->veth_name, br, CONTAINER_IFNAME, pid);
        }
        if (r < 0) {
                r = fail(ret_error, "creating veth %s on %s: %s", n->veth_name, c->bridge, strerror(-r));
                goto undo;
        }
        n->veth = true;
        (void) disable_ipv6(n->veth_name);
        int vidx = netlink_link_index(nl, n->veth_name);
        if (vidx < 0 || (r = netlink_link_up(nl, vidx)) < 0) {
                r = fail(ret_error, "setting %s up: %s", n->veth_name, strerror(vidx < 0 ? -vidx : -r));
                goto undo;
        }
        r = in_netns(pid, container_side, c);
        if (r < 0) {
                r = fail(ret_error, "configuring %s (%s/%u via %s) in the container: %s", CONTAINER_IFNAME, c->address,
                         c->prefix, c->gateway, strerror(-r));
                goto undo;
        }
        for (size_t i = 0; i < c->n_ports; i++) {
                r = nft_port_add(n->table, c->ports[i].protocol, c->ports[i].host_port, c->address,
                                 c->ports[i].container_port, ret_error);
                if (r < 0) {
                        r = fail(ret_error, "publishing host port %u/%s: %s", c->ports[i].host_port, c->ports[i].protocol,
                                 strnull(*ret_error));
                        goto undo;
                }
                n->n_published++;
        }
        log_debug("%s: %s on %s via %s, %zu ports published.", c->id, c->address, c->bridge, n->veth_name, c->n_ports);
        return 0;

undo:
        lock = safe_close(lock);
        network_teardown(n);
        return r;
}

void network_teardown(ShimNetwork *n) {
        const LaunchConfig *c = n->config;
        _cleanup_netlink_ Netlink *nl = NULL;
        int r;

        if (!c || !streq(c->network_mode, "bridge") || n->table[0] == '\0')
                goto finish;
        for (size_t i = 0; i < n->n_published; i++)
                (void) nft_port_remove(n->table, c->ports[i].protocol, c->ports[i].host_port);
        n->n_published = 0;

        /* The veth goes with the container's namespace once the init is
         * reaped: the kernel deletes the pair itself (asynchronously).
         * Deleting it here too would wait for that work to release the
         * rtnl lock (~20 ms a container). So only while the init still
         * runs (a failed start). The bridge and its table stay. */
        if (n->veth && kill(n->init_pid, 0) >= 0) {
                r = netlink_open(&nl);
                if (r >= 0)
                        r = netlink_link_delete(nl, n->veth_name);
                if (r < 0 && r != -ENODEV)
                        log_warning_errno(r, "Failed to delete %s: %m", n->veth_name);
        }
        n->veth = false;
finish:
        n->table[0] = '\0';
        for (size_t i = 0; i < n->n_port_fds; i++)
                safe_close(n->port_fds[i]);
        n->n_port_fds = 0;
        free(n->port_fds);
        n->port_fds = NULL;
}

/* the file is the broker's user's: reached without any symlink, regular */
static int open_name_file(int root_fd, const char *id, const char *name) {
        _cleanup_free_ char *p = NULL;
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH,
        };
        struct stat st;
        int fd;

        if (asprintf(&p, "containers/%s/%s", id, name) < 0)
                return -ENOMEM;
        fd = (int) syscall(SYS_openat2, root_fd, p, &how, sizeof(how));
        if (fd < 0)
                return -errno;
        /* one link only: not another file of the host linked in by the
         * broker's user, which the container would then get */
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
                close(fd);
                return -EBADFD;
        }
        return fd;
}

/* /etc/<name> in the container root (symlinks resolved inside it), created
 * empty when missing */
static int open_target(int rootfd, const char *name) {
        _cleanup_close_ int etc = -1;
        char path[64];
        int fd;

        snprintf(path, sizeof(path), "/etc/%s", name);
        fd = open_in_root(rootfd, path, O_PATH);
        if (fd != -ENOENT)
                return fd;
        etc = open_in_root(rootfd, "/etc", O_PATH | O_DIRECTORY);
        if (etc == -ENOENT) {
                if (mkdirat(rootfd, "etc", 0755) < 0 && errno != EEXIST)
                        return -errno;
                etc = open_in_root(rootfd, "/etc", O_PATH | O_DIRECTORY);
        }
        if (etc < 0)
                return etc;
        fd = openat(etc, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        close(fd);
        return open_in_root(rootfd, path, O_PATH);
}

int network_mount_name_files(const char *root, int rootfd, const LaunchConfig *c, char **ret_error) {
        static const char *const names[] = { "hosts", "resolv.conf", "hostname" };
        _cleanup_close_ int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (root_fd < 0)
                return fail(ret_error, "opening %s: %m", root);
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_close_ int src = open_name_file(root_fd, c->id, names[i]), dst = -1;
                char from[64], to[64];

                if (src == -ENOENT)
                        continue; /* a container created before zlayer wrote them */
                if (src < 0) {
                        errno = -src;
                        return fail(ret_error, "opening the %s file of %s: %m", names[i], c->id);
                }
                dst = open_target(rootfd, names[i]);
                if (dst < 0) {
                        errno = -dst;
                        return fail(ret_error, "creating /etc/%s: %m", names[i]);
                }
                snprintf(from, sizeof(from), "/proc/self/fd/%d", src);
                snprintf(to, sizeof(to), "/proc/self/fd/%d", dst);
                if (mount(from, to, NULL, MS_BIND, NULL) < 0)
                        return fail(ret_error, "mounting /etc/%s: %m", names[i]);
        }
        return 0;
}
