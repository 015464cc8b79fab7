/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Image references, normalized as Docker does:
 *   busybox                  → docker.io/library/busybox:latest
 *   user/app:1               → docker.io/user/app:1
 *   127.0.0.1:5000/bb        → 127.0.0.1:5000/bb:latest
 *   localhost/x@sha256:<hex> → localhost/x@sha256:<hex>   (no tag added)
 * The first component is a registry host when it contains '.' or ':' or is
 * "localhost". Repository components are lowercase [a-z0-9._-/] per the
 * distribution spec; tags [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
typedef struct ImageReference {
        char *registry;    /* "docker.io", "127.0.0.1:5000" */
        char *repository;  /* "library/busybox" */
        char *tag;         /* NULL when only a digest was given */
        char *digest;      /* "sha256:<hex>" or NULL */
} ImageReference;

/* -EINVAL for a malformed reference. */
int image_reference_parse(const char *s, ImageReference **ret);
ImageReference *image_reference_free(ImageReference *r);
static inline void image_reference_freep(ImageReference **r) {
        if (*r)
                image_reference_free(*r);
}
#define _cleanup_image_reference_ __attribute__((cleanup(image_reference_freep)))

/* "registry/repository:tag", "registry/repository@digest" or both; malloc'd. */
char *image_reference_to_string(const ImageReference *r);

/* Convenience: parse and format in one step ("busybox" → "docker.io/library/busybox:latest"). */
int image_reference_normalize(const char *s, char **ret);

/* A registry host as references name it: DNS labels, an IPv4 address or a
 * [v6] address, with an optional :port (1-65535); at most 255 bytes. */
bool registry_host_is_valid(const char *s);

/* True for hosts on loopback (127.0.0.0/8, [::1], localhost), with or
 * without a port: these speak plain http (Docker's rule). */
bool registry_host_is_loopback(const char *host);
