/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for workers/archive/image-archive-load.c (LoadImages):
 * any input goes through the tar reader, the staging, manifest.json /
 * index.json parsing, the digest and diff_id checks and layer unpacking in
 * a sandbox store. A refused input must leave the store empty (no blob, no
 * layer, no staging dir); an accepted one is cleared for the next run.
 * Needs root (layer unpacking). Built with clang by fuzz/meson.build:
 *
 *   CC=clang meson setup build-fuzz -Dfuzz=true && ninja -C build-fuzz fuzz/fuzz-image-load
 *   build-fuzz/fuzz/fuzz-image-load -max_len=65536 -max_total_time=60 NEW_CORPUS_DIR fuzz/corpus-image-load
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "fileio.h"
#include "image-archive.h"
#include "log.h"

static char sandbox[] = "/tmp/fuzz-image-load-XXXXXX";
static int images_fd = -1, layers_fd = -1, sandbox_fd = -1;

static unsigned count_entries(int dirfd, const char *name) {
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;
        unsigned n = 0;

        if (!d)
                abort();
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static void setup(void) {
        if (!mkdtemp(sandbox))
                abort();
        sandbox_fd = open(sandbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        /* sandbox/s/{images,layers}: an escape lands in sandbox or s */
        if (sandbox_fd < 0 || mkdir_p_at(sandbox_fd, "s/images/blobs/sha256", 0700) < 0 ||
            mkdir_p_at(sandbox_fd, "s/images/ingest", 0700) < 0 || mkdir_p_at(sandbox_fd, "s/layers", 0700) < 0)
                abort();
        images_fd = openat(sandbox_fd, "s/images", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        layers_fd = openat(sandbox_fd, "s/layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (images_fd < 0 || layers_fd < 0)
                abort();
        log_set_max_level(LOG_CRIT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *json = NULL, *error = NULL;
        int fd, r;

        if (sandbox_fd < 0)
                setup();
        fd = memfd_create("archive", MFD_CLOEXEC);
        if (fd < 0 || loop_write(fd, data, size) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                abort();
        r = image_load(images_fd, layers_fd, fd, &json, &error);
        close(fd);
        if ((r >= 0) != (json != NULL) || (r < 0 && !error))
                abort();
        free(json);
        free(error);
        if (count_entries(images_fd, "ingest") != 0 || count_entries(sandbox_fd, ".") != 1 ||
            count_entries(sandbox_fd, "s") != 2)
                abort();
        if (r < 0 && (count_entries(images_fd, "blobs/sha256") != 0 || count_entries(layers_fd, ".") != 0))
                abort();
        if (r >= 0 && (rm_rf_at(images_fd, "blobs/sha256") < 0 || mkdirat(images_fd, "blobs/sha256", 0700) < 0 ||
                       rm_rf_at(sandbox_fd, "s/layers") < 0 || mkdirat(sandbox_fd, "s/layers", 0700) < 0))
                abort();
        if (r >= 0) {
                close(layers_fd);
                layers_fd = openat(sandbox_fd, "s/layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (layers_fd < 0)
                        abort();
        }
        return 0;
}
