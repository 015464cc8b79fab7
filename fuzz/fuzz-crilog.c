/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: CRI log lines (lib/crilog.c), which zlayer reads back from
 * the log files a container's output was written to. Built by fuzz/meson.build.
 *
 * Invariants beyond "no crash": an accepted line's text lies inside the line
 * and holds no newline, and writing the entry again with crilog_write() and
 * parsing that line gives the same entry (timestamp to the µs) whenever the
 * timestamp fits crilog_write()'s uint64 ns (until the year 2554; the parser
 * accepts later years, which only readers see). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "crilog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        CriLogEntry e, again;
        char *line, buf[CRILOG_MAX_RECORD + 128];
        ssize_t n;

        if (size > CRILOG_MAX_RECORD)
                return 0;
        /* A copy of exactly @size bytes, so ASan sees any read past the end. */
        line = malloc(size ?: 1);
        if (!line)
                return 0;
        memcpy(line, data, size);

        if (crilog_parse_line(line, size, &e) < 0) {
                free(line);
                return 0;
        }
        if (e.text < line || e.text + e.text_len > line + size || memchr(e.text, '\n', e.text_len))
                abort();

        if (e.timestamp_usec > UINT64_MAX / 1000) {
                free(line);
                return 0;
        }
        if (memfd < 0 && (memfd = memfd_create("fuzz-crilog", 0)) < 0)
                abort();
        if (ftruncate(memfd, 0) < 0 || lseek(memfd, 0, SEEK_SET) < 0)
                abort();
        if (crilog_write(memfd, e.timestamp_usec * 1000, e.is_stderr, e.text, e.text_len, e.partial) < 0)
                abort();
        n = pread(memfd, buf, sizeof(buf), 0);
        if (n <= 0 || buf[n - 1] != '\n')
                abort();
        if (crilog_parse_line(buf, (size_t) n - 1, &again) < 0)
                abort();
        if (again.timestamp_usec != e.timestamp_usec || again.is_stderr != e.is_stderr ||
            again.partial != e.partial || again.text_len != e.text_len ||
            memcmp(again.text, e.text, e.text_len) != 0)
                abort();
        free(line);
        return 0;
}
