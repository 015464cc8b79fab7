/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* AttachContainer / ResizeContainerTTY (dbus-api.md): forwarded to
 * zlayer-exec's Exec1.Attach / Exec1.Resize, which ask the container's shim. */
int method_attach_container(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_resize_container_tty(sd_bus_message *m, void *userdata, sd_bus_error *error);
