/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"

/* One resource sample of a container (the StatsSample keys of dbus-api.md),
 * read from its cgroup "zlayer/<id>" on v1 or v2 and from /proc.
 *
 * cpu_total_ns   CPU time of the cgroup (v1 cpuacct.usage, v2 cpu.stat usage_usec)
 * cpu_system_ns  CPU time of the whole host (the sum of /proc/stat's "cpu" line),
 *                Docker's system_cpu_usage: with online_cpus it gives
 *                CPU% = Δtotal / Δsystem × online_cpus × 100
 * mem_used_bytes usage minus inactive page cache, as Docker computes it
 *                (v1 usage_in_bytes - total_inactive_file, v2 memory.current - inactive_file)
 * mem_limit_bytes the cgroup's limit, or the host's MemTotal when it has none
 * net_*          /proc/<pid>/net/dev of the container's namespace, without lo
 * blkio_*        v1 blkio.throttle.io_service_bytes Read/Write, v2 io.stat rbytes/wbytes
 *                (observed: on a v1 host with kernel 6.18 the throttle counters stay 0
 *                for a device without a throttle rule, so v1 shows no block I/O there)
 * pids_limit     0 = none
 * A file a controller does not provide leaves its value 0. */
typedef struct ContainerStats {
        uint64_t cpu_total_ns;
        uint64_t cpu_system_ns;
        uint32_t online_cpus;
        uint64_t mem_used_bytes;
        uint64_t mem_limit_bytes;
        uint64_t net_rx_bytes;
        uint64_t net_tx_bytes;
        uint64_t blkio_read_bytes;
        uint64_t blkio_write_bytes;
        uint64_t pids_current;
        uint64_t pids_limit;
        uint64_t timestamp; /* CLOCK_REALTIME, µs */
} ContainerStats;

/* Reads a sample of cgroup @path (e.g. "zlayer/<id>") with @pid (0 = none:
 * no network values) as the container's entrypoint. @proc_root is "/proc" or
 * a fake tree (stat, meminfo, <pid>/net/dev). -ENOENT when the container's
 * cgroup does not exist. */
int container_stats_read(const CgroupDriver *d, const char *path, const char *proc_root, pid_t pid,
                         ContainerStats *ret);

/* One sample as a JSON object on one line with the keys of the a{sv}
 * sample (dbus-api.md StatsSample) and a trailing newline: what
 * OpenContainerStats streams and what Stats1.Sample of zlayer-stats answers. */
int container_stats_to_json_line(const ContainerStats *s, char **ret);
/* The reverse, strict: every key present, a non-negative integer, nothing
 * else (-EBADMSG otherwise). The broker reads zlayer-stats' answer with it. */
int container_stats_from_json(const char *json, ContainerStats *ret);

/* Parsers, for the unit tests. */
int stats_parse_net_dev(const char *text, uint64_t *ret_rx, uint64_t *ret_tx);
int stats_parse_blkio_v1(const char *text, uint64_t *ret_read, uint64_t *ret_write);
int stats_parse_io_stat_v2(const char *text, uint64_t *ret_read, uint64_t *ret_write);
int stats_parse_proc_stat_cpu(const char *text, long clk_tck, uint64_t *ret_ns);
