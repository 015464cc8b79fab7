/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <time.h>

#include "container.h"
#include "errors.h"
#include "fileio.h"
#include "ids.h"
#include "image-ops.h"
#include "image-store.h"
#include "launch-config.h"
#include "log.h"
#include "netnames.h"
#include "network.h"
#include "reference.h"
#include "servicespec.h"
#include "signals.h"
#include "worker-links.h"

#define SPEC_MAX (1024 * 1024)
#define CONFIG_JSON_MAX (4 * 1024 * 1024)
#define START_CALL_USEC (2 * 60 * USEC_PER_SEC)
#define DEFAULT_STOP_USEC (10 * USEC_PER_SEC)

static uint64_t now_realtime_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

static void json_object_putp(json_object **j) {
        if (*j)
                json_object_put(*j);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

static int write_json_at(int dfd, const char *name, json_object *o) {
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;
        return write_file_atomic_at(dfd, name, text, strlen(text), 0640);
}

static char **labels_build(const ServiceSpec *spec, const char *id) {
        size_t n = strv_length(spec->labels);
        char **l = calloc(n + 3, sizeof(char *));
        size_t k = 0;

        if (!l)
                return NULL;
        for (size_t i = 0; i + 1 < n; i += 2) {
                if (streq(spec->labels[i], "com.zlayer.container_id"))
                        continue; /* set by the runtime */
                if (!(l[k++] = strdup(spec->labels[i])) || !(l[k++] = strdup(spec->labels[i + 1])))
                        goto oom;
        }
        if (!(l[k++] = strdup("com.zlayer.container_id")) || !(l[k++] = strdup(id)))
                goto oom;
        return l;
oom:
        strv_free(l);
        return NULL;
}

static int add_waiter(Container *c, WaiterKind kind, sd_bus_message *m, sd_bus_error *error) {
        int r = container_add_waiter(c, kind, m);
        if (r == -EBUSY)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "too many calls waiting on container '%s' (limit %d)",
                                         c->id, CONTAINER_WAITERS_MAX);
        return r;
}

/* The part of CreateContainer after validation and authorization: needs
 * the image present. Answers like a method handler (for @m). */
static int create_finish(Broker *b, sd_bus_message *m, const ServiceSpec *spec, const char *ref,
                         const char *service, uint32_t replica, const char *id, sd_bus_error *error) {
        _cleanup_free_ char *config_digest = NULL, *config_text = NULL, *launch_error = NULL, *path = NULL;
        _cleanup_strv_free_ char **diff_ids = NULL, **chains = NULL, **top_first = NULL;
        _cleanup_json_ json_object *launch = NULL;
        _cleanup_container_ Container *c = NULL;
        _cleanup_close_ int dfd = -1;
        ImageEntry entry;
        json_object *v;
        int r;

        if (container_find(b, id))
                return sd_bus_error_setf(error, ZL_ERROR_ALREADY_EXISTS, "container '%s' already exists", id);
        if (b->n_containers >= CONTAINERS_MAX)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "cannot create '%s': there are already %u containers",
                                         id, b->n_containers);

        if (image_store_find(b->images, ref, &entry) < 0)
                return sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND, "image %s is not present; pull it first", ref);

        r = image_manifest_read(b->images_fd, entry.manifest, &config_digest, NULL, NULL);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "cannot read the manifest %s of %s: %s",
                                         entry.manifest, ref, strerror(-r));
        r = image_config_read(b->images_fd, config_digest, &config_text, &diff_ids);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "cannot read the config %s of %s: %s",
                                         config_digest, ref, strerror(-r));
        r = image_chain_ids(diff_ids, &chains);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "cannot compute the chain ids of %s: %s", ref, strerror(-r));

        size_t n = strv_length(chains);
        top_first = calloc(n + 1, sizeof(char *));
        if (!top_first)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (faccessat(b->layers_fd, chains[i], F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                        return sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND,
                                                 "layer sha256:%s of image %s is not present; pull it again", chains[i], ref);
                top_first[n - 1 - i] = strdup(chains[i]);
                if (!top_first[n - 1 - i])
                        return -ENOMEM;
        }

        r = launch_config_build(spec, id, ref, config_text, top_first, &launch, &launch_error);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "%s",
                                         launch_error ?: (r == -ENOMEM ? "out of memory" : "invalid launch config"));
        r = network_attach(b, id, launch);
        if (r == -ENOSPC) {
                json_object *named;

                /* a named network's own /24, or the daemon's bridge */
                if (json_object_object_get_ex(launch, "network_name", &named))
                        return sd_bus_error_setf(error, ZL_ERROR_BUSY,
                                                 "no address (or no subnet) left for '%s' on network %s", id,
                                                 json_object_get_string(named));
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "no address left for '%s' on bridge %s", id,
                                         b->opts.bridge_name ?: ZL_DEFAULT_BRIDGE);
        }
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to allocate an address for %s: %m", id);

        c = container_new();
        if (!c)
                return -ENOMEM;
        c->id = strdup(id);
        c->name = strdup(id);
        c->service = strdup(service);
        c->image = strdup(ref);
        c->image_digest = strdup(entry.repo_digest);
        c->reason = strdup("");
        c->signal = strdup("");
        c->labels = labels_build(spec, id);
        if (!c->id || !c->name || !c->service || !c->image || !c->image_digest || !c->reason || !c->signal || !c->labels)
                return -ENOMEM;
        c->replica = replica;
        c->state = CONTAINER_PENDING;
        c->created_at = now_realtime_usec();
        if (json_object_object_get_ex(launch, "stop_signal", &v) && json_object_is_type(v, json_type_string))
                c->stop_signal = strdup(json_object_get_string(v));
        if (json_object_object_get_ex(launch, "stop_grace_usec", &v) && json_object_is_type(v, json_type_int))
                c->stop_grace_usec = json_object_get_uint64(v);

        /* A directory left by a crash between mkdir and state.json belongs
         * to no container we know: start it afresh. */
        if (mkdirat(b->containers_fd, id, 0750) < 0) {
                if (errno != EEXIST)
                        return sd_bus_error_set_errnof(error, errno, "Failed to create the directory of %s: %m", id);
                log_warning("Removing stale directory of container %s.", id);
                r = rm_rf_at(b->containers_fd, id);
                if (r < 0 || mkdirat(b->containers_fd, id, 0750) < 0)
                        return sd_bus_error_set_errnof(error, r < 0 ? -r : errno,
                                                       "Failed to recreate the directory of %s: %m", id);
        }
        dfd = openat(b->containers_fd, id, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                r = -errno;
        else if ((r = write_json_at(dfd, "spec.json", spec->json)) >= 0 &&
                 (r = write_json_at(dfd, "config.json", launch)) >= 0 &&
                 (r = network_write_files(b, id, spec->json, launch)) >= 0)
                r = container_state_save(c, b->containers_fd);
        if (r < 0) {
                network_detach(b, id);
                (void) rm_rf_at(b->containers_fd, id);
                return sd_bus_error_set_errnof(error, -r, "Failed to write the files of %s: %m", id);
        }

        r = container_register(b, c);
        if (r < 0) {
                network_detach(b, id);
                return r;
        }
        network_refresh_hosts(b);
        path = container_object_path(id);
        if (!path)
                return -ENOMEM;
        log_info("Created container %s from %s.", id, ref);
        return sd_bus_reply_method_return(m, "so", id, path);
}

typedef struct CreateOp {
        Broker *broker;
        sd_bus_message *call;
        ServiceSpec *spec;
        char *ref, *service, *id;
        uint32_t replica;
} CreateOp;

static void create_op_free(CreateOp *op) {
        container_ops_release(op->broker);
        sd_bus_message_unref(op->call);
        service_spec_free(op->spec);
        free(op->ref);
        free(op->service);
        free(op->id);
        free(op);
}

static void create_after_pull(Broker *b, const char *reference, const sd_bus_error *e, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        CreateOp *op = userdata;
        int r;

        if (e) {
                (void) reply_forward_error(op->call, e);
                create_op_free(op);
                return;
        }
        r = create_finish(b, op->call, op->spec, op->ref, op->service, op->replica, op->id, &error);
        if (r < 0) {
                if (sd_bus_error_is_set(&error))
                        (void) sd_bus_reply_method_error(op->call, &error);
                else
                        (void) sd_bus_reply_method_errno(op->call, r, NULL);
        }
        create_op_free(op);
}

int method_create_container(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        _cleanup_(service_spec_freep) ServiceSpec *spec = NULL;
        _cleanup_free_ char *spec_error = NULL, *ref = NULL;
        const char *service, *text;
        char id[256];
        uint32_t replica;
        int r;

        r = sd_bus_message_read(m, "sus", &service, &replica, &text);
        if (r < 0)
                return r;
        if (!service_name_is_valid(service))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "invalid service name '%s'", service);
        r = container_id_format(service, replica, id, sizeof(id));
        if (r < 0 || !container_id_is_valid(id))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "invalid container id for service '%s' replica %u",
                                         service, replica);
        if (strlen(text) > SPEC_MAX)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "spec of %zu bytes is larger than %d bytes",
                                         strlen(text), SPEC_MAX);

        r = service_spec_parse(text, strlen(text), &spec, &spec_error);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "%s",
                                         spec_error ?: (r == -ENOMEM ? "out of memory" : "invalid spec"));
        if (isempty(spec->image))
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "image.name: missing");
        r = image_name_to_reference(b, spec->image, &ref);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "image.name: %s '%s'",
                                         r == -ENOTUNIQ ? "ambiguous image id prefix" : "invalid reference", spec->image);

        r = authz_verify(b, m, id, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */

        if (spec->pull_policy == PULL_ALWAYS || spec->pull_policy == PULL_NEWER) {
                /* Check what does not need the image before fetching it. */
                if (container_find(b, id))
                        return sd_bus_error_setf(error, ZL_ERROR_ALREADY_EXISTS, "container '%s' already exists", id);

                r = container_ops_admit(b, "CreateContainer", id, error);
                if (r < 0)
                        return r;
                CreateOp *op = calloc(1, sizeof(*op));
                if (!op)
                        return -ENOMEM;
                op->broker = b;
                container_ops_hold(b);
                op->call = sd_bus_message_ref(m);
                op->spec = TAKE_PTR(spec);
                op->ref = TAKE_PTR(ref);
                op->service = strdup(service);
                op->id = strdup(id);
                op->replica = replica;
                if (!op->service || !op->id) {
                        create_op_free(op);
                        return -ENOMEM;
                }
                r = image_pull_start(b, op->ref, create_after_pull, op);
                if (r < 0) {
                        if (r == -EBUSY)
                                sd_bus_error_setf(error, ZL_ERROR_BUSY, "cannot pull %s for %s: too many pulls running",
                                                  op->ref, id);
                        create_op_free(op);
                        return r;
                }
                return 1;
        }

        return create_finish(b, m, spec, ref, service, replica, id, error);
}

/* Start */

typedef struct StartOp {
        Container *container;
        sd_bus_message *call;
        char *config;
} StartOp;

static void start_op_free(StartOp *op) {
        container_ops_release(op->container->broker);
        container_unref(op->container);
        sd_bus_message_unref(op->call);
        free(op->config);
        free(op);
}

static int on_start_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        StartOp *op = userdata;
        Container *c = op->container;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        uint32_t pid;
        uint64_t started_at;
        int r;

        if (e) {
                log_warning("Starting container %s failed: %s: %s", c->id, e->name, strempty(e->message));
                /* Only zlayer-exec's own answer says the start failed; a lost
                 * link says nothing, and Adopt on its successor will tell. */
                if (c->state == CONTAINER_INITIALIZING && !worker_links_shutting_down(c->broker) &&
                    strneq(e->name, ZL_ERROR_PREFIX, strlen(ZL_ERROR_PREFIX))) {
                        c->pid = 0;
                        (void) container_set_state(c, CONTAINER_FAILED);
                }
                (void) reply_forward_error(op->call, e);
                start_op_free(op);
                return 0;
        }
        r = sd_bus_message_read(m, "ut", &pid, &started_at);
        if (r < 0) {
                (void) reply_error_errnof(op->call, ZL_ERROR_INTERNAL, "zlayer-exec sent a malformed Start reply for %s: %s",
                                          c->id, strerror(-r));
                start_op_free(op);
                return 0;
        }
        /* The exit may have been reported before this reply was handled. */
        if (c->state == CONTAINER_INITIALIZING) {
                c->pid = pid;
                c->started_at = started_at;
                c->exit_code = 0;
                (void) container_set_state(c, CONTAINER_RUNNING);
                log_info("Started container %s (pid %u).", c->id, pid);
        }
        (void) sd_bus_reply_method_return(op->call, NULL);
        start_op_free(op);
        return 0;
}

static void start_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        StartOp *op = userdata;
        Container *c = op->container;
        int r;

        if (!link) {
                if (c->state == CONTAINER_INITIALIZING && !worker_links_shutting_down(b))
                        (void) container_set_state(c, CONTAINER_FAILED);
                (void) reply_error_errnof(op->call, ZL_ERROR_INTERNAL, "worker %s is not available", "exec");
                start_op_free(op);
                return;
        }
        r = sd_bus_message_new_method_call(link, &m, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "Start");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", c->id, op->config);
        if (r >= 0)
                r = sd_bus_call_async(link, NULL, m, on_start_reply, op, START_CALL_USEC);
        if (r < 0) {
                if (c->state == CONTAINER_INITIALIZING)
                        (void) container_set_state(c, CONTAINER_FAILED);
                (void) reply_error_errnof(op->call, ZL_ERROR_INTERNAL, "failed to call Start for %s: %s", c->id, strerror(-r));
                start_op_free(op);
        }
}

int method_start_container(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        _cleanup_free_ char *config = NULL;
        _cleanup_close_ int dfd = -1;
        Container *c;
        StartOp *op;
        int r;

        r = container_find_authorized(b, m, &c, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (container_state_is_active(c->state) || c->removing)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is %s", c->id,
                                         c->removing ? "being removed" : container_state_to_string(c->state));
        r = container_ops_admit(b, "StartContainer", c->id, error);
        if (r < 0)
                return r;

        dfd = openat(b->containers_fd, c->id, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0 || (r = read_file_at(dfd, "config.json", CONFIG_JSON_MAX, &config, NULL)) < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "cannot read config.json of %s: %s", c->id,
                                         strerror(dfd < 0 ? errno : -r));

        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->container = container_ref(c);
        container_ops_hold(b);
        op->call = sd_bus_message_ref(m);
        op->config = TAKE_PTR(config);

        c->exit_code = 0;
        c->finished_at = 0;
        free(c->reason);
        c->reason = strdup("");
        free(c->signal);
        c->signal = strdup("");
        if (!c->reason || !c->signal) {
                start_op_free(op);
                return -ENOMEM;
        }
        (void) container_set_state(c, CONTAINER_INITIALIZING);
        container_cron_arm(c); /* a user's start resumes a schedule a stop ended */
        r = worker_acquire(b, WORKER_EXEC, start_with_link, op);
        if (r < 0) {
                (void) container_set_state(c, CONTAINER_FAILED);
                start_op_free(op);
                return r;
        }
        return 1;
}

/* Stop */

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Container *c = userdata;

        c->stop_timer = sd_event_source_disable_unref(c->stop_timer);
        if (c->state != CONTAINER_STOPPING)
                return 0;
        log_info("Container %s did not stop in time, sending SIGKILL.", c->id);
        (void) container_kill(c, SIGKILL, NULL);
        return 0;
}

int method_stop_container(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        const char *id;
        uint64_t timeout;
        Container *c;
        int sig, r;

        r = sd_bus_message_read(m, "st", &id, &timeout);
        if (r < 0)
                return r;
        r = container_find_or_error(b, id, &c, error);
        if (r < 0)
                return r;
        r = authz_verify(b, m, c->id, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */

        if (c->state == CONTAINER_INITIALIZING)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is initializing", c->id);
        if (!container_state_is_active(c->state)) {
                container_restart_cancel(c); /* and a policy restart on its way */
                return sd_bus_reply_method_return(m, NULL);
        }
        r = container_ops_admit(b, "StopContainer", c->id, error);
        if (r < 0)
                return r;

        r = add_waiter(c, WAITER_STOP, m, error);
        if (r < 0)
                return r;
        if (c->state == CONTAINER_STOPPING && c->stop_timer)
                return 1; /* already on its way, with its own timer */

        sig = c->stop_signal ? signal_from_string(c->stop_signal) : SIGTERM;
        if (sig <= 0)
                sig = SIGTERM;
        if (timeout == 0)
                timeout = c->stop_grace_usec > 0 ? c->stop_grace_usec : DEFAULT_STOP_USEC;

        (void) container_set_state(c, CONTAINER_STOPPING);
        r = sd_event_add_time_relative(b->event, &c->stop_timer, CLOCK_MONOTONIC, timeout, USEC_PER_MSEC,
                                       on_stop_timeout, c);
        if (r < 0)
                log_warning_errno(r, "Failed to arm the stop timer of %s: %m", c->id);
        log_info("Stopping container %s with %s, SIGKILL after %" PRIu64 " ms.", c->id, signal_to_name(sig),
                 (uint64_t) (timeout / USEC_PER_MSEC));
        r = container_kill(c, sig, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to send %s to %s: %m", signal_to_name(sig), c->id);
        return 1;
}

int method_kill_container(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        const char *id, *signame;
        Container *c;
        int sig, r;

        r = sd_bus_message_read(m, "ss", &id, &signame);
        if (r < 0)
                return r;
        sig = signal_from_kill_string(signame);
        if (sig <= 0)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "signal '%s' is not allowed", signame);
        r = container_find_or_error(b, id, &c, error);
        if (r < 0)
                return r;
        r = authz_verify(b, m, c->id, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */
        if (c->state != CONTAINER_RUNNING && c->state != CONTAINER_STOPPING)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is not running (%s)", c->id,
                                         container_state_to_string(c->state));
        r = container_ops_admit(b, "KillContainer", c->id, error);
        if (r < 0)
                return r;
        r = container_kill(c, sig, m);
        if (r < 0)
                return r;
        return 1;
}

int method_remove_container(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        const char *id;
        Container *c;
        int force, r;

        r = sd_bus_message_read(m, "sb", &id, &force);
        if (r < 0)
                return r;
        r = container_find_or_error(b, id, &c, error);
        if (r < 0)
                return r;
        r = authz_verify(b, m, c->id, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */
        if (c->removing)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is being removed", c->id);
        r = container_ops_admit(b, "RemoveContainer", c->id, error);
        if (r < 0)
                return r;
        if (container_state_is_active(c->state)) {
                if (!force)
                        return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE,
                                                 "container '%s' is %s; stop it first or force", c->id,
                                                 container_state_to_string(c->state));
                if (c->state == CONTAINER_INITIALIZING)
                        return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is initializing", c->id);
                r = add_waiter(c, WAITER_REMOVE, m, error);
                if (r < 0)
                        return r;
                r = container_kill(c, SIGKILL, NULL);
                if (r < 0)
                        log_warning_errno(r, "Failed to kill %s: %m", c->id);
                return 1;
        }
        r = container_remove(c, m);
        if (r < 0)
                return r;
        return 1;
}

int method_get_container_state(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        Container *c;
        int r;

        r = container_find_authorized(b, m, &c, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return sd_bus_reply_method_return(m, "sis", container_state_to_string(c->state), c->exit_code, strempty(c->reason));
}

int method_wait_container(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        const char *id, *condition;
        WaiterKind kind;
        Container *c;
        int r;

        r = sd_bus_message_read(m, "ss", &id, &condition);
        if (r < 0)
                return r;
        if (isempty(condition) || streq(condition, "not-running"))
                kind = WAITER_NOT_RUNNING;
        else if (streq(condition, "next-exit"))
                kind = WAITER_NEXT_EXIT;
        else if (streq(condition, "removed"))
                kind = WAITER_REMOVED;
        else
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "unknown wait condition '%s'", condition);
        r = container_find_or_error(b, id, &c, error);
        if (r < 0)
                return r;
        r = authz_verify(b, m, c->id, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */
        if (kind == WAITER_NOT_RUNNING && !container_state_is_active(c->state))
                return sd_bus_reply_method_return(m, "isst", c->exit_code, strempty(c->reason), strempty(c->signal),
                                                  c->finished_at);
        r = add_waiter(c, kind, m, error);
        if (r < 0)
                return r;
        return 1;
}

int method_get_container_pid(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        Container *c;
        int r;

        r = container_find_authorized(b, m, &c, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return sd_bus_reply_method_return(m, "u", c->pid);
}

int method_list_containers(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Broker *b = userdata;
        int r;

        r = authz_verify(b, m, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sssussto)");
        if (r < 0)
                return r;
        for (Container *c = b->containers; c; c = c->next) {
                _cleanup_free_ char *path = container_object_path(c->id);
                if (!path)
                        return -ENOMEM;
                r = sd_bus_message_append(reply, "(sssussto)", c->id, c->name, c->service, c->replica, c->image,
                                          container_state_to_string(c->state), c->created_at, path);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}
