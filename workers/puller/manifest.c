/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-c/json.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/utsname.h>

#include "ids.h"
#include "macro.h"
#include "manifest.h"

static void json_object_putp(json_object **j) {
        if (*j)
                json_object_put(*j);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

_printf_(2, 3)
static int set_error(char **ret_error, const char *fmt, ...) {
        va_list ap;

        if (!ret_error)
                return 0;
        free(*ret_error);
        *ret_error = NULL;
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return 0;
}

/* A JSON object from a buffer that must hold exactly one JSON document. */
static int json_parse_object(const char *data, size_t len, json_object **ret) {
        json_tokener *tok;
        json_object *j;

        if (len > MANIFEST_SIZE_MAX || len > INT32_MAX)
                return -EFBIG;
        tok = json_tokener_new_ex(32);
        if (!tok)
                return -ENOMEM;
        j = json_tokener_parse_ex(tok, data, (int) len);
        bool ok = j && json_tokener_get_error(tok) == json_tokener_success;
        /* Only trailing whitespace may follow the document. */
        for (size_t i = ok ? json_tokener_get_parse_end(tok) : len; i < len; i++)
                if (!strchr(" \t\r\n", data[i])) {
                        ok = false;
                        break;
                }
        json_tokener_free(tok);
        if (!ok || !json_object_is_type(j, json_type_object)) {
                json_object_put(j);
                return -EBADMSG;
        }
        *ret = j;
        return 0;
}

static const char *json_get_string(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

void descriptor_done(Descriptor *d) {
        free(d->media_type);
        free(d->digest);
        *d = (Descriptor) {};
}

/* Fills @d from a descriptor object; the media type may be absent (NULL). */
static int descriptor_parse(json_object *o, uint64_t max_size, Descriptor *d, char **ret_error) {
        json_object *v;
        const char *digest, *mt;
        int64_t size;

        if (!json_object_is_type(o, json_type_object))
                return set_error(ret_error, "descriptor is not an object"), -EBADMSG;
        digest = json_get_string(o, "digest");
        if (!digest_is_valid(digest))
                return set_error(ret_error, "descriptor digest \"%s\" is not a sha256 digest", strempty(digest)),
                       -EBADMSG;
        if (!json_object_object_get_ex(o, "size", &v) || !json_object_is_type(v, json_type_int))
                return set_error(ret_error, "descriptor %s has no size", digest), -EBADMSG;
        size = json_object_get_int64(v);
        if (size < 0 || (uint64_t) size > max_size)
                return set_error(ret_error, "descriptor %s has invalid size %" PRIi64, digest, size), -EBADMSG;
        mt = json_get_string(o, "mediaType");

        d->digest = strdup(digest);
        d->media_type = mt ? strdup(mt) : NULL;
        if (!d->digest || (mt && !d->media_type)) {
                descriptor_done(d);
                return -ENOMEM;
        }
        d->size = (uint64_t) size;
        return 0;
}

static bool is_image_manifest_type(const char *mt) {
        return mt && (streq(mt, MT_OCI_MANIFEST) || streq(mt, MT_DOCKER_MANIFEST));
}

static bool is_index_type(const char *mt) {
        return mt && (streq(mt, MT_OCI_INDEX) || streq(mt, MT_DOCKER_LIST));
}

int layer_media_type_supported(const char *mt) {
        static const char *const supported[] = {
                "application/vnd.oci.image.layer.v1.tar",
                "application/vnd.oci.image.layer.v1.tar+gzip",
                "application/vnd.oci.image.layer.v1.tar+zstd",
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
        };

        if (!mt)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(supported); i++)
                if (streq(mt, supported[i]))
                        return true;
        return false;
}

int platform_parse(const char *s, Platform *ret) {
        Platform p = {};
        const char *a, *v;
        size_t n;

        if (isempty(s))
                return -EINVAL;
        a = strchr(s, '/');
        if (!a)
                return -EINVAL;
        v = strchr(a + 1, '/');
        if (v && strchr(v + 1, '/'))
                return -EINVAL;

        n = a - s;
        if (n == 0 || n >= sizeof(p.os))
                return -EINVAL;
        memcpy(p.os, s, n);
        n = v ? (size_t) (v - a - 1) : strlen(a + 1);
        if (n == 0 || n >= sizeof(p.architecture))
                return -EINVAL;
        memcpy(p.architecture, a + 1, n);
        if (v) {
                n = strlen(v + 1);
                if (n == 0 || n >= sizeof(p.variant))
                        return -EINVAL;
                memcpy(p.variant, v + 1, n);
        }
        for (const char *c = s; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '/' || *c == '_' || *c == '-'))
                        return -EINVAL;
        *ret = p;
        return 0;
}

void platform_native(Platform *ret) {
        static const struct { const char *machine, *arch, *variant; } table[] = {
                { "x86_64", "amd64", "" },
                { "aarch64", "arm64", "" },
                { "armv7l", "arm", "v7" },
                { "armv6l", "arm", "v6" },
                { "i686", "386", "" },
                { "i386", "386", "" },
                { "ppc64le", "ppc64le", "" },
                { "s390x", "s390x", "" },
                { "riscv64", "riscv64", "" },
        };
        struct utsname u;

        *ret = (Platform) {};
        strcpy(ret->os, "linux");
        strcpy(ret->architecture, "amd64");
        if (uname(&u) < 0)
                return;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(u.machine, table[i].machine)) {
                        snprintf(ret->architecture, sizeof(ret->architecture), "%s", table[i].arch);
                        snprintf(ret->variant, sizeof(ret->variant), "%s", table[i].variant);
                        return;
                }
}

const char *platform_to_string(const Platform *p, char *buf, size_t size) {
        snprintf(buf, size, "%s/%s%s%s", p->os, p->architecture, p->variant[0] ? "/" : "", p->variant);
        return buf;
}

static bool platform_matches(const Platform *want, json_object *plat) {
        const char *os, *arch, *variant;

        os = json_get_string(plat, "os");
        arch = json_get_string(plat, "architecture");
        variant = json_get_string(plat, "variant");
        if (!os || !arch || !streq(os, want->os) || !streq(arch, want->architecture))
                return false;
        if (!want->variant[0])
                return true;
        if (variant && streq(variant, want->variant))
                return true;
        /* arm64 images usually omit the (only) variant v8. */
        return !variant && streq(want->architecture, "arm64") && streq(want->variant, "v8");
}

int manifest_detect(const char *data, size_t len, const char *content_type,
                    ManifestKind *ret_kind, char **ret_media_type) {
        _cleanup_json_ json_object *root = NULL;
        _cleanup_free_ char *ct = NULL;
        const char *mt;
        json_object *v;
        int r;

        r = json_parse_object(data, len, &root);
        if (r < 0)
                return r;

        mt = json_get_string(root, "mediaType");
        if (!mt && !isempty(content_type)) {
                ct = strndup(content_type, strcspn(content_type, "; \t"));
                if (!ct)
                        return -ENOMEM;
                /* Registries answer a plain JSON type for OCI documents without mediaType. */
                if (!streq(ct, "application/json") && !streq(ct, "text/plain") &&
                    !streq(ct, "application/octet-stream"))
                        mt = ct;
        }

        if (!mt) {
                /* Neither says: the OCI spec lets the shape decide. */
                if (json_object_object_get_ex(root, "manifests", &v))
                        mt = MT_OCI_INDEX;
                else if (json_object_object_get_ex(root, "layers", &v) &&
                         json_object_object_get_ex(root, "config", &v))
                        mt = MT_OCI_MANIFEST;
        }

        if (ret_media_type) {
                *ret_media_type = strdup(mt ?: "");
                if (!*ret_media_type)
                        return -ENOMEM;
        }
        if (is_index_type(mt))
                *ret_kind = MANIFEST_KIND_INDEX;
        else if (is_image_manifest_type(mt))
                *ret_kind = MANIFEST_KIND_IMAGE;
        else {
                *ret_kind = MANIFEST_KIND_UNKNOWN;
                return -EPROTONOSUPPORT;
        }
        return 0;
}

int manifest_index_select(const char *data, size_t len, const Platform *platform,
                          Descriptor *ret, char **ret_error) {
        _cleanup_json_ json_object *root = NULL;
        json_object *list;
        size_t n;
        int r;

        r = json_parse_object(data, len, &root);
        if (r < 0)
                return set_error(ret_error, "index is not a JSON object"), r;
        if (!json_object_object_get_ex(root, "manifests", &list) || !json_object_is_type(list, json_type_array))
                return set_error(ret_error, "index has no \"manifests\" array"), -EBADMSG;

        n = json_object_array_length(list);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(list, i), *plat;
                Descriptor d = {};

                if (!json_object_is_type(e, json_type_object))
                        return set_error(ret_error, "index entry %zu is not an object", i), -EBADMSG;
                /* Attestations, nested indexes and whatever comes next: not ours. */
                if (!is_image_manifest_type(json_get_string(e, "mediaType")))
                        continue;
                if (!json_object_object_get_ex(e, "platform", &plat) || !json_object_is_type(plat, json_type_object))
                        continue;
                if (!platform_matches(platform, plat))
                        continue;
                r = descriptor_parse(e, MANIFEST_SIZE_MAX, &d, ret_error);
                if (r < 0)
                        return r;
                *ret = d;
                return 0;
        }
        return -ENOENT;
}

ImageManifest *image_manifest_free(ImageManifest *m) {
        if (!m)
                return NULL;
        free(m->media_type);
        descriptor_done(&m->config);
        for (size_t i = 0; i < m->n_layers; i++)
                descriptor_done(&m->layers[i]);
        free(m->layers);
        free(m);
        return NULL;
}

int image_manifest_parse(const char *data, size_t len, const char *media_type,
                         ImageManifest **ret, char **ret_error) {
        _cleanup_json_ json_object *root = NULL;
        _cleanup_(image_manifest_freep) ImageManifest *m = NULL;
        json_object *v, *layers;
        const char *mt;
        size_t n;
        int r;

        r = json_parse_object(data, len, &root);
        if (r < 0)
                return set_error(ret_error, "manifest is not a JSON object"), r;

        if (!json_object_object_get_ex(root, "schemaVersion", &v) || !json_object_is_type(v, json_type_int) ||
            json_object_get_int64(v) != 2)
                return set_error(ret_error, "manifest schemaVersion is not 2"), -EBADMSG;

        mt = json_get_string(root, "mediaType") ?: media_type;
        if (!is_image_manifest_type(mt))
                return set_error(ret_error, "unsupported manifest media type \"%s\"", strempty(mt)),
                       -EPROTONOSUPPORT;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->media_type = strdup(mt);
        if (!m->media_type)
                return -ENOMEM;

        if (!json_object_object_get_ex(root, "config", &v))
                return set_error(ret_error, "manifest has no config"), -EBADMSG;
        r = descriptor_parse(v, MANIFEST_SIZE_MAX, &m->config, ret_error);
        if (r < 0)
                return r;
        if (m->config.media_type && !streq(m->config.media_type, MT_OCI_CONFIG) &&
            !streq(m->config.media_type, MT_DOCKER_CONFIG))
                return set_error(ret_error, "config %s has unsupported media type \"%s\" (not a container image)",
                                 m->config.digest, m->config.media_type),
                       -EPROTONOSUPPORT;

        if (!json_object_object_get_ex(root, "layers", &layers) || !json_object_is_type(layers, json_type_array))
                return set_error(ret_error, "manifest has no \"layers\" array"), -EBADMSG;
        n = json_object_array_length(layers);
        if (n > MANIFEST_LAYERS_MAX)
                return set_error(ret_error, "manifest has %zu layers, at most %u are supported", n, MANIFEST_LAYERS_MAX),
                       -E2BIG;
        m->layers = calloc(MAX(n, 1U), sizeof(Descriptor));
        if (!m->layers)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = descriptor_parse(json_object_array_get_idx(layers, i), UINT64_MAX >> 1, &m->layers[i], ret_error);
                if (r < 0)
                        return r;
                m->n_layers++;
                if (!layer_media_type_supported(m->layers[i].media_type))
                        return set_error(ret_error, "layer %s has unsupported media type \"%s\"",
                                         m->layers[i].digest, strempty(m->layers[i].media_type)),
                               -EPROTONOSUPPORT;
        }

        *ret = TAKE_PTR(m);
        return 0;
}

int image_config_diff_ids(const char *data, size_t len, char ***ret, char **ret_error) {
        _cleanup_json_ json_object *root = NULL;
        _cleanup_strv_free_ char **l = NULL;
        json_object *rootfs, *ids;
        const char *type;
        size_t n;
        int r;

        r = json_parse_object(data, len, &root);
        if (r < 0)
                return set_error(ret_error, "image config is not a JSON object"), r;
        if (!json_object_object_get_ex(root, "rootfs", &rootfs) || !json_object_is_type(rootfs, json_type_object))
                return set_error(ret_error, "image config has no rootfs"), -EBADMSG;
        type = json_get_string(rootfs, "type");
        if (!type || !streq(type, "layers"))
                return set_error(ret_error, "image config rootfs.type is \"%s\", not \"layers\"", strempty(type)),
                       -EBADMSG;
        if (!json_object_object_get_ex(rootfs, "diff_ids", &ids) || !json_object_is_type(ids, json_type_array))
                return set_error(ret_error, "image config has no rootfs.diff_ids"), -EBADMSG;

        n = json_object_array_length(ids);
        if (n > MANIFEST_LAYERS_MAX)
                return set_error(ret_error, "image config has %zu diff_ids", n), -E2BIG;
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(ids, i);
                const char *s = json_object_is_type(e, json_type_string) ? json_object_get_string(e) : NULL;
                if (!digest_is_valid(s))
                        return set_error(ret_error, "diff_id %zu \"%s\" is not a sha256 digest", i, strempty(s)),
                               -EBADMSG;
                l[i] = strdup(s);
                if (!l[i])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}
