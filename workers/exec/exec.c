/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zlayer-exec: the container launcher (root). Serves com.zlayer.Worker.Exec1
 * on the link on fd 3; exits 0 when the link reaches EOF. */
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include "daemon-options.h"
#include "errors.h"
#include "exec.h"
#include "fileio.h"
#include "link.h"
#include "log.h"

static const char help[] =
        "zlayer-exec [OPTIONS]\n\n"
        "The zlayer container launcher; serves com.zlayer.Worker.Exec1 on fd 3.\n\n"
        "  --root=DIR       default " ZL_DEFAULT_ROOT "\n"
        "  --run-dir=DIR    default " ZL_DEFAULT_RUN_DIR "\n"
        "  --user=NAME      owner group of ctr.log (default " ZL_DEFAULT_USER ")\n"
        "  --debug          log at debug level\n";

static int find_shim(char **ret) {
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n < 0)
                return -errno;
        exe[n] = '\0';
        /* the shim is installed next to us, in libexecdir */
        return asprintf(ret, "%s/zlayer-shim", dirname(exe)) < 0 ? -ENOMEM : 0;
}

int main(int argc, char **argv) {
        Exec e = { .containers_dir = -1 };
        _cleanup_free_ char *containers = NULL;
        unsigned uid, gid;
        int r;

        log_set_program("zlayer-exec");
        r = daemon_options_parse(&e.opts, argc, argv, help);
        if (r != 0)
                return r > 0 ? 0 : 2;

        r = daemon_user_lookup(e.opts.user, &uid, &gid);
        if (r < 0) {
                log_error_errno(r, "Unknown --user %s: %m", e.opts.user);
                return 1;
        }
        e.log_gid = gid;

        r = find_shim(&e.shim_path);
        if (r < 0) {
                log_error_errno(r, "Failed to locate zlayer-shim: %m");
                return 1;
        }
        if (access(e.shim_path, X_OK) < 0)
                log_warning_errno(-errno, "%s: %m", e.shim_path);

        if (asprintf(&containers, "%s/containers", e.opts.root) < 0)
                return log_oom(), 1;
        (void) mkdir(e.opts.root, 0755);
        (void) mkdir(containers, 0755);
        e.containers_dir = open(containers, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (e.containers_dir < 0) {
                log_error_errno(-errno, "Failed to open %s: %m", containers);
                return 1;
        }
        r = mkdir_p_at(AT_FDCWD, e.opts.run_dir, 0755);
        if (r >= 0) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/containers", e.opts.run_dir) < 0)
                        return 1;
                r = mkdir_p_at(AT_FDCWD, p, 0700);
        }
        if (r < 0) {
                log_error_errno(r, "Failed to create %s/containers: %m", e.opts.run_dir);
                return 1;
        }

        r = cgroup_driver_new_detect(NULL, &e.cgroup);
        if (r < 0) {
                log_error_errno(r, "Failed to detect the cgroup version: %m");
                return 1;
        }
        log_debug("cgroup v%d", (int) e.cgroup->version);

        signal(SIGPIPE, SIG_IGN);
        r = sd_event_default(&e.event);
        if (r < 0)
                return log_error_errno(r, "sd_event_default: %m"), 1;
        /* SIGTERM/SIGINT from zlayerd: a clean exit (containers keep running) */
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        if ((r = sd_event_add_signal(e.event, NULL, SIGTERM, NULL, NULL)) < 0 ||
            (r = sd_event_add_signal(e.event, NULL, SIGINT, NULL, NULL)) < 0)
                return log_error_errno(r, "sd_event_add_signal: %m"), 1;
        r = link_open_server(LINK_FD, e.event, &e.bus);
        if (r < 0)
                return log_error_errno(r, "Failed to open the link on fd %d: %m", LINK_FD), 1;
        r = sd_bus_add_object_vtable(e.bus, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, exec_vtable, &e);
        if (r < 0)
                return log_error_errno(r, "Failed to add the Exec1 object: %m"), 1;
        /* link EOF ends the loop: our broker is gone */
        r = sd_bus_set_exit_on_disconnect(e.bus, 1);
        if (r < 0)
                return log_error_errno(r, "sd_bus_set_exit_on_disconnect: %m"), 1;

        r = sd_event_loop(e.event);
        bool link_closed = sd_bus_is_open(e.bus) <= 0;

        exec_processes_free_all(&e);
        while (e.containers) {
                Container *c = e.containers;
                e.containers = c->next;
                container_free(c);
        }
        sd_bus_flush_close_unref(e.bus);
        sd_event_unref(e.event);
        cgroup_driver_free(e.cgroup);
        close(e.containers_dir);
        free(e.shim_path);
        if (link_closed)
                return 0;
        if (r < 0)
                log_error_errno(r, "Event loop failed: %m");
        return r < 0 ? 1 : 0;
}
