/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtype cron: the broker runs the container at each minute its `schedule`
 * matches (lib/cron.h, UTC), as a job: Exec1.Start of the same container,
 * as a policy restart would (never a new container). One run at a time: a
 * tick while the previous run is still active (or waiting for a policy
 * restart) is skipped and logged. The timer is CLOCK_REALTIME, so a change
 * of the wall clock moves the run with it.
 *
 * The schedule comes from spec.json each time it is armed: at create, at
 * broker start (no catch-up of ticks missed while no broker ran), and at a
 * StartContainer by a user (which runs it now and resumes the schedule).
 * Stop, Kill and Remove end it (stopped_by_user, in state.json, so it stays
 * ended across broker restarts).
 *
 * Test builds (-Dtest_hooks=true) read ZL_TEST_CRON_MINUTE_USEC: the
 * schedule's clock then runs faster, a minute lasting that long from the
 * broker's start on, so that the integration suite sees runs within
 * seconds. Release builds have no such code. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

#include "config.h"
#include "container.h"
#include "cron.h"
#include "fileio.h"
#include "log.h"
#include "servicespec.h"

#define SPEC_MAX (1024 * 1024)
#define MINUTE_USEC (60 * USEC_PER_SEC)

static uint64_t now_realtime(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

/* The schedule's clock: the wall clock, or in test builds one whose minute
 * lasts minute_usec from epoch_usec on. */
static uint64_t minute_usec = MINUTE_USEC, epoch_usec;

static void clock_init(void) {
#if ZL_TEST_HOOKS
        static bool done;
        const char *e;
        char *end;
        unsigned long long v;

        if (done)
                return;
        done = true;
        e = getenv("ZL_TEST_CRON_MINUTE_USEC");
        if (!e)
                return;
        errno = 0;
        v = strtoull(e, &end, 10);
        if (errno == 0 && end != e && *end == '\0' && v >= 100 * USEC_PER_MSEC && v <= MINUTE_USEC) {
                minute_usec = v;
                epoch_usec = now_realtime();
                log_warning("Test hook: a cron minute lasts %llu ms.", v / USEC_PER_MSEC);
        }
#endif
}

static int64_t schedule_now_sec(void) {
        uint64_t now = now_realtime();

        if (minute_usec == MINUTE_USEC)
                return (int64_t) (now / USEC_PER_SEC);
        return (int64_t) ((epoch_usec + (unsigned __int128) (now - epoch_usec) * MINUTE_USEC / minute_usec) / USEC_PER_SEC);
}

static uint64_t schedule_to_realtime(int64_t sec) {
        uint64_t v = (uint64_t) sec * USEC_PER_SEC;

        if (minute_usec == MINUTE_USEC || v <= epoch_usec)
                return v;
        /* rounded up: the timer never fires before the schedule's minute */
        return epoch_usec + (uint64_t) (((unsigned __int128) (v - epoch_usec) * minute_usec + MINUTE_USEC - 1) / MINUTE_USEC);
}

static int schedule_get(Container *c, CronSpec *ret, char **ret_expr) {
        _cleanup_(service_spec_freep) ServiceSpec *spec = NULL;
        _cleanup_free_ char *rel = NULL, *text = NULL, *why = NULL;
        int r;

        if (asprintf(&rel, "%s/spec.json", c->id) < 0)
                return -ENOMEM;
        r = read_file_at(c->broker->containers_fd, rel, SPEC_MAX, &text, NULL);
        if (r < 0)
                return r;
        r = service_spec_parse(text, strlen(text), &spec, NULL);
        if (r < 0)
                return r;
        if (!spec->rtype || !streq(spec->rtype, "cron") || !spec->schedule)
                return 0;
        r = cron_parse(spec->schedule, ret, &why);
        if (r < 0)
                return log_warning_errno(r, "Container %s has a bad schedule '%s': %s", c->id, spec->schedule, strempty(why));
        *ret_expr = TAKE_PTR(spec->schedule);
        return 1;
}

static int on_cron_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Container *c = userdata;

        c->cron_timer = sd_event_source_disable_unref(c->cron_timer);
        c->cron_next_usec = 0;
        if (!c->registered || c->removing || c->stopped_by_user)
                return 0;
        c->cron_last_tick = schedule_now_sec() / 60 * 60;
        if (container_state_is_active(c->state) || c->restart_timer)
                log_info("Cron run of container %s skipped: the previous run is still %s.", c->id,
                         c->restart_timer ? "waiting for a policy restart" : container_state_to_string(c->state));
        else {
                log_info("Cron run of container %s.", c->id);
                (void) container_start_unattended(c, false);
        }
        container_cron_arm(c);
        return 0;
}

void container_cron_arm(Container *c) {
        _cleanup_free_ char *expr = NULL;
        CronSpec spec;
        time_t next;
        int64_t after;
        int r;

        if (c->cron_timer || c->stopped_by_user || c->removing || !c->broker || !c->broker->event)
                return;
        r = schedule_get(c, &spec, &expr);
        if (r <= 0) {
                if (r < 0 && r != -ENOENT)
                        log_warning_errno(r, "Cannot read the schedule of %s: %m", c->id);
                return;
        }
        clock_init();
        /* never the minute of the last run again (the clocks' rounding) */
        after = MAX(schedule_now_sec(), c->cron_last_tick);
        r = cron_next(&spec, (time_t) after, &next);
        if (r < 0) {
                log_warning_errno(r, "Schedule '%s' of %s has no next run: %m", expr, c->id);
                return;
        }
        c->cron_next_usec = schedule_to_realtime(next);
        r = sd_event_add_time(c->broker->event, &c->cron_timer, CLOCK_REALTIME, c->cron_next_usec,
                              10 * USEC_PER_MSEC, on_cron_timer, c);
        if (r < 0) {
                c->cron_next_usec = 0;
                log_warning_errno(r, "Failed to arm the cron timer of %s: %m", c->id);
                return;
        }
        log_debug("Container %s (schedule '%s') runs next at %" PRIu64 " (realtime usec).", c->id, expr, c->cron_next_usec);
}

void container_cron_disarm(Container *c) {
        if (c->cron_timer)
                log_info("Schedule of container %s ended.", c->id);
        c->cron_timer = sd_event_source_disable_unref(c->cron_timer);
        c->cron_next_usec = 0;
}
