/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Parsing of what a registry serves: image indexes / manifest lists, image
 * manifests and image configs (OCI image spec and Docker schema 2), and the
 * platform selection in an index. Pure functions over byte buffers, so that
 * they can be unit-tested and fuzzed without a registry. */

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST_V1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_MANIFEST_V1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

/* What the puller asks for, most specific first. */
#define MANIFEST_ACCEPT MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " MT_DOCKER_MANIFEST

/* Upper bound for manifests, indexes and configs (they are read into memory). */
#define MANIFEST_SIZE_MAX (4U * 1024U * 1024U)
/* More layers than overlayfs can stack is certainly not an image we can run. */
#define MANIFEST_LAYERS_MAX 512U

typedef struct Descriptor {
        char *media_type;
        char *digest;
        uint64_t size;
} Descriptor;

void descriptor_done(Descriptor *d);

typedef enum ManifestKind {
        MANIFEST_KIND_UNKNOWN,
        MANIFEST_KIND_IMAGE,
        MANIFEST_KIND_INDEX,
} ManifestKind;

typedef struct Platform {
        char os[32];
        char architecture[32];
        char variant[32];   /* "" = any */
} Platform;

/* "os/arch[/variant]"; -EINVAL naming nothing, the caller names the value. */
int platform_parse(const char *s, Platform *ret);
/* This machine's platform (linux/<GOARCH of uname -m>). */
void platform_native(Platform *ret);
/* "os/arch[/variant]" into @buf. */
const char *platform_to_string(const Platform *p, char *buf, size_t size);

/* True for the layer media types the archive worker can unpack. */
int layer_media_type_supported(const char *media_type);

/* Decides what a document is: the body's "mediaType" wins, then the
 * Content-Type header (parameters ignored), then the shape of the JSON.
 * -EPROTONOSUPPORT for Docker schema 1 and other unknown types (*ret_media_type
 * names it), -EBADMSG when the body is not a JSON object. */
int manifest_detect(const char *data, size_t len, const char *content_type,
                    ManifestKind *ret_kind, char **ret_media_type);

/* Picks the entry of an index / manifest list for @platform; entries of
 * unknown media type and without platform are skipped. -ENOENT when none
 * matches, -EBADMSG when malformed (*ret_error says how). */
int manifest_index_select(const char *data, size_t len, const Platform *platform,
                          Descriptor *ret, char **ret_error);

typedef struct ImageManifest {
        char *media_type;
        Descriptor config;
        Descriptor *layers;   /* bottom first */
        size_t n_layers;
} ImageManifest;

ImageManifest *image_manifest_free(ImageManifest *m);
static inline void image_manifest_freep(ImageManifest **m) {
        if (*m)
                image_manifest_free(*m);
}

/* -EBADMSG when malformed, -EPROTONOSUPPORT for a layer media type we cannot
 * unpack (foreign / non-distributable layers); *ret_error says which. */
int image_manifest_parse(const char *data, size_t len, const char *media_type,
                         ImageManifest **ret, char **ret_error);

/* rootfs.diff_ids of an image config, NULL-terminated. */
int image_config_diff_ids(const char *data, size_t len, char ***ret, char **ret_error);
