/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Internal to the ServiceSpec parser (servicespec*.c): the schema walker
 * and the typed value checks every field handler uses. */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "servicespec.h"

/* Bounds shared with launch_config_parse(): lists and strings that reach the
 * launch config must fit what every reader accepts. */
#define SPEC_MAX_ITEMS 4096
#define SPEC_MAX_STRING 65536
#define SPEC_MIN_MEMORY (6 * 1024 * 1024)

typedef struct SpecCtx {
        ServiceSpec *spec;
        char *error;
} SpecCtx;

typedef int (*spec_field_fn)(SpecCtx *c, json_object *parent, const char *key, json_object *v, const char *path);

typedef struct SpecField {
        const char *name;
        spec_field_fn fn;
} SpecField;

_printf_(3, 4) int spec_fail(SpecCtx *c, const char *path, const char *fmt, ...);
int spec_fail_type(SpecCtx *c, const char *path, const char *want, json_object *v);
char *spec_path_join(const char *parent, const char *key);
char *spec_path_index(const char *parent, size_t i);
bool spec_text_is_printable(const char *s);
bool spec_is_type(json_object *v, json_type t);

/* Calls the handler of each member of @obj; unknown members are errors
 * unless @extra accepts the key. A NULL handler accepts and keeps the value. */
int spec_walk_object(SpecCtx *c, json_object *obj, const char *path, const SpecField *fields, size_t n_fields,
                     bool (*extra)(const char *key));

int spec_want_string(SpecCtx *c, json_object *v, const char *path, const char **ret);
int spec_want_bool(SpecCtx *c, json_object *v, const char *path, bool *ret);
int spec_want_int(SpecCtx *c, json_object *v, const char *path, int64_t min, int64_t max, int64_t *ret);
/* A scalar as a string, replacing the member @key of @parent in place. */
int spec_stringify_scalar(SpecCtx *c, json_object *parent, const char *key, json_object *v, const char *path,
                          const char **ret);
int spec_enum_value(SpecCtx *c, json_object *v, const char *path, const char *const *values, const char **ret);
int spec_want_size(SpecCtx *c, json_object *v, const char *path, int64_t *ret);
int spec_want_duration(SpecCtx *c, json_object *v, const char *path, uint64_t *ret);
int spec_want_absolute_path(SpecCtx *c, json_object *v, const char *path, char **ret);
int spec_strv_push(char ***l, const char *s);
/* A list of strings; *ret becomes a (possibly empty) strv. */
int spec_want_strv(SpecCtx *c, json_object *v, const char *path, char ***ret);

/* Handlers shared by several tables, and those of servicespec-fields.c. */
#define SPEC_HANDLER(name) int name(SpecCtx *c, json_object *p, const char *k, json_object *v, const char *path)
SPEC_HANDLER(spec_f_any_string);
SPEC_HANDLER(spec_f_any_bool);
SPEC_HANDLER(spec_f_strv);
SPEC_HANDLER(spec_f_resources);
SPEC_HANDLER(spec_f_endpoints);
SPEC_HANDLER(spec_f_port_mappings);
SPEC_HANDLER(spec_f_storage);
SPEC_HANDLER(spec_f_network_mode);
SPEC_HANDLER(spec_f_hostname);
SPEC_HANDLER(spec_f_dns);
SPEC_HANDLER(spec_f_extra_hosts);
SPEC_HANDLER(spec_f_user);
SPEC_HANDLER(spec_f_extra_groups);
SPEC_HANDLER(spec_f_cap_add);
SPEC_HANDLER(spec_f_cap_drop);
SPEC_HANDLER(spec_f_privileged);
SPEC_HANDLER(spec_f_read_only_root_fs);
SPEC_HANDLER(spec_f_tty);
SPEC_HANDLER(spec_f_stdin_open);
SPEC_HANDLER(spec_f_ulimits);
SPEC_HANDLER(spec_f_health);
