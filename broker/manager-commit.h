/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* CommitContainer (manager-commit.c). */
int method_commit_container(sd_bus_message *m, void *userdata, sd_bus_error *error);
