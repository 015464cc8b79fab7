/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

#define MAX_GROUPS 256

static bool parse_id(const char *s, unsigned *ret) {
        char *end;
        if (isempty(s) || !(s[0] >= '0' && s[0] <= '9'))
                return false;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno != 0 || *end || v >= 0xFFFFFFFFUL)
                return false;
        *ret = (unsigned) v;
        return true;
}

/* Splits a colon-separated line into at most @max fields in place. */
static size_t split_fields(char *line, char **fields, size_t max) {
        size_t n = 0;
        char *p = line;
        while (n < max) {
                fields[n++] = p;
                p = strchr(p, ':');
                if (!p)
                        break;
                *p++ = '\0';
        }
        return n;
}

static void strip_nl(char *s) {
        size_t n = strlen(s);
        if (n > 0 && s[n - 1] == '\n')
                s[n - 1] = '\0';
}

/* Looks a passwd entry up by name (or uid when @by_uid). */
static int passwd_find(const char *name, bool by_uid, unsigned uid, unsigned *ret_uid, unsigned *ret_gid,
                       char **ret_name, char **ret_home) {
        _cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
        _cleanup_free_ char *line = NULL;
        size_t size = 0;

        if (!f)
                return -errno;
        while (getline(&line, &size, f) > 0) {
                char *fl[7];
                unsigned u, g;
                strip_nl(line);
                if (split_fields(line, fl, 7) < 7)
                        continue;
                if (!parse_id(fl[2], &u) || !parse_id(fl[3], &g))
                        continue;
                if (by_uid ? u != uid : !streq(fl[0], name))
                        continue;
                *ret_uid = u;
                *ret_gid = g;
                *ret_name = strdup(fl[0]);
                *ret_home = strdup(fl[5]);
                return *ret_name && *ret_home ? 0 : -ENOMEM;
        }
        return -ESRCH;
}

static int group_find(const char *name, unsigned *ret_gid) {
        _cleanup_fclose_ FILE *f = fopen("/etc/group", "re");
        _cleanup_free_ char *line = NULL;
        size_t size = 0;

        if (!f)
                return -errno;
        while (getline(&line, &size, f) > 0) {
                char *fl[4];
                unsigned g;
                strip_nl(line);
                if (split_fields(line, fl, 4) < 3 || !parse_id(fl[2], &g))
                        continue;
                if (streq(fl[0], name)) {
                        *ret_gid = g;
                        return 0;
                }
        }
        return -ESRCH;
}

/* The groups listing @user as a member (Docker adds them). */
static int group_memberships(const char *user, gid_t *groups, size_t *n) {
        _cleanup_fclose_ FILE *f = fopen("/etc/group", "re");
        _cleanup_free_ char *line = NULL;
        size_t size = 0;

        if (!f)
                return errno == ENOENT ? 0 : -errno;
        while (getline(&line, &size, f) > 0 && *n < MAX_GROUPS) {
                char *fl[4], *save = NULL;
                unsigned g;
                strip_nl(line);
                if (split_fields(line, fl, 4) < 4 || !parse_id(fl[2], &g))
                        continue;
                for (char *m = strtok_r(fl[3], ",", &save); m; m = strtok_r(NULL, ",", &save))
                        if (streq(m, user))
                                groups[(*n)++] = g;
        }
        return 0;
}

/* Returns @err (negative), the message formatted into *ret_error. */
_printf_(3, 4) static int fail_with(int err, char **ret_error, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return err;
}
#define fail(ret_error, ...) fail_with(-EINVAL, ret_error, __VA_ARGS__)

int container_user_resolve(const char *user, char *const *extra_groups, ContainerUser *ret, char **ret_error) {
        _cleanup_free_ char *u = strdup(strempty(user)), *name = NULL, *home = NULL;
        _cleanup_free_ gid_t *groups = calloc(MAX_GROUPS, sizeof(gid_t));
        unsigned uid = 0, gid = 0, id;
        size_t n = 0;
        char *group;
        int r;

        if (!u || !groups)
                return -ENOMEM;
        group = strchr(u, ':');
        if (group)
                *group++ = '\0';

        if (u[0] == '\0')
                u = (free(u), strdup("0"));
        if (!u)
                return -ENOMEM;

        if (parse_id(u, &id)) {
                uid = id;
                r = passwd_find(NULL, true, id, &uid, &gid, &name, &home);
                if (r == -ESRCH || r == -ENOENT)
                        gid = 0; /* a numeric uid need not exist in the image */
                else if (r < 0)
                        return fail(ret_error, "reading /etc/passwd: %s", strerror(-r));
        } else {
                r = passwd_find(u, false, 0, &uid, &gid, &name, &home);
                if (r == -ESRCH || r == -ENOENT)
                        return fail(ret_error, "unable to find user %s: no matching entries in passwd file", u);
                if (r < 0)
                        return fail(ret_error, "reading /etc/passwd: %s", strerror(-r));
        }

        if (group) {
                if (!parse_id(group, &gid)) {
                        r = group_find(group, &gid);
                        if (r < 0)
                                return fail(ret_error, "unable to find group %s: no matching entries in group file", group);
                }
        }

        if (name && (r = group_memberships(name, groups, &n)) < 0)
                return fail(ret_error, "reading /etc/group: %s", strerror(-r));
        for (char *const *g = extra_groups; g && *g && n < MAX_GROUPS; g++) {
                if (!parse_id(*g, &id)) {
                        r = group_find(*g, &id);
                        if (r < 0)
                                return fail(ret_error, "unable to find group %s: no matching entries in group file", *g);
                }
                groups[n++] = id;
        }

        *ret = (ContainerUser) {
                .uid = uid,
                .gid = gid,
                .groups = TAKE_PTR(groups),
                .n_groups = n,
                .home = home ? TAKE_PTR(home) : strdup("/"),
        };
        return ret->home ? 0 : -ENOMEM;
}

void container_user_done(ContainerUser *u) {
        free(u->groups);
        free(u->home);
        *u = (ContainerUser) {};
}

int container_user_switch(const ContainerUser *u, char **ret_error) {
        /* keep the permitted set across setresuid: the caller sets the
         * container's capabilities next, as the new user */
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return fail_with(-errno, ret_error, "PR_SET_KEEPCAPS: %m");
        if (setgroups(u->n_groups, u->groups) < 0)
                return fail_with(-errno, ret_error, "setgroups: %m");
        if (setresgid(u->gid, u->gid, u->gid) < 0)
                return fail_with(-errno, ret_error, "setgid %u: %m", (unsigned) u->gid);
        if (setresuid(u->uid, u->uid, u->uid) < 0)
                return fail_with(-errno, ret_error, "setuid %u: %m", (unsigned) u->uid);
        (void) prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
        return 0;
}

/* Docker's default capability set. */
static const cap_value_t default_caps[] = {
        CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW,
        CAP_SETGID, CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE,
        CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
};

static bool cap_in(char *const *names, cap_value_t cap) {
        for (char *const *n = names; n && *n; n++) {
                cap_value_t v;
                if (cap_from_name(*n, &v) == 0 && v == cap)
                        return true;
        }
        return false;
}

void container_caps_compute(char *const *cap_add, char *const *cap_drop, bool privileged, bool *want, int ncaps) {
        for (int cap = 0; cap < ncaps; cap++)
                want[cap] = privileged;
        if (!privileged) {
                for (size_t i = 0; i < ELEMENTSOF(default_caps); i++)
                        if (default_caps[i] < ncaps)
                                want[default_caps[i]] = true;
                for (int cap = 0; cap < ncaps; cap++) {
                        if (cap_in(cap_add, cap))
                                want[cap] = true;
                        if (cap_in(cap_drop, cap))
                                want[cap] = false;
                }
        }
        /* We can only keep what we have: a host whose bounding set lacks a
         * capability (e.g. CAP_SYS_RESOURCE) cannot grant it. */
        for (int cap = 0; cap < ncaps; cap++)
                if (want[cap] && cap_get_bound(cap) != 1)
                        want[cap] = false;
}

const SeccompProgram *container_seccomp_prepare(const char *root, const LaunchConfig *c, bool privileged,
                                                SeccompCaps *ret_caps) {
        const SeccompProgram *p = NULL;
        _cleanup_close_ int dir = -1;
        SeccompCaps mask = 0;
        bool want[64];
        int ncaps;

        if (c->privileged || streq(strempty(c->seccomp), "unconfined") || (c->seccomp && c->seccomp[0] == '{'))
                return NULL;
        ncaps = (int) cap_max_bits();
        if (ncaps <= 0 || ncaps > 64)
                ncaps = CAP_LAST_CAP + 1;
        container_caps_compute(c->cap_add, c->cap_drop, privileged, want, ncaps);
        for (int i = 0; i < ncaps; i++)
                if (want[i])
                        mask |= UINT64_C(1) << i;
        if (root) {
                _cleanup_free_ char *path = NULL;

                if (asprintf(&path, "%s/seccomp", root) < 0)
                        return NULL;
                (void) mkdir(path, 0700);
                dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        }
        if (seccomp_profile_default_program(dir, mask, &p) < 0)
                return NULL;
        *ret_caps = mask;
        return p;
}

int container_seccomp_apply_default(const SeccompProgram *prepared, SeccompCaps prepared_caps, SeccompCaps caps) {
        if (prepared && prepared_caps == caps)
                return seccomp_program_load(prepared);
        return seccomp_profile_apply_default(caps);
}

const char *container_env_get(char *const *env, const char *key) {
        size_t n = strlen(key);
        for (char *const *e = env; e && *e; e++)
                if (strneq(*e, key, n) && (*e)[n] == '=')
                        return *e + n + 1;
        return NULL;
}
