/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RenameContainer, Pause/UnpauseContainer, TopContainer,
 * GetContainerChanges, PruneContainers, UpdateContainerResources. */
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>

#include "cgroup.h"
#include "container.h"
#include "errors.h"
#include "fileio.h"
#include "ids.h"
#include "launch-config.h"
#include "lifecycle.h"
#include "log.h"
#include "worker-links.h"

#define CONFIG_MAX (4 * 1024 * 1024)
#define WORKER_CALL_USEC (60 * USEC_PER_SEC)

static void json_putp(json_object **j) {
        if (*j)
                json_object_put(*j);
}
#define _cleanup_json_ _cleanup_(json_putp)

/* Reads the id, finds the container, asks for authorization.
 * 1: go on; 0: polkit was asked (return 1); < 0: error set. */
/* ---- a call to zlayer-exec on behalf of a public call ---- */

typedef struct WorkerCall WorkerCall;
typedef void (*worker_call_done_t)(WorkerCall *wc, sd_bus_message *reply, const sd_bus_error *e);

struct WorkerCall {
        Container *container;
        sd_bus_message *call;
        const char *method;
        char *arg;          /* second argument: "s" (when set) or "b" */
        int flag;
        worker_call_done_t done;
};

static void worker_call_free(WorkerCall *wc) {
        container_unref(wc->container);
        sd_bus_message_unref(wc->call);
        free(wc->arg);
        free(wc);
}

static int on_worker_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        WorkerCall *wc = userdata;
        wc->done(wc, reply, sd_bus_message_get_error(reply));
        worker_call_free(wc);
        return 0;
}

static void worker_call_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        WorkerCall *wc = userdata;
        int r;

        if (!link) {
                sd_bus_error_setf(&e, ZL_ERROR_INTERNAL, "worker exec is not available for %s of %s", wc->method,
                                  wc->container->id);
                goto fail;
        }
        r = sd_bus_message_new_method_call(link, &m, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, wc->method);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", wc->container->id);
        if (r >= 0 && wc->arg)
                r = sd_bus_message_append(m, "s", wc->arg);
        else if (r >= 0 && streq(wc->method, "Freeze"))
                r = sd_bus_message_append(m, "b", wc->flag);
        if (r >= 0)
                r = sd_bus_call_async(link, NULL, m, on_worker_reply, wc, WORKER_CALL_USEC);
        if (r >= 0)
                return;
        sd_bus_error_setf(&e, ZL_ERROR_INTERNAL, "failed to call %s for %s: %s", wc->method, wc->container->id,
                          strerror(-r));
fail:
        wc->done(wc, NULL, &e);
        worker_call_free(wc);
}

static int worker_call(Container *c, sd_bus_message *call, const char *method, const char *arg, int flag,
                       worker_call_done_t done) {
        WorkerCall *wc = calloc(1, sizeof(*wc));
        int r;

        if (!wc)
                return -ENOMEM;
        wc->container = container_ref(c);
        wc->call = sd_bus_message_ref(call);
        wc->method = method;
        wc->flag = flag;
        wc->done = done;
        if (arg && !(wc->arg = strdup(arg))) {
                worker_call_free(wc);
                return -ENOMEM;
        }
        r = worker_acquire(c->broker, WORKER_EXEC, worker_call_with_link, wc);
        if (r < 0)
                worker_call_free(wc);
        return r;
}

/* ---- RenameContainer ---- */

int method_rename_container(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        const char *id, *name;
        char *copy;
        Container *c, *other;
        int r;

        r = sd_bus_message_read(m, "ss", &id, &name);
        if (r < 0)
                return r;
        r = container_find_or_error(b, id, &c, error);
        if (r < 0)
                return r;
        if (!container_id_is_valid(name) || streq(name, "shims"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "invalid container name '%s' (want [a-z0-9][a-z0-9_.-]{0,127})", name);
        r = authz_verify(b, m, c->id, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (streq(c->name, name))
                return sd_bus_reply_method_return(m, NULL);
        /* a name must address one container: no other's id or name */
        other = container_find(b, name);
        if (other && other != c)
                return sd_bus_error_setf(error, ZL_ERROR_ALREADY_EXISTS, "the name '%s' is taken by container '%s'", name,
                                         other->id);
        copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        log_info("Renaming container %s from %s to %s.", c->id, c->name, name);
        free(c->name);
        c->name = copy;
        r = container_state_save(c, b->containers_fd);
        if (r < 0)
                log_error_errno(r, "Failed to save state of container %s: %m", c->id);
        container_emit_changed(c, "Name", NULL);
        return sd_bus_reply_method_return(m, NULL);
}

/* ---- Pause / Unpause ---- */

static void freeze_done(WorkerCall *wc, sd_bus_message *reply, const sd_bus_error *e) {
        Container *c = wc->container;

        c->pausing = false;
        if (e) {
                log_warning("%s container %s failed: %s: %s", wc->flag ? "Pausing" : "Unpausing", c->id, e->name,
                            strempty(e->message));
                (void) reply_forward_error(wc->call, e);
                return;
        }
        /* the container may have exited meanwhile: then it is not paused */
        c->paused = wc->flag && container_state_is_active(c->state);
        if (c->registered) {
                int r = container_state_save(c, c->broker->containers_fd);
                if (r < 0)
                        log_error_errno(r, "Failed to save state of container %s: %m", c->id);
        }
        log_info("%s container %s.", wc->flag ? "Paused" : "Unpaused", c->id);
        (void) sd_bus_reply_method_return(wc->call, NULL);
}

static int pause_common(sd_bus_message *m, Broker *b, bool pause, sd_bus_error *error) {
        Container *c;
        int r;

        r = container_find_authorized(b, m, &c, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (c->state != CONTAINER_RUNNING)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is not running (%s)", c->id,
                                         container_state_to_string(c->state));
        if (c->pausing)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is being paused or unpaused",
                                         c->id);
        if (pause && c->paused)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is already paused", c->id);
        if (!pause && !c->paused)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is not paused", c->id);
        r = worker_call(c, m, "Freeze", NULL, pause, freeze_done);
        if (r < 0)
                return r;
        c->pausing = true;
        return 1;
}

int method_pause_container(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return pause_common(m, userdata, true, error);
}

int method_unpause_container(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return pause_common(m, userdata, false, error);
}

/* ---- TopContainer ---- */

static int boot_time(uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        char *p;
        int r = read_file_at(AT_FDCWD, "/proc/stat", 1024 * 1024, &s, NULL);
        if (r < 0)
                return r;
        p = strstr(s, "\nbtime ");
        if (!p || sscanf(p + 7, "%" SCNu64, ret) != 1)
                return -EBADMSG;
        return 0;
}

int method_top_container(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **args = NULL, **fields = NULL, **titles = NULL;
        _cleanup_free_ char *perr = NULL, *cg = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        _cleanup_cgroup_driver_ CgroupDriver *d = NULL;
        Broker *b = userdata;
        const char *id;
        uint64_t btime = 0;
        size_t n = 0;
        Container *c;
        int r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        r = sd_bus_message_read_strv(m, &args);
        if (r < 0)
                return r;
        r = container_find_or_error(b, id, &c, error);
        if (r < 0)
                return r;
        r = top_parse_args(args, &fields, &perr);
        if (r == -EINVAL)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s", perr ?: "invalid ps arguments");
        if (r < 0)
                return r;
        r = authz_verify(b, m, c->id, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (c->state != CONTAINER_RUNNING && c->state != CONTAINER_STOPPING)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is not running (%s)", c->id,
                                         container_state_to_string(c->state));

        if ((r = cgroup_container_path(c->id, &cg)) < 0 || (r = cgroup_driver_new_detect(NULL, &d)) < 0 ||
            (r = cgroup_read_pids(d, cg, &pids, &n)) < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "cannot list the processes of '%s': %s", c->id,
                                         strerror(-r));
        (void) boot_time(&btime);
        if ((r = top_titles(fields, &titles)) < 0)
                return r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, titles);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "as");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_strv_free_ char **row = NULL;
                int k = top_row("/proc", pids[i], fields, btime, &row);
                if (k < 0)
                        continue; /* exited since the cgroup was read */
                r = sd_bus_message_append_strv(reply, row);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* ---- GetContainerChanges ---- */

static void changes_done(WorkerCall *wc, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *out = NULL;
        int r;

        if (e) {
                (void) reply_forward_error(wc->call, e);
                return;
        }
        r = sd_bus_message_new_method_return(wc->call, &out);
        if (r >= 0)
                r = sd_bus_message_copy(out, reply, true);
        if (r >= 0)
                r = sd_bus_send(NULL, out, NULL);
        if (r < 0)
                (void) reply_error_errnof(wc->call, ZL_ERROR_INTERNAL, "cannot forward the changes of %s: %s",
                                          wc->container->id, strerror(-r));
}

int method_get_container_changes(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Container *c;
        int r = container_find_authorized(userdata, m, &c, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (c->state == CONTAINER_PENDING && c->started_at == 0)
                return sd_bus_reply_method_return(m, "a(sy)", 0); /* never started: no upper yet */
        r = worker_call(c, m, "Changes", NULL, 0, changes_done);
        return r < 0 ? r : 1;
}

/* ---- PruneContainers ---- */

typedef struct Prune {
        sd_bus_message *call;
        char **deleted;
        size_t n_deleted;
        uint64_t reclaimed;
        unsigned pending;
} Prune;

typedef struct PruneItem {
        Prune *prune;
        Container *container;
        uint64_t bytes;
} PruneItem;

/* Drops one hold on @p; the last one replies. */
static void prune_release(Prune *p) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        if (--p->pending > 0)
                return;
        r = sd_bus_message_new_method_return(p->call, &reply);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, p->deleted ?: (char *[]) { NULL });
        if (r >= 0)
                r = sd_bus_message_append(reply, "t", p->reclaimed);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                (void) reply_error_errnof(p->call, ZL_ERROR_INTERNAL, "cannot reply to PruneContainers: %s", strerror(-r));
        log_info("Pruned %zu containers, %" PRIu64 " bytes.", p->n_deleted, p->reclaimed);
        sd_bus_message_unref(p->call);
        strv_free(p->deleted);
        free(p);
}

static void prune_item_done(PruneItem *it) {
        Prune *p = it->prune;

        it->container->removing = false;
        container_unref(it->container);
        free(it);
        prune_release(p);
}

static int on_prune_delete(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PruneItem *it = userdata;
        Container *c = it->container;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        Prune *p = it->prune;

        if (e)
                log_warning("Pruning container %s failed: %s: %s", c->id, e->name, strempty(e->message));
        else {
                char **t = reallocarray(p->deleted, p->n_deleted + 2, sizeof(char *));
                if (t) {
                        p->deleted = t;
                        t[p->n_deleted] = strdup(c->id);
                        if (t[p->n_deleted])
                                p->n_deleted++;
                        t[p->n_deleted] = NULL;
                }
                p->reclaimed += it->bytes;
                log_info("Removed container %s (prune).", c->id);
                c->removing = false;
                container_unregister(c);
        }
        prune_item_done(it);
        return 0;
}

static int on_prune_usage(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PruneItem *it = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        sd_bus *link = sd_bus_message_get_bus(reply);
        int r;

        if (e)
                log_warning("Measuring container %s failed: %s: %s", it->container->id, e->name, strempty(e->message));
        else if (sd_bus_message_read(reply, "t", &it->bytes) < 0)
                it->bytes = 0;
        if (!it->container->registered || container_state_is_active(it->container->state)) {
                prune_item_done(it); /* started or removed meanwhile: not ours to prune */
                return 0;
        }
        r = sd_bus_call_method_async(link, NULL, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "Delete", on_prune_delete, it, "s",
                                     it->container->id);
        if (r < 0) {
                log_warning_errno(r, "Failed to call Delete for %s: %m", it->container->id);
                prune_item_done(it);
        }
        return 0;
}

static void prune_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        PruneItem *it = userdata;
        int r = -ENOLINK;

        if (link)
                r = sd_bus_call_method_async(link, NULL, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "DiskUsage", on_prune_usage, it,
                                             "s", it->container->id);
        if (r < 0) {
                log_warning_errno(r, "Cannot prune container %s: %m", it->container->id);
                prune_item_done(it);
        }
}

int method_prune_containers(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        Prune *p;
        int r;

        r = authz_verify(b, m, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->call = sd_bus_message_ref(m);
        p->pending = 1; /* held until every item is on its way */
        for (Container *c = b->containers; c; c = c->next) {
                /* a restart on its way is Docker's "restarting", not stopped;
                 * a cron container waiting for its next run is scheduled */
                if ((c->state != CONTAINER_EXITED && c->state != CONTAINER_FAILED) || c->removing || c->ops ||
                    c->restart_timer || c->cron_timer)
                        continue;
                PruneItem *it = calloc(1, sizeof(*it));
                if (!it)
                        break;
                it->prune = p;
                it->container = container_ref(c);
                c->removing = true;
                p->pending++;
                if (worker_acquire(b, WORKER_EXEC, prune_with_link, it) < 0)
                        prune_item_done(it);
        }
        prune_release(p); /* the hold: replies now when nothing was pending */
        return 1;
}

/* ---- UpdateContainerResources ---- */

typedef struct UpdateKey {
        const char *name;
        char type;               /* 'x', 's' or 'q' */
        const char *resource;    /* key in config.json "resources", or NULL */
        const char *not_applied; /* why it cannot apply here, or NULL */
} UpdateKey;

static const UpdateKey update_keys[] = {
        { "cpu_shares", 'x', "cpu_shares", NULL },
        { "memory", 'x', "memory", NULL },
        { "cpu_period", 'x', "cpu_period", NULL },
        { "cpu_quota", 'x', "cpu_quota", NULL },
        { "cpuset_cpus", 's', "cpuset_cpus", NULL },
        { "memory_reservation", 'x', "memory_reservation", NULL },
        { "memory_swap", 'x', "memory_swap", NULL },
        { "pids_limit", 'x', "pids_limit", NULL },
        { "cpu_realtime_period", 'x', NULL, "the real-time scheduler is not configured by zlayer" },
        { "cpu_realtime_runtime", 'x', NULL, "the real-time scheduler is not configured by zlayer" },
        { "kernel_memory", 'x', NULL, "kernel memory limits are deprecated and not set by zlayer" },
        { "cpuset_mems", 's', NULL, "memory nodes are inherited from the parent cgroup" },
        { "blkio_weight", 'q', NULL, "block I/O weights are not set by zlayer" },
        { "restart_policy", 's', NULL, NULL },
        { "restart_max_retries", 'x', NULL, NULL },
};

typedef struct UpdateOp {
        sd_bus_message *call;
        Container *container;
        char *config;       /* the new config.json */
        char **warnings;
        char *restart_kind; /* NULL = unchanged */
        int64_t restart_max; /* -1 = unchanged */
} UpdateOp;

static void update_op_free(UpdateOp *op) {
        if (op->container)
                op->container->updating = false;
        sd_bus_message_unref(op->call);
        container_unref(op->container);
        free(op->config);
        strv_free(op->warnings);
        free(op->restart_kind);
        free(op);
}
static inline void update_op_freep(UpdateOp **op) {
        if (*op)
                update_op_free(*op);
}

/* Persist config.json and the restart policy, reply the warnings. */
static void update_commit(UpdateOp *op) {
        Container *c = op->container;
        Broker *b = c->broker;
        _cleanup_close_ int dfd = -1;
        int r;

        dfd = openat(b->containers_fd, c->id, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        r = dfd < 0 ? -errno : write_file_atomic_at(dfd, "config.json", op->config, strlen(op->config), 0640);
        if (r < 0) {
                (void) reply_error_errnof(op->call, ZL_ERROR_INTERNAL, "cannot write config.json of %s: %s", c->id,
                                          strerror(-r));
                return;
        }
        if (op->restart_kind || op->restart_max >= 0) {
                r = container_set_restart_policy(c, op->restart_kind, op->restart_max);
                if (r < 0)
                        log_error_errno(r, "Failed to save the restart policy of %s: %m", c->id);
        }
        log_info("Updated the resources of container %s.", c->id);
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        r = sd_bus_message_new_method_return(op->call, &reply);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, op->warnings ?: (char *[]) { NULL });
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to reply to UpdateContainerResources: %m");
}

static int on_update_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        UpdateOp *op = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (e)
                (void) reply_forward_error(op->call, e);
        else
                update_commit(op);
        update_op_free(op);
        return 0;
}

static void update_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        UpdateOp *op = userdata;
        int r = -ENOLINK;

        if (link)
                r = sd_bus_call_method_async(link, NULL, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "UpdateResources", on_update_reply,
                                             op, "ss", op->container->id, op->config);
        if (r < 0) {
                (void) reply_error_errnof(op->call, ZL_ERROR_INTERNAL, "cannot update %s: worker exec: %s",
                                          op->container->id, strerror(-r));
                update_op_free(op);
        }
}

static int push_warning(char ***l, const char *fmt, const char *a, const char *b) {
        size_t n = strv_length(*l);
        char **t = reallocarray(*l, n + 2, sizeof(char *));
        if (!t)
                return -ENOMEM;
        *l = t;
        if (asprintf(&t[n], fmt, a, b) < 0)
                return -ENOMEM;
        t[n + 1] = NULL;
        return 0;
}

bool restart_kind_is_valid(const char *s) {
        return streq(s, "no") || streq(s, "always") || streq(s, "unless_stopped") || streq(s, "on_failure");
}

int method_update_container_resources(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(update_op_freep) UpdateOp *op = NULL;
        _cleanup_json_ json_object *cfg = NULL;
        _cleanup_launch_config_ LaunchConfig *parsed = NULL;
        _cleanup_free_ char *text = NULL, *rel = NULL, *perr = NULL;
        Broker *b = userdata;
        const char *id;
        json_object *res;
        Container *c;
        bool any = false;
        int r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        r = container_find_or_error(b, id, &c, error);
        if (r < 0)
                return r;
        if (asprintf(&rel, "%s/config.json", c->id) < 0)
                return -ENOMEM;
        r = read_file_at(b->containers_fd, rel, CONFIG_MAX, &text, NULL);
        if (r < 0 || !(cfg = json_tokener_parse(text)) || !json_object_is_type(cfg, json_type_object))
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "cannot read config.json of %s: %s", c->id,
                                         r < 0 ? strerror(-r) : "not a JSON object");
        if (!json_object_object_get_ex(cfg, "resources", &res) || !json_object_is_type(res, json_type_object)) {
                res = json_object_new_object();
                if (!res || json_object_object_add(cfg, "resources", res) < 0)
                        return -ENOMEM;
        }
        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->restart_max = -1;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const UpdateKey *k = NULL;
                const char *key, *contents, *sval = NULL;
                int64_t x = 0;
                uint16_t q = 0;
                char type[2] = {};

                if ((r = sd_bus_message_read(m, "s", &key)) < 0)
                        return r;
                for (size_t i = 0; i < ELEMENTSOF(update_keys); i++)
                        if (streq(update_keys[i].name, key))
                                k = &update_keys[i];
                if (!k)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "unknown update key '%s'", key);
                if ((r = sd_bus_message_peek_type(m, NULL, &contents)) < 0)
                        return r;
                type[0] = k->type;
                if (!streq(contents, type))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "update key '%s' wants type '%c', got '%s'",
                                                 key, k->type, contents);
                if (k->type == 'x')
                        r = sd_bus_message_read(m, "v", "x", &x);
                else if (k->type == 'q')
                        r = sd_bus_message_read(m, "v", "q", &q), x = q;
                else
                        r = sd_bus_message_read(m, "v", "s", &sval);
                if (r < 0)
                        return r;
                if ((r = sd_bus_message_exit_container(m)) < 0)
                        return r;
                any = true;

                if (streq(key, "restart_policy")) {
                        if (!restart_kind_is_valid(sval))
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                         "restart_policy '%s' is not one of no, always, unless_stopped, on_failure",
                                                         sval);
                        free(op->restart_kind);
                        if (!(op->restart_kind = strdup(sval)))
                                return -ENOMEM;
                } else if (streq(key, "restart_max_retries")) {
                        if (x < 0)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                         "restart_max_retries must not be negative: %" PRIi64, x);
                        op->restart_max = x;
                } else if (k->not_applied) {
                        if ((k->type == 's' ? !isempty(sval) : x != 0) &&
                            (r = push_warning(&op->warnings, "%s: not applied: %s", key, k->not_applied)) < 0)
                                return r;
                } else if (k->type == 's') {
                        if (!isempty(sval) && json_object_object_add(res, k->resource, json_object_new_string(sval)) < 0)
                                return -ENOMEM;
                } else if (x < -1 || (x == -1 && !streq(key, "memory_swap") && !streq(key, "pids_limit")))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s: invalid value %" PRIi64, key, x);
                else if (x != 0 && json_object_object_add(res, k->resource, json_object_new_int64(x)) < 0)
                        return -ENOMEM; /* 0 = leave as it is (Docker's rule) */
        }
        if (r < 0)
                return r;
        if ((r = sd_bus_message_exit_container(m)) < 0)
                return r;

        /* the result must still be a valid launch config (memory_swap >= memory, …) */
        const char *out = json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!out || !(op->config = strdup(out)))
                return -ENOMEM;
        r = launch_config_parse(op->config, &parsed, &perr);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "invalid update of %s: %s", c->id,
                                         perr ?: strerror(-r));

        r = authz_verify(b, m, c->id, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (!any)
                return sd_bus_reply_method_return(m, "as", 0);
        if (c->removing)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is being removed", c->id);
        /* each update reads config.json and writes it back: one at a time */
        if (c->updating)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is being updated", c->id);
        if (c->state == CONTAINER_INITIALIZING)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is initializing", c->id);

        c->updating = true;
        op->call = sd_bus_message_ref(m);
        op->container = container_ref(c);
        if (c->state != CONTAINER_RUNNING && c->state != CONTAINER_STOPPING) {
                /* not running: the next start applies it */
                update_commit(op);
                return 1;
        }
        r = worker_acquire(b, WORKER_EXEC, update_with_link, op);
        if (r < 0)
                return r;
        TAKE_PTR(op);
        return 1;
}

/* ---- orphans, once per broker process ---- */

static int on_orphans_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_strv_free_ char **removed = NULL;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (e) {
                log_warning("Cleaning up orphaned containers failed: %s: %s", e->name, strempty(e->message));
                return 0;
        }
        if (sd_bus_message_read_strv(reply, &removed) < 0)
                return 0;
        for (char **id = removed; id && *id; id++)
                log_warning("Removed the leftovers of container %s, which had no state.json.", *id);
        return 0;
}

static void orphans_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        int r;

        if (!link)
                return;
        r = sd_bus_call_method_async(link, NULL, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "CleanupOrphans", on_orphans_reply,
                                     NULL, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to call CleanupOrphans: %m");
}

void containers_cleanup_orphans(Broker *b) {
        static bool done = false;

        if (done)
                return;
        done = true;
        (void) worker_acquire(b, WORKER_EXEC, orphans_with_link, NULL);
}
