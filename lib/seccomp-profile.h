/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The containers' default seccomp profile (lib/seccomp-profile.c).
 *
 * A denylist with default allow, not Docker's allowlist: every system call
 * not named here is allowed (so new kernel calls work and need no update),
 * and the calls Docker's default profile refuses are refused with EPERM
 * (clone3 with ENOSYS, so that libc falls back to clone, whose flags a
 * filter can read). As in Docker, some refusals are lifted when the
 * container holds the capability that makes them legitimate, e.g. mount and
 * unshare with CAP_SYS_ADMIN, init_module with CAP_SYS_MODULE.
 *
 * The filter covers the native architecture and its compat ones (x86 and
 * x32 on x86_64), so a 32-bit binary cannot step around it. */

/* Bit n set = the container keeps capability n (CAP_SYS_ADMIN = 21, …). */
typedef uint64_t SeccompCaps;

/* Whether the kernel is at least 4.8 (ptrace can no longer be used to
 * bypass seccomp there, so Docker allows it): @release as in uname -r. */
bool seccomp_kernel_allows_ptrace(const char *release);

/* Loads the default profile into the calling thread; call it last, right
 * before execve, after PR_SET_NO_NEW_PRIVS (or with CAP_SYS_ADMIN). */
int seccomp_profile_apply_default(SeccompCaps caps);
