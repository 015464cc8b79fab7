/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* com.zlayer.Runtime1.Exec at /com/zlayer/Runtime1/exec/<n> (dbus-api.md). */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "container.h"
#include "errors.h"
#include "exec-session.h"
#include "log.h"
#include "signals.h"
#include "worker-links.h"

/* One broker per process: the table of its exec sessions. */
static ExecSession *sessions;
static unsigned n_sessions, last_n;

int exec_session_new(Broker *b, const char *container, char **command, const char *owner, ExecSession **ret) {
        ExecSession *s = calloc(1, sizeof(*s));
        size_t n = strv_length(command);

        if (!s)
                return -ENOMEM;
        s->broker = b;
        s->pty_fd = -1;
        s->exit_code = -1;
        s->running = true;
        s->container = strdup(container);
        s->owner = owner ? strdup(owner) : NULL;
        s->command = calloc(n + 1, sizeof(char *));
        if (!s->container || (owner && !s->owner) || !s->command) {
                exec_session_free(s);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                if (!(s->command[i] = strdup(command[i]))) {
                        exec_session_free(s);
                        return -ENOMEM;
                }
        s->n = ++last_n;
        s->next = sessions;
        sessions = s;
        n_sessions++;
        *ret = s;
        return 0;
}

void exec_session_free(ExecSession *s) {
        if (!s)
                return;
        for (ExecSession **p = &sessions; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        n_sessions--;
                        break;
                }
        if (s->path && s->broker->bus)
                (void) sd_bus_emit_object_removed(s->broker->bus, s->path);
        for (unsigned i = 0; i < s->n_waiters; i++) {
                (void) sd_bus_reply_method_return(s->waiters[i], "i", s->exit_code);
                sd_bus_message_unref(s->waiters[i]);
        }
        sd_bus_slot_unref(s->object_slot);
        sd_bus_slot_unref(s->owner_slot);
        sd_bus_slot_unref(s->owner_check_slot);
        sd_event_source_disable_unref(s->expire);
        sd_bus_unref(s->link);
        if (s->pty_fd >= 0)
                close(s->pty_fd);
        strv_free(s->command);
        free(s->container);
        free(s->owner);
        free(s->path);
        free(s);
}

ExecSession *exec_session_find_worker(Broker *b, sd_bus *link, uint32_t worker_id) {
        for (ExecSession *s = sessions; s; s = s->next)
                if (s->link == link && s->worker_id == worker_id && s->running)
                        return s;
        return NULL;
}

unsigned exec_sessions_running(Broker *b) {
        unsigned n = 0;
        for (ExecSession *s = sessions; s; s = s->next)
                n += s->running;
        return n;
}

unsigned exec_sessions_count(Broker *b) {
        return n_sessions;
}

void exec_sessions_free_all(Broker *b) {
        while (sessions)
                exec_session_free(sessions);
}

/* An exited Exec object goes EXEC_SESSION_LINGER_USEC after the exit, or
 * as soon as its container has been removed (checked every few seconds). */
static int on_expire(sd_event_source *src, uint64_t usec, void *userdata) {
        ExecSession *s = userdata;
        uint64_t t;

        if (!container_find_by_id(s->broker, s->container) ||
            sd_event_now(s->broker->event, CLOCK_MONOTONIC, &t) < 0 || t >= s->exited_at + EXEC_SESSION_LINGER_USEC) {
                exec_session_free(s);
                return 0;
        }
        (void) sd_event_source_set_time_relative(src, EXEC_SESSION_RECHECK_USEC);
        (void) sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
        return 0;
}

void exec_session_exited(ExecSession *s, int32_t code) {
        Broker *b = s->broker;
        int r;

        if (!s->running)
                return;
        s->running = false;
        s->exit_code = code;
        log_debug("Exec %u in %s exited with %d", s->n, s->container, (int) code);
        if (s->pty_fd >= 0)
                s->pty_fd = (close(s->pty_fd), -1);
        s->owner_slot = sd_bus_slot_unref(s->owner_slot);
        s->owner_check_slot = sd_bus_slot_unref(s->owner_check_slot);
        if (s->path && b->bus) {
                (void) sd_bus_emit_properties_changed(b->bus, s->path, ZL_EXEC_OBJECT_IFACE, "Running", "ExitCode", NULL);
                r = sd_bus_emit_signal(b->bus, s->path, ZL_EXEC_OBJECT_IFACE, "Exited", "i", code);
                if (r < 0)
                        log_warning_errno(r, "Failed to emit Exited for %s: %m", s->path);
        }
        for (unsigned i = 0; i < s->n_waiters; i++) {
                (void) sd_bus_reply_method_return(s->waiters[i], "i", code);
                s->waiters[i] = sd_bus_message_unref(s->waiters[i]);
        }
        s->n_waiters = 0;
        if (s->on_exited) {
                s->on_exited(s); /* may free s */
                return;
        }
        if (sd_event_now(b->event, CLOCK_MONOTONIC, &s->exited_at) < 0)
                s->exited_at = 0;
        r = sd_event_add_time_relative(b->event, &s->expire, CLOCK_MONOTONIC, EXEC_SESSION_RECHECK_USEC, 0, on_expire, s);
        if (r < 0) {
                log_warning_errno(r, "Failed to arm the expiry of exec %u, dropping it now: %m", s->n);
                exec_session_free(s);
        }
}

void exec_sessions_link_lost(Broker *b, sd_bus *link) {
        ExecSession *s = sessions;
        while (s) {
                ExecSession *next = s->next;
                /* the monitor SIGKILLs its child when zlayer-exec is gone */
                if (s->link == link && s->running) {
                        log_warning("Lost exec %u in %s with zlayer-exec", s->n, s->container);
                        exec_session_exited(s, -1);
                }
                s = next;
        }
}

static int on_exec_kill_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        if (e)
                log_debug("ExecKill failed: %s: %s", e->name, strempty(e->message));
        return 0;
}

int exec_session_kill(ExecSession *s, int sig) {
        if (!s->running || !s->link)
                return -ESRCH;
        return sd_bus_call_method_async(s->link, NULL, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "ExecKill",
                                        on_exec_kill_reply, NULL, "ui", s->worker_id, (int32_t) sig);
}

/* The caller that started it, or root. */
static int check_access(sd_bus_message *m, ExecSession *s, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const char *sender = sd_bus_message_get_sender(m);
        uid_t uid;
        int r;

        if (sender && s->owner && streq(sender, s->owner))
                return 0;
        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        if (r >= 0 && uid == 0)
                return 0;
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Exec %u belongs to another caller", s->n);
}

static int method_resize(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ExecSession *s = userdata;
        uint16_t rows, cols;
        int r;

        r = sd_bus_message_read(m, "qq", &rows, &cols);
        if (r < 0)
                return r;
        if ((r = check_access(m, s, error)) < 0)
                return r;
        if (rows == 0 || cols == 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid window size %ux%u", rows, cols);
        if (!s->running)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "Exec %u has exited", s->n);
        if (s->pty_fd < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "Exec %u has no tty", s->n);
        struct winsize ws = { .ws_row = rows, .ws_col = cols };
        if (ioctl(s->pty_fd, TIOCSWINSZ, &ws) < 0)
                return sd_bus_error_set_errnof(error, errno, "Resizing the tty of exec %u: %m", s->n);
        return sd_bus_reply_method_return(m, NULL);
}

static int method_wait(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ExecSession *s = userdata;
        int r;

        if ((r = check_access(m, s, error)) < 0)
                return r;
        if (!s->running)
                return sd_bus_reply_method_return(m, "i", s->exit_code);
        if (s->n_waiters >= EXEC_WAITERS_MAX)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "Too many waiters on exec %u (%d)", s->n, EXEC_WAITERS_MAX);
        s->waiters[s->n_waiters++] = sd_bus_message_ref(m);
        return 1;
}

static int method_kill(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ExecSession *s = userdata;
        const char *name;
        int sig, r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if ((r = check_access(m, s, error)) < 0)
                return r;
        sig = isempty(name) ? SIGKILL : signal_from_string(name);
        if (sig < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "Unknown signal: %s", name);
        if (!s->running)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "Exec %u has exited", s->n);
        r = exec_session_kill(s, sig);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Signalling exec %u: %m", s->n);
        return sd_bus_reply_method_return(m, NULL);
}

static int property_get_command(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        ExecSession *s = userdata;
        return sd_bus_message_append_strv(reply, s->command);
}

static int property_get_container(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        ExecSession *s = userdata;
        return sd_bus_message_append(reply, "s", s->container);
}

static int property_get_running(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        ExecSession *s = userdata;
        return sd_bus_message_append(reply, "b", s->running);
}

#define UNPRIV SD_BUS_VTABLE_UNPRIVILEGED

static const sd_bus_vtable exec_object_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Container", "s", property_get_container, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Command", "as", property_get_command, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Running", "b", property_get_running, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ExitCode", "i", NULL, offsetof(ExecSession, exit_code), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Resize", SD_BUS_ARGS("q", rows, "q", cols), SD_BUS_NO_RESULT, method_resize, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("Wait", SD_BUS_NO_ARGS, SD_BUS_RESULT("i", exit_code), method_wait, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("Kill", SD_BUS_ARGS("s", signal), SD_BUS_NO_RESULT, method_kill, UNPRIV),
        SD_BUS_SIGNAL_WITH_ARGS("Exited", SD_BUS_ARGS("i", exit_code), 0),
        SD_BUS_VTABLE_END
};

/* A caller that leaves does not leave its processes behind. */
static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ExecSession *s = userdata;
        const char *name, *old, *new;

        if (sd_bus_message_read(m, "sss", &name, &old, &new) < 0 || !isempty(new))
                return 0;
        if (s->running) {
                log_info("Caller %s of exec %u in %s is gone, killing it", name, s->n, s->container);
                (void) exec_session_kill(s, SIGKILL);
        }
        return 0;
}

/* The caller may have left before the match was in place. */
static int on_owner_check(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ExecSession *s = userdata;

        s->owner_check_slot = sd_bus_slot_unref(s->owner_check_slot);
        if (sd_bus_message_is_method_error(m, NULL) && s->running) {
                log_info("Caller %s of exec %u in %s is gone, killing it", s->owner, s->n, s->container);
                (void) exec_session_kill(s, SIGKILL);
        }
        return 0;
}

int exec_session_export(ExecSession *s) {
        Broker *b = s->broker;
        int r;

        if (asprintf(&s->path, ZL_EXEC_OBJECT_PREFIX "/%u", s->n) < 0) {
                s->path = NULL;
                return -ENOMEM;
        }
        r = sd_bus_add_object_vtable(b->bus, &s->object_slot, s->path, ZL_EXEC_OBJECT_IFACE, exec_object_vtable, s);
        if (r < 0)
                return r;
        (void) sd_bus_emit_object_added(b->bus, s->path);
        return 0;
}

int exec_session_watch_owner(ExecSession *s) {
        _cleanup_free_ char *match = NULL;

        if (!s->owner || s->owner[0] != ':')
                return 0;
        if (asprintf(&match, "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                             "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='%s'", s->owner) < 0)
                return -ENOMEM;
        int r = sd_bus_add_match_async(s->broker->bus, &s->owner_slot, match, on_owner_changed, NULL, s);
        if (r < 0)
                return r;
        return sd_bus_call_method_async(s->broker->bus, &s->owner_check_slot, "org.freedesktop.DBus",
                                        "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner",
                                        on_owner_check, s, "s", s->owner);
}
