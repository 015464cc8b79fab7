/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Exec1.Attach and Exec1.Resize (workers/exec/attach-client.c): requests to the
 * container's shim over RUN/containers/<id>/attach.sock. */
int method_attach(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_resize(sd_bus_message *m, void *userdata, sd_bus_error *error);
