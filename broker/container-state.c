/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <json-c/json.h>

#include "container.h"
#include "fileio.h"
#include "ids.h"
#include "log.h"

#define STATE_FILE_MAX (1024 * 1024)

static const char *const state_names[_CONTAINER_STATE_MAX] = {
        [CONTAINER_PENDING] = "pending",
        [CONTAINER_INITIALIZING] = "initializing",
        [CONTAINER_RUNNING] = "running",
        [CONTAINER_STOPPING] = "stopping",
        [CONTAINER_EXITED] = "exited",
        [CONTAINER_FAILED] = "failed",
};

const char *container_state_to_string(ContainerState s) {
        return s < _CONTAINER_STATE_MAX ? state_names[s] : NULL;
}

int container_state_from_string(const char *s) {
        for (ContainerState i = 0; i < _CONTAINER_STATE_MAX; i++)
                if (streq(s, state_names[i]))
                        return i;
        return -EINVAL;
}

static void json_object_putp(json_object **j) {
        if (*j)
                json_object_put(*j);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

static int add_string(json_object *o, const char *key, const char *v) {
        json_object *s = json_object_new_string(strempty(v));
        if (!s)
                return -ENOMEM;
        return json_object_object_add(o, key, s) < 0 ? -ENOMEM : 0;
}

static int add_int(json_object *o, const char *key, int64_t v) {
        json_object *s = json_object_new_int64(v);
        if (!s)
                return -ENOMEM;
        return json_object_object_add(o, key, s) < 0 ? -ENOMEM : 0;
}

static int add_uint(json_object *o, const char *key, uint64_t v) {
        json_object *s = json_object_new_uint64(v);
        if (!s)
                return -ENOMEM;
        return json_object_object_add(o, key, s) < 0 ? -ENOMEM : 0;
}

static int add_bool(json_object *o, const char *key, bool v) {
        json_object *s = json_object_new_boolean(v);
        if (!s)
                return -ENOMEM;
        return json_object_object_add(o, key, s) < 0 ? -ENOMEM : 0;
}

static int get_bool(json_object *o, const char *key, bool *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_boolean))
                return log_warning_errno(-EBADMSG, "state.json: '%s' is not a boolean", key);
        *ret = json_object_get_boolean(v);
        return 0;
}

int container_state_to_json(const Container *c, char **ret) {
        _cleanup_json_ json_object *o = json_object_new_object(), *labels = json_object_new_object();
        int r;

        if (!o || !labels)
                return -ENOMEM;

        if ((r = add_string(o, "id", c->id)) < 0 ||
            (r = add_string(o, "name", c->name)) < 0 ||
            (r = add_string(o, "service", c->service)) < 0 ||
            (r = add_uint(o, "replica", c->replica)) < 0 ||
            (r = add_string(o, "image", c->image)) < 0 ||
            (r = add_string(o, "image_digest", c->image_digest)) < 0 ||
            (r = add_string(o, "state", container_state_to_string(c->state))) < 0 ||
            (r = add_int(o, "exit_code", c->exit_code)) < 0 ||
            (r = add_string(o, "reason", c->reason)) < 0 ||
            (r = add_string(o, "signal", c->signal)) < 0 ||
            (r = add_uint(o, "pid", c->pid)) < 0 ||
            (r = add_uint(o, "created_at", c->created_at)) < 0 ||
            (r = add_uint(o, "started_at", c->started_at)) < 0 ||
            (r = add_uint(o, "finished_at", c->finished_at)) < 0 ||
            (r = add_uint(o, "restart_count", c->restart_count)) < 0 ||
            (r = add_bool(o, "paused", c->paused)) < 0 ||
            (r = add_bool(o, "stopped_by_user", c->stopped_by_user)) < 0 ||
            (r = add_int(o, "restart_max", c->restart_max)) < 0 ||
            (c->restart_kind && (r = add_string(o, "restart_kind", c->restart_kind)) < 0))
                return r;

        for (char **l = c->labels; l && l[0] && l[1]; l += 2)
                if ((r = add_string(labels, l[0], l[1])) < 0)
                        return r;
        if (json_object_object_add(o, "labels", TAKE_PTR(labels)) < 0)
                return -ENOMEM;

        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        char *copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

static int get_string(json_object *o, const char *key, bool required, char **ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v)) {
                if (required)
                        return log_warning_errno(-EBADMSG, "state.json: missing '%s'", key);
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return log_warning_errno(-EBADMSG, "state.json: '%s' is not a string", key);
        char *s = strdup(json_object_get_string(v));
        if (!s)
                return -ENOMEM;
        free(*ret);
        *ret = s;
        return 0;
}

static int get_int(json_object *o, const char *key, int64_t min, int64_t max, int64_t *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_int))
                return log_warning_errno(-EBADMSG, "state.json: '%s' is not an integer", key);
        errno = 0;
        int64_t i = json_object_get_int64(v);
        if (errno != 0 || i < min || i > max)
                return log_warning_errno(-ERANGE, "state.json: '%s' out of range", key);
        *ret = i;
        return 0;
}

static int get_uint64(json_object *o, const char *key, uint64_t *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_int))
                return log_warning_errno(-EBADMSG, "state.json: '%s' is not an integer", key);
        errno = 0;
        if (json_object_get_int64(v) < 0 && errno == 0)
                return log_warning_errno(-ERANGE, "state.json: '%s' is negative", key);
        *ret = json_object_get_uint64(v);
        return 0;
}

int container_state_from_json(Container *c, const char *text) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_free_ char *state = NULL;
        json_object *labels;
        int64_t i;
        int r;

        o = json_tokener_parse(text);
        if (!o || !json_object_is_type(o, json_type_object))
                return log_warning_errno(-EBADMSG, "state.json: not a JSON object");

        if ((r = get_string(o, "id", true, &c->id)) < 0 ||
            (r = get_string(o, "name", false, &c->name)) < 0 ||
            (r = get_string(o, "service", true, &c->service)) < 0 ||
            (r = get_string(o, "image", true, &c->image)) < 0 ||
            (r = get_string(o, "image_digest", false, &c->image_digest)) < 0 ||
            (r = get_string(o, "state", true, &state)) < 0 ||
            (r = get_string(o, "reason", false, &c->reason)) < 0 ||
            (r = get_string(o, "signal", false, &c->signal)) < 0 ||
            (r = get_string(o, "restart_kind", false, &c->restart_kind)) < 0 ||
            (r = get_bool(o, "paused", &c->paused)) < 0 ||
            (r = get_bool(o, "stopped_by_user", &c->stopped_by_user)) < 0)
                return r;
        if (c->restart_kind && !restart_kind_is_valid(c->restart_kind))
                return log_warning_errno(-EBADMSG, "state.json: unknown restart_kind '%s'", c->restart_kind);

        if (!container_id_is_valid(c->id))
                return log_warning_errno(-EBADMSG, "state.json: invalid id '%s'", c->id);
        if (!service_name_is_valid(c->service))
                return log_warning_errno(-EBADMSG, "state.json: invalid service '%s'", c->service);
        if (isempty(c->name)) {
                free(c->name);
                c->name = strdup(c->id);
                if (!c->name)
                        return -ENOMEM;
        } else if (!container_id_is_valid(c->name))
                return log_warning_errno(-EBADMSG, "state.json: invalid name '%s'", c->name);

        r = container_state_from_string(state);
        if (r < 0)
                return log_warning_errno(-EBADMSG, "state.json: unknown state '%s'", state);
        c->state = r;

        i = c->replica;
        if ((r = get_int(o, "replica", 0, UINT32_MAX, &i)) < 0)
                return r;
        c->replica = i;
        i = c->exit_code;
        if ((r = get_int(o, "exit_code", INT32_MIN, INT32_MAX, &i)) < 0)
                return r;
        c->exit_code = i;
        i = c->pid;
        if ((r = get_int(o, "pid", 0, UINT32_MAX, &i)) < 0)
                return r;
        c->pid = i;
        i = c->restart_count;
        if ((r = get_int(o, "restart_count", 0, UINT32_MAX, &i)) < 0)
                return r;
        c->restart_count = i;
        i = c->restart_max;
        if ((r = get_int(o, "restart_max", -1, INT32_MAX, &i)) < 0)
                return r;
        c->restart_max = i;
        if ((r = get_uint64(o, "created_at", &c->created_at)) < 0 ||
            (r = get_uint64(o, "started_at", &c->started_at)) < 0 ||
            (r = get_uint64(o, "finished_at", &c->finished_at)) < 0)
                return r;

        if (json_object_object_get_ex(o, "labels", &labels)) {
                size_t n = 0;
                char **l;

                if (!json_object_is_type(labels, json_type_object))
                        return log_warning_errno(-EBADMSG, "state.json: 'labels' is not an object");
                l = calloc(json_object_object_length(labels) * 2 + 1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
                strv_free(c->labels);
                c->labels = l;
                json_object_object_foreach(labels, k, v) {
                        if (!json_object_is_type(v, json_type_string))
                                return log_warning_errno(-EBADMSG, "state.json: label '%s' is not a string", k);
                        l[n] = strdup(k);
                        if (!l[n])
                                return -ENOMEM;
                        l[n + 1] = strdup(json_object_get_string(v));
                        if (!l[n + 1])
                                return -ENOMEM;
                        n += 2;
                }
        }
        return 0;
}

int container_state_save(const Container *c, int containers_fd) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int dfd = -1;
        int r;

        r = container_state_to_json(c, &text);
        if (r < 0)
                return r;
        dfd = openat(containers_fd, c->id, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        /* A new container must survive a power loss; its later transitions
         * need only be whole (rename): after a reboot its processes are gone
         * anyway and Adopt settles the state. Skipping the fsyncs keeps them
         * off the path of every start and exit. */
        if (c->state == CONTAINER_PENDING)
                return write_file_atomic_at(dfd, "state.json", text, strlen(text), 0640);
        return write_file_replace_at(dfd, "state.json", text, strlen(text), 0640);
}

int container_state_load(int containers_fd, const char *id, Container **ret) {
        _cleanup_container_ Container *c = NULL;
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int dfd = -1;
        int r;

        if (!container_id_is_valid(id))
                return -EINVAL;
        dfd = openat(containers_fd, id, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        r = read_file_at(dfd, "state.json", STATE_FILE_MAX, &text, NULL);
        if (r < 0)
                return r;
        c = container_new();
        if (!c)
                return -ENOMEM;
        r = container_state_from_json(c, text);
        if (r < 0)
                return r;
        if (!streq(c->id, id))
                return log_warning_errno(-EBADMSG, "state.json of %s names another id '%s'", id, c->id);

        /* The stop settings live in config.json, written with the state. */
        _cleanup_free_ char *config = NULL;
        if (read_file_at(dfd, "config.json", STATE_FILE_MAX, &config, NULL) >= 0) {
                _cleanup_json_ json_object *j = json_tokener_parse(config);
                json_object *v;
                if (j && json_object_object_get_ex(j, "stop_signal", &v) && json_object_is_type(v, json_type_string)) {
                        c->stop_signal = strdup(json_object_get_string(v));
                        if (!c->stop_signal)
                                return -ENOMEM;
                }
                if (j && json_object_object_get_ex(j, "stop_grace_usec", &v) && json_object_is_type(v, json_type_int))
                        c->stop_grace_usec = json_object_get_uint64(v);
        }

        *ret = TAKE_PTR(c);
        return 0;
}
