/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <json-c/json.h>

#include "digest.h"
#include "errors.h"
#include "ids.h"
#include "image-ops.h"
#include "image-store.h"
#include "job.h"
#include "log.h"
#include "reference.h"
#include "worker-links.h"

#define PULL_CALL_USEC (60 * 60 * USEC_PER_SEC)
#define UNPACK_CALL_USEC (60 * 60 * USEC_PER_SEC)
#define PULL_RESULT_MAX (4 * 1024 * 1024)
#define PULLS_MAX 16

typedef struct PullOp {
        Broker *broker;
        sd_bus_message *call;
        sd_bus_message *options;   /* the options to pass to the puller, built on the link */
        char *reference;
        /* Kept from the caller's options, re-appended for the puller. */
        char *username, *password, *platform;
        int insecure;              /* -1 = not given */

        json_object *result;
        char *repo_digest, *manifest, *media_type, *config;
        uint64_t manifest_size;
        char **layers;             /* layer digests, bottom first */
        char **diff_ids;
        char **chains;             /* chain hex, bottom first */
        size_t next_layer;
        char *current_digest;      /* policy newer: the stored repo digest; pull only when the registry differs */
        Job *job;                  /* the pull's Job object; its id is the puller's request id */
        sd_bus_slot *progress_slot; /* match on the puller's Progress signals */
        bool in_puller;            /* a Pull or Resolve call is out */
        /* Layers unpacked while they download (Puller1.LayerStream →
         * Archive1.UnpackLayerStream); the pull goes on only when the
         * puller answered and every one of these did. */
        sd_bus_slot *stream_slot;
        unsigned n_streams;
        sd_bus_error puller_error;  /* Pull's own error, kept until the streams end */
        char *pull_result;          /* Pull's result, likewise */
        bool cancel_requested;
        bool counted;              /* in broker->n_pulls */
        pull_done_t done;          /* set: an internal pull, no call to reply to */
        void *userdata;
} PullOp;

static void pull_op_free(PullOp *op) {
        if (!op)
                return;
        if (op->counted)
                op->broker->n_pulls--;
        sd_bus_slot_unref(op->progress_slot);
        sd_bus_slot_unref(op->stream_slot);
        sd_bus_error_free(&op->puller_error);
        free(op->pull_result);
        if (op->job) {
                /* Every path ends the job first; this is a last resort. */
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                sd_bus_error_set(&e, ZL_ERROR_INTERNAL, "the pull ended unexpectedly");
                job_finish(op->job, &e);
        }
        sd_bus_message_unref(op->call);
        free(op->reference);
        free(op->username);
        if (op->password)
                explicit_bzero(op->password, strlen(op->password));
        free(op->password);
        free(op->platform);
        free(op->current_digest);
        if (op->result)
                json_object_put(op->result);
        free(op->repo_digest);
        free(op->manifest);
        free(op->media_type);
        free(op->config);
        strv_free(op->layers);
        strv_free(op->diff_ids);
        strv_free(op->chains);
        free(op);
}

/* Completes the pull with an error, to the caller or to the internal user. */
static void pull_complete_error(PullOp *op, const sd_bus_error *e) {
        job_finish(TAKE_PTR(op->job), e);
        if (op->done)
                op->done(op->broker, op->reference, e, op->userdata);
        else
                (void) reply_forward_error(op->call, e);
        pull_op_free(op);
}

static void pull_fail(PullOp *op, const char *name, const char *fmt, const char *arg1, const char *arg2) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *msg = NULL;

        if (asprintf(&msg, fmt, arg1, arg2) < 0)
                msg = NULL;
        sd_bus_error_set(&e, name, msg ?: "out of memory");
        pull_complete_error(op, &e);
}

static void pull_finish(PullOp *op) {
        Broker *b = op->broker;
        ImageEntry e = {
                .reference = op->reference,
                .repo_digest = op->repo_digest,
                .manifest = op->manifest,
                .media_type = op->media_type,
                .manifest_size = op->manifest_size,
        };
        int r;

        r = image_record(b, &e);
        if (r < 0) {
                char where[PATH_MAX + 32], why[PATH_MAX + 64];
                log_error_errno(r, "Failed to record %s in index.json: %m", op->reference);
                snprintf(why, sizeof why, "%s: %s", image_index_path(b, where, sizeof where), strerror(-r));
                pull_fail(op, ZL_ERROR_INTERNAL, "failed to record %s in %s", op->reference, why);
                return;
        }
        log_info("Pulled %s (%s).", op->reference, op->repo_digest);
        (void) manager_emit_counts_changed(b);
        job_finish(TAKE_PTR(op->job), NULL);
        if (op->done)
                op->done(b, op->reference, NULL, op->userdata);
        else
                (void) sd_bus_reply_method_return(op->call, "ss", op->reference, op->repo_digest);
        pull_op_free(op);
}

static void pull_unpack_next(PullOp *op);

static int safe_close_fd(int fd) {
        if (fd >= 0)
                close(fd);
        return -1;
}

static int on_unpack_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        PullOp *op = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e) {
                log_warning("Unpacking layer %s of %s failed: %s: %s", op->layers[op->next_layer], op->reference,
                            e->name, strempty(e->message));
                pull_complete_error(op, e);
                return 0;
        }
        op->next_layer++;
        pull_unpack_next(op);
        return 0;
}

static void unpack_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_close_ int blob = -1;
        PullOp *op = userdata;
        size_t i = op->next_layer;
        char chain[72];
        int r;

        if (!link) {
                pull_fail(op, ZL_ERROR_INTERNAL, "worker %s is not available%s", "archive", "");
                return;
        }
        blob = image_blob_open(b->images_fd, op->layers[i]);
        if (blob < 0) {
                pull_fail(op, ZL_ERROR_PULL_FAILED, "layer blob %s is missing: %s", op->layers[i], strerror(-blob));
                return;
        }
        snprintf(chain, sizeof(chain), "sha256:%s", op->chains[i]);
        r = sd_bus_message_new_method_call(link, &m, NULL, ZL_WORKER_PATH, ZL_ARCHIVE_IFACE, "UnpackLayer");
        if (r >= 0)
                r = sd_bus_message_append(m, "hhss", blob, b->layers_fd, chain, op->diff_ids[i]);
        if (r >= 0)
                r = sd_bus_call_async(link, NULL, m, on_unpack_reply, op, UNPACK_CALL_USEC);
        if (r < 0)
                pull_fail(op, ZL_ERROR_INTERNAL, "failed to call UnpackLayer for %s: %s", op->layers[i], strerror(-r));
}

static void pull_unpack_next(PullOp *op) {
        Broker *b = op->broker;
        int r;

        if (op->cancel_requested) {
                pull_fail(op, ZL_ERROR_CANCELED, "pull of %s canceled%s", op->reference, "");
                return;
        }

        /* Skip layers already extracted: the archive worker renames a
         * layer into place only when it is whole. */
        while (op->layers[op->next_layer] &&
               faccessat(b->layers_fd, op->chains[op->next_layer], F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                op->next_layer++;

        if (!op->layers[op->next_layer]) {
                pull_finish(op);
                return;
        }
        r = worker_acquire(b, WORKER_ARCHIVE, unpack_with_link, op);
        if (r < 0)
                pull_fail(op, ZL_ERROR_INTERNAL, "failed to wait for worker %s: %s", "archive", strerror(-r));
}

static const char *result_string(json_object *o, const char *key) {
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static int strv_from_json_digests(json_object *arr, const char *member, char ***ret) {
        size_t n;
        char **l;

        if (!json_object_is_type(arr, json_type_array))
                return -EBADMSG;
        n = json_object_array_length(arr);
        if (n > 512)
                return -E2BIG;
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(arr, i);
                const char *d = member ? result_string(v, member)
                                       : (json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL);
                if (!d || !digest_is_valid(d) || !(l[i] = strdup(d))) {
                        strv_free(l);
                        return d ? -ENOMEM : -EBADMSG;
                }
        }
        *ret = l;
        return 0;
}

static int pull_parse_result(PullOp *op, const char *text) {
        json_object *v;
        const char *s;
        int r;

        op->result = json_tokener_parse(text);
        if (!op->result || !json_object_is_type(op->result, json_type_object))
                return -EBADMSG;
        s = result_string(op->result, "digest");
        if (!s || !digest_is_valid(s) || !(op->repo_digest = strdup(s)))
                return -EBADMSG;
        s = result_string(op->result, "manifest");
        if (!s || !digest_is_valid(s) || !(op->manifest = strdup(s)))
                return -EBADMSG;
        s = result_string(op->result, "config");
        if (!s || !digest_is_valid(s) || !(op->config = strdup(s)))
                return -EBADMSG;
        s = result_string(op->result, "manifest_media_type");
        if (s && !(op->media_type = strdup(s)))
                return -ENOMEM;
        if (json_object_object_get_ex(op->result, "manifest_size", &v) && json_object_is_type(v, json_type_int))
                op->manifest_size = json_object_get_uint64(v);
        if (!json_object_object_get_ex(op->result, "layers", &v))
                return -EBADMSG;
        r = strv_from_json_digests(v, "digest", &op->layers);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(op->result, "diff_ids", &v))
                return -EBADMSG;
        r = strv_from_json_digests(v, NULL, &op->diff_ids);
        if (r < 0)
                return r;
        if (strv_length(op->layers) != strv_length(op->diff_ids))
                return -EBADMSG;
        return image_chain_ids(op->diff_ids, &op->chains);
}

/* Both the puller's answer and every stream's are in: fail with the
 * puller's error (a bad or short blob also breaks its stream; the puller's
 * message names the blob digest), or unpack what is not in place yet from
 * the verified blobs and finish. */
static void pull_maybe_continue(PullOp *op) {
        int r;

        if (op->in_puller || op->n_streams > 0)
                return;
        op->stream_slot = sd_bus_slot_unref(op->stream_slot);

        if (sd_bus_error_is_set(&op->puller_error)) {
                log_warning("Pulling %s failed: %s: %s", op->reference, op->puller_error.name,
                            strempty(op->puller_error.message));
                pull_complete_error(op, &op->puller_error);
                return;
        }
        if (op->job)
                job_set_state(op->job, "unpacking");
        r = op->pull_result ? pull_parse_result(op, op->pull_result) : -EBADMSG;
        if (r < 0) {
                log_warning_errno(r, "Bad Pull result from zlayer-puller for %s: %m", op->reference);
                pull_fail(op, ZL_ERROR_INTERNAL, "zlayer-puller returned a malformed result for %s: %s",
                          op->reference, strerror(-r));
                return;
        }
        /* Skips the layers the streams put in place; a layer whose stream
         * failed (archive busy, disk full …) is unpacked from its blob now,
         * and that answer is the one that counts. */
        op->next_layer = 0;
        pull_unpack_next(op);
}

static int on_pull_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        PullOp *op = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        const char *text;
        int r;

        op->in_puller = false;
        op->progress_slot = sd_bus_slot_unref(op->progress_slot);

        if (e)
                r = sd_bus_error_copy(&op->puller_error, e);
        else {
                r = sd_bus_message_read(m, "s", &text);
                if (r >= 0 && strlen(text) > PULL_RESULT_MAX)
                        r = -E2BIG;
                if (r >= 0 && !(op->pull_result = strdup(text)))
                        r = -ENOMEM;
        }
        if (r < 0)
                (void) sd_bus_error_set_errnof(&op->puller_error, -r, "Failed to read the puller's answer for %s: %m",
                                               op->reference);
        pull_maybe_continue(op);
        return 0;
}

typedef struct PullStream {
        PullOp *op;
        int fd;
        char digest[72], diff_id[72], chain_id[72];
} PullStream;

/* A failed stream neither fails nor cancels the pull: the layer is not in
 * place, so it is unpacked from its blob once the download is verified. */
static void pull_stream_end(PullStream *ps, const sd_bus_error *e) {
        PullOp *op = ps->op;

        if (e)
                log_debug("Stream of %s for %s ended with %s: %s; unpacking from the blob instead.", ps->digest,
                          op->reference, e->name, strempty(e->message));
        if (ps->fd >= 0)
                close(ps->fd);
        free(ps);
        op->n_streams--;
        pull_maybe_continue(op);
}

static int on_stream_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        PullStream *ps = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (!e)
                log_debug("Layer %s of %s unpacked while it downloaded.", ps->digest, ps->op->reference);
        pull_stream_end(ps, e);
        return 0;
}

static void stream_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        PullStream *ps = userdata;
        int r;

        if (!link) {
                sd_bus_error_setf(&e, ZL_ERROR_INTERNAL, "worker archive is not available");
                pull_stream_end(ps, &e);
                return;
        }
        r = sd_bus_message_new_method_call(link, &m, NULL, ZL_WORKER_PATH, ZL_ARCHIVE_IFACE, "UnpackLayerStream");
        if (r >= 0)
                r = sd_bus_message_append(m, "hhsss", ps->fd, b->layers_fd, ps->chain_id, ps->diff_id, ps->digest);
        if (r >= 0)
                r = sd_bus_call_async(link, NULL, m, on_stream_reply, ps, UNPACK_CALL_USEC);
        if (r < 0) {
                sd_bus_error_set_errnof(&e, -r, "Failed to call UnpackLayerStream for %s: %m", ps->digest);
                pull_stream_end(ps, &e);
                return;
        }
        /* The message holds its own copy; ours would keep the pipe open. */
        ps->fd = safe_close_fd(ps->fd);
}

/* Puller1.LayerStream: a layer's bytes as they arrive. Not taken (the pipe
 * closes, the puller goes on with the blob alone) when the layer is in place
 * already or the pull is being canceled. */
static int on_layer_stream(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        PullOp *op = userdata;
        const char *digest, *diff_id, *chain_id;
        PullStream *ps;
        uint32_t request;
        int fd, r;

        if (sd_bus_message_read(m, "usssh", &request, &digest, &diff_id, &chain_id, &fd) < 0)
                return 0;
        if (!op->job || request != job_id(op->job) || op->cancel_requested)
                return 0;
        if (!digest_is_valid(digest) || !digest_is_valid(diff_id) || !digest_is_valid(chain_id)) {
                log_warning("zlayer-puller sent a stream with a malformed digest for %s.", op->reference);
                return 0;
        }
        if (faccessat(op->broker->layers_fd, chain_id + 7, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                return 0;

        ps = calloc(1, sizeof(*ps));
        if (!ps)
                return 0;
        ps->op = op;
        ps->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (ps->fd < 0) {
                free(ps);
                return 0;
        }
        strcpy(ps->digest, digest);
        strcpy(ps->diff_id, diff_id);
        strcpy(ps->chain_id, chain_id);
        op->n_streams++;
        r = worker_acquire(op->broker, WORKER_ARCHIVE, stream_with_link, ps);
        if (r < 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                sd_bus_error_set_errnof(&e, -r, "Failed to wait for worker archive: %m");
                pull_stream_end(ps, &e);
        }
        return 0;
}

static int append_puller_options(sd_bus_message *m, PullOp *op) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && op->job)
                r = sd_bus_message_append(m, "{sv}", "request", "u", job_id(op->job));
        if (r >= 0 && op->username)
                r = sd_bus_message_append(m, "{sv}", "username", "s", op->username);
        if (r >= 0 && op->password)
                r = sd_bus_message_append(m, "{sv}", "password", "s", op->password);
        if (r >= 0 && op->platform)
                r = sd_bus_message_append(m, "{sv}", "platform", "s", op->platform);
        if (r >= 0 && op->insecure >= 0)
                r = sd_bus_message_append(m, "{sv}", "insecure", "b", op->insecure);
        if (r >= 0 && op->job && streq(sd_bus_message_get_member(m), "Pull"))
                r = sd_bus_message_append(m, "{sv}", "stream", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int on_puller_progress(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        PullOp *op = userdata;
        const char *digest, *status;
        uint64_t current, total;
        uint32_t request;

        if (sd_bus_message_read(m, "usstt", &request, &digest, &status, &current, &total) < 0)
                return 0;
        if (op->job && request == job_id(op->job))
                job_report(op->job, digest, status, current, total);
        return 0;
}

/* Job.Cancel: the puller drops the transfer (and its temp file) and answers
 * Canceled; between calls, the next step sees the flag. */
static int pull_job_cancel(Job *j, void *userdata) {
        PullOp *op = userdata;
        sd_bus *link = worker_link(op->broker, WORKER_PULLER);

        op->cancel_requested = true;
        if (op->in_puller && link)
                (void) sd_bus_call_method_async(link, NULL, NULL, ZL_WORKER_PATH, ZL_PULLER_IFACE, "Cancel", NULL, NULL,
                                                "u", job_id(j));
        return 0;
}

static void pull_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        PullOp *op = userdata;
        int r;

        if (!link) {
                pull_fail(op, ZL_ERROR_INTERNAL, "worker %s is not available%s", "puller", "");
                return;
        }
        if (op->cancel_requested) {
                pull_fail(op, ZL_ERROR_CANCELED, "pull of %s canceled%s", op->reference, "");
                return;
        }
        op->progress_slot = sd_bus_slot_unref(op->progress_slot);
        op->stream_slot = sd_bus_slot_unref(op->stream_slot);
        r = op->job ? sd_bus_match_signal(link, &op->progress_slot, NULL, ZL_WORKER_PATH, ZL_PULLER_IFACE, "Progress",
                                          on_puller_progress, op)
                    : 0;
        if (r >= 0 && op->job)
                r = sd_bus_match_signal(link, &op->stream_slot, NULL, ZL_WORKER_PATH, ZL_PULLER_IFACE, "LayerStream",
                                        on_layer_stream, op);
        if (r >= 0)
                r = sd_bus_message_new_method_call(link, &m, NULL, ZL_WORKER_PATH, ZL_PULLER_IFACE, "Pull");
        if (r >= 0)
                r = sd_bus_message_append(m, "sh", op->reference, b->images_fd);
        if (r >= 0)
                r = append_puller_options(m, op);
        if (r >= 0)
                r = sd_bus_call_async(link, NULL, m, on_pull_reply, op, PULL_CALL_USEC);
        if (r >= 0)
                op->in_puller = true;
        if (r < 0)
                pull_fail(op, ZL_ERROR_INTERNAL, "failed to call Pull for %s: %s", op->reference, strerror(-r));
}

/* Policy newer: what does the registry serve for the reference now? */
static int on_resolve_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        PullOp *op = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        const char *digest;
        int r;

        op->in_puller = false;
        if (!e && op->cancel_requested) {
                pull_fail(op, ZL_ERROR_CANCELED, "pull of %s canceled%s", op->reference, "");
                return 0;
        }

        if (e) {
                log_warning("Resolving %s failed: %s: %s", op->reference, e->name, strempty(e->message));
                pull_complete_error(op, e);
                return 0;
        }
        r = sd_bus_message_read(m, "s", &digest);
        if (r < 0 || !digest_is_valid(digest)) {
                pull_fail(op, ZL_ERROR_INTERNAL, "zlayer-puller resolved %s to a malformed digest%s", op->reference, "");
                return 0;
        }
        if (streq(digest, op->current_digest)) {
                log_info("%s is up to date (%s).", op->reference, digest);
                job_finish(TAKE_PTR(op->job), NULL);
                if (op->done)
                        op->done(op->broker, op->reference, NULL, op->userdata);
                else
                        (void) sd_bus_reply_method_return(op->call, "ss", op->reference, digest);
                pull_op_free(op);
                return 0;
        }
        log_info("%s changed in the registry: %s → %s.", op->reference, op->current_digest, digest);
        r = worker_acquire(op->broker, WORKER_PULLER, pull_with_link, op);
        if (r < 0)
                pull_fail(op, ZL_ERROR_INTERNAL, "failed to wait for worker %s: %s", "puller", strerror(-r));
        return 0;
}

static void resolve_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        PullOp *op = userdata;
        int r;

        if (!link) {
                pull_fail(op, ZL_ERROR_INTERNAL, "worker %s is not available%s", "puller", "");
                return;
        }
        r = sd_bus_message_new_method_call(link, &m, NULL, ZL_WORKER_PATH, ZL_PULLER_IFACE, "Resolve");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", op->reference);
        if (r >= 0)
                r = append_puller_options(m, op);
        if (r >= 0)
                r = sd_bus_call_async(link, NULL, m, on_resolve_reply, op, PULL_CALL_USEC);
        if (r >= 0)
                op->in_puller = true;
        if (r < 0)
                pull_fail(op, ZL_ERROR_INTERNAL, "failed to call Resolve for %s: %s", op->reference, strerror(-r));
}

static int read_string_option(sd_bus_message *m, const char *key, char **ret, sd_bus_error *error) {
        const char *s;
        int r;

        r = sd_bus_message_enter_container(m, 'v', "s");
        if (r <= 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "option '%s' must be of type s", key);
        r = sd_bus_message_read(m, "s", &s);
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        free(*ret);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static bool platform_is_valid(const char *p) {
        size_t slashes = 0;
        if (isempty(p) || strlen(p) > 64 || p[0] == '/')
                return false;
        for (const char *c = p; *c; c++) {
                if (*c == '/') {
                        if (c[1] == '/' || c[1] == 0)
                                return false;
                        slashes++;
                } else if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '.'))
                        return false;
        }
        return slashes >= 1 && slashes <= 2;
}

int method_pull_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        PullOp *op = NULL;
        _cleanup_free_ char *auth_type = NULL;
        const char *image, *policy;
        ImageEntry entry;
        int r;

        r = sd_bus_message_read(m, "ss", &image, &policy);
        if (r < 0)
                return r;

        if (!streq(policy, "") && !streq(policy, "if_not_present") && !streq(policy, "always") &&
            !streq(policy, "never") && !streq(policy, "newer"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "unknown pull policy '%s'", policy);

        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->broker = b;
        op->insecure = -1;

        r = image_reference_normalize(image, &op->reference);
        if (r < 0) {
                pull_op_free(op);
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "invalid image reference '%s'", image);
        }

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                goto fail;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;

                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        goto fail;
                if (streq(key, "username"))
                        r = read_string_option(m, key, &op->username, error);
                else if (streq(key, "password"))
                        r = read_string_option(m, key, &op->password, error);
                else if (streq(key, "auth_type"))
                        r = read_string_option(m, key, &auth_type, error);
                else if (streq(key, "platform"))
                        r = read_string_option(m, key, &op->platform, error);
                else if (streq(key, "insecure")) {
                        r = sd_bus_message_enter_container(m, 'v', "b");
                        if (r <= 0) {
                                r = sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "option 'insecure' must be of type b");
                                goto fail;
                        }
                        r = sd_bus_message_read(m, "b", &op->insecure);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                } else {
                        r = sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "unknown option '%s'", key);
                        goto fail;
                }
                if (r < 0)
                        goto fail;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        goto fail;
        }
        if (r < 0)
                goto fail;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                goto fail;

        if (auth_type && !streq(auth_type, "basic") && !streq(auth_type, "token")) {
                r = sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "unknown auth_type '%s'", auth_type);
                goto fail;
        }
        if (op->platform && !platform_is_valid(op->platform)) {
                r = sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "invalid platform '%s'", op->platform);
                goto fail;
        }
        if (!op->username != !op->password) {
                r = sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "option '%s' given without '%s'",
                                      op->username ? "username" : "password", op->username ? "password" : "username");
                goto fail;
        }

        r = authz_verify(b, m, op->reference, error);
        if (r <= 0) {
                pull_op_free(op);
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */
        }

        if (image_store_find(b->images, op->reference, &entry) >= 0) {
                if (isempty(policy) || streq(policy, "if_not_present") || streq(policy, "never")) {
                        r = sd_bus_reply_method_return(m, "ss", entry.reference, entry.repo_digest);
                        pull_op_free(op);
                        return r;
                }
                /* A digest reference cannot change: present is current. */
                if (streq(policy, "newer") && strchr(op->reference, '@')) {
                        r = sd_bus_reply_method_return(m, "ss", entry.reference, entry.repo_digest);
                        pull_op_free(op);
                        return r;
                }
                if (streq(policy, "newer") && !(op->current_digest = strdup(entry.repo_digest))) {
                        r = -ENOMEM;
                        goto fail;
                }
        } else if (streq(policy, "never")) {
                r = sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND, "image %s is not present and the policy is never",
                                      op->reference);
                goto fail;
        }

        if (b->n_pulls >= PULLS_MAX) {
                r = sd_bus_error_setf(error, ZL_ERROR_BUSY, "cannot pull %s: %u pulls are running already",
                                      op->reference, b->n_pulls);
                goto fail;
        }
        if (image_gc_running()) {
                r = sd_bus_error_setf(error, ZL_ERROR_BUSY, "cannot pull %s while images are being removed",
                                      op->reference);
                goto fail;
        }

        /* "newer" with the image present asks the registry for the digest
         * first; absent, it is a plain pull. */
        op->call = sd_bus_message_ref(m);
        op->counted = true;
        b->n_pulls++;
        r = job_new(b, "pull", op->reference, sd_bus_message_get_sender(m), pull_job_cancel, op, &op->job);
        if (r < 0) {
                op->call = sd_bus_message_unref(op->call);
                goto fail;
        }
        log_info("%s %s (job %u).", op->current_digest ? "Checking" : "Pulling", op->reference, job_id(op->job));
        r = worker_acquire(b, WORKER_PULLER, op->current_digest ? resolve_with_link : pull_with_link, op);
        if (r < 0) {
                op->call = sd_bus_message_unref(op->call);
                goto fail;
        }
        return 1;

fail:
        pull_op_free(op);
        return r;
}

int image_pull_start(Broker *b, const char *reference, pull_done_t done, void *userdata) {
        PullOp *op;
        int r;

        if (b->n_pulls >= PULLS_MAX || image_gc_running())
                return -EBUSY;
        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        *op = (PullOp) { .broker = b, .insecure = -1, .done = done, .userdata = userdata, .counted = true };
        op->reference = strdup(reference);
        if (!op->reference) {
                free(op);
                return -ENOMEM;
        }
        b->n_pulls++;
        r = job_new(b, "pull", op->reference, NULL, pull_job_cancel, op, &op->job);
        if (r >= 0) {
                log_info("Pulling %s (job %u).", op->reference, job_id(op->job));
                r = worker_acquire(b, WORKER_PULLER, pull_with_link, op);
        }
        if (r < 0) {
                op->done = NULL; /* the caller hears it from the return value */
                pull_op_free(op);
        }
        return r;
}

int method_list_images(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Broker *b = userdata;
        size_t n = image_store_count(b->images);
        int r;

        r = authz_verify(b, m, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sst)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                ImageEntry e;
                uint64_t size = 0;

                if (image_store_get(b->images, i, &e) < 0)
                        break;
                r = image_manifest_read(b->images_fd, e.manifest, NULL, NULL, &size);
                if (r < 0)
                        log_warning_errno(r, "Failed to read the manifest %s of %s: %m", e.manifest, e.reference);
                /* Docker lists a dangling image as <none>:<none> */
                r = sd_bus_message_append(reply, "(sst)", e.dangling ? "<none>:<none>" : e.reference, e.repo_digest, size);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}
