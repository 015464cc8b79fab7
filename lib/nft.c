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

int nft_network_ensure(const char *table, const char *bridge, const char *subnet, char **ret_error) {
        if (run(NULL, "list table ip %s", table) == 0)
                return 0;
        /* one transaction: the table exists whole or not at all */
        return run(ret_error,
                   "table ip %1$s {\n"
                   "  map ports { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
                   "  chain prerouting { type nat hook prerouting priority dstnat; policy accept;\n"
                   "    fib daddr type local dnat ip to meta l4proto . th dport map @ports; }\n"
                   "  chain output { type nat hook output priority -100; policy accept;\n"
                   "    fib daddr type local dnat ip to meta l4proto . th dport map @ports; }\n"
                   "  chain postrouting { type nat hook postrouting priority srcnat; policy accept;\n"
                   "    ip saddr %3$s oifname != \"%2$s\" masquerade;\n"
                   "    ip saddr 127.0.0.0/8 oifname \"%2$s\" masquerade; }\n"
                   "}\n",
                   table, bridge, subnet);
}

int nft_network_remove(const char *table, char **ret_error) {
        if (run(NULL, "list table ip %s", table) < 0)
                return 0;
        return run(ret_error, "delete table ip %s", table);
}

int nft_port_add(const char *table, const char *proto, uint16_t host_port, const char *addr, uint16_t port,
                 char **ret_error) {
        (void) nft_port_remove(table, proto, host_port);
        return run(ret_error, "create element ip %s ports { %s . %u : %s . %u }", table, proto, host_port, addr, port);
}

int nft_port_remove(const char *table, const char *proto, uint16_t host_port) {
        if (run(NULL, "get element ip %s ports { %s . %u }", table, proto, host_port) < 0)
                return 0;
        return run(NULL, "delete element ip %s ports { %s . %u }", table, proto, host_port);
}
