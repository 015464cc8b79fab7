/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "broker.h"

/* A Job object (dbus-api.md): /com/zlayer/Runtime1/job/<n>, interface
 * com.zlayer.Runtime1.Job. Announced with JobNew when created, gone with
 * JobRemoved when finished. The operation behind it (a pull) feeds it
 * progress and is told about Cancel through @cancel. */

#define ZL_JOB_PREFIX "/com/zlayer/Runtime1/job"
#define ZL_JOB_IFACE "com.zlayer.Runtime1.Job"

typedef struct Job Job;

/* Asked to cancel (Job.Cancel): returns 0 when the cancel is under way
 * (the job then finishes as canceled), < 0 when it cannot be canceled. */
typedef int (*job_cancel_t)(Job *j, void *userdata);

/* @owner: unique bus name of the caller that started it (may Cancel it,
 * besides root); NULL for none. */
int job_new(Broker *b, const char *type, const char *target, const char *owner, job_cancel_t cancel, void *userdata,
            Job **ret);
uint32_t job_id(const Job *j);
/* "running" etc.; PropertiesChanged State. */
void job_set_state(Job *j, const char *state);
/* One layer's progress: Progress signal and, when the sum moved, the
 * Progress property (bytes done of bytes known). */
void job_report(Job *j, const char *layer, const char *status, uint64_t current, uint64_t total);
/* Ends the job: JobRemoved(result = done | failed | canceled, @error) and
 * frees it. @e NULL = done; Canceled errors give "canceled". */
void job_finish(Job *j, const sd_bus_error *e);
