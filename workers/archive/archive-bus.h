/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Publishes com.zlayer.Worker.Archive1 at /com/zlayer/Worker on @bus. */
int archive_bus_add_object(sd_bus *bus);

/* Adds Head, Get, Put and Export on container roots to the same object
 * (container-bus.c). */
int archive_container_bus_add_object(sd_bus *bus);

/* Adds SaveImages, LoadImages and ImportImage (image-archive-bus.c). */
int archive_image_bus_add_object(sd_bus *bus);
