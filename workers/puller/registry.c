/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "config.h"
#include "digest.h"
#include "log.h"
#include "macro.h"
#include "reference.h"
#include "registry.h"

/* A registry that does not answer at all is given up on within 30 s:
 * 10 s to connect, then less than 1 byte/s for 20 s aborts. */
#define CONNECT_TIMEOUT_SEC 10L
#define LOW_SPEED_LIMIT 1L
#define LOW_SPEED_TIME_SEC 20L
#define MAX_REDIRECTS 5L
/* A connection that drops mid-body is resumed with a Range request, this
 * many times per GET, after a short pause (a registry that restarts). */
#define RESUME_MAX 3U
#define RESUME_PAUSE_USEC (500 * 1000U)
#define ERROR_BODY_MAX (64U * 1024U)
#define TOKEN_BODY_MAX (1024U * 1024U)

struct Registry {
        char *host;
        char *repository;
        char *base_url;
        char *username;
        char *password;
        char *bearer;
        char *bearer_key;       /* its token cache key */
        char *scope;            /* what we ask a token service for when its challenge names nothing */
        bool insecure;
        atomic_bool *cancel;
        atomic_bool *abort;     /* a sibling transfer of the same pull failed */
        CURL *curl;
        char errbuf[CURL_ERROR_SIZE];
};

typedef struct Transfer {
        Registry *registry;
        RegistrySink sink;
        void *userdata;
        int sink_error;
        uint64_t delivered;     /* body bytes handed to the sink, over every attempt */
        RegistryBuffer error_body;
} Transfer;

_printf_(2, 3)
static void set_error(char **ret_error, const char *fmt, ...) {
        va_list ap;

        if (!ret_error)
                return;
        free(*ret_error);
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
}

void registry_response_done(RegistryResponse *r) {
        free(r->content_type);
        free(r->content_digest);
        free(r->link);
        *r = (RegistryResponse) {};
}

void registry_buffer_done(RegistryBuffer *b) {
        free(b->data);
        b->data = NULL;
        b->len = 0;
}

int registry_buffer_sink(const void *data, size_t len, void *userdata) {
        RegistryBuffer *b = userdata;
        char *p;

        if (len > b->max || b->len > b->max - len)
                return -EFBIG;
        p = realloc(b->data, b->len + len + 1);
        if (!p)
                return -ENOMEM;
        memcpy(p + b->len, data, len);
        b->len += len;
        p[b->len] = 0;
        b->data = p;
        return 0;
}

Registry *registry_free(Registry *r) {
        if (!r)
                return NULL;
        if (r->curl)
                curl_easy_cleanup(r->curl);
        free(r->host);
        free(r->repository);
        free(r->base_url);
        free(r->username);
        if (r->password) {
                explicit_bzero(r->password, strlen(r->password));
                free(r->password);
        }
        free(r->bearer);
        free(r->bearer_key);
        free(r->scope);
        free(r);
        return NULL;
}

/* Tokens by host, scope and user, until they expire (expires_in, else
 * 60 s as the distribution spec says), shared by the pulls and download
 * threads of this process: a pull of a repository we have a token for asks
 * the token service nothing. A token the registry refuses is dropped and
 * the challenge answered afresh. */
#define TOKEN_CACHE_MAX 32U
#define TOKEN_DEFAULT_LIFETIME_SEC 60
#define TOKEN_MARGIN_SEC 5

typedef struct CachedToken {
        char *key;
        char *header;
        uint64_t expires_usec;
} CachedToken;

static pthread_mutex_t token_lock = PTHREAD_MUTEX_INITIALIZER;
static CachedToken token_cache[TOKEN_CACHE_MAX];

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* The credentials are part of the key (hashed: the key is no secret), so
 * that a token is only ever reused for the credentials that got it. */
static char *token_key(const Registry *r, const char *scope) {
        _cleanup_free_ char *cred = NULL;
        char who[72] = "anonymous";
        char *k;

        if (r->username) {
                if (asprintf(&cred, "%s:%s", r->username, strempty(r->password)) < 0)
                        return NULL;
                if (sha256_digest(cred, strlen(cred), who) < 0)
                        return NULL;
                explicit_bzero(cred, strlen(cred));
        }
        if (asprintf(&k, "%s %s %s", r->host, scope, who) < 0)
                return NULL;
        return k;
}

static char *token_cache_get(const char *key) {
        char *h = NULL;

        pthread_mutex_lock(&token_lock);
        for (size_t i = 0; i < TOKEN_CACHE_MAX; i++)
                if (token_cache[i].key && streq(token_cache[i].key, key) && now_usec() < token_cache[i].expires_usec) {
                        h = strdup(token_cache[i].header);
                        break;
                }
        pthread_mutex_unlock(&token_lock);
        return h;
}

static void token_cache_drop_locked(size_t i) {
        free(token_cache[i].key);
        if (token_cache[i].header) {
                explicit_bzero(token_cache[i].header, strlen(token_cache[i].header));
                free(token_cache[i].header);
        }
        token_cache[i] = (CachedToken) {};
}

static void token_cache_drop(const char *key) {
        pthread_mutex_lock(&token_lock);
        for (size_t i = 0; i < TOKEN_CACHE_MAX; i++)
                if (token_cache[i].key && streq(token_cache[i].key, key))
                        token_cache_drop_locked(i);
        pthread_mutex_unlock(&token_lock);
}

static void token_cache_put(const char *key, const char *header, int64_t lifetime_sec) {
        size_t slot = 0;
        uint64_t now = now_usec();

        if (lifetime_sec <= TOKEN_MARGIN_SEC)
                return;
        pthread_mutex_lock(&token_lock);
        /* The same key, else a free or expired slot, else the one expiring first. */
        for (size_t i = 0; i < TOKEN_CACHE_MAX; i++) {
                if (token_cache[i].key && streq(token_cache[i].key, key)) {
                        slot = i;
                        break;
                }
                if (!token_cache[i].key || token_cache[i].expires_usec <= now ||
                    (token_cache[slot].key && token_cache[i].expires_usec < token_cache[slot].expires_usec))
                        slot = i;
        }
        token_cache_drop_locked(slot);
        token_cache[slot].key = strdup(key);
        token_cache[slot].header = strdup(header);
        token_cache[slot].expires_usec = now + (uint64_t) (lifetime_sec - TOKEN_MARGIN_SEC) * 1000000ULL;
        if (!token_cache[slot].key || !token_cache[slot].header)
                token_cache_drop_locked(slot);
        pthread_mutex_unlock(&token_lock);
}

/* @scope NULL: the scope of a pull of @repository. */
static int registry_new_scoped(const char *host, const char *repository, const char *scope, const char *username,
                               const char *password, bool insecure, atomic_bool *cancel, Registry **ret) {
        _cleanup_(registry_freep) Registry *r = NULL;
        bool plain_http = insecure || registry_host_is_loopback(host);

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->cancel = cancel;
        r->insecure = insecure;
        r->host = strdup(host);
        r->repository = strdup(repository);
        if (!r->host || !r->repository)
                return -ENOMEM;
        /* Docker Hub's API lives on another host than its name. */
        if (asprintf(&r->base_url, "%s://%s", plain_http ? "http" : "https",
                     streq(host, "docker.io") ? "registry-1.docker.io" : host) < 0)
                return -ENOMEM;
        if (!isempty(username)) {
                r->username = strdup(username);
                r->password = strdup(strempty(password));
                if (!r->username || !r->password)
                        return -ENOMEM;
        }
        r->curl = curl_easy_init();
        if (!r->curl)
                return -ENOMEM;
        /* The scope registries ask for when pulling. */
        if (scope ? !(r->scope = strdup(scope)) : asprintf(&r->scope, "repository:%s:pull", repository) < 0) {
                r->scope = NULL;
                return -ENOMEM;
        }
        r->bearer_key = token_key(r, r->scope);
        if (!r->bearer_key)
                return -ENOMEM;
        r->bearer = token_cache_get(r->bearer_key);
        if (r->bearer)
                log_debug("Using a cached token for %s.", r->bearer_key);
        *ret = TAKE_PTR(r);
        return 0;
}

int registry_new(const char *host, const char *repository, const char *username, const char *password,
                 bool insecure, atomic_bool *cancel, Registry **ret) {
        return registry_new_scoped(host, repository, NULL, username, password, insecure, cancel, ret);
}

int registry_new_catalog(const char *host, const char *username, const char *password, bool insecure,
                         Registry **ret) {
        return registry_new_scoped(host, "_catalog", "registry:catalog:*", username, password, insecure, NULL, ret);
}

int registry_clone(const Registry *r, atomic_bool *abort, Registry **ret) {
        _cleanup_(registry_freep) Registry *c = NULL;
        int k;

        k = registry_new_scoped(r->host, r->repository, r->scope, r->username, r->password, r->insecure, r->cancel,
                                &c);
        if (k < 0)
                return k;
        c->abort = abort;
        free(c->bearer);
        c->bearer = NULL;
        if (r->bearer && !(c->bearer = strdup(r->bearer)))
                return -ENOMEM;
        free(c->bearer_key);
        if (!(c->bearer_key = strdup(r->bearer_key)))
                return -ENOMEM;
        *ret = TAKE_PTR(c);
        return 0;
}

const char *registry_host(const Registry *r) {
        return r->host;
}

static size_t write_callback(char *ptr, size_t size, size_t nmemb, void *userdata) {
        Transfer *t = userdata;
        size_t n = size * nmemb;
        long status = 0;
        int r;

        curl_easy_getinfo(t->registry->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300) {
                if (!t->sink)
                        return n;
                r = t->sink(ptr, n, t->userdata);
                if (r < 0) {
                        t->sink_error = r;
                        return 0;
                }
                t->delivered += n;
                return n;
        }
        /* Error bodies only serve the message; keep their beginning. */
        size_t room = t->error_body.max - t->error_body.len;
        if (room > 0)
                (void) registry_buffer_sink(ptr, MIN(n, room), &t->error_body);
        return n;
}

static int progress_callback(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                             curl_off_t ulnow) {
        Registry *r = userdata;

        return (r->cancel && atomic_load(r->cancel)) || (r->abort && atomic_load(r->abort)) ? 1 : 0;
}

static void setup_common(Registry *r, const char *url, Transfer *t) {
        CURL *c = r->curl;

        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_SEC);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_LIMIT);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_SEC);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_USERAGENT, "zlayer/" ZL_VERSION);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->errbuf);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_callback);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_callback);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, r);
        r->errbuf[0] = 0;
}

static void set_basic_auth(Registry *r) {
        if (!r->username)
                return;
        /* Sent up front; curl does not repeat it to another host on redirect. */
        curl_easy_setopt(r->curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
        curl_easy_setopt(r->curl, CURLOPT_USERNAME, r->username);
        curl_easy_setopt(r->curl, CURLOPT_PASSWORD, r->password);
}

/* Reports a transfer that did not complete; returns the classification. */
static int transfer_failed(Registry *r, CURLcode code, Transfer *t, char **ret_error) {
        if (t->sink_error < 0)
                return t->sink_error;
        if (code == CURLE_ABORTED_BY_CALLBACK && r->cancel && atomic_load(r->cancel)) {
                set_error(ret_error, "%s: pull canceled", r->host);
                return -ECANCELED;
        }
        set_error(ret_error, "%s: %s", r->host, curl_easy_strerror(code));
        log_debug("%s: %s", r->host, r->errbuf[0] ? r->errbuf : curl_easy_strerror(code));
        return -EIO;
}

int registry_parse_bearer_challenge(const char *header, char **ret_realm, char **ret_service, char **ret_scope) {
        _cleanup_free_ char *realm = NULL, *service = NULL, *scope = NULL;
        const char *p = header;

        if (!p || strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
                return -EINVAL;
        p += 6;
        for (;;) {
                char key[32], *value;
                size_t n;

                p += strspn(p, " \t,");
                if (!*p)
                        break;
                n = strcspn(p, "= \t");
                if (p[n] != '=' || n == 0 || n >= sizeof(key))
                        return -EINVAL;
                memcpy(key, p, n);
                key[n] = 0;
                p += n + 1;
                if (*p == '"') {
                        const char *end = strchr(p + 1, '"');
                        if (!end)
                                return -EINVAL;
                        value = strndup(p + 1, end - p - 1);
                        p = end + 1;
                } else {
                        n = strcspn(p, ",");
                        value = strndup(p, n);
                        p += n;
                }
                if (!value)
                        return -ENOMEM;
                char **slot = strcasecmp(key, "realm") == 0   ? &realm :
                              strcasecmp(key, "service") == 0 ? &service :
                              strcasecmp(key, "scope") == 0   ? &scope : NULL;
                if (slot) {
                        free(*slot);
                        *slot = value;
                } else
                        free(value);
        }
        if (isempty(realm))
                return -EINVAL;
        *ret_realm = TAKE_PTR(realm);
        *ret_service = TAKE_PTR(service);
        *ret_scope = TAKE_PTR(scope);
        return 0;
}

static char *error_body_message(const RegistryBuffer *b) {
        json_object *root, *errors, *first, *msg;
        char *m = NULL;

        if (!b->data)
                return NULL;
        root = json_tokener_parse(b->data);
        if (root && json_object_object_get_ex(root, "errors", &errors) &&
            json_object_is_type(errors, json_type_array) && json_object_array_length(errors) > 0 &&
            (first = json_object_array_get_idx(errors, 0)) &&
            json_object_object_get_ex(first, "message", &msg) && json_object_is_type(msg, json_type_string))
                m = strdup(json_object_get_string(msg));
        json_object_put(root);
        return m;
}

/* Gets a token from the realm of a Bearer challenge, with our Basic
 * credentials when we have some. */
static int fetch_token(Registry *r, const char *challenge, char **ret_error) {
        _cleanup_free_ char *realm = NULL, *service = NULL, *scope = NULL, *url = NULL;
        Transfer t = { .registry = r, .error_body.max = ERROR_BODY_MAX };
        RegistryBuffer body = { .max = TOKEN_BODY_MAX };
        json_object *root = NULL, *v;
        CURLcode code;
        long status = 0;
        int k;

        k = registry_parse_bearer_challenge(challenge, &realm, &service, &scope);
        if (k < 0) {
                set_error(ret_error, "%s: cannot parse authentication challenge \"%s\"", r->host, challenge);
                return -EIO;
        }
        free(r->bearer);
        r->bearer = NULL;
        free(r->bearer_key);
        r->bearer_key = token_key(r, scope ?: r->scope);
        if (!r->bearer_key)
                return -ENOMEM;
        r->bearer = token_cache_get(r->bearer_key);
        if (r->bearer) {
                log_debug("Using a cached token for %s.", r->bearer_key);
                return 0;
        }

        char *esc_service = service ? curl_easy_escape(r->curl, service, 0) : NULL;
        char *esc_scope = curl_easy_escape(r->curl, scope ?: r->scope, 0);
        k = asprintf(&url, "%s%s%s%s%sscope=%s", realm, strchr(realm, '?') ? "&" : "?",
                     esc_service ? "service=" : "", strempty(esc_service), esc_service ? "&" : "",
                     strempty(esc_scope));
        curl_free(esc_service);
        curl_free(esc_scope);
        if (k < 0)
                return -ENOMEM;

        t.sink = registry_buffer_sink;
        t.userdata = &body;
        setup_common(r, url, &t);
        set_basic_auth(r);
        code = curl_easy_perform(r->curl);
        if (code != CURLE_OK) {
                k = transfer_failed(r, code, &t, ret_error);
                if (k == -EFBIG) {
                        set_error(ret_error, "%s: token response larger than %u bytes", r->host, TOKEN_BODY_MAX);
                        k = -EIO;
                }
                goto finish;
        }
        curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status == 401 || status == 403) {
                set_error(ret_error, "%s: token service %s refused %s", r->host, realm,
                          r->username ? "the credentials" : "anonymous access");
                k = -EACCES;
                goto finish;
        }
        if (status < 200 || status >= 300) {
                set_error(ret_error, "%s: token service %s answered HTTP %ld", r->host, realm, status);
                k = -EIO;
                goto finish;
        }

        root = body.data ? json_tokener_parse(body.data) : NULL;
        if (!root || !((json_object_object_get_ex(root, "token", &v) && json_object_is_type(v, json_type_string)) ||
                       (json_object_object_get_ex(root, "access_token", &v) && json_object_is_type(v, json_type_string)))) {
                set_error(ret_error, "%s: token service %s sent no token", r->host, realm);
                k = -EIO;
                goto finish;
        }
        if (asprintf(&r->bearer, "Authorization: Bearer %s", json_object_get_string(v)) < 0) {
                r->bearer = NULL;
                k = -ENOMEM;
                goto finish;
        }
        {
                json_object *e;
                int64_t lifetime = TOKEN_DEFAULT_LIFETIME_SEC;
                if (json_object_object_get_ex(root, "expires_in", &e) && json_object_is_type(e, json_type_int))
                        lifetime = json_object_get_int64(e);
                token_cache_put(r->bearer_key, r->bearer, lifetime);
        }
        k = 0;
finish:
        json_object_put(root);
        registry_buffer_done(&body);
        registry_buffer_done(&t.error_body);
        return k;
}

static char *header_value(CURL *c, const char *name, const char *prefix) {
        struct curl_header *h;

        /* The last response of a redirect chain; the first matching value. */
        for (size_t i = 0; curl_easy_header(c, name, i, CURLH_HEADER, -1, &h) == CURLHE_OK; i++)
                if (!prefix || strncasecmp(h->value, prefix, strlen(prefix)) == 0)
                        return strdup(h->value);
        return NULL;
}

static int build_headers(Registry *r, const char *accept_header, struct curl_slist **ret) {
        struct curl_slist *headers = NULL, *l;

        if (accept_header) {
                l = curl_slist_append(headers, accept_header);
                if (!l)
                        goto oom;
                headers = l;
        }
        if (r->bearer) {
                l = curl_slist_append(headers, r->bearer);
                if (!l)
                        goto oom;
                headers = l;
        } else
                set_basic_auth(r);
        *ret = headers;
        return 0;
oom:
        curl_slist_free_all(headers);
        return -ENOMEM;
}

/* A transfer that broke off on the wire, as opposed to one the other side
 * refused or we aborted: worth resuming. */
static bool code_is_resumable(CURLcode code) {
        return code == CURLE_PARTIAL_FILE || code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR ||
               code == CURLE_GOT_NOTHING || code == CURLE_COULDNT_CONNECT || code == CURLE_HTTP2_STREAM;
}

static bool registry_canceled(Registry *r) {
        return (r->cancel && atomic_load(r->cancel)) || (r->abort && atomic_load(r->abort));
}

/* GET BASE@path; messages call it @what. */
static int get(Registry *r, const char *path, const char *what, const char *accept, RegistrySink sink,
               void *userdata, RegistryResponse *ret, char **ret_error) {
        _cleanup_free_ char *url = NULL, *accept_header = NULL;
        uint64_t delivered = 0;
        unsigned auth_attempts = 0, resumes = 0;
        long status = 0;
        int k;

        if (asprintf(&url, "%s%s", r->base_url, path) < 0)
                return -ENOMEM;
        if (accept && asprintf(&accept_header, "Accept: %s", accept) < 0)
                return -ENOMEM;

        for (;;) {
                Transfer t = { .registry = r, .sink = sink, .userdata = userdata, .error_body.max = ERROR_BODY_MAX };
                struct curl_slist *headers = NULL;
                CURLcode code;

                setup_common(r, url, &t);
                k = build_headers(r, accept_header, &headers);
                if (k < 0)
                        return k;
                curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, headers);
                if (delivered > 0)
                        curl_easy_setopt(r->curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t) delivered);

                log_debug("GET %s (from byte %" PRIu64 ")", url, delivered);
                code = curl_easy_perform(r->curl);
                curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, NULL);
                curl_slist_free_all(headers);
                status = 0;
                curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
                delivered += t.delivered;
                if (code != CURLE_OK) {
                        registry_buffer_done(&t.error_body);
                        if (t.sink_error >= 0 && code_is_resumable(code) && resumes < RESUME_MAX &&
                            !registry_canceled(r) && (status == 0 || (status >= 200 && status < 300))) {
                                resumes++;
                                log_info("%s: %s after %" PRIu64 " bytes of %s, resuming (%u of %u).", r->host,
                                         curl_easy_strerror(code), delivered, what, resumes, RESUME_MAX);
                                usleep(RESUME_PAUSE_USEC * resumes);
                                continue;
                        }
                        if (code == CURLE_RANGE_ERROR) {
                                set_error(ret_error, "%s: cannot resume %s after %" PRIu64 " bytes: the registry ignored the Range request",
                                          r->host, what, delivered);
                                return -EIO;
                        }
                        return transfer_failed(r, code, &t, ret_error);
                }

                log_debug("GET %s → HTTP %ld", url, status);
                if (delivered > t.delivered && status >= 200 && status < 300 && status != 206) {
                        /* We asked for the rest and got the whole or something else:
                         * the bytes already handed on cannot be taken back. */
                        registry_buffer_done(&t.error_body);
                        set_error(ret_error, "%s: cannot resume %s after %" PRIu64 " bytes: HTTP %ld instead of 206",
                                  r->host, what, delivered - t.delivered, status);
                        return -EIO;
                }
                if (status >= 200 && status < 300) {
                        registry_buffer_done(&t.error_body);
                        *ret = (RegistryResponse) {
                                .status = status,
                                .content_type = header_value(r->curl, "Content-Type", NULL),
                                .content_digest = header_value(r->curl, "Docker-Content-Digest", NULL),
                                .link = header_value(r->curl, "Link", NULL),
                        };
                        return 0;
                }

                _cleanup_free_ char *message = error_body_message(&t.error_body);
                registry_buffer_done(&t.error_body);

                if (status == 401 && auth_attempts++ == 0) {
                        _cleanup_free_ char *challenge = header_value(r->curl, "WWW-Authenticate", "Bearer");
                        /* A token we sent was refused (expired, revoked): not again. */
                        if (r->bearer && r->bearer_key)
                                token_cache_drop(r->bearer_key);
                        if (challenge) {
                                k = fetch_token(r, challenge, ret_error);
                                if (k < 0)
                                        return k;
                                continue;
                        }
                }

                switch (status) {
                case 401:
                        if (r->username)
                                set_error(ret_error, "%s: authentication as \"%s\" failed for %s", r->host,
                                          r->username, r->repository);
                        else
                                set_error(ret_error, "%s: %s requires authentication", r->host, r->repository);
                        return -EACCES;
                case 403:
                        set_error(ret_error, "%s: access to %s denied%s%s", r->host, r->repository,
                                  message ? ": " : "", strempty(message));
                        return -EACCES;
                case 404:
                        set_error(ret_error, "%s: %s", r->host, message ?: "not found");
                        return -ENOENT;
                default:
                        set_error(ret_error, "%s: HTTP %ld for %s%s%s", r->host, status, path,
                                  message ? ": " : "", strempty(message));
                        return -EIO;
                }
        }
}

int registry_get(Registry *r, const char *what, const char *accept, RegistrySink sink, void *userdata,
                 RegistryResponse *ret, char **ret_error) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "/v2/%s/%s", r->repository, what) < 0)
                return -ENOMEM;
        return get(r, path, what, accept, sink, userdata, ret, ret_error);
}

int registry_get_path(Registry *r, const char *path, const char *accept, RegistrySink sink, void *userdata,
                      RegistryResponse *ret, char **ret_error) {
        return get(r, path, path, accept, sink, userdata, ret, ret_error);
}
