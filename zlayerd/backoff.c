/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "backoff.h"

uint64_t backoff_next(Backoff *b, uint64_t uptime_usec) {
        uint64_t delay;

        /* A child that stayed up long enough was healthy: its death is a
         * new incident, not part of a crash loop. */
        if (uptime_usec >= BACKOFF_RESET_UPTIME_USEC || b->last_usec == 0)
                delay = BACKOFF_MIN_USEC;
        else if (b->last_usec >= BACKOFF_MAX_USEC / 2)
                delay = BACKOFF_MAX_USEC;
        else
                delay = b->last_usec * 2;

        b->last_usec = delay;
        return delay;
}

bool backoff_at_max(const Backoff *b) {
        return b->last_usec >= BACKOFF_MAX_USEC;
}
