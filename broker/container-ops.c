/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A daemon-wide cap on container lifecycle calls in flight (zlayerd
 * --max-concurrent-ops, default 64). Counted from admission to the reply:
 * CreateContainer while it waits for its pull, StartContainer until the
 * entrypoint runs, StopContainer until the exit, KillContainer until
 * zlayer-exec sent the signal, RemoveContainer until the deletion. Each
 * holds the caller's message and a worker round trip, a timer or a pull;
 * one call over the cap is Busy naming the call and the limit, and nothing
 * of it has been done. Calls answered at once (a stop of a stopped
 * container, every error) never count. Pulls, execs, archive operations,
 * log streams and waits have limits of their own. */
#include "container.h"
#include "errors.h"
#include "log.h"

static unsigned ops_max(const Broker *b) {
        return b->opts.max_concurrent_ops > 0 ? b->opts.max_concurrent_ops : ZL_DEFAULT_MAX_CONCURRENT_OPS;
}

int container_ops_admit(Broker *b, const char *method, const char *id, sd_bus_error *error) {
        if (b->n_container_ops < ops_max(b))
                return 0;
        log_info("%s '%s' refused: %u container operations in flight.", method, id, b->n_container_ops);
        return sd_bus_error_setf(error, ZL_ERROR_BUSY,
                                 "%s '%s' refused: %u container operations are in flight (--max-concurrent-ops=%u)",
                                 method, id, b->n_container_ops, ops_max(b));
}

void container_ops_hold(Broker *b) {
        if (b)
                b->n_container_ops++;
}

void container_ops_release(Broker *b) {
        if (b && b->n_container_ops > 0)
                b->n_container_ops--;
}
