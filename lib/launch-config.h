/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "servicespec.h"

/* The launch config: what the broker resolved for one container, and what
 * zlayer-exec and zlayer-shim act on (docs/internals.md, "The launch
 * config"). Built by the broker from the ServiceSpec and the image config;
 * parsed and validated again by every process that reads it. */

typedef enum MountType {
        MOUNT_BIND,
        MOUNT_TMPFS,
        MOUNT_VOLUME,    /* named volume ROOT/volumes/<source>/_data */
        MOUNT_ANONYMOUS, /* ROOT/containers/<id>/volumes/<index in mounts>/_data */
} MountType;

typedef struct LaunchMount {
        MountType type;
        char *source;   /* bind: absolute host path; volume: its name; else NULL */
        char *target;   /* absolute path inside the container */
        bool readonly;
        uint64_t size;  /* tmpfs bytes, 0 = kernel default */
        unsigned mode;  /* tmpfs mode, 0 = 01777 */
} LaunchMount;

typedef struct LaunchRlimit {
        char *name;     /* "nofile", "nproc", … (RLIMIT_ without prefix, lower case) */
        uint64_t soft, hard;
} LaunchRlimit;

typedef struct LaunchResources {
        int64_t cpu_quota;          /* µs per period, 0 = none */
        uint64_t cpu_period;        /* µs, 0 = default 100000 */
        uint64_t cpu_shares;        /* 0 = default */
        int64_t memory;             /* bytes, 0 = none */
        int64_t memory_swap;        /* bytes incl. memory, 0 = default, -1 = unlimited */
        int64_t memory_reservation; /* bytes, 0 = none */
        int64_t pids_limit;         /* 0 = none */
        char *cpuset_cpus;          /* NULL = inherit */
} LaunchResources;

/* A published port (network_mode "bridge"), lib/launch-config-net.c */
typedef struct LaunchPort {
        uint16_t container_port, host_port;
        char protocol[4];       /* "tcp" or "udp" */
} LaunchPort;

typedef struct LaunchConfig {
        char *id;
        char *image;
        char **layers;          /* chain id hex, top first; NULL-terminated */
        char **args;            /* never empty */
        char **env;             /* KEY=VALUE */
        char *cwd;
        char *user;             /* "" = root */
        char **extra_groups;
        char *hostname;
        char *network_mode;     /* "none", "host" or "bridge" */
        /* bridge only (lib/launch-config-net.c): the bridge, the container's
         * address and prefix length, the gateway (the bridge's address) */
        char *bridge, *address, *gateway;
        unsigned prefix;
        /* "a/n, b/m": zlayer's other networks, which the bridge's traffic
         * must not be forwarded to (isolation between networks) */
        char *isolate;
        LaunchPort *ports;
        size_t n_ports;
        bool host_pid, host_ipc; /* pid_mode / ipc_mode "host": no new pid / ipc namespace */
        char **sysctls;         /* "name=value", namespaced only; written after pivot_root */
        bool readonly_rootfs;
        bool tty, stdin_open;
        LaunchMount *mounts;
        size_t n_mounts;
        LaunchResources resources;
        char **cap_add, **cap_drop; /* "CAP_…" names */
        bool privileged;
        LaunchRlimit *rlimits;
        size_t n_rlimits;
        char *seccomp;          /* "default" (lib/seccomp-profile.h) or "unconfined" */
        char *stop_signal;      /* "SIGTERM" style */
        uint64_t stop_grace_usec;
        uint64_t log_max_size;  /* ctr.log rotation, bytes; 0 = default */
        unsigned log_max_files; /* files kept; 0 = default */
} LaunchConfig;

/* Docker's volume name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 255 bytes. */
bool volume_name_is_valid(const char *s);

/* lib/launch-config-net.c: the "network" and "ports" members */
int launch_config_parse_network(json_object *o, LaunchConfig *c, char **ret_error);
void launch_config_free_network(LaunchConfig *c);
/* bridge: "ports" from the spec's port_mappings with a host_port (host_ip
 * "" or 0.0.0.0 only; -EINVAL naming the entry otherwise) */
int launch_config_build_ports(json_object *spec, const char *network_mode, json_object *out, char **ret_error);

/* Parse and validate a launch config; on error *ret_error says which field. */
int launch_config_parse(const char *json, LaunchConfig **ret, char **ret_error);
LaunchConfig *launch_config_free(LaunchConfig *c);
static inline void launch_config_freep(LaunchConfig **c) {
        if (*c)
                launch_config_free(*c);
}
#define _cleanup_launch_config_ __attribute__((cleanup(launch_config_freep)))

/* Build the launch config of container @id from @spec and the image's OCI
 * config JSON (the blob; "config" member holds Entrypoint, Cmd, Env,
 * WorkingDir, User, StopSignal), combining them by Docker's rules:
 * - spec entrypoint set: argv = spec entrypoint + spec args (image Cmd dropped)
 * - else argv = image Entrypoint + (spec args if set, else image Cmd)
 * - env: image Env, then spec env (same key replaces); PATH defaulted
 * - cwd: spec workdir, else image WorkingDir, else "/"
 * - user: spec user, else image User
 * @layers_top_first: chain id hex strings, NULL-terminated.
 * Returns -EINVAL with *ret_error naming the field when the result is not
 * runnable (e.g. no command at all). */
int launch_config_build(const ServiceSpec *spec, const char *id, const char *image_ref,
                        const char *image_config_json, char *const *layers_top_first,
                        json_object **ret, char **ret_error);
