/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sizes as users write them in a ServiceSpec: "1000000", "512k", "64Mi",
 * "1.5Gi". Suffixes follow Kubernetes quantities: k K M G T P E are powers
 * of 1000 (an optional trailing "B" is allowed: "10MB"), Ki Mi Gi Ti Pi Ei
 * powers of 1024 (also "KiB" …). A fraction is allowed with a suffix and is
 * rounded down to whole bytes. Surrounding whitespace is not.
 * Returns -EINVAL for syntax errors (including negatives), -ERANGE when the
 * value does not fit in uint64_t. */
int parse_size(const char *s, uint64_t *ret);

/* Durations: one or more <number><unit> groups, e.g. "10s", "500ms",
 * "1m30s", "1.5h", units ns us µs ms s m h d; "0" alone is allowed.
 * Result in microseconds (sub-microsecond parts are rounded down).
 * -EINVAL for syntax errors, -ERANGE on overflow. */
int parse_duration(const char *s, uint64_t *ret_usec);

/* Capability names as users write them ("net_admin", "NET_ADMIN",
 * "CAP_NET_ADMIN") → "CAP_NET_ADMIN"; "ALL" (any case) → "ALL". Only names
 * the kernel defines are accepted, and only those the running kernel knows
 * (/proc/sys/kernel/cap_last_cap) when that file is readable.
 * -EINVAL for unknown names, -EOPNOTSUPP for ones newer than the kernel. */
int capability_normalize(const char *s, char **ret);
/* The number of a capability the kernel defines (same spellings), or -EINVAL. */
int capability_from_name(const char *s);

/* Signal names and numbers ("TERM", "sigterm", "SIGTERM", "15",
 * "SIGRTMIN+3") → "SIGTERM" / "SIGRTMIN+3" style; -EINVAL when unknown. */
int signal_normalize(const char *s, char **ret);

/* A hostname: 1…63 characters, dot-separated labels of [A-Za-z0-9-] that
 * neither start nor end with '-'. */
bool hostname_is_valid(const char *s);

/* "uid[:gid]" or "name[:group]" (mixing allowed): each part is a number
 * or a name of [A-Za-z0-9_.-] not starting with '-', at most 32 bytes. */
bool user_spec_is_valid(const char *s);

/* Every capability the running kernel knows, as "CAP_…" names (what "ALL"
 * stands for). */
int capability_list_all(char ***ret);

/* A sysctl that lives in a container's own namespaces (net.*, kernel.msg*,
 * kernel.sem, kernel.shm*, fs.mqueue.*): the first @n bytes of @name are
 * dot-separated non-empty components of [A-Za-z0-9_-], at most 128 bytes.
 * The ServiceSpec parser and the launch config parser share it, so a spec
 * that validates always gives a launch config that parses. */
bool sysctl_name_is_namespaced(const char *name, size_t n);
