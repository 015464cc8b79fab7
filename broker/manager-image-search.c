/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SearchImages. There is no Docker Hub here. A term `HOST[:PORT]/TEXT`
 * searches that registry (TEXT may be empty: every repository); a term
 * without a host searches the registries of `zlayerd --search-registry`,
 * in the order given, as podman does with registries.conf's
 * unqualified-search-registries. zlayer-puller lists each registry's
 * /v2/_catalog (Puller1.Catalog, one registry after the other); the broker
 * keeps the repositories whose name contains TEXT, as
 * `HOST[:PORT]/REPOSITORY`, at most `limit` over all of them. A registry
 * that fails is skipped with a warning when another one answers; when none
 * does, the first error is the reply. The catalog has no descriptions,
 * stars or flags: they are "", 0, false, false. */
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "log.h"
#include "manager-image-io.h"
#include "reference.h"
#include "worker-links.h"

#define SEARCH_CALL_USEC (120 * USEC_PER_SEC)
#define SEARCH_TERM_MAX 512

typedef struct SearchOp {
        Broker *broker;
        sd_bus_message *call;
        const char *hosts[ZL_SEARCH_REGISTRIES_MAX]; /* the term's (host_buf) or the broker's options */
        unsigned n_hosts, next;
        char *host_buf, *text;
        uint32_t limit;
        sd_bus_message *reply;  /* the results so far, an open a(ssubb) */
        uint32_t n_results;
        unsigned n_answered;
        sd_bus_error first_error;
} SearchOp;

static void search_op_free(SearchOp *op) {
        sd_bus_message_unref(op->call);
        sd_bus_message_unref(op->reply);
        sd_bus_error_free(&op->first_error);
        free(op->host_buf);
        free(op->text);
        free(op);
}

static bool search_op_full(const SearchOp *op) {
        return op->limit > 0 && op->n_results >= op->limit;
}

/* Replies and frees @op: the results when a registry answered, else the
 * first error. */
static void search_finish(SearchOp *op) {
        int r;

        if (op->n_answered == 0) {
                (void) reply_forward_error(op->call, &op->first_error);
                search_op_free(op);
                return;
        }
        r = sd_bus_message_close_container(op->reply);
        if (r >= 0)
                r = sd_bus_send(NULL, op->reply, NULL);
        if (r < 0)
                (void) reply_error_errnof(op->call, ZL_ERROR_INTERNAL, "SearchImages: %s", strerror(-r));
        search_op_free(op);
}

static void search_failed(SearchOp *op, const sd_bus_error *e) {
        const char *host = op->hosts[op->next];

        if (op->n_hosts > 1)
                log_warning("SearchImages: skipping registry %s: %s", host, e->message ?: e->name);
        if (!sd_bus_error_is_set(&op->first_error))
                (void) sd_bus_error_copy(&op->first_error, e);
}

static void search_next(SearchOp *op);

static int on_catalog_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_strv_free_ char **repos = NULL;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        SearchOp *op = userdata;
        const char *host = op->hosts[op->next];
        int r = 0;

        if (e)
                search_failed(op, e);
        else {
                r = sd_bus_message_read_strv(reply, &repos);
                for (char **i = repos; r >= 0 && i && *i && !search_op_full(op); i++) {
                        _cleanup_free_ char *name = NULL;
                        if (!strcasestr(*i, op->text))
                                continue;
                        if (asprintf(&name, "%s/%s", host, *i) < 0) {
                                r = -ENOMEM;
                                break;
                        }
                        r = sd_bus_message_append(op->reply, "(ssubb)", name, "", 0, 0, 0);
                        op->n_results++;
                }
                if (r < 0) {
                        (void) reply_error_errnof(op->call, ZL_ERROR_INTERNAL, "SearchImages on %s: %s", host,
                                                  strerror(-r));
                        search_op_free(op);
                        return 0;
                }
                op->n_answered++;
        }
        op->next++;
        search_next(op);
        return 0;
}

static void catalog_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        SearchOp *op = userdata;
        int r = error < 0 ? error : -ENOTCONN;

        if (link) {
                r = sd_bus_message_new_method_call(link, &m, NULL, ZL_WORKER_PATH, ZL_PULLER_IFACE, "Catalog");
                if (r >= 0)
                        r = sd_bus_message_append(m, "sa{sv}", op->hosts[op->next], 0);
                if (r >= 0)
                        r = sd_bus_call_async(link, NULL, m, on_catalog_reply, op, SEARCH_CALL_USEC);
                if (r >= 0)
                        return;
        }
        (void) sd_bus_error_setf(&e, ZL_ERROR_INTERNAL, "SearchImages on %s: worker puller is not available: %s",
                                 op->hosts[op->next], strerror(-r));
        search_failed(op, &e);
        op->next++;
        search_next(op);
}

/* The next registry's catalog, or the reply when all were asked or the
 * limit is reached. */
static void search_next(SearchOp *op) {
        int r;

        if (op->next >= op->n_hosts || search_op_full(op)) {
                search_finish(op);
                return;
        }
        r = worker_acquire(op->broker, WORKER_PULLER, catalog_with_link, op);
        if (r < 0) {
                (void) reply_error_errnof(op->call, ZL_ERROR_INTERNAL, "SearchImages: %s", strerror(-r));
                search_op_free(op);
        }
}

/* "host[:port]/text" → host and text; the host as reference.c tells one
 * (a '.' or ':' in it, or "localhost"). -ENOENT when the term names no
 * host: all of it is the text. */
static int search_term_split(const char *term, char **ret_host, char **ret_text) {
        size_t n = strcspn(term, "/");
        _cleanup_free_ char *host = strndup(term, n);

        if (!host)
                return -ENOMEM;
        if (!term[n] || (!strpbrk(host, ".:") && !streq(host, "localhost")))
                return -ENOENT;
        if (!registry_host_is_valid(host))
                return -EINVAL;
        *ret_text = strdup(term + n + 1);
        if (!*ret_text)
                return -ENOMEM;
        *ret_host = TAKE_PTR(host);
        return 0;
}

int method_search_images(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *host = NULL, *text = NULL;
        Broker *b = userdata;
        const char *term;
        uint32_t limit;
        SearchOp *op;
        int r;

        r = sd_bus_message_read(m, "su", &term, &limit);
        if (r < 0)
                return r;
        if (strlen(term) > SEARCH_TERM_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "search term is longer than %d bytes",
                                         SEARCH_TERM_MAX);
        r = search_term_split(term, &host, &text);
        if (r == -EINVAL)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "search term '%s' does not start with a valid registry HOST[:PORT]", term);
        if (r == -ENOENT) {
                if (b->opts.n_search_registries == 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "search term '%s' names no registry and none is configured: use HOST[:PORT]/TEXT, or start zlayerd with --search-registry=HOST[:PORT]",
                                                 term);
                text = strdup(term);
                if (!text)
                        return -ENOMEM;
        } else if (r < 0)
                return r;
        r = authz_verify(b, m, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->broker = b;
        op->call = sd_bus_message_ref(m);
        op->first_error = SD_BUS_ERROR_NULL;
        op->text = TAKE_PTR(text);
        op->limit = limit;
        if (host) {
                op->host_buf = TAKE_PTR(host);
                op->hosts[0] = op->host_buf;
                op->n_hosts = 1;
        } else {
                memcpy(op->hosts, b->opts.search_registries, sizeof(op->hosts));
                op->n_hosts = b->opts.n_search_registries;
        }
        r = sd_bus_message_new_method_return(m, &op->reply);
        if (r >= 0)
                r = sd_bus_message_open_container(op->reply, 'a', "(ssubb)");
        if (r < 0) {
                search_op_free(op);
                return r;
        }
        search_next(op);
        return 1;
}
