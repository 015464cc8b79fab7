/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sys/resource.h>

#include "macro.h"
#include "rlimits.h"

static const struct {
        const char *name;
        int resource;
} rlimit_table[] = {
        { "as", RLIMIT_AS },
        { "core", RLIMIT_CORE },
        { "cpu", RLIMIT_CPU },
        { "data", RLIMIT_DATA },
        { "fsize", RLIMIT_FSIZE },
        { "locks", RLIMIT_LOCKS },
        { "memlock", RLIMIT_MEMLOCK },
        { "msgqueue", RLIMIT_MSGQUEUE },
        { "nice", RLIMIT_NICE },
        { "nofile", RLIMIT_NOFILE },
        { "nproc", RLIMIT_NPROC },
        { "rss", RLIMIT_RSS },
        { "rtprio", RLIMIT_RTPRIO },
        { "rttime", RLIMIT_RTTIME },
        { "sigpending", RLIMIT_SIGPENDING },
        { "stack", RLIMIT_STACK },
};

const char *rlimit_canonical_name(const char *name) {
        for (size_t i = 0; name && i < ELEMENTSOF(rlimit_table); i++)
                if (streq(name, rlimit_table[i].name))
                        return rlimit_table[i].name;
        return NULL;
}

int rlimit_from_name(const char *name) {
        for (size_t i = 0; name && i < ELEMENTSOF(rlimit_table); i++)
                if (streq(name, rlimit_table[i].name))
                        return rlimit_table[i].resource;
        return -EINVAL;
}

int rlimit_apply_clamped(int resource, uint64_t soft, uint64_t hard) {
        struct rlimit cur, want;

        if (getrlimit(resource, &cur) < 0)
                return -errno;
        want.rlim_max = MIN((rlim_t) hard, cur.rlim_max);
        want.rlim_cur = MIN((rlim_t) soft, want.rlim_max);
        if (setrlimit(resource, &want) < 0)
                return -errno;
        return 0;
}
