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
