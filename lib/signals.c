/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdio.h>
#include <strings.h>

#include "macro.h"
#include "signals.h"

static const struct {
        const char *name; /* without "SIG" */
        int sig;
} signal_table[] = {
        { "HUP", SIGHUP },     { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },
        { "TRAP", SIGTRAP },   { "ABRT", SIGABRT },     { "IOT", SIGIOT },     { "BUS", SIGBUS },
        { "FPE", SIGFPE },     { "KILL", SIGKILL },     { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },
        { "USR2", SIGUSR2 },   { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },   { "TERM", SIGTERM },
        { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },   { "CONT", SIGCONT },   { "STOP", SIGSTOP },
        { "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },   { "URG", SIGURG },
        { "XCPU", SIGXCPU },   { "XFSZ", SIGXFSZ },     { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
        { "WINCH", SIGWINCH }, { "IO", SIGIO },         { "POLL", SIGPOLL },   { "PWR", SIGPWR },
        { "SYS", SIGSYS },
};

static const char *strip_sig(const char *s) {
        return strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
}

int signal_from_string(const char *s) {
        const char *n;

        if (isempty(s))
                return -EINVAL;

        if (s[0] >= '0' && s[0] <= '9') {
                char *end;
                errno = 0;
                unsigned long v = strtoul(s, &end, 10);
                if (errno != 0 || *end != '\0' || v < 1 || v > (unsigned long) SIGRTMAX)
                        return -EINVAL;
                return (int) v;
        }

        n = strip_sig(s);
        for (size_t i = 0; i < ELEMENTSOF(signal_table); i++)
                if (strcasecmp(n, signal_table[i].name) == 0)
                        return signal_table[i].sig;

        /* RTMIN, RTMIN+n, RTMAX-n */
        if (strncasecmp(n, "RTMIN", 5) == 0 || strncasecmp(n, "RTMAX", 5) == 0) {
                bool min = strncasecmp(n, "RTMIN", 5) == 0;
                const char *rest = n + 5;
                long off = 0;
                if (*rest) {
                        char *end;
                        if ((min && *rest != '+') || (!min && *rest != '-'))
                                return -EINVAL;
                        if (rest[1] < '0' || rest[1] > '9')
                                return -EINVAL;
                        errno = 0;
                        off = strtol(rest + 1, &end, 10);
                        if (errno != 0 || *end != '\0')
                                return -EINVAL;
                }
                int sig = min ? SIGRTMIN + (int) off : SIGRTMAX - (int) off;
                if (off < 0 || off > SIGRTMAX - SIGRTMIN || sig < SIGRTMIN || sig > SIGRTMAX)
                        return -EINVAL;
                return sig;
        }
        return -EINVAL;
}

int signal_from_kill_string(const char *s) {
        static const struct {
                const char *name;
                int sig;
        } allowed[] = {
                { "KILL", SIGKILL }, { "TERM", SIGTERM }, { "INT", SIGINT },
                { "HUP", SIGHUP },   { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
        };

        if (!s)
                return -EINVAL;
        if (s[0] == '\0')
                return SIGKILL;

        const char *n = strip_sig(s);
        for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
                if (strcasecmp(n, allowed[i].name) == 0)
                        return allowed[i].sig;
        return -EINVAL;
}

const char *signal_to_name(int sig) {
        static _Thread_local char buf[32];

        for (size_t i = 0; i < ELEMENTSOF(signal_table); i++)
                if (signal_table[i].sig == sig) {
                        /* IOT and POLL alias ABRT and IO: the table lists the
                         * canonical name first, so the first match wins. */
                        snprintf(buf, sizeof(buf), "SIG%s", signal_table[i].name);
                        return buf;
                }
        if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
                snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
                return buf;
        }
        snprintf(buf, sizeof(buf), "signal_%d", sig);
        return buf;
}
