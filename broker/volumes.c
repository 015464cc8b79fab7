/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SyncContainerVolumes(id): syncfs() of each named volume the container's
 * launch config mounts, done by zlayer-exec (Exec1.SyncVolumes), since the
 * volumes are root's. Anonymous volumes are the container's own scratch
 * space and not flushed; a container without named volumes has nothing to
 * flush and succeeds. Any state but "being removed" is fine: the volumes
 * outlive the container's processes. */
#include <json-c/json.h>
#include <stdio.h>

#include "container.h"
#include "errors.h"
#include "fileio.h"
#include "log.h"
#include "volumes.h"
#include "worker-links.h"

#define CONFIG_MAX (4 * 1024 * 1024)
#define SYNC_USEC (5 * 60 * USEC_PER_SEC)
#define SYNCS_MAX 16 /* SyncContainerVolumes in flight; more is Busy */

static unsigned n_syncs;

typedef struct VolumeSync {
        Container *container;
        sd_bus_message *call;
        char **names;
} VolumeSync;

static void volume_sync_free(VolumeSync *s) {
        n_syncs--;
        container_unref(s->container);
        sd_bus_message_unref(s->call);
        strv_free(s->names);
        free(s);
}

/* The names of the named volumes in the container's config.json. */
int container_named_volumes(Broker *b, const char *id, char ***ret) {
        _cleanup_free_ char *rel = NULL, *text = NULL;
        _cleanup_strv_free_ char **names = NULL;
        json_object *cfg, *mounts;
        size_t n = 0;
        int r;

        if (asprintf(&rel, "%s/config.json", id) < 0)
                return -ENOMEM;
        r = read_file_at(b->containers_fd, rel, CONFIG_MAX, &text, NULL);
        if (r < 0)
                return r;
        cfg = json_tokener_parse(text);
        if (!cfg)
                return -EBADMSG;
        if (json_object_object_get_ex(cfg, "mounts", &mounts) && json_object_is_type(mounts, json_type_array)) {
                names = calloc(json_object_array_length(mounts) + 1, sizeof(char *));
                if (!names) {
                        json_object_put(cfg);
                        return -ENOMEM;
                }
                for (size_t i = 0; i < json_object_array_length(mounts); i++) {
                        json_object *m = json_object_array_get_idx(mounts, i), *t, *name;
                        if (json_object_object_get_ex(m, "type", &t) && streq(strempty(json_object_get_string(t)), "volume") &&
                            json_object_object_get_ex(m, "name", &name) && json_object_is_type(name, json_type_string) &&
                            !(names[n++] = strdup(json_object_get_string(name)))) {
                                json_object_put(cfg);
                                return -ENOMEM;
                        }
                }
        }
        json_object_put(cfg);
        *ret = TAKE_PTR(names);
        return (int) n;
}

static int on_synced(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        VolumeSync *s = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        uint32_t synced;

        if (e)
                (void) reply_forward_error(s->call, e);
        else if (sd_bus_message_read(reply, "u", &synced) < 0)
                (void) reply_error_errnof(s->call, ZL_ERROR_INTERNAL, "bad SyncVolumes reply for %s", s->container->id);
        else {
                log_debug("Synced %u named volume(s) of %s", synced, s->container->id);
                (void) sd_bus_reply_method_return(s->call, NULL);
        }
        volume_sync_free(s);
        return 0;
}

static void sync_with_link(Broker *b, sd_bus *link, int error, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        VolumeSync *s = userdata;
        int r;

        if (!link) {
                (void) reply_error_errnof(s->call, ZL_ERROR_INTERNAL, "worker exec is not available to sync the volumes of %s",
                                          s->container->id);
                volume_sync_free(s);
                return;
        }
        r = sd_bus_message_new_method_call(link, &m, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "SyncVolumes");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, s->names);
        if (r >= 0)
                r = sd_bus_call_async(link, NULL, m, on_synced, s, SYNC_USEC);
        if (r >= 0)
                return;
        (void) reply_error_errnof(s->call, ZL_ERROR_INTERNAL, "cannot sync the volumes of %s: %s", s->container->id,
                                  strerror(-r));
        volume_sync_free(s);
}

int method_sync_container_volumes(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **names = NULL;
        Broker *b = userdata;
        VolumeSync *s;
        Container *c;
        int r;

        r = container_find_authorized(b, m, &c, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (c->removing)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "container %s is being removed", c->id);

        r = container_named_volumes(b, c->id, &names);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "reading the config of %s: %m", c->id);
        if (r == 0)
                return sd_bus_reply_method_return(m, NULL);

        if (n_syncs >= SYNCS_MAX)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "cannot sync the volumes of %s: %d syncs are running",
                                         c->id, SYNCS_MAX);
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        n_syncs++;
        s->container = container_ref(c);
        s->call = sd_bus_message_ref(m);
        s->names = TAKE_PTR(names);
        r = worker_acquire(b, WORKER_EXEC, sync_with_link, s);
        if (r < 0) {
                volume_sync_free(s);
                return r;
        }
        return 1;
}
