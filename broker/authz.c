/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "broker.h"
#include "log.h"

/* Until polkit is asked (ARCHITECTURE.md §5), only root may change
 * anything or read logs. */
int authz_require_root(sd_bus_message *m, const char *action, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0) {
                log_warning_errno(r, "Failed to get the credentials of %s: %m", strempty(sd_bus_message_get_sender(m)));
                sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                  "cannot determine the caller's uid for %s", action);
                return -EACCES;
        }
        if (uid != 0) {
                sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                  "uid %u is not allowed to %s (root only)", (unsigned) uid, action);
                return -EACCES;
        }
        return 0;
}
