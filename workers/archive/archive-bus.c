/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <systemd/sd-bus.h>

#include "archive-bus.h"
#include "errors.h"
#include "ids.h"
#include "layer-unpack.h"
#include "log.h"

static const char *unpack_error_name(int r) {
        switch (r) {
        case -EINVAL:
                return SD_BUS_ERROR_INVALID_ARGS;
        case -EBADMSG:
        case -EFBIG:
        case -E2BIG:
                /* The layer itself is bad: the image cannot be pulled. */
                return ZL_ERROR_PULL_FAILED;
        default:
                return ZL_ERROR_INTERNAL;
        }
}

static int method_unpack_layer(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *message = NULL;
        const char *chain_id, *diff_id;
        int blob_fd, layers_fd, r;
        uint64_t size = 0;

        r = sd_bus_message_read(m, "hhss", &blob_fd, &layers_fd, &chain_id, &diff_id);
        if (r < 0)
                return r;

        /* The broker validated these already; we trust only ourselves. */
        if (!digest_is_valid(chain_id))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid chain id: %.100s", chain_id);
        if (!digest_is_valid(diff_id))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid diff id: %.100s", diff_id);

        log_info("Unpacking layer %s (diff %s)", chain_id, diff_id);

        /* Synchronous on purpose: zlayer-archive is a dedicated process that
         * serves one request at a time, and nothing else waits on its loop.
         * The broker's call simply takes as long as the unpack does. */
        r = layer_unpack(blob_fd, layers_fd, chain_id, diff_id, &size, &message);
        if (r < 0) {
                log_error_errno(r, "Unpacking layer %s failed: %s", chain_id, strempty(message));
                return sd_bus_error_setf(error, unpack_error_name(r), "%s",
                                         message ? message : strerror(-r));
        }

        log_info("Unpacked layer %s, %llu bytes", chain_id, (unsigned long long) size);
        return sd_bus_reply_method_return(m, "t", size);
}

static const sd_bus_vtable archive_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_NAMES("UnpackLayer", "hhss",
                                 SD_BUS_PARAM(blob) SD_BUS_PARAM(layers_dir) SD_BUS_PARAM(chain_id) SD_BUS_PARAM(diff_id),
                                 "t", SD_BUS_PARAM(size),
                                 method_unpack_layer, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int archive_bus_add_object(sd_bus *bus) {
        return sd_bus_add_object_vtable(bus, NULL, ZL_WORKER_PATH, ZL_ARCHIVE_IFACE, archive_vtable, NULL);
}
