/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exec1.OpenRoot: the container's root as zlayer-archive works on it.
 * Running: /proc/<init>/root, the overlay as mounted in the container's
 * mount namespace (with its /proc, /dev and bind mounts below it). Not
 * running: the overlay (layers + upper) mounted detached with fsmount();
 * no namespace to keep alive, the mount lives as long as an fd of it. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "errors.h"
#include "exec-root.h"
#include "exec.h"
#include "fileio.h"
#include "ids.h"
#include "launch-config.h"
#include "log.h"
#include "overlay.h"
#include "procfs.h"

#define LAUNCH_CONFIG_MAX (1U << 20)

/* The shim of @id is alive: 1 and the init's pid + start time, 0 if not. */
static int running_init(Exec *e, const char *id, pid_t *ret_pid, uint64_t *ret_start) {
        _cleanup_free_ char *run = NULL;
        _cleanup_close_ int run_fd = -1, shim = -1, init = -1;
        pid_t pid;
        uint64_t start;

        if (asprintf(&run, "%s/containers/%s", e->opts.run_dir, id) < 0)
                return -ENOMEM;
        run_fd = open(run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (run_fd < 0 || pid_file_read_at(run_fd, "shim.pid", &pid, &start) < 0)
                return 0;
        shim = pidfd_open_verified(pid, start);
        if (shim < 0)
                return 0;
        if (pid_file_read_at(run_fd, "init.pid", &pid, &start) < 0)
                return -EAGAIN;  /* starting */
        init = pidfd_open_verified(pid, start);
        if (init < 0)
                return -EAGAIN;  /* exiting */
        *ret_pid = pid;
        *ret_start = start;
        return 1;
}

static int open_proc_root(pid_t pid, uint64_t start, int *ret_fd) {
        _cleanup_close_ int proc = -1, root = -1;
        char p[32];
        uint64_t now;

        snprintf(p, sizeof(p), "/proc/%d", (int) pid);
        proc = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (proc < 0)
                return -errno;
        root = openat(proc, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return -errno;
        /* The /proc/<pid> we opened is the init we verified: a reused pid
         * would have a later start time, and a dead one no root. */
        if (proc_starttime(pid, &now) < 0 || now != start)
                return -ESRCH;
        *ret_fd = TAKE_FD(root);
        return 0;
}

static int open_dir_owned_by_root(int cdir, const char *name) {
        struct stat st;
        int fd;

        if (mkdirat(cdir, name, 0755) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(cdir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* the container dir belongs to the unprivileged user: what we mount
         * must be our own directory, not something planted there */
        if (fstat(fd, &st) < 0 || st.st_uid != 0) {
                close(fd);
                return -EPERM;
        }
        return fd;
}

static int mount_overlay(Exec *e, const char *id, int *ret_fd, sd_bus_error *error) {
        _cleanup_(launch_config_freep) LaunchConfig *cfg = NULL;
        _cleanup_close_ int cdir = -1, upper = -1, work = -1, fsfd = -1, mnt = -1;
        _cleanup_free_ char *json = NULL, *perr = NULL;
        _cleanup_strv_free_ char **lowers = NULL;
        char upper_path[64], work_path[64];
        int r;

        cdir = openat(e->containers_dir, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cdir < 0)
                return sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND, "No container %s", id);
        r = read_file_at(cdir, "config.json", LAUNCH_CONFIG_MAX, &json, NULL);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "%s/containers/%s/config.json: %m", e->opts.root, id);
        r = launch_config_parse(json, &cfg, &perr);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "config.json of %s: %s", id, strempty(perr));
        upper = open_dir_owned_by_root(cdir, "upper");
        work = open_dir_owned_by_root(cdir, "work");
        if (upper < 0 || work < 0)
                return sd_bus_error_set_errnof(error, -(upper < 0 ? upper : work),
                                               "upper/work of container %s: %m", id);

        lowers = calloc(strv_length(cfg->layers) + 1, sizeof(char *));
        if (!lowers)
                return -ENOMEM;
        for (size_t i = 0; cfg->layers[i]; i++)
                if (asprintf(&lowers[i], "%s/layers/%s", e->opts.root, cfg->layers[i]) < 0)
                        return -ENOMEM;
        snprintf(upper_path, sizeof(upper_path), "/proc/self/fd/%d", upper);
        snprintf(work_path, sizeof(work_path), "/proc/self/fd/%d", work);
        fsfd = overlay_fs_create(lowers, upper_path, work_path);
        if (fsfd < 0)
                return sd_bus_error_set_errnof(error, -fsfd, "creating the overlay of %s: %m", id);
        /* nodev, nosuid: nothing is executed from here, and a device node
         * in a layer must not open a host device through this mount */
        mnt = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
        if (mnt < 0)
                return sd_bus_error_set_errnof(error, errno, "fsmount overlay of %s: %m", id);
        *ret_fd = TAKE_FD(mnt);
        return 0;
}

int method_open_root(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Exec *e = userdata;
        _cleanup_close_ int fd = -1;
        const char *id;
        pid_t pid = 0;
        uint64_t start = 0;
        int r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        if (!container_id_is_valid(id))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid container id: %.100s", id);

        r = running_init(e, id, &pid, &start);
        if (r == -EAGAIN)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "Container %s is starting or stopping", id);
        if (r < 0)
                return r;
        if (r > 0) {
                r = open_proc_root(pid, start, &fd);
                if (r < 0)
                        return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE,
                                                 "Container %s is stopping (init %d: %s)", id, (int) pid, strerror(-r));
                log_debug("OpenRoot %s: /proc/%d/root", id, (int) pid);
        } else {
                r = mount_overlay(e, id, &fd, error);
                if (r != 0)
                        return r;
                log_debug("OpenRoot %s: detached overlay", id);
        }
        return sd_bus_reply_method_return(m, "hb", fd, pid > 0);
}

int method_open_upper(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Exec *e = userdata;
        _cleanup_close_ int cdir = -1, fd = -1;
        struct stat st;
        const char *id;
        int r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        if (!container_id_is_valid(id))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid container id: %.100s", id);
        cdir = openat(e->containers_dir, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cdir < 0)
                return sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND, "No container %s", id);
        /* Never created here: a container that never started has no upper. */
        fd = openat(cdir, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "Container %s has no filesystem changes yet", id);
        if (fd < 0)
                return sd_bus_error_set_errnof(error, errno, "upper of container %s: %m", id);
        /* the container dir belongs to the unprivileged user: only our own
         * directory is handed to zlayer-archive, never something planted */
        if (fstat(fd, &st) < 0 || st.st_uid != 0)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_STATE, "upper of container %s is not owned by root", id);
        return sd_bus_reply_method_return(m, "h", fd);
}
