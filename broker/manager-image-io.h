/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "broker.h"

/* SaveImages, LoadImages, ImportImage (manager-image-io.c): the tar work is
 * zlayer-archive's (Archive1.SaveImages/LoadImages/ImportImage); the broker
 * resolves names, writes index.json and emits ImageNew. */
int method_save_images(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_load_images(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_import_image(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* SearchImages (manager-image-search.c) */
int method_search_images(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* Records the images of a LoadImages/ImportImage result
 * ([{"references":[…],"id":…,"manifest":…,"media_type":…,"manifest_size":n}])
 * in index.json and emits ImageNew for each reference. @ret_refs gets the
 * references, @ret_id (optional, 72 bytes) the first image id. -EBADMSG
 * for a malformed result. */
int image_io_register(Broker *b, const char *result_json, char ***ret_refs, char *ret_id);
