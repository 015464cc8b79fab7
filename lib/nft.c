/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <nftables/libnftables.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "nft.h"

static void nft_ctx_freep(struct nft_ctx **c) {
        if (*c)
                nft_ctx_free(*c);
}

/* runs one nft command buffer (one transaction) */
_printf_(2, 3) static int run(char **ret_error, const char *fmt, ...) {
        _cleanup_(nft_ctx_freep) struct nft_ctx *ctx = NULL;
        _cleanup_free_ char *cmd = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&cmd, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!ctx)
                return -ENOMEM;
        if (nft_ctx_buffer_output(ctx) < 0 || nft_ctx_buffer_error(ctx) < 0)
                return -ENOMEM;
        if (nft_run_cmd_from_buffer(ctx, cmd) == 0)
                return 0;
        if (ret_error) {
                const char *e = nft_ctx_get_error_buffer(ctx);
                size_t len = e ? strcspn(e, "\n") : 0;
                free(*ret_error);
                *ret_error = strndup(e ?: "", len);
        }
        return -EIO;
}

/* Every call is one nft command buffer: each costs a context and a cache
 * fetch, so no "list" before acting. */
int nft_network_ensure(const char *table, const char *bridge, const char *subnet, const char *isolate,
                       char **ret_error) {
        _cleanup_free_ char *err = NULL, *forward = NULL;
        int r;

        /* isolation: nothing the bridge's containers send is forwarded to
         * zlayer's other networks (the bridge's own traffic never leaves by
         * another interface, so its own subnet may be in the list) */
        if (isolate &&
            asprintf(&forward,
                     "add chain ip %1$s forward { type filter hook forward priority filter; policy accept; }\n"
                     "add rule ip %1$s forward iifname \"%2$s\" oifname != \"%2$s\" ip daddr { %3$s } drop\n",
                     table, bridge, isolate) < 0)
                return -ENOMEM;

        /* one transaction, "create table" first: when the table exists the
         * whole of it fails and nothing is added twice */
        r = run(&err,
                "create table ip %1$s\n"
                "add map ip %1$s ports { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
                "add chain ip %1$s prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
                "add rule ip %1$s prerouting fib daddr type local dnat ip to meta l4proto . th dport map @ports\n"
                "add chain ip %1$s output { type nat hook output priority -100; policy accept; }\n"
                "add rule ip %1$s output fib daddr type local dnat ip to meta l4proto . th dport map @ports\n"
                "add chain ip %1$s postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
                "add rule ip %1$s postrouting ip saddr %3$s oifname != \"%2$s\" masquerade\n"
                "add rule ip %1$s postrouting ip saddr 127.0.0.0/8 oifname \"%2$s\" masquerade\n"
                "%4$s",
                table, bridge, subnet, strempty(forward));
        if (r >= 0 || run(NULL, "list chain ip %s postrouting", table) >= 0)
                return 0;
        if (ret_error) {
                free(*ret_error);
                *ret_error = TAKE_PTR(err);
        }
        return r;
}

int nft_network_remove(const char *table, char **ret_error) {
        _cleanup_free_ char *err = NULL;
        int r = run(&err, "delete table ip %s", table);

        if (r >= 0 || run(NULL, "list table ip %s", table) < 0)
                return 0; /* gone, or never there */
        if (ret_error) {
                free(*ret_error);
                *ret_error = TAKE_PTR(err);
        }
        return r;
}

int nft_port_add(const char *table, const char *proto, uint16_t host_port, const char *addr, uint16_t port,
                 char **ret_error) {
        const char *fmt = "create element ip %s ports { %s . %u : %s . %u }";

        if (run(NULL, fmt, table, proto, host_port, addr, port) >= 0)
                return 0;
        /* a stale element of a shim that died (the caller holds the port) */
        (void) nft_port_remove(table, proto, host_port);
        return run(ret_error, fmt, table, proto, host_port, addr, port);
}

int nft_port_remove(const char *table, const char *proto, uint16_t host_port) {
        /* missing (never added, or the table is gone): nothing to do */
        (void) run(NULL, "delete element ip %s ports { %s . %u }", table, proto, host_port);
        return 0;
}
