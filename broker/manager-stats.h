/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "cgroup-stats.h"

/* GetContainerStats / OpenContainerStats (dbus-api.md): the samples come
 * from zlayer-stats (Stats1.Sample, docs/internals.md); the broker checks
 * authorization and state, and streams. */
int method_get_container_stats(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* interval in µs, 0 = 1 s, at least 10 ms */
int method_open_container_stats(sd_bus_message *m, void *userdata, sd_bus_error *error);
