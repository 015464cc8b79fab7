/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "broker.h"
#include "errors.h"

/* Every contract method we do not implement yet: present with its exact
 * signature (sd-bus checked it already), answering Unsupported. It asks
 * for the method's polkit action first, like the implemented ones, so an
 * unprivileged caller learns nothing more than AccessDenied. */
int method_unsupported(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Broker *b = userdata;
        int r;

        r = authz_verify(b, m, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked, dispatched again when it answers */
        return sd_bus_error_setf(error, ZL_ERROR_UNSUPPORTED, "%s is not implemented yet",
                                 sd_bus_message_get_member(m));
}
