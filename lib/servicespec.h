/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* A ServiceSpec (../shared/servicespec.md), parsed from YAML or JSON.
 * Unknown fields are errors naming the field. The parsed tree is kept as a
 * normalized json_object (spec->json) so nothing the caller sent is lost;
 * the fields the runtime acts on are also decoded into this struct. */

typedef enum PullPolicy {
        PULL_IF_NOT_PRESENT,
        PULL_ALWAYS,
        PULL_NEVER,
        PULL_NEWER,
} PullPolicy;

typedef struct SpecMount {
        char *type;     /* bind named anonymous tmpfs */
        char *source;   /* bind source / named volume name */
        char *target;
        bool readonly;
        uint64_t size;
        unsigned mode;
} SpecMount;

typedef struct SpecRlimit {
        char *name;
        uint64_t soft, hard;
} SpecRlimit;

typedef struct ServiceSpec {
        json_object *json;              /* normalized tree, owned */

        char *rtype;                    /* service job cron */
        char *schedule;                 /* rtype cron: its cron expression (lib/cron.h) */
        char *image;                    /* image.name */
        PullPolicy pull_policy;

        char **entrypoint;              /* NULL = not given */
        char **args;                    /* NULL = not given */
        char *workdir;
        char **env;                     /* KEY=VALUE in the spec's order, NULL = none */

        double cpu;                     /* 0 = none */
        int64_t memory, memory_swap, memory_reservation;
        int64_t memory_swappiness;      /* -1 = unset */
        int64_t pids_limit;
        char *cpuset;
        uint64_t cpu_shares;

        SpecMount *storage;
        size_t n_storage;

        char *network_mode;             /* default host none bridge */
        char *hostname;
        char **dns, **extra_hosts;
        char *user;
        char **extra_groups;
        char **labels;                  /* key, value, key, value, …, NULL */
        char **cap_add, **cap_drop;
        bool privileged, read_only_root_fs, tty, stdin_open;
        SpecRlimit *ulimits;
        size_t n_ulimits;
        char *stop_signal;              /* NULL = image's or SIGTERM */
        uint64_t stop_grace_usec;       /* 0 = default */
        char *restart_kind;             /* no always unless_stopped on_failure */
        int64_t restart_max_attempts;
        uint64_t restart_delay_usec;    /* restart_policy.delay, 0 = not given */

        /* health (servicespec-health.c); health_kind NULL = no check */
        char *health_kind;              /* command tcp http */
        char **health_args;             /* command: argv; tcp: [port]; http: [port, path] */
        int64_t health_expect_status;   /* http, default 200 */
        uint64_t health_start_grace_usec, health_interval_usec, health_timeout_usec;
        int64_t health_retries;
} ServiceSpec;

/* Parse @text (YAML or JSON). On -EINVAL, *ret_error (if non-NULL) is a
 * message naming the field and value ("resources.memory: invalid size 'abc'").
 *
 * Text starting with '{' (after whitespace) is strict JSON, anything else
 * YAML 1.2 (core schema: yes/no stay strings; anchors, aliases and custom
 * tags are refused). At most 1 MiB, 64 levels, 100000 nodes.
 * spec->json is normalized: env, label and sysctl values and user are
 * strings, capability names are "CAP_…" (cap_add folded into capabilities),
 * stop_signal is "SIGTERM" style; everything else is kept as given, so the
 * stored tree parses again to the same spec. */
int service_spec_parse(const char *text, size_t len, ServiceSpec **ret, char **ret_error);
ServiceSpec *service_spec_free(ServiceSpec *s);
static inline void service_spec_freep(ServiceSpec **s) {
        if (*s)
                service_spec_free(*s);
}
#define _cleanup_service_spec_ __attribute__((cleanup(service_spec_freep)))
