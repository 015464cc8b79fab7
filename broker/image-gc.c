/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RemoveImage and PruneImages: index entries first, then the blobs and
 * extracted layers that no image and no container references any more.
 * Blobs belong to --user (the puller wrote them) and are unlinked here;
 * layer dirs are root's and are removed by zlayer-archive (RemoveLayer). */
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sys/stat.h>

#include "container.h"
#include "errors.h"
#include "fileio.h"
#include "ids.h"
#include "image-ops.h"
#include "log.h"
#include "reference.h"
#include "worker-links.h"

#define REMOVE_LAYER_USEC (10 * 60 * USEC_PER_SEC)
#define LAUNCH_MAX (1024 * 1024)

static bool gc_running;

bool image_gc_running(void) {
        return gc_running;
}

typedef struct GcOp {
        Broker *broker;
        sd_bus_message *call;
        bool prune;             /* reply (as deleted, t reclaimed) */
        char **deleted;
        uint64_t reclaimed;
        char **chains;          /* layer dirs (hex) to remove */
        size_t next;
        unsigned failures;
} GcOp;

static void gc_op_free(GcOp *op) {
        if (!op)
                return;
        sd_bus_message_unref(op->call);
        strv_free(op->deleted);
        strv_free(op->chains);
        free(op);
        gc_running = false;
}

/* The reply lists each id once: a config blob's digest is the image id
 * already listed as untagged, and an uncompressed first layer's blob digest
 * is its chain id. */
static int deleted_add(char ***deleted, const char *id) {
        return strv_contains(*deleted, id) ? 0 : strv_extend(deleted, id);
}

/* What no image (tagged or not) and no container needs: @ret_blobs (hex)
 * and @ret_chains (hex). Fails rather than guess when an image in the
 * index cannot be read. */
static int gc_collect(Broker *b, char ***ret_blobs, char ***ret_chains) {
        _cleanup_strv_free_ char **manifests = NULL, **keep_blobs = NULL, **keep_chains = NULL, **blobs = NULL,
                                 **chains = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        size_t n = image_store_count(b->images);
        struct dirent *de;
        int fd, r;

        keep_blobs = calloc(1, sizeof(char *));
        keep_chains = calloc(1, sizeof(char *));
        blobs = calloc(1, sizeof(char *));
        chains = calloc(1, sizeof(char *));
        if (!keep_blobs || !keep_chains || !blobs || !chains)
                return -ENOMEM;

        r = image_store_all_manifests(b->images, &manifests);
        if (r < 0)
                return r;
        for (char **mf = manifests; *mf; mf++) {
                _cleanup_free_ char *config = NULL;
                _cleanup_strv_free_ char **layers = NULL, **diff_ids = NULL, **ch = NULL;

                r = image_manifest_read(b->images_fd, *mf, &config, &layers, NULL);
                if (r >= 0)
                        r = image_config_read(b->images_fd, config, NULL, &diff_ids);
                if (r >= 0)
                        r = image_chain_ids(diff_ids, &ch);
                if (r < 0)
                        return log_warning_errno(r, "Cannot read image %s, not collecting garbage: %m", *mf);
                if ((r = strv_extend(&keep_blobs, *mf + 7)) < 0 || (r = strv_extend(&keep_blobs, config + 7)) < 0)
                        return r;
                for (char **l = layers; *l; l++)
                        if ((r = strv_extend(&keep_blobs, *l + 7)) < 0)
                                return r;
                for (char **c = ch; *c; c++)
                        if ((r = strv_extend(&keep_chains, *c)) < 0)
                                return r;
        }
        /* The index a multi-platform tag resolved through. */
        for (size_t i = 0; i < n; i++) {
                ImageEntry e;
                if (image_store_get(b->images, i, &e) >= 0 && (r = strv_extend(&keep_blobs, e.repo_digest + 7)) < 0)
                        return r;
        }
        /* Containers keep the layers they were created with, even when
         * their image is gone (RemoveImage with force). */
        for (Container *c = b->containers; c; c = c->next) {
                _cleanup_free_ char *path = NULL, *text = NULL;
                json_object *o, *arr;

                if (asprintf(&path, "%s/config.json", c->id) < 0)
                        return -ENOMEM;
                r = read_file_at(b->containers_fd, path, LAUNCH_MAX, &text, NULL);
                if (r < 0)
                        return log_warning_errno(r, "Cannot read the launch config of %s, not collecting garbage: %m",
                                                 c->id);
                o = json_tokener_parse(text);
                if (!o || !json_object_object_get_ex(o, "layers", &arr) || !json_object_is_type(arr, json_type_array)) {
                        if (o)
                                json_object_put(o);
                        return log_warning_errno(-EBADMSG, "Bad launch config of %s, not collecting garbage", c->id);
                }
                for (size_t i = 0; i < json_object_array_length(arr); i++) {
                        const char *h = json_object_get_string(json_object_array_get_idx(arr, i));
                        if (h && (r = strv_extend(&keep_chains, h)) < 0) {
                                json_object_put(o);
                                return r;
                        }
                }
                json_object_put(o);
        }

        fd = openat(b->images_fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
                d = fdopendir(fd);
                if (!d) {
                        close(fd);
                        return -errno;
                }
                while ((de = readdir(d)))
                        if (hex64_is_valid(de->d_name) && !strv_contains(keep_blobs, de->d_name) &&
                            (r = strv_extend(&blobs, de->d_name)) < 0)
                                return r;
                d = (closedir(d), NULL);
        } else if (errno != ENOENT)
                return -errno;

        fd = openat(b->layers_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((de = readdir(d)))
                if (hex64_is_valid(de->d_name) && !strv_contains(keep_chains, de->d_name) &&
                    (r = strv_extend(&chains, de->d_name)) < 0)
                        return r;

        *ret_blobs = TAKE_PTR(blobs);
        *ret_chains = TAKE_PTR(chains);
        return 0;
}

static void gc_finish(GcOp *op) {
        int r;

        if (op->failures > 0)
                log_warning("%u layers could not be removed; PruneImages will try again.", op->failures);
        if (!op->call)
                r = 0;
        else if (op->prune) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                r = sd_bus_message_new_method_return(op->call, &reply);
                if (r >= 0)
                        r = sd_bus_message_append_strv(reply, op->deleted);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "t", op->reclaimed);
                if (r >= 0)
                        r = sd_bus_send(NULL, reply, NULL);
        } else
                r = sd_bus_reply_method_return(op->call, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to reply after removing images: %m");
        log_info("Image garbage collection: %zu objects, %llu bytes reclaimed.", strv_length(op->deleted),
                 (unsigned long long) op->reclaimed);
        gc_op_free(op);
}

static void gc_layers_next(GcOp *op);

static int on_remove_layer_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        GcOp *op = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        const char *hex = op->chains[op->next];
        uint64_t size = 0;
        char id[72];
        int r;

        if (e) {
                log_warning("Removing layer %s failed: %s: %s", hex, e->name, strempty(e->message));
                op->failures++;
        } else if ((r = sd_bus_message_read(m, "t", &size)) < 0) {
                log_warning_errno(r, "Bad RemoveLayer reply for %s: %m", hex);
                op->failures++;
        } else {
                snprintf(id, sizeof(id), "sha256:%s", hex);
                op->reclaimed += size;
                if (deleted_add(&op->deleted, id) < 0)
                        log_oom();
        }
        op->next++;
        gc_layers_next(op);
        return 0;
}

static void gc_layer_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        GcOp *op = userdata;
        char id[72];
        int r;

        if (!link) {
                log_warning("zlayer-archive is not available; layers stay until the next prune.");
                gc_finish(op);
                return;
        }
        snprintf(id, sizeof(id), "sha256:%s", op->chains[op->next]);
        r = sd_bus_message_new_method_call(link, &m, NULL, ZL_WORKER_PATH, ZL_ARCHIVE_IFACE, "RemoveLayer");
        if (r >= 0)
                r = sd_bus_message_append(m, "hs", b->layers_fd, id);
        if (r >= 0)
                r = sd_bus_call_async(link, NULL, m, on_remove_layer_reply, op, REMOVE_LAYER_USEC);
        if (r < 0) {
                log_warning_errno(r, "Failed to call RemoveLayer for %s: %m", id);
                op->failures++;
                op->next++;
                gc_layers_next(op);
        }
}

static void gc_layers_next(GcOp *op) {
        int r;

        if (!op->chains[op->next]) {
                gc_finish(op);
                return;
        }
        r = worker_acquire(op->broker, WORKER_ARCHIVE, gc_layer_with_link, op);
        if (r < 0) {
                log_warning_errno(r, "Failed to wait for zlayer-archive: %m");
                gc_finish(op);
        }
}

/* Deletes unreferenced blobs now, then the layers one by one; replies to
 * @call at the end. Takes @deleted. */
static int gc_start(Broker *b, sd_bus_message *call, bool prune, char **deleted, sd_bus_error *error) {
        _cleanup_strv_free_ char **blobs = NULL, **chains = NULL;
        GcOp *op;
        int r;

        op = calloc(1, sizeof(*op));
        if (!op) {
                strv_free(deleted);
                return -ENOMEM;
        }
        *op = (GcOp) { .broker = b, .call = sd_bus_message_ref(call), .prune = prune, .deleted = deleted };
        gc_running = true;
        if (!op->deleted && !(op->deleted = calloc(1, sizeof(char *)))) {
                gc_op_free(op);
                return -ENOMEM;
        }

        r = gc_collect(b, &blobs, &chains);
        if (r < 0) {
                gc_op_free(op);
                return sd_bus_error_set_errnof(error, -r, "cannot work out which blobs and layers are unused: %m");
        }
        for (char **h = blobs; *h; h++) {
                char path[strlen("blobs/sha256/") + 65], id[72];
                struct stat st;

                snprintf(path, sizeof(path), "blobs/sha256/%s", *h);
                if (fstatat(b->images_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (unlinkat(b->images_fd, path, 0) < 0) {
                        log_warning_errno(-errno, "Failed to remove blob %s: %m", *h);
                        continue;
                }
                snprintf(id, sizeof(id), "sha256:%s", *h);
                op->reclaimed += (uint64_t) st.st_size;
                if ((r = deleted_add(&op->deleted, id)) < 0) {
                        gc_op_free(op);
                        return r;
                }
        }
        op->chains = TAKE_PTR(chains);
        gc_layers_next(op);
        return 1;
}

int method_remove_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **targets = NULL, **refs = NULL;
        _cleanup_free_ char *normalized = NULL;
        Broker *b = userdata;
        const char *name;
        char id[72];
        ImageEntry entry;
        Container *c;
        bool by_reference;
        int force, r;

        r = sd_bus_message_read(m, "sb", &name, &force);
        if (r < 0)
                return r;
        r = image_lookup(b, name, &entry, id, error);
        if (r < 0)
                return r;
        r = authz_verify(b, m, name, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */
        if (gc_running)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "cannot remove %s: images are being removed", name);

        /* Every reference of this image id. */
        for (size_t i = 0, n = image_store_count(b->images); i < n; i++) {
                ImageEntry e;
                char eid[72];
                if (image_store_get(b->images, i, &e) >= 0 && image_entry_id(b->images, &e, eid) >= 0 &&
                    streq(eid, id) && (r = strv_extend(&refs, e.reference)) < 0)
                        return r;
        }
        by_reference = image_reference_normalize(name, &normalized) >= 0 && streq(normalized, entry.reference);
        if (!by_reference && strchr(strempty(normalized), '@'))
                by_reference = true; /* a digest reference resolved to this entry */

        if (by_reference && strv_length(refs) > 1) {
                /* Docker: untag only; the image stays under its other names. */
                r = strv_extend(&targets, entry.reference);
                if (r < 0)
                        return r;
        } else {
                if (!by_reference && strv_length(refs) > 1 && !force)
                        return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE,
                                                 "image %s is referenced by %zu references (%s, …); remove them or use force",
                                                 id, strv_length(refs), refs[0]);
                c = image_used_by(b, id);
                if (c && !force)
                        return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE,
                                                 "image %s (%s) is used by container %s", name, id, c->id);
                targets = TAKE_PTR(refs);
        }

        for (char **t = targets; t && *t; t++) {
                r = image_store_remove(b->images, *t);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, -r, "cannot remove %s from %s: %m", *t,
                                                       image_index_path(b, (char[PATH_MAX + 32]) {}, PATH_MAX + 32));
                log_info("Untagged %s (%s).", *t, id);
                (void) sd_bus_emit_signal(b->bus, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, "ImageRemoved", "s", *t);
        }
        (void) manager_emit_counts_changed(b);

        /* Still known under another name: nothing to delete. */
        if (image_store_resolve(b->images, id, &entry, NULL) >= 0)
                return sd_bus_reply_method_return(m, NULL);
        /* Blobs a running pull just wrote are not in the index yet. */
        if (b->n_pulls > 0) {
                log_info("Pulls are running: the data of %s stays until PruneImages.", id);
                return sd_bus_reply_method_return(m, NULL);
        }
        log_info("Deleting image %s.", id);
        return gc_start(b, m, false, NULL, error);
}

/* The manifests of dangling images a container uses: Docker's image prune
 * keeps those. */
static int dangling_in_use(Broker *b, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        int r;

        if (!l)
                return -ENOMEM;
        for (size_t i = 0, n = image_store_count(b->images); i < n; i++) {
                ImageEntry e;
                if (image_store_get(b->images, i, &e) >= 0 && e.dangling && image_used_by(b, e.reference) &&
                    (r = strv_extend(&l, e.manifest)) < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int method_prune_images(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **untagged = NULL, **deleted = NULL, **keep = NULL;
        Broker *b = userdata;
        int r;

        r = authz_verify(b, m, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */
        if (gc_running)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "images are being removed already");
        if (b->n_pulls > 0)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "cannot prune images while %u pulls, loads or commits are running",
                                         b->n_pulls);

        r = dangling_in_use(b, &keep);
        if (r < 0)
                return r;
        r = image_store_remove_untagged(b->images, keep, &untagged);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "cannot remove untagged images from %s: %m",
                                               image_index_path(b, (char[PATH_MAX + 32]) {}, PATH_MAX + 32));
        deleted = calloc(1, sizeof(char *));
        if (!deleted)
                return -ENOMEM;
        for (char **u = untagged; *u; u++) {
                _cleanup_free_ char *config = NULL;
                /* Report the image id when the manifest is readable. */
                if (image_manifest_read(b->images_fd, *u, &config, NULL, NULL) >= 0)
                        r = deleted_add(&deleted, config);
                else
                        r = deleted_add(&deleted, *u);
                if (r < 0)
                        return r;
        }
        if (untagged[0])
                (void) manager_emit_counts_changed(b);
        return gc_start(b, m, true, TAKE_PTR(deleted), error);
}
