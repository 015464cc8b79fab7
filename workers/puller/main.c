/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include "blob-store.h"
#include "daemon-options.h"
#include "link.h"
#include "log.h"
#include "macro.h"
#include "puller.h"
#include "sandbox.h"

static const char help[] =
        "zlayer-puller [OPTIONS]\n\n"
        "Pulls OCI images for the zlayer broker, which talks to it over fd 3.\n\n"
        "  --root=DIR      zlayer state directory\n"
        "  --run-dir=DIR   zlayer runtime directory\n"
        "  --user=NAME     user to run as\n"
        "  --debug         log at debug level\n";

static void sd_event_unrefp_(sd_event **e) {
        sd_event_unref(*e);
}

static void sd_bus_flush_close_unrefp_(sd_bus **b) {
        sd_bus_flush_close_unref(*b);
}

/* A puller killed in the middle of a download left its temp file; no pull
 * runs yet, so whatever is in ingest/ now is stale. */
static void clean_ingest(const char *root) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (asprintf(&path, "%s/images", root) < 0)
                return (void) log_oom();
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (errno != ENOENT)
                        log_warning_errno(-errno, "Failed to open %s: %m", path);
                return;
        }
        r = blob_store_clean_ingest(fd);
        if (r < 0)
                log_warning_errno(r, "Failed to clean %s/ingest: %m", path);
}

int main(int argc, char **argv) {
        _cleanup_(sd_event_unrefp_) sd_event *event = NULL;
        _cleanup_(sd_bus_flush_close_unrefp_) sd_bus *bus = NULL;
        _cleanup_(puller_freep) Puller *puller = NULL;
        DaemonOptions o;
        int r;

        log_set_program("zlayer-puller");
        r = daemon_options_parse(&o, argc, argv, help);
        if (r != 0)
                return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;

        /* Checked before anything else opens an fd that could land on 3. */
        struct stat st;
        if (fstat(LINK_FD, &st) < 0 || !S_ISSOCK(st.st_mode)) {
                log_error("fd %d is not a socket: zlayer-puller is started by zlayerd with its link there.", LINK_FD);
                return EXIT_FAILURE;
        }

        /* Before any thread exists, so they all inherit it. */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                log_error("Failed to initialize libcurl.");
                return EXIT_FAILURE;
        }
        /* SIGPIPE: a registry that hangs up mid-write is an error of that request */
        r = link_serve_worker("zlayer-puller", (const int[]) { SIGPIPE, 0 }, &event, &bus);
        if (r < 0)
                return EXIT_FAILURE;

        if (sandbox_become_user(o.user) < 0)
                return EXIT_FAILURE;
        /* After curl_global_init (it reads openssl.cnf) and before any request. */
        if (sandbox_puller(o.root, o.auth_file) < 0)
                return EXIT_FAILURE;
        sandbox_selftest_maybe();

        clean_ingest(o.root);

        r = puller_new(event, bus, o.auth_file, &puller);
        if (r < 0) {
                log_error_errno(r, "Failed to register the puller object: %m");
                return EXIT_FAILURE;
        }

        log_debug("Ready.");
        r = sd_event_loop(event);
        if (r < 0) {
                log_error_errno(r, "Event loop failed: %m");
                return EXIT_FAILURE;
        }
        /* Running pulls are canceled before the store is left. */
        puller = puller_free(puller);
        curl_global_cleanup();
        return EXIT_SUCCESS;
}
