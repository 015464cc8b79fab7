/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <strings.h>
#include <sys/prctl.h>

#include "daemon-options.h"
#include "ipam.h"
#include "netnames.h"
#include "log.h"
#include "reference.h"

int daemon_options_parse(DaemonOptions *o, int argc, char **argv, const char *help_text) {
        enum { ARG_ROOT = 0x100, ARG_RUN_DIR, ARG_USER, ARG_BUS, ARG_DEBUG, ARG_AUTH_FILE, ARG_BRIDGE_NAME, ARG_BRIDGE_SUBNET, ARG_NETWORK_POOL,
               ARG_MAX_CONCURRENT_OPS, ARG_SEARCH_REGISTRY };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "root", required_argument, NULL, ARG_ROOT },
                { "run-dir", required_argument, NULL, ARG_RUN_DIR },
                { "user", required_argument, NULL, ARG_USER },
                { "bus", required_argument, NULL, ARG_BUS },
                { "debug", no_argument, NULL, ARG_DEBUG },
                { "auth-file", required_argument, NULL, ARG_AUTH_FILE },
                { "bridge-name", required_argument, NULL, ARG_BRIDGE_NAME },
                { "bridge-subnet", required_argument, NULL, ARG_BRIDGE_SUBNET },
                { "network-pool", required_argument, NULL, ARG_NETWORK_POOL },
                { "max-concurrent-ops", required_argument, NULL, ARG_MAX_CONCURRENT_OPS },
                { "search-registry", required_argument, NULL, ARG_SEARCH_REGISTRY },
                {}
        };
        int c;

        *o = (DaemonOptions) {
                .root = ZL_DEFAULT_ROOT,
                .run_dir = ZL_DEFAULT_RUN_DIR,
                .user = ZL_DEFAULT_USER,
                .auth_file = ZL_DEFAULT_AUTH_FILE,
                .max_concurrent_ops = ZL_DEFAULT_MAX_CONCURRENT_OPS,
        };

        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        fputs(help_text, stdout);
                        return 1;
                case ARG_ROOT:
                        o->root = optarg;
                        break;
                case ARG_RUN_DIR:
                        o->run_dir = optarg;
                        break;
                case ARG_USER:
                        o->user = optarg;
                        break;
                case ARG_BUS:
                        o->bus = isempty(optarg) ? NULL : optarg;
                        break;
                case ARG_DEBUG:
                        o->debug = true;
                        break;
                case ARG_AUTH_FILE:
                        o->auth_file = optarg;
                        break;
                case ARG_BRIDGE_NAME:
                        o->bridge_name = optarg;
                        break;
                case ARG_BRIDGE_SUBNET:
                        o->bridge_subnet = optarg;
                        break;
                case ARG_NETWORK_POOL:
                        o->network_pool = optarg;
                        break;
                case ARG_MAX_CONCURRENT_OPS:
                        if (parse_max_concurrent_ops(optarg, &o->max_concurrent_ops) < 0) {
                                log_error("--max-concurrent-ops must be 1-%u: %s", ZL_MAX_CONCURRENT_OPS_LIMIT, optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_SEARCH_REGISTRY:
                        if (search_registry_add(o->search_registries, &o->n_search_registries, optarg) < 0)
                                return -EINVAL;
                        break;
                default:
                        return -EINVAL;
                }

        if (optind < argc) {
                log_error("Unexpected argument: %s", argv[optind]);
                return -EINVAL;
        }
        if (o->auth_file[0] != '/') {
                log_error("--auth-file must be an absolute path: %s", o->auth_file);
                return -EINVAL;
        }
        if (o->root[0] != '/' || o->run_dir[0] != '/') {
                log_error("--root and --run-dir must be absolute paths: %s, %s", o->root, o->run_dir);
                return -EINVAL;
        }
        if (o->bridge_name && !bridge_name_is_valid(o->bridge_name)) {
                log_error("--bridge-name must be 1-12 characters of [a-z0-9_-]: %s", o->bridge_name);
                return -EINVAL;
        }
        if (o->bridge_subnet && cidr_parse(o->bridge_subnet, &(Cidr) {}) < 0) {
                log_error("--bridge-subnet must be an IPv4 network a.b.c.d/8…30 with the host bits zero: %s",
                          o->bridge_subnet);
                return -EINVAL;
        }
        if (o->network_pool && cidr_parse(o->network_pool, &(Cidr) {}) < 0) {
                log_error("--network-pool must be an IPv4 network a.b.c.d/8…30 with the host bits zero: %s",
                          o->network_pool);
                return -EINVAL;
        }
        if (o->debug)
                log_set_max_level(LOG_DEBUG);
        return 0;
}

int parse_max_concurrent_ops(const char *s, unsigned *ret) {
        unsigned long v;
        char *end;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || !(s[0] >= '0' && s[0] <= '9') || *end != '\0' || v < 1 || v > ZL_MAX_CONCURRENT_OPS_LIMIT)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

int search_registry_add(const char **list, unsigned *n, const char *host) {
        if (!registry_host_is_valid(host)) {
                log_error("--search-registry must be a registry HOST[:PORT] (no scheme, no path): %s", host);
                return -EINVAL;
        }
        for (unsigned i = 0; i < *n; i++)
                if (strcasecmp(list[i], host) == 0) {
                        log_error("--search-registry given twice: %s", host);
                        return -EEXIST;
                }
        if (*n >= ZL_SEARCH_REGISTRIES_MAX) {
                log_error("--search-registry may be given at most %u times: %s is one too many",
                          ZL_SEARCH_REGISTRIES_MAX, host);
                return -E2BIG;
        }
        list[(*n)++] = host;
        return 0;
}

int daemon_user_lookup(const char *user, unsigned *ret_uid, unsigned *ret_gid) {
        struct passwd *pw;

        errno = 0;
        pw = getpwnam(user);
        if (!pw)
                return errno > 0 ? -errno : -ESRCH;
        *ret_uid = pw->pw_uid;
        *ret_gid = pw->pw_gid;
        return 0;
}

int drop_privileges(unsigned uid, unsigned gid) {
        if (setgroups(0, NULL) < 0)
                return -errno;
        if (setresgid(gid, gid, gid) < 0)
                return -errno;
        if (setresuid(uid, uid, uid) < 0)
                return -errno;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        /* Make sure there is no way back. */
        if (uid != 0 && setuid(0) == 0)
                return -EPERM;
        return 0;
}
