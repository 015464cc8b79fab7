/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/ipam.h"
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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cidr_parse),
                cmocka_unit_test(test_allocate_never_twice),
                cmocka_unit_test(test_round_robin_and_persist),
                cmocka_unit_test(test_bad_state),
                cmocka_unit_test(test_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
