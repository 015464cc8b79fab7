/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdarg.h>

#include "authz.h"
#include "container.h"
#include "health.h"
#include "errors.h"
#include "fileio.h"
#include "log.h"
#include "network.h"
#include "signals.h"
#include "worker-links.h"

#define DELETE_RETRIES 25
#define DELETE_RETRY_USEC (200 * USEC_PER_MSEC)

struct ContainerOp {
        Container *container;
        sd_bus_message *call;   /* may be NULL */
        int signal;
        unsigned retries;
        sd_event_source *retry_timer;
        struct ContainerOp *next;
};
typedef struct ContainerOp ContainerOp;

static void container_op_free(ContainerOp *op);

/* A StopContainer or RemoveContainer waiting for the exit is a call in flight. */
static bool waiter_counts(WaiterKind kind) {
        return kind == WAITER_STOP || kind == WAITER_REMOVE;
}

static void waiter_free(Container *c, ContainerWaiter *w) {
        if (waiter_counts(w->kind))
                container_ops_release(c->broker);
        sd_bus_message_unref(w->call);
        free(w);
}

Container *container_new(void) {
        Container *c = calloc(1, sizeof(*c));
        if (c) {
                c->n_ref = 1;
                c->restart_max = -1;
        }
        return c;
}

Container *container_ref(Container *c) {
        if (c)
                c->n_ref++;
        return c;
}

Container *container_unref(Container *c) {
        if (!c || --c->n_ref > 0)
                return NULL;
        while (c->waiters) {
                ContainerWaiter *w = c->waiters;
                c->waiters = w->next;
                waiter_free(c, w);
        }
        sd_event_source_disable_unref(c->stop_timer);
        sd_event_source_disable_unref(c->restart_timer);
        sd_event_source_disable_unref(c->cron_timer);
        container_health_free(c);
        free(c->restart_kind);
        free(c->id);
        free(c->name);
        free(c->service);
        free(c->image);
        free(c->image_digest);
        free(c->reason);
        free(c->signal);
        strv_free(c->labels);
        free(c->stop_signal);
        free(c);
        return NULL;
}

char *container_object_path(const char *id) {
        char *p = NULL;
        if (sd_bus_path_encode(ZL_CONTAINER_PREFIX, id, &p) < 0)
                return NULL;
        return p;
}

Container *container_find_by_id(Broker *b, const char *id) {
        for (Container *c = b->containers; c; c = c->next)
                if (streq(c->id, id))
                        return c;
        return NULL;
}

Container *container_find(Broker *b, const char *id_or_name) {
        Container *c = container_find_by_id(b, id_or_name);
        if (c)
                return c;
        for (c = b->containers; c; c = c->next)
                if (streq(c->name, id_or_name))
                        return c;
        return NULL;
}

int container_find_or_error(Broker *b, const char *id_or_name, Container **ret, sd_bus_error *error) {
        Container *c = container_find(b, id_or_name);
        if (!c)
                return sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND, "no such container '%s'", id_or_name);
        *ret = c;
        return 0;
}

/* The prologue of a method on one container: reads the id (the first
 * argument), finds the container, asks for authorization. 1: go on; 0:
 * polkit was asked, the handler returns 1 and is dispatched again when it
 * answers; < 0: @error is set. */
int container_find_authorized(Broker *b, sd_bus_message *m, Container **ret, sd_bus_error *error) {
        const char *id;
        int r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        r = container_find_or_error(b, id, ret, error);
        if (r < 0)
                return r;
        r = authz_verify(b, m, (*ret)->id, error);
        return r < 0 ? r : r > 0;
}

/* The bus object */

static int property_get_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        return sd_bus_message_append(reply, "s", container_state_to_string(c->state));
}

static int property_get_labels(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{ss}");
        if (r < 0)
                return r;
        for (char **l = c->labels; l && l[0] && l[1]; l += 2) {
                r = sd_bus_message_append(reply, "{ss}", l[0], l[1]);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_ip_address(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        return sd_bus_message_append(reply, "s", network_address(c->broker, c->id));
}

static int property_get_string_ptr(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        char **s = userdata;
        return sd_bus_message_append(reply, "s", strempty(*s));
}

static const sd_bus_vtable container_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", property_get_string_ptr, offsetof(Container, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", property_get_string_ptr, offsetof(Container, name), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Service", "s", property_get_string_ptr, offsetof(Container, service), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Replica", "u", NULL, offsetof(Container, replica), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Image", "s", property_get_string_ptr, offsetof(Container, image), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ImageDigest", "s", property_get_string_ptr, offsetof(Container, image_digest), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ExitCode", "i", NULL, offsetof(Container, exit_code), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Pid", "u", NULL, offsetof(Container, pid), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("IPAddress", "s", property_get_ip_address, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("CreatedAt", "t", NULL, offsetof(Container, created_at), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StartedAt", "t", NULL, offsetof(Container, started_at), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("FinishedAt", "t", NULL, offsetof(Container, finished_at), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("RestartCount", "u", NULL, offsetof(Container, restart_count), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Labels", "a{ss}", property_get_labels, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END
};

static int container_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                                 void **found, sd_bus_error *error) {
        Broker *b = userdata;
        _cleanup_free_ char *id = NULL;
        Container *c;
        int r;

        r = sd_bus_path_decode(path, ZL_CONTAINER_PREFIX, &id);
        if (r <= 0)
                return r;
        c = container_find_by_id(b, id);
        if (!c)
                return 0;
        *found = c;
        return 1;
}

static int container_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                                     sd_bus_error *error) {
        Broker *b = userdata;
        char **l = calloc(b->n_containers + 1, sizeof(char *));
        size_t n = 0;

        if (!l)
                return -ENOMEM;
        for (Container *c = b->containers; c; c = c->next) {
                if (n >= b->n_containers)
                        break;
                l[n] = container_object_path(c->id);
                if (!l[n]) {
                        strv_free(l);
                        return -ENOMEM;
                }
                n++;
        }
        *nodes = l;
        return 1;
}

int containers_register_fallback(Broker *b) {
        int r;

        r = sd_bus_add_fallback_vtable(b->bus, NULL, ZL_CONTAINER_PREFIX, ZL_CONTAINER_IFACE, container_vtable,
                                       container_object_find, b);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(b->bus, NULL, ZL_CONTAINER_PREFIX, container_node_enumerator, b);
}

void container_emit_changed(Container *c, const char *first, ...) {
        _cleanup_free_ char *path = NULL;
        char *names[16];
        size_t n = 0;
        va_list ap;

        if (!c->registered || !c->broker->bus)
                return;
        path = container_object_path(c->id);
        if (!path)
                return;
        va_start(ap, first);
        for (const char *s = first; s && n < ELEMENTSOF(names) - 1; s = va_arg(ap, const char *))
                names[n++] = (char *) s;
        va_end(ap);
        names[n] = NULL;
        (void) sd_bus_emit_properties_changed_strv(c->broker->bus, path, ZL_CONTAINER_IFACE, names);
}

int container_set_state(Container *c, ContainerState s) {
        Broker *b = c->broker;
        int r;

        if (s == CONTAINER_INITIALIZING && !c->restarting) {
                /* started by a user: the policy counts afresh */
                c->stopped_by_user = false;
                c->restart_backoff = 0;
                if (c->restart_count > 0) {
                        c->restart_count = 0;
                        container_emit_changed(c, "RestartCount", NULL);
                }
        }
        if (s == CONTAINER_RUNNING)
                container_health_ensure(c); /* also after a re-adoption */
        else
                container_health_stop(c);
        c->state = s;
        r = container_state_save(c, b->containers_fd);
        if (r < 0)
                log_error_errno(r, "Failed to save state of container %s: %m", c->id);
        if (!c->registered || !b->bus)
                return r;
        container_emit_changed(c, "State", "ExitCode", "Pid", "StartedAt", "FinishedAt", NULL);
        (void) sd_bus_emit_signal(b->bus, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, "ContainerStateChanged", "ssi",
                                  c->id, container_state_to_string(s), c->exit_code);
        return r;
}

int container_register(Broker *b, Container *c) {
        _cleanup_free_ char *path = container_object_path(c->id);

        if (!path)
                return -ENOMEM;
        c->broker = b;
        c->next = b->containers;
        b->containers = container_ref(c);
        b->n_containers++;
        c->registered = true;
        if (b->bus) {
                (void) sd_bus_emit_signal(b->bus, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, "ContainerNew", "so", c->id, path);
                (void) sd_bus_emit_object_added(b->bus, path);
        }
        (void) manager_emit_counts_changed(b);
        container_cron_arm(c); /* rtype cron: its first run */
        return 0;
}

static int reply_exit(sd_bus_message *call, Container *c) {
        return sd_bus_reply_method_return(call, "isst", c->exit_code, strempty(c->reason), strempty(c->signal),
                                          c->finished_at);
}

void container_unregister(Container *c) {
        Broker *b = c->broker;
        _cleanup_free_ char *path = container_object_path(c->id);

        if (!c->registered)
                return;
        for (Container **p = &b->containers; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        b->n_containers--;
        c->registered = false;
        network_detach(b, c->id);
        c->stop_timer = sd_event_source_disable_unref(c->stop_timer);
        c->restart_timer = sd_event_source_disable_unref(c->restart_timer);
        container_cron_disarm(c);

        while (c->waiters) {
                ContainerWaiter *w = c->waiters;
                c->waiters = w->next;
                c->n_waiters--;
                if (w->kind == WAITER_REMOVED || w->kind == WAITER_NOT_RUNNING || w->kind == WAITER_NEXT_EXIT)
                        (void) reply_exit(w->call, c);
                else if (w->kind == WAITER_STOP)
                        (void) sd_bus_reply_method_return(w->call, NULL);
                else
                        (void) sd_bus_reply_method_errorf(w->call, ZL_ERROR_NOT_FOUND, "container '%s' was removed", c->id);
                waiter_free(c, w);
        }

        if (path && b->bus) {
                (void) sd_bus_emit_signal(b->bus, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, "ContainerRemoved", "so", c->id, path);
                (void) sd_bus_emit_object_removed(b->bus, path);
        }
        (void) manager_emit_counts_changed(b);
        container_unref(c);
}

void containers_free_all(Broker *b) {
        /* The worker links are gone by now, so nothing will complete what
         * is still in progress (a Delete waiting to be retried, say); it
         * holds the container and its caller. */
        for (Container *c = b->containers; c; c = c->next)
                while (c->ops) {
                        ContainerOp *op = c->ops;
                        log_debug("Canceling a pending %s of %s at exit.", op->signal ? "Kill" : "Delete", c->id);
                        if (op->call)
                                (void) reply_error_errnof(op->call, ZL_ERROR_CANCELED, "the call on %s was canceled: %s",
                                                          c->id, "the broker is exiting");
                        container_op_free(op);
                }
        while (b->containers) {
                Container *c = b->containers;
                b->containers = c->next;
                c->registered = false;
                container_unref(c);
        }
        b->n_containers = 0;
}

int container_add_waiter(Container *c, WaiterKind kind, sd_bus_message *call) {
        ContainerWaiter *w;

        if (c->n_waiters >= CONTAINER_WAITERS_MAX)
                return -EBUSY;
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        c->n_waiters++;
        w->kind = kind;
        w->call = sd_bus_message_ref(call);
        if (waiter_counts(kind))
                container_ops_hold(c->broker);
        /* Append, so that waiters complete in the order they came. */
        ContainerWaiter **p = &c->waiters;
        while (*p)
                p = &(*p)->next;
        *p = w;
        return 0;
}

void container_apply_exit(Container *c, int32_t exit_code, const char *reason, const char *sig, uint64_t finished_at) {
        ContainerWaiter *done = NULL, **keep;
        char *r2 = strdup(strempty(reason)), *s2 = strdup(strempty(sig));

        if (!r2 || !s2) {
                free(r2);
                free(s2);
                log_oom();
                return;
        }
        free(c->reason);
        c->reason = r2;
        free(c->signal);
        c->signal = s2;
        c->exit_code = exit_code;
        c->finished_at = finished_at;
        c->pid = 0;
        c->paused = false;
        c->stop_timer = sd_event_source_disable_unref(c->stop_timer);
        log_info("Container %s exited: code %d, reason %s%s%s.", c->id, exit_code, c->reason,
                 isempty(sig) ? "" : ", signal ", strempty(sig));

        container_ref(c);
        (void) container_set_state(c, streq(c->reason, "runtime_error") ? CONTAINER_FAILED : CONTAINER_EXITED);

        /* Take the waiters an exit completes off the list first: completing a
         * remove may drop the container. */
        keep = &c->waiters;
        while (*keep) {
                ContainerWaiter *w = *keep;
                if (w->kind == WAITER_REMOVED) {
                        keep = &w->next;
                        continue;
                }
                *keep = w->next;
                c->n_waiters--;
                w->next = done;
                done = w;
        }
        /* Reverse to keep the order of arrival. */
        ContainerWaiter *ordered = NULL;
        while (done) {
                ContainerWaiter *w = done;
                done = w->next;
                w->next = ordered;
                ordered = w;
        }
        while (ordered) {
                ContainerWaiter *w = ordered;
                ordered = w->next;
                switch (w->kind) {
                case WAITER_STOP:
                        (void) sd_bus_reply_method_return(w->call, NULL);
                        break;
                case WAITER_REMOVE:
                        if (c->registered && !c->removing)
                                (void) container_remove(c, w->call);
                        else
                                (void) sd_bus_reply_method_return(w->call, NULL);
                        break;
                default:
                        (void) reply_exit(w->call, c);
                }
                waiter_free(c, w);
        }
        if (c->registered && !c->removing)
                container_restart_on_exit(c);
        container_unref(c);
}

/* Adopt */

static int on_adopt_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Container *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        const char *reason, *sig;
        int running, r;
        uint32_t pid;
        uint64_t started_at, finished_at;
        int32_t exit_code;

        if (!c->registered)
                goto out;
        if (e) {
                log_warning("Adopting container %s failed: %s: %s", c->id, e->name, strempty(e->message));
                if (sd_bus_error_has_name(e, ZL_ERROR_NOT_FOUND))
                        container_apply_exit(c, -1, "runtime_error", "", 0);
                goto out;
        }
        r = sd_bus_message_read(m, "butisst", &running, &pid, &started_at, &exit_code, &reason, &sig, &finished_at);
        if (r < 0) {
                log_warning_errno(r, "Malformed Adopt reply for %s: %m", c->id);
                goto out;
        }
        if (running) {
                c->pid = pid;
                if (started_at > 0)
                        c->started_at = started_at;
                log_info("Re-adopted running container %s (pid %u).", c->id, pid);
                /* A stop in progress died with the previous broker (its timer
                 * and callers with it): running again, StopContainer anew. */
                (void) container_set_state(c, c->state == CONTAINER_STOPPING && c->stop_timer ? CONTAINER_STOPPING
                                                                                               : CONTAINER_RUNNING);
        } else if (container_state_is_active(c->state))
                container_apply_exit(c, exit_code, reason, sig, finished_at);
out:
        container_unref(c);
        return 0;
}

static void adopt_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        Container *c = userdata;
        int r;

        if (link && c->registered) {
                r = sd_bus_call_method_async(link, NULL, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "Adopt",
                                             on_adopt_reply, c, "s", c->id);
                if (r >= 0)
                        return; /* the reply handler owns the reference */
                log_warning_errno(r, "Failed to call Adopt for %s: %m", c->id);
        } else if (!link)
                log_warning("Cannot adopt container %s: zlayer-exec is not available.", c->id);
        container_unref(c);
}

void containers_adopt_all(Broker *b) {
        containers_restart_pending(b);
        containers_cleanup_orphans(b);
        for (Container *c = b->containers; c; c = c->next) {
                if (c->state != CONTAINER_RUNNING && c->state != CONTAINER_STOPPING &&
                    c->state != CONTAINER_INITIALIZING)
                        continue;
                if (worker_acquire(b, WORKER_EXEC, adopt_with_link, container_ref(c)) < 0)
                        container_unref(c);
        }
}

/* Remove */


static ContainerOp *container_op_new(Container *c, sd_bus_message *call, int sig) {
        ContainerOp *op = calloc(1, sizeof(*op));
        if (!op)
                return NULL;
        op->container = container_ref(c);
        op->call = sd_bus_message_ref(call);
        if (call)
                container_ops_hold(c->broker);
        op->signal = sig;
        op->next = c->ops;
        c->ops = op;
        return op;
}

static void container_op_free(ContainerOp *op) {
        if (op->container->delete_retry == op)
                op->container->delete_retry = NULL;
        for (ContainerOp **p = &op->container->ops; *p; p = &(*p)->next)
                if (*p == op) {
                        *p = op->next;
                        break;
                }
        sd_event_source_disable_unref(op->retry_timer);
        if (op->call)
                container_ops_release(op->container->broker);
        container_unref(op->container);
        sd_bus_message_unref(op->call);
        free(op);
}

static void delete_with_link(Broker *b, sd_bus *link, int error, void *userdata);

static int on_delete_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        ContainerOp *op = userdata;

        op->retry_timer = sd_event_source_disable_unref(op->retry_timer);
        op->container->delete_retry = NULL;
        if (worker_acquire(op->container->broker, WORKER_EXEC, delete_with_link, op) < 0) {
                op->container->removing = false;
                if (op->call)
                        (void) reply_error_errnof(op->call, ZL_ERROR_INTERNAL, "failed to wait for worker %s", "exec");
                container_op_free(op);
        }
        return 0;
}

static int on_delete_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ContainerOp *op = userdata;
        Container *c = op->container;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        /* The exit is reported when the container's init is gone; the shim
         * may need a moment more before zlayer-exec lets the tree go. */
        if (e && sd_bus_error_has_name(e, ZL_ERROR_INVALID_STATE) && !container_state_is_active(c->state) &&
            op->retries < DELETE_RETRIES && c->registered &&
            sd_event_add_time_relative(c->broker->event, &op->retry_timer, CLOCK_MONOTONIC, DELETE_RETRY_USEC, 0,
                                       on_delete_retry, op) >= 0) {
                op->retries++;
                c->delete_retry = op;
                log_debug("zlayer-exec says %s is still running, retrying Delete.", c->id);
                return 0;
        }

        c->removing = false;
        if (e) {
                log_warning("Deleting container %s failed: %s: %s", c->id, e->name, strempty(e->message));
                if (op->call)
                        (void) reply_forward_error(op->call, e);
        } else {
                log_info("Removed container %s.", c->id);
                container_unregister(c);
                if (op->call)
                        (void) sd_bus_reply_method_return(op->call, NULL);
        }
        container_op_free(op);
        return 0;
}

static void delete_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        ContainerOp *op = userdata;
        Container *c = op->container;
        int r;

        if (!link) {
                c->removing = false;
                if (op->call)
                        (void) reply_error_errnof(op->call, ZL_ERROR_INTERNAL, "worker exec is not available");
                container_op_free(op);
                return;
        }
        r = sd_bus_call_method_async(link, NULL, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "Delete", on_delete_reply, op, "s", c->id);
        if (r < 0) {
                c->removing = false;
                if (op->call)
                        (void) reply_error_errnof(op->call, ZL_ERROR_INTERNAL, "Failed to call Delete for %s: %s",
                                                  c->id, strerror(-r));
                container_op_free(op);
        }
}

int container_remove(Container *c, sd_bus_message *call) {
        Broker *b = c->broker;
        ContainerOp *op;
        int r;

        if (c->state == CONTAINER_PENDING && c->started_at == 0) {
                /* Never started: zlayer-exec made nothing for it, all of
                 * the directory is ours. */
                r = rm_rf_at(b->containers_fd, c->id);
                if (r < 0) {
                        if (call)
                                return reply_error_errnof(call, ZL_ERROR_INTERNAL, "Failed to remove %s: %s", c->id, strerror(-r));
                        return r;
                }
                log_info("Removed container %s.", c->id);
                container_unregister(c);
                return call ? sd_bus_reply_method_return(call, NULL) : 0;
        }

        op = container_op_new(c, call, 0);
        if (!op)
                return -ENOMEM;
        c->removing = true;
        r = worker_acquire(b, WORKER_EXEC, delete_with_link, op);
        if (r < 0) {
                c->removing = false;
                container_op_free(op);
        }
        return r;
}

/* Kill */

static int on_kill_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ContainerOp *op = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e) {
                log_warning("Killing container %s with %s failed: %s: %s", op->container->id,
                            signal_to_name(op->signal), e->name, strempty(e->message));
                /* zlayer-exec tracks no such container: ask it what became
                 * of it rather than waiting for an exit that never comes. */
                if (sd_bus_error_has_name(e, ZL_ERROR_NOT_FOUND) && op->container->registered &&
                    container_state_is_active(op->container->state) &&
                    worker_acquire(op->container->broker, WORKER_EXEC, adopt_with_link, container_ref(op->container)) < 0)
                        container_unref(op->container);
        } else
                op->container->paused = false; /* zlayer-exec thaws after signalling */
        if (op->call) {
                if (e)
                        (void) reply_forward_error(op->call, e);
                else
                        (void) sd_bus_reply_method_return(op->call, NULL);
        }
        container_op_free(op);
        return 0;
}

static void kill_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        ContainerOp *op = userdata;
        int r;

        if (!link) {
                if (op->call)
                        (void) reply_error_errnof(op->call, ZL_ERROR_INTERNAL, "worker exec is not available");
                container_op_free(op);
                return;
        }
        r = sd_bus_call_method_async(link, NULL, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "Kill", on_kill_reply, op, "si",
                                     op->container->id, (int32_t) op->signal);
        if (r < 0) {
                if (op->call)
                        (void) reply_error_errnof(op->call, ZL_ERROR_INTERNAL, "Failed to call Kill for %s: %s",
                                                  op->container->id, strerror(-r));
                container_op_free(op);
        }
}

int container_kill(Container *c, int sig, sd_bus_message *call) {
        ContainerOp *op = container_op_new(c, call, sig);
        int r;

        if (!op)
                return -ENOMEM;
        /* every kill comes from a user (Stop, Kill, Remove force): the
         * restart policy must not undo it */
        if (!c->stopped_by_user) {
                c->stopped_by_user = true;
                (void) container_state_save(c, c->broker->containers_fd);
        }
        container_cron_disarm(c); /* a user's stop ends the schedule too */
        r = worker_acquire(c->broker, WORKER_EXEC, kill_with_link, op);
        if (r < 0)
                container_op_free(op);
        return r;
}

/* Loading at start */

int containers_load_all(Broker *b) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd;

        fd = openat(b->containers_fd, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                Container *c = NULL;
                int r;

                if (de->d_name[0] == '.')
                        continue;
                r = container_state_load(b->containers_fd, de->d_name, &c);
                if (r < 0) {
                        log_warning_errno(r, "Skipping container directory %s: %m", de->d_name);
                        continue;
                }
                if (container_find(b, c->id) || container_find(b, c->name)) {
                        log_warning("Skipping duplicate container %s.", c->id);
                        container_unref(c);
                        continue;
                }
                c->broker = b;
                c->next = b->containers;
                b->containers = c;
                b->n_containers++;
                c->registered = true;
                log_debug("Loaded container %s (%s).", c->id, container_state_to_string(c->state));
                /* rtype cron: from now on; ticks missed while no broker ran are not caught up */
                container_cron_arm(c);
        }
        return 0;
}
