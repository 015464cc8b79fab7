/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container-exec.h"
#include "macro.h"
#include "rlimits.h"

int container_apply_rlimits(const LaunchConfig *c, char *err, size_t err_size) {
        for (size_t i = 0; i < c->n_rlimits; i++) {
                int res = rlimit_from_name(c->rlimits[i].name), r;

                if (res < 0) {
                        snprintf(err, err_size, "rlimit %s: unknown", c->rlimits[i].name);
                        return res;
                }
                r = rlimit_apply_clamped(res, c->rlimits[i].soft, c->rlimits[i].hard);
                if (r < 0) {
                        snprintf(err, err_size, "setrlimit %s: %s", c->rlimits[i].name, strerror(-r));
                        return r;
                }
        }
        return 0;
}

int path_execve(char **argv, char **env, const char *path, PathExecFlags flags, char **ret_file) {
        const char *cmd = argv[0];
        _cleanup_free_ char *dirs = NULL, *tried = NULL;
        int last_error = ENOENT;
        char *save = NULL;

        *ret_file = NULL;
        if (strchr(cmd, '/')) {
                execve(cmd, argv, env);
                last_error = errno;
                *ret_file = strdup(cmd);
                return -(*ret_file ? last_error : ENOMEM);
        }
        dirs = strdup(path);
        if (!dirs)
                return -ENOMEM;
        for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *full = NULL;
                struct stat st;

                if (asprintf(&full, "%s/%s", d[0] ? d : ".", cmd) < 0)
                        return -ENOMEM;
                if (stat(full, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if ((flags & PATH_EXEC_NEED_X) && access(full, X_OK) < 0)
                        continue;
                execve(full, argv, env);
                last_error = errno;
                free(tried);
                tried = TAKE_PTR(full);
                if (flags & PATH_EXEC_FIRST)
                        break;
        }
        *ret_file = TAKE_PTR(tried);
        return -last_error;
}
