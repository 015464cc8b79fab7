/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>

#include "fileio.h"
#include "macro.h"
#include "procfs.h"

static int proc_stat(pid_t pid, char *ret_state, uint64_t *ret) {
        _cleanup_free_ char *buf = NULL;
        char path[64];
        const char *p;
        int r;

        if (pid <= 0)
                return -EINVAL;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        r = read_file_at(AT_FDCWD, path, 64 * 1024, &buf, NULL);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        /* comm (field 2) may contain spaces and ')': skip to the last ')' */
        p = strrchr(buf, ')');
        if (!p)
                return -EBADMSG;
        p++;
        if (ret_state)
                *ret_state = p[0] == ' ' ? p[1] : '?';
        /* now at field 3; field 22 is 19 fields further */
        for (int field = 3; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EBADMSG;
        }
        errno = 0;
        char *end;
        unsigned long long v = strtoull(p + 1, &end, 10);
        if (errno != 0 || end == p + 1)
                return -EBADMSG;
        *ret = v;
        return 0;
}

int proc_starttime(pid_t pid, uint64_t *ret) {
        return proc_stat(pid, NULL, ret);
}

int pid_file_write_at(int dirfd, const char *name, pid_t pid, uint64_t starttime) {
        char buf[64];
        int n = snprintf(buf, sizeof(buf), "%d %" PRIu64 "\n", (int) pid, starttime);
        return write_file_replace_at(dirfd, name, buf, (size_t) n, 0644);
}

int pid_file_read_at(int dirfd, const char *name, pid_t *ret_pid, uint64_t *ret_starttime) {
        _cleanup_free_ char *buf = NULL;
        int pid;
        unsigned long long st;
        char nl;
        int r;

        r = read_file_at(dirfd, name, 128, &buf, NULL);
        if (r < 0)
                return r;
        if (sscanf(buf, "%d %llu%c", &pid, &st, &nl) != 3 || nl != '\n' || pid <= 0)
                return -EBADMSG;
        *ret_pid = pid;
        *ret_starttime = st;
        return 0;
}

int pidfd_open_verified(pid_t pid, uint64_t starttime) {
        _cleanup_close_ int fd = -1;
        uint64_t now;
        int r;

        fd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
                return -errno;
        /* Checked after opening: if the pid was reused before the open, the
         * start time differs; after it, the pidfd pins the process. */
        char state;
        r = proc_stat(pid, &state, &now);
        if (r < 0)
                return r;
        /* a zombie is dead: it only waits for its parent to reap it */
        if (now != starttime || state == 'Z' || state == 'X')
                return -ESRCH;
        return TAKE_FD(fd);
}

uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

uint64_t proc_starttime_to_usec(uint64_t starttime) {
        struct timespec rt, bt;
        long hz = sysconf(_SC_CLK_TCK);

        if (hz <= 0)
                hz = 100;
        clock_gettime(CLOCK_REALTIME, &rt);
        clock_gettime(CLOCK_BOOTTIME, &bt);
        uint64_t boot_usec = ((uint64_t) rt.tv_sec * USEC_PER_SEC + (uint64_t) rt.tv_nsec / 1000) -
                             ((uint64_t) bt.tv_sec * USEC_PER_SEC + (uint64_t) bt.tv_nsec / 1000);
        return boot_usec + starttime * USEC_PER_SEC / (uint64_t) hz;
}
