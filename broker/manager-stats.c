/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/epoll.h>
#include <stdio.h>
#include <unistd.h>

#include "broker.h"
#include "container.h"
#include "errors.h"
#include "log.h"
#include "macro.h"
#include "manager-stats.h"
#include "worker-links.h"

#define STATS_U64_KEYS(X)                                                                                      \
        X(cpu_total_ns) X(cpu_system_ns) X(mem_used_bytes) X(mem_limit_bytes) X(net_rx_bytes) X(net_tx_bytes) \
                X(blkio_read_bytes) X(blkio_write_bytes) X(pids_current) X(pids_limit) X(timestamp)

/* A sample takes a few small reads of kernel files; a worker that has not
 * answered in this time is stuck, and the caller gets an error. */
#define STATS_CALL_USEC (5 * USEC_PER_SEC)

/* Asks zlayer-stats for a sample of container @id whose entrypoint is @pid. */
static int stats_sample_async(sd_bus *link, sd_bus_slot **ret_slot, const char *id, pid_t pid,
                              sd_bus_message_handler_t callback, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(link, &m, NULL, ZL_WORKER_PATH, ZL_STATS_IFACE, "Sample");
        if (r >= 0)
                r = sd_bus_message_append(m, "su", id, (uint32_t) pid);
        if (r >= 0)
                r = sd_bus_call_async(link, ret_slot, m, callback, userdata, STATS_CALL_USEC);
        return r;
}

/* The sample in zlayer-stats' answer. Its own errors (the public names:
 * InvalidState when the cgroup is gone, …) are passed on as they are; a
 * link that broke or timed out becomes Internal naming the worker. The JSON
 * is parsed strictly, so only well-formed samples reach a caller. */
static int stats_sample_parse(sd_bus_message *reply, const char *id, ContainerStats *ret, sd_bus_error *error) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *json;
        int r;

        if (e) {
                if (strncmp(e->name, ZL_ERROR_PREFIX, strlen(ZL_ERROR_PREFIX)) == 0)
                        return sd_bus_error_copy(error, e);
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "zlayer-stats did not sample '%s': %s", id,
                                         e->message ?: e->name);
        }
        r = sd_bus_message_read(reply, "s", &json);
        if (r >= 0)
                r = container_stats_from_json(json, ret);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "zlayer-stats answered a bad sample of '%s': %s",
                                         id, strerror(-r));
        return 0;
}

/* ---- GetContainerStats ---- */

typedef struct StatsGet {
        sd_bus_message *request;
        char *container;
        pid_t pid;
} StatsGet;

static void stats_get_free(StatsGet *g) {
        sd_bus_message_unref(g->request);
        free(g->container);
        free(g);
}

static int stats_get_reply(sd_bus_message *m, const ContainerStats *s) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
#define APPEND_U64(k)                                                            \
        if (r >= 0)                                                              \
                r = sd_bus_message_append(reply, "{sv}", #k, "t", (uint64_t) s->k);
        STATS_U64_KEYS(APPEND_U64)
#undef APPEND_U64
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}", "online_cpus", "u", s->online_cpus);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int stats_get_on_sample(sd_bus_message *reply, void *userdata, sd_bus_error *unused) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        StatsGet *g = userdata;
        ContainerStats s;
        int r;

        r = stats_sample_parse(reply, g->container, &s, &e);
        if (r >= 0)
                r = stats_get_reply(g->request, &s);
        else
                r = sd_bus_reply_method_error(g->request, &e);
        if (r < 0)
                log_debug_errno(r, "Failed to answer GetContainerStats of %s: %m", g->container);
        stats_get_free(g);
        return 0;
}

static void stats_get_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        StatsGet *g = userdata;
        int r = error;

        if (link)
                r = stats_sample_async(link, NULL, g->container, g->pid, stats_get_on_sample, g);
        if (r >= 0)
                return;
        r = sd_bus_reply_method_errorf(g->request, ZL_ERROR_INTERNAL, "zlayer-stats is not available to sample '%s': %s",
                                       g->container, strerror(-r));
        if (r < 0)
                log_debug_errno(r, "Failed to answer GetContainerStats of %s: %m", g->container);
        stats_get_free(g);
}

int method_get_container_stats(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        StatsGet *g;
        Container *c;
        int r;

        r = container_find_authorized(b, m, &c, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if ((c->state != CONTAINER_RUNNING && c->state != CONTAINER_STOPPING) || c->pid == 0)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is not running (%s)", c->id,
                                         container_state_to_string(c->state));

        g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        g->request = sd_bus_message_ref(m);
        g->pid = (pid_t) c->pid;
        g->container = strdup(c->id);
        if (!g->container) {
                stats_get_free(g);
                return -ENOMEM;
        }
        /* waits (WORKER_WAIT_USEC at most) for a worker being restarted */
        r = worker_acquire(b, WORKER_STATS, stats_get_with_link, g);
        if (r < 0) {
                stats_get_free(g);
                return r;
        }
        return 1;
}

/* ---- OpenContainerStats ----
 * One JSON line per interval on a pipe whose write end is non-blocking and
 * written from the event loop. A sample that finds the previous one still
 * unwritten (a reader that stopped reading) is dropped, so a stalled reader
 * holds one line at most; a closed reader (EPOLLERR/EPIPE) frees the stream.
 * The stream ends when the container stops running. Each tick asks
 * zlayer-stats for a sample unless the last question is still open; a tick
 * while the worker is being restarted has no sample. */

#define STATS_STREAMS_MAX 256
#define STATS_INTERVAL_MIN_USEC (10 * USEC_PER_MSEC)

typedef struct StatsStream StatsStream;
struct StatsStream {
        Broker *broker;
        char *container;
        pid_t pid;
        uint64_t interval_usec;
        int out_fd;
        char *out;
        size_t out_len, out_off;
        sd_event_source *out_source, *timer;
        sd_bus_slot *call; /* Sample asked, not answered yet */
        StatsStream *next;
};

static StatsStream *stats_streams;
static unsigned n_stats_streams;

static void stats_stream_free(StatsStream *s) {
        for (StatsStream **p = &stats_streams; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        n_stats_streams--;
                        break;
                }
        sd_event_source_disable_unref(s->out_source);
        sd_event_source_disable_unref(s->timer);
        sd_bus_slot_unref(s->call);
        if (s->out_fd >= 0)
                close(s->out_fd);
        free(s->out);
        free(s->container);
        free(s);
}

/* 0: all written or EAGAIN; < 0: the reader is gone */
static int stats_flush(StatsStream *s) {
        while (s->out_off < s->out_len) {
                ssize_t n = write(s->out_fd, s->out + s->out_off, s->out_len - s->out_off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n < 0)
                        return -errno;
                s->out_off += (size_t) n;
        }
        if (s->out_off == s->out_len) {
                free(s->out);
                s->out = NULL;
                s->out_off = s->out_len = 0;
        }
        return sd_event_source_set_io_events(s->out_source, s->out ? EPOLLOUT : 0);
}

static bool stats_stream_running(StatsStream *s) {
        Container *c = container_find_by_id(s->broker, s->container);
        return c && (c->state == CONTAINER_RUNNING || c->state == CONTAINER_STOPPING) && (pid_t) c->pid == s->pid;
}

static int stats_on_out(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        StatsStream *s = userdata;
        int r = (revents & (EPOLLERR | EPOLLHUP)) ? -EPIPE : stats_flush(s);
        if (r < 0)
                stats_stream_free(s);
        return 0;
}

static int stats_on_sample(sd_bus_message *reply, void *userdata, sd_bus_error *unused) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        StatsStream *s = userdata;
        ContainerStats st;
        int r;

        s->call = sd_bus_slot_unref(s->call);
        if (stats_sample_parse(reply, s->container, &st, &e) < 0) {
                /* the container is on its way out (the next tick ends the
                 * stream) or the worker went away (its successor answers) */
                log_debug("No stats sample of %s this time: %s", s->container, e.message);
                return 0;
        }
        r = container_stats_to_json_line(&st, &s->out);
        if (r >= 0) {
                s->out_len = strlen(s->out);
                r = stats_flush(s);
        }
        if (r < 0) {
                if (r != -EPIPE)
                        log_debug_errno(r, "Stats stream of %s ends: %m", s->container);
                stats_stream_free(s);
        }
        return 0;
}

static int stats_on_timer(sd_event_source *es, uint64_t usec, void *userdata) {
        StatsStream *s = userdata;
        sd_bus *link;
        int r;

        if (!stats_stream_running(s)) {
                stats_stream_free(s); /* EOF for the reader */
                return 0;
        }
        /* a line still unwritten: the reader is behind, this sample is dropped */
        link = worker_link(s->broker, WORKER_STATS);
        if (!s->out && !s->call && link) {
                r = stats_sample_async(link, &s->call, s->container, s->pid, stats_on_sample, s);
                if (r < 0)
                        log_debug_errno(r, "Failed to ask for a stats sample of %s: %m", s->container);
        }
        r = sd_event_source_set_time_relative(es, s->interval_usec);
        if (r >= 0)
                r = sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
        if (r < 0)
                stats_stream_free(s);
        return 0;
}

int method_open_container_stats(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        StatsStream *s;
        const char *id;
        uint64_t interval;
        Container *c;
        int fds[2], r;

        r = sd_bus_message_read(m, "st", &id, &interval);
        if (r < 0)
                return r;
        r = container_find_or_error(b, id, &c, error);
        if (r < 0)
                return r;
        r = authz_verify(b, m, c->id, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if ((c->state != CONTAINER_RUNNING && c->state != CONTAINER_STOPPING) || c->pid == 0)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is not running (%s)", c->id,
                                         container_state_to_string(c->state));
        if (n_stats_streams >= STATS_STREAMS_MAX)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "Too many stats streams open (%d)", STATS_STREAMS_MAX);

        s = calloc(1, sizeof(StatsStream));
        if (!s)
                return -ENOMEM;
        s->broker = b;
        s->out_fd = -1;
        s->pid = (pid_t) c->pid;
        s->interval_usec = interval == 0 ? USEC_PER_SEC : MAX(interval, STATS_INTERVAL_MIN_USEC);
        s->next = stats_streams;
        stats_streams = s;
        n_stats_streams++;
        if (!(s->container = strdup(c->id))) {
                stats_stream_free(s);
                return -ENOMEM;
        }
        if (pipe2(fds, O_CLOEXEC) < 0) {
                r = -errno;
                stats_stream_free(s);
                return sd_bus_error_set_errnof(error, -r, "Failed to open the stats stream of %s: %m", c->id);
        }
        s->out_fd = fds[1];
        /* only our end: the reader may block */
        r = fcntl(s->out_fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
        if (r >= 0)
                r = sd_event_add_io(b->event, &s->out_source, s->out_fd, 0, stats_on_out, s);
        if (r >= 0)
                /* accuracy 0 would be sd-event's default of 250 ms */
                r = sd_event_add_time_relative(b->event, &s->timer, CLOCK_MONOTONIC, 0,
                                               MAX(s->interval_usec / 20, (uint64_t) 1), stats_on_timer, s);
        if (r >= 0)
                r = sd_bus_reply_method_return(m, "h", fds[0]);
        close(fds[0]);
        if (r < 0) {
                stats_stream_free(s);
                return r;
        }
        return 1;
}
