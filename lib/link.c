/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include "link.h"
#include "log.h"

static int link_open(int fd, sd_event *event, bool server, sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r < 0) {
                close(fd);
                return r;
        }

        /* The same fd for both directions: it is a socket. */
        r = sd_bus_set_fd(bus, fd, fd);
        if (r < 0)
                goto fail;

        if (server) {
                sd_id128_t id;
                r = sd_id128_randomize(&id);
                if (r < 0)
                        goto fail;
                r = sd_bus_set_server(bus, 1, id);
                if (r < 0)
                        goto fail;
                /* Our peer is a process zlayerd started with the other end of a
                 * socketpair; nobody else can reach this fd. */
                r = sd_bus_set_anonymous(bus, 1);
                if (r < 0)
                        goto fail;
        }

        r = sd_bus_negotiate_fds(bus, 1);
        if (r < 0)
                goto fail;

        r = sd_bus_start(bus);
        if (r < 0)
                goto fail;

        if (event) {
                r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
                if (r < 0)
                        goto fail;
        }

        *ret = bus;
        return 0;

fail:
        /* sd_bus_unref() closes the fd once sd_bus_set_fd() took it. */
        sd_bus_unref(bus);
        return r;
}

int link_open_server(int fd, sd_event *event, sd_bus **ret) {
        return link_open(fd, event, true, ret);
}

int link_open_client(int fd, sd_event *event, sd_bus **ret) {
        return link_open(fd, event, false, ret);
}

static int on_link_closed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        log_debug("Link closed, exiting.");
        return sd_event_exit(userdata, 0);
}

int link_serve_worker(const char *name, const int *extra_blocked, sd_event **ret_event, sd_bus **ret_bus) {
        sd_event *event = NULL;
        sd_bus *bus = NULL;
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        for (const int *s = extra_blocked; s && *s; s++)
                sigaddset(&mask, *s);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(-errno, "Failed to block signals: %m");

        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");
        r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        if (r < 0) {
                log_error_errno(r, "Failed to watch SIGTERM/SIGINT: %m");
                goto fail;
        }

        /* Started by hand without a link: say so rather than let libsystemd
         * trip over a closed fd. */
        r = sd_is_socket(LINK_FD, AF_UNIX, SOCK_STREAM, -1);
        if (r <= 0) {
                r = r < 0 ? r : -ENOTSOCK;
                log_error_errno(r, "No link on fd %d (%s is started by zlayerd): %m", LINK_FD, name);
                goto fail;
        }
        r = link_open_server(LINK_FD, event, &bus);
        if (r < 0) {
                log_error_errno(r, "Failed to open the link on fd %d: %m", LINK_FD);
                goto fail;
        }
        r = sd_bus_match_signal(bus, NULL, NULL, "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
                                "Disconnected", on_link_closed, event);
        if (r < 0) {
                log_error_errno(r, "Failed to watch the link: %m");
                goto fail;
        }
        *ret_event = event;
        *ret_bus = bus;
        return 0;

fail:
        sd_bus_flush_close_unref(bus);
        sd_event_unref(event);
        return r;
}
