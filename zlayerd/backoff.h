/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Restart delay of one supervised child (docs/internals.md): 100 ms,
 * doubling up to 10 s; a child that stayed up for 30 s starts over at
 * 100 ms. Pure arithmetic so it can be unit-tested without processes. */

#define BACKOFF_MIN_USEC (100ULL * 1000ULL)
#define BACKOFF_MAX_USEC (10ULL * 1000ULL * 1000ULL)
#define BACKOFF_RESET_UPTIME_USEC (30ULL * 1000ULL * 1000ULL)

typedef struct Backoff {
        uint64_t last_usec; /* the delay handed out last time, 0 = none yet */
} Backoff;

/* The delay before restarting a child that ran for @uptime_usec. Updates @b. */
uint64_t backoff_next(Backoff *b, uint64_t uptime_usec);

/* True when the last delay handed out was the maximum, i.e. the child
 * keeps crashing. */
bool backoff_at_max(const Backoff *b);
