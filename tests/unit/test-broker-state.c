/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "broker/container.h"
#include "fileio.h"

static char **strv_of(const char *a, const char *b, const char *c, const char *d) {
        char **l = calloc(5, sizeof(char *));
        l[0] = strdup(a);
        l[1] = strdup(b);
        l[2] = strdup(c);
        l[3] = strdup(d);
        return l;
}

static Container *sample(void) {
        Container *c = container_new();
        c->id = strdup("web-rep-2");
        c->name = strdup("frontend");
        c->service = strdup("web");
        c->replica = 2;
        c->image = strdup("127.0.0.1:5000/busybox:latest");
        c->image_digest = strdup("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        c->state = CONTAINER_EXITED;
        c->exit_code = -137;
        c->reason = strdup("signal");
        c->signal = strdup("SIGKILL");
        c->pid = 4242;
        c->created_at = UINT64_C(1795928060226795);
        c->started_at = UINT64_C(1795928060226796);
        c->finished_at = UINT64_MAX;
        c->restart_count = 7;
        c->labels = strv_of("com.zlayer.container_id", "web-rep-2", "quote\"key", "välue\n");
        return c;
}

static void assert_same(const Container *a, const Container *b) {
        assert_string_equal(a->id, b->id);
        assert_string_equal(a->name, b->name);
        assert_string_equal(a->service, b->service);
        assert_int_equal(a->replica, b->replica);
        assert_string_equal(a->image, b->image);
        assert_string_equal(a->image_digest, b->image_digest);
        assert_int_equal(a->state, b->state);
        assert_int_equal(a->exit_code, b->exit_code);
        assert_string_equal(a->reason, b->reason);
        assert_string_equal(a->signal, b->signal);
        assert_int_equal(a->pid, b->pid);
        assert_true(a->created_at == b->created_at);
        assert_true(a->started_at == b->started_at);
        assert_true(a->finished_at == b->finished_at);
        assert_int_equal(a->restart_count, b->restart_count);
        assert_int_equal(strv_length(a->labels), strv_length(b->labels));
        for (size_t i = 0; a->labels[i]; i++)
                assert_string_equal(a->labels[i], b->labels[i]);
}

static void test_round_trip(void **state) {
        Container *c = sample(), *d = container_new();
        char *text = NULL;

        assert_int_equal(container_state_to_json(c, &text), 0);
        assert_non_null(strstr(text, "\"state\":\"exited\""));
        assert_int_equal(container_state_from_json(d, text), 0);
        assert_same(c, d);
        free(text);
        container_unref(c);
        container_unref(d);
}

static void test_state_names(void **state) {
        for (ContainerState s = 0; s < _CONTAINER_STATE_MAX; s++)
                assert_int_equal(container_state_from_string(container_state_to_string(s)), (int) s);
        assert_int_equal(container_state_from_string("runnin"), -EINVAL);
        assert_null(container_state_to_string(_CONTAINER_STATE_MAX));
}

static void expect_bad(const char *text) {
        Container *c = container_new();
        assert_true(container_state_from_json(c, text) < 0);
        container_unref(c);
}

static void test_bad_json(void **state) {
        expect_bad("");
        expect_bad("[]");
        expect_bad("{\"id\":\"web-rep-1\"");
        /* missing fields */
        expect_bad("{\"id\":\"web-rep-1\",\"service\":\"web\",\"image\":\"x\"}");
        /* ids that would escape the containers directory */
        expect_bad("{\"id\":\"../etc\",\"service\":\"web\",\"image\":\"x\",\"state\":\"pending\"}");
        expect_bad("{\"id\":\"web-rep-1\",\"name\":\"a/b\",\"service\":\"web\",\"image\":\"x\",\"state\":\"pending\"}");
        expect_bad("{\"id\":\"web-rep-1\",\"service\":\"Web\",\"image\":\"x\",\"state\":\"pending\"}");
        expect_bad("{\"id\":\"web-rep-1\",\"service\":\"web\",\"image\":\"x\",\"state\":\"bogus\"}");
        expect_bad("{\"id\":\"web-rep-1\",\"service\":\"web\",\"image\":\"x\",\"state\":\"pending\",\"exit_code\":4294967296}");
        expect_bad("{\"id\":\"web-rep-1\",\"service\":\"web\",\"image\":\"x\",\"state\":\"pending\",\"pid\":-1}");
        expect_bad("{\"id\":\"web-rep-1\",\"service\":\"web\",\"image\":\"x\",\"state\":\"pending\",\"created_at\":\"now\"}");
        expect_bad("{\"id\":\"web-rep-1\",\"service\":\"web\",\"image\":\"x\",\"state\":\"pending\",\"labels\":{\"a\":1}}");
        expect_bad("{\"id\":1,\"service\":\"web\",\"image\":\"x\",\"state\":\"pending\"}");
}

static void test_minimal_defaults_name(void **state) {
        Container *c = container_new();
        assert_int_equal(container_state_from_json(c, "{\"id\":\"web-rep-1\",\"service\":\"web\",\"image\":\"x\",\"state\":\"running\"}"), 0);
        assert_string_equal(c->name, "web-rep-1");
        assert_int_equal(c->state, CONTAINER_RUNNING);
        assert_null(c->labels);
        container_unref(c);
}

static void test_save_load(void **state) {
        char dir[] = "/tmp/test-broker-state-XXXXXX";
        Container *c = sample(), *d = NULL;
        int fd, dfd;
        struct stat st;
        static const char config[] = "{\"stop_signal\":\"SIGUSR1\",\"stop_grace_usec\":2500000}";

        assert_non_null(mkdtemp(dir));
        fd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(container_state_save(c, fd), -ENOENT); /* no directory yet */
        assert_int_equal(mkdirat(fd, "web-rep-2", 0750), 0);
        assert_int_equal(container_state_save(c, fd), 0);
        dfd = openat(fd, "web-rep-2", O_DIRECTORY | O_RDONLY);
        assert_int_equal(write_file_atomic_at(dfd, "config.json", config, strlen(config), 0640), 0);
        assert_int_equal(fstatat(dfd, "state.json", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0640);

        assert_int_equal(container_state_load(fd, "web-rep-2", &d), 0);
        assert_same(c, d);
        assert_string_equal(d->stop_signal, "SIGUSR1");
        assert_true(d->stop_grace_usec == 2500000);
        container_unref(d);

        /* A state.json that names another id is refused. */
        free(c->id);
        c->id = strdup("web-rep-3");
        assert_int_equal(mkdirat(fd, "web-rep-3", 0750), 0);
        assert_int_equal(container_state_save(c, fd), 0);
        assert_int_equal(renameat(fd, "web-rep-3/state.json", dfd, "state.json"), 0);
        d = NULL;
        assert_true(container_state_load(fd, "web-rep-2", &d) < 0);
        assert_null(d);
        assert_int_equal(container_state_load(fd, "../x", &d), -EINVAL);
        assert_int_equal(container_state_load(fd, "missing", &d), -ENOENT);

        container_unref(c);
        close(dfd);
        assert_int_equal(rm_rf_at(AT_FDCWD, dir), 0);
        close(fd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_state_names),
                cmocka_unit_test(test_bad_json),
                cmocka_unit_test(test_minimal_defaults_name),
                cmocka_unit_test(test_save_load),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
