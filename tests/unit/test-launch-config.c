/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "lib/launch-config.h"
#include "lib/macro.h"

#define HEX1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static const char good[] =
        "{\"id\":\"web-rep-1\",\"image\":\"127.0.0.1:5000/busybox:latest\","
        "\"layers\":[\"" HEX1 "\",\"" HEX2 "\"],"
        "\"args\":[\"/bin/sh\",\"-c\",\"echo hi\"],"
        "\"env\":[\"PATH=/usr/bin:/bin\",\"MODE=production\",\"EMPTY=\"],"
        "\"cwd\":\"/srv\",\"user\":\"1000:1000\",\"extra_groups\":[\"audio\",\"44\"],"
        "\"hostname\":\"web-rep-1\",\"network_mode\":\"host\",\"readonly_rootfs\":true,"
        "\"tty\":false,\"stdin_open\":false,"
        "\"mounts\":[{\"type\":\"bind\",\"source\":\"/srv/data\",\"target\":\"/data\",\"readonly\":true},"
        "{\"type\":\"tmpfs\",\"target\":\"/run\",\"size\":65536,\"mode\":493},"
        "{\"type\":\"volume\",\"name\":\"db-data\",\"target\":\"/db\"},{\"type\":\"anonymous\",\"target\":\"/cache\"}],"
        "\"sysctls\":[\"kernel.msgmax=1024\"],\"host_pid\":true,"
        "\"resources\":{\"cpu_quota\":50000,\"cpu_period\":100000,\"cpu_shares\":512,"
        "\"memory\":67108864,\"memory_swap\":-1,\"memory_reservation\":0,\"pids_limit\":100,"
        "\"cpuset_cpus\":\"0-1\"},"
        "\"cap_add\":[\"CAP_NET_ADMIN\"],\"cap_drop\":[\"CAP_MKNOD\"],\"privileged\":false,"
        "\"rlimits\":[{\"name\":\"nofile\",\"soft\":1024,\"hard\":4096}],"
        "\"stop_signal\":\"SIGQUIT\",\"stop_grace_usec\":5000000}";

static void test_good(void **state) {
        _cleanup_launch_config_ LaunchConfig *c = NULL;
        _cleanup_free_ char *err = NULL;

        assert_int_equal(launch_config_parse(good, &c, &err), 0);
        assert_null(err);
        assert_string_equal(c->id, "web-rep-1");
        assert_string_equal(c->image, "127.0.0.1:5000/busybox:latest");
        assert_int_equal(strv_length(c->layers), 2);
        assert_string_equal(c->layers[0], HEX1);
        assert_int_equal(strv_length(c->args), 3);
        assert_string_equal(c->args[2], "echo hi");
        assert_string_equal(c->env[2], "EMPTY=");
        assert_string_equal(c->cwd, "/srv");
        assert_string_equal(c->user, "1000:1000");
        assert_string_equal(c->extra_groups[1], "44");
        assert_string_equal(c->network_mode, "host");
        assert_true(c->readonly_rootfs);
        assert_int_equal(c->n_mounts, 4);
        assert_int_equal(c->mounts[2].type, MOUNT_VOLUME);
        assert_string_equal(c->mounts[2].source, "db-data");
        assert_int_equal(c->mounts[3].type, MOUNT_ANONYMOUS);
        assert_null(c->mounts[3].source);
        assert_string_equal(c->sysctls[0], "kernel.msgmax=1024");
        assert_true(c->host_pid);
        assert_false(c->host_ipc);
        assert_int_equal(c->mounts[0].type, MOUNT_BIND);
        assert_string_equal(c->mounts[0].source, "/srv/data");
        assert_true(c->mounts[0].readonly);
        assert_int_equal(c->mounts[1].type, MOUNT_TMPFS);
        assert_null(c->mounts[1].source);
        assert_int_equal(c->mounts[1].size, 65536);
        assert_int_equal(c->mounts[1].mode, 0755);
        assert_int_equal(c->resources.cpu_quota, 50000);
        assert_int_equal(c->resources.memory, 67108864);
        assert_int_equal(c->resources.memory_swap, -1);
        assert_int_equal(c->resources.pids_limit, 100);
        assert_string_equal(c->resources.cpuset_cpus, "0-1");
        assert_string_equal(c->cap_add[0], "CAP_NET_ADMIN");
        assert_int_equal(c->n_rlimits, 1);
        assert_string_equal(c->rlimits[0].name, "nofile");
        assert_int_equal(c->rlimits[0].hard, 4096);
        assert_string_equal(c->stop_signal, "SIGQUIT");
        assert_int_equal(c->stop_grace_usec, 5000000);
}

static void test_minimal_defaults(void **state) {
        _cleanup_launch_config_ LaunchConfig *c = NULL;
        _cleanup_free_ char *err = NULL;

        assert_int_equal(launch_config_parse("{\"id\":\"a\",\"layers\":[\"" HEX1 "\"],\"args\":[\"true\"]}", &c, &err), 0);
        assert_string_equal(c->cwd, "/");
        assert_string_equal(c->user, "");
        assert_string_equal(c->network_mode, "none");
        assert_string_equal(c->stop_signal, "SIGTERM");
        assert_int_equal(strv_length(c->env), 0);
        assert_int_equal(c->n_mounts, 0);
        assert_null(c->resources.cpuset_cpus);
}

/* Replace the first occurrence of @from in the good config by @to. */
static char *mutate(const char *from, const char *to) {
        const char *p = strstr(good, from);
        char *s;
        assert_non_null(p);
        assert_true(asprintf(&s, "%.*s%s%s", (int) (p - good), good, to, p + strlen(from)) > 0);
        return s;
}

static void test_bad_fields(void **state) {
        static const struct {
                const char *from, *to, *field;
        } cases[] = {
                { "\"id\":\"web-rep-1\"", "\"id\":\"../etc\"", "id" },
                { "\"id\":\"web-rep-1\"", "\"id\":7", "id" },
                { "\"layers\":[\"" HEX1 "\"", "\"layers\":[\"sha256:" HEX1 "\"", "layers[0]" },
                { "\"" HEX2 "\"]", "\"ABCDEF\"]", "layers[1]" },
                { "\"layers\":[\"" HEX1 "\",\"" HEX2 "\"]", "\"layers\":[]", "layers" },
                { "\"args\":[\"/bin/sh\",\"-c\",\"echo hi\"]", "\"args\":[]", "args" },
                { "\"args\":[\"/bin/sh\"", "\"args\":[\"\"", "args[0]" },
                { "\"args\":[\"/bin/sh\",\"-c\"", "\"args\":[\"/bin/sh\",3", "args[1]" },
                { "\"MODE=production\"", "\"=production\"", "env[1]" },
                { "\"MODE=production\"", "\"MODE\"", "env[1]" },
                { "\"cwd\":\"/srv\"", "\"cwd\":\"srv\"", "cwd" },
                { "\"cwd\":\"/srv\"", "\"cwd\":\"/srv/../..\"", "cwd" },
                { "\"user\":\"1000:1000\"", "\"user\":\"a:b:c\"", "user" },
                { "\"extra_groups\":[\"audio\"", "\"extra_groups\":[\"a:b\"", "extra_groups[0]" },
                { "\"hostname\":\"web-rep-1\"", "\"hostname\":\"a b\"", "hostname" },
                { "\"network_mode\":\"host\"", "\"network_mode\":\"overlay\"", "network_mode" },
                { "\"readonly_rootfs\":true", "\"readonly_rootfs\":\"yes\"", "readonly_rootfs" },
                { "\"source\":\"/srv/data\"", "\"source\":\"data\"", "mounts[0].source" },
                { "\"target\":\"/data\"", "\"target\":\"/data/../../etc\"", "mounts[0].target" },
                { "\"target\":\"/data\"", "\"target\":\"/\"", "mounts[0].target" },
                { "\"type\":\"bind\"", "\"type\":\"nfs\"", "mounts[0].type" },
                { "\"mode\":493", "\"mode\":99999", "mounts[1].mode" },
                { "\"name\":\"db-data\"", "\"name\":\"../etc\"", "mounts[2].name" },
                { "\"type\":\"anonymous\"", "\"type\":\"anonymous\",\"name\":\"x\"", "mounts[3]" },
                { "\"kernel.msgmax=1024\"", "\"kernel.hostname=x\"", "sysctls[0]" },
                { "\"kernel.msgmax=1024\"", "\"kernel.msgmax\"", "sysctls[0]" },
                { "\"kernel.msgmax=1024\"", "\"net.core.somaxconn=1\"", "sysctls" },
                { "\"host_pid\":true", "\"host_pid\":true,\"host_ipc\":true", "sysctls" },
                { "\"size\":65536", "\"size\":-1", "mounts[1].size" },
                { "\"cpu_period\":100000", "\"cpu_period\":5", "resources.cpu_period" },
                { "\"cpu_quota\":50000", "\"cpu_quota\":-5", "resources.cpu_quota" },
                { "\"cpu_shares\":512", "\"cpu_shares\":1", "resources.cpu_shares" },
                { "\"memory\":67108864", "\"memory\":1024", "resources.memory" },
                { "\"memory_swap\":-1", "\"memory_swap\":1000", "resources.memory_swap" },
                { "\"pids_limit\":100", "\"pids_limit\":-2", "resources.pids_limit" },
                { "\"cpuset_cpus\":\"0-1\"", "\"cpuset_cpus\":\"0;1\"", "resources.cpuset_cpus" },
                { "\"cap_add\":[\"CAP_NET_ADMIN\"]", "\"cap_add\":[\"NET_ADMIN\"]", "cap_add[0]" },
                { "\"cap_drop\":[\"CAP_MKNOD\"]", "\"cap_drop\":[\"CAP_FLY\"]", "cap_drop[0]" },
                { "\"name\":\"nofile\"", "\"name\":\"files\"", "rlimits[0].name" },
                { "\"soft\":1024", "\"soft\":9999", "rlimits[0].soft" },
                { "\"stop_signal\":\"SIGQUIT\"", "\"stop_signal\":\"SIGFOO\"", "stop_signal" },
                { "\"stop_grace_usec\":5000000", "\"stop_grace_usec\":-1", "stop_grace_usec" },
                { "\"privileged\":false", "\"privileged\":0", "privileged" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *json = mutate(cases[i].from, cases[i].to), *err = NULL;
                LaunchConfig *c = NULL;
                int r = launch_config_parse(json, &c, &err);
                if (r != -EINVAL || c)
                        fail_msg("case %zu (%s) accepted", i, cases[i].field);
                assert_non_null(err);
                /* the error starts with the offending field */
                if (!strneq(err, cases[i].field, strlen(cases[i].field)) || err[strlen(cases[i].field)] != ':')
                        fail_msg("case %zu: expected field %s in \"%s\"", i, cases[i].field, err);
        }
}

static void test_bad_json(void **state) {
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL;
        LaunchConfig *c = NULL;

        assert_int_equal(launch_config_parse("{", &c, &e1), -EINVAL);
        assert_non_null(strstr(e1, "invalid JSON"));
        assert_int_equal(launch_config_parse("[]", &c, &e2), -EINVAL);
        assert_non_null(strstr(e2, "not a JSON object"));
        assert_int_equal(launch_config_parse("{\"layers\":[],\"args\":[\"x\"]}", &c, &e3), -EINVAL);
        assert_string_equal(e3, "id: missing");
        _cleanup_free_ char *trailing = NULL;
        assert_true(asprintf(&trailing, "%s}", good) > 0);
        assert_int_equal(launch_config_parse(trailing, &c, &e4), -EINVAL);
        assert_non_null(strstr(e4, "trailing"));
        assert_null(c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_good),
                cmocka_unit_test(test_minimal_defaults),
                cmocka_unit_test(test_bad_fields),
                cmocka_unit_test(test_bad_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
