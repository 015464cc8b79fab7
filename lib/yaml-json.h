/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stddef.h>

/* Limits that keep a hostile document cheap to reject. */
#define YAML_JSON_MAX_INPUT (1024 * 1024)
#define YAML_JSON_MAX_DEPTH 64
#define YAML_JSON_MAX_NODES 100000
/* Every map costs json-c a hash table (~1 KiB): bound them separately so a
 * 1 MiB document of "{}" cannot cost hundreds of MiB. */
#define YAML_JSON_MAX_CONTAINERS 10000

/* Convert one YAML document into a json_object tree.
 *
 * Typing follows the YAML 1.2 core schema for plain scalars: null Null NULL
 * ~ and empty → null; true/false (any of the three case forms) → bool;
 * decimal, 0o octal and 0x hex integers → int64; floats, .inf, .nan →
 * double; everything else → string. Quoted and block scalars are strings.
 * Explicit core tags (!!str !!int !!float !!bool !!null !!map !!seq) are
 * honoured, other tags are rejected. Anchors and aliases are rejected
 * (billion laughs), as are duplicate and non-scalar mapping keys, more
 * than one document, nesting deeper than YAML_JSON_MAX_DEPTH, more than
 * YAML_JSON_MAX_NODES nodes or YAML_JSON_MAX_CONTAINERS maps and lists,
 * and input above YAML_JSON_MAX_INPUT bytes.
 *
 * An empty stream yields a JSON null. Returns -EINVAL (with *ret_error,
 * "line L column C: …", if non-NULL), -E2BIG for too-large input, -ENOMEM. */
int yaml_to_json(const char *text, size_t len, json_object **ret, char **ret_error);
