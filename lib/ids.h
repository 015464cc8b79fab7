/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Validation of the names that cross process boundaries. Workers re-check
 * everything they receive with these (ARCHITECTURE.md §1). */

/* A DNS label: [a-z0-9]([a-z0-9-]{0,61}[a-z0-9])? */
bool service_name_is_valid(const char *s);

/* A container id "<service>-rep-<replica>" or a container name: [a-z0-9][a-z0-9_.-]{0,127} */
bool container_id_is_valid(const char *s);

/* "sha256:" + 64 lowercase hex digits. */
bool digest_is_valid(const char *s);

/* 64 lowercase hex digits. */
bool hex64_is_valid(const char *s);

/* Format the container id of a service replica into @buf; -EINVAL when invalid. */
int container_id_format(const char *service, unsigned replica, char *buf, size_t size);
