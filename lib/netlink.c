/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <net/if.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "netlink.h"

struct Netlink {
        struct mnl_socket *sock;
        unsigned portid;
        unsigned seq;
        char buf[32768];       /* MNL_SOCKET_BUFFER_SIZE is a function call */
};

int netlink_open(Netlink **ret) {
        Netlink *nl = calloc(1, sizeof(Netlink));

        if (!nl)
                return -ENOMEM;
        nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (!nl->sock || mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
                int r = -errno;
                netlink_close(nl);
                return r;
        }
        nl->portid = mnl_socket_get_portid(nl->sock);
        nl->seq = (unsigned) time(NULL);
        *ret = nl;
        return 0;
}

Netlink *netlink_close(Netlink *nl) {
        if (!nl)
                return NULL;
        if (nl->sock)
                mnl_socket_close(nl->sock);
        free(nl);
        return NULL;
}

static struct nlmsghdr *msg_new(Netlink *nl, uint16_t type, uint16_t flags) {
        struct nlmsghdr *h = mnl_nlmsg_put_header(nl->buf);
        h->nlmsg_type = type;
        h->nlmsg_flags = NLM_F_REQUEST | flags;
        h->nlmsg_seq = ++nl->seq;
        return h;
}

/* sends @h, runs @cb over the answers until the ack (or the dump's end) */
static int transact(Netlink *nl, struct nlmsghdr *h, mnl_cb_t cb, void *data) {
        unsigned seq = h->nlmsg_seq;
        ssize_t n;
        int r;

        /* NLM_F_DUMP shares its bits with NLM_F_EXCL/NLM_F_CREATE: only a
         * RTM_GET* request is a dump, which ends with NLMSG_DONE instead */
        bool dump = (h->nlmsg_type & 3) == 2 && (h->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
        if (!dump)
                h->nlmsg_flags |= NLM_F_ACK;
        if (mnl_socket_sendto(nl->sock, h, h->nlmsg_len) < 0)
                return -errno;
        do {
                n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
                if (n < 0)
                        return -errno;
                r = mnl_cb_run(nl->buf, (size_t) n, seq, nl->portid, cb, data);
        } while (r == MNL_CB_OK);
        return r < 0 ? -errno : 0;
}

static int link_index_cb(const struct nlmsghdr *h, void *data) {
        const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
        *(int *) data = ifi->ifi_index;
        return MNL_CB_OK;
}

static struct nlmsghdr *link_msg(Netlink *nl, uint16_t type, uint16_t flags, int index, struct ifinfomsg **ret);

int netlink_link_index(Netlink *nl, const char *name) {
        /* asked over the socket, i.e. in its namespace (if_nametoindex()
         * would answer for the caller's) */
        struct nlmsghdr *h = link_msg(nl, RTM_GETLINK, 0, 0, NULL);
        int idx = 0, r;

        mnl_attr_put_strz(h, IFLA_IFNAME, name);
        r = transact(nl, h, link_index_cb, &idx);
        if (r < 0)
                return r == -ENOENT ? -ENODEV : r;
        return idx > 0 ? idx : -ENODEV;
}

static struct nlmsghdr *link_msg(Netlink *nl, uint16_t type, uint16_t flags, int index, struct ifinfomsg **ret) {
        struct nlmsghdr *h = msg_new(nl, type, flags);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = index;
        if (ret)
                *ret = ifi;
        return h;
}

int netlink_bridge_add(Netlink *nl, const char *name, bool *ret_created) {
        struct nlmsghdr *h = link_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, NULL);
        struct nlattr *info;
        int r;

        mnl_attr_put_strz(h, IFLA_IFNAME, name);
        info = mnl_attr_nest_start(h, IFLA_LINKINFO);
        mnl_attr_put_strz(h, IFLA_INFO_KIND, "bridge");
        mnl_attr_nest_end(h, info);
        r = transact(nl, h, NULL, NULL);
        if (ret_created)
                *ret_created = r >= 0;
        return r == -EEXIST ? 0 : r;
}

int netlink_veth_add(Netlink *nl, const char *host_name, int master_index, const char *peer_name, pid_t peer_pid) {
        struct nlmsghdr *h = link_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, NULL);
        struct nlattr *info, *data, *peer;
        struct ifinfomsg *pifi;

        mnl_attr_put_strz(h, IFLA_IFNAME, host_name);
        mnl_attr_put_u32(h, IFLA_MASTER, (uint32_t) master_index);
        info = mnl_attr_nest_start(h, IFLA_LINKINFO);
        mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
        data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
        peer = mnl_attr_nest_start(h, VETH_INFO_PEER);
        /* the peer's attributes follow an ifinfomsg of their own */
        pifi = mnl_nlmsg_get_payload_tail(h);
        memset(pifi, 0, sizeof(*pifi));
        h->nlmsg_len += MNL_ALIGN(sizeof(*pifi));
        pifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(h, IFLA_IFNAME, peer_name);
        mnl_attr_put_u32(h, IFLA_NET_NS_PID, (uint32_t) peer_pid);
        mnl_attr_nest_end(h, peer);
        mnl_attr_nest_end(h, data);
        mnl_attr_nest_end(h, info);
        return transact(nl, h, NULL, NULL);
}

int netlink_link_delete(Netlink *nl, const char *name) {
        struct nlmsghdr *h = link_msg(nl, RTM_DELLINK, 0, 0, NULL);
        mnl_attr_put_strz(h, IFLA_IFNAME, name);
        return transact(nl, h, NULL, NULL);
}

int netlink_link_up(Netlink *nl, int index) {
        struct ifinfomsg *ifi;
        struct nlmsghdr *h = link_msg(nl, RTM_NEWLINK, 0, index, &ifi);
        ifi->ifi_flags = IFF_UP;
        ifi->ifi_change = IFF_UP;
        return transact(nl, h, NULL, NULL);
}

int netlink_addr_add(Netlink *nl, int index, uint32_t addr, unsigned prefix) {
        struct nlmsghdr *h = msg_new(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
        struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
        uint32_t be = htonl(addr);
        int r;

        ifa->ifa_family = AF_INET;
        ifa->ifa_prefixlen = (unsigned char) prefix;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = (unsigned) index;
        mnl_attr_put_u32(h, IFA_LOCAL, be);
        mnl_attr_put_u32(h, IFA_ADDRESS, be);
        if (prefix < 31)
                mnl_attr_put_u32(h, IFA_BROADCAST, htonl(addr | ~(0xffffffffu << (32 - prefix))));
        r = transact(nl, h, NULL, NULL);
        return r == -EEXIST ? 0 : r;
}

int netlink_default_route_add(Netlink *nl, uint32_t gateway) {
        struct nlmsghdr *h = msg_new(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
        struct rtmsg *rtm = mnl_nlmsg_put_extra_header(h, sizeof(*rtm));

        rtm->rtm_family = AF_INET;
        rtm->rtm_dst_len = 0;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = RTPROT_BOOT;
        rtm->rtm_scope = RT_SCOPE_UNIVERSE;
        rtm->rtm_type = RTN_UNICAST;
        mnl_attr_put_u32(h, RTA_GATEWAY, htonl(gateway));
        return transact(nl, h, NULL, NULL);
}

typedef struct SlaveCount {
        int master;
        unsigned n;
} SlaveCount;

static int count_slave_cb(const struct nlmsghdr *h, void *data) {
        SlaveCount *sc = data;
        struct nlattr *a;

        mnl_attr_for_each(a, h, sizeof(struct ifinfomsg))
                if (mnl_attr_get_type(a) == IFLA_MASTER && mnl_attr_get_payload_len(a) >= 4 &&
                    (int) mnl_attr_get_u32(a) == sc->master)
                        sc->n++;
        return MNL_CB_OK;
}

int netlink_count_slaves(Netlink *nl, int master_index, unsigned *ret) {
        struct nlmsghdr *h = link_msg(nl, RTM_GETLINK, NLM_F_DUMP, 0, NULL);
        SlaveCount sc = { .master = master_index };
        int r;

        r = transact(nl, h, count_slave_cb, &sc);
        if (r < 0)
                return r;
        *ret = sc.n;
        return 0;
}
