/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SearchImages' network part: the registry v2 catalog. One GET per page in
 * a thread of its own (libcurl's easy interface blocks), the result handed
 * to the loop through a pipe, so only the loop thread touches sd-bus. */
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-event.h>

#include "auth-file.h"
#include "catalog.h"
#include "config.h"
#include "errors.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "reference.h"
#include "registry.h"

#define CATALOG_JOBS_MAX 4U

typedef struct CatalogJob {
        sd_bus_message *call;
        sd_event_source *source;
        pthread_t thread;
        int pipe[2];
        char *host, *username, *password;
        const char *auth_file;
        bool insecure;
        /* the thread's result */
        int r;
        char *error;
        char **repos;
        size_t n;
} CatalogJob;

static unsigned n_jobs;

/* The message the caller gets; @r goes on as the classification. */
_printf_(3, 4)
static int catalog_error(CatalogJob *j, int r, const char *fmt, ...) {
        va_list ap;

        free(j->error);
        va_start(ap, fmt);
        if (vasprintf(&j->error, fmt, ap) < 0)
                j->error = NULL;
        va_end(ap);
        return r;
}

int catalog_parse_page(const char *json, char ***repos, size_t *n) {
        json_object *o = json_tokener_parse(json), *a;
        int r = 0;

        if (!o || !json_object_object_get_ex(o, "repositories", &a) ||
            (!json_object_is_type(a, json_type_array) && !json_object_is_type(a, json_type_null))) {
                json_object_put(o);
                return -EBADMSG;
        }
        for (size_t i = 0; a && json_object_is_type(a, json_type_array) && i < json_object_array_length(a); i++) {
                json_object *v = json_object_array_get_idx(a, i);
                char **l;

                if (!json_object_is_type(v, json_type_string)) {
                        r = -EBADMSG;
                        break;
                }
                if (*n >= CATALOG_MAX_REPOSITORIES)
                        break;
                l = realloc(*repos, (*n + 2) * sizeof(char *));
                if (!l) {
                        r = -ENOMEM;
                        break;
                }
                *repos = l;
                l[*n] = strdup(json_object_get_string(v));
                if (!l[*n]) {
                        r = -ENOMEM;
                        break;
                }
                l[++*n] = NULL;
        }
        json_object_put(o);
        return r;
}

int catalog_parse_link(const char *value, char **ret) {
        const char *start = strchr(value, '<'), *end = start ? strchr(start, '>') : NULL;

        if (!start || !end || !strstr(end, "rel=\"next\""))
                return -ENOENT;
        start++;
        /* an absolute URL keeps only its path: we never follow to another host */
        if (strncmp(start, "http://", 7) == 0 || strncmp(start, "https://", 8) == 0) {
                const char *p = strchr(strstr(start, "//") + 2, '/');
                if (!p || p > end)
                        return -ENOENT;
                start = p;
        }
        if (strncmp(start, "/v2/_catalog?", strlen("/v2/_catalog?")) != 0)
                return -ENOENT;
        *ret = strndup(start, (size_t) (end - start));
        return *ret ? 0 : -ENOMEM;
}

/* Every page, through the pull's registry client: its Basic credentials,
 * its Bearer token flow (for the scope registry:catalog:*) and its token
 * cache, Authorization never sent on to another host. */
static int fetch_all(CatalogJob *j) {
        _cleanup_(registry_freep) Registry *reg = NULL;
        _cleanup_free_ char *path = strdup("/v2/_catalog?n=1000");
        int r;

        if (!path)
                return -ENOMEM;
        r = registry_new_catalog(j->host, j->username, j->password, j->insecure, &reg);
        if (r < 0)
                return r;
        for (unsigned page_no = 0; path && page_no < CATALOG_PAGES_MAX && j->n < CATALOG_MAX_REPOSITORIES; page_no++) {
                RegistryBuffer body = { .max = CATALOG_PAGE_MAX };
                RegistryResponse resp = {};
                _cleanup_free_ char *error = NULL;

                r = registry_get_path(reg, path, "application/json", registry_buffer_sink, &body, &resp, &error);
                free(path);
                path = NULL;
                if (r == -EACCES && !j->username)
                        r = catalog_error(j, -EACCES, "%s: the catalog needs credentials%s%s%s", j->host,
                                          j->auth_file ? " (" : "", strempty(j->auth_file),
                                          j->auth_file ? " has none for it)" : "");
                else if (r == -ENOENT)
                        r = catalog_error(j, -ENOENT, "%s: the registry has no catalog (HTTP 404)", j->host);
                else if (r == -EFBIG)
                        r = catalog_error(j, -EFBIG, "%s: a catalog page is larger than %u bytes", j->host, CATALOG_PAGE_MAX);
                else if (r < 0)
                        r = catalog_error(j, r, "%s", error ?: strerror(-r));
                else if (catalog_parse_page(strempty(body.data), &j->repos, &j->n) < 0)
                        r = catalog_error(j, -EBADMSG, "%s: the catalog is not {\"repositories\": [...]}", j->host);
                else if (resp.link)
                        (void) catalog_parse_link(resp.link, &path);
                registry_buffer_done(&body);
                registry_response_done(&resp);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void *catalog_thread(void *userdata) {
        CatalogJob *j = userdata;
        char b = 1;

        j->r = fetch_all(j);
        (void) loop_write(j->pipe[1], &b, 1);
        return NULL;
}

static void catalog_job_free(CatalogJob *j) {
        n_jobs--;
        sd_event_source_disable_unref(j->source);
        sd_bus_message_unref(j->call);
        for (size_t i = 0; i < j->n; i++)
                free(j->repos[i]);
        free(j->repos);
        free(j->host);
        free(j->username);
        free(j->password);
        free(j->error);
        if (j->pipe[0] >= 0)
                close(j->pipe[0]);
        if (j->pipe[1] >= 0)
                close(j->pipe[1]);
        free(j);
}

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        CatalogJob *j = userdata;
        int r;

        (void) pthread_join(j->thread, NULL);
        if (j->r < 0) {
                log_warning("Catalog of %s failed: %s", j->host, strempty(j->error));
                (void) sd_bus_reply_method_errorf(j->call, j->r == -ENOENT ? ZL_ERROR_NOT_FOUND : ZL_ERROR_PULL_FAILED,
                                                  "%s", j->error ?: strerror(-j->r));
        } else {
                log_info("Catalog of %s: %zu repositories.", j->host, j->n);
                r = sd_bus_message_new_method_return(j->call, &reply);
                if (r >= 0)
                        r = sd_bus_message_append_strv(reply, j->repos);
                if (r >= 0)
                        r = sd_bus_send(NULL, reply, NULL);
                if (r < 0)
                        log_warning_errno(r, "Failed to reply to Catalog: %m");
        }
        catalog_job_free(j);
        return 0;
}

int catalog_method(sd_bus_message *m, const char *auth_file, sd_bus_error *error) {
        const char *host;
        CatalogJob *j;
        int insecure = 0, r;

        r = sd_bus_message_read(m, "s", &host);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                if (!streq(key, "insecure"))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown Catalog option '%.100s'", key);
                r = sd_bus_message_read(m, "v", "b", &insecure);
                if (r < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "option 'insecure' must be a boolean");
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        /* a host[:port], nothing that could change the URL's meaning */
        if (isempty(host) || strlen(host) > 255 || host[strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")])
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid registry host '%.100s'", host);
        if (n_jobs >= CATALOG_JOBS_MAX)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "Already listing %u catalogs", n_jobs);

        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        n_jobs++;
        j->pipe[0] = j->pipe[1] = -1;
        j->insecure = insecure;
        j->auth_file = auth_file;
        j->host = strdup(host);
        if (!j->host || pipe2(j->pipe, O_CLOEXEC) < 0) {
                r = j->host ? -errno : -ENOMEM;
                catalog_job_free(j);
                return r;
        }
        if (auth_file) {
                _cleanup_free_ char *msg = NULL;
                r = auth_file_lookup(auth_file, host, &j->username, &j->password, &msg);
                if (r < 0 && r != -ENOENT) {
                        r = sd_bus_error_setf(error, ZL_ERROR_PULL_FAILED, "%s", msg ?: "cannot read the credential file");
                        catalog_job_free(j);
                        return r;
                }
        }
        r = sd_event_add_io(sd_bus_get_event(sd_bus_message_get_bus(m)), &j->source, j->pipe[0], EPOLLIN, on_done, j);
        if (r < 0) {
                catalog_job_free(j);
                return r;
        }
        j->call = sd_bus_message_ref(m);
        r = -pthread_create(&j->thread, NULL, catalog_thread, j);
        if (r < 0) {
                catalog_job_free(j);
                return r;
        }
        return 1;
}
