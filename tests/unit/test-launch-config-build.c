/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "launch-config.h"
#include "macro.h"
#include "servicespec.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char img_busybox[] =
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"],"
        "\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"]},"
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:aa\"]}}";
static const char img_nginx[] =
        "{\"config\":{\"Entrypoint\":[\"/docker-entrypoint.sh\"],\"Cmd\":[\"nginx\",\"-g\",\"daemon off;\"],"
        "\"Env\":[\"PATH=/bin\",\"NGINX_VERSION=1.25\",\"MODE=dev\"],\"WorkingDir\":\"/app\","
        "\"User\":\"101:101\",\"StopSignal\":\"SIGQUIT\"}}";
static const char img_entrypoint_only[] =
        "{\"config\":{\"Entrypoint\":[\"/bin/app\",\"--serve\"],\"Cmd\":null,\"Env\":null,\"WorkingDir\":\"\"}}";
static const char img_null_config[] = "{\"architecture\":\"amd64\",\"config\":null}";
static const char img_relative_workdir[] = "{\"config\":{\"Cmd\":[\"x\"],\"WorkingDir\":\"app\"}}";

static char *const layers[] = {
        "1111111111111111111111111111111111111111111111111111111111111111",
        "2222222222222222222222222222222222222222222222222222222222222222",
        NULL,
};

static ServiceSpec *spec(const char *extra_yaml) {
        _cleanup_free_ char *text = NULL, *err = NULL;
        ServiceSpec *s = NULL;

        assert_true(asprintf(&text, "image: {name: 127.0.0.1:5000/busybox:latest}\n%s", extra_yaml) > 0);
        if (service_spec_parse(text, strlen(text), &s, &err) < 0)
                fail_msg("spec does not parse: %s\n%s", strempty(err), text);
        return s;
}

static char *join_array(json_object *o, const char *key) {
        json_object *a;
        char *r = strdup("");

        assert_true(json_object_object_get_ex(o, key, &a));
        assert_true(json_object_is_type(a, json_type_array));
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                char *n;
                assert_true(asprintf(&n, "%s%s%s", r, i ? " | " : "", json_object_get_string(json_object_array_get_idx(a, i))) > 0);
                free(r);
                r = n;
        }
        return r;
}

static const char *member_str(json_object *o, const char *key) {
        json_object *v;
        assert_true(json_object_object_get_ex(o, key, &v));
        return json_object_get_string(v);
}

typedef struct Case {
        const char *spec;
        const char *image;
        const char *args, *env, *cwd, *user, *stop_signal; /* NULL = don't check */
} Case;

static const Case cases[] = {
        /* Docker rules for argv */
        { "", img_busybox, "sh", DEFAULT_PATH, "/", "", "SIGTERM" },
        { "command: {args: [echo, hi]}\n", img_busybox, "echo | hi", NULL, NULL, NULL, NULL },
        { "command: {entrypoint: [/bin/httpd]}\n", img_busybox, "/bin/httpd", NULL, NULL, NULL, NULL },
        { "command: {entrypoint: [/bin/httpd], args: [-f, -p, '8080']}\n", img_busybox, "/bin/httpd | -f | -p | 8080",
          NULL, NULL, NULL, NULL },
        { "", img_nginx, "/docker-entrypoint.sh | nginx | -g | daemon off;", NULL, "/app", "101:101", "SIGQUIT" },
        { "command: {args: [nginx-debug]}\n", img_nginx, "/docker-entrypoint.sh | nginx-debug", NULL, NULL, NULL, NULL },
        /* a new entrypoint drops the image's Cmd */
        { "command: {entrypoint: [/bin/sh]}\n", img_nginx, "/bin/sh", NULL, NULL, NULL, NULL },
        { "command: {entrypoint: [/bin/sh], args: [-c, 'exit 0']}\n", img_nginx, "/bin/sh | -c | exit 0", NULL, NULL,
          NULL, NULL },
        /* an empty entrypoint clears the image's; args become the command */
        { "command: {entrypoint: [], args: [/bin/true]}\n", img_nginx, "/bin/true", NULL, NULL, NULL, NULL },
        { "", img_entrypoint_only, "/bin/app | --serve", DEFAULT_PATH, "/", "", "SIGTERM" },
        { "command: {args: [--port, '1']}\n", img_entrypoint_only, "/bin/app | --serve | --port | 1", NULL, NULL, NULL, NULL },
        { "command: {args: [/bin/x]}\n", img_null_config, "/bin/x", DEFAULT_PATH, "/", "", "SIGTERM" },
        { "command: {args: [/bin/x]}\n", NULL, "/bin/x", DEFAULT_PATH, "/", "", "SIGTERM" },
        { "command: {args: [/bin/x]}\n", "{}", "/bin/x", DEFAULT_PATH, "/", "", "SIGTERM" },
        /* env: image first, spec replaces in place, PATH defaulted only when missing */
        { "env: {MODE: production, EXTRA: 1}\n", img_nginx, NULL, "PATH=/bin | NGINX_VERSION=1.25 | MODE=production | EXTRA=1",
          NULL, NULL, NULL },
        { "env: {PATH: /opt/bin}\n", img_busybox, NULL, "PATH=/opt/bin", NULL, NULL, NULL },
        { "env: {A: x}\n", img_entrypoint_only, NULL, DEFAULT_PATH " | A=x", NULL, NULL, NULL },
        /* workdir, user, stop signal: spec, else image, else default */
        { "command: {workdir: /srv}\n", img_nginx, NULL, NULL, "/srv", NULL, NULL },
        { "user: '1000:1000'\n", img_nginx, NULL, NULL, NULL, "1000:1000", NULL },
        { "user: 0\n", img_nginx, NULL, NULL, NULL, "0", NULL },
        { "stop_signal: INT\n", img_nginx, NULL, NULL, NULL, NULL, "SIGINT" },
        { "stop_signal: '9'\n", img_busybox, NULL, NULL, NULL, NULL, "SIGKILL" },
};

static void test_docker_rules(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_service_spec_ ServiceSpec *s = spec(cases[i].spec);
                _cleanup_free_ char *err = NULL, *args = NULL, *env = NULL;
                json_object *o = NULL;
                int r;

                r = launch_config_build(s, "web-rep-1", NULL, cases[i].image, layers, &o, &err);
                if (r < 0)
                        fail_msg("case %zu: launch_config_build = %d: %s", i, r, strempty(err));
                args = join_array(o, "args");
                env = join_array(o, "env");
                if (cases[i].args && !streq(args, cases[i].args))
                        fail_msg("case %zu: args '%s', expected '%s'", i, args, cases[i].args);
                if (cases[i].env && !streq(env, cases[i].env))
                        fail_msg("case %zu: env '%s', expected '%s'", i, env, cases[i].env);
                if (cases[i].cwd && !streq(member_str(o, "cwd"), cases[i].cwd))
                        fail_msg("case %zu: cwd '%s', expected '%s'", i, member_str(o, "cwd"), cases[i].cwd);
                if (cases[i].user && !streq(member_str(o, "user"), cases[i].user))
                        fail_msg("case %zu: user '%s', expected '%s'", i, member_str(o, "user"), cases[i].user);
                if (cases[i].stop_signal && !streq(member_str(o, "stop_signal"), cases[i].stop_signal))
                        fail_msg("case %zu: stop_signal '%s', expected '%s'", i, member_str(o, "stop_signal"),
                                 cases[i].stop_signal);
                json_object_put(o);
        }
}

typedef struct ErrorCase {
        const char *spec, *image, *error;
} ErrorCase;

static const ErrorCase error_cases[] = {
        { "", img_null_config, "no command: the image has no Entrypoint or Cmd and the spec gives none" },
        { "", NULL, "no command: the image has no Entrypoint or Cmd and the spec gives none" },
        { "command: {entrypoint: []}\n", img_nginx, "no command: the image has no Entrypoint or Cmd and the spec gives none" },
        { "command: {args: ['']}\n", img_null_config, "args[0]: the command is an empty string" },
        { "port_mappings: [{container_port: 80, host_port: 8080, host_ip: 10.0.0.1}]\n", img_busybox,
          "port_mappings[0].host_ip: '10.0.0.1' is not supported (ports are published on every host address: '' or 0.0.0.0)" },
        { "port_mappings: [{container_port: 80, host_port: 8080}, {container_port: 81, host_port: 8080}]\n", img_busybox,
          "port_mappings[1].host_port: 8080/tcp is published twice" },
        { "pid_mode: 'container:x'\n", img_busybox, "pid_mode: 'container:x' is not supported" },
        { "ipc_mode: none\n", img_busybox, "ipc_mode: 'none' is not supported" },
        { "userns_mode: private\n", img_busybox, "userns_mode: 'private' is not supported" },
        { "cgroup_parent: /x\n", img_busybox, "cgroup_parent: '/x' is not supported" },
        { "init_container: false\n", img_busybox, "init_container: 'false' is not supported" },
        { "resources: {memory_swappiness: 10}\n", img_busybox, "resources.memory_swappiness: 10 is not supported" },
        { "network_mode: host\nsysctls: {net.ipv4.ip_forward: 1}\n", img_busybox,
          "sysctls.net.ipv4.ip_forward: not allowed with network_mode 'host'" },
        { "ipc_mode: host\nsysctls: {kernel.shmmax: 1}\n", img_busybox, "sysctls.kernel.shmmax: not allowed with ipc_mode 'host'" },
        { "", img_relative_workdir, "cwd: working directory 'app' is not an absolute path" },
        { "", "{\"config\":{\"Cmd\":\"sh\"}}", "image config: Cmd is not a list" },
        { "", "{\"config\":{\"Cmd\":[1]}}", "image config: Cmd[0] is not a string" },
        { "", "{\"config\":{\"Cmd\":[\"sh\"],\"User\":5}}", "image config: User is not a string" },
        { "", "{\"config\":{\"Cmd\":[\"sh\"],\"User\":\"a b\"}}", "user: invalid user 'a b' in the image config" },
        { "", "{\"config\":{\"Cmd\":[\"sh\"],\"StopSignal\":\"SIGNOPE\"}}", "stop_signal: unknown signal 'SIGNOPE'" },
        { "", "{\"config\":[]}", "image config: \"config\" is not an object" },
        { "", "[1]", "image config: not a JSON object" },
        { "", "{\"config\":{\"Cmd\":[\"sh\"],\"Env\":[\"A=1\",\"NOEQUALS\"]}}", "image config: Env[1] is not a printable KEY=VALUE" },
        { "", "{\"config\":{\"Cmd\":[\"sh\"],\"Env\":[\"=x\"]}}", "image config: Env[0] is not a printable KEY=VALUE" },
        { "", "{\"config\":{\"Cmd\":[\"sh\"],\"Env\":[\"A=\\n\"]}}", "image config: Env[0] is not a printable KEY=VALUE" },
        { "", "{\"config\":{\"Cmd\":[\"sh\"],\"WorkingDir\":\"/a/../b\"}}",
          "cwd: working directory '/a/../b' has a '..' component or control characters" },
        { "", "{\"config\":{\"Cmd\":[\"sh\"]}} trailing", "image config: invalid JSON: unexpected character" },
        { "", "{\"config\":", "image config: invalid JSON: unexpected end of input" },
};

static void test_errors(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(error_cases); i++) {
                _cleanup_service_spec_ ServiceSpec *s = spec(error_cases[i].spec);
                _cleanup_free_ char *err = NULL;
                json_object *o = NULL;
                int r;

                r = launch_config_build(s, "web-rep-1", NULL, error_cases[i].image, layers, &o, &err);
                if (r != -EINVAL || o)
                        fail_msg("case %zu: r = %d, expected -EINVAL", i, r);
                if (!err || !strstr(err, error_cases[i].error))
                        fail_msg("case %zu: error '%s', expected '%s'", i, strempty(err), error_cases[i].error);
        }
}

static const char full_spec[] =
        "hostname: www\n"
        "network_mode: host\n"
        "command: {entrypoint: [/bin/httpd], args: [-f]}\n"
        "resources: {cpu: 0.5, memory: 64Mi, memory_swap: 128Mi, memory_reservation: 32Mi, pids_limit: 128,\n"
        "            cpuset: 0-1, cpu_shares: 512}\n"
        "storage:\n"
        "  - {type: bind, source: /srv/www, target: /var/www, readonly: true}\n"
        "  - {type: tmpfs, target: /tmp, size: 16Mi, mode: '1777'}\n"
        "  - {type: named, name: web-data, target: /data, readonly: true}\n"
        "  - {type: anonymous, target: /cache}\n"
        "sysctls: {kernel.shmmax: 1024}\n"
        "pid_mode: host\n"
        "capabilities: [net_admin]\n"
        "cap_drop: [MKNOD]\n"
        "privileged: false\n"
        "read_only_root_fs: true\n"
        "tty: true\n"
        "stdin_open: true\n"
        "extra_groups: [wheel]\n"
        "ulimits: {nofile: {soft: 1024, hard: 4096}, core: unlimited}\n"
        "stop_grace_period: 30s\n";

static void test_full(void **state) {
        _cleanup_service_spec_ ServiceSpec *s = spec(full_spec);
        _cleanup_free_ char *err = NULL;
        json_object *o = NULL;

        assert_int_equal(launch_config_build(s, "web-rep-1", "127.0.0.1:5000/busybox@sha256:abc", img_busybox, layers, &o, &err), 0);
        assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                "{\"id\":\"web-rep-1\",\"image\":\"127.0.0.1:5000/busybox@sha256:abc\","
                "\"layers\":[\"1111111111111111111111111111111111111111111111111111111111111111\","
                "\"2222222222222222222222222222222222222222222222222222222222222222\"],"
                "\"args\":[\"/bin/httpd\",\"-f\"],"
                "\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],"
                "\"cwd\":\"/\",\"user\":\"\",\"extra_groups\":[\"wheel\"],\"hostname\":\"www\","
                "\"network_mode\":\"host\",\"readonly_rootfs\":true,\"tty\":true,\"stdin_open\":true,"
                "\"host_pid\":true,\"host_ipc\":false,\"sysctls\":[\"kernel.shmmax=1024\"],"
                "\"mounts\":[{\"type\":\"bind\",\"source\":\"/srv/www\",\"target\":\"/var/www\",\"readonly\":true},"
                "{\"type\":\"tmpfs\",\"target\":\"/tmp\",\"size\":16777216,\"mode\":1023},"
                "{\"type\":\"volume\",\"name\":\"web-data\",\"target\":\"/data\",\"readonly\":true},"
                "{\"type\":\"anonymous\",\"target\":\"/cache\",\"readonly\":false}],"
                "\"resources\":{\"cpu_quota\":50000,\"cpu_period\":100000,\"cpu_shares\":512,\"memory\":67108864,"
                "\"memory_swap\":134217728,\"memory_reservation\":33554432,\"pids_limit\":128,\"cpuset_cpus\":\"0-1\"},"
                "\"cap_add\":[\"CAP_NET_ADMIN\"],\"cap_drop\":[\"CAP_MKNOD\"],\"privileged\":false,"
                "\"rlimits\":[{\"name\":\"nofile\",\"soft\":1024,\"hard\":4096},"
                "{\"name\":\"core\",\"soft\":18446744073709551615,\"hard\":18446744073709551615}],"
                "\"seccomp\":\"default\",\"stop_signal\":\"SIGTERM\",\"stop_grace_usec\":30000000}");
        json_object_put(o);
}

static void test_defaults(void **state) {
        _cleanup_service_spec_ ServiceSpec *s = spec("command: {args: [/bin/true]}\ncap_add: [all]\n");
        _cleanup_free_ char *err = NULL;
        json_object *o = NULL, *res, *v;

        assert_int_equal(launch_config_build(s, "job-rep-7", NULL, NULL, layers, &o, &err), 0);
        assert_string_equal(member_str(o, "image"), "127.0.0.1:5000/busybox:latest");   /* the spec's */
        assert_string_equal(member_str(o, "hostname"), "job-rep-7");                    /* the id */
        assert_string_equal(member_str(o, "network_mode"), "bridge");                   /* default → bridge */
        assert_true(json_object_object_get_ex(o, "stop_grace_usec", &v));
        assert_int_equal(json_object_get_int64(v), 10 * USEC_PER_SEC);
        assert_true(json_object_object_get_ex(o, "resources", &res));
        assert_true(json_object_object_get_ex(res, "cpu_quota", &v));
        assert_int_equal(json_object_get_int64(v), 0);
        assert_true(json_object_object_get_ex(res, "cpu_period", &v));
        assert_int_equal(json_object_get_int64(v), 0);
        /* "ALL" is spelled out for the readers */
        assert_true(json_object_object_get_ex(o, "cap_add", &v));
        assert_true(json_object_array_length(v) >= 38);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)), "CAP_CHOWN");
        json_object_put(o);

        /* cpu rounding and the 1 ms kernel minimum */
        static const struct {
                const char *cpu;
                int64_t quota;
        } cpus[] = { { "1", 100000 }, { "0.333333", 33333 }, { "0.123456", 12346 }, { "2.5", 250000 }, { "0.001", 1000 },
                     { "0.0001", 1000 } };
        for (size_t i = 0; i < ELEMENTSOF(cpus); i++) {
                _cleanup_free_ char *text = NULL, *e = NULL;
                assert_true(asprintf(&text, "command: {args: [x]}\nresources: {cpu: %s}\n", cpus[i].cpu) > 0);
                _cleanup_service_spec_ ServiceSpec *c = spec(text);
                assert_int_equal(launch_config_build(c, "a-rep-1", NULL, NULL, layers, &o, &e), 0);
                assert_true(json_object_object_get_ex(o, "resources", &res));
                assert_true(json_object_object_get_ex(res, "cpu_quota", &v));
                if (json_object_get_int64(v) != cpus[i].quota)
                        fail_msg("cpu %s → quota %lld, expected %lld", cpus[i].cpu, (long long) json_object_get_int64(v),
                                 (long long) cpus[i].quota);
                json_object_put(o);
        }
}

/* What the broker builds, zlayer-exec and the shim must accept as is. */
static void test_round_trip(void **state) {
        static const struct {
                const char *spec, *image;
        } t[] = {
                { full_spec, img_busybox },
                { "", img_nginx },
                { "command: {args: [/bin/true]}\nstop_signal: SIGRTMIN+3\nuser: nobody\n", NULL },
                { "command: {args: [/bin/true]}\ncap_drop: [all]\nresources: {memory: 1Gi, memory_swap: -1}\n", img_null_config },
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_service_spec_ ServiceSpec *s = spec(t[i].spec);
                _cleanup_launch_config_ LaunchConfig *c = NULL;
                _cleanup_free_ char *err = NULL;
                json_object *o = NULL;

                assert_int_equal(launch_config_build(s, "web-rep-1", NULL, t[i].image, layers, &o, &err), 0);
                if (launch_config_parse(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), &c, &err) < 0)
                        fail_msg("case %zu: launch_config_parse rejects what was built: %s\n%s", i, strempty(err),
                                 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
                assert_string_equal(c->id, "web-rep-1");
                assert_int_equal(strv_length(c->layers), 2);
                assert_string_equal(c->layers[0], layers[0]);
                assert_int_equal(strv_length(c->args), json_object_array_length(json_object_object_get(o, "args")));
                assert_string_equal(c->cwd, member_str(o, "cwd"));
                assert_string_equal(c->user, member_str(o, "user"));
                assert_string_equal(c->stop_signal, member_str(o, "stop_signal"));
                json_object_put(o);

                if (i == 0) {
                        assert_string_equal(c->hostname, "www");
                        assert_string_equal(c->network_mode, "host");
                        assert_true(c->readonly_rootfs && c->tty && c->stdin_open && !c->privileged);
                        assert_int_equal(c->n_mounts, 4);
                        assert_int_equal(c->mounts[2].type, MOUNT_VOLUME);
                        assert_string_equal(c->mounts[2].source, "web-data");
                        assert_int_equal(c->mounts[3].type, MOUNT_ANONYMOUS);
                        assert_true(c->host_pid && !c->host_ipc);
                        assert_string_equal(c->sysctls[0], "kernel.shmmax=1024");
                        assert_int_equal(c->mounts[0].type, MOUNT_BIND);
                        assert_string_equal(c->mounts[0].source, "/srv/www");
                        assert_true(c->mounts[0].readonly);
                        assert_int_equal(c->mounts[1].type, MOUNT_TMPFS);
                        assert_int_equal(c->mounts[1].size, 16 << 20);
                        assert_int_equal(c->mounts[1].mode, 01777);
                        assert_int_equal(c->resources.cpu_quota, 50000);
                        assert_int_equal(c->resources.cpu_period, 100000);
                        assert_int_equal(c->resources.cpu_shares, 512);
                        assert_int_equal(c->resources.memory, 64 << 20);
                        assert_int_equal(c->resources.memory_swap, 128 << 20);
                        assert_int_equal(c->resources.memory_reservation, 32 << 20);
                        assert_int_equal(c->resources.pids_limit, 128);
                        assert_string_equal(c->resources.cpuset_cpus, "0-1");
                        assert_string_equal(c->cap_add[0], "CAP_NET_ADMIN");
                        assert_string_equal(c->cap_drop[0], "CAP_MKNOD");
                        assert_string_equal(c->extra_groups[0], "wheel");
                        assert_int_equal(c->n_rlimits, 2);
                        assert_string_equal(c->rlimits[0].name, "nofile");
                        assert_int_equal(c->rlimits[0].soft, 1024);
                        assert_int_equal(c->rlimits[0].hard, 4096);
                        assert_true(c->rlimits[1].soft == UINT64_MAX && c->rlimits[1].hard == UINT64_MAX);
                        assert_int_equal(c->stop_grace_usec, 30 * USEC_PER_SEC);
                }
                if (i == 3)
                        assert_int_equal(c->resources.memory_swap, -1);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_docker_rules),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_full),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_round_trip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
