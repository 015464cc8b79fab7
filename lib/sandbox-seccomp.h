/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Seccomp allowlists of the daemons behind zlayerd (lib/sandbox-seccomp.c,
 * the tables in lib/sandbox-syscalls.c).
 *
 * A daemon names every system call it makes; any other kills the whole
 * process with SIGSYS (SECCOMP_RET_KILL_PROCESS), and the kernel logs it
 * (audit type=1326 in dmesg: the syscall number and the process), so a
 * missing entry shows up as a worker that zlayerd restarts and a kernel
 * line naming the call. Only the native architecture is allowed: an x32 or
 * i386 call is killed too. The lists were taken from strace -f -c of the
 * whole integration suite (docs/HACKING.md "Sandboxes").
 *
 * zlayer-exec gets no filter: filters are inherited across fork and exec,
 * and it is the parent of every shim and container. */

/* NULL-terminated lists of system call names. */
extern const char *const sandbox_syscalls_base[];     /* sd-event, sd-bus, json-c, glibc */
extern const char *const sandbox_syscalls_files[];    /* reading and writing files by fd */
extern const char *const sandbox_syscalls_broker[];
extern const char *const sandbox_syscalls_puller[];   /* libcurl, threads, sockets */
extern const char *const sandbox_syscalls_archive[];  /* extraction with ownership */
extern const char *const sandbox_syscalls_stats[];    /* reading files only (no sandbox_syscalls_files) */
extern const char *const sandbox_syscalls_sanitizer[]; /* added in ASan builds only */

/* The first name of @list this architecture does not know, or NULL. */
const char *sandbox_syscalls_unknown(const char *const *list);

/* Load an allowlist made of the NULL-terminated array of lists @lists into
 * this process (all threads: SECCOMP_FILTER_FLAG_TSYNC). Sets no_new_privs.
 * Names this architecture lacks are skipped. */
int sandbox_seccomp_allowlist(const char *const *const *lists);
