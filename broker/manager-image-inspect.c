/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* InspectImage, GetImageHistory, TagImage, and the image lookup every image
 * method shares. */
#include <fcntl.h>
#include <json-c/json.h>
#include <time.h>

#include "container.h"
#include "errors.h"
#include "ids.h"
#include "image-ops.h"
#include "log.h"
#include "reference.h"

#define HISTORY_MAX 4096

static void json_object_putp(json_object **j) {
        if (*j)
                json_object_put(*j);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

bool strv_contains(char *const *l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

int image_record(Broker *b, const ImageEntry *e) {
        int r = image_store_put(b->images, e);
        if (r < 0)
                return r;
        (void) sd_bus_emit_signal(b->bus, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, "ImageNew", "ss", e->reference,
                                  e->repo_digest ?: e->manifest);
        return 0;
}

const char *image_index_path(const Broker *b, char *buf, size_t size) {
        snprintf(buf, size, "%s/images/index.json", b->opts.root);
        return buf;
}

int strv_extend(char ***l, const char *s) {
        size_t n = strv_length(*l);
        char **nl, *d = strdup(s);

        if (!d)
                return -ENOMEM;
        nl = realloc(*l, (n + 2) * sizeof(char *));
        if (!nl) {
                free(d);
                return -ENOMEM;
        }
        nl[n] = d;
        nl[n + 1] = NULL;
        *l = nl;
        return 0;
}

int image_lookup(Broker *b, const char *name, ImageEntry *ret, char ret_id[72], sd_bus_error *error) {
        char id[72] = "";
        int r;

        r = image_store_resolve(b->images, name, ret, id);
        if (r == -ENOTUNIQ)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "image id prefix '%s' is ambiguous: it matches several images", name);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND, "image '%s' not found", name);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "cannot look up image '%s': %m", name);
        if (!id[0])
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "cannot read the manifest %s of image %s",
                                         ret->manifest, ret->reference);
        if (ret_id)
                memcpy(ret_id, id, sizeof(id));
        return 0;
}

int image_name_to_reference(Broker *b, const char *name, char **ret) {
        ImageEntry e;
        int r;

        r = image_store_resolve(b->images, name, &e, NULL);
        if (r == -ENOTUNIQ)
                return r;
        if (r >= 0) {
                *ret = strdup(e.reference);
                return *ret ? 0 : -ENOMEM;
        }
        return image_reference_normalize(name, ret);
}

/* The image id a container was created from: by its reference while that
 * still names the image, else by the digest recorded at create. */
static int container_image_id(Broker *b, const Container *c, char ret[72]) {
        size_t n = image_store_count(b->images);
        ImageEntry e;

        if (c->image && image_store_find(b->images, c->image, &e) >= 0 &&
            (!c->image_digest || streq(e.repo_digest, c->image_digest) || streq(e.manifest, c->image_digest)))
                return image_entry_id(b->images, &e, ret);
        for (size_t i = 0; c->image_digest && i < n; i++)
                if (image_store_get(b->images, i, &e) >= 0 &&
                    (streq(e.repo_digest, c->image_digest) || streq(e.manifest, c->image_digest)))
                        return image_entry_id(b->images, &e, ret);
        return -ENOENT;
}

Container *image_used_by(Broker *b, const char *image_id) {
        for (Container *c = b->containers; c; c = c->next) {
                char id[72];
                if (container_image_id(b, c, id) >= 0 && streq(id, image_id))
                        return c;
        }
        return NULL;
}

/* Every entry with image id @id: the references (tags and digest
 * references) and "repo@digest" strings as Docker lists them. */
static int image_references(Broker *b, const char *id, char ***ret_tags, char ***ret_digests) {
        _cleanup_strv_free_ char **tags = NULL, **digests = NULL;
        size_t n = image_store_count(b->images);
        int r;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *rd = NULL;
                char eid[72];
                ImageEntry e;
                const char *at;

                if (image_store_get(b->images, i, &e) < 0 || e.dangling || image_entry_id(b->images, &e, eid) < 0 ||
                    !streq(eid, id))
                        continue; /* a dangling image has no tag and no repo digest */
                at = strchr(e.reference, '@');
                if (!at && (r = strv_extend(&tags, e.reference)) < 0)
                        return r;
                if (at) {
                        rd = strdup(e.reference);
                } else {
                        /* host/repo:tag → host/repo@digest */
                        const char *slash = strrchr(e.reference, '/'), *colon = strrchr(e.reference, ':');
                        size_t len = colon && colon > slash ? (size_t) (colon - e.reference) : strlen(e.reference);
                        if (asprintf(&rd, "%.*s@%s", (int) len, e.reference, e.repo_digest) < 0)
                                rd = NULL;
                }
                if (!rd)
                        return -ENOMEM;
                if (!strv_contains(digests, rd) && (r = strv_extend(&digests, rd)) < 0)
                        return r;
        }
        if (ret_tags)
                *ret_tags = TAKE_PTR(tags);
        if (ret_digests)
                *ret_digests = TAKE_PTR(digests);
        return 0;
}

static json_object *json_strv(char *const *l) {
        json_object *a = json_object_new_array();
        for (; a && l && *l; l++)
                json_object_array_add(a, json_object_new_string(*l));
        return a;
}

static const char *json_str(json_object *o, const char *key) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

/* The image's config as JSON, its id, and its diff ids. */
typedef struct ImageInfo {
        ImageEntry entry;
        char id[72];
        char *config_digest;
        char **layers;
        char **diff_ids;
        uint64_t total_size;
        json_object *config;
} ImageInfo;

static void image_info_done(ImageInfo *i) {
        free(i->config_digest);
        strv_free(i->layers);
        strv_free(i->diff_ids);
        if (i->config)
                json_object_put(i->config);
}

static int image_info_load(Broker *b, const char *name, ImageInfo *info, sd_bus_error *error) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = image_lookup(b, name, &info->entry, info->id, error);
        if (r < 0)
                return r;
        r = image_manifest_read(b->images_fd, info->entry.manifest, &info->config_digest, &info->layers,
                                &info->total_size);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "cannot read the manifest %s of %s: %s",
                                         info->entry.manifest, name, strerror(-r));
        r = image_config_read(b->images_fd, info->config_digest, &text, &info->diff_ids);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "cannot read the config %s of %s: %s",
                                         info->config_digest, name, strerror(-r));
        info->config = json_tokener_parse(text);
        if (!info->config)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "the config %s of %s is not JSON",
                                         info->config_digest, name);
        return 0;
}

static void add_copy(json_object *to, const char *to_key, json_object *from, const char *key, bool keep_null) {
        json_object *v;
        if (json_object_object_get_ex(from, key, &v) && v)
                json_object_object_add(to, to_key, json_object_get(v));
        else if (keep_null)
                json_object_object_add(to, to_key, NULL);
        else
                json_object_object_add(to, to_key, json_object_new_string(""));
}

int method_inspect_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(image_info_done) ImageInfo info = {};
        _cleanup_strv_free_ char **tags = NULL, **digests = NULL;
        _cleanup_json_ json_object *o = NULL;
        _cleanup_free_ char *lower = NULL;
        json_object *gd, *gdd, *rootfs, *meta;
        Broker *b = userdata;
        const char *name;
        size_t n;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        r = authz_verify(b, m, name, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */
        r = image_info_load(b, name, &info, error);
        if (r < 0)
                return r;
        r = image_references(b, info.id, &tags, &digests);
        if (r < 0)
                return r;

        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "Id", json_object_new_string(info.id));
        json_object_object_add(o, "RepoTags", json_strv(tags));
        json_object_object_add(o, "RepoDigests", json_strv(digests));
        json_object_object_add(o, "Parent", json_object_new_string(""));
        add_copy(o, "Comment", info.config, "comment", false);
        add_copy(o, "Created", info.config, "created", false);
        json_object_object_add(o, "Container", json_object_new_string(""));
        add_copy(o, "DockerVersion", info.config, "docker_version", false);
        add_copy(o, "Author", info.config, "author", false);
        add_copy(o, "Config", info.config, "config", true);
        add_copy(o, "Architecture", info.config, "architecture", false);
        add_copy(o, "Os", info.config, "os", false);
        if (json_str(info.config, "variant"))
                add_copy(o, "Variant", info.config, "variant", false);
        if (json_str(info.config, "os.version"))
                add_copy(o, "OsVersion", info.config, "os.version", false);
        /* Bytes the image occupies in the registry's form: manifest, config
         * and compressed layers (the size ListImages reports). */
        json_object_object_add(o, "Size", json_object_new_int64((int64_t) info.total_size));
        json_object_object_add(o, "VirtualSize", json_object_new_int64((int64_t) info.total_size));

        /* The overlay lower dirs, top first, as a container would mount them. */
        {
                _cleanup_strv_free_ char **chains = NULL;
                r = image_chain_ids(info.diff_ids, &chains);
                if (r < 0)
                        return r;
                n = strv_length(chains);
                for (size_t i = n; i > 0; i--) {
                        char *nl;
                        if (asprintf(&nl, "%s%s%s/layers/%s", strempty(lower), lower ? ":" : "", b->opts.root,
                                     chains[i - 1]) < 0)
                                return -ENOMEM;
                        free(lower);
                        lower = nl;
                }
        }
        gd = json_object_new_object();
        gdd = json_object_new_object();
        json_object_object_add(gdd, "LowerDir", json_object_new_string(strempty(lower)));
        json_object_object_add(gd, "Data", gdd);
        json_object_object_add(gd, "Name", json_object_new_string("overlay"));
        json_object_object_add(o, "GraphDriver", gd);

        rootfs = json_object_new_object();
        json_object_object_add(rootfs, "Type", json_object_new_string("layers"));
        json_object_object_add(rootfs, "Layers", json_strv(info.diff_ids));
        json_object_object_add(o, "RootFS", rootfs);

        meta = json_object_new_object();
        json_object_object_add(meta, "LastTagTime", json_object_new_string("0001-01-01T00:00:00Z"));
        json_object_object_add(o, "Metadata", meta);

        /* Not in Docker's object, handy for callers of an OCI store. */
        json_object_object_add(o, "Digest", json_object_new_string(info.entry.manifest));
        json_object_object_add(o, "MediaType", json_object_new_string(strempty(info.entry.media_type)));

        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;
        return sd_bus_reply_method_return(m, "s", text);
}

/* RFC 3339 → unix seconds; 0 when absent or malformed. */
static int64_t rfc3339_to_unix(const char *s) {
        struct tm tm = {};
        const char *p;
        int64_t t, off = 0;

        if (!s || !(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
                return 0;
        if (*p == '.')
                for (p++; *p >= '0' && *p <= '9'; p++)
                        ;
        if (*p == '+' || *p == '-') {
                int hh, mm;
                if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
                        return 0;
                off = (hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
        } else if (*p != 'Z' && *p != 'z')
                return 0;
        t = (int64_t) timegm(&tm);
        return t - off;
}

static int history_append(sd_bus_message *reply, const char *id, int64_t created, const char *created_by,
                          char *const *tags, uint64_t size, const char *comment) {
        int r;

        r = sd_bus_message_open_container(reply, 'r', "sxsasts");
        if (r >= 0)
                r = sd_bus_message_append(reply, "sxs", id, created, strempty(created_by));
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, (char **) tags);
        if (r >= 0)
                r = sd_bus_message_append(reply, "ts", size, strempty(comment));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

int method_get_image_history(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(image_info_done) ImageInfo info = {};
        _cleanup_strv_free_ char **tags = NULL;
        _cleanup_free_ uint64_t *sizes = NULL;
        char *const empty[] = { NULL };
        Broker *b = userdata;
        json_object *hist = NULL;
        const char *name;
        size_t n_sizes = 0, n, layer;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        r = authz_verify(b, m, name, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */
        r = image_info_load(b, name, &info, error);
        if (r < 0)
                return r;
        r = image_references(b, info.id, &tags, NULL);
        if (r < 0)
                return r;
        r = image_manifest_layer_sizes(b->images_fd, info.entry.manifest, &sizes, &n_sizes);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "cannot read the manifest %s of %s: %s",
                                         info.entry.manifest, name, strerror(-r));

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sxsasts)");
        if (r < 0)
                return r;

        if (json_object_object_get_ex(info.config, "history", &hist) && json_object_is_type(hist, json_type_array) &&
            json_object_array_length(hist) > 0) {
                n = MIN(json_object_array_length(hist), (size_t) HISTORY_MAX);
                /* Non-empty entries map to layers bottom up; count them first
                 * to walk newest first. */
                layer = 0;
                for (size_t i = 0; i < n; i++) {
                        json_object *h = json_object_array_get_idx(hist, i), *el;
                        if (!(json_object_object_get_ex(h, "empty_layer", &el) && json_object_get_boolean(el)))
                                layer++;
                }
                for (size_t i = n; i > 0; i--) {
                        json_object *h = json_object_array_get_idx(hist, i - 1), *el;
                        bool is_empty = json_object_object_get_ex(h, "empty_layer", &el) && json_object_get_boolean(el);
                        uint64_t size = 0;

                        if (!is_empty) {
                                layer--;
                                size = layer < n_sizes ? sizes[layer] : 0;
                        }
                        r = history_append(reply, i == n ? info.id : "<missing>",
                                           rfc3339_to_unix(json_str(h, "created")), json_str(h, "created_by"),
                                           i == n ? tags : empty, size, json_str(h, "comment"));
                        if (r < 0)
                                return r;
                }
        } else {
                /* No history in the config: one entry per layer, as Docker shows it. */
                int64_t created = rfc3339_to_unix(json_str(info.config, "created"));
                for (size_t i = n_sizes; i > 0; i--) {
                        r = history_append(reply, i == n_sizes ? info.id : "<missing>", created, "",
                                           i == n_sizes ? tags : empty, sizes[i - 1], "");
                        if (r < 0)
                                return r;
                }
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int method_tag_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *target_ref = NULL;
        const char *source, *target;
        Broker *b = userdata;
        ImageEntry src, old;
        int r;

        r = sd_bus_message_read(m, "ss", &source, &target);
        if (r < 0)
                return r;
        r = image_reference_normalize(target, &target_ref);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "invalid target reference '%s'", target);
        if (strchr(target_ref, '@'))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "target reference '%s' has a digest; a tag is needed", target);
        r = image_lookup(b, source, &src, NULL, error);
        if (r < 0)
                return r;
        r = authz_verify(b, m, target_ref, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */

        if (image_store_find(b->images, target_ref, &old) >= 0 && streq(old.manifest, src.manifest))
                return sd_bus_reply_method_return(m, NULL);

        /* Copies: the put rewrites the array @src points into. */
        _cleanup_free_ char *manifest = strdup(src.manifest), *repo_digest = strdup(src.repo_digest),
                            *media_type = src.media_type ? strdup(src.media_type) : NULL;
        if (!manifest || !repo_digest || (src.media_type && !media_type))
                return -ENOMEM;
        ImageEntry e = {
                .reference = target_ref,
                .repo_digest = repo_digest,
                .manifest = manifest,
                .media_type = media_type,
                .manifest_size = src.manifest_size,
        };
        r = image_record(b, &e);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "cannot record %s in %s: %m", target_ref,
                                               image_index_path(b, (char[PATH_MAX + 32]) {}, PATH_MAX + 32));
        log_info("Tagged %s as %s.", source, target_ref);
        (void) manager_emit_counts_changed(b);
        return sd_bus_reply_method_return(m, NULL);
}
