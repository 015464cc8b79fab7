/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SearchImages. There is no Docker Hub here: the term names the registry
 * to search, `HOST[:PORT]/TEXT` (TEXT may be empty: every repository);
 * zlayer-puller lists that registry's /v2/_catalog (Puller1.Catalog), and
 * the broker keeps the repositories whose name contains TEXT, as
 * `HOST[:PORT]/REPOSITORY`. The catalog has no descriptions, stars or
 * flags: they are "", 0, false, false. */
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "log.h"
#include "manager-image-io.h"
#include "worker-links.h"

#define SEARCH_CALL_USEC (120 * USEC_PER_SEC)
#define SEARCH_TERM_MAX 512

typedef struct SearchOp {
        sd_bus_message *call;
        char *host, *text;
        uint32_t limit;
} SearchOp;

static void search_op_free(SearchOp *op) {
        sd_bus_message_unref(op->call);
        free(op->host);
        free(op->text);
        free(op);
}

static int on_catalog_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_strv_free_ char **repos = NULL;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        SearchOp *op = userdata;
        uint32_t n = 0;
        int r;

        if (e) {
                (void) reply_forward_error(op->call, e);
                search_op_free(op);
                return 0;
        }
        r = sd_bus_message_read_strv(reply, &repos);
        if (r >= 0)
                r = sd_bus_message_new_method_return(op->call, &m);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(ssubb)");
        for (char **i = repos; r >= 0 && i && *i && (op->limit == 0 || n < op->limit); i++) {
                _cleanup_free_ char *name = NULL;
                if (!strcasestr(*i, op->text))
                        continue;
                if (asprintf(&name, "%s/%s", op->host, *i) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = sd_bus_message_append(m, "(ssubb)", name, "", 0, 0, 0);
                n++;
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_send(NULL, m, NULL);
        if (r < 0)
                (void) reply_error_errnof(op->call, ZL_ERROR_INTERNAL, "SearchImages on %s: %s", op->host, strerror(-r));
        search_op_free(op);
        return 0;
}

static void catalog_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        SearchOp *op = userdata;
        int r = error < 0 ? error : -ENOTCONN;

        if (link) {
                r = sd_bus_message_new_method_call(link, &m, NULL, ZL_WORKER_PATH, ZL_PULLER_IFACE, "Catalog");
                if (r >= 0)
                        r = sd_bus_message_append(m, "sa{sv}", op->host, 0);
                if (r >= 0)
                        r = sd_bus_call_async(link, NULL, m, on_catalog_reply, op, SEARCH_CALL_USEC);
                if (r >= 0)
                        return;
        }
        (void) reply_error_errnof(op->call, ZL_ERROR_INTERNAL, "SearchImages: worker puller is not available: %s",
                                  strerror(-r));
        search_op_free(op);
}

/* "host[:port]/text" → host and text; the host as reference.c tells one
 * (a '.' or ':' in it, or "localhost"). */
static int search_term_split(const char *term, char **ret_host, char **ret_text) {
        size_t n = strcspn(term, "/");
        _cleanup_free_ char *host = strndup(term, n);

        if (!host)
                return -ENOMEM;
        if (n == 0 || (!strpbrk(host, ".:") && !streq(host, "localhost")) ||
            host[strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789.-:[]")])
                return -EINVAL;
        *ret_text = strdup(term[n] ? term + n + 1 : "");
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
                                         "search term '%s' names no registry: use HOST[:PORT]/TEXT (there is no default registry)",
                                         term);
        if (r < 0)
                return r;
        r = authz_verify(b, m, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->call = sd_bus_message_ref(m);
        op->host = TAKE_PTR(host);
        op->text = TAKE_PTR(text);
        op->limit = limit;
        r = worker_acquire(b, WORKER_PULLER, catalog_with_link, op);
        if (r < 0) {
                search_op_free(op);
                return r;
        }
        return 1;
}
