/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Consistency of the authorization layers: the broker's method → polkit
 * action table (broker/authz.c), the Manager vtable the broker serves, the
 * interface XML, the polkit actions file and the bus policy. argv[1] is the
 * source root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "broker/authz.h"
#include "broker/broker.h"
#include "fileio.h"
#include "macro.h"

static const char *srcdir;

static char *slurp(const char *rel) {
        char path[4096];
        char *text = NULL;
        int r;

        snprintf(path, sizeof(path), "%s/%s", srcdir, rel);
        r = read_file_at(AT_FDCWD, path, 4 * 1024 * 1024, &text, NULL);
        if (r < 0)
                fail_msg("cannot read %s: %s", path, strerror(-r));
        return text;
}

/* The <method name="…"> of interface @iface in introspection XML @xml. */
static char **xml_methods(const char *xml, const char *iface, size_t *n) {
        char open_tag[256], **out = NULL;
        const char *p, *end;
        size_t k = 0;

        snprintf(open_tag, sizeof(open_tag), "<interface name=\"%s\">", iface);
        p = strstr(xml, open_tag);
        assert_non_null(p);
        end = strstr(p, "</interface>");
        assert_non_null(end);
        while ((p = strstr(p, "<method name=\"")) && p < end) {
                const char *name = p + strlen("<method name=\"");
                const char *q = strchr(name, '"');
                assert_non_null(q);
                out = realloc(out, sizeof(char *) * (k + 1));
                assert_non_null(out);
                out[k++] = strndup(name, q - name);
                p = q;
        }
        *n = k;
        return out;
}

static void strv_free_n(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static bool served(const char *member) {
        for (const sd_bus_vtable *v = manager_vtable; v->type != _SD_BUS_VTABLE_END; v++)
                if (v->type == _SD_BUS_VTABLE_METHOD && streq(v->x.method.member, member))
                        return true;
        return false;
}

/* Every method the broker serves on the Manager has an action. */
static void test_every_served_method_has_an_action(void **state) {
        unsigned n = 0;

        for (const sd_bus_vtable *v = manager_vtable; v->type != _SD_BUS_VTABLE_END; v++) {
                if (v->type != _SD_BUS_VTABLE_METHOD)
                        continue;
                if (!authz_method_find(v->x.method.member))
                        fail_msg("Manager.%s has no polkit action in broker/authz.c", v->x.method.member);
                n++;
        }
        assert_true(n >= 40);
        assert_null(authz_method_find("NoSuchMethod"));
        assert_null(authz_method_find(NULL));
}

/* … and so has every method of the interface XML, and the table names
 * nothing else. */
static void test_xml_and_table_agree(void **state) {
        _cleanup_free_ char *xml = slurp("dbus/com.zlayer.Runtime1.xml");
        const AuthzMethod *t;
        size_t n, nt;
        char **methods = xml_methods(xml, "com.zlayer.Runtime1.Manager", &n);

        assert_true(n >= 40);
        for (size_t i = 0; i < n; i++)
                if (!authz_method_find(methods[i]))
                        fail_msg("Manager.%s (XML) has no polkit action", methods[i]);
        t = authz_method_table(&nt);
        assert_int_equal(nt, n);
        for (size_t i = 0; i < nt; i++) {
                bool found = false;
                for (size_t j = 0; j < n && !found; j++)
                        found = streq(methods[j], t[i].member);
                if (!found || !served(t[i].member))
                        fail_msg("authz table entry %s is not a Manager method", t[i].member);
                /* no duplicates: find() returns the first, it must be this one */
                assert_ptr_equal(authz_method_find(t[i].member), &t[i]);
        }
        strv_free_n(methods, n);
}

/* The rows of dbus-api.md's polkit table, spot-checked. */
static void test_actions_follow_the_contract(void **state) {
        static const struct { const char *member, *action; } rows[] = {
                { "ListContainers", AUTHZ_ACTION_INSPECT },
                { "GetContainerState", AUTHZ_ACTION_INSPECT },
                { "InspectImage", AUTHZ_ACTION_INSPECT },
                { "TopContainer", AUTHZ_ACTION_INSPECT },
                { "SearchImages", AUTHZ_ACTION_INSPECT },
                { "GetImageHistory", AUTHZ_ACTION_INSPECT },
                { "GetContainerLogs", AUTHZ_ACTION_READ_LOGS },
                { "OpenContainerLogs", AUTHZ_ACTION_READ_LOGS },
                { "ArchiveGet", AUTHZ_ACTION_READ_LOGS },
                { "ArchiveHead", AUTHZ_ACTION_READ_LOGS },
                { "ExportContainer", AUTHZ_ACTION_READ_LOGS },
                { "PullImage", AUTHZ_ACTION_MANAGE_IMAGES },
                { "ImportImage", AUTHZ_ACTION_MANAGE_IMAGES },
                { "CreateContainer", AUTHZ_ACTION_MANAGE_CONTAINERS },
                { "ArchivePut", AUTHZ_ACTION_MANAGE_CONTAINERS },
                { "Exec", AUTHZ_ACTION_EXEC },
                { "ExecPty", AUTHZ_ACTION_EXEC },
                { "AttachContainer", AUTHZ_ACTION_EXEC },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                const AuthzMethod *m = authz_method_find(rows[i].member);
                assert_non_null(m);
                assert_string_equal(m->action, rows[i].action);
        }
}

static bool policy_has_action(const char *policy, const char *action) {
        char tag[256];
        snprintf(tag, sizeof(tag), "<action id=\"%s\">", action);
        return strstr(policy, tag) != NULL;
}

/* Every action id the table uses, and every "com.zlayer.runtime1.…" string
 * literal in the broker's sources, is defined in the .policy file. */
static void test_actions_exist_in_policy(void **state) {
        _cleanup_free_ char *policy = slurp("policy/com.zlayer.runtime1.policy");
        char dirpath[4096];
        const AuthzMethod *t;
        regex_t re;
        size_t nt, nfiles = 0;
        DIR *d;
        struct dirent *de;

        t = authz_method_table(&nt);
        for (size_t i = 0; i < nt; i++)
                if (!policy_has_action(policy, t[i].action))
                        fail_msg("action %s (for %s) is not in the .policy file", t[i].action, t[i].member);

        /* string literals only: comments name the .policy file itself */
        assert_int_equal(regcomp(&re, "\"com\\.zlayer\\.runtime1\\.[a-z-]+\"", REG_EXTENDED), 0);
        snprintf(dirpath, sizeof(dirpath), "%s/broker", srcdir);
        d = opendir(dirpath);
        assert_non_null(d);
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                char rel[512];
                if (l < 3 || (!streq(de->d_name + l - 2, ".c") && !streq(de->d_name + l - 2, ".h")))
                        continue;
                snprintf(rel, sizeof(rel), "broker/%s", de->d_name);
                _cleanup_free_ char *text = slurp(rel);
                const char *p = text;
                regmatch_t mt;
                while (regexec(&re, p, 1, &mt, 0) == 0) {
                        _cleanup_free_ char *id = strndup(p + mt.rm_so + 1, mt.rm_eo - mt.rm_so - 2);
                        if (!policy_has_action(policy, id))
                                fail_msg("%s uses action %s, not in the .policy file", rel, id);
                        p += mt.rm_eo;
                }
                nfiles++;
        }
        closedir(d);
        regfree(&re);
        assert_true(nfiles > 5);
}

/* The bus policy lets every Manager method through (it lists them one by
 * one; an unlisted one is refused by dbus-daemon, tested in
 * tests/integration/scenarios.d/security.sh). */
static void test_bus_policy_allows_every_method(void **state) {
        _cleanup_free_ char *xml = slurp("dbus/com.zlayer.Runtime1.xml");
        _cleanup_free_ char *conf = slurp("dbus/com.zlayer.Runtime1.conf");
        size_t n;
        char **methods = xml_methods(xml, "com.zlayer.Runtime1.Manager", &n);

        for (size_t i = 0; i < n; i++) {
                char pattern[512];
                regex_t re;
                snprintf(pattern, sizeof(pattern),
                         "<allow[[:space:]]+send_destination=\"com\\.zlayer\\.Runtime1\"[[:space:]]+"
                         "send_interface=\"com\\.zlayer\\.Runtime1\\.Manager\"[[:space:]]+"
                         "send_member=\"%s\"[[:space:]]*/>", methods[i]);
                assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
                if (regexec(&re, conf, 0, NULL, 0) != 0)
                        fail_msg("dbus/com.zlayer.Runtime1.conf does not allow Manager.%s", methods[i]);
                regfree(&re);
        }
        /* and nothing lets every Manager member through wholesale */
        assert_null(strstr(conf, "send_interface=\"com.zlayer.Runtime1.Manager\"/>"));
        strv_free_n(methods, n);
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_served_method_has_an_action),
                cmocka_unit_test(test_xml_and_table_agree),
                cmocka_unit_test(test_actions_follow_the_contract),
                cmocka_unit_test(test_actions_exist_in_policy),
                cmocka_unit_test(test_bus_policy_allows_every_method),
        };
        if (argc < 2) {
                fprintf(stderr, "usage: %s SOURCE_ROOT\n", argv[0]);
                return 2;
        }
        srcdir = argv[1];
        return cmocka_run_group_tests(tests, NULL, NULL);
}
