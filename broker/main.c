/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "container.h"
#include "daemon-options.h"
#include "errors.h"
#include "fileio.h"
#include "image-store.h"
#include "landlock.h"
#include "link.h"
#include "log.h"
#include "sandbox.h"
#include "worker-links.h"

static const char help_text[] =
        "zlayer-broker [OPTIONS]\n\n"
        "Owns com.zlayer.Runtime1 on the bus; started by zlayerd with the\n"
        "control link on fd 3.\n\n"
        "  --bus=ADDRESS   bus to connect to (default: the system bus)\n"
        "  --root=DIR      storage root (default " ZL_DEFAULT_ROOT ")\n"
        "  --run-dir=DIR   runtime directory (default " ZL_DEFAULT_RUN_DIR ")\n"
        "  --user=NAME     user to run as (default " ZL_DEFAULT_USER ")\n"
        "  --debug         log at debug level\n";

/* mkdir + make sure it is a directory we own as asked; returns an O_DIRECTORY fd. */
static int ensure_dir(int dirfd, const char *name, mode_t mode, uid_t uid, gid_t gid, bool chown_it) {
        _cleanup_close_ int fd = -1;

        if (mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
                return log_error_errno(-errno, "Failed to create %s: %m", name);
        fd = openat(dirfd, name, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return log_error_errno(-errno, "Failed to open %s: %m", name);
        if (chown_it && fchown(fd, uid, gid) < 0)
                return log_error_errno(-errno, "Failed to chown %s: %m", name);
        if (fchmod(fd, mode) < 0)
                return log_error_errno(-errno, "Failed to chmod %s: %m", name);
        return TAKE_FD(fd);
}

static int setup_storage(Broker *b, uid_t uid, gid_t gid, bool as_root) {
        int r, fd;

        r = mkdir_p_at(AT_FDCWD, b->opts.root, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", b->opts.root);
        b->root_fd = open(b->opts.root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (b->root_fd < 0)
                return log_error_errno(-errno, "Failed to open %s: %m", b->opts.root);

        b->images_fd = ensure_dir(b->root_fd, "images", 0755, uid, gid, as_root);
        if (b->images_fd < 0)
                return b->images_fd;
        fd = ensure_dir(b->images_fd, "blobs", 0755, uid, gid, as_root);
        if (fd < 0)
                return fd;
        r = ensure_dir(fd, "sha256", 0755, uid, gid, as_root);
        close(fd);
        if (r < 0)
                return r;
        close(r);
        fd = ensure_dir(b->images_fd, "ingest", 0755, uid, gid, as_root);
        if (fd < 0)
                return fd;
        close(fd);
        b->layers_fd = ensure_dir(b->root_fd, "layers", 0755, 0, 0, as_root);
        if (b->layers_fd < 0)
                return b->layers_fd;
        b->containers_fd = ensure_dir(b->root_fd, "containers", 0755, uid, gid, as_root);
        if (b->containers_fd < 0)
                return b->containers_fd;

        r = mkdir_p_at(AT_FDCWD, b->opts.run_dir, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", b->opts.run_dir);
        return 0;
}

static unsigned detect_cgroup_version(void) {
        struct statfs fs;
        if (statfs("/sys/fs/cgroup", &fs) == 0 && (unsigned long) fs.f_type == (unsigned long) CGROUP2_SUPER_MAGIC)
                return 2;
        return 1;
}

static int on_name_acquired(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Broker *b = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e) {
                log_error("Failed to own %s: %s: %s", ZL_BUS_NAME, e->name, strempty(e->message));
                return sd_event_exit(b->event, -EADDRINUSE);
        }
        b->name_owned = true;
        log_info("Owning %s.", ZL_BUS_NAME);
        return control_link_emit_ready(b);
}

static int connect_bus(Broker *b) {
        int r;

        if (b->opts.bus) {
                r = sd_bus_new(&b->bus);
                if (r < 0)
                        return r;
                r = sd_bus_set_address(b->bus, b->opts.bus);
                if (r < 0)
                        return log_error_errno(r, "Invalid bus address %s: %m", b->opts.bus);
                r = sd_bus_set_bus_client(b->bus, 1);
                if (r < 0)
                        return r;
                r = sd_bus_negotiate_creds(b->bus, 1, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID);
                if (r < 0)
                        return r;
                r = sd_bus_start(b->bus);
        } else
                r = sd_bus_open_system(&b->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the bus %s: %m", b->opts.bus ?: "(system)");

        r = sd_bus_attach_event(b->bus, b->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return r;
        /* Without the bus there is nothing to serve: zlayerd restarts us. */
        r = sd_bus_set_exit_on_disconnect(b->bus, 1);
        if (r < 0)
                return r;

        r = manager_register(b);
        if (r < 0)
                return r;
        r = sd_bus_request_name_async(b->bus, NULL, ZL_BUS_NAME, 0, on_name_acquired, b);
        if (r < 0)
                return log_error_errno(r, "Failed to request %s: %m", ZL_BUS_NAME);
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Broker *b = userdata;
        log_info("Received SIG%s, exiting.", sigabbrev_np(si->ssi_signo) ?: "?");
        return sd_event_exit(b->event, 0);
}

int main(int argc, char **argv) {
        Broker b = { .root_fd = -1, .images_fd = -1, .layers_fd = -1, .containers_fd = -1 };
        unsigned uid = 0, gid = 0;
        bool as_root = geteuid() == 0;
        struct stat st;
        sigset_t mask;
        int r, exit_code = 0;

        log_set_program("zlayer-broker");
        r = daemon_options_parse(&b.opts, argc, argv, help_text);
        if (r != 0)
                return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;

        if (fstat(LINK_FD, &st) < 0 || !S_ISSOCK(st.st_mode)) {
                log_error("fd %d is not a socket: zlayer-broker is started by zlayerd with its control link there.", LINK_FD);
                return EXIT_FAILURE;
        }
        (void) fcntl(LINK_FD, F_SETFD, FD_CLOEXEC);

        if (as_root) {
                r = daemon_user_lookup(b.opts.user, &uid, &gid);
                if (r < 0) {
                        log_error_errno(r, "Cannot find user %s: %m", b.opts.user);
                        return EXIT_FAILURE;
                }
        } else
                log_warning("Not started as root: not creating storage owned by %s, not dropping privileges.", b.opts.user);

        r = setup_storage(&b, uid, gid, as_root);
        if (r < 0)
                return EXIT_FAILURE;

        if (as_root) {
                r = drop_privileges(uid, gid);
                if (r < 0) {
                        log_error_errno(r, "Failed to drop privileges to %s: %m", b.opts.user);
                        return EXIT_FAILURE;
                }
                log_debug("Running as %s (%u:%u).", b.opts.user, uid, gid);
                /* Landlock first: its calls are not in the seccomp allowlist */
                r = landlock_confine_broker(b.opts.root);
                if (r == -EOPNOTSUPP)
                        log_warning("This kernel has no Landlock: the broker is not confined to %s.", b.opts.root);
                else if (r < 0) {
                        log_error_errno(r, "Failed to confine the broker with Landlock: %m");
                        return EXIT_FAILURE;
                }
                /* After setup_storage: the allowlist has no setuid or chown of others. */
                if (sandbox_broker() < 0)
                        return EXIT_FAILURE;
        }
        sandbox_selftest_maybe();

        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        b.cgroup_version = detect_cgroup_version();

        r = sd_event_default(&b.event);
        if (r < 0)
                goto fail;
        r = sd_event_add_signal(b.event, NULL, SIGTERM, on_signal, &b);
        if (r >= 0)
                r = sd_event_add_signal(b.event, NULL, SIGINT, on_signal, &b);
        if (r < 0)
                goto fail;

        r = worker_links_new(&b, &b.workers);
        if (r < 0)
                goto fail;

        r = image_store_load(b.images_fd, &b.images);
        if (r < 0)
                goto fail;
        r = containers_load_all(&b);
        if (r < 0) {
                log_error_errno(r, "Failed to load the containers: %m");
                goto fail;
        }

        r = connect_bus(&b);
        if (r < 0)
                goto fail;

        r = control_link_open(&b, LINK_FD);
        if (r < 0)
                goto fail;

        r = sd_event_loop(b.event);
        if (r < 0) {
                log_error_errno(r, "Event loop failed: %m");
                exit_code = EXIT_FAILURE;
        }
        goto finish;

fail:
        if (r < 0)
                log_error_errno(r, "Failed to start: %m");
        exit_code = EXIT_FAILURE;
finish:
        b.workers = worker_links_free(b.workers);
        containers_free_all(&b);
        image_store_free(b.images);
        authz_queries_free(&b);
        if (b.bus)
                sd_bus_flush_close_unref(b.bus);
        if (b.control)
                sd_bus_flush_close_unref(b.control);
        sd_event_unref(b.event);
        if (b.root_fd >= 0)
                close(b.root_fd);
        if (b.images_fd >= 0)
                close(b.images_fd);
        if (b.layers_fd >= 0)
                close(b.layers_fd);
        if (b.containers_fd >= 0)
                close(b.containers_fd);
        return exit_code;
}
