/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* A blocking OCI distribution client for one pull (libcurl easy interface;
 * the puller runs it in a thread of its own). Anonymous, Basic and Bearer
 * token auth; loopback registries speak http, others https unless insecure. */

typedef struct Registry Registry;

/* Receives the body of a 2xx response; a negative return aborts the transfer
 * and is what registry_get() returns. */
typedef int (*RegistrySink)(const void *data, size_t len, void *userdata);

typedef struct RegistryResponse {
        long status;
        char *content_type;
        char *content_digest;   /* Docker-Content-Digest, or NULL */
        char *link;             /* Link (the catalog's next page), or NULL */
} RegistryResponse;

void registry_response_done(RegistryResponse *r);

/* A sink that collects the body in memory, at most @max bytes (else -EFBIG). */
typedef struct RegistryBuffer {
        char *data;     /* NUL-terminated */
        size_t len;
        size_t max;
} RegistryBuffer;

int registry_buffer_sink(const void *data, size_t len, void *userdata);
void registry_buffer_done(RegistryBuffer *b);

/* Parses a "Bearer realm=\"…\",service=\"…\",scope=\"…\"" challenge. Values
 * are malloc'd (NULL when absent); -EINVAL when it is not a Bearer challenge
 * or has no realm. */
int registry_parse_bearer_challenge(const char *header, char **ret_realm, char **ret_service, char **ret_scope);

/* @cancel may be NULL; when it turns true, transfers abort with -ECANCELED. */
int registry_new(const char *host, const char *repository, const char *username, const char *password,
                 bool insecure, atomic_bool *cancel, Registry **ret);
/* A client of the registry's catalog (GET /v2/_catalog): the same auth as
 * a pull's, but a token service is asked for the scope
 * "registry:catalog:*" when its challenge names none. */
int registry_new_catalog(const char *host, const char *username, const char *password, bool insecure,
                         Registry **ret);
Registry *registry_free(Registry *r);
static inline void registry_freep(Registry **r) {
        if (*r)
                registry_free(*r);
}

/* Another client for the same registry and repository (its own connection,
 * for a parallel download), with the token @r holds. Its transfers abort
 * when @r's cancel flag or @abort (may be NULL) turns true. */
int registry_clone(const Registry *r, atomic_bool *abort, Registry **ret);

const char *registry_host(const Registry *r);

/* GET BASE/v2/<repository>/<what> (e.g. "manifests/latest", "blobs/sha256:…").
 * A connection that breaks off mid-body is resumed with a Range request
 * (up to 3 times); the sink sees every byte once, in order.
 * Returns 0 for a 2xx response; otherwise *ret_error says what happened,
 * prefixed with the host, and the return value classifies it:
 *   -ENOENT  404 (or a registry "*_UNKNOWN" error)
 *   -EACCES  401/403: authentication required or refused
 *   -ECANCELED  @cancel was set
 *   -EIO     anything else (connection, TLS, timeout, 5xx …)
 *   or the sink's own negative return (then *ret_error stays NULL). */
int registry_get(Registry *r, const char *what, const char *accept, RegistrySink sink, void *userdata,
                 RegistryResponse *ret, char **ret_error);

/* The same for a path (and query) of its own: GET BASE@path, e.g.
 * "/v2/_catalog?n=1000". */
int registry_get_path(Registry *r, const char *path, const char *accept, RegistrySink sink, void *userdata,
                      RegistryResponse *ret, char **ret_error);
