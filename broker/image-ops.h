/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "broker.h"
#include "image-store.h"

/* The image methods beyond PullImage/ListImages (manager-image-inspect.c,
 * image-gc.c) and what they share. */

/* image_store_resolve() with the public errors: NotFound naming @name,
 * InvalidArgs naming an ambiguous id prefix. @ret_id gets the image id. */
int image_lookup(Broker *b, const char *name, ImageEntry *ret, char ret_id[72], sd_bus_error *error);

/* The reference CreateContainer uses for @name: the stored image's when
 * @name is an image id, id prefix or a reference resolving to one, else
 * @name normalized (to be pulled). -ENOTUNIQ for an ambiguous id prefix,
 * -EINVAL for a malformed reference. */
int image_name_to_reference(Broker *b, const char *name, char **ret);

/* The first container (by list order) whose image has the id @image_id,
 * or NULL. */
Container *image_used_by(Broker *b, const char *image_id);

/* True while RemoveImage/PruneImages deletes blobs and layers: pulls wait
 * for the end (they answer Busy meanwhile). */
bool image_gc_running(void);

/* Records @e in index.json and announces it (ImageNew with its reference
 * and repo digest); what changed in the counts is the caller's to emit. */
int image_record(Broker *b, const ImageEntry *e);

/* "ROOT/images/index.json" in @buf: errors about index.json name the disk,
 * which matters when the cause is a full one. */
const char *image_index_path(const Broker *b, char *buf, size_t size);

/* Small string-list helpers. */
bool strv_contains(char *const *l, const char *s);
int strv_extend(char ***l, const char *s);

int method_inspect_image(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_get_image_history(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_tag_image(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_remove_image(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_prune_images(sd_bus_message *m, void *userdata, sd_bus_error *error);
