/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* ArchiveGet, ArchivePut, ArchiveHead, ExportContainer (manager-archive.c):
 * the container's root from zlayer-exec (Exec1.OpenRoot), the tar work in
 * zlayer-archive (Archive1.Get/Put/Head/Export), streams as pipes. */
int method_archive_get(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_archive_put(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_archive_head(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_export_container(sd_bus_message *m, void *userdata, sd_bus_error *error);
