/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The public error names (dbus-api.md), also used on the private links. */
#define ZL_ERROR_PREFIX "com.zlayer.Runtime1.Error."
#define ZL_ERROR_NOT_FOUND ZL_ERROR_PREFIX "NotFound"
#define ZL_ERROR_INVALID_SPEC ZL_ERROR_PREFIX "InvalidSpec"
#define ZL_ERROR_ALREADY_EXISTS ZL_ERROR_PREFIX "AlreadyExists"
#define ZL_ERROR_INVALID_STATE ZL_ERROR_PREFIX "InvalidState"
#define ZL_ERROR_UNSUPPORTED ZL_ERROR_PREFIX "Unsupported"
#define ZL_ERROR_PULL_FAILED ZL_ERROR_PREFIX "PullFailed"
#define ZL_ERROR_START_FAILED ZL_ERROR_PREFIX "StartFailed"
#define ZL_ERROR_EXEC_FAILED ZL_ERROR_PREFIX "ExecFailed"
#define ZL_ERROR_TIMEOUT ZL_ERROR_PREFIX "Timeout"
#define ZL_ERROR_CANCELED ZL_ERROR_PREFIX "Canceled"
#define ZL_ERROR_BUSY ZL_ERROR_PREFIX "Busy"
#define ZL_ERROR_INTERNAL ZL_ERROR_PREFIX "Internal"

#define ZL_BUS_NAME "com.zlayer.Runtime1"
#define ZL_MANAGER_PATH "/com/zlayer/Runtime1"
#define ZL_MANAGER_IFACE "com.zlayer.Runtime1.Manager"
#define ZL_CONTAINER_PREFIX "/com/zlayer/Runtime1/container"
#define ZL_CONTAINER_IFACE "com.zlayer.Runtime1.Container"

/* Private links (docs/internals.md). */
#define ZL_WORKER_PATH "/com/zlayer/Worker"
#define ZL_PULLER_IFACE "com.zlayer.Worker.Puller1"
#define ZL_ARCHIVE_IFACE "com.zlayer.Worker.Archive1"
#define ZL_EXEC_IFACE "com.zlayer.Worker.Exec1"
#define ZL_STATS_IFACE "com.zlayer.Worker.Stats1"
#define ZL_CONTROL_PATH "/com/zlayer/Broker"
#define ZL_CONTROL_IFACE "com.zlayer.Broker.Control1"
