/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

/* fork() for a job's child process. In the child (0 returned) it dies with
 * the worker (PR_SET_PDEATHSIG), blocks no signal, ignores SIGPIPE (a
 * reader that went away is an error return, not a death) and has closed
 * the link @bus, which belongs to the parent. The parent gets the pid. */
pid_t archive_fork_child(sd_bus *bus);

/* Publishes com.zlayer.Worker.Archive1 at /com/zlayer/Worker on @bus. */
int archive_bus_add_object(sd_bus *bus);

/* Adds Head, Get, Put and Export on container roots to the same object
 * (container-bus.c). */
int archive_container_bus_add_object(sd_bus *bus);

/* Adds SaveImages, LoadImages and ImportImage (image-archive-bus.c). */
int archive_image_bus_add_object(sd_bus *bus);
