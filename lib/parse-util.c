/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "parse-util.h"

/* Reads "<digits>[.<digits>]" at *p. The fraction is kept as numerator and
 * denominator (at most 18 digits, further digits are dropped: they cannot
 * change whole bytes or microseconds of any value that fits). */
static int parse_decimal(const char **p, uint64_t *ret_int, uint64_t *ret_frac, uint64_t *ret_den) {
        const char *s = *p;
        uint64_t v = 0, frac = 0, den = 1;
        unsigned n_frac = 0;

        if (!(*s >= '0' && *s <= '9') && !(*s == '.' && s[1] >= '0' && s[1] <= '9'))
                return -EINVAL;

        for (; *s >= '0' && *s <= '9'; s++)
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t) (*s - '0'), &v))
                        return -ERANGE;

        if (*s == '.') {
                s++;
                if (!(*s >= '0' && *s <= '9'))
                        return -EINVAL;
                for (; *s >= '0' && *s <= '9'; s++)
                        if (n_frac < 18) {
                                frac = frac * 10 + (uint64_t) (*s - '0');
                                den *= 10;
                                n_frac++;
                        }
        }

        *p = s;
        *ret_int = v;
        *ret_frac = frac;
        *ret_den = den;
        return 0;
}

/* (int + frac/den) * mult, rounded down, with overflow checks. */
static int scale(uint64_t i, uint64_t frac, uint64_t den, uint64_t mult, uint64_t *ret) {
        uint64_t v, part;

        if (__builtin_mul_overflow(i, mult, &v))
                return -ERANGE;
        if (frac > 0) {
                /* frac < den <= 10^18 and mult <= 2^60: use 128-bit math. */
                unsigned __int128 t = (unsigned __int128) frac * mult / den;
                if (t > UINT64_MAX)
                        return -ERANGE;
                part = (uint64_t) t;
                if (__builtin_add_overflow(v, part, &v))
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}

static const struct {
        const char *suffix;
        uint64_t mult;
} size_suffixes[] = {
        { "Ki", 1ULL << 10 }, { "Mi", 1ULL << 20 }, { "Gi", 1ULL << 30 },
        { "Ti", 1ULL << 40 }, { "Pi", 1ULL << 50 }, { "Ei", 1ULL << 60 },
        { "KiB", 1ULL << 10 }, { "MiB", 1ULL << 20 }, { "GiB", 1ULL << 30 },
        { "TiB", 1ULL << 40 }, { "PiB", 1ULL << 50 }, { "EiB", 1ULL << 60 },
        { "k", 1000ULL }, { "K", 1000ULL }, { "M", 1000000ULL },
        { "G", 1000000000ULL }, { "T", 1000000000000ULL },
        { "P", 1000000000000000ULL }, { "E", 1000000000000000000ULL },
        { "kB", 1000ULL }, { "KB", 1000ULL }, { "MB", 1000000ULL },
        { "GB", 1000000000ULL }, { "TB", 1000000000000ULL },
        { "PB", 1000000000000000ULL }, { "EB", 1000000000000000000ULL },
        { "B", 1 },
};

int parse_size(const char *s, uint64_t *ret) {
        uint64_t i, frac, den, mult = 0;
        const char *p = s;
        int r;

        if (!s || !ret)
                return -EINVAL;

        r = parse_decimal(&p, &i, &frac, &den);
        if (r < 0)
                return r;

        if (*p == 0)
                mult = 1;
        else
                for (size_t k = 0; k < ELEMENTSOF(size_suffixes); k++)
                        if (streq(p, size_suffixes[k].suffix)) {
                                mult = size_suffixes[k].mult;
                                break;
                        }
        if (mult == 0)
                return -EINVAL;
        /* "1.5" bytes makes no sense; a fraction needs a unit above bytes. */
        if (den > 1 && mult == 1)
                return -EINVAL;

        return scale(i, frac, den, mult, ret);
}

static const struct {
        const char *unit;
        uint64_t nsec;
} duration_units[] = {
        /* longer spellings first so "ms" is not read as "m" + "s" */
        { "ns", 1ULL }, { "us", 1000ULL }, { "\xc2\xb5s", 1000ULL }, { "ms", 1000000ULL },
        { "s", 1000000000ULL }, { "m", 60ULL * 1000000000ULL },
        { "h", 3600ULL * 1000000000ULL }, { "d", 86400ULL * 1000000000ULL },
};

int parse_duration(const char *s, uint64_t *ret_usec) {
        /* Sum in nanoseconds: ~584 years fit, so whole-µs rounding is exact. */
        uint64_t total = 0;
        const char *p = s;
        int r;

        if (!s || !ret_usec)
                return -EINVAL;

        if (streq(s, "0")) {
                *ret_usec = 0;
                return 0;
        }
        if (*p == 0)
                return -EINVAL;

        while (*p) {
                uint64_t i, frac, den, v, nsec = 0;
                size_t len = 0;

                r = parse_decimal(&p, &i, &frac, &den);
                if (r < 0)
                        return r;

                for (size_t k = 0; k < ELEMENTSOF(duration_units); k++) {
                        size_t l = strlen(duration_units[k].unit);
                        if (strneq(p, duration_units[k].unit, l) &&
                            !(p[l] >= 'a' && p[l] <= 'z') && l > len) {
                                nsec = duration_units[k].nsec;
                                len = l;
                        }
                }
                if (nsec == 0)
                        return -EINVAL;
                p += len;

                r = scale(i, frac, den, nsec, &v);
                if (r < 0)
                        return r;
                if (__builtin_add_overflow(total, v, &total))
                        return -ERANGE;
        }

        *ret_usec = total / 1000;
        return 0;
}

static const char *const capability_names[] = {
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
        "SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
        "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
        "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
        "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
        "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
        "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
        "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};

static int kernel_cap_last_cap(void) {
        static int cached = -2;
        char buf[32] = {};
        FILE *f;

        if (cached != -2)
                return cached;
        cached = -1;
        f = fopen("/proc/sys/kernel/cap_last_cap", "re");
        if (f) {
                if (fgets(buf, sizeof buf, f))
                        cached = atoi(buf);
                fclose(f);
        }
        return cached;
}

int capability_from_name(const char *s) {
        if (!s)
                return -EINVAL;
        if (strncasecmp(s, "CAP_", 4) == 0)
                s += 4;
        for (size_t i = 0; i < ELEMENTSOF(capability_names); i++)
                if (strcasecmp(s, capability_names[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

int capability_normalize(const char *s, char **ret) {
        int i, last;

        if (!s || !ret)
                return -EINVAL;
        if (strcasecmp(s, "ALL") == 0) {
                *ret = strdup("ALL");
                return *ret ? 0 : -ENOMEM;
        }
        i = capability_from_name(s);
        if (i < 0)
                return i;
        last = kernel_cap_last_cap();
        if (last >= 0 && i > last)
                return -EOPNOTSUPP;
        if (asprintf(ret, "CAP_%s", capability_names[i]) < 0)
                return -ENOMEM;
        return 0;
}

int signal_normalize(const char *s, char **ret) {
        const char *name = s;
        char *end;
        long n;

        if (!s || !ret || !*s)
                return -EINVAL;

        if (*s >= '0' && *s <= '9') {
                errno = 0;
                n = strtol(s, &end, 10);
                if (errno != 0 || *end || n < 1 || n > SIGRTMAX)
                        return -EINVAL;
                if (n >= SIGRTMIN) {
                        if (asprintf(ret, "SIGRTMIN+%ld", n - SIGRTMIN) < 0)
                                return -ENOMEM;
                        return 0;
                }
                if (!sigabbrev_np((int) n))
                        return -EINVAL;
                if (asprintf(ret, "SIG%s", sigabbrev_np((int) n)) < 0)
                        return -ENOMEM;
                return 0;
        }

        if (strncasecmp(name, "SIG", 3) == 0)
                name += 3;

        if (strncasecmp(name, "RTMIN", 5) == 0 || strncasecmp(name, "RTMAX", 5) == 0) {
                bool min = strncasecmp(name, "RTMIN", 5) == 0;
                long off = 0;
                if (name[5]) {
                        if ((min && name[5] != '+') || (!min && name[5] != '-') ||
                            !(name[6] >= '0' && name[6] <= '9'))
                                return -EINVAL;
                        errno = 0;
                        off = strtol(name + 6, &end, 10);
                        if (errno != 0 || *end || off > SIGRTMAX - SIGRTMIN)
                                return -EINVAL;
                }
                n = min ? SIGRTMIN + off : SIGRTMAX - off;
                if (asprintf(ret, "SIGRTMIN+%ld", n - SIGRTMIN) < 0)
                        return -ENOMEM;
                return 0;
        }

        for (int i = 1; i < SIGRTMIN; i++) {
                const char *abbrev = sigabbrev_np(i);
                if (abbrev && strcasecmp(name, abbrev) == 0) {
                        if (asprintf(ret, "SIG%s", abbrev) < 0)
                                return -ENOMEM;
                        return 0;
                }
        }
        return -EINVAL;
}

bool hostname_is_valid(const char *s) {
        size_t label = 0, n = 0;
        char prev = '.';

        if (!s || !*s)
                return false;
        for (const char *p = s; *p; p++, n++) {
                if (*p == '.') {
                        if (label == 0 || prev == '-')
                                return false;
                        label = 0;
                } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                           *p == '-') {
                        if (label == 0 && *p == '-')
                                return false;
                        label++;
                } else
                        return false;
                prev = *p;
        }
        return n <= 63 && label > 0 && prev != '-';
}

static bool user_part_is_valid(const char *s, size_t len) {
        if (len == 0 || len > 32 || s[0] == '-')
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
                        return false;
        /* A number must fit a uid_t and not be the reserved (uid_t) -1. */
        if (strspn(s, "0123456789") >= len) {
                unsigned long long v = 0;
                for (size_t i = 0; i < len; i++) {
                        v = v * 10 + (unsigned long long) (s[i] - '0');
                        if (v >= 4294967295ULL)
                                return false;
                }
        }
        return true;
}

bool user_spec_is_valid(const char *s) {
        const char *colon;

        if (!s)
                return false;
        colon = strchr(s, ':');
        if (!colon)
                return user_part_is_valid(s, strlen(s));
        return user_part_is_valid(s, (size_t) (colon - s)) && user_part_is_valid(colon + 1, strlen(colon + 1));
}

int capability_list_all(char ***ret) {
        int last = kernel_cap_last_cap();
        size_t n = last >= 0 ? MIN((size_t) last + 1, ELEMENTSOF(capability_names)) : ELEMENTSOF(capability_names);
        char **l = calloc(n + 1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (asprintf(&l[i], "CAP_%s", capability_names[i]) < 0) {
                        l[i] = NULL;
                        strv_free(l);
                        return -ENOMEM;
                }
        *ret = l;
        return 0;
}

bool sysctl_name_is_namespaced(const char *name, size_t n) {
        static const char *const prefixes[] = { "net.", "kernel.msg", "kernel.shm", "fs.mqueue." };
        bool namespaced = n == strlen("kernel.sem") && strneq(name, "kernel.sem", n);

        if (n == 0 || n > 128 || name[0] == '.' || name[n - 1] == '.')
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '-' || c == '.'))
                        return false;
                if (c == '.' && name[i + 1] == '.')
                        return false;
        }
        for (size_t i = 0; !namespaced && i < ELEMENTSOF(prefixes); i++)
                namespaced = n > strlen(prefixes[i]) && strneq(name, prefixes[i], strlen(prefixes[i]));
        return namespaced;
}
