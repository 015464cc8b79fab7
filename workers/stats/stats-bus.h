/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* com.zlayer.Worker.Stats1 at /com/zlayer/Worker (docs/internals.md). */
int stats_bus_add_object(sd_bus *bus);
