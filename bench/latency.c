/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Latency harness for bench/run-latency.
 *
 *   latency zlayer --bus=ADDRESS --image=REF [--runs=N] [--warmup=N]
 *       times CreateContainer + StartContainer + WaitContainer +
 *       RemoveContainer of /bin/true through com.zlayer.Runtime1.
 *   latency exec [--runs=N] [--warmup=N] -- COMMAND [ARG…]
 *       times fork+exec+wait of COMMAND (podman run --rm …, runc run …).
 *
 * Prints a human summary on stderr and one line on stdout:
 *   RESULT <runs> <median_us> <p95_us> <min_us> <max_us>
 * Exit status 1 with a message naming the failing step when a run fails. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "bench-bus.h"

#define BUS_NAME "com.zlayer.Runtime1"
#define MANAGER_PATH "/com/zlayer/Runtime1"
#define MANAGER_IFACE "com.zlayer.Runtime1.Manager"
#define BENCH_SERVICE "zlbench"
#define CALL_TIMEOUT_USEC (60ULL * 1000000ULL)
#define MAX_RUNS 100000

enum { STEP_CREATE, STEP_START, STEP_WAIT, STEP_REMOVE, _STEP_MAX };
static const char *const step_names[_STEP_MAX] = { "CreateContainer", "StartContainer", "WaitContainer",
                                                   "RemoveContainer" };

/* Nearest-rank percentile of a sorted array. */
static uint64_t percentile(const uint64_t *sorted, size_t n, unsigned pct) {
        size_t rank = (pct * n + 99) / 100; /* ceil(pct/100 * n) */
        if (rank == 0)
                rank = 1;
        return sorted[rank - 1];
}

static uint64_t median(const uint64_t *sorted, size_t n) {
        return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

static void summarize(const char *what, uint64_t *v, size_t n, bool result_line) {
        qsort(v, n, sizeof(*v), bench_cmp_u64);
        fprintf(stderr, "%-18s n=%zu median %.2f ms  p95 %.2f ms  min %.2f ms  max %.2f ms\n", what, n,
                median(v, n) / 1000.0, percentile(v, n, 95) / 1000.0, v[0] / 1000.0, v[n - 1] / 1000.0);
        if (result_line)
                printf("RESULT %zu %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", n, median(v, n),
                       percentile(v, n, 95), v[0], v[n - 1]);
}

/* ---- zlayer over the bus ---- */

static int call(sd_bus *bus, const char *step, const char *id, sd_bus_message **reply, const char *sig, ...) {
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *m = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, MANAGER_PATH, MANAGER_IFACE, step);
        if (r < 0)
                return r;
        va_start(ap, sig);
        r = sd_bus_message_appendv(m, sig, ap);
        va_end(ap);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, reply);
        if (r < 0) {
                fprintf(stderr, "latency: %s(%s) failed: %s: %s\n", step, id,
                        error.name ? error.name : "errno", error.message ? error.message : strerror(-r));
                if (sd_bus_error_has_name(&error, "org.freedesktop.DBus.Error.ServiceUnknown") ||
                    sd_bus_error_has_name(&error, "org.freedesktop.DBus.Error.NameHasNoOwner"))
                        fprintf(stderr, "latency: nobody owns %s on this bus: is zlayerd running, "
                                        "with zlayer-broker and the workers built?\n", BUS_NAME);
                if (sd_bus_error_has_name(&error, "com.zlayer.Runtime1.Error.Unsupported"))
                        fprintf(stderr, "latency: the runtime does not implement %s yet.\n", step);
        }
        sd_bus_error_free(&error);
        return r;
}

static int run_one(sd_bus *bus, const char *spec, unsigned replica, uint64_t step_usec[_STEP_MAX]) {
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
        const char *id_ref, *reason, *signame;
        char id[256];
        int32_t exit_code;
        uint64_t finished, t;
        int r;

        snprintf(id, sizeof(id), "%s-rep-%u", BENCH_SERVICE, replica);

        t = bench_now_usec();
        r = call(bus, "CreateContainer", id, &reply, "sus", BENCH_SERVICE, replica, spec);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "so", &id_ref, NULL);
        if (r < 0)
                return fprintf(stderr, "latency: CreateContainer reply: %s\n", strerror(-r)), r;
        if (strcmp(id_ref, id) != 0)
                return fprintf(stderr, "latency: CreateContainer returned id %s, wanted %s\n", id_ref, id), -EBADMSG;
        step_usec[STEP_CREATE] = bench_now_usec() - t;
        reply = sd_bus_message_unref(reply);

        t = bench_now_usec();
        r = call(bus, "StartContainer", id, NULL, "s", id);
        if (r < 0)
                return r;
        step_usec[STEP_START] = bench_now_usec() - t;

        t = bench_now_usec();
        r = call(bus, "WaitContainer", id, &reply, "ss", id, "");
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "isst", &exit_code, &reason, &signame, &finished);
        if (r < 0)
                return fprintf(stderr, "latency: WaitContainer reply: %s\n", strerror(-r)), r;
        if (exit_code != 0)
                return fprintf(stderr, "latency: /bin/true in %s exited %d (%s %s)\n", id, exit_code, reason,
                               signame),
                       -EPROTO;
        step_usec[STEP_WAIT] = bench_now_usec() - t;
        reply = sd_bus_message_unref(reply);

        t = bench_now_usec();
        r = call(bus, "RemoveContainer", id, NULL, "sb", id, 0);
        if (r < 0)
                return r;
        step_usec[STEP_REMOVE] = bench_now_usec() - t;
        return 0;
}

static int bench_zlayer(const char *address, const char *image, unsigned runs, unsigned warmup) {
        __attribute__((cleanup(sd_bus_flush_close_unrefp))) sd_bus *bus = NULL;
        uint64_t *total = NULL, *steps[_STEP_MAX] = {};
        char spec[1024];
        int r;

        /* ZL_BENCH_NETWORK_MODE=bridge measures bridge networking (default none) */
        const char *mode = getenv("ZL_BENCH_NETWORK_MODE") ?: "none";

        if (strpbrk(image, "\"\\"))
                return fprintf(stderr, "latency: bad image reference %s\n", image), -EINVAL;
        if (strcmp(mode, "none") != 0 && strcmp(mode, "bridge") != 0 && strcmp(mode, "host") != 0)
                return fprintf(stderr, "latency: bad ZL_BENCH_NETWORK_MODE %s\n", mode), -EINVAL;
        snprintf(spec, sizeof(spec),
                 "{\"image\":{\"name\":\"%s\",\"pull_policy\":\"if_not_present\"},"
                 "\"command\":{\"entrypoint\":[\"/bin/true\"],\"args\":[]},\"network_mode\":\"%s\"}",
                 image, mode);

        r = bench_bus_open(address, &bus);
        if (r < 0)
                return fprintf(stderr, "latency: cannot connect to bus %s: %s\n", address, strerror(-r)), r;

        /* The image must be in the store before timing starts. */
        {
                __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *m = NULL;
                sd_bus_error error = SD_BUS_ERROR_NULL;

                r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "PullImage");
                if (r >= 0)
                        r = sd_bus_message_append(m, "ssa{sv}", image, "if_not_present", 1, "insecure", "b", 1);
                if (r >= 0)
                        r = sd_bus_call(bus, m, 300ULL * 1000000ULL, &error, NULL);
                if (r < 0) {
                        fprintf(stderr, "latency: PullImage(%s) failed: %s: %s\n", image,
                                error.name ? error.name : "errno", error.message ? error.message : strerror(-r));
                        if (sd_bus_error_has_name(&error, "org.freedesktop.DBus.Error.ServiceUnknown") ||
                            sd_bus_error_has_name(&error, "org.freedesktop.DBus.Error.NameHasNoOwner"))
                                fprintf(stderr, "latency: nobody owns %s on %s: is zlayerd running, with "
                                                "zlayer-broker and the workers built?\n", BUS_NAME, address);
                        sd_bus_error_free(&error);
                        return r;
                }
        }

        total = calloc(runs, sizeof(uint64_t));
        for (int s = 0; s < _STEP_MAX; s++)
                steps[s] = calloc(runs, sizeof(uint64_t));
        if (!total || !steps[0] || !steps[1] || !steps[2] || !steps[3]) {
                r = -ENOMEM;
                goto out;
        }

        /* Leftovers of an aborted earlier run would make CreateContainer
         * fail with AlreadyExists. */
        for (unsigned i = 0; i < warmup + runs; i++) {
                char id[64];
                snprintf(id, sizeof(id), "%s-rep-%u", BENCH_SERVICE, i + 1);
                (void) sd_bus_call_method(bus, BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "RemoveContainer", NULL,
                                          NULL, "sb", id, 1);
        }

        for (unsigned i = 0; i < warmup + runs; i++) {
                uint64_t step_usec[_STEP_MAX], t = bench_now_usec();

                r = run_one(bus, spec, i + 1, step_usec);
                if (r < 0) {
                        fprintf(stderr, "latency: run %u of %u failed.\n", i + 1, warmup + runs);
                        goto out;
                }
                if (i < warmup)
                        continue;
                total[i - warmup] = bench_now_usec() - t;
                for (int s = 0; s < _STEP_MAX; s++)
                        steps[s][i - warmup] = step_usec[s];
        }

        for (int s = 0; s < _STEP_MAX; s++)
                summarize(step_names[s], steps[s], runs, false);
        summarize("zlayer total", total, runs, true);
        r = 0;
out:
        free(total);
        for (int s = 0; s < _STEP_MAX; s++)
                free(steps[s]);
        return r;
}

/* ---- any command ---- */

static int bench_exec(char **argv, unsigned runs, unsigned warmup) {
        uint64_t *total = calloc(runs, sizeof(uint64_t));

        if (!total)
                return -ENOMEM;

        for (unsigned i = 0; i < warmup + runs; i++) {
                uint64_t t = bench_now_usec();
                int status;
                pid_t pid = fork();

                if (pid < 0) {
                        free(total);
                        return -errno;
                }
                if (pid == 0) {
                        execvp(argv[0], argv);
                        fprintf(stderr, "latency: cannot run %s: %s\n", argv[0], strerror(errno));
                        _exit(127);
                }
                if (waitpid(pid, &status, 0) < 0) {
                        free(total);
                        return -errno;
                }
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        fprintf(stderr, "latency: run %u: %s failed (%s %d)\n", i + 1, argv[0],
                                WIFEXITED(status) ? "exit status" : "signal",
                                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
                        free(total);
                        return -EPROTO;
                }
                if (i >= warmup)
                        total[i - warmup] = bench_now_usec() - t;
        }

        summarize(argv[0], total, runs, true);
        free(total);
        return 0;
}

static void usage(FILE *f) {
        fputs("Usage: latency zlayer --bus=ADDRESS --image=REF [--runs=N] [--warmup=N]\n"
              "       latency exec [--runs=N] [--warmup=N] -- COMMAND [ARG...]\n",
              f);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "bus", required_argument, NULL, 'b' },
                { "image", required_argument, NULL, 'i' },
                { "runs", required_argument, NULL, 'n' },
                { "warmup", required_argument, NULL, 'w' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *mode, *bus = NULL, *image = NULL;
        unsigned long runs = 50, warmup = 3;
        char *end;
        int c, r;

        if (argc < 2) {
                usage(stderr);
                return 2;
        }
        mode = argv[1];
        optind = 2;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'b':
                        bus = optarg;
                        break;
                case 'i':
                        image = optarg;
                        break;
                case 'n':
                case 'w':
                        errno = 0;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (errno || *end || end == optarg || v > MAX_RUNS || (c == 'n' && v == 0)) {
                                fprintf(stderr, "latency: bad --%s value: %s\n", c == 'n' ? "runs" : "warmup",
                                        optarg);
                                return 2;
                        }
                        *(c == 'n' ? &runs : &warmup) = v;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }

        if (strcmp(mode, "zlayer") == 0) {
                if (!bus || !image || optind != argc) {
                        usage(stderr);
                        return 2;
                }
                r = bench_zlayer(bus, image, runs, warmup);
        } else if (strcmp(mode, "exec") == 0) {
                if (optind >= argc) {
                        usage(stderr);
                        return 2;
                }
                r = bench_exec(argv + optind, runs, warmup);
        } else {
                usage(stderr);
                return 2;
        }
        return r < 0 ? 1 : 0;
}
