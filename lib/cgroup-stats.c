/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-stats.h"
#include "macro.h"

/* "  eth0: rx_bytes rx_packets … (8 rx fields) tx_bytes …" after two header lines */
int stats_parse_net_dev(const char *text, uint64_t *ret_rx, uint64_t *ret_tx) {
        uint64_t rx = 0, tx = 0;
        const char *line = text;

        for (; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                char name[64];
                unsigned long long v[9];
                const char *colon = strchr(line, ':'), *nl = strchr(line, '\n');
                size_t len;

                if (!colon || (nl && colon > nl))
                        continue; /* header */
                while (*line == ' ')
                        line++;
                len = (size_t) (colon - line);
                if (len == 0 || len >= sizeof(name))
                        return -EBADMSG;
                memcpy(name, line, len);
                name[len] = '\0';
                if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                           &v[4], &v[5], &v[6], &v[7], &v[8]) != 9)
                        return -EBADMSG;
                if (streq(name, "lo"))
                        continue;
                rx += v[0];
                tx += v[8];
        }
        *ret_rx = rx;
        *ret_tx = tx;
        return 0;
}

/* "8:0 Read 4096\n8:0 Write 0\n…\nTotal 4096" */
int stats_parse_blkio_v1(const char *text, uint64_t *ret_read, uint64_t *ret_write) {
        uint64_t rd = 0, wr = 0;

        for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                char dev[32], op[16];
                unsigned long long v;

                if (sscanf(line, "%31s %15s %llu", dev, op, &v) != 3)
                        continue; /* "Total N" */
                if (streq(op, "Read"))
                        rd += v;
                else if (streq(op, "Write"))
                        wr += v;
        }
        *ret_read = rd;
        *ret_write = wr;
        return 0;
}

/* "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" */
int stats_parse_io_stat_v2(const char *text, uint64_t *ret_read, uint64_t *ret_write) {
        uint64_t rd = 0, wr = 0;
        const char *p = text;

        while (p && *p) {
                const char *end = p + strcspn(p, " \n");
                unsigned long long v;

                if (sscanf(p, "rbytes=%llu", &v) == 1)
                        rd += v;
                else if (sscanf(p, "wbytes=%llu", &v) == 1)
                        wr += v;
                p = *end ? end + 1 : NULL;
        }
        *ret_read = rd;
        *ret_write = wr;
        return 0;
}

/* The first line of /proc/stat: "cpu  user nice system idle iowait irq softirq steal …" in USER_HZ */
int stats_parse_proc_stat_cpu(const char *text, long clk_tck, uint64_t *ret_ns) {
        unsigned long long sum = 0;
        const char *p;

        if (clk_tck <= 0 || strncmp(text, "cpu ", 4) != 0)
                return -EBADMSG;
        p = text + 4;
        /* guest and guest_nice (fields 9, 10) are already in user and nice */
        for (int i = 0; i < 8; i++) {
                char *end;
                errno = 0;
                unsigned long long v = strtoull(p, &end, 10);
                if (errno != 0 || end == p)
                        break;
                sum += v;
                p = end;
        }
        *ret_ns = (uint64_t) sum * (1000000000ULL / (uint64_t) clk_tck);
        return 0;
}

static int read_u64(const char *dir, const char *file, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        char *end;
        int r;

        r = cgroup_read_file(dir, file, &s);
        if (r < 0)
                return r;
        if (streq(s, "max")) {
                *ret = UINT64_MAX;
                return 0;
        }
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno != 0 || end == s)
                return -EBADMSG;
        *ret = v;
        return 0;
}

static uint64_t host_mem_total(const char *proc_root) {
        uint64_t kb = 0;
        _cleanup_free_ char *s = NULL;
        const char *p;

        if (cgroup_read_file(proc_root, "meminfo", &s) < 0)
                return 0;
        p = strstr(s, "MemTotal:");
        if (!p || sscanf(p + 9, "%" SCNu64, &kb) != 1)
                return 0;
        return kb * 1024;
}

static uint64_t sub_floor(uint64_t a, uint64_t b) {
        return a > b ? a - b : 0;
}

static int read_v1(const CgroupDriver *d, const char *path, ContainerStats *s) {
        _cleanup_free_ char *cpu = NULL, *mem = NULL, *pids = NULL, *blk = NULL, *text = NULL;
        uint64_t usage = 0, inactive = 0;

        if (asprintf(&cpu, "%s/cpuacct/%s", d->root, path) < 0 || asprintf(&mem, "%s/memory/%s", d->root, path) < 0 ||
            asprintf(&pids, "%s/pids/%s", d->root, path) < 0 || asprintf(&blk, "%s/blkio/%s", d->root, path) < 0)
                return -ENOMEM;
        if (access(mem, F_OK) < 0 && access(pids, F_OK) < 0)
                return -errno;

        (void) read_u64(cpu, "cpuacct.usage", &s->cpu_total_ns);
        if (read_u64(mem, "memory.usage_in_bytes", &usage) >= 0) {
                (void) cgroup_read_keyed(mem, "memory.stat", "total_inactive_file", &inactive);
                s->mem_used_bytes = sub_floor(usage, inactive);
        }
        (void) read_u64(mem, "memory.limit_in_bytes", &s->mem_limit_bytes);
        (void) read_u64(pids, "pids.current", &s->pids_current);
        (void) read_u64(pids, "pids.max", &s->pids_limit);
        if (cgroup_read_file(blk, "blkio.throttle.io_service_bytes", &text) >= 0)
                (void) stats_parse_blkio_v1(text, &s->blkio_read_bytes, &s->blkio_write_bytes);
        return 0;
}

static int read_v2(const CgroupDriver *d, const char *path, ContainerStats *s) {
        _cleanup_free_ char *dir = NULL, *text = NULL;
        uint64_t usage = 0, inactive = 0, usec = 0;

        if (asprintf(&dir, "%s/%s", d->root, path) < 0)
                return -ENOMEM;
        if (access(dir, F_OK) < 0)
                return -errno;

        if (cgroup_read_keyed(dir, "cpu.stat", "usage_usec", &usec) >= 0)
                s->cpu_total_ns = usec * 1000;
        if (read_u64(dir, "memory.current", &usage) >= 0) {
                (void) cgroup_read_keyed(dir, "memory.stat", "inactive_file", &inactive);
                s->mem_used_bytes = sub_floor(usage, inactive);
        }
        (void) read_u64(dir, "memory.max", &s->mem_limit_bytes);
        (void) read_u64(dir, "pids.current", &s->pids_current);
        (void) read_u64(dir, "pids.max", &s->pids_limit);
        if (cgroup_read_file(dir, "io.stat", &text) >= 0)
                (void) stats_parse_io_stat_v2(text, &s->blkio_read_bytes, &s->blkio_write_bytes);
        return 0;
}

int container_stats_read(const CgroupDriver *d, const char *path, const char *proc_root, pid_t pid,
                         ContainerStats *ret) {
        ContainerStats s = {};
        _cleanup_free_ char *stat = NULL;
        struct timespec ts;
        uint64_t memtotal;
        long n;
        int r;

        r = d->version == CGROUP_V2 ? read_v2(d, path, &s) : read_v1(d, path, &s);
        if (r < 0)
                return r;

        /* no limit: "max" on v2, PAGE_COUNTER_MAX rounded to pages on v1 */
        memtotal = host_mem_total(proc_root);
        if (memtotal > 0 && (s.mem_limit_bytes == 0 || s.mem_limit_bytes > memtotal))
                s.mem_limit_bytes = memtotal;
        if (s.pids_limit == UINT64_MAX)
                s.pids_limit = 0;

        if (cgroup_read_file(proc_root, "stat", &stat) >= 0)
                (void) stats_parse_proc_stat_cpu(stat, sysconf(_SC_CLK_TCK), &s.cpu_system_ns);
        n = sysconf(_SC_NPROCESSORS_ONLN);
        s.online_cpus = n > 0 ? (uint32_t) n : 1;

        if (pid > 0) {
                _cleanup_free_ char *netdir = NULL, *dev = NULL;
                if (asprintf(&netdir, "%s/%d/net", proc_root, (int) pid) < 0)
                        return -ENOMEM;
                if (cgroup_read_file(netdir, "dev", &dev) >= 0)
                        (void) stats_parse_net_dev(dev, &s.net_rx_bytes, &s.net_tx_bytes);
        }

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return -errno;
        s.timestamp = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
        *ret = s;
        return 0;
}

/* The 64-bit keys of a sample, in the order of the JSON line. */
static const struct {
        const char *key;
        size_t offset;
} stats_u64_keys[] = {
#define STATS_KEY(k) { #k, offsetof(ContainerStats, k) }
        STATS_KEY(cpu_total_ns),      STATS_KEY(cpu_system_ns),     STATS_KEY(mem_used_bytes),
        STATS_KEY(mem_limit_bytes),   STATS_KEY(net_rx_bytes),      STATS_KEY(net_tx_bytes),
        STATS_KEY(blkio_read_bytes),  STATS_KEY(blkio_write_bytes), STATS_KEY(pids_current),
        STATS_KEY(pids_limit),        STATS_KEY(timestamp),
#undef STATS_KEY
};

int container_stats_to_json_line(const ContainerStats *s, char **ret) {
        return asprintf(ret,
                        "{\"cpu_total_ns\":%" PRIu64 ",\"cpu_system_ns\":%" PRIu64 ",\"online_cpus\":%" PRIu32
                        ",\"mem_used_bytes\":%" PRIu64 ",\"mem_limit_bytes\":%" PRIu64 ",\"net_rx_bytes\":%" PRIu64
                        ",\"net_tx_bytes\":%" PRIu64 ",\"blkio_read_bytes\":%" PRIu64 ",\"blkio_write_bytes\":%" PRIu64
                        ",\"pids_current\":%" PRIu64 ",\"pids_limit\":%" PRIu64 ",\"timestamp\":%" PRIu64 "}\n",
                        s->cpu_total_ns, s->cpu_system_ns, s->online_cpus, s->mem_used_bytes, s->mem_limit_bytes,
                        s->net_rx_bytes, s->net_tx_bytes, s->blkio_read_bytes, s->blkio_write_bytes, s->pids_current,
                        s->pids_limit, s->timestamp) < 0
                       ? -ENOMEM
                       : 0;
}

static int json_get_u64(struct json_object *o, const char *key, uint64_t *ret) {
        struct json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return -EBADMSG;
        /* json-c keeps what does not fit an int64 as a uint64 (its int64
         * reads INT64_MAX then): only a negative number is out of range */
        if (json_object_get_int64(v) < 0)
                return -EBADMSG;
        *ret = json_object_get_uint64(v);
        return 0;
}

int container_stats_from_json(const char *json, ContainerStats *ret) {
        ContainerStats s = {};
        struct json_object *o;
        uint64_t cpus;
        int r = 0;

        o = json_tokener_parse(json);
        if (!o)
                return -EBADMSG;
        if (!json_object_is_type(o, json_type_object) ||
            json_object_object_length(o) != (int) ELEMENTSOF(stats_u64_keys) + 1)
                r = -EBADMSG;
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(stats_u64_keys); i++)
                r = json_get_u64(o, stats_u64_keys[i].key, (uint64_t *) ((char *) &s + stats_u64_keys[i].offset));
        if (r >= 0)
                r = json_get_u64(o, "online_cpus", &cpus);
        if (r >= 0 && cpus > UINT32_MAX)
                r = -EBADMSG;
        json_object_put(o);
        if (r < 0)
                return r;
        s.online_cpus = (uint32_t) cpus;
        *ret = s;
        return 0;
}
