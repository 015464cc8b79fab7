/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exec1: freeze/thaw, the overlay upper's changes and size, live resource
 * updates. Each needs root (the cgroup files, the root-owned upper). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "errors.h"
#include "exec-lifecycle.h"
#include "exec.h"
#include "fileio.h"
#include "ids.h"
#include "launch-config.h"
#include "log.h"

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
