/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Exec1.OpenRoot(s id) → (h root, b running): a directory fd of the
 * container's root filesystem for zlayer-archive (docs/internals.md). */
int method_open_root(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* Exec1.OpenUpper(s id) → (h upper): containers/<id>/upper, read-only, root-owned. */
int method_open_upper(sd_bus_message *m, void *userdata, sd_bus_error *error);
