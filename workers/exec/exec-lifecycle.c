/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exec1: freeze/thaw, the overlay upper's changes and size, live resource
 * updates. Each needs root (the cgroup files, the root-owned upper). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "errors.h"
#include "exec-lifecycle.h"
#include "exec.h"
#include "fileio.h"
#include "ids.h"
#include "launch-config.h"
#include "log.h"
#include "procfs.h"

#define CHANGES_MAX 100000
#define CHANGES_DEPTH_MAX 256
#define CONFIG_MAX (4 * 1024 * 1024)

static int read_id(sd_bus_message *m, const char **ret, sd_bus_error *error) {
        int r = sd_bus_message_read(m, "s", ret);
        if (r < 0)
                return r;
        if (!container_id_is_valid(*ret))
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "Invalid container id: %s", *ret);
        return 0;
}

int method_freeze(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Exec *e = userdata;
        _cleanup_free_ char *cg = NULL;
        const char *id;
        Container *c;
        int frozen, r;

        r = sd_bus_message_read(m, "sb", &id, &frozen);
        if (r < 0)
                return r;
        if (!container_id_is_valid(id))
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "Invalid container id: %s", id);
        c = container_find(e, id);
        if (!c || !c->running)
                return sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND, "No running container %s", id);
        if ((r = cgroup_container_path(id, &cg)) < 0)
                return r;
        r = cgroup_freeze(e->cgroup, cg, frozen);
        if (r == -EOPNOTSUPP)
                return sd_bus_error_setf(error, ZL_ERROR_UNSUPPORTED, "no cgroup freezer for %s on this host", id);
        if (r < 0) {
                if (frozen) /* never leave it half frozen */
                        (void) cgroup_freeze(e->cgroup, cg, false);
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "%s cgroup %s: %s", frozen ? "Freezing" : "Thawing",
                                         cg, strerror(-r));
        }
        log_info("%s container %s", frozen ? "Froze" : "Thawed", id);
        return sd_bus_reply_method_return(m, NULL);
}

/* The layers (top first) of @id, from its config.json. */
static int container_layers(Exec *e, const char *id, char ***ret, sd_bus_error *error) {
        _cleanup_launch_config_ LaunchConfig *cfg = NULL;
        _cleanup_free_ char *text = NULL, *perr = NULL, *rel = NULL;
        int r;

        if (asprintf(&rel, "%s/config.json", id) < 0)
                return -ENOMEM;
        r = read_file_at(e->containers_dir, rel, CONFIG_MAX, &text, NULL);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND, "No config.json for container %s: %s", id, strerror(-r));
        r = launch_config_parse(text, &cfg, &perr);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "config.json of %s: %s", id, perr ?: strerror(-r));
        *ret = TAKE_PTR(cfg->layers);
        return 0;
}

typedef struct Change {
        char *path;
        uint8_t kind; /* 0 modified, 1 added, 2 deleted */
} Change;

typedef struct Walk {
        int *layer_fds;
        size_t n_layers;
        Change *changes;
        size_t n, cap;
        uint64_t bytes;
        bool want_changes;
} Walk;

static bool is_whiteout(const struct stat *st) {
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* Present in the image below: the topmost layer holding the path decides
 * (a whiteout there means it was deleted by that layer). */
static bool in_lower(Walk *w, const char *rel) {
        for (size_t i = 0; i < w->n_layers; i++) {
                struct stat st;
                if (fstatat(w->layer_fds[i], rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                return !is_whiteout(&st);
        }
        return false;
}

static int add_change(Walk *w, const char *rel, uint8_t kind) {
        if (w->n >= CHANGES_MAX)
                return -E2BIG;
        if (w->n == w->cap) {
                size_t cap = w->cap ? w->cap * 2 : 64;
                Change *t = reallocarray(w->changes, cap, sizeof(Change));
                if (!t)
                        return -ENOMEM;
                w->changes = t;
                w->cap = cap;
        }
        if (asprintf(&w->changes[w->n].path, "/%s", rel) < 0)
                return -ENOMEM;
        w->changes[w->n++].kind = kind;
        return 0;
}

static int walk_dir(Walk *w, int dfd, const char *prefix, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd, r;

        if (depth > CHANGES_DEPTH_MAX)
                return -ELOOP;
        fd = dup(dfd);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                _cleanup_free_ char *rel = NULL;
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (asprintf(&rel, "%s%s%s", prefix, *prefix ? "/" : "", de->d_name) < 0)
                        return -ENOMEM;
                if (!S_ISDIR(st.st_mode) && !is_whiteout(&st))
                        w->bytes += (uint64_t) st.st_size;
                if (w->want_changes) {
                        uint8_t kind = is_whiteout(&st) ? 2 : in_lower(w, rel) ? 0 : 1;
                        if ((r = add_change(w, rel, kind)) < 0)
                                return r;
                }
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0)
                                return -errno;
                        if ((r = walk_dir(w, sub, rel, depth + 1)) < 0)
                                return r;
                }
        }
        return 0;
}

static int change_compare(const void *a, const void *b) {
        return strcmp(((const Change *) a)->path, ((const Change *) b)->path);
}

static void walk_done(Walk *w) {
        for (size_t i = 0; i < w->n_layers; i++)
                if (w->layer_fds[i] >= 0)
                        close(w->layer_fds[i]);
        free(w->layer_fds);
        for (size_t i = 0; i < w->n; i++)
                free(w->changes[i].path);
        free(w->changes);
}

/* Walks ROOT/containers/<id>/upper; a container never started has none. */
static int walk_upper(Exec *e, const char *id, Walk *w, sd_bus_error *error) {
        _cleanup_close_ int upper = -1, layers_dir = -1;
        _cleanup_strv_free_ char **layers = NULL;
        _cleanup_free_ char *rel = NULL, *lpath = NULL;
        int r;

        if (asprintf(&rel, "%s/upper", id) < 0)
                return -ENOMEM;
        if (faccessat(e->containers_dir, id, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND, "No container %s", id);
        upper = openat(e->containers_dir, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (upper < 0) {
                if (errno == ENOENT)
                        return 0;
                return sd_bus_error_set_errnof(error, errno, "Opening %s/containers/%s: %m", e->opts.root, rel);
        }
        if (w->want_changes) {
                r = container_layers(e, id, &layers, error);
                if (r < 0)
                        return r;
                if (asprintf(&lpath, "%s/layers", e->opts.root) < 0)
                        return -ENOMEM;
                layers_dir = open(lpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (layers_dir < 0)
                        return sd_bus_error_set_errnof(error, errno, "Opening %s: %m", lpath);
                w->layer_fds = calloc(strv_length(layers) + 1, sizeof(int));
                if (!w->layer_fds)
                        return -ENOMEM;
                for (char **l = layers; *l; l++) {
                        int fd = openat(layers_dir, *l, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0)
                                return sd_bus_error_set_errnof(error, errno, "Opening layer %s of %s: %m", *l, id);
                        w->layer_fds[w->n_layers++] = fd;
                }
        }
        r = walk_dir(w, upper, "", 0);
        if (r == -E2BIG)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "container %s has more than %d changes", id, CHANGES_MAX);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Walking the upper directory of %s: %m", id);
        return 0;
}

int method_changes(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(walk_done) Walk w = { .want_changes = true };
        Exec *e = userdata;
        const char *id;
        int r;

        if ((r = read_id(m, &id, error)) < 0)
                return r;
        if ((r = walk_upper(e, id, &w, error)) < 0)
                return r;
        if (w.n > 0)
                qsort(w.changes, w.n, sizeof(Change), change_compare);
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sy)");
        for (size_t i = 0; r >= 0 && i < w.n; i++)
                r = sd_bus_message_append(reply, "(sy)", w.changes[i].path, w.changes[i].kind);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int method_disk_usage(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(walk_done) Walk w = {};
        Exec *e = userdata;
        const char *id;
        int r;

        if ((r = read_id(m, &id, error)) < 0)
                return r;
        if ((r = walk_upper(e, id, &w, error)) < 0)
                return r;
        return sd_bus_reply_method_return(m, "t", w.bytes);
}

int method_update_resources(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_launch_config_ LaunchConfig *cfg = NULL;
        _cleanup_free_ char *perr = NULL, *cg = NULL;
        Exec *e = userdata;
        const char *id, *json;
        Container *c;
        int r;

        r = sd_bus_message_read(m, "ss", &id, &json);
        if (r < 0)
                return r;
        if (!container_id_is_valid(id))
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "Invalid container id: %s", id);
        r = launch_config_parse(json, &cfg, &perr);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "Invalid launch config of %s: %s", id,
                                         perr ?: strerror(-r));
        if (!streq(cfg->id, id))
                return sd_bus_error_setf(error, ZL_ERROR_INVALID_SPEC, "Launch config id %s does not match %s", cfg->id, id);
        c = container_find(e, id);
        if (!c || !c->running)
                return sd_bus_error_setf(error, ZL_ERROR_NOT_FOUND, "No running container %s", id);
        if ((r = cgroup_container_path(id, &cg)) < 0)
                return r;
        r = cgroup_apply_resources(e->cgroup, cg, &cfg->resources);
        if (r < 0)
                return sd_bus_error_setf(error, r == -EBUSY || r == -EINVAL ? SD_BUS_ERROR_INVALID_ARGS : ZL_ERROR_INTERNAL,
                                         "Applying the resources of %s to cgroup %s: %s", id, cg, strerror(-r));
        log_info("Updated the resources of container %s", id);
        return sd_bus_reply_method_return(m, NULL);
}

/* ---- orphans ---- */

#define ORPHAN_MIN_AGE_SEC 60
#define ORPHANS_MAX 4096

static bool shim_running(Exec *e, const char *id) {
        _cleanup_free_ char *run = NULL;
        _cleanup_close_ int run_fd = -1, pidfd = -1;
        pid_t pid;
        uint64_t start;

        if (asprintf(&run, "%s/containers/%s", e->opts.run_dir, id) < 0)
                return true; /* when in doubt, it is not an orphan */
        run_fd = open(run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (run_fd < 0 || pid_file_read_at(run_fd, "shim.pid", &pid, &start) < 0)
                return false;
        pidfd = pidfd_open_verified(pid, start);
        return pidfd >= 0;
}

static bool has_state(Exec *e, const char *id) {
        _cleanup_free_ char *rel = NULL;
        if (asprintf(&rel, "%s/state.json", id) < 0)
                return true;
        return faccessat(e->containers_dir, rel, F_OK, AT_SYMLINK_NOFOLLOW) >= 0;
}

/* Entries of @dir that are valid container ids (at most ORPHANS_MAX). */
static int list_ids(int dirfd_in, char ***ret) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_strv_free_ char **l = NULL;
        struct dirent *de;
        size_t n = 0;
        int fd = dup(dirfd_in);

        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((de = readdir(d)) && n < ORPHANS_MAX) {
                if (!container_id_is_valid(de->d_name) || streq(de->d_name, "shims"))
                        continue;
                char **t = reallocarray(l, n + 2, sizeof(char *));
                if (!t)
                        return -ENOMEM;
                l = t;
                if (!(l[n] = strdup(de->d_name)))
                        return -ENOMEM;
                l[++n] = NULL;
        }
        *ret = l ? TAKE_PTR(l) : calloc(1, sizeof(char *));
        return *ret ? 0 : -ENOMEM;
}

static bool strv_has(char **l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

/* Removes what belongs to no container: a ROOT/containers/<id> without
 * state.json (older than a minute, so never a CreateContainer in progress)
 * or a RUN/containers/<id> whose ROOT dir has no state.json — each only
 * when no shim of that id is alive (a live one is reported, not killed). */
int method_cleanup_orphans(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **roots = NULL, **runs = NULL, **removed = NULL;
        _cleanup_free_ char *rundir = NULL;
        _cleanup_close_ int run_fd = -1;
        Exec *e = userdata;
        size_t n = 0;
        int r;

        r = list_ids(e->containers_dir, &roots);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Listing %s/containers: %m", e->opts.root);
        if (asprintf(&rundir, "%s/containers", e->opts.run_dir) < 0)
                return -ENOMEM;
        run_fd = open(rundir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (run_fd >= 0)
                r = list_ids(run_fd, &runs);
        else if (errno == ENOENT)
                r = (runs = calloc(1, sizeof(char *))) ? 0 : -ENOMEM;
        else
                r = -errno;
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Listing %s: %m", rundir);

        for (int pass = 0; pass < 2; pass++)
                for (char **id = pass == 0 ? roots : runs; *id; id++) {
                        _cleanup_free_ char *cg = NULL;
                        struct stat st;

                        if (pass == 1 && strv_has(roots, *id))
                                continue; /* decided in the first pass */
                        if (has_state(e, *id) || container_find(e, *id))
                                continue;
                        if (pass == 0 && (fstatat(e->containers_dir, *id, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                                          st.st_mtime > time(NULL) - ORPHAN_MIN_AGE_SEC))
                                continue;
                        if (shim_running(e, *id)) {
                                log_warning("Container %s has a live shim but no state.json: left running, "
                                            "remove it by hand (kill the shim, then its directories).", *id);
                                continue;
                        }
                        log_warning("Removing orphan %s of container %s (no state.json).",
                                    pass == 0 ? "state directory" : "run directory", *id);
                        if (cgroup_container_path(*id, &cg) >= 0 && (r = cgroup_destroy(e->cgroup, cg)) < 0)
                                log_warning_errno(r, "Failed to remove cgroup %s: %m", cg);
                        if (run_fd >= 0 && (r = rm_rf_at(run_fd, *id)) < 0 && r != -ENOENT)
                                log_warning_errno(r, "Failed to remove %s/%s: %m", rundir, *id);
                        if ((r = rm_rf_at(e->containers_dir, *id)) < 0 && r != -ENOENT)
                                log_warning_errno(r, "Failed to remove %s/containers/%s: %m", e->opts.root, *id);
                        char **t = reallocarray(removed, n + 2, sizeof(char *));
                        if (!t)
                                return -ENOMEM;
                        removed = t;
                        if (!(removed[n] = strdup(*id)))
                                return -ENOMEM;
                        removed[++n] = NULL;
                }

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, removed ?: (char *[]) { NULL });
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}
