/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "broker.h"

/* SyncContainerVolumes (volumes.c) */
int method_sync_container_volumes(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* The names of the named volumes container @id mounts (its config.json);
 * returns how many. */
int container_named_volumes(Broker *b, const char *id, char ***ret);
