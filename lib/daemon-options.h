/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#define ZL_SEARCH_REGISTRIES_MAX 16u

/* The options zlayerd passes down to the broker and to every worker
 * (docs/internals.md). Strings point into argv or static defaults. */
typedef struct DaemonOptions {
        const char *root;     /* --root, default /var/lib/zlayer */
        const char *run_dir;  /* --run-dir, default /run/zlayer */
        const char *user;     /* --user, default zlayer */
        const char *bus;      /* --bus, NULL = the system bus */
        const char *auth_file; /* --auth-file, registry credentials (zlayer-puller) */
        bool debug;           /* --debug */
        const char *bridge_name;   /* --bridge-name, NULL = zlayer0 (lib/netnames.h) */
        const char *bridge_subnet; /* --bridge-subnet, NULL = 10.89.0.0/16 */
        const char *network_pool;  /* --network-pool (named networks), NULL = 10.90.0.0/16 */
        unsigned max_concurrent_ops; /* --max-concurrent-ops (the broker's), default ZL_DEFAULT_MAX_CONCURRENT_OPS */
        const char *search_registries[ZL_SEARCH_REGISTRIES_MAX]; /* --search-registry, in order (the broker's SearchImages) */
        unsigned n_search_registries;
} DaemonOptions;

#define ZL_DEFAULT_ROOT "/var/lib/zlayer"
#define ZL_DEFAULT_RUN_DIR "/run/zlayer"
#define ZL_DEFAULT_USER "zlayer"
#define ZL_DEFAULT_AUTH_FILE "/etc/zlayer/auth.json"
#define ZL_DEFAULT_MAX_CONCURRENT_OPS 64u
#define ZL_MAX_CONCURRENT_OPS_LIMIT 65536u

/* --search-registry=HOST[:PORT]: a registry host as in image references
 * (lib/reference.h), appended to @list (@n entries, at most
 * ZL_SEARCH_REGISTRIES_MAX); -EINVAL for a bad host, -EEXIST for one
 * given twice (case ignored), -E2BIG for one too many, after logging what
 * is wrong. */
int search_registry_add(const char **list, unsigned *n, const char *host);

/* --max-concurrent-ops: 1…ZL_MAX_CONCURRENT_OPS_LIMIT; -EINVAL otherwise. */
int parse_max_concurrent_ops(const char *s, unsigned *ret);

/* Parses the shared options; returns 0, or 1 after --help was printed, or
 * -EINVAL after printing what is wrong. Sets the log level from --debug. */
int daemon_options_parse(DaemonOptions *o, int argc, char **argv, const char *help_text);

/* Resolve --user to uid/gid; -ESRCH when there is no such user. */
int daemon_user_lookup(const char *user, unsigned *ret_uid, unsigned *ret_gid);

/* Drop to @uid/@gid for good: supplementary groups, gid, uid, no_new_privs. */
int drop_privileges(unsigned uid, unsigned gid);
