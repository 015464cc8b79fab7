/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Signal names as users type them: "KILL", "SIGKILL", "sigterm", "9". */

/* Parse any signal name or number; -EINVAL when unknown. */
int signal_from_string(const char *s);

/* The KillContainer allowlist (dbus-api.md): KILL TERM INT HUP USR1 USR2,
 * with or without SIG, any case; "" = SIGKILL. -EINVAL otherwise. */
int signal_from_kill_string(const char *s);

/* "SIGKILL" for 9; "SIG<n>" style "signal_<n>" for unknown numbers (static buffer). */
const char *signal_to_name(int sig);
