/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Process sandboxing for the daemons that stay root (lib/sandbox.c). */

/* Keep only the capabilities in @keep (a mask, bit n = capability n) in the
 * bounding, permitted, effective and inheritable sets, clear the ambient
 * set, and set no_new_privs: nothing this process or its children exec can
 * get more back. Needs CAP_SETPCAP to shrink the bounding set (so call it
 * before anything else drops capabilities). */
int sandbox_limit_capabilities(uint64_t keep);

/* CapEff/CapPrm/CapBnd and NoNewPrivs of /proc/@pid/status (0 = self). */
int sandbox_read_status(int pid, uint64_t *ret_eff, uint64_t *ret_prm, uint64_t *ret_bnd, int *ret_nnp);

/* The sandbox of each daemon behind zlayerd (lib/sandbox-workers.c), called
 * from its main once it has dropped what it does not need and before it
 * serves anything. See docs/HACKING.md "Sandboxes".
 *
 * broker: a seccomp allowlist (it already runs as --user, no capabilities). */
int sandbox_broker(void);

/* puller: Landlock (read-only system dirs for libc, NSS, TLS and the CA
 * store; the directory of @auth_file read-only; @root/images read-write and
 * nothing else), then a seccomp allowlist. Without Landlock in the kernel it
 * logs a warning and goes on with seccomp alone. */
int sandbox_puller(const char *root, const char *auth_file);

/* archive: an empty network namespace of its own (it never needs one), then
 * a seccomp allowlist. Call after sandbox_limit_capabilities(). */
int sandbox_archive(void);

/* Become --user @user for good (supplementary groups, gid, uid,
 * no_new_privs), or check that this process already runs as that user (the
 * tests) and set no_new_privs. Logs what went wrong. */
int sandbox_become_user(const char *user);

/* stats: read-only. As root, an empty network namespace of its own; then
 * --user @user (no capabilities, no_new_privs), Landlock with read access
 * to /sys/fs/cgroup, /proc and /sys/devices/system/cpu and nothing else (a
 * warning without Landlock in the kernel), and a seccomp allowlist without
 * a single call that creates, removes or renames files. */
int sandbox_stats(const char *user);

/* Test builds only (-Dtest_hooks=true): when $ZL_SANDBOX_SELFTEST is set,
 * try what it names from inside the sandbox just made, print the outcome on
 * stdout ("selftest OP: ok" or "selftest OP: errno ENAME") and exit.
 * OP is exit, write:PATH, read:PATH, connect:IPV4:PORT, setuid0, mount, ptrace,
 * unshare-user, clone-newuser. Returns only when the variable is unset or
 * the build has no test hooks. */
void sandbox_selftest_maybe(void);
