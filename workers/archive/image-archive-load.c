/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LoadImages in zlayer-archive. The input is a stream (a pipe, often), and
 * a docker-archive may put manifest.json last: so every regular file is
 * first staged under images/ingest/.load-*, hashed while it is written, by
 * a name of our own (never the archive's path). Then the archive is checked
 * as a whole (every digest, diff_id, size), the layers are unpacked, and
 * only then are the blobs renamed into blobs/sha256/. A truncated or
 * hostile archive leaves nothing: the staging dir goes, and layers this
 * load created are removed again. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <sys/stat.h>

#include "digest.h"
#include "fileio.h"
#include "ids.h"
#include "image-archive.h"
#include "layer-unpack.h"
#include "macro.h"
#include "manifest.h"
#include "reference.h"

#define CHUNK (128U << 10)
#define LINK_DEPTH_MAX 8

static bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

#define OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"

typedef struct Staged {
        char *name;           /* the archive path, normalized */
        char *link;           /* symlink or hard link: the path it stands for */
        char file[32];        /* in the staging dir */
        char digest[72];
        uint64_t size;
        bool needed, moved;
} Staged;

typedef struct Load {
        int images_fd, layers_fd, stage_fd;
        char stage_name[96];
        Staged *entries;
        size_t n, allocated;
        uint64_t bytes;
        char **created;       /* chain hex of layers this load unpacked */
        size_t n_created;
        char **manifests;     /* generated manifests (docker-archive), written at the end */
        size_t n_manifests;
        json_object *result;
        char **error;
} Load;

static void load_done(Load *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->entries[i].name);
                free(l->entries[i].link);
        }
        free(l->entries);
        for (size_t i = 0; i < l->n_created; i++)
                free(l->created[i]);
        free(l->created);
        for (size_t i = 0; i < l->n_manifests; i++)
                free(l->manifests[i]);
        free(l->manifests);
        json_object_put(l->result);
        if (l->stage_fd >= 0)
                close(l->stage_fd);
        if (l->stage_name[0])
                (void) rm_rf_at(l->images_fd, l->stage_name);
}

/* "./a//b/" → "a/b"; NULL for absolute paths, ".." components or nothing. */
static char *path_normalize(const char *dir, const char *p) {
        _cleanup_free_ char *in = NULL;
        char *out, *save = NULL;
        size_t len = 0;

        if (!p || p[0] == '/')
                return NULL;
        if (asprintf(&in, "%s%s%s", dir ?: "", dir && *dir ? "/" : "", p) < 0)
                return NULL;
        out = calloc(1, strlen(in) + 1);
        if (!out)
                return NULL;
        for (char *c = strtok_r(in, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (streq(c, "."))
                        continue;
                if (streq(c, "..")) {
                        /* only a symlink's target may go up, never out */
                        char *slash;
                        if (!dir || len == 0) {
                                free(out);
                                return NULL;
                        }
                        slash = strrchr(out, '/');
                        len = slash ? (size_t) (slash - out) : 0;
                        out[len] = 0;
                        continue;
                }
                if (len > 0)
                        out[len++] = '/';
                strcpy(out + len, c);
                len += strlen(c);
        }
        if (len == 0) {
                free(out);
                return NULL;
        }
        return out;
}

static Staged *staged_add(Load *l) {
        if (l->n == l->allocated) {
                size_t k = l->allocated ? l->allocated * 2 : 64;
                Staged *e = realloc(l->entries, k * sizeof(Staged));
                if (!e)
                        return NULL;
                l->entries = e;
                l->allocated = k;
        }
        l->entries[l->n] = (Staged) {};
        return &l->entries[l->n++];
}

/* The staged file @name stands for, through links. */
static Staged *staged_find(Load *l, const char *name) {
        for (unsigned depth = 0; name && depth < LINK_DEPTH_MAX; depth++) {
                Staged *s = NULL;
                for (size_t i = l->n; i > 0; i--)
                        if (streq(l->entries[i - 1].name, name)) {
                                s = &l->entries[i - 1];
                                break;
                        }
                if (!s || !s->link)
                        return s;
                name = s->link;
        }
        return NULL;
}

static int stage_data(Load *l, struct archive *a, Staged *s) {
        _cleanup_sha256_ Sha256 *h = NULL;
        _cleanup_free_ void *buf = malloc(CHUNK);
        _cleanup_close_ int fd = -1;
        ssize_t n;
        int r;

        if (!buf)
                return -ENOMEM;
        r = sha256_new(&h);
        if (r < 0)
                return r;
        snprintf(s->file, sizeof(s->file), "f%zu", l->n);
        fd = openat(l->stage_fd, s->file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return image_set_error(l->error, -errno, "cannot stage %s: %m", s->name);
        while ((n = archive_read_data(a, buf, CHUNK)) > 0) {
                s->size += (uint64_t) n;
                l->bytes += (uint64_t) n;
                if (l->bytes > IMAGE_LOAD_MAX_BYTES)
                        return image_set_error(l->error, -EFBIG, "the archive holds more than %llu bytes",
                                               (unsigned long long) IMAGE_LOAD_MAX_BYTES);
                r = sha256_update(h, buf, (size_t) n);
                if (r < 0)
                        return r;
                r = loop_write(fd, buf, (size_t) n);
                if (r < 0)
                        return image_set_error(l->error, r, "cannot stage %s: %s", s->name, strerror(-r));
        }
        if (n < 0)
                return image_set_error(l->error, -EBADMSG, "the archive is truncated or corrupt at %s: %s", s->name,
                                       archive_error_string(a) ?: "read error");
        if (fsync(fd) < 0)
                return image_set_error(l->error, -errno, "cannot stage %s: %m", s->name);
        return sha256_final(h, s->digest);
}

static int stage_archive(Load *l, int in_fd) {
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        int r = 0, k;

        if (!a)
                return -ENOMEM;
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_gnutar(a);
        if (archive_read_open_fd(a, in_fd, CHUNK) != ARCHIVE_OK) {
                r = image_set_error(l->error, -EBADMSG, "the input is not an archive: %s",
                                    archive_error_string(a) ?: "unknown format");
                goto finish;
        }
        while ((k = archive_read_next_header(a, &e)) == ARCHIVE_OK || k == ARCHIVE_WARN) {
                const char *path = archive_entry_pathname(e);
                mode_t type = archive_entry_filetype(e);
                _cleanup_free_ char *name = NULL, *dir = NULL;
                Staged *s;

                if (l->n >= IMAGE_LOAD_MAX_ENTRIES) {
                        r = image_set_error(l->error, -E2BIG, "the archive has more than %llu entries",
                                            (unsigned long long) IMAGE_LOAD_MAX_ENTRIES);
                        goto finish;
                }
                name = path_normalize(NULL, path);
                if (!name && !(path && path[0] != '/' && !strstr(path, "..") && type == AE_IFDIR)) {
                        r = image_set_error(l->error, -EBADMSG, "archive entry '%.200s' is absolute or leaves the archive",
                                            strempty(path));
                        goto finish;
                }
                if (type == AE_IFDIR)
                        continue;
                if (type != AE_IFREG && type != AE_IFLNK) {
                        r = image_set_error(l->error, -EBADMSG, "archive entry '%.200s' is not a file, directory or link",
                                            path);
                        goto finish;
                }
                s = staged_add(l);
                if (!s) {
                        r = -ENOMEM;
                        goto finish;
                }
                s->name = TAKE_PTR(name);
                if (archive_entry_hardlink(e)) {
                        s->link = path_normalize(NULL, archive_entry_hardlink(e));
                        if (!s->link) {
                                r = image_set_error(l->error, -EBADMSG, "hard link '%.200s' points out of the archive", path);
                                goto finish;
                        }
                } else if (type == AE_IFLNK) {
                        /* a symlink resolves from its own directory, never out */
                        char *slash = strrchr(s->name, '/');
                        dir = slash ? strndup(s->name, (size_t) (slash - s->name)) : strdup("");
                        if (!dir) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        s->link = path_normalize(dir, archive_entry_symlink(e));
                        if (!s->link) {
                                r = image_set_error(l->error, -EBADMSG, "symlink '%.200s' points out of the archive", path);
                                goto finish;
                        }
                } else {
                        r = stage_data(l, a, s);
                        if (r < 0)
                                goto finish;
                }
        }
        if (k != ARCHIVE_EOF)
                r = image_set_error(l->error, -EBADMSG, "the archive is truncated or corrupt: %s",
                                    archive_error_string(a) ?: "read error");
        else if (l->n == 0)
                r = image_set_error(l->error, -EBADMSG, "the archive is empty");
finish:
        archive_read_free(a);
        return r;
}

static int staged_read(Load *l, Staged *s, char **ret) {
        if (s->size > IMAGE_JSON_MAX)
                return image_set_error(l->error, -EFBIG, "%s is larger than %u bytes", s->name, IMAGE_JSON_MAX);
        return read_file_at(l->stage_fd, s->file, IMAGE_JSON_MAX, ret, NULL);
}

static int staged_json(Load *l, const char *name, json_type type, Staged **ret_s, json_object **ret) {
        _cleanup_free_ char *text = NULL;
        Staged *s = staged_find(l, name);
        int r;

        if (!s)
                return image_set_error(l->error, -EBADMSG, "the archive has no %s", name);
        r = staged_read(l, s, &text);
        if (r < 0)
                return image_set_error(l->error, r, "cannot read %s: %s", name, strerror(-r));
        *ret = json_tokener_parse(text);
        if (!*ret || !json_object_is_type(*ret, type)) {
                json_object_put(*ret);
                *ret = NULL;
                return image_set_error(l->error, -EBADMSG, "%s is not a JSON %s", name,
                                       type == json_type_array ? "array" : "object");
        }
        if (ret_s)
                *ret_s = s;
        return 0;
}

/* A blob of an oci-archive by its descriptor: present, digest and size as said. */
static Staged *oci_blob(Load *l, json_object *desc, const char *what) {
        const char *digest = image_json_str(desc, "digest");
        json_object *size;
        char name[128];
        Staged *s;

        if (!digest || !digest_is_valid(digest)) {
                image_set_error(l->error, -EBADMSG, "%s has an invalid digest '%.100s'", what, strempty(digest));
                return NULL;
        }
        snprintf(name, sizeof(name), "blobs/sha256/%s", digest + strlen("sha256:"));
        s = staged_find(l, name);
        if (!s) {
                image_set_error(l->error, -EBADMSG, "%s %s is missing from the archive", what, digest);
                return NULL;
        }
        if (!streq(s->digest, digest)) {
                image_set_error(l->error, -EBADMSG, "%s %s has the digest %s", what, digest, s->digest);
                return NULL;
        }
        if (json_object_object_get_ex(desc, "size", &size) && (uint64_t) json_object_get_int64(size) != s->size) {
                image_set_error(l->error, -EBADMSG, "%s %s has %llu bytes, its descriptor says %lld", what, digest,
                                (unsigned long long) s->size, (long long) json_object_get_int64(size));
                return NULL;
        }
        return s;
}

/* A name like "<hex>.json", "<hex>/layer.tar" or "blobs/sha256/<hex>"
 * promises a digest: hold the archive to it. */
static int check_name_digest(Load *l, const char *name, Staged *s) {
        const char *p = name, *slash = strrchr(name, '/');
        char hex[65];

        if (startswith(name, "blobs/sha256/"))
                p = name + strlen("blobs/sha256/");
        else if (slash && streq(slash, "/layer.tar"))
                return 0; /* docker's v1 layer ids are not digests */
        else if (slash)
                return 0;
        snprintf(hex, sizeof(hex), "%.64s", p);
        if (!hex64_is_valid(hex) || (p[64] != 0 && !streq(p + 64, ".json") && !streq(p + 64, ".tar")))
                return 0;
        if (!streq(s->digest + strlen("sha256:"), hex))
                return image_set_error(l->error, -EBADMSG, "%s has the digest %s", name, s->digest);
        return 0;
}

static const char *detect_layer_type(Load *l, Staged *s) {
        _cleanup_close_ int fd = openat(l->stage_fd, s->file, O_RDONLY | O_CLOEXEC);
        unsigned char m[4] = {};

        if (fd < 0 || pread(fd, m, sizeof(m), 0) < 0)
                return OCI_LAYER;
        if (m[0] == 0x1f && m[1] == 0x8b)
                return OCI_LAYER_GZIP;
        if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
                return OCI_LAYER_ZSTD;
        return OCI_LAYER;
}

static int created_add(Load *l, const char *hex) {
        char **c = realloc(l->created, (l->n_created + 1) * sizeof(char *));
        if (!c)
                return -ENOMEM;
        l->created = c;
        c[l->n_created] = strdup(hex);
        if (!c[l->n_created])
                return -ENOMEM;
        l->n_created++;
        return 0;
}

/* Unpacks the layer unless its chain is there; then checks its diff_id
 * all the same, as the blob goes into the store under that claim. */
static int unpack_layer(Load *l, Staged *s, const char *chain, const char *diff_id) {
        _cleanup_free_ char *msg = NULL;
        _cleanup_close_ int fd = openat(l->stage_fd, s->file, O_RDONLY | O_CLOEXEC);
        const char *hex = chain + strlen("sha256:");
        uint64_t size;
        int r;

        if (fd < 0)
                return -errno;
        if (faccessat(l->layers_fd, hex, F_OK, AT_SYMLINK_NOFOLLOW) >= 0) {
                if (streq(s->digest, diff_id))
                        return 0;
                return image_layer_stream(fd, diff_id, NULL, &size, l->error);
        }
        r = layer_unpack(fd, l->layers_fd, chain, diff_id, &size, &msg);
        if (r < 0)
                return image_set_error(l->error, r == -EINVAL ? -EBADMSG : r, "layer %s: %s", s->name,
                                       msg ?: strerror(-r));
        return created_add(l, hex);
}

/* References: normalized, tags only. */
static int add_reference(Load *l, json_object *refs, const char *name) {
        _cleanup_free_ char *n = NULL;

        if (strchr(name, '@') || image_reference_normalize(name, &n) < 0)
                return image_set_error(l->error, -EBADMSG, "invalid image name '%.200s' in the archive", name);
        for (size_t i = 0; i < json_object_array_length(refs); i++)
                if (streq(json_object_get_string(json_object_array_get_idx(refs, i)), n))
                        return 0;
        return json_object_array_add(refs, json_object_new_string(n)) < 0 ? -ENOMEM : 0;
}

/* The checks and unpacking common to both formats. @layers and @media
 * have @n entries; @manifest is the staged manifest (oci) or NULL to
 * generate one (docker). Takes @refs. */
static int load_image(Load *l, json_object *refs, Staged *config, Staged **layers, const char **media, size_t n,
                      Staged *manifest, const char *manifest_type) {
        _cleanup_free_ char *text = NULL;
        json_object *cfg = NULL, *ids, *item;
        char chain[72], mdigest[72];
        uint64_t msize;
        int r;

        /* no refs: an image without a name, dangling in the store (the broker's choice) */
        r = staged_read(l, config, &text);
        if (r >= 0) {
                cfg = json_tokener_parse(text);
                if (!cfg || !json_object_is_type(cfg, json_type_object))
                        r = image_set_error(l->error, -EBADMSG, "config %s is not a JSON object", config->name);
        }
        if (r >= 0) {
                json_object *rootfs;
                ids = json_object_object_get_ex(cfg, "rootfs", &rootfs) ? image_json_arr(rootfs, "diff_ids") : NULL;
                if (!ids || json_object_array_length(ids) != n)
                        r = image_set_error(l->error, -EBADMSG, "config %s lists %zu diff_ids for %zu layers",
                                            config->name, ids ? json_object_array_length(ids) : 0, n);
        }
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const char *diff_id = json_object_get_string(json_object_array_get_idx(ids, i));

                if (!diff_id || !digest_is_valid(diff_id)) {
                        r = image_set_error(l->error, -EBADMSG, "config %s has an invalid diff_id '%.100s'",
                                            config->name, strempty(diff_id));
                        break;
                }
                if (!startswith(media[i], OCI_LAYER) && !strstr(media[i], "rootfs.diff.tar")) {
                        r = image_set_error(l->error, -EBADMSG, "layer %s has the unsupported media type %.100s",
                                            layers[i]->name, media[i]);
                        break;
                }
                r = chain_id_next(i > 0 ? chain : NULL, diff_id, chain);
                if (r >= 0)
                        r = unpack_layer(l, layers[i], chain, diff_id);
                layers[i]->needed = true;
        }
        json_object_put(cfg);
        if (r < 0) {
                json_object_put(refs);
                return r;
        }
        config->needed = true;

        if (manifest) {
                manifest->needed = true;
                snprintf(mdigest, sizeof(mdigest), "%s", manifest->digest);
                msize = manifest->size;
        } else {
                json_object *m = json_object_new_object(), *ls = json_object_new_array(), *d;
                const char *mt;

                json_object_object_add(m, "schemaVersion", json_object_new_int(2));
                json_object_object_add(m, "mediaType", json_object_new_string(OCI_MANIFEST));
                d = json_object_new_object();
                json_object_object_add(d, "mediaType", json_object_new_string(OCI_CONFIG));
                json_object_object_add(d, "digest", json_object_new_string(config->digest));
                json_object_object_add(d, "size", json_object_new_int64((int64_t) config->size));
                json_object_object_add(m, "config", d);
                for (size_t i = 0; i < n; i++) {
                        d = json_object_new_object();
                        json_object_object_add(d, "mediaType", json_object_new_string(media[i]));
                        json_object_object_add(d, "digest", json_object_new_string(layers[i]->digest));
                        json_object_object_add(d, "size", json_object_new_int64((int64_t) layers[i]->size));
                        json_object_array_add(ls, d);
                }
                json_object_object_add(m, "layers", ls);
                mt = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
                r = mt ? sha256_digest(mt, strlen(mt), mdigest) : -ENOMEM;
                msize = mt ? strlen(mt) : 0;
                if (r >= 0) {
                        char **k = realloc(l->manifests, (l->n_manifests + 1) * sizeof(char *));
                        r = k ? 0 : -ENOMEM;
                        if (k) {
                                l->manifests = k;
                                k[l->n_manifests] = strdup(mt);
                                r = k[l->n_manifests] ? 0 : -ENOMEM;
                                if (r >= 0)
                                        l->n_manifests++;
                        }
                }
                json_object_put(m);
                if (r < 0) {
                        json_object_put(refs);
                        return r;
                }
                manifest_type = OCI_MANIFEST;
        }
        item = json_object_new_object();
        json_object_object_add(item, "references", refs);
        json_object_object_add(item, "id", json_object_new_string(config->digest));
        json_object_object_add(item, "manifest", json_object_new_string(mdigest));
        json_object_object_add(item, "media_type", json_object_new_string(manifest_type));
        json_object_object_add(item, "manifest_size", json_object_new_int64((int64_t) msize));
        return json_object_array_add(l->result, item) < 0 ? -ENOMEM : 0;
}

static int load_docker(Load *l) {
        json_object *manifest = NULL;
        int r;

        r = staged_json(l, "manifest.json", json_type_array, NULL, &manifest);
        if (r < 0)
                return r;
        if (json_object_array_length(manifest) > IMAGE_LOAD_MAX_IMAGES)
                r = image_set_error(l->error, -E2BIG, "manifest.json lists more than %d images", IMAGE_LOAD_MAX_IMAGES);
        for (size_t i = 0; r >= 0 && i < json_object_array_length(manifest); i++) {
                json_object *item = json_object_array_get_idx(manifest, i), *ls = image_json_arr(item, "Layers");
                json_object *tags = image_json_arr(item, "RepoTags"), *refs;
                const char *cname = image_json_str(item, "Config");
                _cleanup_free_ Staged **layers = NULL;
                _cleanup_free_ const char **media = NULL;
                Staged *config;
                size_t n;

                if (!cname || !ls) {
                        r = image_set_error(l->error, -EBADMSG, "manifest.json item %zu has no Config or Layers", i);
                        break;
                }
                config = staged_find(l, cname);
                if (!config) {
                        r = image_set_error(l->error, -EBADMSG, "config %.200s is missing from the archive", cname);
                        break;
                }
                r = check_name_digest(l, cname, config);
                if (r < 0)
                        break;
                n = json_object_array_length(ls);
                layers = calloc(n + 1, sizeof(Staged *));
                media = calloc(n + 1, sizeof(char *));
                if (!layers || !media) {
                        r = -ENOMEM;
                        break;
                }
                for (size_t j = 0; r >= 0 && j < n; j++) {
                        const char *lname = json_object_get_string(json_object_array_get_idx(ls, j));
                        layers[j] = lname ? staged_find(l, lname) : NULL;
                        if (!layers[j])
                                r = image_set_error(l->error, -EBADMSG, "layer %.200s is missing from the archive",
                                                    strempty(lname));
                        else
                                r = check_name_digest(l, lname, layers[j]);
                        if (r >= 0)
                                media[j] = detect_layer_type(l, layers[j]);
                }
                if (r < 0)
                        break;
                refs = json_object_new_array();
                for (size_t j = 0; r >= 0 && tags && j < json_object_array_length(tags); j++) {
                        const char *t = json_object_get_string(json_object_array_get_idx(tags, j));
                        r = t ? add_reference(l, refs, t) : image_set_error(l->error, -EBADMSG, "invalid RepoTags");
                }
                if (r < 0) {
                        json_object_put(refs);
                        break;
                }
                r = load_image(l, refs, config, layers, media, n, NULL, NULL);
        }
        json_object_put(manifest);
        return r;
}

/* @desc is the image manifest's descriptor; @named the index.json entry
 * whose annotations name it (the same one, or the index it was chosen from). */
static int load_oci_manifest(Load *l, json_object *desc, json_object *named) {
        const char *mt = image_json_str(desc, "mediaType"), *name = NULL;
        json_object *manifest = NULL, *ann, *ls, *refs;
        _cleanup_free_ Staged **layers = NULL;
        _cleanup_free_ const char **media = NULL;
        _cleanup_free_ char *text = NULL;
        Staged *ms, *config;
        size_t n;
        int r;

        if (!mt || (!streq(mt, OCI_MANIFEST) && !streq(mt, DOCKER_MANIFEST)))
                return image_set_error(l->error, -EBADMSG, "index.json entry of media type %.100s is not supported "
                                       "(an image manifest or image index is needed)", strempty(mt));
        ms = oci_blob(l, desc, "manifest");
        if (!ms)
                return -EBADMSG;
        r = staged_read(l, ms, &text);
        if (r < 0)
                return image_set_error(l->error, r, "cannot read manifest %s", ms->digest);
        manifest = json_tokener_parse(text);
        ls = manifest && json_object_is_type(manifest, json_type_object) ? image_json_arr(manifest, "layers") : NULL;
        if (!ls || !json_object_object_get_ex(manifest, "config", NULL)) {
                json_object_put(manifest);
                return image_set_error(l->error, -EBADMSG, "manifest %s is not an image manifest", ms->digest);
        }
        {
                json_object *cd;
                json_object_object_get_ex(manifest, "config", &cd);
                config = oci_blob(l, cd, "config");
        }
        n = json_object_array_length(ls);
        layers = calloc(n + 1, sizeof(Staged *));
        media = calloc(n + 1, sizeof(char *));
        r = !config ? -EBADMSG : (!layers || !media) ? -ENOMEM : 0;
        for (size_t j = 0; r >= 0 && j < n; j++) {
                json_object *d = json_object_array_get_idx(ls, j);
                layers[j] = oci_blob(l, d, "layer");
                media[j] = image_json_str(d, "mediaType");
                if (!layers[j])
                        r = -EBADMSG;
                else if (!media[j])
                        r = image_set_error(l->error, -EBADMSG, "layer %s has no media type", layers[j]->digest);
        }
        /* containerd's name, else the OCI ref name when it is a whole name
         * (a bare tag names no repository) */
        if (r >= 0 && json_object_object_get_ex(named, "annotations", &ann)) {
                name = image_json_str(ann, "io.containerd.image.name");
                if (!name) {
                        name = image_json_str(ann, "org.opencontainers.image.ref.name");
                        if (name && !strchr(name, '/') && !strchr(name, ':'))
                                name = NULL;
                }
        }
        refs = json_object_new_array();
        if (r >= 0 && name)
                r = add_reference(l, refs, name);
        if (r >= 0)
                /* media[] point into manifest: load before dropping it */
                r = load_image(l, refs, config, layers, media, n, ms, mt);
        else
                json_object_put(refs);
        json_object_put(manifest);
        return r;
}

/* "linux/amd64, linux/arm64/v8" of an index's entries, for an error. */
static char *index_platforms(const char *text) {
        json_object *root = json_tokener_parse(text), *list = image_json_arr(root, "manifests");
        char *out = strdup("");

        for (size_t i = 0; out && list && i < json_object_array_length(list) && i < 64; i++) {
                json_object *p = NULL;
                const char *os, *arch, *variant;
                char *n = NULL;

                json_object_object_get_ex(json_object_array_get_idx(list, i), "platform", &p);
                os = image_json_str(p, "os");
                arch = image_json_str(p, "architecture");
                variant = image_json_str(p, "variant");
                if (!os || !arch)
                        continue;
                if (asprintf(&n, "%s%s%.32s/%.32s%s%.32s", out, *out ? ", " : "", os, arch, variant ? "/" : "",
                             strempty(variant)) < 0)
                        n = NULL;
                free(out);
                out = n;
        }
        json_object_put(root);
        return out;
}

/* An index.json entry that is itself an image index (a multi-platform
 * archive, as `skopeo copy --all` writes): the host's manifest, by the
 * puller's rule (workers/puller/manifest.c). Its entries that are indexes
 * again are skipped, so the depth is 2 at most. @ret gets a descriptor. */
static int oci_select_platform(Load *l, json_object *desc, json_object **ret) {
        _cleanup_free_ char *text = NULL, *msg = NULL, *found = NULL;
        _cleanup_(descriptor_done) Descriptor d = {};
        char want[100];
        Platform native;
        size_t len;
        Staged *s;
        int r;

        s = oci_blob(l, desc, "image index");
        if (!s)
                return -EBADMSG;
        r = staged_read(l, s, &text);
        if (r < 0)
                return image_set_error(l->error, r, "cannot read image index %s", s->digest);
        len = strlen(text);
        platform_native(&native);
        platform_to_string(&native, want, sizeof(want));
        r = manifest_index_select(text, len, &native, &d, &msg);
        if (r == -ENOENT) {
                found = index_platforms(text);
                return image_set_error(l->error, -EBADMSG, "image index %s has no image for %s (it has: %s)", s->digest,
                                       want, isempty(found) ? "no platform" : found);
        }
        if (r < 0)
                return image_set_error(l->error, -EBADMSG, "image index %s: %s", s->digest, msg ?: strerror(-r));
        *ret = json_object_new_object();
        if (!*ret)
                return -ENOMEM;
        json_object_object_add(*ret, "mediaType", json_object_new_string(d.media_type));
        json_object_object_add(*ret, "digest", json_object_new_string(d.digest));
        json_object_object_add(*ret, "size", json_object_new_int64((int64_t) d.size));
        return 0;
}

static int load_oci_entry(Load *l, json_object *desc) {
        const char *mt = image_json_str(desc, "mediaType");
        json_object *chosen = NULL;
        int r;

        if (!mt || (!streq(mt, OCI_INDEX) && !streq(mt, MT_DOCKER_LIST)))
                return load_oci_manifest(l, desc, desc);
        r = oci_select_platform(l, desc, &chosen);
        if (r >= 0)
                r = load_oci_manifest(l, chosen, desc);
        json_object_put(chosen);
        return r;
}

static int load_oci(Load *l) {
        json_object *index = NULL, *ms;
        int r;

        /* every blob is what its name says, used or not */
        for (size_t i = 0; i < l->n; i++) {
                Staged *s = &l->entries[i];
                if (!s->link && startswith(s->name, "blobs/")) {
                        const char *hex = startswith(s->name, "blobs/sha256/") ? s->name + strlen("blobs/sha256/") : "";
                        if (!hex64_is_valid(hex) || !streq(s->digest + strlen("sha256:"), hex))
                                return image_set_error(l->error, -EBADMSG, "blob %s has the digest %s", s->name, s->digest);
                }
        }
        r = staged_json(l, "index.json", json_type_object, NULL, &index);
        if (r < 0)
                return r;
        ms = image_json_arr(index, "manifests");
        if (!ms)
                r = image_set_error(l->error, -EBADMSG, "index.json has no manifests");
        else if (json_object_array_length(ms) > IMAGE_LOAD_MAX_IMAGES)
                r = image_set_error(l->error, -E2BIG, "index.json lists more than %d images", IMAGE_LOAD_MAX_IMAGES);
        for (size_t i = 0; r >= 0 && i < json_object_array_length(ms); i++)
                r = load_oci_entry(l, json_object_array_get_idx(ms, i));
        json_object_put(index);
        return r;
}

/* Everything checked and unpacked: the blobs go into the store. */
static int commit_blobs(Load *l) {
        _cleanup_close_ int blobs = openat(l->images_fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char digest[72];
        int r;

        if (blobs < 0)
                return image_set_error(l->error, -errno, "cannot open blobs/sha256: %m");
        for (size_t i = 0; i < l->n; i++) {
                Staged *s = &l->entries[i];
                if (!s->needed || s->moved || s->link)
                        continue;
                if (renameat(l->stage_fd, s->file, blobs, s->digest + strlen("sha256:")) < 0)
                        return image_set_error(l->error, -errno, "cannot store blob %s: %m", s->digest);
                s->moved = true;
        }
        for (size_t i = 0; i < l->n_manifests; i++) {
                r = image_blob_write_json(l->images_fd, l->manifests[i], digest, NULL);
                if (r < 0)
                        return image_set_error(l->error, r, "cannot store a manifest: %s", strerror(-r));
        }
        if (fsync(blobs) < 0)
                return image_set_error(l->error, -errno, "cannot sync blobs/sha256: %m");
        return 0;
}

static void remove_created_layers(Load *l) {
        for (size_t i = 0; i < l->n_created; i++) {
                char tmp[128];
                /* as layer-remove.c: out of its name first, so a crash leaves a .tmp-* leftover */
                snprintf(tmp, sizeof(tmp), ".tmp-%s-removing", l->created[i]);
                if (renameat(l->layers_fd, l->created[i], l->layers_fd, tmp) >= 0)
                        (void) rm_rf_at(l->layers_fd, tmp);
        }
}

int image_load(int images_fd, int layers_fd, int in_fd, char **ret_json, char **ret_error) {
        static unsigned counter;
        Load l = { .images_fd = images_fd, .layers_fd = layers_fd, .stage_fd = -1, .error = ret_error };
        int r;

        snprintf(l.stage_name, sizeof(l.stage_name), "ingest/.load-%d-%u", (int) getpid(), ++counter);
        (void) rm_rf_at(images_fd, l.stage_name);
        if (mkdirat(images_fd, l.stage_name, 0700) < 0) {
                r = image_set_error(ret_error, -errno, "cannot create %s: %m", l.stage_name);
                l.stage_name[0] = 0;
                goto finish;
        }
        l.stage_fd = openat(images_fd, l.stage_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        l.result = json_object_new_array();
        if (l.stage_fd < 0 || !l.result) {
                r = l.stage_fd < 0 ? -errno : -ENOMEM;
                goto finish;
        }
        r = stage_archive(&l, in_fd);
        if (r < 0)
                goto finish;
        if (staged_find(&l, "manifest.json"))
                r = load_docker(&l);
        else if (staged_find(&l, "index.json"))
                r = load_oci(&l);
        else
                r = image_set_error(ret_error, -EBADMSG,
                                    "the archive has neither manifest.json (docker-archive) nor index.json (oci-archive)");
        if (r >= 0)
                r = commit_blobs(&l);
        if (r >= 0) {
                *ret_json = strdup(json_object_to_json_string_ext(l.result, JSON_C_TO_STRING_PLAIN |
                                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
                if (!*ret_json)
                        r = -ENOMEM;
        }
finish:
        if (r < 0)
                remove_created_layers(&l);
        load_done(&l);
        return r;
}
