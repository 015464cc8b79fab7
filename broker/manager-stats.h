/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "cgroup-stats.h"

/* GetContainerStats / OpenContainerStats (dbus-api.md): samples read by the
 * broker itself with lib/cgroup-stats.c (cgroupfs and /proc/<pid>/net/dev are
 * world-readable). */
int method_get_container_stats(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* interval in µs, 0 = 1 s, at least 10 ms */
int method_open_container_stats(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* One sample as a JSON object on one line, with the keys of the a{sv} sample
 * and a trailing newline. */
int container_stats_to_json_line(const ContainerStats *s, char **ret);
