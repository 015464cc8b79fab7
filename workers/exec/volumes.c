/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exec1.SyncVolumes: syncfs() of named volumes (ROOT/volumes/<name>/_data,
 * root's: the broker cannot open them). A volume no container has used yet
 * does not exist and has nothing to flush. */
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/syscall.h>

#include "errors.h"
#include "exec-volumes.h"
#include "launch-config.h"
#include "log.h"

#define SYNC_VOLUMES_MAX 256

static int sync_one(Exec *e, const char *name, sd_bus_error *error) {
        _cleanup_free_ char *rel = NULL;
        _cleanup_close_ int root_fd = -1, fd = -1;
        struct open_how how = {
                .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH,
        };

        if (asprintf(&rel, "volumes/%s/_data", name) < 0)
                return -ENOMEM;
        root_fd = open(e->opts.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return sd_bus_error_set_errnof(error, errno, "opening %s: %m", e->opts.root);
        fd = (int) syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
        if (fd < 0 && errno == ENOENT)
                return 0;
        if (fd < 0)
                return sd_bus_error_set_errnof(error, errno, "opening volume %s: %m", name);
        if (syncfs(fd) < 0)
                return sd_bus_error_set_errnof(error, errno, "syncfs of volume %s: %m", name);
        log_debug("Synced volume %s", name);
        return 1;
}

int method_sync_volumes(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **names = NULL;
        Exec *e = userdata;
        uint32_t synced = 0;
        int r;

        r = sd_bus_message_read_strv(m, &names);
        if (r < 0)
                return r;
        if (strv_length(names) > SYNC_VOLUMES_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "more than %d volumes", SYNC_VOLUMES_MAX);
        for (char **n = names; *n; n++)
                if (!volume_name_is_valid(*n))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "invalid volume name '%s'", *n);
        for (char **n = names; *n; n++) {
                r = sync_one(e, *n, error);
                if (r < 0)
                        return r;
                synced += r;
        }
        return sd_bus_reply_method_return(m, "u", synced);
}
