/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/epoll.h>
#include <stdio.h>
#include <unistd.h>

#include "broker.h"
#include "cgroup.h"
#include "container.h"
#include "errors.h"
#include "log.h"
#include "macro.h"
#include "manager-stats.h"

#define STATS_U64_KEYS(X)                                                                                      \
        X(cpu_total_ns) X(cpu_system_ns) X(mem_used_bytes) X(mem_limit_bytes) X(net_rx_bytes) X(net_tx_bytes) \
                X(blkio_read_bytes) X(blkio_write_bytes) X(pids_current) X(pids_limit) X(timestamp)

int container_stats_to_json_line(const ContainerStats *s, char **ret) {
        return asprintf(ret,
                        "{\"cpu_total_ns\":%" PRIu64 ",\"cpu_system_ns\":%" PRIu64 ",\"online_cpus\":%" PRIu32
                        ",\"mem_used_bytes\":%" PRIu64 ",\"mem_limit_bytes\":%" PRIu64 ",\"net_rx_bytes\":%" PRIu64
                        ",\"net_tx_bytes\":%" PRIu64 ",\"blkio_read_bytes\":%" PRIu64 ",\"blkio_write_bytes\":%" PRIu64
                        ",\"pids_current\":%" PRIu64 ",\"pids_limit\":%" PRIu64 ",\"timestamp\":%" PRIu64 "}\n",
                        s->cpu_total_ns, s->cpu_system_ns, s->online_cpus, s->mem_used_bytes, s->mem_limit_bytes,
                        s->net_rx_bytes, s->net_tx_bytes, s->blkio_read_bytes, s->blkio_write_bytes, s->pids_current,
                        s->pids_limit, s->timestamp) < 0
                       ? -ENOMEM
                       : 0;
}

/* Finds @id, checks authorization and that it runs, reads one sample.
 * 1: sampled; 0: polkit was asked; < 0 with @error set. */
static int sample_container(sd_bus_message *m, Broker *b, ContainerStats *ret, sd_bus_error *error) {
        _cleanup_cgroup_driver_ CgroupDriver *d = NULL;
        _cleanup_free_ char *cg = NULL;
        Container *c;
        int r;

        r = container_find_authorized(b, m, &c, error);
        if (r <= 0)
                return r;
        if ((c->state != CONTAINER_RUNNING && c->state != CONTAINER_STOPPING) || c->pid == 0)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is not running (%s)", c->id,
                                         container_state_to_string(c->state));
        if ((r = cgroup_container_path(c->id, &cg)) < 0 || (r = cgroup_driver_new_detect(NULL, &d)) < 0)
                return sd_bus_error_set_errnof(error, r, "cannot sample '%s': %s", c->id, strerror(-r));
        r = container_stats_read(d, cg, "/proc", (pid_t) c->pid, ret);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' has no cgroup (exited?)",
                                         c->id);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "cannot sample '%s': %s", c->id, strerror(-r));
        return 1;
}

int method_get_container_stats(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ContainerStats s;
        int r;

        r = sample_container(m, userdata, &s, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
#define APPEND_U64(k)                                                            \
        if (r >= 0)                                                              \
                r = sd_bus_message_append(reply, "{sv}", #k, "t", (uint64_t) s.k);
        STATS_U64_KEYS(APPEND_U64)
#undef APPEND_U64
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}", "online_cpus", "u", s.online_cpus);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* ---- OpenContainerStats ----
 * One JSON line per interval on a pipe whose write end is non-blocking and
 * written from the event loop. A sample that finds the previous one still
 * unwritten (a reader that stopped reading) is dropped, so a stalled reader
 * holds one line at most; a closed reader (EPOLLERR/EPIPE) frees the stream.
 * The stream ends when the container stops running. */

#define STATS_STREAMS_MAX 256
#define STATS_INTERVAL_MIN_USEC (10 * USEC_PER_MSEC)

typedef struct StatsStream StatsStream;
struct StatsStream {
        Broker *broker;
        char *container;
        char *path; /* cgroup */
        pid_t pid;
        uint64_t interval_usec;
        int out_fd;
        char *out;
        size_t out_len, out_off;
        sd_event_source *out_source, *timer;
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
        if (s->out_fd >= 0)
                close(s->out_fd);
        free(s->out);
        free(s->container);
        free(s->path);
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

static int stats_on_timer(sd_event_source *es, uint64_t usec, void *userdata) {
        _cleanup_cgroup_driver_ CgroupDriver *d = NULL;
        StatsStream *s = userdata;
        ContainerStats st;
        int r;

        if (!stats_stream_running(s)) {
                stats_stream_free(s); /* EOF for the reader */
                return 0;
        }
        if (!s->out) { /* else the reader is behind: drop this sample */
                r = cgroup_driver_new_detect(NULL, &d);
                if (r >= 0)
                        r = container_stats_read(d, s->path, "/proc", s->pid, &st);
                if (r >= 0)
                        r = container_stats_to_json_line(&st, &s->out);
                if (r >= 0) {
                        s->out_len = strlen(s->out);
                        r = stats_flush(s);
                }
                if (r < 0) {
                        if (r != -EPIPE)
                                log_debug_errno(r, "Stats stream of %s ends: %m", s->container);
                        stats_stream_free(s);
                        return 0;
                }
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
        if (!(s->container = strdup(c->id)) || cgroup_container_path(c->id, &s->path) < 0) {
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
