/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Health checks (the spec's `health`, carried in config.json): while a
 * container runs, an sd-event timer asks zlayer-exec for one check every
 * interval (Exec1.Probe: the command through the exec monitor, tcp/http from
 * inside the container's network namespace). Docker's semantics: status
 * "starting" until the first success, "healthy" after a success,
 * "unhealthy" after `retries` failures in a row; failures inside
 * start_grace do not count. The last five results are kept for
 * InspectContainer's State.Health. One check at a time per container; the
 * next is scheduled when the previous answered. */
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "container.h"
#include "errors.h"
#include "fileio.h"
#include "health.h"
#include "log.h"
#include "worker-links.h"

#define CONFIG_MAX (4 * 1024 * 1024)
#define HEALTH_LOG_MAX 5
#define PROBE_GRACE_USEC (5 * USEC_PER_SEC)

typedef struct HealthResult {
        uint64_t start, end;
        int32_t exit_code;
        char *output;
} HealthResult;

struct Health {
        Container *container;   /* weak: the container owns us */
        char *kind;
        char **args;
        int64_t expect_status, retries;
        uint64_t start_grace, interval, timeout;

        const char *status;     /* starting healthy unhealthy */
        unsigned failing_streak;
        uint64_t started;
        HealthResult log[HEALTH_LOG_MAX];
        size_t n_log;

        sd_event_source *timer;
        sd_bus_slot *probe;
        uint64_t probe_start;
        bool waiting_link;
};

static uint64_t now(clockid_t clock) {
        struct timespec ts;
        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static void health_result_done(HealthResult *r) {
        free(r->output);
        r->output = NULL;
}

void health_free(Health *h) {
        if (!h)
                return;
        sd_event_source_disable_unref(h->timer);
        sd_bus_slot_unref(h->probe);
        for (size_t i = 0; i < h->n_log; i++)
                health_result_done(&h->log[i]);
        free(h->kind);
        strv_free(h->args);
        free(h);
}

static int json_get_u64(json_object *o, const char *k, uint64_t *ret) {
        json_object *v;
        if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
                return -EBADMSG;
        *ret = json_object_get_uint64(v);
        return 0;
}

/* The "health" member of the container's config.json; 0 when there is none. */
static int health_load(Container *c, Health **ret) {
        _cleanup_free_ char *rel = NULL, *text = NULL;
        json_object *cfg, *hj, *v;
        Health *h;
        uint64_t x;
        int r;

        *ret = NULL;
        if (asprintf(&rel, "%s/config.json", c->id) < 0)
                return -ENOMEM;
        r = read_file_at(c->broker->containers_fd, rel, CONFIG_MAX, &text, NULL);
        if (r < 0)
                return r;
        cfg = json_tokener_parse(text);
        if (!cfg)
                return -EBADMSG;
        if (!json_object_object_get_ex(cfg, "health", &hj) || !json_object_is_type(hj, json_type_object)) {
                json_object_put(cfg);
                return 0;
        }
        h = calloc(1, sizeof(*h));
        if (!h) {
                json_object_put(cfg);
                return -ENOMEM;
        }
        r = -EBADMSG;
        if (!json_object_object_get_ex(hj, "kind", &v) || !json_object_is_type(v, json_type_string) ||
            !(h->kind = strdup(json_object_get_string(v))))
                goto fail;
        if (!json_object_object_get_ex(hj, "args", &v) || !json_object_is_type(v, json_type_array))
                goto fail;
        h->args = calloc(json_object_array_length(v) + 1, sizeof(char *));
        if (!h->args)
                goto fail;
        for (size_t i = 0; i < json_object_array_length(v); i++)
                if (!(h->args[i] = strdup(strempty(json_object_get_string(json_object_array_get_idx(v, i))))))
                        goto fail;
        if (json_get_u64(hj, "start_grace_usec", &h->start_grace) < 0 || json_get_u64(hj, "interval_usec", &h->interval) < 0 ||
            json_get_u64(hj, "timeout_usec", &h->timeout) < 0 || json_get_u64(hj, "retries", &x) < 0)
                goto fail;
        h->retries = (int64_t) MAX(x, (uint64_t) 1);
        h->expect_status = json_get_u64(hj, "expect_status", &x) < 0 ? 200 : (int64_t) x;
        if (h->interval < 100 * USEC_PER_MSEC || h->timeout == 0)
                goto fail;
        json_object_put(cfg);
        h->container = c;
        *ret = h;
        return 1;
fail:
        json_object_put(cfg);
        health_free(h);
        return r;
}

static void health_schedule(Health *h, uint64_t delay);

/* The spec's restart policy kind (UpdateContainerResources may override it). */
static bool restart_policy_set(Container *c) {
        _cleanup_free_ char *rel = NULL, *text = NULL;
        json_object *spec, *rp, *kind;
        bool set = false;

        if (c->restart_kind)
                return !streq(c->restart_kind, "no");
        if (asprintf(&rel, "%s/spec.json", c->id) < 0 ||
            read_file_at(c->broker->containers_fd, rel, CONFIG_MAX, &text, NULL) < 0 || !(spec = json_tokener_parse(text)))
                return false;
        if (json_object_object_get_ex(spec, "restart_policy", &rp) && json_object_object_get_ex(rp, "kind", &kind) &&
            json_object_is_type(kind, json_type_string))
                set = !streq(json_object_get_string(kind), "no");
        json_object_put(spec);
        return set;
}

static int on_kill_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        Container *c = userdata;

        if (e)
                log_warning("Cannot kill unhealthy container %s: %s", c->id, strempty(e->message));
        container_unref(c);
        return 0;
}

static void kill_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        Container *c = userdata;
        int r;

        if (!link || c->state != CONTAINER_RUNNING) {
                container_unref(c);
                return;
        }
        r = sd_bus_call_method_async(link, NULL, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "Kill", on_kill_reply, c, "si", c->id,
                                     (int32_t) SIGKILL);
        if (r < 0) {
                log_warning_errno(r, "Cannot kill unhealthy container %s: %m", c->id);
                container_unref(c);
        }
}

/* An unhealthy container with a restart policy is killed: its exit (137,
 * a failure, not a user's stop) lets the policy restart it. */
static void health_kill_for_restart(Container *c) {
        if (!restart_policy_set(c))
                return;
        log_info("Killing unhealthy container %s so that its restart policy restarts it.", c->id);
        container_ref(c);
        if (worker_acquire(c->broker, WORKER_EXEC, kill_with_link, c) < 0)
                container_unref(c);
}

static void health_record(Health *h, int32_t code, const char *output) {
        const char *old = h->status;
        bool passed = code == 0;
        HealthResult *res;

        if (passed && streq(h->kind, "http")) {
                /* "<status> <status line>" from the prober */
                long got = strtol(output, NULL, 10);
                passed = got == h->expect_status;
                if (!passed)
                        code = 1;
        }
        if (h->n_log == HEALTH_LOG_MAX) {
                health_result_done(&h->log[0]);
                memmove(h->log, h->log + 1, (HEALTH_LOG_MAX - 1) * sizeof(HealthResult));
                h->n_log--;
        }
        res = &h->log[h->n_log++];
        *res = (HealthResult) {
                .start = h->probe_start,
                .end = now(CLOCK_REALTIME),
                .exit_code = code,
                .output = strndup(output, 4096),
        };

        if (passed) {
                h->failing_streak = 0;
                h->status = "healthy";
        } else if (now(CLOCK_MONOTONIC) >= h->started + h->start_grace) {
                h->failing_streak++;
                if (h->failing_streak >= (unsigned) h->retries)
                        h->status = "unhealthy";
        }
        if (!streq(old, h->status)) {
                log_info("Container %s is %s (%s check: %s).", h->container->id, h->status, h->kind, output);
                if (streq(h->status, "unhealthy"))
                        health_kill_for_restart(h->container);
        }
}

static int on_probe_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Health *h = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *output = NULL;
        int32_t code;

        h->probe = sd_bus_slot_unref(h->probe);
        if (e && sd_bus_error_has_name(e, ZL_ERROR_BUSY)) {
                /* zlayer-exec runs too many checks: not the container's fault */
                log_debug("Health check of %s skipped: %s", h->container->id, strempty(e->message));
        } else if (e) {
                _cleanup_free_ char *msg = NULL;
                if (asprintf(&msg, "%s: %s", e->name, strempty(e->message)) < 0)
                        return 0;
                health_record(h, -1, msg);
        } else if (sd_bus_message_read(reply, "is", &code, &output) < 0)
                health_record(h, -1, "bad reply from zlayer-exec");
        else
                health_record(h, code, output);
        health_schedule(h, h->interval);
        return 0;
}

static void probe_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        Container *c = userdata;
        Health *h = c->health;
        int r;

        if (h)
                h->waiting_link = false;
        if (!h || c->state != CONTAINER_RUNNING) {
                container_unref(c);
                return;
        }
        if (!link) {
                health_record(h, -1, "worker exec is not available");
                health_schedule(h, h->interval);
                container_unref(c);
                return;
        }
        h->probe_start = now(CLOCK_REALTIME);
        r = sd_bus_message_new_method_call(link, &m, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "Probe");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", c->id, h->kind);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, h->args);
        if (r >= 0)
                r = sd_bus_message_append(m, "t", h->timeout);
        if (r >= 0)
                r = sd_bus_call_async(link, &h->probe, m, on_probe_reply, h, h->timeout + PROBE_GRACE_USEC);
        if (r < 0) {
                health_record(h, -1, "cannot call Probe");
                health_schedule(h, h->interval);
        }
        container_unref(c);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Health *h = userdata;
        Container *c = h->container;
        int r;

        if (h->probe || h->waiting_link || c->state != CONTAINER_RUNNING)
                return 0;
        h->waiting_link = true;
        container_ref(c);
        r = worker_acquire(c->broker, WORKER_EXEC, probe_with_link, c);
        if (r < 0) {
                h->waiting_link = false;
                container_unref(c);
                health_schedule(h, h->interval);
        }
        return 0;
}

static void health_schedule(Health *h, uint64_t delay) {
        int r;

        if (h->timer)
                r = sd_event_source_set_time_relative(h->timer, delay) < 0 ? -1 :
                    sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
        else
                r = sd_event_add_time_relative(h->container->broker->event, &h->timer, CLOCK_MONOTONIC, delay, 0,
                                               on_timer, h);
        if (r < 0)
                log_warning("Cannot schedule the health check of %s.", h->container->id);
}

void container_health_start(Container *c) {
        Health *h = NULL;
        int r;

        container_health_stop(c);
        r = health_load(c, &h);
        if (r < 0) {
                log_warning_errno(r, "Cannot read the health check of %s: %m", c->id);
                return;
        }
        if (r == 0)
                return;
        h->status = "starting";
        h->started = now(CLOCK_MONOTONIC);
        c->health = h;
        health_schedule(h, h->interval);
}

void container_health_ensure(Container *c) {
        Health *h = c->health;

        if (!h || (!h->timer && !h->probe && !h->waiting_link))
                container_health_start(c);
}

void container_health_stop(Container *c) {
        Health *h = c->health;

        if (!h)
                return;
        /* keep the last status and log for InspectContainer; stop checking */
        h->timer = sd_event_source_disable_unref(h->timer);
        h->probe = sd_bus_slot_unref(h->probe);
}

void container_health_free(Container *c) {
        health_free(c->health);
        c->health = NULL;
}

static char *rfc3339(uint64_t usec) {
        char buf[64], *s;
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (!gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
                return NULL;
        if (asprintf(&s, "%s.%06lluZ", buf, (unsigned long long) (usec % USEC_PER_SEC)) < 0)
                return NULL;
        return s;
}

json_object *container_health_to_json(const Container *c) {
        const Health *h = c->health;
        json_object *o, *log;

        if (!h)
                return NULL;
        o = json_object_new_object();
        log = json_object_new_array();
        if (!o || !log) {
                json_object_put(o);
                json_object_put(log);
                return NULL;
        }
        json_object_object_add(o, "Status", json_object_new_string(h->status));
        json_object_object_add(o, "FailingStreak", json_object_new_int64(h->failing_streak));
        for (size_t i = 0; i < h->n_log; i++) {
                _cleanup_free_ char *start = rfc3339(h->log[i].start), *end = rfc3339(h->log[i].end);
                json_object *e = json_object_new_object();
                if (!e)
                        break;
                json_object_object_add(e, "Start", json_object_new_string(strempty(start)));
                json_object_object_add(e, "End", json_object_new_string(strempty(end)));
                json_object_object_add(e, "ExitCode", json_object_new_int(h->log[i].exit_code));
                json_object_object_add(e, "Output", json_object_new_string(strempty(h->log[i].output)));
                json_object_array_add(log, e);
        }
        json_object_object_add(o, "Log", log);
        return o;
}
