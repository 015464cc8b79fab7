/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exec latency harness for bench/exec-latency.
 *
 *   exec-latency --bus=ADDRESS --id=CONTAINER [--runs=N] [--warmup=N]
 *       times Manager.Exec(id, ["/bin/true"]) through com.zlayer.Runtime1,
 *       call to reply (the exit code and output come with the reply).
 *
 * Prints a human summary on stderr and, like bench/latency.c, one line on
 * stdout: RESULT <runs> <median_us> <p95_us> <min_us> <max_us>
 * Exit status 1 naming the failing call when a run fails. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "bench-bus.h"

static int exec_true(sd_bus *bus, const char *id) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int32_t code = -1;
        int r;

        r = sd_bus_call_method(bus, "com.zlayer.Runtime1", "/com/zlayer/Runtime1", "com.zlayer.Runtime1.Manager",
                               "Exec", &error, &reply, "sas", id, 1, "/bin/true");
        if (r >= 0)
                r = sd_bus_message_read(reply, "i", &code);
        if (r < 0 || code != 0)
                fprintf(stderr, "exec-latency: Exec /bin/true in %s: %s (exit code %d)\n", id,
                        error.message ?: strerror(-r), (int) code);
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        return r < 0 ? r : code != 0 ? -EIO : 0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "bus", required_argument, NULL, 'b' },
                { "id", required_argument, NULL, 'i' },
                { "runs", required_argument, NULL, 'r' },
                { "warmup", required_argument, NULL, 'w' },
                {}
        };
        const char *address = NULL, *id = NULL;
        int runs = 100, warmup = 3, c, r;
        sd_bus *bus = NULL;
        uint64_t *t;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'b': address = optarg; break;
                case 'i': id = optarg; break;
                case 'r': runs = atoi(optarg); break;
                case 'w': warmup = atoi(optarg); break;
                default: return 2;
                }
        if (!address || !id || runs < 1 || warmup < 0) {
                fprintf(stderr, "usage: exec-latency --bus=ADDRESS --id=CONTAINER [--runs=N] [--warmup=N]\n");
                return 2;
        }
        r = bench_bus_open(address, &bus);
        if (r < 0) {
                fprintf(stderr, "exec-latency: connecting to %s: %s\n", address, strerror(-r));
                return 1;
        }
        for (int i = 0; i < warmup; i++)
                if (exec_true(bus, id) < 0)
                        return 1;
        t = calloc((size_t) runs, sizeof(*t));
        if (!t)
                return 1;
        for (int i = 0; i < runs; i++) {
                uint64_t start = bench_now_usec();
                if (exec_true(bus, id) < 0)
                        return 1;
                t[i] = bench_now_usec() - start;
        }
        qsort(t, (size_t) runs, sizeof(*t), bench_cmp_u64);
        uint64_t median = t[runs / 2], p95 = t[(runs * 95 + 99) / 100 - 1];
        fprintf(stderr, "Exec /bin/true: %d runs, median %.2f ms, p95 %.2f ms\n", runs, median / 1000.0, p95 / 1000.0);
        printf("RESULT %d %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", runs, median, p95, t[0], t[runs - 1]);
        free(t);
        sd_bus_unref(bus);
        return 0;
}
