/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>

#include "container.h"
#include "crilog.h"
#include "errors.h"
#include "log.h"
#include "logrotate.h"
#include "logs.h"

/* Length of the valid UTF-8 sequence at @s (at most @len bytes), 0 if invalid. */
static size_t utf8_sequence_length(const unsigned char *s, size_t len) {
        unsigned char c = s[0];
        size_t n;
        uint32_t cp;

        if (c < 0x80)
                return c == 0 ? 0 : 1;
        if (c >= 0xC2 && c <= 0xDF) {
                n = 2;
                cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
                n = 3;
                cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
                n = 4;
                cp = c & 0x07;
        } else
                return 0;
        if (len < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3F);
        }
        /* Overlong forms, surrogates, beyond U+10FFFF. */
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                return 0;
        return n;
}

char *utf8_sanitize(const char *s, size_t len) {
        const unsigned char *u = (const unsigned char *) s;
        char *out = malloc(len * 3 + 1), *p = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < len;) {
                size_t n = utf8_sequence_length(u + i, len - i);
                if (n == 0) {
                        memcpy(p, "\xEF\xBF\xBD", 3);
                        p += 3;
                        i++;
                } else {
                        memcpy(p, s + i, n);
                        p += n;
                        i += n;
                }
        }
        *p = 0;
        return out;
}

void log_records_free(LogRecord *l, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(l[i].text);
        free(l);
}

typedef struct Window {
        LogRecord *items;
        size_t start, n, allocated;
        size_t bytes;
} Window;

static int window_push(Window *w, LogRecord rec, uint64_t tail) {
        if (w->start + w->n >= w->allocated) {
                if (w->start > 0) {
                        memmove(w->items, w->items + w->start, w->n * sizeof(LogRecord));
                        w->start = 0;
                }
                if (w->n >= w->allocated) {
                        size_t a = MAX(w->allocated * 2, (size_t) 64);
                        LogRecord *x = realloc(w->items, a * sizeof(LogRecord));
                        if (!x) {
                                free(rec.text);
                                return -ENOMEM;
                        }
                        w->items = x;
                        w->allocated = a;
                }
        }
        w->items[w->start + w->n++] = rec;
        w->bytes += rec.len + LOGS_RECORD_OVERHEAD;
        /* Drop the oldest records beyond the tail and the byte cap. */
        while (w->n > 0 && ((tail > 0 && w->n > tail) || w->bytes > LOGS_REPLY_MAX)) {
                LogRecord *old = &w->items[w->start];
                w->bytes -= old->len + LOGS_RECORD_OVERHEAD;
                free(old->text);
                w->start++;
                w->n--;
        }
        return 0;
}

/* One file's lines into @w; a record left open (P) at its end continues in
 * the next file (@partial). Takes @fd. */
static int read_one(int fd, uint64_t tail, Window *w, char **partial, size_t *partial_len) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        ssize_t k;
        int r;

        f = fdopen(fd, "re");
        if (!f) {
                r = -errno;
                close(fd);
                return r;
        }
        while ((k = getline(&line, &cap, f)) >= 0) {
                CriLogEntry e;
                LogRecord rec;

                if (k > 0 && line[k - 1] == '\n')
                        line[--k] = 0;
                if (crilog_parse_line(line, (size_t) k, &e) < 0)
                        continue;

                /* Join P parts, up to LOGS_RECORD_MAX bytes. */
                size_t take = MIN(e.text_len, LOGS_RECORD_MAX - MIN(*partial_len, (size_t) LOGS_RECORD_MAX));
                if (take > 0 || !*partial) {
                        char *x = realloc(*partial, *partial_len + take + 1);
                        if (!x)
                                return -ENOMEM;
                        *partial = x;
                        memcpy(*partial + *partial_len, e.text, take);
                        *partial_len += take;
                        (*partial)[*partial_len] = 0;
                }
                if (e.partial)
                        continue;

                rec = (LogRecord) {
                        .timestamp_usec = e.timestamp_usec,
                        .is_stderr = e.is_stderr,
                        .text = utf8_sanitize(*partial, *partial_len),
                };
                if (!rec.text)
                        return -ENOMEM;
                rec.len = strlen(rec.text);
                free(*partial);
                *partial = NULL;
                *partial_len = 0;
                r = window_push(w, rec, tail);
                if (r < 0)
                        return r;
        }
        if (ferror(f))
                return -EIO;
        return 0;
}

int logs_read_fds(int *fds, size_t n_fds, uint64_t tail, LogRecord **ret, size_t *ret_n) {
        _cleanup_free_ char *partial = NULL;
        size_t partial_len = 0, i = 0;
        Window w = {};
        int r = 0;

        for (; i < n_fds; i++) {
                int fd = fds[i];
                fds[i] = -1;
                r = read_one(fd, tail, &w, &partial, &partial_len);
                if (r < 0)
                        goto fail;
        }
        if (w.start > 0)
                memmove(w.items, w.items + w.start, w.n * sizeof(LogRecord));
        *ret = w.items;
        *ret_n = w.n;
        return 0;
fail:
        for (i++; i < n_fds; i++)
                if (fds[i] >= 0) {
                        close(fds[i]);
                        fds[i] = -1;
                }
        for (size_t j = 0; j < w.n; j++)
                free(w.items[w.start + j].text);
        free(w.items);
        return r;
}

int logs_read(int fd, uint64_t tail, LogRecord **ret, size_t *ret_n) {
        return logs_read_fds(&fd, 1, tail, ret, ret_n);
}

int logs_read_dir(int dir_fd, const char *name, uint64_t tail, LogRecord **ret, size_t *ret_n) {
        _cleanup_free_ int *fds = NULL;
        size_t n = 0;
        int r;

        r = logrotate_open_all(dir_fd, name, &fds, &n);
        if (r < 0)
                return r;
        return logs_read_fds(fds, n, tail, ret, ret_n);
}

int method_get_container_logs(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Broker *b = userdata;
        LogRecord *records = NULL;
        size_t n = 0;
        const char *id;
        uint64_t tail;
        _cleanup_close_ int dir_fd = -1;
        Container *c;
        int r;

        r = sd_bus_message_read(m, "st", &id, &tail);
        if (r < 0)
                return r;
        r = container_find_or_error(b, id, &c, error);
        if (r < 0)
                return r;
        r = authz_verify(b, m, c->id, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */

        /* ctr.log and its rotated files (none before the first start) */
        dir_fd = openat(b->containers_fd, c->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dir_fd < 0 && errno != ENOENT)
                return sd_bus_error_set_errnof(error, errno, "Failed to open the log of %s: %m", c->id);
        if (dir_fd >= 0) {
                r = logs_read_dir(dir_fd, "ctr.log", tail, &records, &n);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, -r, "Failed to read the log of %s: %m", c->id);
        }

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(tss)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(tss)", records[i].timestamp_usec,
                                          records[i].is_stderr ? "stderr" : "stdout", records[i].text);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        log_records_free(records, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}
