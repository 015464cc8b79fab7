/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

typedef struct ExecPtyOptions {
        char **command;
        char **env;              /* NAME=VALUE, may be NULL */
        const char *user, *workdir;
        bool tty, interactive;
} ExecPtyOptions;

/* Runs @command in @container with ExecPty and our stdio attached; returns
 * the exit code to exit with (the command's, or 125). */
int exec_pty(const char *container, const ExecPtyOptions *o);
