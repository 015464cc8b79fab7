/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CommitContainer: Exec1.OpenUpper(id) gives the container's overlay upper
 * dir, Archive1.CommitLayer writes it as a gzip layer into a file the broker
 * created in images/ingest/ (renamed to blobs/ by its digest),
 * Archive1.UnpackLayer extracts it to layers/<chain>, then the broker writes
 * the new config (the source image's, plus the layer, history, `changes`)
 * and manifest and records the image in index.json. */
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "container.h"
#include "digest.h"
#include "errors.h"
#include "fileio.h"
#include "ids.h"
#include "image-ops.h"
#include "image-store.h"
#include "log.h"
#include "manager-commit.h"
#include "timestamp.h"
#include "reference.h"
#include "worker-op.h"

#define COMMIT_LAYER_USEC (6ULL * 3600 * USEC_PER_SEC)
#define BLOB_JSON_MAX (4U << 20)
#define CHANGES_MAX (64U << 10)

#define OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"

typedef struct CommitOp {
        WorkerOp w;               /* first: the steps get it as a WorkerOp */
        char *reference;          /* repository:tag normalized, or NULL */
        json_object *config;      /* the new config, changes applied */
        json_object *layers;      /* the source manifest's layer descriptors */
        char **diff_ids;          /* the source's */
        int upper_fd, blob_fd;
        bool frozen;              /* `pause`: we froze it, we thaw it */
        bool counted;             /* in broker->n_pulls: PruneImages waits */
        char ingest_name[96];
        char digest[72], diff_id[72], chain[72];
        uint64_t size;
} CommitOp;

static unsigned commit_counter;

#define strcaseeq(a, b) (strcasecmp((a), (b)) == 0)

static int safe_close(int fd) {
        if (fd >= 0)
                close(fd);
        return -1;
}

/* ---- pause: Exec1.Freeze around CommitLayer; c->pausing keeps
 * Pause/UnpauseContainer out meanwhile ---- */

static int on_thaw_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Container *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (e)
                log_warning("Unfreezing container %s after the commit failed: %s: %s", c->id, e->name,
                            strempty(e->message));
        c->pausing = false;
        container_unref(c);
        return 0;
}

static void thaw_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        Container *c = userdata;
        int r = -ENOTCONN;

        if (link)
                r = sd_bus_call_method_async(link, NULL, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "Freeze", on_thaw_reply,
                                             c, "sb", c->id, 0);
        if (r < 0) {
                log_error_errno(r, "Failed to unfreeze container %s after the commit: %m", c->id);
                c->pausing = false;
                container_unref(c);
        }
}

static void commit_thaw(CommitOp *op) {
        Container *c = op->w.container;
        int r;

        if (!op->frozen)
                return;
        op->frozen = false;
        r = worker_acquire(op->w.broker, WORKER_EXEC, thaw_with_link, container_ref(c));
        if (r < 0) {
                log_error_errno(r, "Failed to unfreeze container %s after the commit: %m", c->id);
                c->pausing = false;
                container_unref(c);
        }
}

static void commit_op_free(WorkerOp *w) {
        CommitOp *op = (CommitOp *) w;

        if (!op)
                return;
        commit_thaw(op);
        if (op->counted)
                op->w.broker->n_pulls--;
        if (op->ingest_name[0])
                (void) unlinkat(op->w.broker->images_fd, op->ingest_name, 0);
        worker_op_clear(&op->w);
        free(op->reference);
        json_object_put(op->config);
        json_object_put(op->layers);
        for (size_t i = 0; op->diff_ids && op->diff_ids[i]; i++)
                free(op->diff_ids[i]);
        free(op->diff_ids);
        if (op->upper_fd >= 0)
                close(op->upper_fd);
        if (op->blob_fd >= 0)
                close(op->blob_fd);
        free(op);
}

static void commit_fail(WorkerOp *w, const char *what, int r) {
        CommitOp *op = (CommitOp *) w;

        (void) reply_error_errnof(op->w.call, ZL_ERROR_INTERNAL, "Commit of %s: %s: %s", op->w.container->id, what,
                                  strerror(r < 0 ? -r : r));
        commit_op_free(&op->w);
}

/* ---- changes ---- */

static json_object *config_section(json_object *config) {
        json_object *c;
        if (json_object_object_get_ex(config, "config", &c) && json_object_is_type(c, json_type_object))
                return c;
        c = json_object_new_object();
        if (c)
                json_object_object_add(config, "config", c);
        return c;
}

static json_object *section_object(json_object *c, const char *key) {
        json_object *o;
        if (json_object_object_get_ex(c, key, &o) && json_object_is_type(o, json_type_object))
                return o;
        o = json_object_new_object();
        if (o)
                json_object_object_add(c, key, o);
        return o;
}

/* A JSON array of strings, or the shell form. */
static json_object *exec_form(const char *v) {
        json_object *a;

        if (*v == '[') {
                a = json_tokener_parse(v);
                if (a && json_object_is_type(a, json_type_array)) {
                        for (size_t i = 0; i < json_object_array_length(a); i++)
                                if (!json_object_is_type(json_object_array_get_idx(a, i), json_type_string)) {
                                        json_object_put(a);
                                        return NULL;
                                }
                        return a;
                }
                json_object_put(a);
        }
        a = json_object_new_array();
        if (!a)
                return NULL;
        json_object_array_add(a, json_object_new_string("/bin/sh"));
        json_object_array_add(a, json_object_new_string("-c"));
        json_object_array_add(a, json_object_new_string(v));
        return a;
}

static char *unquote(const char *s) {
        size_t n = strlen(s);
        if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
                return strndup(s + 1, n - 2);
        return strdup(s);
}

/* "k=v" or "k v" → key and value. */
static int split_kv(const char *v, char **ret_k, char **ret_v) {
        size_t n = strcspn(v, "= \t");
        _cleanup_free_ char *k = NULL;
        if (n == 0 || v[n] == 0)
                return -EINVAL;
        k = strndup(v, n);
        if (!k)
                return -ENOMEM;
        v += n + 1;
        v += strspn(v, " \t");
        *ret_v = unquote(v);
        if (!*ret_v)
                return -ENOMEM;
        *ret_k = TAKE_PTR(k);
        return 0;
}

static int apply_env(json_object *c, const char *v) {
        _cleanup_free_ char *k = NULL, *val = NULL, *kv = NULL;
        json_object *env;
        size_t klen;
        int r;

        r = split_kv(v, &k, &val);
        if (r < 0)
                return r;
        if (asprintf(&kv, "%s=%s", k, val) < 0)
                return -ENOMEM;
        if (!json_object_object_get_ex(c, "Env", &env) || !json_object_is_type(env, json_type_array)) {
                env = json_object_new_array();
                if (!env)
                        return -ENOMEM;
                json_object_object_add(c, "Env", env);
        }
        klen = strlen(k);
        for (size_t i = 0; i < json_object_array_length(env); i++) {
                const char *e = json_object_get_string(json_object_array_get_idx(env, i));
                if (e && strncmp(e, k, klen) == 0 && e[klen] == '=')
                        return json_object_array_put_idx(env, i, json_object_new_string(kv)) < 0 ? -ENOMEM : 0;
        }
        return json_object_array_add(env, json_object_new_string(kv)) < 0 ? -ENOMEM : 0;
}

/* One Dockerfile-like line; -EINVAL with @ret_what naming what is wrong. */
static int apply_change(json_object *config, char *line, const char **ret_what) {
        json_object *c = config_section(config), *o;
        char *v;
        int r = 0;

        if (!c)
                return -ENOMEM;
        v = line + strcspn(line, " \t");
        if (*v)
                *v++ = 0;
        v += strspn(v, " \t");
        *ret_what = line;
        if (isempty(v))
                return -EINVAL;
        if (strcaseeq(line, "CMD") || strcaseeq(line, "ENTRYPOINT")) {
                o = exec_form(v);
                if (!o)
                        return -EINVAL;
                json_object_object_add(c, strcaseeq(line, "CMD") ? "Cmd" : "Entrypoint", o);
        } else if (strcaseeq(line, "ENV"))
                r = apply_env(c, v);
        else if (strcaseeq(line, "WORKDIR") || strcaseeq(line, "USER") || strcaseeq(line, "STOPSIGNAL")) {
                const char *key = strcaseeq(line, "WORKDIR") ? "WorkingDir" : strcaseeq(line, "USER") ? "User" : "StopSignal";
                json_object_object_add(c, key, json_object_new_string(v));
        } else if (strcaseeq(line, "LABEL")) {
                _cleanup_free_ char *k = NULL, *val = NULL;
                r = split_kv(v, &k, &val);
                if (r >= 0 && !(o = section_object(c, "Labels")))
                        r = -ENOMEM;
                if (r >= 0)
                        json_object_object_add(o, k, json_object_new_string(val));
        } else if (strcaseeq(line, "EXPOSE")) {
                if (!(o = section_object(c, "ExposedPorts")))
                        return -ENOMEM;
                for (char *save = NULL, *p = strtok_r(v, " \t", &save); p; p = strtok_r(NULL, " \t", &save)) {
                        _cleanup_free_ char *port = NULL;
                        char *end;
                        unsigned long n = strtoul(p, &end, 10);
                        if (end == p || n == 0 || n > 65535 ||
                            (*end && !streq(end, "/tcp") && !streq(end, "/udp") && !streq(end, "/sctp")))
                                return -EINVAL;
                        if (asprintf(&port, "%lu%s", n, *end ? end : "/tcp") < 0)
                                return -ENOMEM;
                        json_object_object_add(o, port, json_object_new_object());
                }
        } else if (strcaseeq(line, "VOLUME")) {
                json_object *a = NULL;
                if (!(o = section_object(c, "Volumes")))
                        return -ENOMEM;
                if (*v == '[') {
                        a = exec_form(v);
                        if (!a || json_object_array_length(a) == 0 ||
                            streq(json_object_get_string(json_object_array_get_idx(a, 0)), "/bin/sh")) {
                                json_object_put(a);
                                return -EINVAL;
                        }
                        for (size_t i = 0; i < json_object_array_length(a); i++)
                                json_object_object_add(o, json_object_get_string(json_object_array_get_idx(a, i)),
                                                       json_object_new_object());
                        json_object_put(a);
                } else
                        for (char *save = NULL, *p = strtok_r(v, " \t", &save); p; p = strtok_r(NULL, " \t", &save))
                                json_object_object_add(o, p, json_object_new_object());
        } else
                return -EINVAL;
        return r;
}

static int apply_changes(json_object *config, const char *changes, sd_bus_error *error) {
        _cleanup_free_ char *copy = strdup(changes);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                _cleanup_free_ char *orig = NULL;
                const char *what = NULL;
                int r;

                line += strspn(line, " \t\r");
                line[strcspn(line, "\r")] = 0;
                if (!*line)
                        continue;
                orig = strdup(line);
                if (!orig)
                        return -ENOMEM;
                r = apply_change(config, line, &what);
                if (r == -EINVAL)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid change '%.200s'", orig);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- the steps ---- */

static int write_blob(int images_fd, const char *text, char ret_digest[72], uint64_t *ret_size) {
        _cleanup_close_ int dir = -1;
        size_t n = strlen(text);
        int r;

        r = sha256_digest(text, n, ret_digest);
        if (r < 0)
                return r;
        *ret_size = n;
        dir = openat(images_fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return -errno;
        return write_file_atomic_at(dir, ret_digest + strlen("sha256:"), text, n, 0644);
}

/* As Docker writes it, so that a tool re-marshalling the config keeps its
 * bytes (lib/timestamp.h). */
static int now_rfc3339(char buf[64]) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return format_rfc3339_nano(&ts, buf, 64);
}

static json_object *descriptor(const char *media_type, const char *digest, uint64_t size) {
        json_object *d = json_object_new_object();
        if (!d)
                return NULL;
        json_object_object_add(d, "mediaType", json_object_new_string(media_type));
        json_object_object_add(d, "digest", json_object_new_string(digest));
        json_object_object_add(d, "size", json_object_new_int64((int64_t) size));
        return d;
}

/* "writing the config blob in ROOT/images/blobs": an error names the disk */
static const char *blob_write_what(const Broker *b, const char *kind, char *buf, size_t size) {
        snprintf(buf, size, "writing the %s blob in %s/images/blobs", kind, b->opts.root);
        return buf;
}

static void commit_finish(CommitOp *op) {
        Broker *b = op->w.broker;
        json_object *rootfs, *ids, *history, *h, *manifest, *layers;
        char created[64], config_digest[72], manifest_digest[72];
        uint64_t config_size, manifest_size;
        const char *text;
        int r;

        r = now_rfc3339(created);
        if (r < 0)
                return commit_fail(&op->w, "formatting the creation time", r);
        json_object_object_add(op->config, "created", json_object_new_string(created));
        if (!json_object_object_get_ex(op->config, "rootfs", &rootfs) || !json_object_is_type(rootfs, json_type_object)) {
                rootfs = json_object_new_object();
                json_object_object_add(op->config, "rootfs", rootfs);
                json_object_object_add(rootfs, "type", json_object_new_string("layers"));
        }
        ids = json_object_new_array();
        for (size_t i = 0; op->diff_ids[i]; i++)
                json_object_array_add(ids, json_object_new_string(op->diff_ids[i]));
        json_object_array_add(ids, json_object_new_string(op->diff_id));
        json_object_object_add(rootfs, "diff_ids", ids);

        if (!json_object_object_get_ex(op->config, "history", &history) || !json_object_is_type(history, json_type_array)) {
                history = json_object_new_array();
                json_object_object_add(op->config, "history", history);
        }
        h = json_object_new_object();
        json_object_object_add(h, "created", json_object_new_string(created));
        json_object_object_add(h, "created_by", json_object_new_string("zlayer commit"));
        {
                json_object *v;
                if (json_object_object_get_ex(op->config, "comment", &v))
                        json_object_object_add(h, "comment", json_object_get(v));
                if (json_object_object_get_ex(op->config, "author", &v))
                        json_object_object_add(h, "author", json_object_get(v));
        }
        json_object_array_add(history, h);

        /* '/' unescaped, as Go writes it (see now_rfc3339) */
        text = json_object_to_json_string_ext(op->config, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        r = text ? write_blob(b->images_fd, text, config_digest, &config_size) : -ENOMEM;
        if (r < 0)
                return commit_fail(&op->w, blob_write_what(b, "config", (char[PATH_MAX + 64]) {}, PATH_MAX + 64), r);

        manifest = json_object_new_object();
        layers = json_object_get(op->layers);
        json_object_array_add(layers, descriptor(OCI_LAYER_GZIP, op->digest, op->size));
        json_object_object_add(manifest, "schemaVersion", json_object_new_int(2));
        json_object_object_add(manifest, "mediaType", json_object_new_string(OCI_MANIFEST));
        json_object_object_add(manifest, "config", descriptor(OCI_CONFIG, config_digest, config_size));
        json_object_object_add(manifest, "layers", layers);
        text = json_object_to_json_string_ext(manifest, JSON_C_TO_STRING_PLAIN);
        r = text ? write_blob(b->images_fd, text, manifest_digest, &manifest_size) : -ENOMEM;
        json_object_put(manifest);
        if (r < 0)
                return commit_fail(&op->w, blob_write_what(b, "manifest", (char[PATH_MAX + 64]) {}, PATH_MAX + 64), r);

        {
                /* Without a repository: a dangling image, keyed by its id. */
                ImageEntry e = {
                        .reference = op->reference ?: config_digest,
                        .dangling = !op->reference,
                        .repo_digest = manifest_digest,
                        .manifest = manifest_digest,
                        .media_type = OCI_MANIFEST,
                        .manifest_size = manifest_size,
                };
                r = image_record(b, &e);
                if (r < 0)
                        return commit_fail(&op->w, image_index_path(b, (char[PATH_MAX + 32]) {}, PATH_MAX + 32), r);
                (void) manager_emit_counts_changed(b);
        }
        log_info("Committed container %s as %s%s%s.", op->w.container->id, config_digest, op->reference ? ", " : "",
                 strempty(op->reference));
        r = sd_bus_reply_method_return(op->w.call, "s", config_digest);
        if (r < 0)
                log_warning_errno(r, "Failed to reply to CommitContainer of %s: %m", op->w.container->id);
        commit_op_free(&op->w);
}

static int on_unpack_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        CommitOp *op = userdata;
        if (!worker_op_forward_error(&op->w, reply))
                commit_finish(op);
        return 0;
}

static void unpack_with_link(WorkerOp *w, sd_bus *link) {
        _cleanup_close_ int blob = -1;
        CommitOp *op = (CommitOp *) w;
        Broker *b = w->broker;
        int r;

        blob = image_blob_open(b->images_fd, op->digest);
        if (blob < 0)
                return commit_fail(&op->w, "opening the new layer blob", blob);
        r = sd_bus_call_method_async(link, NULL, NULL, ZL_WORKER_PATH, ZL_ARCHIVE_IFACE, "UnpackLayer", on_unpack_reply,
                                     op, "hhss", blob, b->layers_fd, op->chain, op->diff_id);
        if (r < 0)
                commit_fail(&op->w, "calling UnpackLayer", r);
}

static int on_commit_layer_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        CommitOp *op = userdata;
        const char *digest, *diff_id;
        _cleanup_strv_free_ char **chains = NULL;
        char name[128];
        int r;

        if (worker_op_forward_error(&op->w, reply))
                return 0;
        commit_thaw(op); /* the layer is written: the container may run on */
        r = sd_bus_message_read(reply, "sst", &digest, &diff_id, &op->size);
        if (r < 0 || !digest_is_valid(digest) || !digest_is_valid(diff_id)) {
                commit_fail(&op->w, "reading the reply of CommitLayer", r < 0 ? r : -EBADMSG);
                return 0;
        }
        strcpy(op->digest, digest);
        strcpy(op->diff_id, diff_id);
        snprintf(name, sizeof(name), "blobs/sha256/%s", digest + strlen("sha256:"));
        if (renameat(op->w.broker->images_fd, op->ingest_name, op->w.broker->images_fd, name) < 0) {
                commit_fail(&op->w, "storing the layer blob", -errno);
                return 0;
        }
        op->ingest_name[0] = 0;
        r = image_chain_ids(op->diff_ids, &chains);
        if (r >= 0) {
                size_t n = 0;
                char parent[72];
                while (chains && chains[n])
                        n++;
                if (n > 0)
                        snprintf(parent, sizeof(parent), "sha256:%s", chains[n - 1]);
                r = chain_id_next(n > 0 ? parent : NULL, op->diff_id, op->chain);
        }
        if (r < 0) {
                commit_fail(&op->w, "computing the chain id", r);
                return 0;
        }
        r = worker_op_acquire(&op->w, WORKER_ARCHIVE, unpack_with_link);
        if (r < 0)
                commit_fail(&op->w, "waiting for zlayer-archive", r);
        return 0;
}

static void commit_layer_with_link(WorkerOp *w, sd_bus *link) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        CommitOp *op = (CommitOp *) w;
        Broker *b = w->broker;
        int r;

        snprintf(op->ingest_name, sizeof(op->ingest_name), "ingest/commit-%s-%d-%u", op->w.container->id, (int) getpid(),
                 ++commit_counter);
        op->blob_fd = openat(b->images_fd, op->ingest_name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (op->blob_fd < 0) {
                r = -errno;
                op->ingest_name[0] = 0;
                return commit_fail(&op->w, "creating the layer file in ingest/", r);
        }
        r = sd_bus_message_new_method_call(link, &m, NULL, ZL_WORKER_PATH, ZL_ARCHIVE_IFACE, "CommitLayer");
        if (r >= 0)
                r = sd_bus_message_append(m, "hh", op->upper_fd, op->blob_fd);
        if (r >= 0)
                r = sd_bus_call_async(link, NULL, m, on_commit_layer_reply, op, COMMIT_LAYER_USEC);
        if (r < 0)
                return commit_fail(&op->w, "calling CommitLayer", r);
        op->upper_fd = safe_close(op->upper_fd);
        op->blob_fd = safe_close(op->blob_fd);
}

static int on_freeze_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        CommitOp *op = userdata;
        int r;

        if (sd_bus_message_is_method_error(reply, NULL))
                op->w.container->pausing = false;
        if (worker_op_forward_error(&op->w, reply))
                return 0;
        op->frozen = true;
        r = worker_op_open_fd(&op->w, "OpenUpper", "upper", &op->upper_fd, commit_layer_with_link);
        if (r < 0)
                commit_fail(&op->w, "waiting for zlayer-exec", r);
        return 0;
}

static void freeze_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        CommitOp *op = userdata;
        int r = error < 0 ? error : -ENOTCONN;

        if (link)
                r = sd_bus_call_method_async(link, NULL, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "Freeze", on_freeze_reply,
                                             op, "sb", op->w.container->id, 1);
        if (r < 0) {
                op->w.container->pausing = false;
                commit_fail(&op->w, "freezing the container", r);
        }
}

/* ---- the method ---- */

/* The image id the container was created from (as manager-image-inspect.c). */
static int container_image(Broker *b, const Container *c, ImageEntry *ret) {
        size_t n = image_store_count(b->images);
        if (c->image && image_store_find(b->images, c->image, ret) >= 0 &&
            (!c->image_digest || streq(ret->repo_digest, c->image_digest) || streq(ret->manifest, c->image_digest)))
                return 0;
        for (size_t i = 0; c->image_digest && i < n; i++)
                if (image_store_get(b->images, i, ret) >= 0 &&
                    (streq(ret->repo_digest, c->image_digest) || streq(ret->manifest, c->image_digest)))
                        return 0;
        return -ENOENT;
}

static int read_blob_json(int images_fd, const char *digest, json_object **ret) {
        _cleanup_free_ char *text = NULL;
        char name[128];
        int r;

        if (!digest_is_valid(digest))
                return -EINVAL;
        snprintf(name, sizeof(name), "blobs/sha256/%s", digest + strlen("sha256:"));
        r = read_file_at(images_fd, name, BLOB_JSON_MAX, &text, NULL);
        if (r < 0)
                return r;
        *ret = json_tokener_parse(text);
        return *ret && json_object_is_type(*ret, json_type_object) ? 0 : -EBADMSG;
}

int method_commit_container(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *repository = NULL, *tag = NULL, *comment = NULL, *author = NULL, *changes = NULL;
        _cleanup_free_ char *config_digest = NULL, *reference = NULL;
        Broker *b = userdata;
        json_object *manifest = NULL, *layers;
        const char *id;
        CommitOp *op;
        ImageEntry src;
        Container *c;
        int pause = 0, r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key, *v;
                char **dst = NULL;

                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "pause")) {
                        r = sd_bus_message_read(m, "v", "b", &pause);
                        if (r < 0)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "option 'pause' must be a boolean");
                } else {
                        dst = streq(key, "repository") ? &repository :
                              streq(key, "tag")        ? &tag :
                              streq(key, "comment")    ? &comment :
                              streq(key, "author")     ? &author :
                              streq(key, "changes")    ? &changes : NULL;
                        if (!dst)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                         "Unknown CommitContainer option '%.100s'", key);
                        r = sd_bus_message_read(m, "v", "s", &v);
                        if (r < 0)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "option '%s' must be a string", key);
                        if (strlen(v) > CHANGES_MAX)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "option '%s' is too long", key);
                        free(*dst);
                        *dst = strdup(v);
                        if (!*dst)
                                return -ENOMEM;
                }
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;

        if (!isempty(repository)) {
                _cleanup_free_ char *full = NULL;
                if (asprintf(&full, "%s:%s", repository, isempty(tag) ? "latest" : tag) < 0)
                        return -ENOMEM;
                if (strchr(repository, '@') || image_reference_normalize(full, &reference) < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "invalid repository/tag '%.200s'", full);
        } else if (!isempty(tag))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "option 'tag' ('%.200s') needs a 'repository'", tag);

        r = container_method_check(b, m, id, CONTAINER_NEED_STARTED, &c, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */
        if (container_image(b, c, &src) < 0)
                return sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND, "the image of container '%s' (%s) is no longer stored",
                                         c->id, strempty(c->image));
        /* The new blobs are in blobs/ before the image is in index.json:
         * like a pull, a commit and a collection exclude each other. */
        if (image_gc_running())
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "cannot commit '%s' while images are being removed", c->id);

        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->w = (WorkerOp) { .broker = b, .container = container_ref(c), .call = sd_bus_message_ref(m),
                             .fail = commit_fail, .free = commit_op_free };
        op->upper_fd = op->blob_fd = -1;
        op->reference = TAKE_PTR(reference);
        b->n_pulls++;
        op->counted = true;

        r = read_blob_json(b->images_fd, src.manifest, &manifest);
        if (r >= 0 && (!json_object_object_get_ex(manifest, "layers", &layers) ||
                       !json_object_is_type(layers, json_type_array)))
                r = -EBADMSG;
        if (r >= 0) {
                /* a copy: the new manifest gets one more layer */
                op->layers = json_tokener_parse(json_object_to_json_string(layers));
                if (!op->layers)
                        r = -ENOMEM;
        }
        json_object_put(manifest);
        if (r >= 0)
                r = image_manifest_read(b->images_fd, src.manifest, &config_digest, NULL, NULL);
        if (r >= 0)
                r = image_config_read(b->images_fd, config_digest, NULL, &op->diff_ids);
        if (r >= 0)
                r = read_blob_json(b->images_fd, config_digest, &op->config);
        if (r < 0) {
                commit_op_free(&op->w);
                return sd_bus_error_set_errnof(error, -r, "cannot read the image of container '%s': %m", c->id);
        }
        if (!isempty(author))
                json_object_object_add(op->config, "author", json_object_new_string(author));
        if (!isempty(comment))
                json_object_object_add(op->config, "comment", json_object_new_string(comment));
        else
                json_object_object_del(op->config, "comment");
        if (changes) {
                r = apply_changes(op->config, changes, error);
                if (r < 0) {
                        commit_op_free(&op->w);
                        return r;
                }
        }
        /* pause: only a running container that the user has not paused */
        if (pause && c->state == CONTAINER_RUNNING && !c->paused) {
                if (c->pausing) {
                        commit_op_free(&op->w);
                        return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE,
                                                 "container '%s' is being paused or unpaused", c->id);
                }
                c->pausing = true;
                r = worker_acquire(b, WORKER_EXEC, freeze_with_link, op);
                if (r < 0)
                        c->pausing = false;
        } else
                r = worker_op_open_fd(&op->w, "OpenUpper", "upper", &op->upper_fd, commit_layer_with_link);
        if (r < 0) {
                commit_op_free(&op->w);
                return r;
        }
        return 1;
}
