/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Authorization the systemd way: a non-root user on a terminal gets a
 * polkit text agent (pkttyagent) for the run of zlayerctl, and calls carry
 * ALLOW_INTERACTIVE_AUTHORIZATION so polkit may ask for a password.
 * --no-ask-password turns this off. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include "zlayerctl.h"

#define AGENT_BINARY "/usr/bin/pkttyagent"
#define AGENT_REGISTER_MSEC 10000

static pid_t agent_pid;

static void polkit_agent_close(void) {
        if (agent_pid <= 0)
                return;
        (void) kill(agent_pid, SIGTERM);
        (void) waitpid(agent_pid, NULL, 0);
        agent_pid = 0;
}

bool polkit_agent_wanted(void) {
        return arg_ask_password && geteuid() != 0 && isatty(STDIN_FILENO);
}

int polkit_agent_open(const char *bus_address) {
        int pipe_fd[2];
        struct pollfd p;
        pid_t pid;

        if (agent_pid > 0)
                return 0;
        if (pipe2(pipe_fd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                close(pipe_fd[0]);
                close(pipe_fd[1]);
                return -errno;
        }
        if (pid == 0) {
                /* the agent speaks to polkit on the bus we use */
                if (!isempty(bus_address))
                        (void) setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_address, 1);
                if (dup2(pipe_fd[1], 3) < 0)
                        _exit(EXIT_FAILURE);
                execl(AGENT_BINARY, AGENT_BINARY, "--notify-fd", "3", "--fallback", (char *) NULL);
                _exit(EXIT_FAILURE);
        }
        close(pipe_fd[1]);
        agent_pid = pid;
        atexit(polkit_agent_close);
        /* wait until it registered (it writes to, or closes, the notify fd) */
        p = (struct pollfd) { .fd = pipe_fd[0], .events = POLLIN };
        (void) poll(&p, 1, AGENT_REGISTER_MSEC);
        close(pipe_fd[0]);
        return 0;
}
