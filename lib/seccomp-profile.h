/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <linux/filter.h>

/* The containers' default seccomp profile (lib/seccomp-profile.c).
 *
 * Docker's default profile as an allowlist: every system call not listed
 * answers EPERM (Docker's defaultAction, defaultErrnoRet 1), so a kernel's
 * new calls stay refused until the table names them; a program that probes
 * a new call and falls back only on ENOSYS then fails where Docker's would
 * too. Argument filters as in Docker: personality only with the values
 * Docker lists, socket with any family but AF_VSOCK, clone without
 * namespace flags (clone3 answers ENOSYS, so that libc falls back to
 * clone, whose flags a filter can read). Some calls come back with the
 * capability that makes them legitimate: mount, unshare, setns and
 * sethostname with CAP_SYS_ADMIN, init_module with CAP_SYS_MODULE, ptrace
 * with CAP_SYS_PTRACE (or with any kernel from 4.8 on), chroot with
 * CAP_SYS_CHROOT, …
 *
 * The filter covers the native architecture and its compat ones (x86 and
 * x32 on x86_64, arm on aarch64), so a 32-bit binary cannot step around it. */

/* Bit n set = the container keeps capability n (CAP_SYS_ADMIN = 21, …). */
typedef uint64_t SeccompCaps;

/* Whether the kernel is at least 4.8 (ptrace can no longer be used to
 * bypass seccomp there, so Docker allows it): @release as in uname -r. */
bool seccomp_kernel_allows_ptrace(const char *release);

/* Loads the default profile into the calling thread; call it last, right
 * before execve, after PR_SET_NO_NEW_PRIVS (or with CAP_SYS_ADMIN). */
int seccomp_profile_apply_default(SeccompCaps caps);

/* The first name of the profile's tables that libseccomp does not know (a
 * typo, or a libseccomp older than the table), else NULL: such a name is
 * skipped when the filter is built, so the call stays refused. */
const char *seccomp_profile_unknown_name(void);

/* A profile of the container's own in Docker's JSON format (defaultAction,
 * defaultErrnoRet, architectures, archMap, syscalls with names, action,
 * errnoRet, args, includes/excludes by caps, arches and minKernel), given
 * inline as security_opt "seccomp=<JSON>" (lib/seccomp-profile-json.c).
 * Limits: the text, the number of names. */
#define SECCOMP_PROFILE_SIZE_MAX (1024U * 1024U)
/* once compacted: it travels as one launch config string (lib/launch-config.c) */
#define SECCOMP_PROFILE_COMPACT_MAX 65535U
#define SECCOMP_PROFILE_RULES_MAX 4096U

/* Checks @text without making a filter (no system call): -EINVAL with the
 * bad value named in *ret_error (free it). With @ret_compact, hands back the
 * profile as one line without spaces (a pretty-printed file's newlines and
 * tabs are no launch config string). */
int seccomp_profile_json_check(const char *text, char **ret_compact, char **ret_error);

/* Builds and loads @text's filter into the calling thread, for a process
 * that keeps the capabilities @caps (a profile's "includes": {"caps"}). */
int seccomp_profile_json_apply(const char *text, SeccompCaps caps, char **ret_error);

/* The default profile compiled to a BPF program. libseccomp takes about
 * 6 ms to generate the program of three architectures (x86_64, x86, x32),
 * which every container start and every exec would pay; the program
 * depends only on the capabilities kept, the kernel (ptrace) and the
 * tables, so it is made once and kept. */
typedef struct SeccompProgram {
        struct sock_filter *insns;
        unsigned short len;
} SeccompProgram;

/* The program for @caps: from this process's memory, else from the file
 * @cache_dir_fd holds for it (named by a hash of everything the program
 * depends on: the tables, @caps, the ptrace decision, the architecture and
 * libseccomp's version), else compiled and stored there (written whole,
 * then renamed). @cache_dir_fd may be -1 (no file). The program stays
 * owned by the process's cache: do not free it. */
int seccomp_profile_default_program(int cache_dir_fd, SeccompCaps caps, const SeccompProgram **ret);

/* Loads @p into the calling thread as seccomp_load() would: sets
 * no_new_privs, then the filter (the same preconditions apply). */
int seccomp_program_load(const SeccompProgram *p);
