/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Puller1.Catalog(s host, a{sv} options) → (as repositories): the
 * repositories a registry lists at GET /v2/_catalog (docs/internals.md,
 * "SearchImages"), following `Link: <…>; rel="next"` pages. Runs in a
 * thread; replied to from the loop. */

#define CATALOG_MAX_REPOSITORIES 10000U
#define CATALOG_PAGE_MAX (4U << 20)
#define CATALOG_PAGES_MAX 20U

/* The "repositories" of one page of the catalog; appended to @repos
 * (NULL-terminated, @n entries), at most CATALOG_MAX_REPOSITORIES.
 * -EBADMSG for anything but {"repositories": [strings]}. */
int catalog_parse_page(const char *json, char ***repos, size_t *n);

/* The path+query of a `Link: </v2/_catalog?last=x&n=100>; rel="next"`
 * header value, or -ENOENT when it is not a next link to /v2/_catalog. */
int catalog_parse_link(const char *value, char **ret);

/* The method; @userdata of the vtable is ignored, @auth_file comes from
 * the puller (credentials for the host, as for Pull). */
int catalog_method(sd_bus_message *m, const char *auth_file, sd_bus_error *error);
