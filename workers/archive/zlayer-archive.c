/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zlayer-archive: the layer unpacker behind the broker (docs/internals.md).
 * Runs as root, serves com.zlayer.Worker.Archive1 on the link on fd 3 and
 * exits 0 when the link reaches EOF. */
#include <locale.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include <linux/capability.h>
#include <unistd.h>

#include "archive-bus.h"
#include "daemon-options.h"
#include "errors.h"
#include "link.h"
#include "log.h"
#include "sandbox.h"

/* What extraction needs (chown and modes of any owner, device nodes for
 * whiteouts, file capabilities, trusted.overlay.* xattrs), nothing more. */
#define ARCHIVE_CAPS                                                                     \
        ((UINT64_C(1) << CAP_CHOWN) | (UINT64_C(1) << CAP_DAC_OVERRIDE) |                \
         (UINT64_C(1) << CAP_DAC_READ_SEARCH) | (UINT64_C(1) << CAP_FOWNER) |            \
         (UINT64_C(1) << CAP_FSETID) | (UINT64_C(1) << CAP_MKNOD) |                      \
         (UINT64_C(1) << CAP_SETFCAP) | (UINT64_C(1) << CAP_SYS_ADMIN))

static const char help_text[] =
        "zlayer-archive [OPTIONS]\n\n"
        "Layer unpacker of zlayer; started by zlayerd with its link on fd 3.\n\n"
        "  --root=DIR      state directory (default " ZL_DEFAULT_ROOT ")\n"
        "  --run-dir=DIR   runtime directory (default " ZL_DEFAULT_RUN_DIR ")\n"
        "  --user=NAME     the unprivileged user (default " ZL_DEFAULT_USER ")\n"
        "  --debug         log at debug level\n";

static int run(int argc, char **argv) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        DaemonOptions opts;
        int r;

        log_set_program("zlayer-archive");
        r = daemon_options_parse(&opts, argc, argv, help_text);
        if (r != 0)
                return r > 0 ? 0 : r;

        /* pax headers carry UTF-8 names; in the C locale libarchive warns
         * about every non-ASCII one (and keeps the bytes anyway). */
        (void) setlocale(LC_CTYPE, "C.UTF-8");

        /* Modes come from the layer (ARCHIVE_EXTRACT_PERM); this only covers
         * parents libarchive creates on its own. */
        umask(022);

        /* Root, but only with ARCHIVE_CAPS, and no_new_privs (ARCHITECTURE.md §5). */
        if (geteuid() == 0) {
                r = sandbox_limit_capabilities(ARCHIVE_CAPS);
                if (r < 0)
                        return log_error_errno(r, "Failed to limit the capabilities: %m");
                r = sandbox_archive();
                if (r < 0)
                        return r;
        }
        sandbox_selftest_maybe();

        /* SIGCHLD: sd_event_add_child() for the unpack and commit children */
        r = link_serve_worker("zlayer-archive", (const int[]) { SIGCHLD, 0 }, &event, &bus);
        if (r < 0)
                return r;

        r = archive_bus_add_object(bus);
        if (r < 0)
                return log_error_errno(r, "Failed to publish %s: %m", ZL_WORKER_PATH);
        r = archive_container_bus_add_object(bus);
        if (r < 0)
                return log_error_errno(r, "Failed to publish the container methods on %s: %m", ZL_WORKER_PATH);

        log_debug("Serving %s on fd %d (root %s).", ZL_WORKER_PATH, LINK_FD, opts.root);

        r = sd_event_loop(event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return r;
}

int main(int argc, char **argv) {
        int r = run(argc, argv);
        return r < 0 ? EXIT_FAILURE : r;
}
