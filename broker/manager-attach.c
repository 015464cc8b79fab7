/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* AttachContainer and ResizeContainerTTY: checks here (the container, the
 * caller's right, its state), the work in zlayer-exec and the shim
 * (docs/internals.md, "Attach"). The fd the shim made goes straight back to
 * the caller: the broker keeps nothing per attacher. */
#include <stdio.h>

#include "container.h"
#include "errors.h"
#include "log.h"
#include "manager-attach.h"
#include "worker-op.h"

typedef struct AttachCall {
        sd_bus_message *call;
        char *id;
        bool resize;
        uint16_t rows, cols;
} AttachCall;

static AttachCall *attach_call_free(AttachCall *ac) {
        if (!ac)
                return NULL;
        sd_bus_message_unref(ac->call);
        free(ac->id);
        free(ac);
        return NULL;
}

static int on_worker_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        AttachCall *ac = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        int fd, r;

        if (e)
                (void) reply_forward_error(ac->call, e);
        else if (ac->resize)
                (void) sd_bus_reply_method_return(ac->call, NULL);
        else {
                r = sd_bus_message_read(m, "h", &fd);
                if (r >= 0)
                        r = sd_bus_reply_method_return(ac->call, "h", fd);
                if (r < 0)
                        (void) reply_error_errnof(ac->call, ZL_ERROR_INTERNAL, "Attaching to %s: %s", ac->id,
                                                  strerror(-r));
        }
        attach_call_free(ac);
        return 0;
}

static void call_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *req = NULL;
        AttachCall *ac = userdata;
        int r;

        if (!link) {
                (void) reply_error_errnof(ac->call, ZL_ERROR_INTERNAL, "worker exec is not available");
                attach_call_free(ac);
                return;
        }
        r = sd_bus_message_new_method_call(link, &req, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE,
                                           ac->resize ? "Resize" : "Attach");
        if (r >= 0)
                r = sd_bus_message_append(req, "s", ac->id);
        if (r >= 0 && ac->resize)
                r = sd_bus_message_append(req, "qq", ac->rows, ac->cols);
        else if (r >= 0)
                r = message_copy_after_id(req, ac->call);
        if (r >= 0)
                r = sd_bus_call_async(link, NULL, req, on_worker_reply, ac, 0);
        if (r < 0) {
                (void) reply_error_errnof(ac->call, ZL_ERROR_INTERNAL, "Calling zlayer-exec for %s: %s", ac->id,
                                          strerror(-r));
                attach_call_free(ac);
        }
}

static int attach_begin(sd_bus_message *m, Broker *b, const char *id, bool resize, uint16_t rows, uint16_t cols,
                        sd_bus_error *error) {
        AttachCall *ac;
        Container *c;
        int r;

        r = container_method_check(b, m, id, CONTAINER_NEED_RUNNING, &c, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */
        ac = calloc(1, sizeof(*ac));
        if (!ac)
                return -ENOMEM;
        *ac = (AttachCall) { .call = sd_bus_message_ref(m), .id = strdup(c->id), .resize = resize, .rows = rows,
                             .cols = cols };
        if (!ac->id) {
                attach_call_free(ac);
                return -ENOMEM;
        }
        r = worker_acquire(b, WORKER_EXEC, call_with_link, ac);
        if (r < 0) {
                attach_call_free(ac);
                return r;
        }
        return 1;
}

int method_attach_container(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *id;
        int r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        return attach_begin(m, userdata, id, false, 0, 0, error);
}

int method_resize_container_tty(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        uint16_t rows, cols;
        const char *id;
        int r;

        r = sd_bus_message_read(m, "sqq", &id, &rows, &cols);
        if (r < 0)
                return r;
        if (rows == 0 || cols == 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid tty size %ux%u (rows x cols)",
                                         (unsigned) rows, (unsigned) cols);
        return attach_begin(m, userdata, id, true, rows, cols, error);
}
