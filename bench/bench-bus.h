/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the bench harnesses share (bench/latency.c, bench/exec-latency.c):
 * a client connection to zlayer's bus, a monotonic clock, sorting samples.
 * A header only: each harness stays one cc call of one .c file
 * (bench/run-latency, bench/exec-latency). */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>
#include <time.h>

/* A client of the bus daemon at @address, fds allowed (Exec and the
 * archive methods pass them). */
static inline int bench_bus_open(const char *address, sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_negotiate_fds(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return 0;
}

static inline uint64_t bench_now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* qsort() order of uint64_t samples. */
static inline int bench_cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}
