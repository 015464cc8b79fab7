/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <systemd/sd-bus.h>

/* polkit actions (policy/com.zlayer.runtime1.policy, dbus-api.md). */
#define AUTHZ_ACTION_INSPECT           "com.zlayer.runtime1.inspect"
#define AUTHZ_ACTION_READ_LOGS         "com.zlayer.runtime1.read-logs"
#define AUTHZ_ACTION_MANAGE_IMAGES     "com.zlayer.runtime1.manage-images"
#define AUTHZ_ACTION_MANAGE_CONTAINERS "com.zlayer.runtime1.manage-containers"
#define AUTHZ_ACTION_EXEC              "com.zlayer.runtime1.exec"

typedef struct AuthzMethod {
        const char *member;   /* Manager method */
        const char *action;   /* one of AUTHZ_ACTION_* */
        const char *detail;   /* polkit detail key for the target ("container", "image"), or NULL */
} AuthzMethod;

/* The whole method → action table (for the consistency tests). */
const AuthzMethod *authz_method_table(size_t *n);
/* The entry of Manager method @member, NULL when it has none. */
const AuthzMethod *authz_method_find(const char *member);
