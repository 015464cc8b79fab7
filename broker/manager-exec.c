/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager.Exec, ExecStream and ExecPty: zlayer-exec starts the process
 * (Exec1.ExecStart) and hands us its fd, which we pass on to the caller. */
#include <endian.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>

#include "container.h"
#include "errors.h"
#include "exec-session.h"
#include "log.h"
#include "worker-op.h"

typedef enum ExecKind {
        EXEC_BUFFERED,
        EXEC_STREAM,
        EXEC_PTY,
} ExecKind;

typedef struct ExecCall {
        Broker *broker;
        ExecKind kind;
        sd_bus_message *call;
        char *container;
        char **command;
        bool tty;

        /* EXEC_BUFFERED: the frames we read ourselves */
        ExecSession *session;
        int fd;
        sd_event_source *io;
        bool eof;
        uint8_t header[8];
        size_t header_len;
        uint32_t frame_left;
        int frame_stream;
        char *out[2];
        size_t out_len[2];
        bool truncated[2];
} ExecCall;

static ExecCall *exec_call_free(ExecCall *ec) {
        if (!ec)
                return NULL;
        sd_event_source_disable_unref(ec->io);
        if (ec->fd >= 0)
                close(ec->fd);
        sd_bus_message_unref(ec->call);
        strv_free(ec->command);
        free(ec->container);
        free(ec->out[0]);
        free(ec->out[1]);
        free(ec);
        return NULL;
}

/* ExecExited and the loss of the link, subscribed once per zlayer-exec link. */
static sd_bus *matched_link;
static sd_bus_slot *exited_slot, *disconnect_slot;

static int on_exec_exited(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Broker *b = userdata;
        uint32_t id;
        int32_t code;
        ExecSession *s;

        if (sd_bus_message_read(m, "ui", &id, &code) < 0) {
                log_warning("Malformed ExecExited signal from zlayer-exec");
                return 0;
        }
        s = exec_session_find_worker(b, sd_bus_message_get_bus(m), id);
        if (s)
                exec_session_exited(s, code);
        return 0;
}

static int on_link_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        exec_sessions_link_lost(userdata, sd_bus_message_get_bus(m));
        return 0;
}

static int watch_link(Broker *b, sd_bus *link) {
        int r;

        if (link == matched_link)
                return 0;
        exited_slot = sd_bus_slot_unref(exited_slot);
        disconnect_slot = sd_bus_slot_unref(disconnect_slot);
        if (matched_link)
                exec_sessions_link_lost(b, matched_link);
        matched_link = sd_bus_unref(matched_link);
        r = sd_bus_match_signal(link, &exited_slot, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "ExecExited", on_exec_exited, b);
        if (r >= 0)
                r = sd_bus_match_signal(link, &disconnect_slot, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
                                        "org.freedesktop.DBus.Local", "Disconnected", on_link_disconnected, b);
        if (r < 0) {
                exited_slot = sd_bus_slot_unref(exited_slot);
                return r;
        }
        matched_link = sd_bus_ref(link);
        return 0;
}

static void buffered_finish(ExecCall *ec) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        for (int i = 0; i < 2; i++)
                if (ec->truncated[i])
                        log_info("Exec in %s: %s cut at %u bytes", ec->container, i == 0 ? "stdout" : "stderr",
                                 EXEC_OUTPUT_MAX);
        r = sd_bus_message_new_method_return(ec->call, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "i", ec->session->exit_code);
        for (int i = 0; r >= 0 && i < 2; i++)
                r = sd_bus_message_append_array(reply, 'y', ec->out[i] ?: "", ec->out_len[i]);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0) {
                log_warning_errno(r, "Failed to reply to Exec: %m");
                (void) reply_error_errnof(ec->call, ZL_ERROR_INTERNAL, "Replying to Exec in %s: %s", ec->container,
                                          strerror(-r));
        }
        ec->session->on_exited = NULL;
        exec_session_free(ec->session);
        exec_call_free(ec);
}

static void on_buffered_exited(ExecSession *s) {
        ExecCall *ec = s->userdata;
        if (ec->eof)
                buffered_finish(ec);
}

static void buffered_append(ExecCall *ec, const uint8_t *p, size_t n) {
        int i = ec->frame_stream == 2 ? 1 : 0;
        size_t room = EXEC_OUTPUT_MAX - ec->out_len[i];

        if (n > room) {
                ec->truncated[i] = true;
                n = room;
        }
        if (n == 0)
                return;
        char *grown = realloc(ec->out[i], ec->out_len[i] + n);
        if (!grown) {
                ec->truncated[i] = true;
                return;
        }
        memcpy(grown + ec->out_len[i], p, n);
        ec->out[i] = grown;
        ec->out_len[i] += n;
}

/* Demultiplexes what the exec'd process wrote (8-byte headers, dbus-api.md). */
static int on_buffered_output(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        ExecCall *ec = userdata;
        uint8_t buf[65536];
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n <= 0) {
                ec->eof = true;
                ec->io = sd_event_source_disable_unref(ec->io);
                if (!ec->session->running)
                        buffered_finish(ec);
                return 0;
        }
        for (size_t off = 0; off < (size_t) n;) {
                if (ec->frame_left == 0) {
                        size_t take = MIN(8 - ec->header_len, (size_t) n - off);
                        memcpy(ec->header + ec->header_len, buf + off, take);
                        ec->header_len += take;
                        off += take;
                        if (ec->header_len < 8)
                                break;
                        uint32_t len;
                        memcpy(&len, ec->header + 4, 4);
                        ec->frame_stream = ec->header[0];
                        ec->frame_left = be32toh(len);
                        ec->header_len = 0;
                        continue;
                }
                size_t take = MIN((size_t) ec->frame_left, (size_t) n - off);
                buffered_append(ec, buf + off, take);
                ec->frame_left -= (uint32_t) take;
                off += take;
        }
        return 0;
}

static int on_exec_start_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ExecCall *ec = userdata;
        Broker *b = ec->broker;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        ExecSession *s = NULL;
        uint32_t worker_id, pid;
        int fd, r;

        if (e) {
                (void) reply_forward_error(ec->call, e);
                exec_call_free(ec);
                return 0;
        }
        r = sd_bus_message_read(m, "huu", &fd, &worker_id, &pid);
        if (r >= 0)
                r = exec_session_new(b, ec->container, ec->command, sd_bus_message_get_sender(ec->call), &s);
        if (r < 0) {
                (void) reply_error_errnof(ec->call, ZL_ERROR_INTERNAL, "Exec in %s: %s", ec->container, strerror(-r));
                /* the fd we drop is the process's only channel: it ends */
                exec_call_free(ec);
                return 0;
        }
        s->worker_id = worker_id;
        s->link = sd_bus_ref(sd_bus_message_get_bus(m));
        log_debug("Exec %u in %s: worker exec %u, pid %u", s->n, ec->container, worker_id, pid);
        (void) exec_session_watch_owner(s);

        if (ec->kind == EXEC_BUFFERED) {
                ec->session = s;
                s->on_exited = on_buffered_exited;
                s->userdata = ec;
                ec->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (ec->fd < 0 || fcntl(ec->fd, F_SETFL, O_NONBLOCK) < 0 ||
                    (r = sd_event_add_io(b->event, &ec->io, ec->fd, EPOLLIN, on_buffered_output, ec)) < 0) {
                        (void) reply_error_errnof(ec->call, ZL_ERROR_INTERNAL, "Exec in %s: reading its output failed",
                                                  ec->container);
                        (void) exec_session_kill(s, SIGKILL);
                        s->on_exited = NULL;
                        exec_session_free(s);
                        exec_call_free(ec);
                }
                return 0;
        }

        if (ec->kind == EXEC_PTY && ec->tty)
                s->pty_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        r = exec_session_export(s);
        if (r >= 0)
                r = sd_bus_reply_method_return(ec->call, "ho", fd, s->path);
        if (r < 0) {
                log_warning_errno(r, "Failed to hand exec %u to the caller: %m", s->n);
                (void) exec_session_kill(s, SIGKILL);
                exec_session_free(s);
        }
        exec_call_free(ec);
        return 0;
}

static int append_worker_options(ExecCall *ec, sd_bus_message *req) {
        int r;

        if (ec->kind == EXEC_PTY)
                return message_copy_after_id(req, ec->call);
        r = sd_bus_message_open_container(req, 'a', "{sv}");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(req, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(req, "s", "command");
        if (r >= 0)
                r = sd_bus_message_open_container(req, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(req, ec->command);
        if (r >= 0)
                r = sd_bus_message_close_container(req);
        if (r >= 0)
                r = sd_bus_message_close_container(req);
        if (r >= 0)
                r = sd_bus_message_append(req, "{sv}{sv}{sv}", "attach_stdin", "b", 0, "attach_stdout", "b", 1,
                                          "attach_stderr", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(req);
        return r;
}

static void exec_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *req = NULL;
        ExecCall *ec = userdata;
        int r;

        if (!link) {
                (void) reply_error_errnof(ec->call, ZL_ERROR_INTERNAL, "worker exec is not available");
                exec_call_free(ec);
                return;
        }
        r = watch_link(b, link);
        if (r >= 0)
                r = sd_bus_message_new_method_call(link, &req, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "ExecStart");
        if (r >= 0)
                r = sd_bus_message_append(req, "s", ec->container);
        if (r >= 0)
                r = append_worker_options(ec, req);
        if (r >= 0)
                r = sd_bus_call_async(link, NULL, req, on_exec_start_reply, ec, 0);
        if (r < 0) {
                (void) reply_error_errnof(ec->call, ZL_ERROR_INTERNAL, "Calling ExecStart for %s: %s", ec->container,
                                          strerror(-r));
                exec_call_free(ec);
        }
}

/* The command and tty of ExecPty's options; the rest is zlayer-exec's to check. */
static int peek_pty_options(sd_bus_message *m, char ***ret_command, bool *ret_tty) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;
                if ((r = sd_bus_message_read(m, "s", &key)) < 0)
                        return r;
                if (streq(key, "command") && sd_bus_message_verify_type(m, 'v', "as") > 0) {
                        char **l = NULL;
                        if ((r = sd_bus_message_enter_container(m, 'v', "as")) < 0 ||
                            (r = sd_bus_message_read_strv(m, &l)) < 0)
                                return r;
                        strv_free(*ret_command);
                        *ret_command = l;
                        r = sd_bus_message_exit_container(m);
                } else if (streq(key, "tty") && sd_bus_message_verify_type(m, 'v', "b") > 0) {
                        int b;
                        r = sd_bus_message_read(m, "v", "b", &b);
                        *ret_tty = b;
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int exec_begin(sd_bus_message *m, Broker *b, ExecKind kind, sd_bus_error *error) {
        _cleanup_strv_free_ char **command = NULL;
        const char *id;
        bool tty = false;
        Container *c;
        ExecCall *ec;
        int r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        if (kind == EXEC_PTY)
                r = peek_pty_options(m, &command, &tty);
        else
                r = sd_bus_message_read_strv(m, &command);
        if (r < 0)
                return r;
        if (strv_length(command) == 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Exec in %s needs a non-empty command", id);

        r = container_method_check(b, m, id, CONTAINER_NEED_RUNNING, &c, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */
        if (exec_sessions_running(b) >= EXEC_SESSIONS_RUNNING_MAX)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "Too many execs running (%d)", EXEC_SESSIONS_RUNNING_MAX);
        if (exec_sessions_count(b) >= EXEC_SESSIONS_MAX)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "Too many exec objects (%d), retry in %d s",
                                         EXEC_SESSIONS_MAX, (int) (EXEC_SESSION_LINGER_USEC / USEC_PER_SEC));

        ec = calloc(1, sizeof(*ec));
        if (!ec)
                return -ENOMEM;
        *ec = (ExecCall) { .broker = b, .kind = kind, .fd = -1, .tty = tty, .command = TAKE_PTR(command),
                           .call = sd_bus_message_ref(m), .container = strdup(c->id) };
        if (!ec->container) {
                exec_call_free(ec);
                return -ENOMEM;
        }
        r = worker_acquire(b, WORKER_EXEC, exec_with_link, ec);
        if (r < 0) {
                exec_call_free(ec);
                return r;
        }
        return 1;
}

int method_exec(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return exec_begin(m, userdata, EXEC_BUFFERED, error);
}

int method_exec_stream(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return exec_begin(m, userdata, EXEC_STREAM, error);
}

int method_exec_pty(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return exec_begin(m, userdata, EXEC_PTY, error);
}
