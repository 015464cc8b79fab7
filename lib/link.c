/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>

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
