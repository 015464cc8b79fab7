/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zl-pty: drives ExecPty / ExecStream of com.zlayer.Runtime1 like a person
 * at a terminal would, for the integration suite (scenarios.d/exec.sh).
 *
 *   zl-pty ADDRESS shell ID
 *       ExecPty /bin/sh with a tty: types commands and checks their output,
 *       Resize(40, 100) then `stty size` must print "40 100", `exit 7` must
 *       give Wait() = 7 and an Exited(7) signal. Exit 0 when all held.
 *   zl-pty ADDRESS run ID [--env K=V]… [--workdir DIR] [--user U] [--stdin TEXT] -- CMD…
 *       ExecPty without a tty: writes TEXT (if any) to stdin then closes
 *       it, copies the demultiplexed output to stdout/stderr, exits with
 *       the exec's exit code.
 *   zl-pty ADDRESS stream ID [--frames] -- CMD…
 *       ExecStream: the same, or with --frames one line "<stream> <length>"
 *       per frame on stdout. Exit 100 on a malformed frame.
 *   zl-pty ADDRESS logs ID [--follow] [--tail N] [--since S] [--until U]
 *                         [--timestamps] [--no-stdout] [--no-stderr] [--frames]
 *       OpenContainerLogs: the demultiplexed stream to stdout/stderr (or
 *       the frame lines) until EOF.
 *   zl-pty ADDRESS hold ID -- CMD…
 *       ExecPty without a tty, prints the exec object path, then sleeps
 *       holding the fd (for the caller-disconnect test). */

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#define SERVICE "com.zlayer.Runtime1"
#define PATH "/com/zlayer/Runtime1"
#define MANAGER "com.zlayer.Runtime1.Manager"
#define EXEC_IFACE "com.zlayer.Runtime1.Exec"

static sd_bus *bus;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs("zl-pty: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        exit(1);
}

static int connect_bus(const char *address) {
        int r;

        if (strcmp(address, "system") == 0)
                return sd_bus_open_system(&bus);
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_negotiate_fds(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        return r;
}

static void call_failed(const char *what, sd_bus_error *e, int r) {
        if (e && sd_bus_error_is_set(e)) {
                printf("ERROR %s: %s\n", e->name, e->message ? e->message : "");
                exit(1);
        }
        die("%s: %s", what, strerror(-r));
}

typedef struct Options {
        char **env;
        size_t n_env;
        const char *workdir, *user;
        bool tty;
        char **command;
} Options;

static int append_kv_strv(sd_bus_message *m, const char *key, char **l) {
        int r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, l);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* ExecPty; returns the fd (dup'ed) and the exec object path. */
static int exec_pty(const char *id, const Options *o, char **ret_path) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        const char *path;
        int fd, r;

        r = sd_bus_message_new_method_call(bus, &m, SERVICE, PATH, MANAGER, "ExecPty");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", id);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = append_kv_strv(m, "command", o->command);
        if (r >= 0 && o->n_env > 0)
                r = append_kv_strv(m, "env", o->env);
        if (r >= 0 && o->workdir)
                r = sd_bus_message_append(m, "{sv}", "working_dir", "s", o->workdir);
        if (r >= 0 && o->user)
                r = sd_bus_message_append(m, "{sv}", "user", "s", o->user);
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}", "tty", "b", o->tty, "attach_stdin", "b", 1,
                                          "attach_stdout", "b", 1, "attach_stderr", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                die("building ExecPty: %s", strerror(-r));
        r = sd_bus_call(bus, m, 30 * 1000000ULL, &e, &reply);
        if (r < 0)
                call_failed("ExecPty", &e, r);
        r = sd_bus_message_read(reply, "ho", &fd, &path);
        if (r < 0)
                die("ExecPty reply: %s", strerror(-r));
        fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        *ret_path = strdup(path);
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        return fd;
}

static int exec_wait(const char *path) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int32_t code;
        int r;

        r = sd_bus_call_method(bus, SERVICE, path, EXEC_IFACE, "Wait", &e, &reply, "");
        if (r < 0)
                call_failed("Wait", &e, r);
        if (sd_bus_message_read(reply, "i", &code) < 0)
                die("Wait reply malformed");
        sd_bus_message_unref(reply);
        return code;
}

/* Reads the multiplexed stream to EOF: payloads to stdout/stderr, or one
 * "<stream> <length>" line per frame with @frames. */
static void demux(int fd, bool frames) {
        uint8_t hdr[8];
        char buf[65536];

        for (;;) {
                size_t got = 0;
                while (got < 8) {
                        ssize_t n = read(fd, hdr + got, 8 - got);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                die("reading the stream: %m");
                        if (n == 0) {
                                if (got == 0)
                                        return;
                                fprintf(stderr, "zl-pty: stream ends inside a frame header\n");
                                exit(100);
                        }
                        got += (size_t) n;
                }
                uint32_t len;
                memcpy(&len, hdr + 4, 4);
                len = be32toh(len);
                if ((hdr[0] != 1 && hdr[0] != 2) || hdr[1] || hdr[2] || hdr[3]) {
                        fprintf(stderr, "zl-pty: bad frame header %02x %02x %02x %02x\n", hdr[0], hdr[1], hdr[2], hdr[3]);
                        exit(100);
                }
                if (frames)
                        printf("%u %u\n", hdr[0], len);
                while (len > 0) {
                        ssize_t n = read(fd, buf, len < sizeof(buf) ? len : sizeof(buf));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) {
                                fprintf(stderr, "zl-pty: stream ends inside a frame\n");
                                exit(100);
                        }
                        if (!frames && write(hdr[0], buf, (size_t) n) != n)
                                die("writing output: %m");
                        len -= (uint32_t) n;
                }
        }
}

/* ------------------------------------------------------------- shell */

static char screen[65536];
static size_t screen_len;

/* Reads the terminal until @want appears after @from, or 10 s passed. */
static bool expect(int fd, size_t from, const char *want) {
        time_t deadline = time(NULL) + 10;

        for (;;) {
                screen[screen_len] = '\0';
                if (strstr(screen + from, want))
                        return true;
                if (time(NULL) > deadline || screen_len >= sizeof(screen) - 1)
                        return false;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, 500) <= 0)
                        continue;
                ssize_t n = read(fd, screen + screen_len, sizeof(screen) - 1 - screen_len);
                if (n <= 0)
                        return false;
                screen_len += (size_t) n;
        }
}

static void type(int fd, const char *s) {
        if (write(fd, s, strlen(s)) != (ssize_t) strlen(s))
                die("typing: %m");
}

static int exited_code = -1000;
static int on_exited(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        int32_t code;
        if (sd_bus_message_read(m, "i", &code) >= 0)
                exited_code = code;
        return 0;
}

static int do_shell(const char *id) {
        char *sh[] = { (char *) "/bin/sh", NULL };
        Options o = { .tty = true, .command = sh };
        char *path;
        size_t mark;
        int fd, r;

        fd = exec_pty(id, &o, &path);
        printf("exec object %s\n", path);
        r = sd_bus_match_signal(bus, NULL, SERVICE, path, EXEC_IFACE, "Exited", on_exited, NULL);
        if (r < 0)
                die("subscribing to Exited: %s", strerror(-r));

        mark = screen_len;
        type(fd, "echo hello-$((6*7)); tty\n");
        if (!expect(fd, mark, "hello-42") || !expect(fd, mark, "/dev/pts/"))
                die("no 'hello-42' and tty from the shell; screen: %s", screen);
        printf("typed echo: got hello-42 on a /dev/pts tty\n");

        mark = screen_len;
        type(fd, "hostname; echo host-done\n");
        if (!expect(fd, mark, "host-done"))
                die("hostname gave nothing; screen: %s", screen + mark);

        r = sd_bus_call_method(bus, SERVICE, path, EXEC_IFACE, "Resize", NULL, NULL, "qq", 40, 100);
        if (r < 0)
                die("Resize: %s", strerror(-r));
        mark = screen_len;
        type(fd, "stty size\n");
        if (!expect(fd, mark, "40 100"))
                die("stty size did not print '40 100' after Resize; screen: %s", screen + mark);
        printf("after Resize(40, 100): stty size = 40 100\n");

        type(fd, "exit 7\n");
        int code = exec_wait(path);
        printf("Wait() = %d\n", code);
        if (code != 7)
                die("Wait returned %d, the shell exited 7", code);
        for (int i = 0; i < 50 && exited_code == -1000; i++) {
                while ((r = sd_bus_process(bus, NULL)) > 0)
                        ;
                if (exited_code != -1000)
                        break;
                (void) sd_bus_wait(bus, 100000);
        }
        printf("Exited signal: %d\n", exited_code);
        if (exited_code != 7)
                die("no Exited(7) signal (got %d)", exited_code);
        /* the shell is gone: the master reads EOF/EIO */
        char c;
        ssize_t n;
        while ((n = read(fd, &c, 1)) > 0)
                ;
        close(fd);
        return 0;
}

/* ---------------------------------------------------------------- logs */

static int do_logs(const char *id, int argc, char **argv) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        bool frames = false;
        int fd, r;

        r = sd_bus_message_new_method_call(bus, &m, SERVICE, PATH, MANAGER, "OpenContainerLogs");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", id);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        for (int i = 0; r >= 0 && i < argc; i++) {
                if (strcmp(argv[i], "--frames") == 0)
                        frames = true;
                else if (strcmp(argv[i], "--follow") == 0)
                        r = sd_bus_message_append(m, "{sv}", "follow", "b", 1);
                else if (strcmp(argv[i], "--timestamps") == 0)
                        r = sd_bus_message_append(m, "{sv}", "timestamps", "b", 1);
                else if (strcmp(argv[i], "--no-stdout") == 0)
                        r = sd_bus_message_append(m, "{sv}", "stdout", "b", 0);
                else if (strcmp(argv[i], "--no-stderr") == 0)
                        r = sd_bus_message_append(m, "{sv}", "stderr", "b", 0);
                else if (i + 1 < argc && strcmp(argv[i], "--tail") == 0)
                        r = sd_bus_message_append(m, "{sv}", "tail", "t", strtoull(argv[++i], NULL, 10));
                else if (i + 1 < argc && (strcmp(argv[i], "--since") == 0 || strcmp(argv[i], "--until") == 0)) {
                        const char *key = argv[i] + 2;
                        r = sd_bus_message_append(m, "{sv}", key, "x", (int64_t) strtoll(argv[++i], NULL, 10));
                } else
                        die("unknown logs option %s", argv[i]);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                die("building OpenContainerLogs: %s", strerror(-r));
        r = sd_bus_call(bus, m, 30 * 1000000ULL, &e, &reply);
        if (r < 0)
                call_failed("OpenContainerLogs", &e, r);
        if (sd_bus_message_read(reply, "h", &fd) < 0)
                die("OpenContainerLogs reply malformed");
        fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        sd_bus_flush_close_unref(bus);
        demux(fd, frames);
        return 0;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
        Options o = {};
        const char *stdin_text = NULL;
        bool frames = false;
        int i, r;

        if (argc < 4)
                die("usage: zl-pty ADDRESS shell|run|stream|hold ID [OPTIONS] [-- CMD…]");
        r = connect_bus(argv[1]);
        if (r < 0)
                die("connecting to %s: %s", argv[1], strerror(-r));
        const char *mode = argv[2], *id = argv[3];

        if (strcmp(mode, "shell") == 0)
                return do_shell(id);
        if (strcmp(mode, "logs") == 0)
                return do_logs(id, argc - 4, argv + 4);

        o.env = calloc((size_t) argc, sizeof(char *));
        for (i = 4; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0) {
                        i++;
                        break;
                }
                if (strcmp(argv[i], "--frames") == 0)
                        frames = true;
                else if (i + 1 < argc && strcmp(argv[i], "--env") == 0)
                        o.env[o.n_env++] = argv[++i];
                else if (i + 1 < argc && strcmp(argv[i], "--workdir") == 0)
                        o.workdir = argv[++i];
                else if (i + 1 < argc && strcmp(argv[i], "--user") == 0)
                        o.user = argv[++i];
                else if (i + 1 < argc && strcmp(argv[i], "--stdin") == 0)
                        stdin_text = argv[++i];
                else
                        die("unknown option %s", argv[i]);
        }
        o.command = argv + i;
        if (!o.command[0])
                die("no command");

        if (strcmp(mode, "stream") == 0) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                sd_bus_message *m = NULL, *reply = NULL;
                const char *path;
                int fd;

                r = sd_bus_message_new_method_call(bus, &m, SERVICE, PATH, MANAGER, "ExecStream");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", id);
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, o.command);
                if (r < 0)
                        die("building ExecStream: %s", strerror(-r));
                r = sd_bus_call(bus, m, 30 * 1000000ULL, &e, &reply);
                if (r < 0)
                        call_failed("ExecStream", &e, r);
                if (sd_bus_message_read(reply, "ho", &fd, &path) < 0)
                        die("ExecStream reply malformed");
                fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                demux(fd, frames);
                fflush(stdout);
                return exec_wait(path);
        }

        char *path;
        int fd = exec_pty(id, &o, &path);
        if (strcmp(mode, "hold") == 0) {
                printf("%s\n", path);
                fflush(stdout);
                for (;;)
                        pause();
        }
        if (strcmp(mode, "run") != 0)
                die("unknown mode %s", mode);
        if (stdin_text && write(fd, stdin_text, strlen(stdin_text)) < 0)
                die("writing stdin: %m");
        shutdown(fd, SHUT_WR);
        demux(fd, false);
        fflush(stdout);
        return exec_wait(path);
}
