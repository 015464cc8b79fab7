/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct RunOptions {
        json_object *spec;         /* the ServiceSpec built from the flags */
        const char *image, *entrypoint, *pull;
        char **command;
        int n_command;
        char *service;             /* --service / --name; NULL = generated */
        uint32_t replica;
        bool detach, rm, interactive, tty, help;
} RunOptions;

/* Parses docker run/create flags and IMAGE [COMMAND [ARG...]]; a usage
 * error is printed here (-EINVAL). */
int run_options_parse(const char *verb, int argc, char **argv, RunOptions *o);
void run_options_done(RunOptions *o);
