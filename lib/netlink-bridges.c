/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "netlink.h"
#include "netlink-bridges.h"
#include "netnames.h"
#include "nft.h"

#define LOCK_PREFIX "network-"
#define LOCK_SUFFIX ".lock"
/* how long a clean stop waits, in all, for veths that are going */
#define IDLE_WAIT_MSEC 500

int network_lock_bridge(const char *run_dir, const char *bridge) {
        _cleanup_free_ char *p = NULL;
        int fd;

        if (asprintf(&p, "%s/" LOCK_PREFIX "%s" LOCK_SUFFIX, run_dir, bridge) < 0)
                return -ENOMEM;
        fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static uint64_t now_msec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static void remove_if_idle(Netlink *nl, const char *run_dir, const char *bridge, uint64_t deadline) {
        _cleanup_free_ char *err = NULL;
        _cleanup_close_ int lock = -1;
        char table[64];
        unsigned slaves = 0;
        int br, r;

        if (nft_table_name(bridge, table, sizeof(table)) < 0)
                return;
        lock = network_lock_bridge(run_dir, bridge);
        if (lock < 0) {
                log_warning_errno(lock, "Failed to lock bridge %s, leaving it: %m", bridge);
                return;
        }
        br = netlink_link_index(nl, bridge);
        if (br >= 0) {
                /* the kernel deletes a stopped container's veth with its
                 * namespace, asynchronously: one just stopped may still be
                 * listed for a few ms, a running one stays */
                while ((r = netlink_count_slaves(nl, br, &slaves)) >= 0 && slaves > 0 && now_msec() < deadline)
                        (void) usleep(20 * 1000);
                if (r < 0) {
                        log_warning_errno(r, "Failed to list the links of bridge %s, leaving it: %m", bridge);
                        return;
                }
                if (slaves > 0) {
                        log_info("Keeping bridge %s: %u container(s) still on it.", bridge, slaves);
                        return;
                }
        }
        /* the table goes first: a bridge that exists always has its table
         * (the shims create them in the other order) */
        r = nft_network_remove(table, &err);
        if (r < 0) {
                log_warning("Failed to remove nftables table %s, leaving bridge %s: %s", table, bridge, err ?: "");
                return;
        }
        if (br >= 0) {
                r = netlink_link_delete(nl, bridge);
                if (r < 0 && r != -ENODEV) {
                        log_warning_errno(r, "Failed to delete bridge %s: %m", bridge);
                        return;
                }
        }
        log_info("Removed bridge %s and table %s: no container is on it.", bridge, table);
}

void network_remove_idle_bridges(const char *run_dir) {
        _cleanup_netlink_ Netlink *nl = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        uint64_t deadline = now_msec() + IDLE_WAIT_MSEC;

        d = opendir(run_dir);
        if (!d)
                return;
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                char bridge[32];

                if (len <= strlen(LOCK_PREFIX LOCK_SUFFIX) || strncmp(de->d_name, LOCK_PREFIX, strlen(LOCK_PREFIX)) != 0 ||
                    !streq(de->d_name + len - strlen(LOCK_SUFFIX), LOCK_SUFFIX))
                        continue;
                len -= strlen(LOCK_PREFIX LOCK_SUFFIX);
                if (len >= sizeof(bridge))
                        continue;
                memcpy(bridge, de->d_name + strlen(LOCK_PREFIX), len);
                bridge[len] = '\0';
                /* only names zlayer could have made: never another bridge */
                if (!bridge_name_is_valid(bridge))
                        continue;
                if (!nl && (r = netlink_open(&nl)) < 0) {
                        log_warning_errno(r, "Failed to open rtnetlink, leaving the bridges: %m");
                        return;
                }
                remove_if_idle(nl, run_dir, bridge, deadline);
        }
}
