/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Restart policies (servicespec.md restart_policy; UpdateContainerResources
 * restart_policy / restart_max_retries override the spec's).
 *
 *   no              never
 *   always          after every exit
 *   unless_stopped  after every exit
 *   on_failure      after an exit that is not a clean 0
 *
 * A container stopped or killed by a user (StopContainer, KillContainer,
 * RemoveContainer force) is never restarted by its policy: the user's word
 * wins, which makes always and unless_stopped behave the same, across broker
 * restarts too (stopped_by_user is in state.json). max_attempts (> 0) caps
 * RestartCount, which a start by a user resets. The wait before a restart
 * is the policy's delay (default 100 ms), doubled after every restart of a
 * container that ran less than 10 s, capped at 1 min. A restart that cannot
 * start the container counts as an attempt and is retried the same way. */
#include <fcntl.h>

#include "container.h"
#include "errors.h"
#include "fileio.h"
#include "log.h"
#include "servicespec.h"
#include "worker-links.h"

#define RESTART_DEFAULT_DELAY_USEC (100 * USEC_PER_MSEC)
#define RESTART_MAX_DELAY_USEC (60 * USEC_PER_SEC)
#define RESTART_RESET_USEC (10 * USEC_PER_SEC)
#define SPEC_MAX (1024 * 1024)
#define CONFIG_MAX (4 * 1024 * 1024)
#define START_CALL_USEC (2 * 60 * USEC_PER_SEC)

typedef struct RestartPolicy {
        char kind[16];
        int64_t max_attempts;   /* 0 = unlimited */
        uint64_t delay_usec;
} RestartPolicy;

static int policy_get(Container *c, RestartPolicy *ret) {
        _cleanup_(service_spec_freep) ServiceSpec *spec = NULL;
        _cleanup_free_ char *rel = NULL, *text = NULL;
        RestartPolicy p = { .kind = "no" };
        int r;

        if (asprintf(&rel, "%s/spec.json", c->id) < 0)
                return -ENOMEM;
        r = read_file_at(c->broker->containers_fd, rel, SPEC_MAX, &text, NULL);
        if (r >= 0)
                r = service_spec_parse(text, strlen(text), &spec, NULL);
        if (r >= 0) {
                if (!isempty(spec->restart_kind))
                        snprintf(p.kind, sizeof(p.kind), "%s", spec->restart_kind);
                p.max_attempts = MAX(spec->restart_max_attempts, 0);
                p.delay_usec = spec->restart_delay_usec;
        } else if (r != -ENOENT)
                log_warning_errno(r, "Cannot read the restart policy of %s from spec.json: %m", c->id);
        if (c->restart_kind)
                snprintf(p.kind, sizeof(p.kind), "%s", c->restart_kind);
        if (c->restart_max >= 0)
                p.max_attempts = c->restart_max;
        if (p.delay_usec == 0)
                p.delay_usec = RESTART_DEFAULT_DELAY_USEC;
        *ret = p;
        return 0;
}

int container_set_restart_policy(Container *c, const char *kind, int64_t max_attempts) {
        if (kind) {
                char *k = strdup(kind);
                if (!k)
                        return -ENOMEM;
                free(c->restart_kind);
                c->restart_kind = k;
        }
        if (max_attempts >= 0)
                c->restart_max = max_attempts;
        return container_state_save(c, c->broker->containers_fd);
}

/* ---- the restart itself: Exec1.Start with config.json ---- */

static void restart_schedule(Container *c, bool after_failed_start);

static int on_restart_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Container *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        uint32_t pid;
        uint64_t started_at;

        if (e) {
                log_warning("Starting container %s again failed: %s: %s", c->id, e->name, strempty(e->message));
                if (c->state == CONTAINER_INITIALIZING && !worker_links_shutting_down(c->broker) &&
                    strneq(e->name, ZL_ERROR_PREFIX, strlen(ZL_ERROR_PREFIX))) {
                        c->pid = 0;
                        free(c->reason);
                        c->reason = strdup("runtime_error");
                        (void) container_set_state(c, CONTAINER_FAILED);
                        if (c->registered && !c->removing)
                                restart_schedule(c, true);
                }
        } else if (sd_bus_message_read(m, "ut", &pid, &started_at) >= 0 && c->state == CONTAINER_INITIALIZING) {
                c->pid = pid;
                c->started_at = started_at;
                c->exit_code = 0;
                (void) container_set_state(c, CONTAINER_RUNNING);
                log_info("Started container %s again (pid %u, restart %u).", c->id, pid, c->restart_count);
        }
        container_unref(c);
        return 0;
}

static void restart_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *rel = NULL, *config = NULL;
        Container *c = userdata;
        int r = link ? 0 : -ENOLINK;

        if (r >= 0 && asprintf(&rel, "%s/config.json", c->id) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = read_file_at(b->containers_fd, rel, CONFIG_MAX, &config, NULL);
        if (r >= 0)
                r = sd_bus_message_new_method_call(link, &m, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "Start");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", c->id, config);
        if (r >= 0)
                r = sd_bus_call_async(link, NULL, m, on_restart_reply, c, START_CALL_USEC);
        if (r >= 0)
                return; /* the reply handler owns the reference */
        log_warning_errno(r, "Cannot start container %s again: %m", c->id);
        if (c->state == CONTAINER_INITIALIZING && !worker_links_shutting_down(b))
                (void) container_set_state(c, CONTAINER_FAILED);
        container_unref(c);
}

int container_start_unattended(Container *c, bool policy) {
        c->exit_code = 0;
        c->finished_at = 0;
        free(c->reason);
        c->reason = strdup("");
        free(c->signal);
        c->signal = strdup("");
        if (policy)
                c->restart_count++;
        /* a policy restart keeps its count; a cron run starts afresh like a user's start */
        c->restarting = policy;
        (void) container_set_state(c, CONTAINER_INITIALIZING);
        c->restarting = false;
        if (policy)
                container_emit_changed(c, "RestartCount", NULL);
        if (worker_acquire(c->broker, WORKER_EXEC, restart_with_link, container_ref(c)) < 0) {
                container_unref(c);
                (void) container_set_state(c, CONTAINER_FAILED);
                return -ENOLINK;
        }
        return 0;
}

static int on_restart_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Container *c = userdata;

        c->restart_timer = sd_event_source_disable_unref(c->restart_timer);
        if (!c->registered || c->removing || c->stopped_by_user || container_state_is_active(c->state))
                return 0;
        log_info("Restarting container %s (restart %u).", c->id, c->restart_count + 1);
        (void) container_start_unattended(c, true);
        return 0;
}

bool restart_wanted(const char *kind, bool failed, unsigned restart_count, int64_t max_attempts, bool stopped_by_user) {
        if (stopped_by_user || !kind || streq(kind, "no"))
                return false;
        if (streq(kind, "on_failure") && !failed)
                return false;
        if (!streq(kind, "on_failure") && !streq(kind, "always") && !streq(kind, "unless_stopped"))
                return false;
        return max_attempts <= 0 || restart_count < (uint64_t) max_attempts;
}

uint64_t restart_wait_usec(uint64_t delay, unsigned backoff) {
        uint64_t wait = delay > 0 ? delay : RESTART_DEFAULT_DELAY_USEC;
        for (unsigned i = 0; i < backoff && wait < RESTART_MAX_DELAY_USEC; i++)
                wait *= 2;
        return MIN(wait, RESTART_MAX_DELAY_USEC);
}

static void restart_schedule(Container *c, bool after_failed_start) {
        RestartPolicy p;
        uint64_t wait;
        bool failed;
        int r;

        if (c->restart_timer || c->stopped_by_user || policy_get(c, &p) < 0)
                return;
        failed = after_failed_start || c->exit_code != 0 || !streq(strempty(c->reason), "exited");
        if (!restart_wanted(p.kind, failed, c->restart_count, p.max_attempts, c->stopped_by_user)) {
                if (p.max_attempts > 0 && c->restart_count >= p.max_attempts && !streq(p.kind, "no"))
                        log_info("Container %s reached its %" PRIi64 " restart attempts.", c->id, p.max_attempts);
                return;
        }
        /* a container that ran for a while starts the backoff afresh */
        if (!after_failed_start && c->finished_at > c->started_at && c->finished_at - c->started_at >= RESTART_RESET_USEC)
                c->restart_backoff = 0;
        wait = restart_wait_usec(p.delay_usec, c->restart_backoff);
        c->restart_backoff++;
        r = sd_event_add_time_relative(c->broker->event, &c->restart_timer, CLOCK_MONOTONIC, wait, USEC_PER_MSEC,
                                       on_restart_timer, c);
        if (r < 0) {
                log_warning_errno(r, "Failed to arm the restart timer of %s: %m", c->id);
                return;
        }
        log_info("Container %s (policy %s) restarts in %" PRIu64 " ms.", c->id, p.kind, (uint64_t) (wait / USEC_PER_MSEC));
}

void container_restart_on_exit(Container *c) {
        restart_schedule(c, false);
}

void container_restart_cancel(Container *c) {
        /* StopContainer of an exited container waiting for its restart, or
         * for its next cron run */
        c->restart_timer = sd_event_source_disable_unref(c->restart_timer);
        container_cron_disarm(c);
        if (!c->stopped_by_user) {
                c->stopped_by_user = true;
                (void) container_state_save(c, c->broker->containers_fd);
        }
}

void containers_restart_pending(Broker *b) {
        /* Timers died with a previous broker: decide again for what exited. */
        for (Container *c = b->containers; c; c = c->next)
                if ((c->state == CONTAINER_EXITED || c->state == CONTAINER_FAILED) && c->started_at > 0 && !c->removing)
                        restart_schedule(c, false);
}
