/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exec1.Attach / Exec1.Resize: zlayer-exec is root and alone reaches the
 * shim's attach.sock (in the 0700 run dir of the container); it asks the
 * shim and passes the answer on. The shim holds every attacher, so attach
 * keeps working across restarts of the broker and of zlayer-exec. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "attach-client.h"
#include "errors.h"
#include "exec.h"
#include "fdpass.h"
#include "ids.h"
#include "log.h"

#define SHIM_TIMEOUT_SEC 2

/* One request, one answer ("OK" [+ fd] or "ERR <error> <message>"). */
static int shim_request(Exec *e, const char *id, const char *req, int *ret_fd, sd_bus_error *error) {
        _cleanup_free_ char *run = NULL;
        _cleanup_close_ int dir = -1, sock = -1;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct timeval tv = { .tv_sec = SHIM_TIMEOUT_SEC };
        char answer[512];
        int fd = -1, r;
        ssize_t n;

        if (asprintf(&run, "%s/containers/%s", e->opts.run_dir, id) < 0)
                return -ENOMEM;
        dir = open(run, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is not running", id);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/attach.sock", dir);
        sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return -errno;
        (void) setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void) setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(sock, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                /* no shim listening: it exited (or is exiting) */
                if (errno == ENOENT || errno == ECONNREFUSED)
                        return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is not running", id);
                return sd_bus_error_set_errnof(error, errno, "Connecting to the shim of %s: %m", id);
        }
        r = fdpass_send(sock, -1, req);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Asking the shim of %s: %m", id);
        n = fdpass_recv(sock, answer, sizeof(answer), &fd);
        if (n <= 0) {
                if (n == 0)
                        return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is not running", id);
                return sd_bus_error_set_errnof(error, (int) -n, "No answer from the shim of %s: %m", id);
        }
        if (streq(answer, "OK")) {
                if (ret_fd)
                        *ret_fd = fd;
                else if (fd >= 0)
                        close(fd);
                return 0;
        }
        if (fd >= 0)
                close(fd);
        if (strneq(answer, "ERR ", 4)) {
                char *name = answer + 4, *msg = strchr(name, ' ');
                _cleanup_free_ char *full = NULL;

                if (msg)
                        *msg++ = '\0';
                if (asprintf(&full, ZL_ERROR_PREFIX "%s", name) < 0)
                        return -ENOMEM;
                if (!streq(name, "InvalidState") && !streq(name, "Busy") && !streq(name, "InvalidArgs"))
                        return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "%s: %s", id, strempty(msg));
                if (streq(name, "InvalidArgs"))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s: %s", id, strempty(msg));
                return sd_bus_error_setf(error, full, "container '%s': %s", id, strempty(msg));
        }
        return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "Unexpected answer from the shim of %s", id);
}

static int check_running(Exec *e, const char *id, sd_bus_error *error) {
        Container *c;

        if (!container_id_is_valid(id))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid container id: %s", id);
        c = container_find(e, id);
        if (!c || !c->running || c->start_call)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is not running", id);
        return 0;
}

/* Options as AttachContainer's (dbus-api.md): stdin, stdout, stderr, logs. */
static int parse_options(sd_bus_message *m, int flags[4], sd_bus_error *error) {
        static const char *const keys[4] = { "stdin", "stdout", "stderr", "logs" };
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;
                size_t i;
                int b;

                if ((r = sd_bus_message_read(m, "s", &key)) < 0)
                        return r;
                for (i = 0; i < ELEMENTSOF(keys); i++)
                        if (streq(key, keys[i]))
                                break;
                if (i == ELEMENTSOF(keys))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown attach option: %s", key);
                if (sd_bus_message_verify_type(m, 'v', "b") <= 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Attach option %s must be a boolean",
                                                 key);
                if ((r = sd_bus_message_read(m, "v", "b", &b)) < 0)
                        return r;
                flags[i] = !!b;
                if ((r = sd_bus_message_exit_container(m)) < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int method_attach(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Exec *e = userdata;
        _cleanup_close_ int fd = -1;
        int flags[4] = { 0, 1, 1, 0 };   /* Docker's defaults: output, no stdin, no logs */
        char req[64];
        const char *id;
        int r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        r = parse_options(m, flags, error);
        if (r < 0)
                return r;
        r = check_running(e, id, error);
        if (r < 0)
                return r;
        snprintf(req, sizeof(req), "ATTACH %d %d %d %d", flags[0], flags[1], flags[2], flags[3]);
        r = shim_request(e, id, req, &fd, error);
        if (r < 0)
                return r;
        if (fd < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "The shim of %s sent no fd", id);
        log_debug("Attached to %s (stdin=%d stdout=%d stderr=%d logs=%d)", id, flags[0], flags[1], flags[2], flags[3]);
        return sd_bus_reply_method_return(m, "h", fd);
}

int method_resize(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Exec *e = userdata;
        uint16_t rows, cols;
        const char *id;
        char req[64];
        int r;

        r = sd_bus_message_read(m, "sqq", &id, &rows, &cols);
        if (r < 0)
                return r;
        if (rows == 0 || cols == 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid tty size %ux%u (rows x cols)",
                                         (unsigned) rows, (unsigned) cols);
        r = check_running(e, id, error);
        if (r < 0)
                return r;
        snprintf(req, sizeof(req), "RESIZE %u %u", (unsigned) rows, (unsigned) cols);
        r = shim_request(e, id, req, NULL, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, NULL);
}
