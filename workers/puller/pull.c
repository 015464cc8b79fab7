/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
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
                return fail(c->res, ZL_ERROR_PULL_FAILED, "Failed to store %s in the image store: %s", digest,
                            strerror(-k));
        return 0;
}

typedef struct BlobFetch {
        const PullRequest *req;
        BlobWriter *writer;
        const Descriptor *descriptor;
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
        f->got += len;
        report(f->req, f->descriptor, "downloading", f->got);
        return r;
}

static int fetch_blob(Ctx *c, const Descriptor *d) {
        _cleanup_(blob_writer_freep) BlobWriter *w = NULL;
        _cleanup_free_ char *what = NULL;
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

        report(c->req, d, "downloading", 0);
        BlobFetch f = { .req = c->req, .writer = w, .descriptor = d };
        k = registry_get(c->registry, what, NULL, layer_sink, &f, &resp, &error);
        registry_response_done(&resp);
        if (k == -EFBIG)
                return fail(c->res, ZL_ERROR_PULL_FAILED, "%s: blob %s is larger than its descriptor's %" PRIu64 " bytes",
                            c->host, d->digest, d->size);
        if (k < 0 && !error)
                return fail(c->res, ZL_ERROR_PULL_FAILED, "Failed to write %s to ingest/: %s", d->digest,
                            strerror(-k));
        if (k < 0)
                return fail_registry(c->res, k, error, NULL);

        k = blob_writer_commit(TAKE_PTR(w), actual, &got);
        if (k == -EBADMSG)
                return fail(c->res, ZL_ERROR_PULL_FAILED,
                            "%s: blob %s: digest mismatch, got %s (%" PRIu64 " of %" PRIu64 " bytes)", c->host,
                            d->digest, actual, got, d->size);
        if (k < 0)
                return fail(c->res, ZL_ERROR_PULL_FAILED, "Failed to store %s in the image store: %s", d->digest,
                            strerror(-k));
        log_debug("Blob %s stored (%" PRIu64 " bytes).", d->digest, got);
        report(c->req, d, "done", got);
        return 0;
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

        for (size_t i = 0; i < m->n_layers; i++) {
                k = fetch_blob(c, &m->layers[i]);
                if (k < 0)
                        goto finish;
        }

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
