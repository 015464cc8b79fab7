/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "broker.h"
#include "cgroup.h"
#include "container.h"
#include "errors.h"
#include "macro.h"
#include "manager-stats.h"

#define STATS_U64_KEYS(X)                                                                                      \
        X(cpu_total_ns) X(cpu_system_ns) X(mem_used_bytes) X(mem_limit_bytes) X(net_rx_bytes) X(net_tx_bytes) \
                X(blkio_read_bytes) X(blkio_write_bytes) X(pids_current) X(pids_limit) X(timestamp)

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

/* Finds @id, checks authorization and that it runs, reads one sample.
 * 1: sampled; 0: polkit was asked; < 0 with @error set. */
static int sample_container(sd_bus_message *m, Broker *b, ContainerStats *ret, sd_bus_error *error) {
        _cleanup_cgroup_driver_ CgroupDriver *d = NULL;
        _cleanup_free_ char *cg = NULL;
        const char *id;
        Container *c;
        int r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        r = container_find_or_error(b, id, &c, error);
        if (r < 0)
                return r;
        r = authz_verify(b, m, c->id, error);
        if (r <= 0)
                return r;
        if ((c->state != CONTAINER_RUNNING && c->state != CONTAINER_STOPPING) || c->pid == 0)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' is not running (%s)", c->id,
                                         container_state_to_string(c->state));
        if ((r = cgroup_container_path(c->id, &cg)) < 0 || (r = cgroup_driver_new_detect(NULL, &d)) < 0)
                return sd_bus_error_set_errnof(error, r, "cannot sample '%s': %s", c->id, strerror(-r));
        r = container_stats_read(d, cg, "/proc", (pid_t) c->pid, ret);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' has no cgroup (exited?)",
                                         c->id);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "cannot sample '%s': %s", c->id, strerror(-r));
        return 1;
}

int method_get_container_stats(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ContainerStats s;
        int r;

        r = sample_container(m, userdata, &s, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
#define APPEND_U64(k)                                                            \
        if (r >= 0)                                                              \
                r = sd_bus_message_append(reply, "{sv}", #k, "t", (uint64_t) s.k);
        STATS_U64_KEYS(APPEND_U64)
#undef APPEND_U64
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}", "online_cpus", "u", s.online_cpus);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}
