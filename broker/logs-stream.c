/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager.OpenContainerLogs: the container's CRI log as Docker's
 * multiplexed frames on a pipe, written from the event loop without ever
 * blocking it. A follower polls the log; it ends when the container is no
 * longer active and the log is drained, when `until` has passed, or when
 * the reader closes its end. */
#include <endian.h>
#include <fcntl.h>
#include <inttypes.h>
#include <time.h>
#include <stdio.h>
#include <sys/stat.h>

#include "container.h"
#include "crilog.h"
#include "errors.h"
#include "log.h"
#include "logrotate.h"
#include "logs.h"
#include "logs-stream.h"

#define LOG_STREAMS_MAX 256
/* What a follower holds for a slow reader; reading the log waits meanwhile. */
#define LOG_STREAM_BUFFER_MAX (1024 * 1024)
#define LOG_STREAM_POLL_USEC (100 * USEC_PER_MSEC)
#define LOG_LINE_MAX (CRILOG_MAX_RECORD + 128)
#define LOG_TAIL_MAX 1000000

typedef struct LogStream LogStream;
struct LogStream {
        Broker *broker;
        char *container;
        int log_fd, out_fd;
        int next_fd;                    /* the file after log_fd, once it was rotated */
        char *log_name;                 /* "<id>/ctr.log" under the containers dir */
        uint64_t offset;                /* next byte of the log to read */
        bool follow, timestamps, want[2];
        int64_t since_usec, until_usec; /* 0 = none */
        bool in_record[2];              /* a P part seen: skip/continue the record */
        bool skip_record[2];            /* its start was before the tail */
        char line[LOG_LINE_MAX];
        size_t line_len;
        bool line_overflow;
        char *out;
        size_t out_len, out_off;
        bool done;                      /* nothing more to read: close once flushed */
        sd_event_source *out_source, *timer;
        LogStream *next;
};

static int64_t realtime_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static LogStream *streams;
static unsigned n_streams;

static void log_stream_free(LogStream *s) {
        for (LogStream **p = &streams; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        n_streams--;
                        break;
                }
        sd_event_source_disable_unref(s->out_source);
        sd_event_source_disable_unref(s->timer);
        if (s->log_fd >= 0)
                close(s->log_fd);
        if (s->next_fd >= 0)
                close(s->next_fd);
        free(s->log_name);
        if (s->out_fd >= 0)
                close(s->out_fd);
        free(s->out);
        free(s->container);
        free(s);
}

static int out_append(LogStream *s, const void *p, size_t n) {
        if (s->out_off > 0 && s->out_off == s->out_len)
                s->out_off = s->out_len = 0;
        char *grown = realloc(s->out, s->out_len + n);
        if (!grown)
                return -ENOMEM;
        memcpy(grown + s->out_len, p, n);
        s->out = grown;
        s->out_len += n;
        return 0;
}

static int emit_frame(LogStream *s, int stream, const char *prefix, size_t plen, const char *text, size_t tlen,
                      bool newline) {
        uint8_t hdr[8] = { (uint8_t) stream, 0, 0, 0 };
        uint32_t len = htobe32((uint32_t) (plen + tlen + newline));
        int r;

        memcpy(hdr + 4, &len, 4);
        if ((r = out_append(s, hdr, 8)) < 0 || (plen > 0 && (r = out_append(s, prefix, plen)) < 0) ||
            (r = out_append(s, text, tlen)) < 0 || (newline && (r = out_append(s, "\n", 1)) < 0))
                return r;
        return 0;
}

/* One complete line of the log (without '\n'). */
static int handle_line(LogStream *s, const char *line, size_t len) {
        CriLogEntry e;
        int i;

        if (crilog_parse_line(line, len, &e) < 0)
                return 0; /* malformed: skipped, as GetContainerLogs does */
        i = e.is_stderr ? 1 : 0;
        bool continuation = s->in_record[i];
        s->in_record[i] = e.partial;
        if (continuation && s->skip_record[i]) {
                if (!e.partial)
                        s->skip_record[i] = false;
                return 0;
        }
        if (!continuation) {
                if (s->until_usec > 0 && (int64_t) e.timestamp_usec > s->until_usec) {
                        s->done = true;
                        return 0;
                }
                s->skip_record[i] = !s->want[i] ||
                        (s->since_usec > 0 && (int64_t) e.timestamp_usec < s->since_usec);
                if (s->skip_record[i]) {
                        if (!e.partial)
                                s->skip_record[i] = false;
                        return 0;
                }
        }
        char ts[48];
        size_t tslen = 0;
        if (s->timestamps && !continuation) {
                /* the line's own RFC 3339 stamp, as Docker prints it */
                const char *sp = memchr(line, ' ', len);
                tslen = sp ? (size_t) (sp - line) + 1 : 0;
                if (tslen > sizeof(ts))
                        tslen = 0;
                memcpy(ts, line, tslen);
        }
        return emit_frame(s, i + 1, ts, tslen, e.text, e.text_len, !e.partial);
}

/* Reads what the log has (up to the buffer limit) into frames. */
static int read_log(LogStream *s, bool *ret_eof) {
        char buf[65536];

        *ret_eof = false;
        while (!s->done && s->out_len - s->out_off < LOG_STREAM_BUFFER_MAX) {
                ssize_t n = pread(s->log_fd, buf, sizeof(buf), (off_t) s->offset);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0) {
                        /* Rotated away: what was written to it before the
                         * rename was drained by the read just done, so go on
                         * with the next file from its start. */
                        if (s->next_fd >= 0) {
                                close(s->log_fd);
                                s->log_fd = TAKE_FD(s->next_fd);
                                s->offset = 0;
                                continue;
                        }
                        int r = logrotate_open_next(s->broker->containers_fd, s->log_name, s->log_fd, &s->next_fd);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                continue; /* drain the old file once more first */
                        *ret_eof = true;
                        return 0;
                }
                s->offset += (uint64_t) n;
                for (ssize_t k = 0; k < n; k++) {
                        if (buf[k] != '\n') {
                                if (s->line_len < sizeof(s->line))
                                        s->line[s->line_len++] = buf[k];
                                else
                                        s->line_overflow = true;
                                continue;
                        }
                        if (!s->line_overflow) {
                                int r = handle_line(s, s->line, s->line_len);
                                if (r < 0)
                                        return r;
                        }
                        s->line_len = 0;
                        s->line_overflow = false;
                }
        }
        return 0;
}

static int flush(LogStream *s) {
        while (s->out_off < s->out_len) {
                ssize_t n = write(s->out_fd, s->out + s->out_off, s->out_len - s->out_off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n < 0)
                        return -errno; /* EPIPE: the reader is gone */
                s->out_off += (size_t) n;
        }
        s->out_off = s->out_len = 0;
        return 0;
}

static bool container_finished(LogStream *s) {
        Container *c = container_find_by_id(s->broker, s->container);
        return !c || !container_state_is_active(c->state);
}

/* Read, write, and decide what waits for what next. */
static void log_stream_pump(LogStream *s) {
        bool eof = false;
        int r;

        /* decided before reading, so that the last lines are not missed */
        bool finished = !s->follow || container_finished(s);
        r = read_log(s, &eof);
        if (r >= 0)
                r = flush(s);
        if (r < 0) {
                if (r != -EPIPE)
                        log_debug_errno(r, "Log stream of %s ends: %m", s->container);
                log_stream_free(s);
                return;
        }
        if (eof && (finished || (s->until_usec > 0 && realtime_usec() > s->until_usec)))
                s->done = true;
        if (s->done && s->out_len == s->out_off) {
                log_stream_free(s);
                return;
        }
        /* EPOLLOUT while there is something to write; otherwise only the
         * error of a closed reader wakes us */
        (void) sd_event_source_set_io_events(s->out_source, s->out_len > s->out_off ? EPOLLOUT : 0);
        if (!s->done && eof)
                (void) sd_event_source_set_time_relative(s->timer, LOG_STREAM_POLL_USEC),
                        (void) sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
        else
                (void) sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
}

static int on_out(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        LogStream *s = userdata;

        if (revents & (EPOLLERR | EPOLLHUP)) {
                log_stream_free(s);
                return 0;
        }
        log_stream_pump(s);
        return 0;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        log_stream_pump(userdata);
        return 0;
}

/* The byte offset in @fd where the last @tail records (of the wanted
 * streams) start, and which streams are inside a record there, when @fd
 * holds more than @tail; *ret_count: how many it holds. */
static int find_tail(LogStream *s, int fd, uint64_t tail, uint64_t *ret_count) {
        _cleanup_free_ uint64_t *ring = NULL;
        _cleanup_free_ uint8_t *ring_state = NULL;
        char buf[65536];
        uint64_t off = 0, line_start = 0, count = 0;
        bool partial[2] = {};
        size_t len = 0;

        *ret_count = 0;
        if (tail == 0)
                return 0;
        ring = calloc(tail, sizeof(uint64_t));
        ring_state = calloc(tail, 1);
        if (!ring || !ring_state)
                return -ENOMEM;
        for (;;) {
                ssize_t n = pread(fd, buf, sizeof(buf), (off_t) off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                for (ssize_t k = 0; k < n; k++) {
                        if (buf[k] != '\n') {
                                if (len < sizeof(s->line))
                                        s->line[len] = buf[k];
                                len++;
                                continue;
                        }
                        CriLogEntry e;
                        if (len <= sizeof(s->line) && crilog_parse_line(s->line, len, &e) >= 0) {
                                int i = e.is_stderr;
                                if (!partial[i] && s->want[i]) {
                                        ring[count % tail] = line_start;
                                        ring_state[count % tail] = (uint8_t) (partial[0] | (partial[1] << 1));
                                        count++;
                                }
                                partial[i] = e.partial;
                        }
                        line_start = off + (uint64_t) k + 1;
                        len = 0;
                }
                off += (uint64_t) n;
        }
        *ret_count = count;
        if (count > tail) {
                s->offset = ring[count % tail];
                uint8_t st = ring_state[count % tail];
                /* records of the other stream already begun there are not ours */
                for (int i = 0; i < 2; i++)
                        s->in_record[i] = s->skip_record[i] = st & (1 << i);
        }
        return 0;
}

static int parse_options(sd_bus_message *m, LogStream *s, uint64_t *ret_tail, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key, *sig = NULL;
                int b = 0;
                int64_t x = 0;

                if ((r = sd_bus_message_read(m, "s", &key)) < 0)
                        return r;
                if (streq(key, "follow") || streq(key, "timestamps") || streq(key, "stdout") || streq(key, "stderr"))
                        sig = "b";
                else if (streq(key, "tail"))
                        sig = "t";
                else if (streq(key, "since") || streq(key, "until"))
                        sig = "x";
                else
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown log option: %s", key);
                if (sd_bus_message_verify_type(m, 'v', sig) <= 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Log option %s must be of type %s", key, sig);
                if (streq(sig, "b"))
                        r = sd_bus_message_read(m, "v", "b", &b);
                else
                        r = sd_bus_message_read(m, "v", sig, &x);
                if (r < 0)
                        return r;
                if (streq(key, "follow"))
                        s->follow = b;
                else if (streq(key, "timestamps"))
                        s->timestamps = b;
                else if (streq(key, "stdout"))
                        s->want[0] = b;
                else if (streq(key, "stderr"))
                        s->want[1] = b;
                else if (streq(key, "tail")) {
                        if ((uint64_t) x > LOG_TAIL_MAX)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "tail %" PRIu64 " is above %d",
                                                         (uint64_t) x, LOG_TAIL_MAX);
                        *ret_tail = (uint64_t) x;
                } else {
                        if (x < 0 || x > INT64_MAX / (int64_t) USEC_PER_SEC)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid %s: %" PRIi64, key, x);
                        *(streq(key, "since") ? &s->since_usec : &s->until_usec) = x * (int64_t) USEC_PER_SEC;
                }
                if ((r = sd_bus_message_exit_container(m)) < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int method_open_container_logs(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        LogStream *s;
        const char *id;
        char path[300];
        uint64_t tail = 0;
        Container *c;
        int fds[2], r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        *s = (LogStream) { .broker = b, .log_fd = -1, .out_fd = -1, .next_fd = -1, .want = { true, true } };
        r = parse_options(m, s, &tail, error);
        if (r >= 0)
                r = container_find_or_error(b, id, &c, error);
        if (r >= 0)
                r = authz_verify(b, m, c->id, error);
        if (r <= 0) {
                free(s);
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */
        }
        if (n_streams >= LOG_STREAMS_MAX) {
                free(s);
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "Too many log streams open (%d)", LOG_STREAMS_MAX);
        }
        s->next = streams;
        streams = s;
        n_streams++;
        if (!(s->container = strdup(c->id))) {
                log_stream_free(s);
                return -ENOMEM;
        }

        snprintf(path, sizeof(path), "%s/ctr.log", c->id);
        if (!(s->log_name = strdup(path))) {
                log_stream_free(s);
                return -ENOMEM;
        }
        {
                /* from the oldest rotated file on, the others follow at its
                 * end (logrotate_open_next); with a tail, from the file
                 * (newest first) where the last @tail records begin */
                _cleanup_free_ int *all = NULL;
                size_t n_all = 0, k;
                uint64_t left = tail, count = 0;
                r = logrotate_open_all(b->containers_fd, path, &all, &n_all);
                if (r < 0) {
                        log_stream_free(s);
                        return sd_bus_error_set_errnof(error, -r, "Failed to open the log of %s: %m", c->id);
                }
                k = tail == 0 ? 0 : n_all;
                while (k > 0) {
                        k--;
                        r = find_tail(s, all[k], left, &count);
                        if (r < 0 || count >= left)
                                break;
                        left -= count;
                }
                for (size_t i = 0; i < n_all; i++)
                        if (i != k)
                                close(all[i]);
                if (r < 0) {
                        if (k < n_all)
                                close(all[k]);
                        log_stream_free(s);
                        return sd_bus_error_set_errnof(error, -r, "Failed to open the log of %s: %m", c->id);
                }
                if (n_all > 0)
                        s->log_fd = all[k];
                else
                        errno = ENOENT;
        }
        if (s->log_fd < 0 && errno != ENOENT) {
                r = sd_bus_error_set_errnof(error, errno, "Failed to open the log of %s: %m", c->id);
                log_stream_free(s);
                return r;
        }
        if (s->log_fd < 0) /* never started: an empty log, followed until it appears */
                s->log_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (s->log_fd < 0 || pipe2(fds, O_CLOEXEC) < 0) {
                r = s->log_fd < 0 || r >= 0 ? -errno : r;
                log_stream_free(s);
                return sd_bus_error_set_errnof(error, -r, "Failed to open the log stream of %s: %m", id);
        }
        s->out_fd = fds[1];
        /* only our end: the reader may block */
        r = fcntl(s->out_fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
        if (r >= 0)
                r = sd_event_add_io(b->event, &s->out_source, s->out_fd, 0, on_out, s);
        if (r >= 0)
                r = sd_event_add_time_relative(b->event, &s->timer, CLOCK_MONOTONIC, 0, 0, on_timer, s);
        if (r >= 0)
                r = sd_bus_reply_method_return(m, "h", fds[0]);
        close(fds[0]);
        if (r < 0) {
                log_stream_free(s);
                return r;
        }
        return 1;
}
