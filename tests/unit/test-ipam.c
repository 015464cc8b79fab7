/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/ipam.h"
#include "lib/launch-config.h"
#include "lib/macro.h"
#include "lib/netnames.h"

static void test_cidr_parse(void **state) {
        Cidr c;
        char buf[INET_ADDRSTRLEN];

        assert_int_equal(cidr_parse("10.89.0.0/16", &c), 0);
        assert_int_equal(c.prefix, 16);
        assert_string_equal(ipv4_to_string(c.addr, buf), "10.89.0.0");
        assert_string_equal(ipv4_to_string(cidr_gateway(&c), buf), "10.89.0.1");
        assert_true(cidr_contains(&c, 0x0a59ffff));
        assert_false(cidr_contains(&c, 0x0a5a0000));
        assert_int_equal(cidr_parse("198.18.7.0/24", &c), 0);

        static const char *const bad[] = {
                "10.89.0.1/16",   /* host bits set */
                "10.89.0.0",      /* no prefix */
                "10.89.0.0/7", "10.89.0.0/31", "10.89.0.0/", "10.89.0.0/16x",
                "10.89.0/16", "::1/64", "", "10.89.0.0/016000000000000000000",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(cidr_parse(bad[i], &c), -EINVAL);
}

static void test_allocate_never_twice(void **state) {
        _cleanup_(ipam_done) Ipam p = {};
        char buf[INET_ADDRSTRLEN], name[32];
        uint32_t a, b, first;
        Cidr c;

        assert_int_equal(cidr_parse("198.18.5.0/29", &c), 0); /* hosts .2 … .6 */
        assert_int_equal(ipam_from_json(NULL, &c, &p), 0);
        assert_int_equal(ipam_allocate(&p, "a", &first), 0);
        assert_string_equal(ipv4_to_string(first, buf), "198.18.5.2");
        /* the same owner keeps its address */
        assert_int_equal(ipam_allocate(&p, "a", &a), 0);
        assert_int_equal(a, first);
        for (int i = 0; i < 4; i++) {
                snprintf(name, sizeof(name), "c%d", i);
                assert_int_equal(ipam_allocate(&p, name, &b), 0);
                assert_int_not_equal(b, first);
                assert_true(b > c.addr + 1 && b < c.addr + 7);
                for (size_t k = 0; k + 1 < p.n_entries; k++)
                        assert_int_not_equal(p.entries[k].addr, b);
        }
        /* gateway and broadcast are never handed out: full */
        assert_int_equal(ipam_allocate(&p, "x", &b), -ENOSPC);
        /* a freed address comes back, the last one to */
        assert_int_equal(ipam_release(&p, "a"), 0);
        assert_int_equal(ipam_release(&p, "a"), -ENOENT);
        assert_int_equal(ipam_allocate(&p, "x", &b), 0);
        assert_int_equal(b, first);
}

static void test_round_robin_and_persist(void **state) {
        _cleanup_(ipam_done) Ipam p = {}, q = {};
        _cleanup_free_ char *json = NULL;
        uint32_t a, b;
        Cidr c;

        assert_int_equal(cidr_parse("10.0.0.0/24", &c), 0);
        assert_int_equal(ipam_from_json(NULL, &c, &p), 0);
        assert_int_equal(ipam_allocate(&p, "a", &a), 0);
        assert_int_equal(ipam_release(&p, "a"), 0);
        /* a freed address is not the next one handed out */
        assert_int_equal(ipam_allocate(&p, "b", &b), 0);
        assert_int_equal(b, a + 1);

        /* what is saved comes back: owners, and where allocation goes on */
        assert_int_equal(ipam_to_json(&p, &json), 0);
        assert_int_equal(ipam_from_json(json, &c, &q), 0);
        assert_int_equal(q.n_entries, 1);
        assert_non_null(ipam_find_owner(&q, "b"));
        assert_int_equal(ipam_find_owner(&q, "b")->addr, b);
        assert_int_equal(ipam_allocate(&q, "c", &a), 0);
        assert_int_equal(a, b + 1);
}

static void test_bad_state(void **state) {
        Ipam p;
        Cidr c;

        assert_int_equal(cidr_parse("10.0.0.0/24", &c), 0);
        assert_int_equal(ipam_from_json("{", &c, &p), -EBADMSG);
        assert_int_equal(ipam_from_json("[]", &c, &p), -EBADMSG);
        assert_int_equal(ipam_from_json("{\"addresses\":{\"10.0.0.300\":\"a\"}}", &c, &p), -EBADMSG);
        /* one address per owner */
        assert_int_equal(ipam_from_json("{\"addresses\":{\"10.0.0.2\":\"a\",\"10.0.0.3\":\"a\"}}", &c, &p), -EBADMSG);
}

static void test_names(void **state) {
        char buf[64], other[64];

        assert_true(bridge_name_is_valid("zlayer0"));
        assert_true(bridge_name_is_valid("zl-t1234"));
        assert_false(bridge_name_is_valid(""));
        assert_false(bridge_name_is_valid("Zlayer0"));
        assert_false(bridge_name_is_valid("a/b"));
        assert_false(bridge_name_is_valid("thirteen-char"));
        assert_int_equal(nft_table_name("zlayer0", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "zlayer-zlayer0");
        assert_int_equal(veth_host_name("zlayer0", "web-rep-1", buf, sizeof(buf)), 0);
        assert_int_equal(strlen(buf), 10);
        assert_int_equal(veth_host_name("zlayer0", "web-rep-2", other, sizeof(other)), 0);
        assert_string_not_equal(buf, other);
        assert_int_equal(veth_host_name("zlayer1", "web-rep-1", other, sizeof(other)), 0);
        assert_string_not_equal(buf, other);
}

static void test_network_pool(void **state) {
        _cleanup_free_ char *text = NULL;
        NetworkPool p, q;
        Cidr pool, a, b, c;
        char buf[INET_ADDRSTRLEN + 4];

        assert_int_equal(cidr_parse("10.90.0.0/16", &pool), 0);
        assert_int_equal(network_pool_prefix(&pool), 24);
        assert_int_equal(cidr_parse("198.18.7.0/24", &pool), 0);
        assert_int_equal(network_pool_prefix(&pool), 28);
        /* a subnet the file holds is kept, never overlapped */
        assert_int_equal(network_pool_from_json("{\"networks\":{\"old\":\"198.18.7.16/28\"}}", &pool, &p), 0);
        assert_int_equal(network_pool_allocate(&p, "front", &a), 0);
        assert_string_equal(cidr_to_string(&a, buf), "198.18.7.0/28");
        assert_int_equal(network_pool_allocate(&p, "back", &b), 0);
        assert_string_equal(cidr_to_string(&b, buf), "198.18.7.32/28");
        /* a name keeps its subnet, also across a save and a load */
        assert_int_equal(network_pool_allocate(&p, "front", &c), 0);
        assert_true(c.addr == a.addr && c.prefix == a.prefix);
        assert_int_equal(network_pool_to_json(&p, &text), 0);
        assert_int_equal(network_pool_from_json(text, &pool, &q), 0);
        assert_int_equal(network_pool_allocate(&q, "back", &c), 0);
        assert_true(c.addr == b.addr);
        /* 16 blocks: 13 more names fit, the next one does not */
        for (int i = 0; i < 13; i++) {
                snprintf(buf, sizeof(buf), "n%d", i);
                assert_int_equal(network_pool_allocate(&q, buf, &c), 0);
        }
        assert_int_equal(network_pool_allocate(&q, "full", &c), -ENOSPC);
        network_pool_done(&q);
        network_pool_done(&p);
        /* two names on one subnet, or a broken file */
        assert_int_equal(network_pool_from_json("{\"networks\":{\"a\":\"198.18.7.0/28\",\"b\":\"198.18.7.0/28\"}}",
                                                &pool, &p), -EBADMSG);
        assert_int_equal(network_pool_from_json("{\"networks\":[]}", &pool, &p), -EBADMSG);
        assert_int_equal(network_pool_from_json("{\"networks\":{\"a\":\"x\"}}", &pool, &p), -EBADMSG);
}

static void test_network_names(void **state) {
        char buf[64], other[64];

        assert_true(network_name_is_valid("front"));
        assert_true(network_name_is_valid("my-net.2_b"));
        assert_false(network_name_is_valid(""));
        assert_false(network_name_is_valid("-x"));
        assert_false(network_name_is_valid("Front"));
        assert_false(network_name_is_valid("a/b"));
        assert_false(network_name_is_valid("container:web"));
        assert_int_equal(network_bridge_name("zlayer0", "front", buf, sizeof(buf)), 0);
        assert_true(bridge_name_is_valid(buf));
        assert_int_equal(network_bridge_name("zlayer1", "front", other, sizeof(other)), 0);
        assert_string_not_equal(buf, other);
}

#define BASE "{\"id\":\"web-rep-1\",\"layers\":[\"1111111111111111111111111111111111111111111111111111111111111111\"],\"args\":[\"/bin/true\"],"

static void test_launch_config_network(void **state) {
        _cleanup_launch_config_ LaunchConfig *c = NULL;
        _cleanup_free_ char *err = NULL;

        int r = launch_config_parse(BASE "\"network_mode\":\"bridge\","
                                             "\"network\":{\"bridge\":\"zl0\",\"address\":\"198.18.5.7\",\"prefix\":24,\"gateway\":\"198.18.5.1\"},"
                                             "\"ports\":[{\"container_port\":80,\"host_port\":8080,\"protocol\":\"tcp\"},"
                                             "{\"container_port\":53,\"host_port\":8080,\"protocol\":\"udp\"}]}",
                                             &c, &err);
        if (r < 0)
                fprintf(stderr, "parse: %s\n", err);
        assert_int_equal(r, 0);
        assert_string_equal(c->bridge, "zl0");
        assert_string_equal(c->address, "198.18.5.7");
        assert_string_equal(c->gateway, "198.18.5.1");
        assert_int_equal(c->prefix, 24);
        assert_int_equal(c->n_ports, 2);
        assert_int_equal(c->ports[1].container_port, 53);
        assert_int_equal(c->ports[1].host_port, 8080);
        assert_string_equal(c->ports[1].protocol, "udp");

        static const struct {
                const char *json, *error;
        } bad[] = {
                { BASE "\"network_mode\":\"bridge\",\"network\":{\"bridge\":\"zl0\",\"address\":\"198.18.6.7\",\"prefix\":24,\"gateway\":\"198.18.5.1\"}}",
                  "network.address: 198.18.6.7 is not a host address of the gateway's subnet" },
                { BASE "\"network_mode\":\"bridge\",\"network\":{\"bridge\":\"zl0\",\"address\":\"198.18.5.1\",\"prefix\":24,\"gateway\":\"198.18.5.1\"}}",
                  "network.address: 198.18.5.1 is not a host address of the gateway's subnet" },
                { BASE "\"network_mode\":\"bridge\",\"network\":{\"bridge\":\"Bad/Name\",\"address\":\"198.18.5.2\",\"prefix\":24,\"gateway\":\"198.18.5.1\"}}",
                  "network.bridge: not a valid bridge name: Bad/Name" },
                { BASE "\"network_mode\":\"bridge\",\"network\":{\"bridge\":\"zl0\",\"address\":\"198.18.5.2\",\"prefix\":31,\"gateway\":\"198.18.5.1\"}}",
                  "network.prefix: missing or not 8…30" },
                { BASE "\"network_mode\":\"bridge\",\"ports\":[{\"container_port\":80,\"host_port\":80,\"protocol\":\"tcp\"},"
                  "{\"container_port\":81,\"host_port\":80,\"protocol\":\"tcp\"}]}",
                  "ports[1]: host port 80/tcp is published twice" },
                { BASE "\"network_mode\":\"bridge\",\"ports\":[{\"container_port\":80,\"host_port\":0,\"protocol\":\"tcp\"}]}",
                  "ports[0].host_port: missing or not 1…65535" },
                { BASE "\"network_mode\":\"bridge\",\"ports\":[{\"container_port\":80,\"host_port\":80,\"protocol\":\"sctp\"}]}",
                  "ports[0].protocol: not tcp or udp: sctp" },
                { BASE "\"network_mode\":\"none\",\"ports\":[{\"container_port\":80,\"host_port\":80,\"protocol\":\"tcp\"}]}",
                  "ports: only with network_mode bridge" },
                { BASE "\"network_mode\":\"host\",\"network\":{}}", "network: only with network_mode bridge" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_launch_config_ LaunchConfig *x = NULL;
                _cleanup_free_ char *e = NULL;
                assert_int_equal(launch_config_parse(bad[i].json, &x, &e), -EINVAL);
                assert_string_equal(e, bad[i].error);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cidr_parse),
                cmocka_unit_test(test_allocate_never_twice),
                cmocka_unit_test(test_round_robin_and_persist),
                cmocka_unit_test(test_bad_state),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_network_pool),
                cmocka_unit_test(test_network_names),
                cmocka_unit_test(test_launch_config_network),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
