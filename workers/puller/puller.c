/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>

#include "auth-file.h"
#include "catalog.h"
#include "errors.h"
#include "log.h"
#include "macro.h"
#include "pull.h"
#include "puller.h"
#include "reference.h"

#define OPTION_VALUE_MAX 4096U
/* "downloading" reports of one pull, at most this often (per pull). */
#define PROGRESS_INTERVAL_USEC (250 * 1000ULL)

/* One progress report, thread → loop through a pipe (atomic: < PIPE_BUF). */
typedef struct ProgressRecord {
        char digest[72];
        char status[16];
        uint64_t current, total;
        /* A layer stream instead: the read end, to send as LayerStream. */
        int stream_fd;
        char diff_id[72];
        char chain_id[72];
} ProgressRecord;

/* The kernel's default for an unprivileged F_SETPIPE_SZ: room for the
 * download to run ahead of the unpacker a little. */
#define STREAM_PIPE_SIZE (1024 * 1024)

typedef struct PullJob PullJob;

struct Puller {
        sd_event *event;
        sd_bus *bus;
        sd_bus_slot *slot;
        char *auth_file;        /* read at each pull: a new login needs no restart */
        PullJob *jobs;
        unsigned n_jobs;
};

struct PullJob {
        Puller *puller;
        PullJob *next;
        sd_bus_message *call;
        uint32_t request;          /* the caller's id for Progress and Cancel; 0 = none */
        atomic_bool cancel;
        int progress_pipe[2];      /* thread writes, loop reads */
        sd_event_source *progress_source;
        pthread_mutex_t report_lock; /* download threads report at once */
        uint64_t last_report_usec; /* thread side */
        bool stream;               /* the broker unpacks layers while they download */
        PullRequest req;
        PullResult res;
        pthread_t thread;
        bool thread_started;
        int done_fd;
        sd_event_source *done_source;
};

static void job_unlink(Puller *p, PullJob *j) {
        for (PullJob **i = &p->jobs; *i; i = &(*i)->next)
                if (*i == j) {
                        *i = j->next;
                        p->n_jobs--;
                        return;
                }
}

static void job_free(PullJob *j) {
        if (!j)
                return;
        if (j->thread_started)
                pthread_join(j->thread, NULL);
        sd_event_source_disable_unref(j->done_source);
        sd_event_source_disable_unref(j->progress_source);
        if (j->done_fd >= 0)
                close(j->done_fd);
        for (size_t i = 0; i < 2; i++)
                if (j->progress_pipe[i] >= 0)
                        close(j->progress_pipe[i]);
        sd_bus_message_unref(j->call);
        pthread_mutex_destroy(&j->report_lock);
        pull_request_done(&j->req);
        pull_result_done(&j->res);
        free(j);
}

static void *job_thread(void *userdata) {
        PullJob *j = userdata;

        pull_run(&j->req, &j->res);
        /* Wake the loop; it joins us and replies. */
        if (eventfd_write(j->done_fd, 1) < 0)
                log_error_errno(-errno, "Failed to signal the end of a pull: %m");
        return NULL;
}

/* Thread side: rate-limited "downloading", every other status at once.
 * Never blocks: a full pipe drops the report. */
static void job_progress(void *userdata, const char *digest, const char *status, uint64_t current, uint64_t total) {
        PullJob *j = userdata;
        ProgressRecord rec = { .current = current, .total = total, .stream_fd = -1 };
        struct timespec ts;
        uint64_t now;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        now = (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
        pthread_mutex_lock(&j->report_lock);
        if (streq(status, "downloading") && current != 0 && current != total &&
            now - j->last_report_usec < PROGRESS_INTERVAL_USEC) {
                pthread_mutex_unlock(&j->report_lock);
                return;
        }
        j->last_report_usec = now;
        pthread_mutex_unlock(&j->report_lock);
        snprintf(rec.digest, sizeof(rec.digest), "%s", digest);
        snprintf(rec.status, sizeof(rec.status), "%s", status);
        (void) !write(j->progress_pipe[1], &rec, sizeof(rec));
}

/* Thread side: a pipe for a layer's bytes; the loop sends its read end to
 * the broker in LayerStream. When the record cannot be queued, no stream:
 * the broker unpacks from the blob afterwards. */
static int job_open_stream(void *userdata, const char *digest, const char *diff_id, const char *chain_id) {
        PullJob *j = userdata;
        ProgressRecord rec = {};
        int p[2];

        if (!j->stream)
                return -1;
        if (pipe2(p, O_CLOEXEC) < 0) {
                log_warning_errno(-errno, "Failed to create a pipe for layer %s: %m", digest);
                return -1;
        }
        (void) fcntl(p[1], F_SETPIPE_SZ, STREAM_PIPE_SIZE);
        rec.stream_fd = p[0];
        snprintf(rec.digest, sizeof(rec.digest), "%s", digest);
        snprintf(rec.diff_id, sizeof(rec.diff_id), "%s", diff_id);
        snprintf(rec.chain_id, sizeof(rec.chain_id), "%s", chain_id);
        if (write(j->progress_pipe[1], &rec, sizeof(rec)) != (ssize_t) sizeof(rec)) {
                close(p[0]);
                close(p[1]);
                return -1;
        }
        return p[1];
}

/* Loop side: Progress signals on the link. */
static int job_progress_drain(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        PullJob *j = userdata;
        ProgressRecord rec;

        while (read(j->progress_pipe[0], &rec, sizeof(rec)) == (ssize_t) sizeof(rec)) {
                rec.digest[sizeof(rec.digest) - 1] = 0;
                rec.status[sizeof(rec.status) - 1] = 0;
                if (rec.stream_fd >= 0) {
                        rec.diff_id[sizeof(rec.diff_id) - 1] = 0;
                        rec.chain_id[sizeof(rec.chain_id) - 1] = 0;
                        /* sd-bus sends a dup; once ours is closed, only the
                         * broker's copy keeps the pipe's read side open. */
                        int r = sd_bus_emit_signal(j->puller->bus, ZL_WORKER_PATH, ZL_PULLER_IFACE, "LayerStream",
                                                   "usssh", j->request, rec.digest, rec.diff_id, rec.chain_id,
                                                   rec.stream_fd);
                        if (r < 0)
                                log_warning_errno(r, "Failed to send the stream of layer %s: %m", rec.digest);
                        close(rec.stream_fd);
                        continue;
                }
                (void) sd_bus_emit_signal(j->puller->bus, ZL_WORKER_PATH, ZL_PULLER_IFACE, "Progress", "usstt",
                                          j->request, rec.digest, rec.status, rec.current, rec.total);
        }
        return 0;
}

static int job_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        PullJob *j = userdata;
        Puller *p = j->puller;
        int r;

        pthread_join(j->thread, NULL);
        j->thread_started = false;
        /* The last reports go out before the reply. */
        if (j->progress_source)
                (void) job_progress_drain(NULL, -1, 0, j);

        if (j->res.json)
                /* Pull: the result JSON; Resolve: the digest. */
                r = sd_bus_reply_method_return(j->call, "s", j->res.json);
        else
                r = sd_bus_reply_method_errorf(j->call, j->res.error_name ?: ZL_ERROR_INTERNAL, "%s",
                                               j->res.error_message ?: "Pull failed");
        if (r < 0)
                log_warning_errno(r, "Failed to reply to Pull of %s: %m", j->req.reference);

        job_unlink(p, j);
        job_free(j);
        return 0;
}

/* Reads one option value of type @sig ("s" or "b") into @ret_str / @ret_bool. */
static int read_option(sd_bus_message *m, const char *key, const char *sig, char **ret_str, bool *ret_bool,
                       sd_bus_error *error) {
        const char *s;
        int b, r;

        r = sd_bus_message_enter_container(m, 'v', sig);
        if (r == -ENXIO)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Option \"%s\" must be of type \"%s\"",
                                         key, sig);
        if (r < 0)
                return r;
        if (sig[0] == 'b') {
                r = sd_bus_message_read(m, "b", &b);
                if (r < 0)
                        return r;
                *ret_bool = b;
        } else {
                r = sd_bus_message_read(m, "s", &s);
                if (r < 0)
                        return r;
                if (strlen(s) > OPTION_VALUE_MAX)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Option \"%s\" is too long", key);
                free(*ret_str);
                *ret_str = strdup(s);
                if (!*ret_str)
                        return -ENOMEM;
        }
        return sd_bus_message_exit_container(m);
}

static int read_options(sd_bus_message *m, PullRequest *req, uint32_t *ret_request, bool *ret_stream,
                        sd_bus_error *error) {
        _cleanup_free_ char *platform = NULL, *auth_type = NULL;
        const char *key;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "username"))
                        r = read_option(m, key, "s", &req->username, NULL, error);
                else if (streq(key, "password"))
                        r = read_option(m, key, "s", &req->password, NULL, error);
                else if (streq(key, "platform"))
                        r = read_option(m, key, "s", &platform, NULL, error);
                else if (streq(key, "auth_type"))
                        r = read_option(m, key, "s", &auth_type, NULL, error);
                else if (streq(key, "insecure"))
                        r = read_option(m, key, "b", NULL, &req->insecure, error);
                else if (streq(key, "stream"))
                        r = read_option(m, key, "b", NULL, ret_stream, error);
                else if (streq(key, "request")) {
                        r = sd_bus_message_enter_container(m, 'v', "u");
                        if (r == -ENXIO)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                         "Option \"request\" must be of type \"u\"");
                        if (r >= 0)
                                r = sd_bus_message_read(m, "u", ret_request);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                }
                else
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown option \"%s\"", key);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;

        if (platform) {
                if (platform_parse(platform, &req->platform) < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Invalid platform \"%s\", expected os/arch[/variant]", platform);
        } else
                platform_native(&req->platform);
        /* The public API lets callers name the scheme; Basic is sent when
         * credentials are given, a token is fetched when the registry asks. */
        if (auth_type && !streq(auth_type, "") && !streq(auth_type, "basic") && !streq(auth_type, "token"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid auth_type \"%s\", expected basic or token", auth_type);
        if (req->password && !req->username)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Option \"password\" without \"username\"");
        return 0;
}

/* Without credentials in the options: the credential file's for the host. */
static int credentials_from_file(Puller *p, PullRequest *req, sd_bus_error *error) {
        _cleanup_free_ char *error_text = NULL;
        ImageReference *ref = NULL;
        int r;

        if (req->username || isempty(p->auth_file))
                return 0;
        r = image_reference_parse(req->reference, &ref);
        if (r < 0)
                return r;
        r = auth_file_lookup(p->auth_file, ref->registry, &req->username, &req->password, &error_text);
        if (r == -ENOENT) {
                r = 0;
        } else if (r == -ENOMEM) {
                /* as it is */
        } else if (r < 0) {
                r = sd_bus_error_setf(error, ZL_ERROR_PULL_FAILED, "Credential file %s: %s", p->auth_file,
                                      error_text ?: strerror(-r));
        } else
                log_debug("Using the credentials of %s from %s.", ref->registry, p->auth_file);
        image_reference_free(ref);
        return r;
}

static int start_job(sd_bus_message *m, Puller *p, bool resolve_only, sd_bus_error *error) {
        PullJob *j;
        const char *reference;
        struct stat st;
        int fd = -1, r;

        if (resolve_only)
                r = sd_bus_message_read(m, "s", &reference);
        else
                r = sd_bus_message_read(m, "sh", &reference, &fd);
        if (r < 0)
                return r;

        {
                ImageReference *ref = NULL;
                r = image_reference_parse(reference, &ref);
                image_reference_free(ref);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid image reference \"%s\"",
                                                 reference);
        }
        if (!resolve_only) {
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (!S_ISDIR(st.st_mode))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "images_dir is not a directory fd");
        }

        if (p->n_jobs >= PULLS_MAX)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "%u pulls are running already", PULLS_MAX);

        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->puller = p;
        j->done_fd = -1;
        j->progress_pipe[0] = j->progress_pipe[1] = -1;
        j->req.images_fd = -1;
        pthread_mutex_init(&j->report_lock, NULL);
        atomic_init(&j->cancel, false);
        j->req.cancel = &j->cancel;
        j->req.resolve_only = resolve_only;

        r = read_options(m, &j->req, &j->request, &j->stream, error);
        if (r < 0)
                goto fail;
        if (j->request != 0)
                for (PullJob *o = p->jobs; o; o = o->next)
                        if (o->request == j->request) {
                                r = sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                      "Request %" PRIu32 " is running already", j->request);
                                goto fail;
                        }
        if (j->request != 0 && !resolve_only) {
                if (pipe2(j->progress_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
                        r = -errno;
                        goto fail;
                }
                r = sd_event_add_io(p->event, &j->progress_source, j->progress_pipe[0], EPOLLIN, job_progress_drain, j);
                if (r < 0)
                        goto fail;
                j->req.progress = job_progress;
                j->req.open_stream = job_open_stream;
                j->req.progress_userdata = j;
        }

        j->req.reference = strdup(reference);
        if (!j->req.reference) {
                r = -ENOMEM;
                goto fail;
        }
        r = credentials_from_file(p, &j->req, error);
        if (r < 0)
                goto fail;
        if (!resolve_only) {
                j->req.images_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (j->req.images_fd < 0) {
                        r = -errno;
                        goto fail;
                }
        }
        j->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (j->done_fd < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_io(p->event, &j->done_source, j->done_fd, EPOLLIN, job_done, j);
        if (r < 0)
                goto fail;
        j->call = sd_bus_message_ref(m);

        r = -pthread_create(&j->thread, NULL, job_thread, j);
        if (r < 0)
                goto fail;
        j->thread_started = true;

        j->next = p->jobs;
        p->jobs = j;
        p->n_jobs++;
        log_debug("%s of %s started.", resolve_only ? "Resolve" : "Pull", reference);
        return 1;

fail:
        job_free(j);
        return r;
}

static int method_pull(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return start_job(m, userdata, false, error);
}

static int method_resolve(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return start_job(m, userdata, true, error);
}

static int method_cancel(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Puller *p = userdata;
        uint32_t request;
        int r;

        r = sd_bus_message_read(m, "u", &request);
        if (r < 0)
                return r;
        for (PullJob *j = p->jobs; j; j = j->next)
                if (request != 0 && j->request == request) {
                        /* curl's progress callback sees it within a second; the
                         * Pull then answers Canceled and its temp file is gone. */
                        atomic_store(&j->cancel, true);
                        log_info("Canceling request %" PRIu32 " (%s).", request, j->req.reference);
                        return sd_bus_reply_method_return(m, NULL);
                }
        return sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND, "No pull with request %" PRIu32 " is running", request);
}

/* SearchImages' catalog (catalog.c), with this puller's credential file. */
static int method_catalog(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Puller *p = userdata;
        return catalog_method(m, p->auth_file, error);
}

static const sd_bus_vtable puller_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_NAMES("Pull", "sha{sv}",
                                 SD_BUS_PARAM(reference) SD_BUS_PARAM(images_dir) SD_BUS_PARAM(options),
                                 "s", SD_BUS_PARAM(result_json),
                                 method_pull, 0),
        SD_BUS_METHOD_WITH_NAMES("Resolve", "sa{sv}", SD_BUS_PARAM(reference) SD_BUS_PARAM(options),
                                 "s", SD_BUS_PARAM(digest), method_resolve, 0),
        SD_BUS_METHOD_WITH_NAMES("Cancel", "u", SD_BUS_PARAM(request), "", , method_cancel, 0),
        SD_BUS_METHOD_WITH_NAMES("Catalog", "sa{sv}", SD_BUS_PARAM(host) SD_BUS_PARAM(options),
                                 "as", SD_BUS_PARAM(repositories), method_catalog, 0),
        SD_BUS_SIGNAL_WITH_NAMES("Progress", "usstt",
                                 SD_BUS_PARAM(request) SD_BUS_PARAM(digest) SD_BUS_PARAM(status)
                                 SD_BUS_PARAM(current) SD_BUS_PARAM(total), 0),
        SD_BUS_SIGNAL_WITH_NAMES("LayerStream", "usssh",
                                 SD_BUS_PARAM(request) SD_BUS_PARAM(digest) SD_BUS_PARAM(diff_id)
                                 SD_BUS_PARAM(chain_id) SD_BUS_PARAM(stream), 0),
        SD_BUS_VTABLE_END,
};

int puller_new(sd_event *event, sd_bus *bus, const char *auth_file, Puller **ret) {
        Puller *p;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->event = sd_event_ref(event);
        p->bus = sd_bus_ref(bus);
        if (auth_file && !(p->auth_file = strdup(auth_file))) {
                puller_free(p);
                return -ENOMEM;
        }

        r = sd_bus_add_object_vtable(bus, &p->slot, ZL_WORKER_PATH, ZL_PULLER_IFACE, puller_vtable, p);
        if (r < 0) {
                puller_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

Puller *puller_free(Puller *p) {
        if (!p)
                return NULL;
        /* curl's progress callback sees this within a second or so. */
        for (PullJob *j = p->jobs; j; j = j->next)
                atomic_store(&j->cancel, true);
        while (p->jobs) {
                PullJob *j = p->jobs;
                p->jobs = j->next;
                job_free(j);
        }
        sd_bus_slot_unref(p->slot);
        free(p->auth_file);
        sd_bus_unref(p->bus);
        sd_event_unref(p->event);
        free(p);
        return NULL;
}
