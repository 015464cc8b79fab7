/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The connection to com.zlayer.Runtime1 and the helpers every verb uses. */
#include <stdarg.h>

#include "errors.h"
#include "zlayerctl.h"

static sd_bus *the_bus;
static bool connect_failed;   /* already reported by ctl_bus() */

static int connect_address(const char *address, sd_bus **ret) {
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_address(bus, address);
        if (r < 0)
                return r;
        r = sd_bus_set_bus_client(bus, 1);
        if (r < 0)
                return r;
        r = sd_bus_negotiate_fds(bus, 1);
        if (r < 0)
                return r;
        r = sd_bus_start(bus);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

int ctl_bus(sd_bus **ret) {
        int r;

        if (!the_bus) {
                const char *address = arg_bus_address ?: getenv("ZLAYER_BUS_ADDRESS");

                if (!isempty(address))
                        r = connect_address(address, &the_bus);
                else
                        r = sd_bus_open_system(&the_bus);
                if (r < 0) {
                        connect_failed = true;
                        fprintf(stderr, "zlayerctl: cannot connect to the bus %s: %s\n",
                                isempty(address) ? "(system)" : address, strerror(-r));
                        return r;
                }
                if (polkit_agent_wanted() && polkit_agent_open(address) >= 0)
                        (void) sd_bus_set_allow_interactive_authorization(the_bus, 1);
                /* verbs run event loops on the bus and keep using it afterwards */
                (void) sd_bus_set_close_on_exit(the_bus, 0);
        }
        *ret = the_bus;
        return 0;
}

int ctl_call(uint64_t timeout, const char *method, sd_bus_error *error, sd_bus_message **reply,
             const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_bus *bus;
        va_list ap;
        int r;

        r = ctl_bus(&bus);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, ZL_BUS_NAME, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, method);
        if (r < 0)
                return r;
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return r;
        }
        return sd_bus_call(bus, m, timeout, error, reply);
}

int start_failed_exit_code(const char *message) {
        if (!message)
                return EXIT_ZL;
        if (strstr(message, "No such file or directory") || strstr(message, "not found"))
                return EXIT_CMD_NOT_FOUND;
        if (strstr(message, "Permission denied") || strstr(message, "Exec format error") ||
            strstr(message, "Is a directory"))
                return EXIT_CANNOT_INVOKE;
        return EXIT_ZL;
}

int ctl_fail(const sd_bus_error *error, int r, const char *what) {
        if (error && sd_bus_error_is_set(error)) {
                if (sd_bus_error_has_name(error, ZL_ERROR_UNSUPPORTED))
                        fprintf(stderr, "zlayerctl: %s: not supported by this zlayerd: %s\n", what,
                                strempty(error->message));
                else if (sd_bus_error_has_name(error, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
                         sd_bus_error_has_name(error, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                        fprintf(stderr, "zlayerctl: %s: zlayerd is not running (%s)\n", what,
                                strempty(error->message));
                else
                        fprintf(stderr, "Error response from daemon: %s\n", strempty(error->message));
                if (sd_bus_error_has_name(error, ZL_ERROR_START_FAILED))
                        return start_failed_exit_code(error->message);
                return EXIT_ZL;
        }
        if (!connect_failed)
                fprintf(stderr, "zlayerctl: %s: %s\n", what, strerror(r < 0 ? -r : EIO));
        return EXIT_ZL;
}

static int get_property(const char *property, const char *type, sd_bus_message **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus *bus;
        int r;

        r = ctl_bus(&bus);
        if (r < 0)
                return r;
        r = sd_bus_get_property(bus, ZL_BUS_NAME, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, property, &error, ret, type);
        if (r < 0)
                return ctl_fail(&error, r, property), r;
        return 0;
}

int ctl_get_property_string(const char *property, char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        const char *s;
        int r;

        r = get_property(property, "s", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &s);
        if (r < 0)
                return r;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int ctl_get_property_u32(const char *property, uint32_t *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = get_property(property, "u", &m);
        if (r < 0)
                return r;
        return sd_bus_message_read(m, "u", ret);
}

int usage_error(const char *verb, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "zlayerctl %s: ", verb);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nSee 'zlayerctl %s --help'.\n", verb);
        return EXIT_ZL;
}

void container_info_free_many(ContainerInfo *l, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(l[i].id);
                free(l[i].name);
                free(l[i].service);
                free(l[i].image);
                free(l[i].state);
                free(l[i].path);
        }
        free(l);
}

/* Reads StartedAt/FinishedAt/ExitCode from an a{sv} of Container properties. */
static int read_props_dict(sd_bus_message *m, ContainerInfo *c) {
        const char *prop;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &prop);
                if (r < 0)
                        return r;
                if (streq(prop, "StartedAt"))
                        r = sd_bus_message_read(m, "v", "t", &c->started);
                else if (streq(prop, "FinishedAt"))
                        r = sd_bus_message_read(m, "v", "t", &c->finished);
                else if (streq(prop, "ExitCode"))
                        r = sd_bus_message_read(m, "v", "i", &c->exit_code);
                else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                c->have_times = true;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* The contract's states have no "paused" (a frozen container is running);
 * InspectContainer's State.Paused tells, and ps shows it as docker does. */
static void mark_if_paused(ContainerInfo *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(json_object_putp) json_object *j = NULL;
        json_object *state, *paused;
        const char *text;
        char *s;

        if (ctl_call(CALL_DEFAULT, "InspectContainer", NULL, &reply, "s", c->id) < 0 ||
            sd_bus_message_read(reply, "s", &text) < 0 || !(j = json_tokener_parse(text)))
                return;
        if (json_object_object_get_ex(j, "State", &state) && json_object_object_get_ex(state, "Paused", &paused) &&
            json_object_get_boolean(paused) && (s = strdup("paused"))) {
                free(c->state);
                c->state = s;
        }
}

/* Times and exit codes come from the Container objects, one
 * Properties.GetAll each (the bus policy does not let every caller use
 * ObjectManager); a daemon without them still lists. */
static void fill_container_props(ContainerInfo *l, size_t n) {
        sd_bus *bus;

        if (ctl_bus(&bus) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

                if (streq(l[i].state, "running"))
                        mark_if_paused(&l[i]);
                if (sd_bus_call_method(bus, ZL_BUS_NAME, l[i].path, "org.freedesktop.DBus.Properties", "GetAll", NULL,
                                       &reply, "s", ZL_CONTAINER_IFACE) < 0)
                        continue;
                (void) read_props_dict(reply, &l[i]);
        }
}

int list_containers(ContainerInfo **ret, size_t *ret_n) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ContainerInfo *l = NULL;
        size_t n = 0;
        const char *id, *name, *service, *image, *state, *path;
        uint32_t replica;
        uint64_t created;
        int r;

        r = ctl_call(CALL_DEFAULT, "ListContainers", &error, &reply, NULL);
        if (r < 0)
                return ctl_fail(&error, r, "ListContainers"), r;
        r = sd_bus_message_enter_container(reply, 'a', "(sssussto)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(sssussto)", &id, &name, &service, &replica, &image, &state,
                                        &created, &path)) > 0) {
                ContainerInfo *nl = realloc(l, (n + 1) * sizeof *l);
                if (!nl) {
                        container_info_free_many(l, n);
                        return -ENOMEM;
                }
                l = nl;
                l[n] = (ContainerInfo) {
                        .id = strdup(id), .name = strdup(name), .service = strdup(service),
                        .image = strdup(image), .state = strdup(state), .path = strdup(path),
                        .replica = replica, .created = created,
                };
                n++;
                if (!l[n - 1].id || !l[n - 1].name || !l[n - 1].service || !l[n - 1].image ||
                    !l[n - 1].state || !l[n - 1].path) {
                        container_info_free_many(l, n);
                        return -ENOMEM;
                }
        }
        if (r < 0) {
                container_info_free_many(l, n);
                return r;
        }
        fill_container_props(l, n);
        *ret = l;
        *ret_n = n;
        return 0;
}

void print_json(json_object *j) {
        puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE));
}
