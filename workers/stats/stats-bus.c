/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* com.zlayer.Worker.Stats1: one resource sample of a container, read from
 * cgroupfs and /proc (lib/cgroup-stats.c). Each call is a handful of small
 * reads of kernel files, answered at once; the process can read nothing
 * else and write nowhere (lib/sandbox-workers.c sandbox_stats). */
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include "cgroup-stats.h"
#include "errors.h"
#include "log.h"
#include "macro.h"
#include "stats-bus.h"

/* Sample(s id, u pid) → (s json): @pid is the container's entrypoint (host
 * pid) whose /proc/<pid>/net/dev gives the network counters; 0 = none. */
static int method_sample(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_cgroup_driver_ CgroupDriver *d = NULL;
        _cleanup_free_ char *cg = NULL, *json = NULL;
        ContainerStats s;
        const char *id;
        uint32_t pid;
        int r;

        r = sd_bus_message_read(m, "su", &id, &pid);
        if (r < 0)
                return r;
        r = cgroup_container_path(id, &cg);
        if (r == -EINVAL)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "invalid container id '%s'", id);
        if (r < 0)
                return r;
        if (pid > INT_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "invalid pid %" PRIu32, pid);

        r = cgroup_driver_new_detect(NULL, &d);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "cannot sample '%s': %s", id, strerror(-r));
        r = container_stats_read(d, cg, "/proc", (pid_t) pid, &s);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container '%s' has no cgroup (exited?)", id);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "cannot sample '%s': %s", id, strerror(-r));
        r = container_stats_to_json_line(&s, &json);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, "s", json);
}

static const sd_bus_vtable stats_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Sample", SD_BUS_ARGS("s", id, "u", pid), SD_BUS_RESULT("s", json), method_sample,
                                0),
        SD_BUS_VTABLE_END,
};

int stats_bus_add_object(sd_bus *bus) {
        return sd_bus_add_object_vtable(bus, NULL, ZL_WORKER_PATH, ZL_STATS_IFACE, stats_vtable, NULL);
}
