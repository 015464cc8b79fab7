/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SearchImages' network part: the registry v2 catalog. One GET per page in
 * a thread of its own (libcurl's easy interface blocks), the result handed
 * to the loop through a pipe, so only the loop thread touches sd-bus. */
#include <curl/curl.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <strings.h>
#include <systemd/sd-event.h>

#include "auth-file.h"
#include "catalog.h"
#include "config.h"
#include "errors.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "reference.h"

#define CATALOG_TIMEOUT_SEC 60L
#define CATALOG_JOBS_MAX 4U

typedef struct CatalogJob {
        sd_bus_message *call;
        sd_event_source *source;
        pthread_t thread;
        int pipe[2];
        char *host, *username, *password;
        bool insecure;
        /* the thread's result */
        int r;
        char *error;
        char **repos;
        size_t n;
} CatalogJob;

static unsigned n_jobs;

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

typedef struct Page {
        char *data;
        size_t len;
        char *next;
} Page;

static size_t on_body(char *p, size_t size, size_t nmemb, void *userdata) {
        Page *page = userdata;
        size_t k = size * nmemb;
        char *d;

        if (page->len + k > CATALOG_PAGE_MAX)
                return 0;
        d = realloc(page->data, page->len + k + 1);
        if (!d)
                return 0;
        memcpy(d + page->len, p, k);
        page->len += k;
        d[page->len] = 0;
        page->data = d;
        return k;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *userdata) {
        Page *page = userdata;
        size_t k = size * nmemb;

        if (k > 5 && strncasecmp(p, "Link:", 5) == 0 && !page->next) {
                _cleanup_free_ char *v = strndup(p + 5, k - 5);
                if (v)
                        (void) catalog_parse_link(v, &page->next);
        }
        return k;
}

static int fetch_all(CatalogJob *j) {
        _cleanup_free_ char *path = strdup("/v2/_catalog?n=1000");
        bool http = j->insecure || registry_host_is_loopback(j->host);
        char errbuf[CURL_ERROR_SIZE];
        CURL *c = curl_easy_init();
        int r = 0;

        if (!c || !path)
                return -ENOMEM;
        for (unsigned page_no = 0; path && page_no < CATALOG_PAGES_MAX && j->n < CATALOG_MAX_REPOSITORIES; page_no++) {
                _cleanup_free_ char *url = NULL;
                Page page = {};
                long status = 0;
                CURLcode cc;

                if (asprintf(&url, "%s://%s%s", http ? "http" : "https", j->host, path) < 0) {
                        r = -ENOMEM;
                        break;
                }
                errbuf[0] = 0;
                curl_easy_reset(c);
                curl_easy_setopt(c, CURLOPT_URL, url);
                curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
                curl_easy_setopt(c, CURLOPT_TIMEOUT, CATALOG_TIMEOUT_SEC);
                curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
                curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
                curl_easy_setopt(c, CURLOPT_USERAGENT, "zlayer/" ZL_VERSION);
                curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
                curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
                curl_easy_setopt(c, CURLOPT_WRITEDATA, &page);
                curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
                curl_easy_setopt(c, CURLOPT_HEADERDATA, &page);
                if (j->username) {
                        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
                        curl_easy_setopt(c, CURLOPT_USERNAME, j->username);
                        curl_easy_setopt(c, CURLOPT_PASSWORD, strempty(j->password));
                }
                cc = curl_easy_perform(c);
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
                if (cc != CURLE_OK)
                        r = asprintf(&j->error, "%s: %s", j->host, errbuf[0] ? errbuf : curl_easy_strerror(cc)) < 0 ? -ENOMEM : -EIO;
                else if (status == 401 || status == 403)
                        r = asprintf(&j->error, "%s: the catalog needs credentials (HTTP %ld)", j->host, status) < 0 ? -ENOMEM : -EACCES;
                else if (status == 404)
                        r = asprintf(&j->error, "%s: the registry has no catalog (HTTP 404)", j->host) < 0 ? -ENOMEM : -ENOENT;
                else if (status / 100 != 2)
                        r = asprintf(&j->error, "%s: HTTP %ld for /v2/_catalog", j->host, status) < 0 ? -ENOMEM : -EIO;
                else if (catalog_parse_page(strempty(page.data), &j->repos, &j->n) < 0)
                        r = asprintf(&j->error, "%s: the catalog is not {\"repositories\": [...]}", j->host) < 0 ? -ENOMEM : -EBADMSG;
                free(page.data);
                free(path);
                path = page.next;
                if (r < 0)
                        break;
        }
        curl_easy_cleanup(c);
        return r;
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
