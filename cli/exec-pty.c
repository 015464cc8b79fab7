/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* exec with -i/-t/-e/-u/-w: ExecPty. With -t the fd is the PTY master: our
 * terminal goes raw (restored on every way out), window-size changes go to
 * Exec.Resize. Without -t the fd is a socket: stdin is written to it, its
 * multiplexed output is split to stdout/stderr. The exit code is Exec.Wait's. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>

#include "errors.h"
#include "exec-pty.h"
#include "stream.h"
#include "zlayerctl.h"

#define EXEC_IFACE "com.zlayer.Runtime1.Exec"
#define COPY_BUF (64 * 1024)

static struct termios saved_termios;
static bool termios_saved;

void restore_terminal(void) {
        if (termios_saved) {
                (void) tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
                termios_saved = false;
        }
}

int make_terminal_raw(void) {
        struct termios raw;

        if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
                return -errno;
        termios_saved = true;
        atexit(restore_terminal);
        raw = saved_termios;
        cfmakeraw(&raw);
        raw.c_oflag |= OPOST;   /* keep \n → \r\n for our own messages; the PTY does its own */
        if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) < 0)
                return -errno;
        return 0;
}

bool terminal_size(uint16_t *ret_rows, uint16_t *ret_cols) {
        struct winsize ws;

        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
                return false;
        if (ws.ws_row == 0 || ws.ws_col == 0)
                return false;
        *ret_rows = ws.ws_row;
        *ret_cols = ws.ws_col;
        return true;
}

static void send_window_size(sd_bus *bus, const char *path) {
        uint16_t rows, cols;

        if (terminal_size(&rows, &cols))
                (void) sd_bus_call_method(bus, ZL_BUS_NAME, path, EXEC_IFACE, "Resize", NULL, NULL, "qq", rows, cols);
}

static int write_all(int fd, const char *buf, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, buf, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                buf += k;
                n -= k;
        }
        return 0;
}

static int append_options(sd_bus_message *m, const ExecPtyOptions *o) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "command");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, o->command);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0 && o->env && o->env[0]) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "env");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, o->env);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0 && o->user)
                r = sd_bus_message_append(m, "{sv}", "user", "s", o->user);
        if (r >= 0 && o->workdir)
                r = sd_bus_message_append(m, "{sv}", "working_dir", "s", o->workdir);
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}", "tty", "b", (int) o->tty, "attach_stdin", "b",
                                          (int) o->interactive, "attach_stdout", "b", 1, "attach_stderr", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* Docker's default detach keys: ctrl-p ctrl-q. Returns true once seen;
 * *state carries a ctrl-p at the end of one read into the next. */
static bool detach_keys(const char *buf, size_t n, bool *state) {
        for (size_t i = 0; i < n; i++) {
                if (*state && buf[i] == 0x11)
                        return true;
                *state = buf[i] == 0x10;
        }
        return false;
}

int terminal_pump(int fd, bool tty, bool interactive, const PumpOps *ops) {
        bool stdin_open = interactive, ctrl_p = false;
        sigset_t mask;
        int sfd, ret = 0;
        char buf[COPY_BUF];

        sigemptyset(&mask);
        sigaddset(&mask, SIGWINCH);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (sfd < 0)
                return -errno;
        for (;;) {
                struct pollfd p[3] = {
                        { .fd = fd, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                        { .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
                };
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        ret = -errno;
                        break;
                }
                if (p[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof si) == sizeof si) {
                                if (si.ssi_signo == SIGWINCH && tty) {
                                        if (ops->resize)
                                                ops->resize(ops->userdata);
                                } else if (si.ssi_signo == SIGINT && !tty) {
                                        if (ops->interrupt)
                                                ops->interrupt(ops->userdata);
                                }
                                else if (si.ssi_signo != SIGWINCH && si.ssi_signo != SIGINT) {
                                        ret = 128 + (int) si.ssi_signo;
                                        break;
                                }
                        }
                }
                if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
                        if (n > 0 && tty && ops->detach_keys && detach_keys(buf, (size_t) n, &ctrl_p)) {
                                ret = PUMP_DETACHED;
                                break;
                        }
                        if (n > 0)
                                (void) write_all(fd, buf, n);
                        else if (n == 0 || errno != EINTR) {
                                stdin_open = false;
                                if (!tty && !ops->keep_input_open)
                                        (void) shutdown(fd, SHUT_WR);   /* the command sees EOF */
                        }
                }
                if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        if (tty) {
                                ssize_t n = read(fd, buf, sizeof buf);
                                if (n < 0 && errno == EINTR)
                                        continue;
                                if (n <= 0)   /* EIO once the command closed the PTY */
                                        break;
                                (void) write_all(STDOUT_FILENO, buf, n);
                        } else if (demux_frame(fd, STDOUT_FILENO, STDERR_FILENO) <= 0)
                                break;
                }
        }
        close(sfd);
        sigprocmask(SIG_UNBLOCK, &mask, NULL);
        return ret;
}

static void exec_resize(void *userdata) {
        sd_bus *bus;

        if (ctl_bus(&bus) >= 0)
                send_window_size(bus, userdata);
}

static void exec_interrupt(void *userdata) {
        sd_bus *bus;

        if (ctl_bus(&bus) >= 0)
                (void) sd_bus_call_method(bus, ZL_BUS_NAME, userdata, EXEC_IFACE, "Kill", NULL, NULL, "s", "INT");
}

int exec_pty(const char *container, const ExecPtyOptions *o) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL, *wait_reply = NULL;
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *path = NULL;
        const char *p;
        int32_t code;
        sd_bus *bus;
        int hfd, r;

        if (o->tty && !isatty(STDIN_FILENO)) {
                fprintf(stderr, "zlayerctl exec: the input device is not a TTY\n");
                return EXIT_ZL;
        }
        r = ctl_bus(&bus);
        if (r < 0)
                return EXIT_ZL;
        r = sd_bus_message_new_method_call(bus, &m, ZL_BUS_NAME, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, "ExecPty");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", container);
        if (r >= 0)
                r = append_options(m, o);
        if (r >= 0)
                r = sd_bus_call(bus, m, CALL_DEFAULT, &error, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "ho", &hfd, &p);
        if (r < 0)
                return ctl_fail(&error, r, "exec");
        fd = fcntl(hfd, F_DUPFD_CLOEXEC, 3);
        path = strdup(p);
        if (fd < 0 || !path)
                return ctl_fail(NULL, fd < 0 ? -errno : -ENOMEM, "exec");

        if (o->tty) {
                send_window_size(bus, path);
                if (o->interactive) {
                        r = make_terminal_raw();
                        if (r < 0) {
                                restore_terminal();
                                return ctl_fail(NULL, r, "exec: raw terminal");
                        }
                }
        }
        r = terminal_pump(fd, o->tty, o->interactive,
                          &(PumpOps) { .resize = exec_resize, .interrupt = exec_interrupt, .userdata = path });
        restore_terminal();
        if (r != 0)
                return r < 0 ? ctl_fail(NULL, r, "exec") : r;
        fd = (close(fd), -1);
        r = sd_bus_call_method(bus, ZL_BUS_NAME, path, EXEC_IFACE, "Wait", &error, &wait_reply, NULL);
        if (r >= 0)
                r = sd_bus_message_read(wait_reply, "i", &code);
        if (r < 0)
                return ctl_fail(&error, r, "exec");
        return code < 0 || code > 255 ? EXIT_ZL : code;
}
