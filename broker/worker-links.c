/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/socket.h>

#include "container.h"
#include "errors.h"
#include "link.h"
#include "log.h"
#include "worker-links.h"

typedef struct WorkerWaiter WorkerWaiter;
struct WorkerWaiter {
        WorkerLinks *links;
        WorkerKind kind;
        worker_ready_t cb;
        void *userdata;
        sd_event_source *timer;
        WorkerWaiter *next;
};

struct WorkerLinks {
        Broker *broker;
        sd_bus *link[_WORKER_MAX];
        sd_bus_slot *disconnect_slot[_WORKER_MAX];
        sd_bus_slot *exited_slot;
        WorkerWaiter *waiters;
        bool shutting_down;
};

static const char *const worker_names[_WORKER_MAX] = {
        [WORKER_PULLER] = "puller",
        [WORKER_ARCHIVE] = "archive",
        [WORKER_EXEC] = "exec",
        [WORKER_STATS] = "stats",
};

const char *worker_kind_to_string(WorkerKind k) {
        return k < _WORKER_MAX ? worker_names[k] : NULL;
}

int worker_kind_from_string(const char *s) {
        for (WorkerKind k = 0; k < _WORKER_MAX; k++)
                if (streq(s, worker_names[k]))
                        return k;
        return -EINVAL;
}

int worker_links_new(Broker *b, WorkerLinks **ret) {
        WorkerLinks *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->broker = b;
        *ret = w;
        return 0;
}

static void worker_waiter_unlink(WorkerLinks *w, WorkerWaiter *x) {
        for (WorkerWaiter **p = &w->waiters; *p; p = &(*p)->next)
                if (*p == x) {
                        *p = x->next;
                        break;
                }
        sd_event_source_disable_unref(x->timer);
        free(x);
}

static void worker_drop(WorkerLinks *w, WorkerKind k) {
        sd_bus *link = w->link[k];

        /* Forget the link first: the reply callbacks run below may ask for
         * this worker again and must then wait for its successor. */
        w->link[k] = NULL;
        if (k == WORKER_EXEC)
                w->exited_slot = sd_bus_slot_unref(w->exited_slot);
        w->disconnect_slot[k] = sd_bus_slot_unref(w->disconnect_slot[k]);
        if (!link)
                return;
        /* Shut the socket down (the old worker sees EOF and exits) and let
         * sd-bus notice: it then fails every call still waiting for a reply,
         * so their callbacks run now, no caller is left hanging and nothing
         * they hold is lost. (Inside this link's own dispatch, i.e. when it
         * broke by itself, sd_bus_process() refuses: sd-bus is doing that
         * already.) */
        int fd = sd_bus_get_fd(link);
        if (fd >= 0)
                (void) shutdown(fd, SHUT_RDWR);
        while (sd_bus_process(link, NULL) > 0)
                ;
        sd_bus_close_unref(link);
}

bool worker_links_shutting_down(Broker *b) {
        return b->workers && b->workers->shutting_down;
}

WorkerLinks *worker_links_free(WorkerLinks *w) {
        if (!w)
                return NULL;
        w->shutting_down = true;
        for (WorkerKind k = 0; k < _WORKER_MAX; k++)
                worker_drop(w, k);
        while (w->waiters) {
                WorkerWaiter *x = w->waiters;
                worker_ready_t cb = x->cb;
                void *data = x->userdata;
                worker_waiter_unlink(w, x);
                cb(w->broker, NULL, -ESHUTDOWN, data);
        }
        free(w);
        return NULL;
}

sd_bus *worker_link(Broker *b, WorkerKind k) {
        return b->workers->link[k];
}

static int worker_waiter_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        WorkerWaiter *x = userdata;
        WorkerLinks *w = x->links;
        worker_ready_t cb = x->cb;
        void *data = x->userdata;

        log_warning("Worker %s did not become available in time.", worker_names[x->kind]);
        worker_waiter_unlink(w, x);
        cb(w->broker, NULL, -ETIMEDOUT, data);
        return 0;
}

int worker_acquire(Broker *b, WorkerKind k, worker_ready_t cb, void *userdata) {
        WorkerLinks *w = b->workers;
        WorkerWaiter *x;
        int r;

        if (w->shutting_down)
                return -ESHUTDOWN;
        if (w->link[k]) {
                cb(b, w->link[k], 0, userdata);
                return 0;
        }

        x = calloc(1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        *x = (WorkerWaiter) { .links = w, .kind = k, .cb = cb, .userdata = userdata };
        r = sd_event_add_time_relative(b->event, &x->timer, CLOCK_MONOTONIC, WORKER_WAIT_USEC, 0,
                                       worker_waiter_timeout, x);
        if (r < 0) {
                free(x);
                return r;
        }
        x->next = w->waiters;
        w->waiters = x;
        log_debug("Waiting for worker %s.", worker_names[k]);
        return 0;
}

static int on_worker_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        WorkerLinks *w = userdata;
        sd_bus *bus = sd_bus_message_get_bus(m);

        for (WorkerKind k = 0; k < _WORKER_MAX; k++)
                if (w->link[k] == bus) {
                        log_info("Link to worker %s closed.", worker_names[k]);
                        worker_drop(w, k);
                        break;
                }
        return 0;
}

static int on_container_exited(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        WorkerLinks *w = userdata;
        const char *id, *reason, *sig;
        int32_t exit_code;
        uint64_t finished_at;
        Container *c;
        int r;

        r = sd_bus_message_read(m, "sisst", &id, &exit_code, &reason, &sig, &finished_at);
        if (r < 0) {
                log_warning_errno(r, "Malformed ContainerExited signal from zlayer-exec: %m");
                return 0;
        }
        c = container_find_by_id(w->broker, id);
        if (!c) {
                log_debug("ContainerExited for unknown container %s, ignoring.", id);
                return 0;
        }
        container_apply_exit(c, exit_code, reason, sig, finished_at);
        return 0;
}

int worker_attach(Broker *b, WorkerKind k, int fd) {
        WorkerLinks *w = b->workers;
        sd_bus *link = NULL;
        int r;

        r = link_open_client(fd, b->event, &link);
        if (r < 0)
                return log_error_errno(r, "Failed to open link to worker %s: %m", worker_names[k]);

        worker_drop(w, k);
        w->link[k] = link;

        r = sd_bus_match_signal(link, &w->disconnect_slot[k], "org.freedesktop.DBus.Local",
                                "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
                                "Disconnected", on_worker_disconnected, w);
        if (r < 0)
                log_warning_errno(r, "Failed to watch link of worker %s: %m", worker_names[k]);

        if (k == WORKER_EXEC) {
                r = sd_bus_match_signal(link, &w->exited_slot, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE,
                                        "ContainerExited", on_container_exited, w);
                if (r < 0) {
                        worker_drop(w, k);
                        return log_error_errno(r, "Failed to subscribe to ContainerExited: %m");
                }
        }
        log_info("Worker %s attached.", worker_names[k]);

        /* Hand the link to everybody who waited for it. The callbacks may
         * queue new waiters, so restart from the head each time. */
        for (;;) {
                WorkerWaiter *x = NULL;
                for (WorkerWaiter *i = w->waiters; i; i = i->next)
                        if (i->kind == k)
                                x = i;
                if (!x)
                        break;
                worker_ready_t cb = x->cb;
                void *data = x->userdata;
                worker_waiter_unlink(w, x);
                cb(b, w->link[k], 0, data);
                if (!w->link[k])
                        break;
        }

        if (k == WORKER_EXEC)
                containers_adopt_all(b);
        return 0;
}

/* com.zlayer.Broker.Control1 */

static int method_attach_worker(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        const char *name;
        int fd, k, r;

        r = sd_bus_message_read(m, "sh", &name, &fd);
        if (r < 0)
                return r;
        k = worker_kind_from_string(name);
        if (k < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "unknown worker '%s'", name);

        fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        r = worker_attach(b, k, fd);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to attach worker %s: %m", name);
        return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable control_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("AttachWorker", SD_BUS_ARGS("s", name, "h", link), SD_BUS_NO_RESULT,
                                method_attach_worker, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL("Ready", NULL, 0),
        SD_BUS_VTABLE_END
};

static int on_control_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        log_info("Control link closed, zlayerd is gone; exiting.");
        return sd_event_exit(b->event, 0);
}

int control_link_open(Broker *b, int fd) {
        int r;

        r = link_open_server(fd, b->event, &b->control);
        if (r < 0)
                return log_error_errno(r, "Failed to serve the control link: %m");
        r = sd_bus_add_object_vtable(b->control, NULL, ZL_CONTROL_PATH, ZL_CONTROL_IFACE, control_vtable, b);
        if (r < 0)
                return log_error_errno(r, "Failed to add Control1: %m");
        r = sd_bus_match_signal(b->control, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
                                "org.freedesktop.DBus.Local", "Disconnected", on_control_disconnected, b);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the control link: %m");
        return 0;
}

int control_link_emit_ready(Broker *b) {
        if (!b->control)
                return 0;
        return sd_bus_emit_signal(b->control, ZL_CONTROL_PATH, ZL_CONTROL_IFACE, "Ready", NULL);
}
