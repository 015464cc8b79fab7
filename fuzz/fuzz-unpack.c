/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for workers/archive/layer-unpack.c: any blob goes through
 * decompression, the tar reader, whiteout conversion and the disk writer into
 * a sandbox; afterwards nothing may be left in or next to the layers dir.
 * Needs root (ownership, mknod). Built with clang by fuzz/meson.build:
 *
 *   CC=clang meson setup build-fuzz -Dfuzz=true && ninja -C build-fuzz fuzz/fuzz-unpack
 *   build-fuzz/fuzz/fuzz-unpack -max_len=4096 -max_total_time=60 NEW_CORPUS_DIR fuzz/corpus-unpack
 * (fuzz/run-smoke builds and runs every target.)
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <syslog.h>
#include <unistd.h>

#include "fileio.h"
#include "layer-unpack.h"
#include "log.h"

#define FUZZ_DIFF_ID "sha256:0000000000000000000000000000000000000000000000000000000000000000"

static char sandbox[] = "/tmp/fuzz-unpack-XXXXXX";
static int sandbox_fd = -1, layers_fd = -1;

/* Entries in @dirfd other than "." and ".." (and @except). */
static unsigned count_entries(int dirfd, const char *except) {
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;
        unsigned n = 0;

        if (!d)
                abort();
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
                    (!except || strcmp(de->d_name, except)))
                        n++;
        closedir(d);
        return n;
}

static void setup(void) {
        if (!mkdtemp(sandbox))
                abort();
        sandbox_fd = open(sandbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        /* sandbox/a/layers: "../x" and "../../x" both land inside the sandbox. */
        if (sandbox_fd < 0 || mkdir_p_at(sandbox_fd, "a/layers", 0700) < 0)
                abort();
        layers_fd = openat(sandbox_fd, "a/layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (layers_fd < 0)
                abort();
        log_set_max_level(LOG_CRIT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *error = NULL;
        uint64_t unpacked = 0;
        int fd, r;

        if (sandbox_fd < 0)
                setup();

        fd = memfd_create("blob", MFD_CLOEXEC);
        if (fd < 0 || loop_write(fd, data, size) < 0)
                abort();

        /* The digest never matches: every input takes a failure path, after
         * the whole archive was extracted. */
        r = layer_unpack(fd, layers_fd, FUZZ_DIFF_ID, FUZZ_DIFF_ID, &unpacked, &error);
        close(fd);
        free(error);
        if (r >= 0)
                abort();

        /* Nothing left behind, nothing escaped next to the layers dir. */
        if (count_entries(layers_fd, NULL) != 0 ||
            count_entries(sandbox_fd, "a") != 0)
                abort();
        int a_fd = openat(sandbox_fd, "a", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (a_fd < 0 || count_entries(a_fd, "layers") != 0)
                abort();
        close(a_fd);
        return 0;
}
