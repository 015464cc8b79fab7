/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SaveImages, LoadImages and ImportImage. The broker never touches a tar:
 * it resolves the names into a plan (SaveImages) or takes zlayer-archive's
 * result (LoadImages, ImportImage: blobs and layers are already stored and
 * verified) and records it in index.json. A load or import counts as a
 * pull meanwhile (b->n_pulls), so PruneImages cannot collect its blobs
 * before they are in the index. */
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>

#include "errors.h"
#include "ids.h"
#include "image-ops.h"
#include "image-store.h"
#include "log.h"
#include "manager-image-io.h"
#include "reference.h"
#include "worker-links.h"

#define IMAGE_IO_CALL_USEC (24ULL * 3600 * USEC_PER_SEC)
#define SAVE_NAMES_MAX 1024

typedef enum IoKind { IO_SAVE, IO_LOAD, IO_IMPORT } IoKind;

typedef struct IoOp {
        Broker *broker;
        IoKind kind;
        sd_bus_message *call;
        int fd;               /* the caller's stream */
        char *text;           /* save: the plan; import: the reference */
        bool counted;         /* in broker->n_pulls */
} IoOp;

static const char *const io_method[] = { "SaveImages", "LoadImages", "ImportImage" };

static void io_op_free(IoOp *op) {
        if (!op)
                return;
        if (op->counted)
                op->broker->n_pulls--;
        sd_bus_message_unref(op->call);
        if (op->fd >= 0)
                close(op->fd);
        free(op->text);
        free(op);
}

static void io_fail(IoOp *op, const char *name, const char *what, int r) {
        (void) reply_error_errnof(op->call, name, "%s: %s: %s", io_method[op->kind], what, strerror(r < 0 ? -r : r));
        io_op_free(op);
}

/* The first entry whose image id is @id (tagged or not); -ENOENT when none. */
static int find_by_id(Broker *b, const char *id, bool dangling_only, ImageEntry *ret) {
        for (size_t i = 0; i < image_store_count(b->images); i++) {
                char other[72];
                ImageEntry x;
                if (image_store_get(b->images, i, &x) >= 0 && (!dangling_only || x.dangling) &&
                    image_entry_id(b->images, &x, other) >= 0 && streq(other, id)) {
                        *ret = x;
                        return 0;
                }
        }
        return -ENOENT;
}

/* An image without a name: listed as <none>:<none>, keyed by its id. When
 * the store has that image already (tagged or not), nothing changes: a load
 * never un-tags anything. */
static int register_dangling(Broker *b, const char *id, const char *manifest, const char *media, uint64_t size) {
        ImageEntry e;

        if (find_by_id(b, id, false, &e) >= 0)
                return 0;
        e = (ImageEntry) {
                .reference = id,
                .dangling = true,
                .repo_digest = manifest,
                .manifest = manifest,
                .media_type = media,
                .manifest_size = size,
        };
        return image_record(b, &e);
}

/* A name for an image that was dangling: the <none>:<none> entry goes, as
 * image_store_put() does for the same manifest (an archive may carry
 * another manifest of the same config). */
static int drop_dangling_of(Broker *b, const char *id) {
        ImageEntry e;
        int r;

        while (find_by_id(b, id, true, &e) >= 0) {
                r = image_store_remove(b->images, e.reference);
                if (r < 0)
                        return r;
        }
        return 0;
}

int image_io_register(Broker *b, const char *result_json, char ***ret_refs, char *ret_id) {
        json_object *result = json_tokener_parse(result_json);
        _cleanup_strv_free_ char **refs = NULL;
        int r = 0;

        if (!result || !json_object_is_type(result, json_type_array))
                r = -EBADMSG;
        for (size_t i = 0; r >= 0 && i < json_object_array_length(result); i++) {
                json_object *item = json_object_array_get_idx(result, i), *v, *list;
                const char *id = NULL, *manifest = NULL, *media = NULL;
                int64_t size = -1;

                if (json_object_object_get_ex(item, "id", &v))
                        id = json_object_get_string(v);
                if (json_object_object_get_ex(item, "manifest", &v))
                        manifest = json_object_get_string(v);
                if (json_object_object_get_ex(item, "media_type", &v))
                        media = json_object_get_string(v);
                if (json_object_object_get_ex(item, "manifest_size", &v))
                        size = json_object_get_int64(v);
                if (!id || !digest_is_valid(id) || !manifest || !digest_is_valid(manifest) || isempty(media) || size < 0 ||
                    !json_object_object_get_ex(item, "references", &list) || !json_object_is_type(list, json_type_array)) {
                        r = -EBADMSG;
                        break;
                }
                if (ret_id && i == 0)
                        snprintf(ret_id, 72, "%s", id);
                if (json_object_array_length(list) == 0) {
                        /* no name: a dangling image, reported by its id (Docker's "Loaded image ID") */
                        r = register_dangling(b, id, manifest, media, (uint64_t) size);
                        if (r >= 0)
                                r = strv_extend(&refs, id);
                        continue;
                }
                for (size_t k = 0; r >= 0 && k < json_object_array_length(list); k++) {
                        const char *ref = json_object_get_string(json_object_array_get_idx(list, k));
                        _cleanup_free_ char *n = NULL;
                        ImageEntry e;

                        /* zlayer-archive normalized them; the index is ours to keep right */
                        if (!ref || strchr(ref, '@') || image_reference_normalize(ref, &n) < 0 || !streq(n, ref)) {
                                r = -EBADMSG;
                                break;
                        }
                        e = (ImageEntry) {
                                .reference = n,
                                .repo_digest = manifest,
                                .manifest = manifest,
                                .media_type = media,
                                .manifest_size = (uint64_t) size,
                        };
                        r = image_record(b, &e);
                        if (r >= 0)
                                r = drop_dangling_of(b, id);
                        if (r < 0)
                                break;
                        r = strv_extend(&refs, n);
                }
        }
        json_object_put(result);
        if (r < 0)
                return r;
        (void) manager_emit_counts_changed(b);
        *ret_refs = TAKE_PTR(refs);
        return 0;
}

static int on_io_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        IoOp *op = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        _cleanup_strv_free_ char **refs = NULL;
        char id[72] = "";
        const char *json;
        int r;

        if (e) {
                (void) reply_forward_error(op->call, e);
                io_op_free(op);
                return 0;
        }
        if (op->kind == IO_SAVE) {
                r = sd_bus_reply_method_return(op->call, NULL);
                if (r < 0)
                        log_warning_errno(r, "Failed to reply to SaveImages: %m");
                io_op_free(op);
                return 0;
        }
        r = sd_bus_message_read(reply, "s", &json);
        if (r >= 0)
                r = image_io_register(op->broker, json, &refs, id);
        if (r < 0) {
                char path[PATH_MAX + 32], what[PATH_MAX + 64];
                snprintf(what, sizeof what, "recording the images in %s", image_index_path(op->broker, path, sizeof path));
                io_fail(op, ZL_ERROR_INTERNAL, what, r);
                return 0;
        }
        for (char **i = refs; i && *i; i++)
                log_info("%s: stored %s", io_method[op->kind], *i);
        if (op->kind == IO_IMPORT)
                r = sd_bus_reply_method_return(op->call, "s", id);
        else {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                r = sd_bus_message_new_method_return(op->call, &m);
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, refs);
                if (r >= 0)
                        r = sd_bus_send(NULL, m, NULL);
        }
        if (r < 0)
                log_warning_errno(r, "Failed to reply to %s: %m", io_method[op->kind]);
        io_op_free(op);
        return 0;
}

static void io_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        IoOp *op = userdata;
        int r;

        if (!link)
                return io_fail(op, ZL_ERROR_INTERNAL, "worker archive is not available", error);
        r = sd_bus_message_new_method_call(link, &m, NULL, ZL_WORKER_PATH, ZL_ARCHIVE_IFACE, io_method[op->kind]);
        if (r >= 0)
                switch (op->kind) {
                case IO_SAVE:
                        r = sd_bus_message_append(m, "hsh", b->images_fd, op->text, op->fd);
                        break;
                case IO_LOAD:
                        r = sd_bus_message_append(m, "hhh", b->images_fd, b->layers_fd, op->fd);
                        break;
                default:
                        r = sd_bus_message_append(m, "hhhs", b->images_fd, b->layers_fd, op->fd, op->text);
                }
        if (r >= 0)
                r = sd_bus_call_async(link, NULL, m, on_io_reply, op, IMAGE_IO_CALL_USEC);
        if (r < 0)
                return io_fail(op, ZL_ERROR_INTERNAL, "calling zlayer-archive", r);
        /* the worker has its own copy now */
        close(op->fd);
        op->fd = -1;
}

static int io_start(Broker *b, sd_bus_message *m, IoKind kind, int fd, char *text, sd_bus_error *error) {
        IoOp *op;
        int r;

        if (kind != IO_SAVE) {
                /* blobs are in blobs/ before their entry is in index.json */
                if (image_gc_running()) {
                        free(text);
                        return sd_bus_error_setf(error, ZL_ERROR_BUSY, "images are being removed; try %s again",
                                                 io_method[kind]);
                }
        }
        op = calloc(1, sizeof(*op));
        if (!op) {
                free(text);
                return -ENOMEM;
        }
        op->broker = b;
        op->kind = kind;
        op->call = sd_bus_message_ref(m);
        op->text = text;
        op->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (op->fd < 0) {
                r = -errno;
                io_op_free(op);
                return r;
        }
        if (kind != IO_SAVE) {
                b->n_pulls++;
                op->counted = true;
        }
        r = worker_acquire(b, WORKER_ARCHIVE, io_with_link, op);
        if (r < 0) {
                io_op_free(op);
                return r;
        }
        return 1;
}

/* The plan of docs/internals.md ("Image archives") for @names. */
static int save_plan(Broker *b, char **names, char **ret, sd_bus_error *error) {
        json_object *plan = json_object_new_object(), *images = json_object_new_array(), *by_id = json_object_new_object();
        int r = 0;

        json_object_object_add(plan, "images", images);
        for (char **name = names; *name; name++) {
                _cleanup_free_ char *config = NULL, *normalized = NULL;
                _cleanup_strv_free_ char **layers = NULL, **diff_ids = NULL;
                json_object *img, *tags, *ls;
                char id[72];
                ImageEntry e;
                size_t n = 0;

                r = image_lookup(b, *name, &e, id, error);
                if (r < 0)
                        break;
                if (!json_object_object_get_ex(by_id, id, &img)) {
                        r = image_manifest_read(b->images_fd, e.manifest, &config, &layers, NULL);
                        if (r >= 0)
                                r = image_config_read(b->images_fd, config, NULL, &diff_ids);
                        while (r >= 0 && layers && layers[n])
                                n++;
                        if (r >= 0 && strv_length(diff_ids) != n)
                                r = -EBADMSG;
                        if (r < 0) {
                                r = sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "cannot read image %s (%s): %s", *name,
                                                      id, strerror(-r));
                                break;
                        }
                        img = json_object_new_object();
                        json_object_object_add(img, "config", json_object_new_string(config));
                        json_object_object_add(img, "repo_tags", json_object_new_array());
                        ls = json_object_new_array();
                        for (size_t i = 0; i < n; i++) {
                                json_object *l = json_object_new_object();
                                json_object_object_add(l, "blob", json_object_new_string(layers[i]));
                                json_object_object_add(l, "diff_id", json_object_new_string(diff_ids[i]));
                                json_object_array_add(ls, l);
                        }
                        json_object_object_add(img, "layers", ls);
                        json_object_array_add(images, img);
                        json_object_object_add(by_id, id, json_object_get(img));
                }
                /* named by reference: that tag; by id: every tag of the image */
                json_object_object_get_ex(img, "repo_tags", &tags);
                if (image_reference_normalize(*name, &normalized) >= 0 && streq(normalized, e.reference))
                        json_object_array_add(tags, json_object_new_string(e.reference));
                else
                        for (size_t i = 0; i < image_store_count(b->images); i++) {
                                char other[72];
                                ImageEntry x;
                                if (image_store_get(b->images, i, &x) >= 0 && x.reference && !x.dangling &&
                                    image_entry_id(b->images, &x, other) >= 0 && streq(other, id))
                                        json_object_array_add(tags, json_object_new_string(x.reference));
                        }
        }
        if (r >= 0) {
                *ret = strdup(json_object_to_json_string_ext(plan, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                if (!*ret)
                        r = -ENOMEM;
        }
        json_object_put(plan);
        json_object_put(by_id);
        return r;
}

int method_save_images(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **names = NULL;
        Broker *b = userdata;
        char *plan = NULL;
        int fd, r;

        r = sd_bus_message_read_strv(m, &names);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "h", &fd);
        if (r < 0)
                return r;
        if (strv_length(names) == 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "SaveImages needs at least one image name");
        if (strv_length(names) > SAVE_NAMES_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "SaveImages takes at most %d names",
                                         SAVE_NAMES_MAX);
        r = authz_verify(b, m, names[0], error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */
        r = save_plan(b, names, &plan, error);
        if (r < 0)
                return r;
        return io_start(b, m, IO_SAVE, fd, plan, error);
}

int method_load_images(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        int fd, quiet, r;

        /* quiet: there is no progress output to silence over the bus */
        r = sd_bus_message_read(m, "hb", &fd, &quiet);
        if (r < 0)
                return r;
        r = authz_verify(b, m, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return io_start(b, m, IO_LOAD, fd, NULL, error);
}

int method_import_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *full = NULL, *reference = NULL;
        const char *repository, *tag;
        Broker *b = userdata;
        int fd, r;

        r = sd_bus_message_read(m, "hss", &fd, &repository, &tag);
        if (r < 0)
                return r;
        /* without a repository: a dangling image, as `docker import FILE` */
        if (isempty(repository)) {
                if (!isempty(tag))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "ImportImage: tag '%.200s' given without a repository", tag);
                r = authz_verify(b, m, NULL, error);
                if (r <= 0)
                        return r < 0 ? r : 1;
                reference = strdup("");
                if (!reference)
                        return -ENOMEM;
                return io_start(b, m, IO_IMPORT, fd, TAKE_PTR(reference), error);
        }
        if (asprintf(&full, "%s:%s", repository, isempty(tag) ? "latest" : tag) < 0)
                return -ENOMEM;
        if (strchr(repository, '@') || strlen(full) > 512 || image_reference_normalize(full, &reference) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "invalid repository/tag '%.200s'", full);
        r = authz_verify(b, m, reference, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return io_start(b, m, IO_IMPORT, fd, TAKE_PTR(reference), error);
}
