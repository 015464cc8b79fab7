/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zlayer-stats: the resource sampler behind the broker (docs/internals.md).
 * Drops to --user in a sandbox that can only read cgroupfs and /proc,
 * serves com.zlayer.Worker.Stats1 on the link on fd 3 and exits 0 when the
 * link reaches EOF. */
#include <signal.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "daemon-options.h"
#include "errors.h"
#include "link.h"
#include "log.h"
#include "sandbox.h"
#include "stats-bus.h"

static const char help_text[] =
        "zlayer-stats [OPTIONS]\n\n"
        "Resource sampler of zlayer; started by zlayerd with its link on fd 3.\n\n"
        "  --root=DIR      state directory (default " ZL_DEFAULT_ROOT ", unused)\n"
        "  --run-dir=DIR   runtime directory (default " ZL_DEFAULT_RUN_DIR ", unused)\n"
        "  --user=NAME     the unprivileged user (default " ZL_DEFAULT_USER ")\n"
        "  --debug         log at debug level\n";

static int run(int argc, char **argv) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        DaemonOptions opts;
        int r;

        log_set_program("zlayer-stats");
        r = daemon_options_parse(&opts, argc, argv, help_text);
        if (r != 0)
                return r > 0 ? 0 : r;

        /* Checked before anything else opens an fd that could land on 3. */
        r = sd_is_socket(LINK_FD, AF_UNIX, SOCK_STREAM, -1);
        if (r <= 0)
                return log_error_errno(r < 0 ? r : -ENOTSOCK,
                                       "No link on fd %d (zlayer-stats is started by zlayerd): %m", LINK_FD);

        r = sandbox_stats(opts.user);
        if (r < 0)
                return r;
        sandbox_selftest_maybe();

        r = link_serve_worker("zlayer-stats", NULL, &event, &bus);
        if (r < 0)
                return r;
        r = stats_bus_add_object(bus);
        if (r < 0)
                return log_error_errno(r, "Failed to publish %s: %m", ZL_WORKER_PATH);

        log_debug("Serving %s on fd %d.", ZL_WORKER_PATH, LINK_FD);
        r = sd_event_loop(event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return r;
}

int main(int argc, char **argv) {
        int r = run(argc, argv);
        return r < 0 ? EXIT_FAILURE : r;
}
