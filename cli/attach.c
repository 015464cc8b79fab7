/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* attach, run -it / -i and start -a / -i: AttachContainer. With a tty the fd
 * is a PTY master of our own: our terminal goes raw (restored on every way
 * out, exec-pty.c), SIGWINCH → ResizeContainerTTY, ctrl-p ctrl-q detaches.
 * Without one the fd is a socket: stdin is written to it, its multiplexed
 * output is split to stdout/stderr, SIGINT goes to the container. The exit
 * code is the container's (WaitContainer). */
#include <fcntl.h>
#include <getopt.h>
#include <time.h>
#include <stdio.h>
#include <unistd.h>

#include "attach.h"
#include "errors.h"
#include "exec-pty.h"
#include "zlayerctl.h"

static void attach_resize(void *userdata) {
        uint16_t rows, cols;

        if (terminal_size(&rows, &cols))
                (void) ctl_call(CALL_DEFAULT, "ResizeContainerTTY", NULL, NULL, "sqq", (const char *) userdata, rows,
                                cols);
}

static void attach_interrupt(void *userdata) {
        (void) ctl_call(CALL_DEFAULT, "KillContainer", NULL, NULL, "ss", (const char *) userdata, "INT");
}

int container_tty_flags(const char *id, bool *ret_tty, bool *ret_open_stdin) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(json_object_putp) json_object *j = NULL;
        json_object *config, *v;
        const char *s;
        int r;

        r = ctl_call(CALL_DEFAULT, "InspectContainer", &error, &reply, "s", id);
        if (r >= 0)
                r = sd_bus_message_read(reply, "s", &s);
        if (r < 0)
                return ctl_fail(&error, r, "inspect");
        j = json_tokener_parse(s);
        if (!j || !json_object_object_get_ex(j, "Config", &config))
                return ctl_fail(NULL, -EBADMSG, "inspect");
        *ret_tty = json_object_object_get_ex(config, "Tty", &v) && json_object_get_boolean(v);
        *ret_open_stdin = json_object_object_get_ex(config, "OpenStdin", &v) && json_object_get_boolean(v);
        return 0;
}

static int wait_container(const char *id) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int32_t code;
        int r;

        r = ctl_call(CALL_FOREVER, "WaitContainer", &error, &reply, "ss", id, "");
        if (r >= 0)
                r = sd_bus_message_read(reply, "i", &code);
        if (r < 0)
                return ctl_fail(&error, r, "wait");
        return code < 0 || code > 255 ? EXIT_ZL : code;
}

int attach_container(const char *id, const AttachOptions *o) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_close_ int fd = -1;
        bool tty = o->tty, interactive = o->interactive;
        int hfd, r;

        if (tty && interactive && !isatty(STDIN_FILENO)) {
                fprintf(stderr, "zlayerctl: the input device is not a TTY\n");
                return EXIT_ZL;
        }
        r = ctl_call(CALL_DEFAULT, "AttachContainer", &error, &reply, "sa{sv}", id, 4, "stdin", "b", (int) interactive,
                     "stdout", "b", 1, "stderr", "b", 1, "logs", "b", (int) o->logs);
        if (r < 0 && o->logs && sd_bus_error_has_name(&error, ZL_ERROR_INVALID_STATE)) {
                /* it ran and exited before we got there: its output is in the log */
                sd_bus_error_free(&error);
                r = print_logs(id, 0, o->since_usec, 0, false, 0, NULL, &error);
                if (r < 0)
                        return ctl_fail(&error, r, "logs");
                return wait_container(id);
        }
        if (r >= 0)
                r = sd_bus_message_read(reply, "h", &hfd);
        if (r < 0)
                return ctl_fail(&error, r, "attach");
        fd = fcntl(hfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return ctl_fail(NULL, -errno, "attach");

        if (tty) {
                attach_resize((void *) id);
                if (interactive && (r = make_terminal_raw()) < 0) {
                        restore_terminal();
                        return ctl_fail(NULL, r, "attach: raw terminal");
                }
        }
        r = terminal_pump(fd, tty, interactive,
                          &(PumpOps) { .resize = attach_resize, .interrupt = attach_interrupt, .userdata = (void *) id,
                                       .detach_keys = tty && interactive, .keep_input_open = !o->stdin_once });
        restore_terminal();
        if (r == PUMP_DETACHED) {
                fprintf(stderr, "\nread escape sequence\n");
                return 0;
        }
        if (r != 0)
                return r < 0 ? ctl_fail(NULL, r, "attach") : r;
        fd = (close(fd), -1);
        return wait_container(id);
}

int verb_attach(int argc, char **argv) {
        static const struct option options[] = {
                { "no-stdin", no_argument, NULL, 'n' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        bool no_stdin = false, tty, open_stdin;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'n': no_stdin = true; break;
                case 'h':
                        printf("Usage: zlayerctl attach [--no-stdin] CONTAINER\n\n"
                               "Attach our stdin, stdout and stderr to a running container.\n"
                               "With a tty, ctrl-p ctrl-q detaches.\n");
                        return 0;
                default: return usage_error(argv[0], "bad option");
                }
        if (argc - optind != 1)
                return usage_error(argv[0], "requires exactly 1 argument (CONTAINER)");
        r = container_tty_flags(argv[optind], &tty, &open_stdin);
        if (r != 0)
                return r;
        /* stdin goes in only where the container has one open (docker's rule) */
        return attach_container(argv[optind], &(AttachOptions) { .interactive = open_stdin && !no_stdin, .tty = tty });
}

int start_attached(const char *id, bool interactive) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        bool tty, open_stdin;
        uint64_t now;
        int r;

        r = container_tty_flags(id, &tty, &open_stdin);
        if (r != 0)
                return r;
        if (tty && interactive && !isatty(STDIN_FILENO)) {
                fprintf(stderr, "zlayerctl start: the input device is not a TTY\n");
                return EXIT_ZL;
        }
        now = (uint64_t) time(NULL) * USEC_PER_SEC;
        r = ctl_call(CALL_FOREVER, "StartContainer", &error, NULL, "s", id);
        if (r < 0)
                return ctl_fail(&error, r, "start");
        if (!tty && !interactive)
                return follow_container(id, now);
        /* what it printed before we got there: the attach replays this run's */
        return attach_container(id, &(AttachOptions) { .interactive = interactive && open_stdin, .tty = tty,
                                                       .logs = true, .since_usec = now });
}
