/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macro.h"
#include "sandbox.h"

static unsigned last_cap(void) {
        unsigned v = CAP_LAST_CAP;
        FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");

        if (f) {
                if (fscanf(f, "%u", &v) != 1 || v >= 64)
                        v = CAP_LAST_CAP;
                fclose(f);
        }
        return v;
}

int sandbox_limit_capabilities(uint64_t keep) {
        struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct data[2] = {};
        unsigned last = last_cap();

        for (unsigned cap = 0; cap <= last; cap++) {
                if (keep & (UINT64_C(1) << cap))
                        continue;
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                        return -errno;
        }
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;

        if (syscall(SYS_capget, &header, data) < 0)
                return -errno;
        for (int i = 0; i < 2; i++) {
                uint32_t k = (uint32_t) (keep >> (32 * i));
                data[i].effective &= k;
                data[i].permitted &= k;
                data[i].inheritable &= k;
        }
        if (syscall(SYS_capset, &header, data) < 0)
                return -errno;

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        return 0;
}

int sandbox_read_status(int pid, uint64_t *ret_eff, uint64_t *ret_prm, uint64_t *ret_bnd, int *ret_nnp) {
        char path[64], line[256];
        unsigned found = 0;
        FILE *f;

        if (pid > 0)
                snprintf(path, sizeof(path), "/proc/%d/status", pid);
        else
                snprintf(path, sizeof(path), "/proc/self/status");
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                if (sscanf(line, "CapEff: %" SCNx64, ret_eff) == 1)
                        found |= 1;
                else if (sscanf(line, "CapPrm: %" SCNx64, ret_prm) == 1)
                        found |= 2;
                else if (sscanf(line, "CapBnd: %" SCNx64, ret_bnd) == 1)
                        found |= 4;
                else if (sscanf(line, "NoNewPrivs: %d", ret_nnp) == 1)
                        found |= 8;
        }
        fclose(f);
        return found == 15 ? 0 : -EBADMSG;
}
