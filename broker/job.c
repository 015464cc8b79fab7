/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "errors.h"
#include "job.h"
#include "log.h"

#define JOB_LAYERS_MAX 512

typedef struct JobLayer {
        char *digest;
        uint64_t current, total;
} JobLayer;

struct Job {
        Broker *broker;
        uint32_t id;
        char path[64];
        char *type, *target, *state, *owner;
        double progress;
        JobLayer *layers;
        size_t n_layers;
        sd_bus_slot *slot;
        job_cancel_t cancel;
        void *userdata;
        bool canceling;
};

static uint32_t next_job_id = 1;

uint32_t job_id(const Job *j) {
        return j->id;
}

static int property_get_progress(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Job *j = userdata;
        return sd_bus_message_append(reply, "d", j->progress);
}

static int property_get_string(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Job *j = userdata;
        const char *v = streq(property, "Type") ? j->type : streq(property, "Target") ? j->target : j->state;
        return sd_bus_message_append(reply, "s", v);
}

static int method_cancel(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        Job *j = userdata;
        uid_t uid = (uid_t) -1;
        int r;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        if ((r < 0 || uid != 0) && !(j->owner && streq(strempty(sd_bus_message_get_sender(m)), j->owner)))
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "only root or the caller that started job %" PRIu32 " may cancel it", j->id);
        if (j->canceling)
                return sd_bus_reply_method_return(m, NULL);
        if (!j->cancel)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "job %" PRIu32 " cannot be canceled", j->id);
        r = j->cancel(j, j->userdata);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "job %" PRIu32 " cannot be canceled now: %s",
                                         j->id, strerror(-r));
        j->canceling = true;
        log_info("Canceling job %" PRIu32 " (%s %s).", j->id, j->type, j->target);
        job_set_state(j, "canceling");
        return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable job_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "u", NULL, offsetof(Job, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Type", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Target", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Progress", "d", property_get_progress, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Cancel", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("Progress", SD_BUS_ARGS("s", layer, "s", status, "t", current, "t", total), 0),
        SD_BUS_VTABLE_END
};

static void job_free(Job *j) {
        if (!j)
                return;
        sd_bus_slot_unref(j->slot);
        for (size_t i = 0; i < j->n_layers; i++)
                free(j->layers[i].digest);
        free(j->layers);
        free(j->type);
        free(j->target);
        free(j->state);
        free(j->owner);
        free(j);
}

int job_new(Broker *b, const char *type, const char *target, const char *owner, job_cancel_t cancel, void *userdata,
            Job **ret) {
        Job *j;
        int r;

        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        *j = (Job) { .broker = b, .cancel = cancel, .userdata = userdata };
        j->id = next_job_id++;
        if (next_job_id == 0)
                next_job_id = 1;
        snprintf(j->path, sizeof(j->path), ZL_JOB_PREFIX "/%" PRIu32, j->id);
        j->type = strdup(type);
        j->target = strdup(target);
        j->state = strdup("running");
        j->owner = owner ? strdup(owner) : NULL;
        if (!j->type || !j->target || !j->state || (owner && !j->owner)) {
                job_free(j);
                return -ENOMEM;
        }
        if (b->bus) {
                r = sd_bus_add_object_vtable(b->bus, &j->slot, j->path, ZL_JOB_IFACE, job_vtable, j);
                if (r < 0) {
                        job_free(j);
                        return r;
                }
                (void) sd_bus_emit_signal(b->bus, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, "JobNew", "uoss", j->id, j->path,
                                          j->type, j->target);
        }
        *ret = j;
        return 0;
}

void job_set_state(Job *j, const char *state) {
        char *s = strdup(state);
        if (!s)
                return;
        free(j->state);
        j->state = s;
        if (j->slot)
                (void) sd_bus_emit_properties_changed(j->broker->bus, j->path, ZL_JOB_IFACE, "State", NULL);
}

void job_report(Job *j, const char *layer, const char *status, uint64_t current, uint64_t total) {
        JobLayer *l = NULL;
        uint64_t sum_current = 0, sum_total = 0;
        double progress;

        for (size_t i = 0; i < j->n_layers; i++)
                if (streq(j->layers[i].digest, layer))
                        l = &j->layers[i];
        if (!l && j->n_layers < JOB_LAYERS_MAX) {
                JobLayer *n = realloc(j->layers, (j->n_layers + 1) * sizeof(JobLayer));
                if (n) {
                        j->layers = n;
                        l = &j->layers[j->n_layers];
                        *l = (JobLayer) { .digest = strdup(layer) };
                        if (l->digest)
                                j->n_layers++;
                        else
                                l = NULL;
                }
        }
        if (l) {
                l->current = MIN(current, total);
                l->total = total;
        }
        for (size_t i = 0; i < j->n_layers; i++) {
                sum_current += j->layers[i].current;
                sum_total += j->layers[i].total;
        }
        if (!j->slot)
                return;
        (void) sd_bus_emit_signal(j->broker->bus, j->path, ZL_JOB_IFACE, "Progress", "sstt", layer, status, current,
                                  total);
        progress = sum_total > 0 ? (double) sum_current / (double) sum_total : 0.0;
        if (progress != j->progress) {
                j->progress = progress;
                (void) sd_bus_emit_properties_changed(j->broker->bus, j->path, ZL_JOB_IFACE, "Progress", NULL);
        }
}

void job_finish(Job *j, const sd_bus_error *e) {
        const char *result;

        if (!j)
                return;
        result = !e ? "done" : sd_bus_error_has_name(e, ZL_ERROR_CANCELED) ? "canceled" : "failed";
        if (!e && j->progress != 1.0) {
                j->progress = 1.0;
                if (j->slot)
                        (void) sd_bus_emit_properties_changed(j->broker->bus, j->path, ZL_JOB_IFACE, "Progress", NULL);
        }
        log_debug("Job %" PRIu32 " (%s %s) %s.", j->id, j->type, j->target, result);
        if (j->slot) {
                _cleanup_free_ char *msg = NULL;
                if (e && asprintf(&msg, "%s: %s", e->name, strempty(e->message)) < 0)
                        msg = NULL;
                (void) sd_bus_emit_signal(j->broker->bus, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, "JobRemoved", "uoss", j->id,
                                          j->path, result, e ? strempty(msg) : "");
        }
        job_free(j);
}
