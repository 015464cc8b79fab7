/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "launch-config.h"
#include "macro.h"
#include "seccomp-profile.h"

/* What the container's init gets from the shim (workers/shim/shim.c). */
typedef struct InitParams {
        const LaunchConfig *config;
        const char *root;        /* --root: layers/ and containers/<id>/ below it */
        int sync_fd;             /* read end: one byte once the shim put us in our cgroup */
        int error_fd;            /* CLOEXEC write end: EOF at exec = success */
        int stdout_fd, stderr_fd;
        int stdin_fd;            /* stdin_open without tty: the read end of the shim's
                                  * stdin pipe; -1 = /dev/null. A tty container's
                                  * entrypoint gets a PTY of its own devpts instead,
                                  * whose master goes to the shim over pid_socket. */
        int exit_status_fd;      /* CLOEXEC write end: the entrypoint's wait status */
        const SeccompProgram *seccomp_program; /* container_seccomp_prepare()'s, or NULL */
        SeccompCaps seccomp_caps;
        int pid_socket;          /* CLOEXEC: the entrypoint sends its credentials, so
                                  * the shim learns its host pid (SCM_CREDENTIALS) */
        char *title_area;        /* the shim's argv strings, which the container's pid 1
                                  * inherits: overwritten so that /proc/1/cmdline inside
                                  * does not show host paths */
        size_t title_size;
} InitParams;

/* Runs in the cloned child (pid 1 of the container): builds the container,
 * forks the entrypoint and stays as its parent, forwarding signals and
 * reaping orphans, since the kernel drops signals without a handler that are
 * sent to a pid namespace's init (a SIGTERM to "sleep" as pid 1 would be
 * lost). The entrypoint's wait status goes to exit_status_fd before exiting.
 * Never returns; on failure writes the cause to error_fd and exits 127. */
_noreturn_ void container_init_run(const InitParams *p);

/* Mount helpers (workers/shim/rootfs.c): paths inside the new root are
 * resolved with RESOLVE_IN_ROOT so that symlinks in the image cannot point
 * outside it. */
int rootfs_mount_overlay(const char *root, const LaunchConfig *c, int *ret_mount_fd, char **ret_error);
int rootfs_setup(const char *root, int rootfd, const LaunchConfig *c, char **ret_error);
int open_in_root(int rootfd, const char *path, int flags);

/* Named and anonymous volumes (workers/shim/volumes.c): an O_PATH fd of the
 * volume's _data directory for c->mounts[index], created and seeded from
 * the image's content at the target on first use. */
int volume_open(const char *root, int rootfd, const LaunchConfig *c, size_t index, char **ret_error);
int rootfs_pivot(int rootfd, char **ret_error);
int rootfs_finish(const LaunchConfig *c, char **ret_error);

/* User lookup in the container's /etc/passwd and /etc/group (after
 * pivot_root; never through NSS, which would load the image's libraries). */
typedef struct ContainerUser {
        uid_t uid;
        gid_t gid;
        gid_t *groups;
        size_t n_groups;
        char *home;
} ContainerUser;
int container_user_resolve(const char *user, char *const *extra_groups, ContainerUser *ret, char **ret_error);
void container_user_done(ContainerUser *u);
/* Becomes @u (supplementary groups, gid, uid), keeping the permitted
 * capabilities for the caller to set next; shared by the container's init
 * and zlayer-exec's exec monitor. On failure -errno and *ret_error names
 * the step (free it). */
int container_user_switch(const ContainerUser *u, char **ret_error);

/* The capabilities a container's processes keep (user.c, shared with
 * zlayer-exec's exec monitor): Docker's default set, or all with
 * @privileged, plus @cap_add minus @cap_drop, limited to what the host's
 * bounding set still has. @want has @ncaps entries. */
void container_caps_compute(char *const *cap_add, char *const *cap_drop, bool privileged, bool *want, int ncaps);
/* The default seccomp program a container's process loads last before
 * its exec (lib/seccomp-profile.h), made beforehand, while ROOT is still
 * reachable: kept in ROOT/seccomp (@root NULL: in this process's memory
 * only). NULL when the default profile does not apply (privileged,
 * seccomp=unconfined, a profile of the container's own) or could not be
 * had; *ret_caps = the capabilities it was made for. */
const SeccompProgram *container_seccomp_prepare(const char *root, const LaunchConfig *c, bool privileged,
                                                SeccompCaps *ret_caps);
/* Loads the default profile for @caps: @prepared when it was made for
 * @caps, else compiled now. */
int container_seccomp_apply_default(const SeccompProgram *prepared, SeccompCaps prepared_caps, SeccompCaps caps);
/* The value of @key in a KEY=VALUE list, or NULL. */
const char *container_env_get(char *const *env, const char *key);
