/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "exec.h"

/* Exec1.Probe(s id, s kind, as args, t timeout_usec) → (i exit_code, s output)
 * (workers/exec/probe.c): kind "command" (args = argv), "tcp" (args = [port])
 * or "http" (args = [port, path]; output starts with the status code). */
int method_probe(sd_bus_message *m, void *userdata, sd_bus_error *error);
