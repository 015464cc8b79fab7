/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct ExecPtyOptions {
        char **command;
        char **env;              /* NAME=VALUE, may be NULL */
        const char *user, *workdir;
        bool tty, interactive;
} ExecPtyOptions;

/* Runs @command in @container with ExecPty and our stdio attached; returns
 * the exit code to exit with (the command's, or 125). */
int exec_pty(const char *container, const ExecPtyOptions *o);

/* The terminal helpers of exec -it, shared with run -it / attach (attach.c):
 * raw mode (restored by restore_terminal(), also at exit), our window size. */
int make_terminal_raw(void);
void restore_terminal(void);
bool terminal_size(uint16_t *ret_rows, uint16_t *ret_cols);

typedef struct PumpOps {
        void (*resize)(void *userdata);      /* SIGWINCH, with a tty */
        void (*interrupt)(void *userdata);   /* SIGINT, without a tty */
        void *userdata;
        bool detach_keys;                    /* ctrl-p ctrl-q ends the pump (tty) */
        bool keep_input_open;                /* no shutdown(SHUT_WR) of @fd at our stdin's EOF */
} PumpOps;
#define PUMP_DETACHED 1000

/* Copies between our stdio and @fd (a PTY master with @tty, else a socket
 * of Docker frames; our stdin goes in with @interactive) until @fd ends.
 * Returns 0, 128+N for a signal (SIGTERM, SIGHUP) that ends us,
 * PUMP_DETACHED after the detach keys, or -errno. */
int terminal_pump(int fd, bool tty, bool interactive, const PumpOps *ops);
