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

#include "macro.h"
#include "servicespec.h"
#include "yaml-json.h"

/* The `web` service of the example deployment in servicespec.md. */
static const char web_yaml[] =
        "rtype: service\n"
        "image:\n"
        "  name: 127.0.0.1:5000/busybox:latest\n"
        "  pull_policy: if_not_present\n"
        "command:\n"
        "  entrypoint: [\"/bin/httpd\"]\n"
        "  args: [\"-f\", \"-p\", \"8080\"]\n"
        "  workdir: /srv\n"
        "env:\n"
        "  MODE: production\n"
        "endpoints:\n"
        "  - name: http\n"
        "    protocol: http\n"
        "    port: 8080\n"
        "resources:\n"
        "  cpu: 0.5\n"
        "  memory: 64Mi\n"
        "  pids_limit: 128\n"
        "scale:\n"
        "  mode: fixed\n"
        "  replicas: 2\n";

static const char web_json[] =
        "  {\"rtype\": \"service\",\n"
        "   \"image\": {\"name\": \"127.0.0.1:5000/busybox:latest\", \"pull_policy\": \"if_not_present\"},\n"
        "   \"command\": {\"entrypoint\": [\"/bin/httpd\"], \"args\": [\"-f\", \"-p\", \"8080\"], \"workdir\": \"/srv\"},\n"
        "   \"env\": {\"MODE\": \"production\"},\n"
        "   \"endpoints\": [{\"name\": \"http\", \"protocol\": \"http\", \"port\": 8080}],\n"
        "   \"resources\": {\"cpu\": 0.5, \"memory\": \"64Mi\", \"pids_limit\": 128},\n"
        "   \"scale\": {\"mode\": \"fixed\", \"replicas\": 2}}\n";

static ServiceSpec *parse_ok(const char *text) {
        _cleanup_free_ char *err = NULL;
        ServiceSpec *s = NULL;
        int r = service_spec_parse(text, strlen(text), &s, &err);
        if (r < 0)
                fail_msg("service_spec_parse failed: %d %s\n%s", r, strempty(err), text);
        assert_non_null(s);
        assert_null(err);
        return s;
}

static void assert_strv(char **l, const char *const *expect, size_t n) {
        assert_non_null(l);
        assert_int_equal(strv_length(l), n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(l[i], expect[i]);
}

static void check_web(ServiceSpec *s) {
        static const char *const ep[] = { "/bin/httpd" }, *const args[] = { "-f", "-p", "8080" },
                                 *const env[] = { "MODE=production" };
        json_object *v, *w;

        assert_string_equal(s->rtype, "service");
        assert_string_equal(s->image, "127.0.0.1:5000/busybox:latest");
        assert_int_equal(s->pull_policy, PULL_IF_NOT_PRESENT);
        assert_strv(s->entrypoint, ep, 1);
        assert_strv(s->args, args, 3);
        assert_string_equal(s->workdir, "/srv");
        assert_strv(s->env, env, 1);
        assert_true(s->cpu == 0.5);
        assert_int_equal(s->memory, 64 * 1024 * 1024);
        assert_int_equal(s->pids_limit, 128);
        assert_int_equal(s->memory_swap, 0);
        assert_int_equal(s->memory_swappiness, -1);
        assert_string_equal(s->network_mode, "default");
        assert_null(s->user);
        assert_null(s->stop_signal);
        assert_int_equal(s->stop_grace_usec, 0);
        assert_int_equal(s->n_storage, 0);
        assert_false(s->privileged);

        /* orchestrator fields are kept verbatim in the tree */
        assert_true(json_object_object_get_ex(s->json, "scale", &v));
        assert_true(json_object_object_get_ex(v, "replicas", &w));
        assert_int_equal(json_object_get_int(w), 2);
        assert_true(json_object_object_get_ex(s->json, "endpoints", &v));
        assert_int_equal(json_object_array_length(v), 1);
}

static void test_example_web(void **state) {
        _cleanup_service_spec_ ServiceSpec *y = parse_ok(web_yaml);
        _cleanup_service_spec_ ServiceSpec *j = parse_ok(web_json);

        check_web(y);
        check_web(j);
        /* the same spec in YAML and JSON normalizes to the same tree */
        assert_true(json_object_equal(y->json, j->json));
}

static void test_cron_schedule(void **state) {
        _cleanup_service_spec_ ServiceSpec *s = parse_ok("image: {name: b}\nrtype: cron\nschedule: '*/5 9-17 * * mon-fri'\n");
        _cleanup_service_spec_ ServiceSpec *m = parse_ok("{\"image\": {\"name\": \"b\"}, \"rtype\": \"cron\", \"schedule\": \"@hourly\"}");

        assert_string_equal(s->rtype, "cron");
        assert_string_equal(s->schedule, "*/5 9-17 * * mon-fri");
        assert_string_equal(m->schedule, "@hourly");
}

static void test_all_fields(void **state) {
        const char *text =
                "image: {name: busybox, pull_policy: always}\n"
                "rtype: job\n"
                "env: {NUM: 42, FLAG: true, VER: 1.10, EMPTY: , TEXT: hi}\n"
                "resources:\n"
                "  cpu: '1.5'\n"
                "  memory: 1Gi\n"
                "  memory_swap: -1\n"
                "  memory_reservation: 512k\n"
                "  memory_swappiness: 10\n"
                "  cpuset: 0-1,3\n"
                "  cpu_shares: 512\n"
                "port_mappings: [{container_port: 80, host_port: 8080, protocol: tcp, host_ip: 127.0.0.1}]\n"
                "storage:\n"
                "  - {type: bind, source: /srv/data..x/..., target: /data, readonly: true}\n"
                "  - {type: named, name: cache, target: /cache}\n"
                "  - {type: anonymous, target: /scratch}\n"
                "  - {type: tmpfs, target: /tmp, size: 64Mi, mode: '1777'}\n"
                "network_mode: host\n"
                "hostname: web-1\n"
                "dns: [1.1.1.1, '::1']\n"
                "extra_hosts: ['db:10.0.0.2', 'v6:fe80::1']\n"
                "user: 1000\n"
                "extra_groups: [wheel, 27]\n"
                "labels: {tier: front, version: 3}\n"
                "capabilities: [net_admin]\n"
                "cap_add: [CAP_SYS_PTRACE]\n"
                "cap_drop: [mknod, Cap_Chown]\n"
                "privileged: false\n"
                "read_only_root_fs: true\n"
                "tty: true\n"
                "stdin_open: true\n"
                "init_container: false\n"
                "ulimits: {nofile: {soft: 1024, hard: 4096}, core: 0, memlock: unlimited}\n"
                "sysctls: {net.ipv4.ip_forward: 1, kernel.shmmax: '65536', fs.mqueue.msg_max: 10}\n"
                "stop_signal: quit\n"
                "stop_grace_period: 1m30s\n"
                "restart_policy: {kind: on_failure, max_attempts: 3, delay: 500ms}\n"
                "security_opt: [no-new-privileges]\n"
                "pid_mode: private\n"
                "health: {interval: 10s, check: {type: tcp, port: 80}}\n"
                "node_selector: {disk: ssd}\n"
                "depends: [{service: db}]\n";
        _cleanup_service_spec_ ServiceSpec *s = parse_ok(text);
        static const char *const env[] = { "NUM=42", "FLAG=true", "VER=1.10", "EMPTY=", "TEXT=hi" };
        static const char *const caps[] = { "CAP_NET_ADMIN", "CAP_SYS_PTRACE" };
        static const char *const drop[] = { "CAP_MKNOD", "CAP_CHOWN" };
        static const char *const labels[] = { "tier", "front", "version", "3" };
        static const char *const groups[] = { "wheel", "27" };
        json_object *v, *w;

        assert_string_equal(s->rtype, "job");
        assert_int_equal(s->pull_policy, PULL_ALWAYS);
        assert_strv(s->env, env, ELEMENTSOF(env));
        assert_true(s->cpu == 1.5);
        assert_int_equal(s->memory, 1LL << 30);
        assert_int_equal(s->memory_swap, -1);
        assert_int_equal(s->memory_reservation, 512000);
        assert_int_equal(s->memory_swappiness, 10);
        assert_string_equal(s->cpuset, "0-1,3");
        assert_int_equal(s->cpu_shares, 512);

        assert_int_equal(s->n_storage, 4);
        assert_string_equal(s->storage[0].type, "bind");
        assert_string_equal(s->storage[0].source, "/srv/data..x/...");
        assert_string_equal(s->storage[0].target, "/data");
        assert_true(s->storage[0].readonly);
        assert_string_equal(s->storage[1].type, "named");
        assert_string_equal(s->storage[1].source, "cache");
        assert_false(s->storage[1].readonly);
        assert_string_equal(s->storage[2].type, "anonymous");
        assert_null(s->storage[2].source);
        assert_string_equal(s->storage[3].type, "tmpfs");
        assert_int_equal(s->storage[3].size, 64 << 20);
        assert_int_equal(s->storage[3].mode, 01777);

        assert_string_equal(s->network_mode, "host");
        assert_string_equal(s->hostname, "web-1");
        assert_int_equal(strv_length(s->dns), 2);
        assert_int_equal(strv_length(s->extra_hosts), 2);
        assert_string_equal(s->user, "1000");
        assert_strv(s->extra_groups, groups, 2);
        assert_strv(s->labels, labels, 4);
        assert_strv(s->cap_add, caps, 2);
        assert_strv(s->cap_drop, drop, 2);
        assert_false(s->privileged);
        assert_true(s->read_only_root_fs);
        assert_true(s->tty);
        assert_true(s->stdin_open);

        assert_int_equal(s->n_ulimits, 3);
        assert_string_equal(s->ulimits[0].name, "nofile");
        assert_int_equal(s->ulimits[0].soft, 1024);
        assert_int_equal(s->ulimits[0].hard, 4096);
        assert_string_equal(s->ulimits[1].name, "core");
        assert_int_equal(s->ulimits[1].soft, 0);
        assert_int_equal(s->ulimits[1].hard, 0);
        assert_true(s->ulimits[2].soft == UINT64_MAX && s->ulimits[2].hard == UINT64_MAX);

        assert_string_equal(s->stop_signal, "SIGQUIT");
        assert_int_equal(s->stop_grace_usec, 90 * USEC_PER_SEC);
        assert_string_equal(s->restart_kind, "on_failure");
        assert_int_equal(s->restart_max_attempts, 3);
        assert_int_equal(s->restart_delay_usec, 500 * USEC_PER_MSEC);

        /* normalized tree: stringified env/labels/sysctls/user, folded cap_add, canonical names */
        assert_true(json_object_object_get_ex(s->json, "env", &v));
        assert_true(json_object_object_get_ex(v, "NUM", &w));
        assert_true(json_object_is_type(w, json_type_string));
        assert_string_equal(json_object_get_string(w), "42");
        assert_true(json_object_object_get_ex(s->json, "sysctls", &v));
        assert_true(json_object_object_get_ex(v, "net.ipv4.ip_forward", &w));
        assert_true(json_object_is_type(w, json_type_string));
        assert_true(json_object_object_get_ex(s->json, "user", &v));
        assert_true(json_object_is_type(v, json_type_string));
        assert_false(json_object_object_get_ex(s->json, "cap_add", NULL));
        assert_true(json_object_object_get_ex(s->json, "capabilities", &v));
        assert_string_equal(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
                            "[\"CAP_NET_ADMIN\",\"CAP_SYS_PTRACE\"]");
        assert_true(json_object_object_get_ex(s->json, "stop_signal", &v));
        assert_string_equal(json_object_get_string(v), "SIGQUIT");
        assert_true(json_object_object_get_ex(s->json, "node_selector", NULL));
        assert_true(json_object_object_get_ex(s->json, "health", NULL));

        /* the stored tree parses again to the same spec */
        const char *again = json_object_to_json_string_ext(s->json, JSON_C_TO_STRING_PLAIN);
        _cleanup_service_spec_ ServiceSpec *s2 = parse_ok(again);
        assert_true(json_object_equal(s->json, s2->json));
        assert_strv(s2->cap_add, caps, 2);
}

/* Found by fuzz/fuzz-servicespec: YAML floats such as ".05" were stored with
 * their YAML spelling, which is not valid JSON. */
static void test_stored_tree_is_json(void **state) {
        _cleanup_service_spec_ ServiceSpec *s =
                parse_ok("image: {name: b}\nresources: {cpu: .05}\nenv: {A: +1., B: 1.50}\nscale: {x: [-.5, 01.5]}\n");
        const char *text = json_object_to_json_string_ext(s->json, JSON_C_TO_STRING_PLAIN);
        _cleanup_service_spec_ ServiceSpec *again = parse_ok(text);
        static const char *const env[] = { "A=1.0", "B=1.50" };

        assert_true(s->cpu == 0.05);
        assert_strv(s->env, env, 2);
        assert_true(json_object_equal(s->json, again->json));
        assert_non_null(strstr(text, "\"scale\":{\"x\":[-0.5,1.5]}"));
}

static void test_minimal_defaults(void **state) {
        _cleanup_service_spec_ ServiceSpec *s = parse_ok("image:\n  name: busybox\n");

        assert_string_equal(s->image, "busybox");
        assert_string_equal(s->rtype, "service");
        assert_int_equal(s->pull_policy, PULL_IF_NOT_PRESENT);
        assert_null(s->entrypoint);
        assert_null(s->args);
        assert_null(s->env);
        assert_true(s->cpu == 0);

        /* an empty entrypoint list is "given" (clears the image's), unlike an absent one */
        _cleanup_service_spec_ ServiceSpec *e = parse_ok("{\"image\":{\"name\":\"busybox\"},\"command\":{\"entrypoint\":[]}}");
        assert_non_null(e->entrypoint);
        assert_int_equal(strv_length(e->entrypoint), 0);
}

typedef struct ErrorCase {
        const char *text;
        const char *error; /* exact message */
} ErrorCase;

static const ErrorCase error_cases[] = {
        /* unknown fields, with their full path */
        { "image: {name: b}\nfoo: 1\n", "foo: unknown field" },
        { "image: {name: b}\nresources: {memroy: 1Gi}\n", "resources.memroy: unknown field" },
        { "image: {name: b, tag: x}\n", "image.tag: unknown field" },
        { "image: {name: b}\nstorage: [{type: bind, source: /a, target: /b, mode: 1}]\n", "storage[0].mode: unknown field" },
        { "image: {name: b}\nendpoints: [{port: 1}, {port: 2, prot: tcp}]\n", "endpoints[1].prot: unknown field" },
        { "image: {name: b}\nulimits: {nofile: {soft: 1, hard: 2, max: 3}}\n", "ulimits.nofile.max: unknown field" },
        { "image: {name: b}\nnode_: 1\n", "node_: unknown field" },
        { "{\"image\":{\"name\":\"b\"},\"Image\":{}}", "Image: unknown field" },
        /* wrong types */
        { "image: {name: b}\nresources: {cpu: abc}\n", "resources.cpu: expected a number, got 'abc'" },
        { "image: {name: b}\nresources: {cpu: true}\n", "resources.cpu: expected a number, got true" },
        { "image: {name: 5}\n", "image.name: expected a string, got 5" },
        { "image: busybox\n", "image: expected a map, got 'busybox'" },
        { "image: {name: b}\ncommand: {args: '-f'}\n", "command.args: expected a list of strings, got '-f'" },
        { "image: {name: b}\ncommand: {args: [a, 1]}\n", "command.args[1]: expected a string, got 1" },
        { "image: {name: b}\nenv: [A=1]\n", "env: expected a map of variables, got [\"A=1\"]" },
        { "image: {name: b}\nenv: {A: [1]}\n", "env.A: expected a string, number or boolean, got [1]" },
        { "image: {name: b}\ntty: 'yes'\n", "tty: expected true or false, got 'yes'" },
        { "image: {name: b}\nprivileged: yes\n", "privileged: expected true or false, got 'yes'" },
        { "image: {name: b}\nendpoints: [{port: '80'}]\n", "endpoints[0].port: expected an integer, got '80'" },
        { "image: {name: b}\nendpoints: [{port: 70000}]\n", "endpoints[0].port: 70000 is out of range 1…65535" },
        { "image: {name: b}\nendpoints: [{name: x}]\n", "endpoints[0].port: required" },
        { "image: {name: b}\nresources: {memory_swappiness: 101}\n", "resources.memory_swappiness: 101 is out of range 0…100" },
        { "image: {name: b}\nresources: {cpu: 0}\n", "resources.cpu: 0 is out of range (0, 1024]" },
        { "image: {name: b}\nresources: {cpuset: 3-1}\n", "resources.cpuset: invalid cpu list '3-1'" },
        { "[1, 2]\n", "spec: expected a map of fields, got [1,2]" },
        { "", "spec: empty document" },
        /* sizes and durations */
        { "image: {name: b}\nresources: {memory: 12Q}\n", "resources.memory: invalid size '12Q'" },
        { "image: {name: b}\nresources: {memory: -5}\n", "resources.memory: -5 is out of range 0…9223372036854775807" },
        { "image: {name: b}\nresources: {memory: 16Ei}\n", "resources.memory: size '16Ei' is too large" },
        { "image: {name: b}\nresources: {memory: 8Ei}\n", "resources.memory: size '8Ei' is too large" },
        { "image: {name: b}\nresources: {memory: 1.5}\n", "resources.memory: expected a size like '64Mi', got 1.5" },
        { "image: {name: b}\nstop_grace_period: 10\n", "stop_grace_period: expected a duration like '10s', got 10" },
        { "image: {name: b}\nstop_grace_period: 10 s\n", "stop_grace_period: invalid duration '10 s'" },
        { "image: {name: b}\nrestart_policy: {kind: always, delay: 1y}\n", "restart_policy.delay: invalid duration '1y'" },
        { "image: {name: b}\nstorage: [{type: tmpfs, target: /t, size: lots}]\n", "storage[0].size: invalid size 'lots'" },
        /* enums */
        { "image: {name: b}\nrtype: daemon\n", "rtype: invalid value 'daemon' (expected one of: service, job, cron)" },
        { "image: {name: b, pull_policy: sometimes}\n",
          "image.pull_policy: invalid value 'sometimes' (expected one of: if_not_present, always, never, newer)" },
        { "image: {name: b}\nnetwork_mode: Over/lay\n",
          "network_mode: invalid value 'Over/lay' (expected default, host, none, bridge or a network name: "
          "[a-z0-9][a-z0-9_.-]*, at most 64 characters)" },
        { "image: {name: b}\nendpoints: [{port: 1, protocol: ftp}]\n",
          "endpoints[0].protocol: invalid value 'ftp' (expected one of: http, https, tcp, udp, websocket)" },
        { "image: {name: b}\nport_mappings: [{container_port: 1, protocol: http}]\n",
          "port_mappings[0].protocol: invalid value 'http' (expected one of: tcp, udp)" },
        { "image: {name: b}\nstorage: [{type: nfs, target: /x}]\n",
          "storage[0].type: invalid value 'nfs' (expected one of: bind, named, anonymous, tmpfs)" },
        { "image: {name: b}\nrestart_policy: {kind: sometimes}\n",
          "restart_policy.kind: invalid value 'sometimes' (expected one of: no, always, unless_stopped, on_failure)" },
        { "image: {name: b}\nrestart_policy: {max_attempts: 1}\n", "restart_policy.kind: required" },
        /* required */
        { "rtype: service\n", "image.name: required" },
        { "image: {pull_policy: always}\n", "image.name: required" },
        { "image: {name: ''}\n", "image.name: must not be empty" },
        { "image: {name: b}\nrtype: cron\n", "schedule: required when rtype is cron" },
        { "image: {name: b}\nrtype: cron\nschedule: '61 * * * *'\n",
          "schedule: invalid cron expression '61 * * * *': minute '61': out of range 0-59" },
        { "image: {name: b}\nrtype: cron\nschedule: '* * * *'\n", "schedule: invalid cron expression '* * * *': 4 fields, wanted 5 (minute hour day-of-month month day-of-week)" },
        { "image: {name: b}\nrtype: cron\nschedule: [1]\n", "schedule: expected a cron expression string, got [1]" },
        { "image: {name: b}\nrtype: cron\nschedule: '0 0 30 feb *'\n", "schedule: cron expression '0 0 30 feb *' never matches a date" },
        { "image: {name: b}\nschedule: '* * * * *'\n", "schedule: only applies to rtype cron (rtype is 'service')" },
        { "image: {name: b}\nrtype: job\nschedule: '* * * * *'\n", "schedule: only applies to rtype cron (rtype is 'job')" },
        { "image: {name: b}\nstorage: [{type: bind, target: /x}]\n", "storage[0].source: required for bind storage" },
        { "image: {name: b}\nstorage: [{source: /x}]\n", "storage[0].type: required" },
        { "image: {name: b}\nulimits: {nofile: {soft: 1}}\n", "ulimits.nofile.hard: required" },
        /* values */
        { "image: {name: b}\ncommand: {workdir: srv}\n", "command.workdir: 'srv' is not an absolute path" },
        { "image: {name: b}\nstorage: [{type: bind, source: data, target: /x}]\n",
          "storage[0].source: 'data' is not an absolute path" },
        { "image: {name: b}\nstorage: [{type: tmpfs, target: /t, mode: '9'}]\n",
          "storage[0].mode: invalid mode '9' (octal, at most 7777)" },
        { "image: {name: b}\ncapabilities: [CAP_FLY]\n", "capabilities[0]: unknown capability 'CAP_FLY'" },
        { "image: {name: b}\ncap_add: [net_admin, fly]\n", "cap_add[1]: unknown capability 'fly'" },
        { "image: {name: b}\ncap_drop: [1]\n", "cap_drop[0]: expected a capability name, got 1" },
        { "image: {name: b}\nuser: 'root user'\n", "user: invalid user 'root user' (expected uid[:gid] or name[:group])" },
        { "image: {name: b}\nuser: '1:2:3'\n", "user: invalid user '1:2:3' (expected uid[:gid] or name[:group])" },
        { "image: {name: b}\nsysctls: {kernel.domainname: x}\n",
          "sysctls.kernel.domainname: not a namespaced sysctl (allowed: net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)" },
        /* found by fuzz-servicespec: "net." passed the spec, the launch config refused it */
        { "image: {name: b}\nsysctls: {net.: ER:.NANd}\n",
          "sysctls.net.: not a namespaced sysctl (allowed: net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)" },
        /* fuzz-servicespec: a tab passed here and failed the launch config */
        { "image: {name: b}\nsysctls: {net.ipv4.ip_forward: \"1\\t\"}\n",
          "sysctls.net.ipv4.ip_forward: contains control characters (tabs and newlines included)" },
        { "image: {name: b}\nsysctls: {kernel.sem.x: 1}\n",
          "sysctls.kernel.sem.x: not a namespaced sysctl (allowed: net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)" },
        { "image: {name: b}\nsysctls: {vm.swappiness: 1}\n",
          "sysctls.vm.swappiness: not a namespaced sysctl (allowed: net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)" },
        { "image: {name: b}\nulimits: {nofiles: 1}\n", "ulimits.nofiles: unknown limit" },
        { "image: {name: b}\nulimits: {nofile: {soft: 10, hard: 5}}\n", "ulimits.nofile: soft limit is above the hard limit" },
        { "image: {name: b}\nstop_signal: SIGFOO\n", "stop_signal: unknown signal 'SIGFOO'" },
        { "image: {name: b}\nhostname: -bad\n", "hostname: invalid hostname '-bad'" },
        { "image: {name: b}\ndns: [8.8.8.8, dns.google]\n", "dns[1]: invalid IP address 'dns.google'" },
        { "image: {name: b}\nextra_hosts: [db]\n", "extra_hosts[0]: expected 'hostname:ip', got 'db'" },
        { "image: {name: b}\nenv: {'A=B': 1}\n", "env.A=B: invalid variable name 'A=B'" },
        { "image: {name: b}\nresources: {memory: 1Gi, memory_swap: 512Mi}\n",
          "resources.memory_swap: must not be below resources.memory" },
        { "image: {name: b}\nresources: {memory_swap: 1Gi}\n", "resources.memory_swap: requires resources.memory" },
        { "image: {name: b}\ncommand: {workdir: /srv/../etc}\n", "command.workdir: '/srv/../etc' contains a '..' component" },
        { "image: {name: b}\nstorage: [{type: bind, source: /a/.., target: /x}]\n",
          "storage[0].source: '/a/..' contains a '..' component" },
        { "image: {name: b}\nstorage: [{type: tmpfs, target: //}]\n", "storage[0].target: cannot mount over the container's root" },
        /* long values are cut at 60 bytes, on a UTF-8 boundary */
        { "image: {name: b}\ntty: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\u00e9\u00e9'\n",
          "tty: expected true or false, got 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…'" },
        { "image: {name: b}\ntty: [/a/b]\n", "tty: expected true or false, got [\"/a/b\"]" },
        /* bounds shared with launch_config_parse() */
        { "image: {name: b}\nresources: {memory: 5Mi}\n", "resources.memory: 5242880 bytes is below the minimum of 6Mi" },
        { "image: {name: b}\nenv: {A: \"x\\ny\"}\n", "env.A: contains control characters (tabs and newlines included)" },
        { "image: {name: b}\ncommand: {workdir: \"/a\\tb\"}\n", "command.workdir: contains control characters" },
        /* YAML safety */
        { "image: &i {name: b}\n", "line 1 column 8: anchors are not allowed ('&i')" },
        { "a: &x {name: b}\nimage: *x\n", "line 1 column 4: anchors are not allowed ('&x')" },
        { "image: {name: b}\nimage: {name: c}\n", "line 2 column 1: duplicate key 'image'" },
        /* JSON */
        { "{\"image\": {\"name\": 'b'}}", "invalid JSON at offset 19: unexpected character" },
        { "{\"image\": {\"name\": \"b\"},}", "invalid JSON at offset 24: unexpected character" },
        { "{\"image\": {\"name\": \"b\"}, \"scale\": {\"x\": [1, NaN]}}", "scale.x[1]: non-finite number" },
        { "{\"image\": {\"name\": \"b\"}, \"scale\": -Infinity}", "scale: non-finite number" },
        { "{\"image\": {\"name\": \"b\"}, \"resources\": {\"cpu\": 1e999}}", "resources.cpu: non-finite number" },
        { "{\"image\": {\"name\": \"\xff\"}}", "invalid JSON at offset 20: invalid utf-8 string" },
        { "{\"image\": {\"name\": \"b\"}", "invalid JSON at offset 23: unexpected end of input" },
        { "{\"image\": {\"name\": \"b\"}} x", "invalid JSON at offset 25: unexpected character" },
};

static void test_errors(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(error_cases); i++) {
                _cleanup_free_ char *err = NULL;
                ServiceSpec *s = NULL;
                int r = service_spec_parse(error_cases[i].text, strlen(error_cases[i].text), &s, &err);

                if (r != -EINVAL || s)
                        fail_msg("case %zu: '%s' → %d (expected -EINVAL)", i, error_cases[i].text, r);
                if (!err || !streq(err, error_cases[i].error))
                        fail_msg("case %zu: '%s'\n  got:      %s\n  expected: %s", i, error_cases[i].text,
                                 strempty(err), error_cases[i].error);
        }
}

static char *nested(size_t depth) {
        /* {"image":{"name":"b"},"init":{"a":{"a":…1…}}} */
        static const char head[] = "{\"image\":{\"name\":\"b\"},\"init\":";
        size_t len = sizeof(head) + depth * 6 + 2, k = 0;
        char *t = malloc(len);

        if (!t)
                abort();
        memcpy(t, head, sizeof(head) - 1);
        k = sizeof(head) - 1;
        for (size_t i = 0; i < depth; i++, k += 5)
                memcpy(t + k, "{\"a\":", 5);
        t[k++] = '1';
        for (size_t i = 0; i <= depth; i++)
                t[k++] = '}';
        t[k] = 0;
        return t;
}

static void test_limits(void **state) {
        int r;
        _cleanup_free_ char *err = NULL, *ok = NULL, *deep = NULL, *huge = NULL, *yaml_deep = NULL;
        ServiceSpec *s = NULL;

        /* JSON: depth limit of the tokenizer (root + init + 61 levels = 63 < 64) */
        ok = nested(61);
        assert_int_equal(service_spec_parse(ok, strlen(ok), &s, &err), 0);
        s = service_spec_free(s);
        deep = nested(200);
        assert_int_equal(service_spec_parse(deep, strlen(deep), &s, &err), -EINVAL);
        assert_null(s);
        assert_non_null(strstr(err, "invalid JSON"));
        assert_non_null(strstr(err, "nesting too deep"));
        err = (free(err), NULL);

        /* YAML: depth limit */
        size_t n = 100, k = 0;
        yaml_deep = malloc(32 + 2 * n);
        assert_non_null(yaml_deep);
        k += sprintf(yaml_deep, "image: {name: b}\ninit: ");
        memset(yaml_deep + k, '[', n);
        memset(yaml_deep + k + n, ']', n);
        yaml_deep[k + 2 * n] = 0;
        assert_int_equal(service_spec_parse(yaml_deep, strlen(yaml_deep), &s, &err), -EINVAL);
        assert_string_equal(err, "line 2 column 70: nesting deeper than 64 levels");
        err = (free(err), NULL);

        /* input larger than 1 MiB, YAML and JSON */
        size_t len = YAML_JSON_MAX_INPUT + 10;
        huge = malloc(len + 1);
        assert_non_null(huge);
        memset(huge, ' ', len);
        memcpy(huge, "image: {name: b}\n#", 18);
        huge[len] = 0;
        assert_int_equal(service_spec_parse(huge, len, &s, &err), -EINVAL);
        assert_string_equal(err, "spec is larger than 1048576 bytes");
        err = (free(err), NULL);
        huge[0] = '{';
        assert_int_equal(service_spec_parse(huge, len, &s, &err), -EINVAL);
        assert_string_equal(err, "spec is larger than 1048576 bytes");
        err = (free(err), NULL);

        /* lists that reach the launch config are bounded */
        _cleanup_free_ char *many = malloc(64 + 4097 * 4);
        size_t m = 0;
        if (!many)
                abort();
        m += (size_t) sprintf(many, "{\"image\":{\"name\":\"b\"},\"command\":{\"args\":[");
        for (size_t i = 0; i < 4097; i++) {
                memcpy(many + m, "\"a\",", 4);
                m += 4;
        }
        memcpy(many + m - 1, "]}}", 4);
        assert_int_equal(service_spec_parse(many, strlen(many), &s, &err), -EINVAL);
        assert_string_equal(err, "command.args: more than 4096 items");
        err = (free(err), NULL);
        memcpy(many + m - 5, "]}}", 4); /* 4096 items are fine */
        assert_int_equal(service_spec_parse(many, strlen(many), &s, &err), 0);
        assert_int_equal(strv_length(s->args), 4096);
        s = service_spec_free(s);

        /* maps are expensive in json-c: at most 10000, in YAML and JSON */
        for (int json = 0; json <= 1; json++)
                for (size_t count = 9990; count <= 10010; count += 20) {
                        _cleanup_free_ char *maps = malloc(64 + count * 3);
                        size_t q;
                        if (!maps)
                                abort();
                        q = (size_t) sprintf(maps, json ? "{\"image\":{\"name\":\"b\"},\"init\":[" : "image: {name: b}\ninit: [");
                        for (size_t i = 0; i < count; i++) {
                                memcpy(maps + q, "{},", 3);
                                q += 3;
                        }
                        strcpy(maps + q - 1, json ? "]}" : "]\n");
                        r = service_spec_parse(maps, strlen(maps), &s, &err);
                        if (count < 10000) {
                                /* + the root and image maps + the list: 9993 */
                                assert_int_equal(r, 0);
                                s = service_spec_free(s);
                        } else {
                                assert_int_equal(r, -EINVAL);
                                assert_non_null(strstr(err, "more than 10000 maps and lists"));
                                err = (free(err), NULL);
                        }
                }

        /* JSON counts nodes before json-c allocates them */
        _cleanup_free_ char *ones = malloc(64 + 100001 * 2);
        if (!ones)
                abort();
        m = (size_t) sprintf(ones, "{\"image\":{\"name\":\"b\"},\"init\":[");
        for (size_t i = 0; i < 100001; i++) {
                memcpy(ones + m, "1,", 2);
                m += 2;
        }
        strcpy(ones + m - 1, "]}");
        assert_int_equal(service_spec_parse(ones, strlen(ones), &s, &err), -EINVAL);
        assert_string_equal(err, "invalid JSON: more than 100000 nodes");
        err = (free(err), NULL);

        /* NUL bytes inside the declared length */
        assert_int_equal(service_spec_parse("image: {name: b}\0x", 18, &s, &err), -EINVAL);
        assert_string_equal(err, "spec contains a NUL byte");
}

static void test_error_arg_optional(void **state) {
        ServiceSpec *s = NULL;
        /* a NULL error pointer must be fine */
        assert_int_equal(service_spec_parse("foo: 1\n", 7, &s, NULL), -EINVAL);
        assert_null(s);
        assert_int_equal(service_spec_parse(NULL, 0, &s, NULL), -EINVAL);
        assert_null(service_spec_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_example_web),
                cmocka_unit_test(test_all_fields),
                cmocka_unit_test(test_cron_schedule),
                cmocka_unit_test(test_stored_tree_is_json),
                cmocka_unit_test(test_minimal_defaults),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_error_arg_optional),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
