/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Exec1 methods of the container lifecycle (exec-lifecycle.c): Freeze,
 * Changes, DiskUsage, UpdateResources, CleanupOrphans (docs/internals.md, "Exec"). */
int method_freeze(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_changes(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_disk_usage(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_cleanup_orphans(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_update_resources(sd_bus_message *m, void *userdata, sd_bus_error *error);
