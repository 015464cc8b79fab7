/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "broker.h"
#include "errors.h"

/* Every contract method we do not implement yet: present with its exact
 * signature (sd-bus checked it already), answering Unsupported. */
int method_unsupported(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return sd_bus_error_setf(error, ZL_ERROR_UNSUPPORTED, "%s is not implemented yet",
                                 sd_bus_message_get_member(m));
}
