/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zlayerd: the root supervisor. It starts the broker and the workers, wires
 * their links, restarts what dies and tells systemd when the broker is on
 * the bus. It parses nothing from the network or from clients. */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>

#include "config.h"
#include "daemon-options.h"
#include "ipam.h"
#include "log.h"
#include "netnames.h"
#include "netlink-bridges.h"
#include "supervisor.h"

/* Exit status of a command line that does not parse (as getopt tools do). */
#define EXIT_USAGE 2

typedef struct Arguments {
        const char *bus;
        const char *root;
        const char *run_dir;
        const char *user;
        const char *libexec_dir;
        const char *auth_file;
        const char *bridge_name, *bridge_subnet, *network_pool;
        const char *max_concurrent_ops;
        const char *search_registries[ZL_SEARCH_REGISTRIES_MAX];
        unsigned n_search_registries;
        bool debug;
} Arguments;

static void help(void) {
        printf("Usage: zlayerd [OPTIONS]\n"
               "\n"
               "Supervisor of the zlayer container runtime: runs zlayer-broker and the\n"
               "workers from the libexec directory, links them, restarts them when they die.\n"
               "\n"
               "  --bus=ADDRESS       D-Bus address the broker serves com.zlayer.Runtime1 on\n"
               "                      (default: the system bus)\n"
               "  --root=DIR          storage root for images, layers and containers\n"
               "                      (default: %s)\n"
               "  --run-dir=DIR       runtime state directory (default: %s)\n"
               "  --user=NAME         unprivileged user the broker, puller and stats run as\n"
               "                      (default: %s)\n"
               "  --libexec-dir=DIR   where zlayer-broker and the workers are installed\n"
               "                      (default: %s)\n"
               "  --auth-file=PATH    registry credentials in Docker's config.json format,\n"
               "                      read by zlayer-puller at each pull; must be readable\n"
               "                      by --user; missing = anonymous (default: %s)\n"
               "  --bridge-name=NAME  the bridge of network_mode bridge, also naming zlayer's\n"
               "                      nftables table zlayer-NAME (default: %s)\n"
               "  --bridge-subnet=CIDR  its IPv4 subnet; the first address is the bridge's\n"
               "                      (default: %s)\n"
               "  --network-pool=CIDR  where named networks (network_mode NAME) get their\n"
               "                      subnets: /24s, or sixteenths of a smaller pool\n"
               "                      (default: %s)\n"
               "  --max-concurrent-ops=N  container lifecycle calls in flight at once before\n"
               "                      the broker answers Busy (1-65536, default 64)\n"
               "  --search-registry=HOST[:PORT]  a registry SearchImages lists for a term\n"
               "                      without a host, in the order given (up to 16)\n"
               "  --debug             log at debug level, and pass --debug to every child\n"
               "  -h --help           show this help\n"
               "     --version        show the version\n",
               ZL_DEFAULT_ROOT, ZL_DEFAULT_RUN_DIR, ZL_DEFAULT_USER, ZL_LIBEXECDIR, ZL_DEFAULT_AUTH_FILE,
               ZL_DEFAULT_BRIDGE, ZL_DEFAULT_BRIDGE_SUBNET, ZL_DEFAULT_NETWORK_POOL);
}

static int parse_argv(int argc, char **argv, Arguments *a) {
        enum { ARG_BUS = 0x100, ARG_ROOT, ARG_RUN_DIR, ARG_USER, ARG_LIBEXEC_DIR, ARG_DEBUG, ARG_VERSION, ARG_AUTH_FILE,
               ARG_BRIDGE_NAME, ARG_BRIDGE_SUBNET, ARG_MAX_CONCURRENT_OPS, ARG_NETWORK_POOL,
               ARG_SEARCH_REGISTRY };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "bus", required_argument, NULL, ARG_BUS },
                { "root", required_argument, NULL, ARG_ROOT },
                { "run-dir", required_argument, NULL, ARG_RUN_DIR },
                { "user", required_argument, NULL, ARG_USER },
                { "libexec-dir", required_argument, NULL, ARG_LIBEXEC_DIR },
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

        *a = (Arguments) {
                .root = ZL_DEFAULT_ROOT,
                .run_dir = ZL_DEFAULT_RUN_DIR,
                .user = ZL_DEFAULT_USER,
                .libexec_dir = ZL_LIBEXECDIR,
                .auth_file = ZL_DEFAULT_AUTH_FILE,
        };

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("zlayerd %s\n", ZL_VERSION);
                        return 0;
                case ARG_BUS:
                        a->bus = isempty(optarg) ? NULL : optarg;
                        break;
                case ARG_ROOT:
                        a->root = optarg;
                        break;
                case ARG_RUN_DIR:
                        a->run_dir = optarg;
                        break;
                case ARG_USER:
                        a->user = optarg;
                        break;
                case ARG_LIBEXEC_DIR:
                        a->libexec_dir = optarg;
                        break;
                case ARG_DEBUG:
                        a->debug = true;
                        break;
                case ARG_AUTH_FILE:
                        a->auth_file = optarg;
                        break;
                case ARG_BRIDGE_NAME:
                        if (!bridge_name_is_valid(optarg)) {
                                log_error("--bridge-name must be 1-12 characters of [a-z0-9_-]: %s", optarg);
                                return -EINVAL;
                        }
                        a->bridge_name = optarg;
                        break;
                case ARG_BRIDGE_SUBNET:
                        if (cidr_parse(optarg, &(Cidr) {}) < 0) {
                                log_error("--bridge-subnet must be an IPv4 network a.b.c.d/8…30 with the host bits zero: %s",
                                          optarg);
                                return -EINVAL;
                        }
                        a->bridge_subnet = optarg;
                        break;
                case ARG_NETWORK_POOL:
                        if (cidr_parse(optarg, &(Cidr) {}) < 0) {
                                log_error("--network-pool must be an IPv4 network a.b.c.d/8…30 with the host bits zero: %s",
                                          optarg);
                                return -EINVAL;
                        }
                        a->network_pool = optarg;
                        break;
                case ARG_MAX_CONCURRENT_OPS:
                        if (parse_max_concurrent_ops(optarg, &(unsigned) { 0 }) < 0) {
                                log_error("--max-concurrent-ops must be 1-%u: %s", ZL_MAX_CONCURRENT_OPS_LIMIT, optarg);
                                return -EINVAL;
                        }
                        a->max_concurrent_ops = optarg;
                        break;
                case ARG_SEARCH_REGISTRY:
                        if (search_registry_add(a->search_registries, &a->n_search_registries, optarg) < 0)
                                return -EINVAL;
                        break;
                default: /* getopt printed what is wrong */
                        return -EINVAL;
                }

        if (optind < argc) {
                log_error("Unexpected argument: %s", argv[optind]);
                return -EINVAL;
        }
        if (a->root[0] != '/') {
                log_error("--root must be an absolute path: %s", a->root);
                return -EINVAL;
        }
        if (a->run_dir[0] != '/') {
                log_error("--run-dir must be an absolute path: %s", a->run_dir);
                return -EINVAL;
        }
        if (a->auth_file[0] != '/') {
                log_error("--auth-file must be an absolute path: %s", a->auth_file);
                return -EINVAL;
        }
        if (a->libexec_dir[0] != '/') {
                log_error("--libexec-dir must be an absolute path: %s", a->libexec_dir);
                return -EINVAL;
        }
        if (isempty(a->user)) {
                log_error("--user must not be empty.");
                return -EINVAL;
        }
        return 1;
}

/* A socketpair landing on fd 0-2 because we were started with one closed
 * would end up as a child's stdio. */
static int ensure_std_fds(void) {
        for (int fd = 0; fd <= 2; fd++) {
                if (fcntl(fd, F_GETFD) >= 0)
                        continue;
                int nfd = open("/dev/null", O_RDWR | O_NOCTTY);
                if (nfd < 0)
                        return -errno;
                if (nfd != fd) {
                        /* open() returns the lowest free fd, so this only
                         * happens when a lower one was also closed: loop on. */
                        if (dup2(nfd, fd) < 0)
                                return -errno;
                        close(nfd);
                }
        }
        return 0;
}

static int ensure_dir(const char *path) {
        struct stat st;

        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return log_error_errno(-errno, "Failed to create %s: %m", path);
        if (stat(path, &st) < 0)
                return log_error_errno(-errno, "Failed to stat %s: %m", path);
        if (!S_ISDIR(st.st_mode))
                return log_error_errno(-ENOTDIR, "%s is not a directory.", path);
        return 0;
}

static int on_stop_signal(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        Supervisor *s = userdata;

        log_info("Received %s.", strsignal((int) si->ssi_signo));
        supervisor_stop(s);
        return 0;
}

static int run(int argc, char **argv) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        Supervisor s = {};
        Arguments a;
        sigset_t mask;
        unsigned uid, gid;
        int r;

        log_set_program("zlayerd");

        r = parse_argv(argc, argv, &a);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;
        if (a.debug)
                log_set_max_level(LOG_DEBUG);

        r = ensure_std_fds();
        if (r < 0) {
                log_error_errno(r, "Failed to open /dev/null for stdio: %m");
                return EXIT_FAILURE;
        }

        /* Fail here with a clear message rather than in a restart loop. */
        r = daemon_user_lookup(a.user, &uid, &gid);
        if (r == -ESRCH) {
                log_error("User \"%s\" does not exist: create it (scripts/install-deps does) or pass --user=.", a.user);
                return EXIT_FAILURE;
        }
        if (r < 0) {
                log_error_errno(r, "Failed to look up user \"%s\": %m", a.user);
                return EXIT_FAILURE;
        }

        if (ensure_dir(a.root) < 0 || ensure_dir(a.run_dir) < 0)
                return EXIT_FAILURE;

        /* sd-event wants the signals it handles blocked; SIGPIPE must not
         * kill us when a child's link closes under a write. Children get
         * everything back to defaults before exec. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
                log_error_errno(-errno, "Failed to block signals: %m");
                return EXIT_FAILURE;
        }
        (void) signal(SIGPIPE, SIG_IGN);
        /* Nothing to reload; a closed terminal must not take us down. */
        (void) signal(SIGHUP, SIG_IGN);

        r = sd_event_new(&event);
        if (r < 0) {
                log_error_errno(r, "Failed to create the event loop: %m");
                return EXIT_FAILURE;
        }

        s.bus_address = a.bus;
        s.root = a.root;
        s.run_dir = a.run_dir;
        s.user = a.user;
        s.libexec_dir = a.libexec_dir;
        s.auth_file = a.auth_file;
        s.bridge_name = a.bridge_name;
        s.bridge_subnet = a.bridge_subnet;
        s.network_pool = a.network_pool;
        s.max_concurrent_ops = a.max_concurrent_ops;
        s.search_registries = a.search_registries;
        s.n_search_registries = a.n_search_registries;
        s.debug = a.debug;

        r = supervisor_init(&s, event);
        if (r < 0) {
                supervisor_done(&s);
                return EXIT_FAILURE;
        }

        if (sd_event_add_signal(event, NULL, SIGTERM, on_stop_signal, &s) < 0 ||
            sd_event_add_signal(event, NULL, SIGINT, on_stop_signal, &s) < 0) {
                log_error("Failed to watch SIGTERM/SIGINT.");
                supervisor_done(&s);
                return EXIT_FAILURE;
        }

        log_info("zlayerd %s starting (root %s, run dir %s, user %s, workers from %s).", ZL_VERSION, a.root,
                 a.run_dir, a.user, a.libexec_dir);

        r = supervisor_start(&s);
        if (r >= 0)
                r = sd_event_loop(event);
        supervisor_done(&s);
        /* a clean stop takes zlayer's networks with it, except those that
         * running containers still use (they outlive us: live restore) */
        if (r >= 0)
                network_remove_idle_bridges(a.run_dir);
        if (r < 0) {
                log_error_errno(r, "Event loop failed: %m");
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

int main(int argc, char **argv) {
        return run(argc, argv);
}
