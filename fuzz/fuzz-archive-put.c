/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for ArchivePut's extraction (workers/archive/
 * container-extract.c): any input is put as a tar into a sandbox standing in
 * for a container root; next to it lies a canary directory standing in for
 * the host. After every input the canary must be exactly as it was, or we
 * abort. Needs root (ownership). Built with clang by fuzz/meson.build:
 *
 *   CC=clang meson setup build-fuzz -Dfuzz=true && ninja -C build-fuzz fuzz/fuzz-archive-put
 *   build-fuzz/fuzz/fuzz-archive-put -max_len=4096 -max_total_time=60 NEW_CORPUS_DIR fuzz/corpus-archive-put
 * (fuzz/run-smoke builds and runs every target.)
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container-archive.h"
#include "fileio.h"
#include "log.h"

static char sandbox[] = "/tmp/fuzz-archive-put-XXXXXX";
static int sandbox_fd = -1;

static void check_canary(void) {
        struct stat st;
        char buf[16] = {};
        int fd = openat(sandbox_fd, "canary/victim", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        int dfd = openat(sandbox_fd, "canary", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        struct dirent *de;
        unsigned n = 0;

        if (fd < 0 || read(fd, buf, sizeof(buf) - 1) != 4 || strcmp(buf, "orig") != 0 || fstat(fd, &st) < 0 ||
            st.st_nlink != 1 || st.st_uid != 0 || (st.st_mode & 07777) != 0644 || !d)
                abort();
        close(fd);
        while ((de = readdir(d)))
                n++;
        closedir(d);
        if (n != 3)
                abort();
        /* nothing new next to the root and the canary */
        fd = openat(sandbox_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        d = fdopendir(fd);
        n = 0;
        while ((de = readdir(d)))
                n++;
        closedir(d);
        if (n != 4)
                abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        int fd;

        log_set_max_level(LOG_CRIT);
        if (!mkdtemp(sandbox))
                abort();
        sandbox_fd = open(sandbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sandbox_fd < 0 || mkdirat(sandbox_fd, "canary", 0755) < 0)
                abort();
        fd = openat(sandbox_fd, "canary/victim", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, "orig", 4) != 4)
                abort();
        close(fd);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        CArchivePutOptions o = { .max_entries = 1000, .max_bytes = 4 << 20, .uid = 0, .gid = 0 };
        char *error = NULL;
        int in, root;

        in = memfd_create("fuzz", MFD_CLOEXEC);
        if (in < 0 || (size > 0 && write(in, data, size) != (ssize_t) size) || lseek(in, 0, SEEK_SET) != 0)
                abort();
        if (mkdirat(sandbox_fd, "root", 0755) < 0)
                abort();
        root = openat(sandbox_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                abort();
        (void) carchive_put(root, "/", in, &o, &error);
        free(error);
        close(in);
        close(root);
        check_canary();
        if (rm_rf_at(sandbox_fd, "root") < 0)
                abort();
        return 0;
}
