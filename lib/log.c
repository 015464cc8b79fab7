/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

static const char *program = "zlayer";
static int max_level = LOG_INFO;

void log_set_program(const char *name) {
        program = name;
}

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
        /* Always hand back a negative errno, even for callers passing a positive one. */
        int r = error > 0 ? -error : error;

        if (level > max_level)
                return r;

        int saved = errno;
        char buf[2048];
        va_list ap;

        if (r < 0)
                errno = -r;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);

        if (max_level >= LOG_DEBUG)
                fprintf(stderr, "%s[%d]: %s (%s:%d)\n", program, (int) getpid(), buf, file, line);
        else
                fprintf(stderr, "%s[%d]: %s\n", program, (int) getpid(), buf);
        errno = saved;
        return r;
}
