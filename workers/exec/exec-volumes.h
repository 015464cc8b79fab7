/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "exec.h"

/* Exec1.SyncVolumes(as names) → (u synced) (workers/exec/volumes.c) */
int method_sync_volumes(sd_bus_message *m, void *userdata, sd_bus_error *error);
