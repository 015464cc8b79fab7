/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* AttachContainer and ResizeContainerTTY, the shim's part (attach.h).
 *
 * Each attacher gets its own fd, so that several can attach at once and each
 * sees all the output: for a tty container a PTY pair of its own (the caller
 * gets the master, we keep the slave in raw mode and relay between it and
 * the container's real master), otherwise a socket pair (reads give Docker's
 * multiplexed frames, writes feed stdin). Nothing here may stop the shim
 * from draining the container's output: writes are non-blocking, and output
 * an attacher does not read is buffered up to ATTACH_OUTPUT_MAX, then
 * dropped for that attacher. */
#include <endian.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>

#include "attach.h"
#include "crilog.h"
#include "fdpass.h"
#include "log.h"
#include "macro.h"

#define ATTACH_SOCKET "attach.sock"
#define ATTACH_OUTPUT_MAX (1024 * 1024)
#define ATTACH_REPLAY_MAX (1024 * 1024)
#define ATTACH_INPUT_CHUNK 4096
#define REQUEST_TIMEOUT_USEC (1 * USEC_PER_SEC)

typedef struct Attacher {
        int fd;                       /* PTY slave (tty) or our end of the socket pair */
        bool want_stdin, want_stdout, want_stderr;
        bool input_eof;               /* the caller shut down its writing side */
        bool dead;
        char *out;                    /* output waiting for the caller */
        size_t out_off, out_len, out_alloc;
        uint64_t dropped;
        char in[ATTACH_INPUT_CHUNK];  /* input waiting for the container */
        size_t in_off, in_len;
} Attacher;

struct AttachServer {
        int listen_fd;
        int rundir;                   /* not ours: attach.sock is removed from it at the end */
        int master;                   /* the container's PTY master, or -1 */
        int stdin_fd;                 /* write end of the container's stdin, or -1 */
        bool stdin_open;              /* the spec's stdin_open: else input is dropped */
        bool target_broken;           /* the container closed its stdin / tty */
        bool exited;
        int log_dir;
        const char *log_name;
        dev_t run_log_dev;            /* ctr.log when this run began, and its size */
        ino_t run_log_ino;
        off_t run_log_start;
        const char *pending_buf[2];
        const size_t *pending_len[2];
        Attacher *attachers[ATTACHERS_MAX];
        size_t n_attachers;
        Attacher *polled[ATTACHERS_MAX];
        size_t n_polled;
};

static bool is_tty(const AttachServer *s) {
        return s->master >= 0;
}

static int input_target(const AttachServer *s) {
        if (s->target_broken || !s->stdin_open)
                return -1;
        return is_tty(s) ? s->master : s->stdin_fd;
}

static void attacher_free(Attacher *a) {
        if (!a)
                return;
        if (a->dropped > 0)
                log_info("An attacher missed %llu bytes of output it did not read in time",
                         (unsigned long long) a->dropped);
        if (a->fd >= 0)
                close(a->fd);
        free(a->out);
        free(a);
}

/* Queues @n bytes (all or nothing: a frame is never cut). */
static void attacher_queue(Attacher *a, const void *p1, size_t n1, const void *p2, size_t n2) {
        size_t n = n1 + n2;

        if (a->out_off > 0 && a->out_off + a->out_len + n > a->out_alloc) {
                memmove(a->out, a->out + a->out_off, a->out_len);
                a->out_off = 0;
        }
        if (a->out_len + n > ATTACH_OUTPUT_MAX) {
                a->dropped += n;
                return;
        }
        if (a->out_off + a->out_len + n > a->out_alloc) {
                size_t want = MAX(a->out_alloc * 2, a->out_len + n);
                char *grown = realloc(a->out, MIN(want, (size_t) ATTACH_OUTPUT_MAX));
                if (!grown) {
                        a->dropped += n;
                        return;
                }
                a->out = grown;
                a->out_alloc = MIN(want, (size_t) ATTACH_OUTPUT_MAX);
        }
        memcpy(a->out + a->out_off + a->out_len, p1, n1);
        if (n2 > 0)
                memcpy(a->out + a->out_off + a->out_len + n1, p2, n2);
        a->out_len += n;
}

static void attacher_flush(Attacher *a) {
        while (a->out_len > 0) {
                ssize_t k = write(a->fd, a->out + a->out_off, a->out_len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                a->dead = true;   /* the caller went away */
                        return;
                }
                a->out_off += (size_t) k;
                a->out_len -= (size_t) k;
        }
        a->out_off = 0;
}

/* One record of the container's output, framed unless tty. */
static void attacher_emit(AttachServer *s, Attacher *a, bool is_stderr, const char *buf, size_t n) {
        if (n == 0 || a->dead || !(is_stderr ? a->want_stderr : a->want_stdout))
                return;
        if (is_tty(s))
                attacher_queue(a, buf, n, NULL, 0);
        else {
                uint8_t header[8] = { is_stderr ? 2 : 1, 0, 0, 0 };
                uint32_t len = htobe32((uint32_t) n);
                memcpy(header + 4, &len, 4);
                attacher_queue(a, header, sizeof(header), buf, n);
        }
}

void attach_server_output(AttachServer *s, bool is_stderr, const char *buf, size_t n) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_attachers; i++) {
                Attacher *a = s->attachers[i];
                bool was_idle = a->out_len == 0;

                attacher_emit(s, a, is_stderr, buf, n);
                if (was_idle)
                        attacher_flush(a);
        }
}

void attach_server_set_pending(AttachServer *s, bool is_stderr, const char *buf, const size_t *len) {
        s->pending_buf[is_stderr] = buf;
        s->pending_len[is_stderr] = len;
}

void attach_server_set_exited(AttachServer *s) {
        if (s)
                s->exited = true;
}

/* The tail of ctr.log (at most ATTACH_REPLAY_MAX bytes, whole lines) since
 * this run of the container began (a restarted container's log holds the
 * runs before: `start -a` shows this one, as Docker, which attaches before
 * it starts), then what is read but not logged yet: exactly what came
 * before this attacher, since the shim is single-threaded. */
static void attacher_replay(AttachServer *s, Attacher *a) {
        _cleanup_close_ int fd = openat(s->log_dir, s->log_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_free_ char *buf = NULL;
        struct stat st;

        if (fd >= 0 && fstat(fd, &st) >= 0 && st.st_size > 0) {
                /* a file created since (rotation) holds this run only */
                off_t run_start = st.st_ino == s->run_log_ino && st.st_dev == s->run_log_dev ? s->run_log_start : 0;
                off_t start = MAX(run_start, st.st_size > ATTACH_REPLAY_MAX ? st.st_size - ATTACH_REPLAY_MAX : 0);
                size_t size = (size_t) MAX(st.st_size - start, 0);
                ssize_t n;

                buf = malloc(size);
                n = buf ? pread(fd, buf, size, start) : -1;
                for (char *p = buf, *end = buf + MAX(n, 0); p < end;) {
                        char *nl = memchr(p, '\n', (size_t) (end - p));
                        CriLogEntry e;

                        if (!nl)
                                break;   /* a line being written */
                        /* the first line of a cut is only the end of one */
                        if (!(start > run_start && p == buf) && crilog_parse_line(p, (size_t) (nl - p), &e) >= 0) {
                                attacher_emit(s, a, e.is_stderr, e.text, e.text_len);
                                if (!e.partial)
                                        attacher_emit(s, a, e.is_stderr, "\n", 1);
                        }
                        p = nl + 1;
                }
        }
        for (int i = 0; i < 2; i++)
                if (s->pending_buf[i] && *s->pending_len[i] > 0)
                        attacher_emit(s, a, i == 1, s->pending_buf[i], *s->pending_len[i]);
}

static int open_relay_pty(int *ret_master, int *ret_slave) {
        _cleanup_close_ int master = -1, slave = -1;
        struct termios t;
        char name[64];

        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return -errno;
        if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
                return -errno;
        slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
        if (slave < 0)
                return -errno;
        /* bytes pass unchanged: the caller's terminal and the container's
         * PTY do the line discipline */
        if (tcgetattr(slave, &t) < 0)
                return -errno;
        cfmakeraw(&t);
        if (tcsetattr(slave, TCSANOW, &t) < 0)
                return -errno;
        *ret_master = TAKE_FD(master);
        *ret_slave = TAKE_FD(slave);
        return 0;
}

/* "ATTACH <stdin> <stdout> <stderr> <logs>" → "OK" with the caller's fd. */
static void handle_attach(AttachServer *s, int conn, const char *args) {
        _cleanup_close_ int theirs = -1;
        int in, out, err, logs, r;
        Attacher *a;

        if (sscanf(args, "%d %d %d %d", &in, &out, &err, &logs) != 4) {
                (void) fdpass_send(conn, -1, "ERR InvalidArgs malformed attach request");
                return;
        }
        if (s->exited) {
                (void) fdpass_send(conn, -1, "ERR InvalidState the container has exited");
                return;
        }
        if (s->n_attachers >= ATTACHERS_MAX) {
                char msg[128];
                snprintf(msg, sizeof(msg), "ERR Busy the container has %d attachers already", ATTACHERS_MAX);
                (void) fdpass_send(conn, -1, msg);
                return;
        }
        a = calloc(1, sizeof(*a));
        if (!a) {
                (void) fdpass_send(conn, -1, "ERR Internal out of memory");
                return;
        }
        *a = (Attacher) { .fd = -1, .want_stdin = in, .want_stdout = out, .want_stderr = err };
        if (is_tty(s))
                r = open_relay_pty(&theirs, &a->fd);
        else {
                int pair[2];
                r = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0 ? -errno : 0;
                if (r >= 0) {
                        a->fd = pair[0];
                        theirs = pair[1];
                        if (fcntl(a->fd, F_SETFL, O_NONBLOCK) < 0)
                                r = -errno;
                }
        }
        if (r < 0) {
                char msg[256];
                snprintf(msg, sizeof(msg), "ERR Internal creating the attacher's %s: %s", is_tty(s) ? "PTY" : "socket",
                         strerror(-r));
                (void) fdpass_send(conn, -1, msg);
                attacher_free(a);
                return;
        }
        if (logs)
                attacher_replay(s, a);
        r = fdpass_send(conn, theirs, "OK");
        if (r < 0) {
                log_warning_errno(r, "Failed to hand an attacher its fd: %m");
                attacher_free(a);
                return;
        }
        s->attachers[s->n_attachers++] = a;
        attacher_flush(a);
        log_debug("Attacher %zu: stdin=%d stdout=%d stderr=%d logs=%d", s->n_attachers, in, out, err, logs);
}

/* "RESIZE <rows> <cols>": the container's own PTY, which sends SIGWINCH to
 * its foreground process group. */
static void handle_resize(AttachServer *s, int conn, const char *args) {
        unsigned rows, cols;
        struct winsize ws = {};
        char msg[256];

        if (sscanf(args, "%u %u", &rows, &cols) != 2 || rows == 0 || cols == 0 || rows > UINT16_MAX ||
            cols > UINT16_MAX) {
                (void) fdpass_send(conn, -1, "ERR InvalidArgs malformed resize request");
                return;
        }
        if (!is_tty(s)) {
                (void) fdpass_send(conn, -1, "ERR InvalidState the container has no tty");
                return;
        }
        ws.ws_row = (unsigned short) rows;
        ws.ws_col = (unsigned short) cols;
        if (ioctl(s->master, TIOCSWINSZ, &ws) < 0) {
                snprintf(msg, sizeof(msg), "ERR Internal resizing the tty: %s", strerror(errno));
                (void) fdpass_send(conn, -1, msg);
                return;
        }
        (void) fdpass_send(conn, -1, "OK");
}

/* One request per connection; only root reaches the socket (zlayer-exec). */
static void handle_connection(AttachServer *s) {
        _cleanup_close_ int conn = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        struct timeval tv = { .tv_sec = REQUEST_TIMEOUT_USEC / USEC_PER_SEC };
        char req[256];
        int stray;
        ssize_t n;

        if (conn < 0)
                return;
        (void) setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void) setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        n = fdpass_recv(conn, req, sizeof(req), &stray);
        if (stray >= 0)
                close(stray);
        if (n <= 0)
                return;
        if (strneq(req, "ATTACH ", 7))
                handle_attach(s, conn, req + 7);
        else if (strneq(req, "RESIZE ", 7))
                handle_resize(s, conn, req + 7);
        else
                (void) fdpass_send(conn, -1, "ERR InvalidArgs unknown request");
}

/* Moves input of @a towards the container, as much as it takes now. */
static void attacher_push_input(AttachServer *s, Attacher *a) {
        int target = input_target(s);

        while (a->in_len > 0) {
                if (target < 0) {
                        a->in_len = 0;   /* nobody reads it */
                        break;
                }
                ssize_t k = write(target, a->in + a->in_off, a->in_len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN) {
                                log_debug_errno(-errno, "The container's stdin is closed: %m");
                                s->target_broken = true;
                                a->in_len = 0;
                        }
                        return;
                }
                a->in_off += (size_t) k;
                a->in_len -= (size_t) k;
        }
        a->in_off = 0;
}

/* The EOF of an attacher's input, passed on: the container reads EOF on
 * its stdin, and input from anyone is dropped from now on. */
static void close_container_stdin(AttachServer *s) {
        if (s->stdin_fd < 0)
                return;
        log_debug("An attacher ended its input: closing the container's stdin");
        close(s->stdin_fd);
        s->stdin_fd = -1;
        s->target_broken = true;
}

static void attacher_read_input(AttachServer *s, Attacher *a, short revents) {
        ssize_t n = read(a->fd, a->in, sizeof(a->in));

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n < 0 || (n == 0 && is_tty(s))) {
                a->dead = true;   /* EIO: the caller closed its PTY master */
                return;
        }
        if (n == 0) {
                a->input_eof = true;
                /* A half-close (shutdown(SHUT_WR): the caller still reads, so
                 * no POLLHUP) is the end of this attacher's input, Docker's
                 * stdin_once for `run -i`: the container gets EOF. An attacher
                 * that closes its fd (POLLHUP) only leaves: stdin stays open
                 * for the next one. */
                if (a->want_stdin && !is_tty(s) && !(revents & POLLHUP))
                        close_container_stdin(s);
                return;
        }
        if (!a->want_stdin)
                return;
        a->in_off = 0;
        a->in_len = (size_t) n;
        attacher_push_input(s, a);
}

size_t attach_server_pollfds(AttachServer *s, struct pollfd *p) {
        size_t n = 0;
        bool input_waits = false;

        if (!s)
                return 0;
        p[n++] = (struct pollfd) { .fd = s->exited ? -1 : s->listen_fd, .events = POLLIN };
        s->n_polled = 0;
        for (size_t i = 0; i < s->n_attachers; i++) {
                Attacher *a = s->attachers[i];
                short ev = 0;

                if (a->in_len > 0)
                        input_waits = true;
                else if (!a->input_eof)
                        ev |= POLLIN;
                if (a->out_len > 0)
                        ev |= POLLOUT;
                s->polled[s->n_polled++] = a;
                p[n++] = (struct pollfd) { .fd = a->fd, .events = ev };
        }
        p[n++] = (struct pollfd) { .fd = input_waits ? input_target(s) : -1, .events = POLLOUT };
        return n;
}

void attach_server_dispatch(AttachServer *s, const struct pollfd *p, size_t n) {
        size_t k = 0;

        if (!s || n != s->n_polled + 2)
                return;
        for (size_t i = 0; i < s->n_polled; i++) {
                Attacher *a = s->polled[i];
                short re = p[1 + i].revents;

                if (re & POLLOUT)
                        attacher_flush(a);
                if (re & POLLIN)
                        attacher_read_input(s, a, re);
                else if (re & (POLLHUP | POLLERR))
                        a->dead = true;
        }
        if (p[n - 1].revents)
                for (size_t i = 0; i < s->n_polled; i++)
                        attacher_push_input(s, s->polled[i]);
        for (size_t i = 0; i < s->n_attachers; i++) {
                if (s->attachers[i]->dead) {
                        attacher_free(s->attachers[i]);
                        log_debug("An attacher left");
                } else
                        s->attachers[k++] = s->attachers[i];
        }
        s->n_attachers = k;
        if (p[0].revents & POLLIN)
                handle_connection(s);
}

int attach_server_new(int rundir, int log_dir, const char *log_name, int master, int stdin_fd, bool stdin_open,
                      AttachServer **ret) {
        _cleanup_close_ int fd = -1, m = master, in = stdin_fd;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        AttachServer *s;
        struct stat st = {};

        /* where this run's output begins: before the container printed anything */
        int log = openat(log_dir, log_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (log >= 0) {
                if (fstat(log, &st) < 0)
                        st = (struct stat) {};
                close(log);
        }

        /* a path through our dir fd: the run dir may be deeper than sun_path allows */
        snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/" ATTACH_SOCKET, rundir);
        (void) unlinkat(rundir, ATTACH_SOCKET, 0);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, ATTACHERS_MAX) < 0)
                return -errno;
        if ((m >= 0 && fcntl(m, F_SETFL, O_NONBLOCK) < 0) || (in >= 0 && fcntl(in, F_SETFL, O_NONBLOCK) < 0))
                return -errno;
        /* a write to a stdin the container closed must not kill the shim */
        signal(SIGPIPE, SIG_IGN);
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        *s = (AttachServer) { .listen_fd = TAKE_FD(fd), .rundir = rundir, .master = TAKE_FD(m), .stdin_fd = TAKE_FD(in), .stdin_open = stdin_open,
                              .log_dir = log_dir, .log_name = log_name,
                              .run_log_dev = st.st_dev, .run_log_ino = st.st_ino, .run_log_start = st.st_size };
        *ret = s;
        return 0;
}

AttachServer *attach_server_free(AttachServer *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_attachers; i++) {
                attacher_flush(s->attachers[i]);
                attacher_free(s->attachers[i]);
        }
        if (s->listen_fd >= 0) {
                (void) unlinkat(s->rundir, ATTACH_SOCKET, 0);
                close(s->listen_fd);
        }
        if (s->master >= 0)
                close(s->master);
        if (s->stdin_fd >= 0)
                close(s->stdin_fd);
        free(s);
        return NULL;
}
