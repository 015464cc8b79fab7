/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>

#include "config.h"
#include "container.h"
#include "errors.h"
#include "exec-session.h"
#include "logs-stream.h"
#include "image-ops.h"
#include "image-store.h"
#include "lifecycle.h"
#include "log.h"
#include "manager-archive.h"
#include "manager-attach.h"
#include "manager-commit.h"
#include "manager-image-io.h"
#include "manager-stats.h"
#include "volumes.h"

#define UNPRIV SD_BUS_VTABLE_UNPRIVILEGED

int reply_error_errnof(sd_bus_message *call, const char *name, const char *fmt, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        sd_bus_error_set(&e, name, msg ?: "out of memory");
        return sd_bus_reply_method_error(call, &e);
}

int reply_forward_error(sd_bus_message *call, const sd_bus_error *e) {
        return sd_bus_reply_method_error(call, e);
}

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", ZL_VERSION);
}

static int property_get_storage_root(sd_bus *bus, const char *path, const char *interface, const char *property,
                                     sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        return sd_bus_message_append(reply, "s", b->opts.root);
}

static int property_get_n_images(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        return sd_bus_message_append(reply, "u", (uint32_t) image_store_count(b->images));
}

int manager_emit_counts_changed(Broker *b) {
        if (!b->bus)
                return 0;
        return sd_bus_emit_properties_changed(b->bus, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, "NContainers", "NImages", NULL);
}

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StorageRoot", "s", property_get_storage_root, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CgroupVersion", "u", NULL, offsetof(Broker, cgroup_version), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("NContainers", "u", NULL, offsetof(Broker, n_containers), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("NImages", "u", property_get_n_images, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),

        /* Images */
        SD_BUS_METHOD_WITH_ARGS("PullImage", SD_BUS_ARGS("s", image, "s", policy, "a{sv}", options),
                                SD_BUS_RESULT("s", reference, "s", digest), method_pull_image, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("ListImages", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sst)", images),
                                method_list_images, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("InspectImage", SD_BUS_ARGS("s", image), SD_BUS_RESULT("s", json), method_inspect_image, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("GetImageHistory", SD_BUS_ARGS("s", image), SD_BUS_RESULT("a(sxsasts)", entries), method_get_image_history, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("TagImage", SD_BUS_ARGS("s", source, "s", target), SD_BUS_NO_RESULT, method_tag_image, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("RemoveImage", SD_BUS_ARGS("s", image, "b", force), SD_BUS_NO_RESULT, method_remove_image, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("PruneImages", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", deleted, "t", reclaimed), method_prune_images, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("SearchImages", SD_BUS_ARGS("s", term, "u", limit), SD_BUS_RESULT("a(ssubb)", results), method_search_images, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("SaveImages", SD_BUS_ARGS("as", names, "h", output), SD_BUS_NO_RESULT, method_save_images, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("LoadImages", SD_BUS_ARGS("h", input, "b", quiet), SD_BUS_RESULT("as", references), method_load_images, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("ImportImage", SD_BUS_ARGS("h", input, "s", repository, "s", tag), SD_BUS_RESULT("s", image_id), method_import_image, UNPRIV),

        /* Containers */
        SD_BUS_METHOD_WITH_ARGS("CreateContainer", SD_BUS_ARGS("s", service, "u", replica, "s", spec),
                                SD_BUS_RESULT("s", id, "o", path), method_create_container, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("StartContainer", SD_BUS_ARGS("s", id), SD_BUS_NO_RESULT,
                                method_start_container, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("StopContainer", SD_BUS_ARGS("s", id, "t", timeout), SD_BUS_NO_RESULT,
                                method_stop_container, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("KillContainer", SD_BUS_ARGS("s", id, "s", signal), SD_BUS_NO_RESULT,
                                method_kill_container, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("RemoveContainer", SD_BUS_ARGS("s", id, "b", force), SD_BUS_NO_RESULT,
                                method_remove_container, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("RenameContainer", SD_BUS_ARGS("s", id, "s", new_name), SD_BUS_NO_RESULT, method_rename_container, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("PauseContainer", SD_BUS_ARGS("s", id), SD_BUS_NO_RESULT, method_pause_container, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("UnpauseContainer", SD_BUS_ARGS("s", id), SD_BUS_NO_RESULT, method_unpause_container, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("GetContainerState", SD_BUS_ARGS("s", id),
                                SD_BUS_RESULT("s", state, "i", exit_code, "s", reason),
                                method_get_container_state, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("WaitContainer", SD_BUS_ARGS("s", id, "s", condition),
                                SD_BUS_RESULT("i", exit_code, "s", reason, "s", signal, "t", finished_at),
                                method_wait_container, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("GetContainerLogs", SD_BUS_ARGS("s", id, "t", tail), SD_BUS_RESULT("a(tss)", entries),
                                method_get_container_logs, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("OpenContainerLogs", SD_BUS_ARGS("s", id, "a{sv}", options), SD_BUS_RESULT("h", stream), method_open_container_logs, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("Exec", SD_BUS_ARGS("s", id, "as", command),
                    SD_BUS_RESULT("i", exit_code, "ay", stdout, "ay", stderr), method_exec, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("ExecStream", SD_BUS_ARGS("s", id, "as", command), SD_BUS_RESULT("h", stream, "o", exec), method_exec_stream, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("ExecPty", SD_BUS_ARGS("s", id, "a{sv}", options), SD_BUS_RESULT("h", fd, "o", exec), method_exec_pty, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("AttachContainer", SD_BUS_ARGS("s", id, "a{sv}", options), SD_BUS_RESULT("h", fd), method_attach_container, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("ResizeContainerTTY", SD_BUS_ARGS("s", id, "q", rows, "q", cols), SD_BUS_NO_RESULT, method_resize_container_tty, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("GetContainerStats", SD_BUS_ARGS("s", id), SD_BUS_RESULT("a{sv}", sample), method_get_container_stats, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("OpenContainerStats", SD_BUS_ARGS("s", id, "t", interval), SD_BUS_RESULT("h", stream), method_open_container_stats, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("GetContainerPid", SD_BUS_ARGS("s", id), SD_BUS_RESULT("u", pid),
                                method_get_container_pid, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("GetContainerIP", SD_BUS_ARGS("s", id), SD_BUS_RESULT("s", address), method_get_container_ip, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("GetContainerPortOverride", SD_BUS_ARGS("s", id), SD_BUS_RESULT("q", port), method_get_container_port_override, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("InspectContainer", SD_BUS_ARGS("s", id), SD_BUS_RESULT("s", json), method_inspect_container, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("TopContainer", SD_BUS_ARGS("s", id, "as", ps_args), SD_BUS_RESULT("as", titles, "aas", processes), method_top_container, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("GetContainerChanges", SD_BUS_ARGS("s", id), SD_BUS_RESULT("a(sy)", changes), method_get_container_changes, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("GetContainerPorts", SD_BUS_ARGS("s", id), SD_BUS_RESULT("a(qssq)", ports), method_get_container_ports, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("UpdateContainerResources", SD_BUS_ARGS("s", id, "a{sv}", update), SD_BUS_RESULT("as", warnings), method_update_container_resources, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("ListContainers", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sssussto)", containers),
                                method_list_containers, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("PruneContainers", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", deleted, "t", reclaimed), method_prune_containers, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("ArchiveGet", SD_BUS_ARGS("s", id, "s", path),
                    SD_BUS_RESULT("h", tar, "s", name, "x", size, "u", mode, "s", mtime, "s", link_target), method_archive_get, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("ArchivePut", SD_BUS_ARGS("s", id, "s", path, "h", tar, "a{sv}", options), SD_BUS_NO_RESULT, method_archive_put, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("ArchiveHead", SD_BUS_ARGS("s", id, "s", path),
                    SD_BUS_RESULT("s", name, "x", size, "u", mode, "s", mtime, "s", link_target), method_archive_head, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("ExportContainer", SD_BUS_ARGS("s", id), SD_BUS_RESULT("h", tar), method_export_container, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("CommitContainer", SD_BUS_ARGS("s", id, "a{sv}", options), SD_BUS_RESULT("s", image_id), method_commit_container, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("SyncContainerVolumes", SD_BUS_ARGS("s", id), SD_BUS_NO_RESULT, method_sync_container_volumes, UNPRIV),

        SD_BUS_SIGNAL_WITH_ARGS("ContainerNew", SD_BUS_ARGS("s", id, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("ContainerRemoved", SD_BUS_ARGS("s", id, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("ContainerStateChanged", SD_BUS_ARGS("s", id, "s", state, "i", exit_code), 0),
        SD_BUS_SIGNAL_WITH_ARGS("ImageNew", SD_BUS_ARGS("s", reference, "s", digest), 0),
        SD_BUS_SIGNAL_WITH_ARGS("ImageRemoved", SD_BUS_ARGS("s", reference), 0),
        SD_BUS_SIGNAL_WITH_ARGS("JobNew", SD_BUS_ARGS("u", id, "o", path, "s", type, "s", target), 0),
        SD_BUS_SIGNAL_WITH_ARGS("JobRemoved", SD_BUS_ARGS("u", id, "o", path, "s", result, "s", error), 0),
        SD_BUS_VTABLE_END
};

int manager_register(Broker *b) {
        int r;

        r = sd_bus_add_object_vtable(b->bus, NULL, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, manager_vtable, b);
        if (r < 0)
                return log_error_errno(r, "Failed to add the Manager object: %m");
        r = containers_register_fallback(b);
        if (r < 0)
                return log_error_errno(r, "Failed to add the Container objects: %m");
        r = sd_bus_add_object_manager(b->bus, NULL, ZL_MANAGER_PATH);
        if (r < 0)
                return log_error_errno(r, "Failed to add the object manager: %m");
        return 0;
}
