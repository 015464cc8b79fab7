/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Manager.OpenContainerLogs (logs-stream.c). */
int method_open_container_logs(sd_bus_message *m, void *userdata, sd_bus_error *error);
