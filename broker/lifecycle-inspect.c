/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* InspectContainer, GetContainerPorts, GetContainerIP, GetContainerPortOverride.
 *
 * Networking: the modes that exist are "none" (a fresh network namespace
 * with lo only) and "host" (the host's namespace). Neither gives the
 * container an address of its own, so GetContainerIP and the IPAddress
 * property are "" (the host's address is not the container's). Nothing is
 * published (no bridge, no NAT): GetContainerPorts lists what the spec
 * declares. With network_mode host a container port is reachable on the
 * host at the same number, so host port = container port there; otherwise
 * host ip / host port are the declared port_mappings values (0 for an
 * endpoint), which nothing forwards yet. GetContainerPortOverride is 0: no
 * port is ever remapped. */
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <time.h>

#include "container.h"
#include "health.h"
#include "errors.h"
#include "fileio.h"
#include "lifecycle.h"
#include "log.h"
#include "network.h"

#define FILE_MAX (4 * 1024 * 1024)
#define streq_ptr(a, b) ((a) && (b) && streq((a), (b)))

static void json_putp(json_object **j) {
        if (*j)
                json_object_put(*j);
}
#define _cleanup_json_ _cleanup_(json_putp)

static json_object *get(json_object *o, const char *key) {
        json_object *v = NULL;
        if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
                return NULL;
        return v;
}

static const char *get_str(json_object *o, const char *key, const char *def) {
        json_object *v = get(o, key);
        return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

static int64_t get_int(json_object *o, const char *key, int64_t def) {
        json_object *v = get(o, key);
        return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : def;
}

static bool get_bool(json_object *o, const char *key) {
        json_object *v = get(o, key);
        return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

int container_ports_from_spec(const char *spec_json, const char *network_mode, ContainerPort **ret, size_t *ret_n) {
        _cleanup_json_ json_object *spec = json_tokener_parse(spec_json ?: "{}");
        _cleanup_free_ ContainerPort *ports = NULL;
        bool host = streq_ptr(network_mode, "host");
        size_t n = 0;

        if (!spec || !json_object_is_type(spec, json_type_object))
                return -EBADMSG;
        ports = calloc(CONTAINER_PORTS_MAX, sizeof(ContainerPort));
        if (!ports)
                return -ENOMEM;

        json_object *eps = get(spec, "endpoints");
        for (size_t i = 0; eps && json_object_is_type(eps, json_type_array) && i < json_object_array_length(eps); i++) {
                json_object *e = json_object_array_get_idx(eps, i);
                int64_t port = get_int(e, "target_port", get_int(e, "port", 0));
                if (port < 1 || port > 65535 || n >= CONTAINER_PORTS_MAX)
                        continue;
                ContainerPort *p = &ports[n++];
                p->container_port = (uint16_t) port;
                snprintf(p->protocol, sizeof(p->protocol), "%s", streq(get_str(e, "protocol", "tcp"), "udp") ? "udp" : "tcp");
                p->host_port = host ? (uint16_t) port : 0;
        }
        json_object *maps = get(spec, "port_mappings");
        for (size_t i = 0; maps && json_object_is_type(maps, json_type_array) && i < json_object_array_length(maps); i++) {
                json_object *e = json_object_array_get_idx(maps, i);
                int64_t port = get_int(e, "container_port", 0), hport = get_int(e, "host_port", 0);
                if (port < 1 || port > 65535 || hport < 0 || hport > 65535 || n >= CONTAINER_PORTS_MAX)
                        continue;
                ContainerPort *p = &ports[n++];
                p->container_port = (uint16_t) port;
                snprintf(p->protocol, sizeof(p->protocol), "%s", streq(get_str(e, "protocol", "tcp"), "udp") ? "udp" : "tcp");
                snprintf(p->host_ip, sizeof(p->host_ip), "%s", get_str(e, "host_ip", ""));
                p->host_port = host ? (uint16_t) port : (uint16_t) hport;
        }
        *ret = TAKE_PTR(ports);
        *ret_n = n;
        return 0;
}

static int read_container_file(Broker *b, const Container *c, const char *name, json_object **ret) {
        _cleanup_free_ char *rel = NULL, *text = NULL;
        int r;

        if (asprintf(&rel, "%s/%s", c->id, name) < 0)
                return -ENOMEM;
        r = read_file_at(b->containers_fd, rel, FILE_MAX, &text, NULL);
        if (r < 0)
                return r;
        *ret = json_tokener_parse(text);
        return *ret ? 0 : -EBADMSG;
}

static int read_spec_text(Broker *b, const Container *c, char **ret) {
        _cleanup_free_ char *rel = NULL;
        if (asprintf(&rel, "%s/spec.json", c->id) < 0)
                return -ENOMEM;
        return read_file_at(b->containers_fd, rel, FILE_MAX, ret, NULL);
}

static json_object *rfc3339(uint64_t usec) {
        char buf[64], frac[16];
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;

        if (usec == 0)
                return json_object_new_string("0001-01-01T00:00:00Z");
        gmtime_r(&t, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(frac, sizeof(frac), ".%06lluZ", (unsigned long long) (usec % 1000000));
        strncat(buf, frac, sizeof(buf) - strlen(buf) - 1);
        return json_object_new_string(buf);
}

static json_object *copy_or_null(json_object *o) {
        json_object *c = NULL;
        if (!o || json_object_deep_copy(o, &c, NULL) < 0)
                return NULL;
        return c;
}

/* Docker's State.Status for ours: paused wins over running. */
static const char *docker_status(const Container *c) {
        switch (c->state) {
        case CONTAINER_PENDING:
        case CONTAINER_INITIALIZING:
                return "created";
        case CONTAINER_RUNNING:
        case CONTAINER_STOPPING:
                return c->paused ? "paused" : "running";
        default:
                if (c->restart_timer)
                        return "restarting";
                return c->state == CONTAINER_FAILED ? "dead" : "exited";
        }
}

static int build_inspect(Broker *b, Container *c, char **ret) {
        _cleanup_json_ json_object *o = json_object_new_object(), *cfg = NULL, *spec = NULL;
        _cleanup_free_ char *spec_text = NULL, *name = NULL;
        _cleanup_free_ ContainerPort *ports = NULL;
        size_t n_ports = 0;
        json_object *state, *config, *host, *net, *portmap, *mounts, *labels, *args, *res;
        int r;

        if (!o)
                return -ENOMEM;
        if ((r = read_container_file(b, c, "config.json", &cfg)) < 0)
                return log_warning_errno(r, "Cannot read config.json of %s: %m", c->id);
        if ((r = read_spec_text(b, c, &spec_text)) < 0)
                return log_warning_errno(r, "Cannot read spec.json of %s: %m", c->id);
        spec = json_tokener_parse(spec_text);
        if (!spec)
                return -EBADMSG;
        r = container_ports_from_spec(spec_text, get_str(cfg, "network_mode", "none"), &ports, &n_ports);
        if (r < 0)
                return r;
        if (asprintf(&name, "/%s", c->name) < 0)
                return -ENOMEM;

        args = get(cfg, "args");
        json_object_object_add(o, "Id", json_object_new_string(c->id));
        json_object_object_add(o, "Name", json_object_new_string(name));
        json_object_object_add(o, "Created", rfc3339(c->created_at));
        json_object_object_add(o, "Path", json_object_new_string(
                args && json_object_array_length(args) > 0 ? json_object_get_string(json_object_array_get_idx(args, 0)) : ""));
        json_object *rest = json_object_new_array();
        for (size_t i = 1; args && i < json_object_array_length(args); i++)
                json_object_array_add(rest, json_object_get(json_object_array_get_idx(args, i)));
        json_object_object_add(o, "Args", rest);

        state = json_object_new_object();
        json_object_object_add(state, "Status", json_object_new_string(docker_status(c)));
        json_object_object_add(state, "Running", json_object_new_boolean(container_state_is_active(c->state) &&
                                                                         c->state != CONTAINER_INITIALIZING));
        json_object_object_add(state, "Paused", json_object_new_boolean(c->paused));
        json_object_object_add(state, "Restarting", json_object_new_boolean(c->restart_timer != NULL));
        json_object_object_add(state, "OOMKilled", json_object_new_boolean(streq_ptr(c->reason, "oom_killed")));
        json_object_object_add(state, "Dead", json_object_new_boolean(c->state == CONTAINER_FAILED));
        json_object_object_add(state, "Pid", json_object_new_int64(c->pid));
        json_object_object_add(state, "ExitCode", json_object_new_int(c->exit_code));
        json_object_object_add(state, "Error", json_object_new_string(
                c->state == CONTAINER_FAILED || streq_ptr(c->reason, "runtime_error") ? strempty(c->reason) : ""));
        json_object_object_add(state, "StartedAt", rfc3339(c->started_at));
        json_object_object_add(state, "FinishedAt", rfc3339(c->finished_at));
        json_object_object_add(state, "ZlayerState", json_object_new_string(container_state_to_string(c->state)));
        json_object_object_add(state, "Reason", json_object_new_string(strempty(c->reason)));
        json_object_object_add(state, "Signal", json_object_new_string(strempty(c->signal)));
        /* rtype cron: when the next run starts (container-cron.c) */
        json_object_object_add(state, "NextRun", rfc3339(c->cron_next_usec));
        json_object *health = container_health_to_json(c);
        if (health)
                json_object_object_add(state, "Health", health);
        json_object_object_add(o, "State", state);

        json_object_object_add(o, "Image", json_object_new_string(strempty(c->image_digest)));
        json_object_object_add(o, "ImageName", json_object_new_string(strempty(c->image)));
        json_object_object_add(o, "RestartCount", json_object_new_int64(c->restart_count));

        config = json_object_new_object();
        json_object_object_add(config, "Hostname", copy_or_null(get(cfg, "hostname")));
        json_object_object_add(config, "User", copy_or_null(get(cfg, "user")));
        json_object_object_add(config, "Env", copy_or_null(get(cfg, "env")));
        json_object_object_add(config, "Cmd", copy_or_null(args));
        json_object_object_add(config, "Image", json_object_new_string(strempty(c->image)));
        json_object_object_add(config, "WorkingDir", copy_or_null(get(cfg, "cwd")));
        json_object_object_add(config, "Tty", json_object_new_boolean(get_bool(cfg, "tty")));
        json_object_object_add(config, "OpenStdin", json_object_new_boolean(get_bool(cfg, "stdin_open")));
        json_object_object_add(config, "StopSignal", copy_or_null(get(cfg, "stop_signal")));
        json_object_object_add(config, "StopTimeout", json_object_new_int64(get_int(cfg, "stop_grace_usec", 0) / 1000000));
        labels = json_object_new_object();
        for (char **l = c->labels; l && l[0] && l[1]; l += 2)
                json_object_object_add(labels, l[0], json_object_new_string(l[1]));
        json_object_object_add(config, "Labels", labels);
        json_object *exposed = json_object_new_object();
        portmap = json_object_new_object();
        for (size_t i = 0; i < n_ports; i++) {
                char key[32], hp[8];
                json_object *list, *binding;
                snprintf(key, sizeof(key), "%u/%s", ports[i].container_port, ports[i].protocol);
                json_object_object_add(exposed, key, json_object_new_object());
                if (!json_object_object_get_ex(portmap, key, &list) || !list) {
                        list = json_object_new_array();
                        json_object_object_add(portmap, key, list);
                }
                if (ports[i].host_port == 0)
                        continue;
                snprintf(hp, sizeof(hp), "%u", ports[i].host_port);
                binding = json_object_new_object();
                json_object_object_add(binding, "HostIp", json_object_new_string(ports[i].host_ip));
                json_object_object_add(binding, "HostPort", json_object_new_string(hp));
                json_object_array_add(list, binding);
        }
        json_object_object_add(config, "ExposedPorts", exposed);
        json_object_object_add(o, "Config", config);

        host = json_object_new_object();
        res = get(cfg, "resources");
        json_object_object_add(host, "NetworkMode", copy_or_null(get(cfg, "network_mode")));
        json_object_object_add(host, "ReadonlyRootfs", json_object_new_boolean(get_bool(cfg, "readonly_rootfs")));
        json_object_object_add(host, "Privileged", json_object_new_boolean(get_bool(cfg, "privileged")));
        json_object_object_add(host, "CapAdd", copy_or_null(get(cfg, "cap_add")));
        json_object_object_add(host, "CapDrop", copy_or_null(get(cfg, "cap_drop")));
        json_object_object_add(host, "Memory", json_object_new_int64(get_int(res, "memory", 0)));
        json_object_object_add(host, "MemorySwap", json_object_new_int64(get_int(res, "memory_swap", 0)));
        json_object_object_add(host, "MemoryReservation", json_object_new_int64(get_int(res, "memory_reservation", 0)));
        json_object_object_add(host, "CpuQuota", json_object_new_int64(get_int(res, "cpu_quota", 0)));
        json_object_object_add(host, "CpuPeriod", json_object_new_int64(get_int(res, "cpu_period", 0)));
        json_object_object_add(host, "CpuShares", json_object_new_int64(get_int(res, "cpu_shares", 0)));
        json_object_object_add(host, "CpusetCpus", json_object_new_string(get_str(res, "cpuset_cpus", "")));
        json_object_object_add(host, "PidsLimit", json_object_new_int64(get_int(res, "pids_limit", 0)));
        json_object_object_add(host, "Ulimits", copy_or_null(get(cfg, "rlimits")));
        json_object *rp = json_object_new_object();
        json_object *spec_rp = get(spec, "restart_policy");
        json_object_object_add(rp, "Name", json_object_new_string(get_str(spec_rp, "kind", "no")));
        json_object_object_add(rp, "MaximumRetryCount", json_object_new_int64(get_int(spec_rp, "max_attempts", 0)));
        json_object_object_add(host, "RestartPolicy", rp);
        json_object_object_add(host, "PortBindings", copy_or_null(portmap));
        json_object_object_add(o, "HostConfig", host);

        mounts = json_object_new_array();
        json_object *lm = get(cfg, "mounts");
        for (size_t i = 0; lm && json_object_is_type(lm, json_type_array) && i < json_object_array_length(lm); i++) {
                json_object *m = json_object_array_get_idx(lm, i), *d = json_object_new_object();
                const char *type = get_str(m, "type", "");
                _cleanup_free_ char *vname = NULL, *vsource = NULL;
                /* volumes as Docker shows them: Type "volume", Name, the _data dir */
                if (streq(type, "volume") || streq(type, "anonymous")) {
                        if (streq(type, "volume") ? !(vname = strdup(get_str(m, "name", ""))) ||
                                                            asprintf(&vsource, "%s/volumes/%s/_data", b->opts.root, vname) < 0
                                                  : asprintf(&vname, "%s-%zu", c->id, i) < 0 ||
                                                            asprintf(&vsource, "%s/containers/%s/volumes/%zu/_data",
                                                                     b->opts.root, c->id, i) < 0)
                                return -ENOMEM;
                        type = "volume";
                        json_object_object_add(d, "Name", json_object_new_string(vname));
                }
                json_object_object_add(d, "Type", json_object_new_string(type));
                json_object_object_add(d, "Source", json_object_new_string(vsource ?: get_str(m, "source", "")));
                json_object_object_add(d, "Destination", json_object_new_string(get_str(m, "target", "")));
                json_object_object_add(d, "RW", json_object_new_boolean(!get_bool(m, "readonly")));
                json_object_array_add(mounts, d);
        }
        json_object_object_add(o, "Mounts", mounts);

        net = json_object_new_object();
        r = inspect_network_settings(b, c, get_str(cfg, "network_mode", "none"), net);
        if (r < 0)
                return r;
        json_object_object_add(net, "Ports", portmap);
        json_object_object_add(o, "NetworkSettings", net);
        json_object_object_add(o, "Spec", TAKE_PTR(spec));

        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int method_inspect_container(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *json = NULL;
        Broker *b = userdata;
        Container *c;
        int r;

        r = container_find_authorized(b, m, &c, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = build_inspect(b, c, &json);
        if (r < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "cannot inspect container '%s': %s", c->id, strerror(-r));
        return sd_bus_reply_method_return(m, "s", json);
}

int method_get_container_ports(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_json_ json_object *cfg = NULL;
        _cleanup_free_ char *spec = NULL;
        _cleanup_free_ ContainerPort *ports = NULL;
        Broker *b = userdata;
        size_t n = 0;
        Container *c;
        int r;

        r = container_find_authorized(b, m, &c, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if ((r = read_spec_text(b, c, &spec)) < 0 || (r = read_container_file(b, c, "config.json", &cfg)) < 0 ||
            (r = container_ports_from_spec(spec, get_str(cfg, "network_mode", "none"), &ports, &n)) < 0)
                return sd_bus_error_setf(error, ZL_ERROR_INTERNAL, "cannot read the ports of '%s': %s", c->id, strerror(-r));
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(qssq)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(qssq)", ports[i].container_port, ports[i].protocol, ports[i].host_ip,
                                          ports[i].host_port);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int method_get_container_ip(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Container *c;
        int r = container_find_authorized(userdata, m, &c, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return sd_bus_reply_method_return(m, "s", network_address(userdata, c->id));
}

int method_get_container_port_override(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Container *c;
        int r = container_find_authorized(userdata, m, &c, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return sd_bus_reply_method_return(m, "q", (uint16_t) 0);
}
