/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <time.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>

#include "blob-store.h"
#include "digest.h"
#include "errors.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "pull.h"
#include "reference.h"
#include "registry.h"

void pull_request_done(PullRequest *req) {
        free(req->reference);
        if (req->images_fd >= 0)
                close(req->images_fd);
        free(req->username);
        if (req->password) {
                explicit_bzero(req->password, strlen(req->password));
                free(req->password);
        }
        req->reference = req->username = req->password = NULL;
        req->images_fd = -1;
}

void pull_result_done(PullResult *res) {
        free(res->json);
        free(res->error_message);
        *res = (PullResult) {};
}

_printf_(3, 4)
static int fail(PullResult *res, const char *name, const char *fmt, ...) {
        va_list ap;

        free(res->error_message);
        res->error_name = name;
        va_start(ap, fmt);
        if (vasprintf(&res->error_message, fmt, ap) < 0)
                res->error_message = NULL;
        va_end(ap);
        return -EIO;
}

/* Turns a registry_get() failure into the error we reply with. */
static int fail_registry(PullResult *res, int k, char *error, const char *not_found_name) {
        _cleanup_free_ char *e = error;

        if (k == -ENOMEM)
                return fail(res, ZL_ERROR_INTERNAL, "Out of memory");
        if (k == -ENOENT && not_found_name)
                return fail(res, not_found_name, "%s", strempty(e));
        if (k == -ECANCELED)
                return fail(res, ZL_ERROR_CANCELED, "%s", strempty(e));
        if (e)
                return fail(res, ZL_ERROR_PULL_FAILED, "%s", e);
        return fail(res, ZL_ERROR_PULL_FAILED, "%s", strerror(-k));
}

typedef struct Ctx {
        const PullRequest *req;
        PullResult *res;
        ImageReference *ref;
        Registry *registry;
        BlobStore store;
        const char *host;
        atomic_bool *stop;      /* a download thread: a sibling failed */
        char store_path[256];   /* for messages: which disk filled up */
} Ctx;

/* Fetches a small document (manifest, index, config) into memory and
 * checks it against @digest when given. */
static int fetch_document(Ctx *c, const char *what, const char *accept, const char *digest, uint64_t size,
                          RegistryBuffer *buf, char **ret_content_type) {
        RegistryResponse resp = {};
        char *error = NULL;
        char actual[72];
        int k;

        *buf = (RegistryBuffer) { .max = MANIFEST_SIZE_MAX };
        k = registry_get(c->registry, what, accept, registry_buffer_sink, buf, &resp, &error);
        if (k == -EFBIG) {
                registry_buffer_done(buf);
                return fail(c->res, ZL_ERROR_PULL_FAILED, "%s: %s is larger than %u bytes", c->host, what,
                            MANIFEST_SIZE_MAX);
        }
        if (k < 0) {
                registry_buffer_done(buf);
                /* A missing manifest is NotFound; a missing blob the registry listed is broken. */
                if (k == -ENOENT && strneq(what, "manifests/", 10)) {
                        _cleanup_free_ char *e = error;
                        return fail(c->res, ZL_ERROR_NOT_FOUND, "%s (%s)", strempty(e), c->req->reference);
                }
                return fail_registry(c->res, k, error, NULL);
        }
        if (!buf->data) {
                /* An empty body is still a document (that will fail to parse). */
                buf->data = strdup("");
                if (!buf->data) {
                        registry_response_done(&resp);
                        return fail(c->res, ZL_ERROR_INTERNAL, "Out of memory");
                }
        }

        k = sha256_digest(buf->data, buf->len, actual);
        if (k < 0) {
                registry_response_done(&resp);
                registry_buffer_done(buf);
                return fail(c->res, ZL_ERROR_INTERNAL, "sha256 failed: %s", strerror(-k));
        }
        if (digest && (!streq(actual, digest) || (size != UINT64_MAX && buf->len != size))) {
                registry_response_done(&resp);
                registry_buffer_done(buf);
                return fail(c->res, ZL_ERROR_PULL_FAILED,
                            "%s: %s: digest mismatch, expected %s (%" PRIu64 " bytes), got %s (%zu bytes)", c->host,
                            what, digest, size, actual, buf->len);
        }
        if (ret_content_type) {
                *ret_content_type = TAKE_PTR(resp.content_type);
        }
        registry_response_done(&resp);
        return 0;
}

static int store_document(Ctx *c, const char *digest, const RegistryBuffer *buf) {
        int k = blob_store_put(&c->store, digest, buf->data, buf->len);
        if (k < 0)
                return fail(c->res, ZL_ERROR_PULL_FAILED, "Failed to store %s in %s: %s", digest, c->store_path,
                            strerror(-k));
        return 0;
}

static int safe_close(int fd) {
        if (fd >= 0)
                close(fd);
        return -1;
}

typedef struct BlobFetch {
        const PullRequest *req;
        BlobWriter *writer;
        const Descriptor *descriptor;
        int stream_fd;          /* the unpacker's pipe, -1 when none or gone */
        uint64_t got;
} BlobFetch;

static void report(const PullRequest *req, const Descriptor *d, const char *status, uint64_t current) {
        if (req->progress)
                req->progress(req->progress_userdata, d->digest, status, current, d->size);
}

static int layer_sink(const void *data, size_t len, void *userdata) {
        BlobFetch *f = userdata;
        int r = blob_writer_write(f->writer, data, len);
        if (r < 0)
                return r;
        if (f->stream_fd >= 0) {
                /* The unpacker went away (it failed, or the broker did not
                 * want this stream): the blob goes on, the broker unpacks
                 * from it or reports the unpacker's error. */
                int k = loop_write(f->stream_fd, data, len);
                if (k < 0) {
                        log_debug_errno(k, "Stream of %s closed by its reader: %m", f->descriptor->digest);
                        f->stream_fd = safe_close(f->stream_fd);
                }
        }
        f->got += len;
        report(f->req, f->descriptor, "downloading", f->got);
        return r;
}

/* Blobs some pull of this process is downloading right now: a second pull
 * of the same blob waits for the first instead of downloading it again,
 * then finds it in the store (or, when the first failed, fetches it). */
#define PULLS_IN_PROCESS_MAX 16U   /* puller.h's PULLS_MAX */
#define INFLIGHT_MAX (PULLS_IN_PROCESS_MAX * PULL_PARALLEL_LAYERS)
static pthread_mutex_t inflight_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t inflight_cond = PTHREAD_COND_INITIALIZER;
static char inflight[INFLIGHT_MAX][72];

static bool ctx_stopped(const Ctx *c) {
        return (c->req->cancel && atomic_load(c->req->cancel)) || (c->stop && atomic_load(c->stop));
}

static int inflight_acquire(const Ctx *c, const char *digest, size_t *ret_slot) {
        int r = 0;

        pthread_mutex_lock(&inflight_lock);
        for (;;) {
                size_t free_slot = SIZE_MAX;
                bool busy = false;

                for (size_t i = 0; i < INFLIGHT_MAX; i++) {
                        if (streq(inflight[i], digest))
                                busy = true;
                        else if (!inflight[i][0] && free_slot == SIZE_MAX)
                                free_slot = i;
                }
                if (ctx_stopped(c)) {
                        r = -ECANCELED;
                        break;
                }
                if (!busy && free_slot != SIZE_MAX) {
                        strcpy(inflight[free_slot], digest);
                        *ret_slot = free_slot;
                        break;
                }
                if (busy)
                        log_debug("Blob %s is being downloaded by another pull, waiting.", digest);
                /* Wake up now and then to see a cancel. */
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 200 * 1000 * 1000;
                if (ts.tv_nsec >= 1000 * 1000 * 1000) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000 * 1000 * 1000;
                }
                (void) pthread_cond_timedwait(&inflight_cond, &inflight_lock, &ts);
        }
        pthread_mutex_unlock(&inflight_lock);
        return r;
}

static void inflight_release(size_t slot) {
        pthread_mutex_lock(&inflight_lock);
        inflight[slot][0] = 0;
        pthread_cond_broadcast(&inflight_cond);
        pthread_mutex_unlock(&inflight_lock);
}

static int fetch_blob_locked(Ctx *c, const Descriptor *d, const char *diff_id, const char *chain_id) {
        _cleanup_(blob_writer_freep) BlobWriter *w = NULL;
        _cleanup_free_ char *what = NULL;
        _cleanup_close_ int stream_fd = -1;
        RegistryResponse resp = {};
        char *error = NULL, actual[72];
        uint64_t got = 0;
        int k;

        k = blob_store_has(&c->store, d->digest, d->size);
        if (k > 0) {
                log_debug("Blob %s already present.", d->digest);
                report(c->req, d, "exists", d->size);
                return 0;
        }
        if (k < 0)
                return fail(c->res, ZL_ERROR_PULL_FAILED, "Failed to look up %s in the image store: %s", d->digest,
                            strerror(-k));

        k = blob_writer_new(&c->store, d->digest, d->size, &w);
        if (k < 0)
                return fail(c->res, ZL_ERROR_PULL_FAILED, "Failed to create a temp file in ingest/: %s",
                            strerror(-k));
        if (asprintf(&what, "blobs/%s", d->digest) < 0)
                return fail(c->res, ZL_ERROR_INTERNAL, "Out of memory");

        if (diff_id && c->req->open_stream)
                stream_fd = c->req->open_stream(c->req->progress_userdata, d->digest, diff_id, chain_id);

        report(c->req, d, "downloading", 0);
        BlobFetch f = { .req = c->req, .writer = w, .descriptor = d, .stream_fd = TAKE_FD(stream_fd) };
        k = registry_get(c->registry, what, NULL, layer_sink, &f, &resp, &error);
        registry_response_done(&resp);
        /* Closed before the commit: the unpacker checks the same digest on
         * its side and keeps nothing when the bytes were short or wrong. */
        f.stream_fd = safe_close(f.stream_fd);
        if (k == -EFBIG)
                return fail(c->res, ZL_ERROR_PULL_FAILED, "%s: blob %s is larger than its descriptor's %" PRIu64 " bytes",
                            c->host, d->digest, d->size);
        if (k < 0 && !error)
                return fail(c->res, ZL_ERROR_PULL_FAILED, "Failed to write %s to %s/ingest: %s", d->digest,
                            c->store_path, strerror(-k));
        if (k < 0)
                return fail_registry(c->res, k, error, NULL);

        k = blob_writer_commit(TAKE_PTR(w), actual, &got);
        if (k == -EBADMSG)
                return fail(c->res, ZL_ERROR_PULL_FAILED,
                            "%s: blob %s: digest mismatch, got %s (%" PRIu64 " of %" PRIu64 " bytes)", c->host,
                            d->digest, actual, got, d->size);
        if (k < 0)
                return fail(c->res, ZL_ERROR_PULL_FAILED, "Failed to store %s in %s: %s", d->digest,
                            c->store_path, strerror(-k));
        log_debug("Blob %s stored (%" PRIu64 " bytes).", d->digest, got);
        report(c->req, d, "done", got);
        return 0;
}

/* @diff_id and @chain_id: for a layer (it may be streamed to the unpacker), NULL otherwise. */
static int fetch_blob(Ctx *c, const Descriptor *d, const char *diff_id, const char *chain_id) {
        size_t slot;
        int k;

        k = inflight_acquire(c, d->digest, &slot);
        if (k < 0)
                return fail(c->res, ZL_ERROR_CANCELED, "%s: pull canceled", c->host);
        k = fetch_blob_locked(c, d, diff_id, chain_id);
        inflight_release(slot);
        return k;
}

/* The layers of one pull, PULL_PARALLEL_LAYERS at a time, each thread with
 * its own connection. The first failure stops the others and is the one
 * reported. */
typedef struct LayerFetch {
        Ctx *c;
        const ImageManifest *m;
        char **diff_ids;
        char (*chains)[72];
        pthread_mutex_t lock;
        size_t next;
        atomic_bool stop;
        bool failed;
} LayerFetch;

static void *layer_thread(void *userdata) {
        LayerFetch *lf = userdata;
        _cleanup_(registry_freep) Registry *registry = NULL;
        PullResult res = {};
        Ctx c = *lf->c;
        int k;

        c.res = &res;
        c.stop = &lf->stop;
        k = registry_clone(lf->c->registry, &lf->stop, &registry);
        if (k < 0)
                fail(&res, ZL_ERROR_INTERNAL, "Failed to set up the HTTP client: %s", strerror(-k));
        c.registry = registry;

        while (k >= 0) {
                size_t i;

                pthread_mutex_lock(&lf->lock);
                i = lf->next++;
                pthread_mutex_unlock(&lf->lock);
                if (i >= lf->m->n_layers || atomic_load(&lf->stop))
                        break;
                k = fetch_blob(&c, &lf->m->layers[i], lf->diff_ids[i], lf->chains[i]);
        }

        if (k < 0) {
                pthread_mutex_lock(&lf->lock);
                if (!lf->failed) {
                        lf->failed = true;
                        pull_result_done(lf->c->res);
                        *lf->c->res = res;
                        res = (PullResult) {};
                }
                atomic_store(&lf->stop, true);
                pthread_mutex_unlock(&lf->lock);
        }
        pull_result_done(&res);
        return NULL;
}

static int fetch_layers(Ctx *c, const ImageManifest *m, char **diff_ids) {
        _cleanup_free_ char (*chains)[72] = NULL;
        pthread_t threads[PULL_PARALLEL_LAYERS];
        size_t n_threads = 0;
        LayerFetch lf = { .c = c, .m = m, .diff_ids = diff_ids, .lock = PTHREAD_MUTEX_INITIALIZER };
        int k = 0;

        if (m->n_layers == 0)
                return 0;
        chains = calloc(m->n_layers, sizeof(*chains));
        if (!chains)
                return fail(c->res, ZL_ERROR_INTERNAL, "Out of memory");
        for (size_t i = 0; i < m->n_layers; i++)
                if (chain_id_next(i > 0 ? chains[i - 1] : NULL, diff_ids[i], chains[i]) < 0)
                        return fail(c->res, ZL_ERROR_PULL_FAILED, "%s: config of %s has an invalid diff_id \"%s\"",
                                    c->host, c->req->reference, diff_ids[i]);
        lf.chains = chains;
        atomic_init(&lf.stop, false);

        for (; n_threads < MIN((size_t) PULL_PARALLEL_LAYERS, m->n_layers); n_threads++) {
                k = -pthread_create(&threads[n_threads], NULL, layer_thread, &lf);
                if (k < 0)
                        break;
        }
        if (n_threads == 0)
                return fail(c->res, ZL_ERROR_INTERNAL, "Failed to start a download thread: %s", strerror(-k));
        for (size_t i = 0; i < n_threads; i++)
                pthread_join(threads[i], NULL);
        pthread_mutex_destroy(&lf.lock);
        return lf.failed ? -EIO : 0;
}

static json_object *descriptor_to_json(const char *media_type, const Descriptor *d) {
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        if (json_object_object_add(o, "digest", json_object_new_string(d->digest)) < 0 ||
            json_object_object_add(o, "size", json_object_new_int64((int64_t) d->size)) < 0 ||
            json_object_object_add(o, "media_type", json_object_new_string(strempty(media_type))) < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

static int build_result(Ctx *c, const char *top_digest, const char *manifest_digest, size_t manifest_size,
                        const ImageManifest *m, char **diff_ids) {
        json_object *o = json_object_new_object(), *layers = json_object_new_array(),
                    *ids = json_object_new_array();
        bool ok = o && layers && ids;

        for (size_t i = 0; ok && i < m->n_layers; i++) {
                json_object *l = descriptor_to_json(m->layers[i].media_type, &m->layers[i]);
                ok = l && json_object_array_add(layers, l) == 0;
        }
        for (char **d = diff_ids; ok && *d; d++)
                ok = json_object_array_add(ids, json_object_new_string(*d)) == 0;
        ok = ok && json_object_object_add(o, "reference", json_object_new_string(c->req->reference)) == 0 &&
             json_object_object_add(o, "digest", json_object_new_string(top_digest)) == 0 &&
             json_object_object_add(o, "manifest", json_object_new_string(manifest_digest)) == 0 &&
             json_object_object_add(o, "manifest_media_type", json_object_new_string(m->media_type)) == 0 &&
             json_object_object_add(o, "manifest_size", json_object_new_int64((int64_t) manifest_size)) == 0 &&
             json_object_object_add(o, "config", json_object_new_string(m->config.digest)) == 0 &&
             json_object_object_add(o, "config_size", json_object_new_int64((int64_t) m->config.size)) == 0;
        if (ok) {
                ok = json_object_object_add(o, "layers", layers) == 0;
                layers = NULL;
        }
        if (ok) {
                ok = json_object_object_add(o, "diff_ids", ids) == 0;
                ids = NULL;
        }
        if (ok) {
                c->res->json = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                ok = c->res->json;
        }
        json_object_put(o);
        json_object_put(layers);
        json_object_put(ids);
        return ok ? 0 : fail(c->res, ZL_ERROR_INTERNAL, "Out of memory");
}

static int pull_image(Ctx *c) {
        _cleanup_free_ char *what = NULL, *content_type = NULL, *top_type = NULL, *error = NULL;
        _cleanup_(image_manifest_freep) ImageManifest *m = NULL;
        _cleanup_strv_free_ char **diff_ids = NULL;
        RegistryBuffer top = {}, doc = {}, config = {};
        Descriptor chosen = {};
        char top_digest[72], manifest_digest[72], platform[100];
        ManifestKind kind;
        size_t manifest_size;
        int k;

        if (asprintf(&what, "manifests/%s", c->ref->digest ?: c->ref->tag) < 0)
                return fail(c->res, ZL_ERROR_INTERNAL, "Out of memory");

        k = fetch_document(c, what, MANIFEST_ACCEPT, c->ref->digest, UINT64_MAX, &top, &content_type);
        if (k < 0)
                return k;
        if (sha256_digest(top.data, top.len, top_digest) < 0) {
                k = fail(c->res, ZL_ERROR_INTERNAL, "sha256 failed");
                goto finish;
        }

        if (c->req->resolve_only) {
                c->res->json = strdup(top_digest);
                k = c->res->json ? 0 : fail(c->res, ZL_ERROR_INTERNAL, "Out of memory");
                goto finish;
        }

        k = manifest_detect(top.data, top.len, content_type, &kind, &top_type);
        if (k == -EPROTONOSUPPORT) {
                k = fail(c->res, ZL_ERROR_PULL_FAILED, "%s: %s has unsupported manifest type \"%s\"", c->host,
                         c->req->reference, strempty(top_type));
                goto finish;
        }
        if (k < 0) {
                k = fail(c->res, ZL_ERROR_PULL_FAILED, "%s: manifest of %s is not valid JSON", c->host,
                         c->req->reference);
                goto finish;
        }

        if (kind == MANIFEST_KIND_INDEX) {
                platform_to_string(&c->req->platform, platform, sizeof(platform));
                k = manifest_index_select(top.data, top.len, &c->req->platform, &chosen, &error);
                if (k == -ENOENT) {
                        k = fail(c->res, ZL_ERROR_NOT_FOUND, "%s: no manifest for platform %s in %s", c->host,
                                 platform, c->req->reference);
                        goto finish;
                }
                if (k < 0) {
                        k = fail(c->res, ZL_ERROR_PULL_FAILED, "%s: invalid index of %s: %s", c->host,
                                 c->req->reference, strempty(error));
                        goto finish;
                }
                log_debug("Platform %s of %s is %s.", platform, c->req->reference, chosen.digest);
                k = store_document(c, top_digest, &top);
                if (k < 0)
                        goto finish;

                free(what);
                free(content_type);
                content_type = NULL;
                if (asprintf(&what, "manifests/%s", chosen.digest) < 0) {
                        what = NULL;
                        k = fail(c->res, ZL_ERROR_INTERNAL, "Out of memory");
                        goto finish;
                }
                k = fetch_document(c, what, MANIFEST_ACCEPT, chosen.digest, chosen.size, &doc, &content_type);
                if (k < 0)
                        goto finish;
                strcpy(manifest_digest, chosen.digest);
        } else {
                doc = top;
                top = (RegistryBuffer) {};
                strcpy(manifest_digest, top_digest);
        }
        manifest_size = doc.len;

        k = image_manifest_parse(doc.data, doc.len, chosen.media_type ?: top_type, &m, &error);
        if (k < 0) {
                k = fail(c->res, ZL_ERROR_PULL_FAILED, "%s: manifest %s of %s: %s", c->host, manifest_digest,
                         c->req->reference, strempty(error));
                goto finish;
        }

        /* The config: from the store when we have it, it is read anyway. */
        if (blob_store_has(&c->store, m->config.digest, m->config.size) > 0) {
                k = read_file_at(c->store.blobs_fd, m->config.digest + 7, MANIFEST_SIZE_MAX, &config.data, &config.len);
                if (k < 0) {
                        k = fail(c->res, ZL_ERROR_PULL_FAILED, "Failed to read config %s: %s", m->config.digest,
                                 strerror(-k));
                        goto finish;
                }
        } else {
                free(what);
                if (asprintf(&what, "blobs/%s", m->config.digest) < 0) {
                        what = NULL;
                        k = fail(c->res, ZL_ERROR_INTERNAL, "Out of memory");
                        goto finish;
                }
                k = fetch_document(c, what, NULL, m->config.digest, m->config.size, &config, NULL);
                if (k < 0)
                        goto finish;
                k = store_document(c, m->config.digest, &config);
                if (k < 0)
                        goto finish;
        }

        k = image_config_diff_ids(config.data, config.len, &diff_ids, &error);
        if (k < 0) {
                k = fail(c->res, ZL_ERROR_PULL_FAILED, "%s: config %s of %s: %s", c->host, m->config.digest,
                         c->req->reference, strempty(error));
                goto finish;
        }
        if (strv_length(diff_ids) != m->n_layers) {
                k = fail(c->res, ZL_ERROR_PULL_FAILED, "%s: %s has %zu layers but its config lists %zu diff_ids",
                         c->host, c->req->reference, m->n_layers, strv_length(diff_ids));
                goto finish;
        }

        k = fetch_layers(c, m, diff_ids);
        if (k < 0)
                goto finish;

        /* The manifest goes in last: its presence means the image is whole. */
        k = store_document(c, manifest_digest, &doc);
        if (k < 0)
                goto finish;

        k = build_result(c, top_digest, manifest_digest, manifest_size, m, diff_ids);
finish:
        descriptor_done(&chosen);
        registry_buffer_done(&top);
        registry_buffer_done(&doc);
        registry_buffer_done(&config);
        return k;
}

void pull_run(const PullRequest *req, PullResult *res) {
        _cleanup_image_reference_ ImageReference *ref = NULL;
        _cleanup_(registry_freep) Registry *registry = NULL;
        Ctx c = { .req = req, .res = res, .store = { .ingest_fd = -1, .blobs_fd = -1 } };
        int k;

        *res = (PullResult) {};

        k = image_reference_parse(req->reference, &ref);
        if (k < 0) {
                fail(res, "org.freedesktop.DBus.Error.InvalidArgs", "Invalid image reference \"%s\"", req->reference);
                return;
        }
        c.ref = ref;
        c.host = ref->registry;
        if (!req->resolve_only) {
                char proc[64];
                ssize_t n;

                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", req->images_fd);
                n = readlink(proc, c.store_path, sizeof(c.store_path) - 1);
                if (n <= 0)
                        strcpy(c.store_path, "the image store");
                else
                        c.store_path[n] = 0;
        }

        k = req->resolve_only ? 0 : blob_store_open(req->images_fd, &c.store);
        if (k < 0) {
                fail(res, ZL_ERROR_PULL_FAILED, "Failed to open the image store: %s", strerror(-k));
                return;
        }
        k = registry_new(ref->registry, ref->repository, req->username, req->password, req->insecure, req->cancel,
                         &registry);
        if (k < 0) {
                blob_store_close(&c.store);
                fail(res, ZL_ERROR_INTERNAL, "Failed to set up the HTTP client: %s", strerror(-k));
                return;
        }
        c.registry = registry;

        log_info("Pulling %s.", req->reference);
        k = pull_image(&c);
        if (k >= 0)
                log_info("Pulled %s.", req->reference);
        else
                log_info("Pull of %s failed: %s", req->reference, strempty(res->error_message));
        blob_store_close(&c.store);
}
