/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* Process identity across pid reuse: a pid together with its start time
 * (field 22 of /proc/<pid>/stat, clock ticks since boot). Shared by
 * zlayer-exec and zlayer-shim. */

int proc_starttime(pid_t pid, uint64_t *ret);

/* "<pid> <starttime>\n" files (shim.pid, init.pid), atomically written. */
int pid_file_write_at(int dirfd, const char *name, pid_t pid, uint64_t starttime);
int pid_file_read_at(int dirfd, const char *name, pid_t *ret_pid, uint64_t *ret_starttime);

/* A pidfd for @pid, only if it is still the process that started at
 * @starttime and is not a zombie; -ESRCH otherwise. */
int pidfd_open_verified(pid_t pid, uint64_t starttime);

/* µs since the epoch at which a process with @starttime started. */
uint64_t proc_starttime_to_usec(uint64_t starttime);

uint64_t now_usec(void);
