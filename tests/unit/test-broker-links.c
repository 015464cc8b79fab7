/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The broker's private links over real socketpairs in one process: the
 * Control1 server, AttachWorker, the wait queue for workers, ContainerExited
 * and Adopt from a fake zlayer-exec. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <cmocka.h>

#include "broker/container.h"
#include "broker/worker-links.h"
#include "errors.h"
#include "fileio.h"
#include "link.h"

static Broker b;
static char tmpdir[64];

static int setup(void **state) {
        memset(&b, 0, sizeof(b));
        b.root_fd = b.images_fd = b.layers_fd = -1;
        strcpy(tmpdir, "/tmp/test-broker-links-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
        b.containers_fd = open(tmpdir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        assert_true(b.containers_fd >= 0);
        assert_int_equal(sd_event_new(&b.event), 0);
        assert_int_equal(worker_links_new(&b, &b.workers), 0);
        return 0;
}

static int teardown(void **state) {
        b.workers = worker_links_free(b.workers);
        containers_free_all(&b);
        if (b.control)
                sd_bus_flush_close_unref(b.control);
        b.control = NULL;
        sd_event_unref(b.event);
        close(b.containers_fd);
        assert_int_equal(rm_rf_at(AT_FDCWD, tmpdir), 0);
        return 0;
}

/* Run the loop until *flag is set, at most @seconds. */
static void run_until(const int *flag, unsigned seconds) {
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        while (!*flag) {
                assert_true(sd_event_run(b.event, 100 * 1000) >= 0);
                clock_gettime(CLOCK_MONOTONIC, &now);
                assert_true(now.tv_sec - start.tv_sec <= (time_t) seconds);
        }
}

typedef struct Acquired {
        int called;
        sd_bus *link;
        int error;
} Acquired;

static void on_acquired(Broker *broker, sd_bus *link, int error, void *userdata) {
        Acquired *a = userdata;
        a->called++;
        a->link = link;
        a->error = error;
}

/* A worker method that never answers. */
static int never_reply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return 1;
}
static const sd_bus_vtable silent_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Pull", "s", "s", never_reply, 0),
        SD_BUS_VTABLE_END
};

static int pending_failed;
static int on_pending_reply(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        assert_true(sd_bus_message_is_method_error(m, NULL));
        pending_failed++;
        return 0;
}

static void test_replaced_link_fails_pending_calls(void **state) {
        sd_bus *old = NULL, *new = NULL;
        int sp[2], sp2[2];
        int got = 0;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
        assert_int_equal(link_open_server(sp[1], b.event, &old), 0);
        assert_int_equal(sd_bus_add_object_vtable(old, NULL, ZL_WORKER_PATH, ZL_PULLER_IFACE, silent_vtable, NULL), 0);
        assert_int_equal(worker_attach(&b, WORKER_PULLER, sp[0]), 0);
        assert_true(sd_bus_call_method_async(worker_link(&b, WORKER_PULLER), NULL, NULL, ZL_WORKER_PATH,
                                             ZL_PULLER_IFACE, "Pull", on_pending_reply, NULL, "s", "x") >= 0);
        /* let the call reach the silent worker */
        for (int i = 0; i < 10; i++)
                assert_true(sd_event_run(b.event, 10 * 1000) >= 0);
        assert_int_equal(pending_failed, 0);

        /* zlayerd restarted the puller: the call on the old link fails now. */
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp2), 0);
        assert_int_equal(link_open_server(sp2[1], b.event, &new), 0);
        assert_int_equal(worker_attach(&b, WORKER_PULLER, sp2[0]), 0);
        assert_int_equal(pending_failed, 1);

        /* The old worker sees EOF. */
        for (int i = 0; i < 50 && !got; i++) {
                assert_true(sd_event_run(b.event, 10 * 1000) >= 0);
                got = sd_bus_is_open(old) <= 0;
        }
        assert_true(got);
        sd_bus_close_unref(old);
        sd_bus_close_unref(new);
}

static void test_wait_then_attach(void **state) {
        Acquired a = {}, a2 = {};
        sd_bus *worker = NULL;
        int sp[2];

        assert_null(worker_link(&b, WORKER_PULLER));
        assert_int_equal(worker_acquire(&b, WORKER_PULLER, on_acquired, &a), 0);
        assert_int_equal(a.called, 0);

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
        assert_int_equal(link_open_server(sp[1], b.event, &worker), 0);
        assert_int_equal(worker_attach(&b, WORKER_PULLER, sp[0]), 0);
        assert_int_equal(a.called, 1);
        assert_non_null(a.link);
        assert_ptr_equal(a.link, worker_link(&b, WORKER_PULLER));

        /* Linked: the callback runs at once. */
        assert_int_equal(worker_acquire(&b, WORKER_PULLER, on_acquired, &a2), 0);
        assert_int_equal(a2.called, 1);

        /* The worker goes away: the broker forgets the link. */
        sd_bus_flush_close_unref(worker);
        for (int i = 0; i < 50 && worker_link(&b, WORKER_PULLER); i++)
                assert_true(sd_event_run(b.event, 100 * 1000) >= 0);
        assert_null(worker_link(&b, WORKER_PULLER));
}

static void test_wait_times_out(void **state) {
        Acquired a = {};
        struct timespec start, end;

        clock_gettime(CLOCK_MONOTONIC, &start);
        assert_int_equal(worker_acquire(&b, WORKER_ARCHIVE, on_acquired, &a), 0);
        run_until(&a.called, 15);
        clock_gettime(CLOCK_MONOTONIC, &end);
        assert_null(a.link);
        assert_int_equal(a.error, -ETIMEDOUT);
        assert_true(end.tv_sec - start.tv_sec >= 9);
}

/* A fake zlayer-exec: Adopt says the container exited while we were away. */
static int adopt_calls;
static int fake_adopt(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *id;
        assert_int_equal(sd_bus_message_read(m, "s", &id), 1);
        adopt_calls++;
        if (streq(id, "gone-rep-1"))
                return sd_bus_reply_method_return(m, "butisst", 0, 0, UINT64_C(0), 137, "signal", "SIGKILL",
                                                  UINT64_C(1234));
        return sd_bus_reply_method_return(m, "butisst", 1, 4242, UINT64_C(99), 0, "", "", UINT64_C(0));
}

static int delete_calls;
static int fake_delete(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        delete_calls++;
        return sd_bus_error_set(error, ZL_ERROR_INVALID_STATE, "still running");
}

static const sd_bus_vtable fake_exec_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Delete", "s", "", fake_delete, 0),
        SD_BUS_METHOD("Adopt", "s", "butisst", fake_adopt, 0),
        SD_BUS_SIGNAL("ContainerExited", "sisst", 0),
        SD_BUS_VTABLE_END
};

static Container *add_container(const char *id, ContainerState s) {
        Container *c = container_new();
        c->id = strdup(id);
        c->name = strdup(id);
        c->service = strdup("svc");
        c->image = strdup("x/y:z");
        c->state = s;
        assert_int_equal(mkdirat(b.containers_fd, id, 0750), 0);
        assert_int_equal(container_register(&b, c), 0);
        container_unref(c); /* the broker's list holds it */
        return c;
}

static int attach_replied;
static const char *attach_error;
static int on_attach_reply(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        const sd_bus_error *err = sd_bus_message_get_error(m);
        free((char *) attach_error);
        attach_error = err ? strdup(err->name) : NULL;
        attach_replied = 1;
        return 0;
}

static void attach_over_control(sd_bus *ctl, const char *name, int fd) {
        attach_replied = 0;
        /* fds can be sent once the connection finished its handshake. */
        for (int i = 0; i < 50 && sd_bus_is_ready(ctl) <= 0; i++)
                assert_true(sd_event_run(b.event, 100 * 1000) >= 0);
        assert_true(sd_bus_call_method_async(ctl, NULL, NULL, ZL_CONTROL_PATH, ZL_CONTROL_IFACE, "AttachWorker",
                                             on_attach_reply, NULL, "sh", name, fd) >= 0);
        run_until(&attach_replied, 5);
}

static void test_control_attach_adopt_exit(void **state) {
        sd_bus *ctl = NULL, *exec = NULL;
        int cp[2], ep[2], r;
        Container *running, *gone, *idle;

        running = add_container("run-rep-1", CONTAINER_RUNNING);
        gone = add_container("gone-rep-1", CONTAINER_STOPPING);
        idle = add_container("idle-rep-1", CONTAINER_EXITED);

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cp), 0);
        assert_int_equal(control_link_open(&b, cp[1]), 0);
        assert_int_equal(link_open_client(cp[0], b.event, &ctl), 0);

        attach_over_control(ctl, "bogus", 0);
        assert_string_equal(attach_error, SD_BUS_ERROR_INVALID_ARGS);

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ep), 0);
        assert_int_equal(link_open_server(ep[1], b.event, &exec), 0);
        assert_int_equal(sd_bus_add_object_vtable(exec, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, fake_exec_vtable, NULL), 0);
        attach_over_control(ctl, "exec", ep[0]);
        close(ep[0]);
        assert_null(attach_error);
        assert_non_null(worker_link(&b, WORKER_EXEC));

        /* Attaching exec adopts the two active containers, not the exited one. */
        for (int i = 0; i < 50 && (running->pid == 0 || gone->state != CONTAINER_EXITED); i++)
                assert_true(sd_event_run(b.event, 100 * 1000) >= 0);
        assert_int_equal(adopt_calls, 2);
        assert_int_equal(running->state, CONTAINER_RUNNING);
        assert_int_equal(running->pid, 4242);
        assert_int_equal(gone->state, CONTAINER_EXITED);
        assert_int_equal(gone->exit_code, 137);
        assert_string_equal(gone->signal, "SIGKILL");
        assert_true(gone->finished_at == 1234);
        assert_int_equal(idle->state, CONTAINER_EXITED);

        /* A ContainerExited signal ends the running one and persists it. */
        r = sd_bus_emit_signal(exec, ZL_WORKER_PATH, ZL_EXEC_IFACE, "ContainerExited", "sisst", "run-rep-1", 3,
                               "exited", "", UINT64_C(5678));
        assert_true(r >= 0);
        /* ... and one for a container we do not know is ignored. */
        assert_true(sd_bus_emit_signal(exec, ZL_WORKER_PATH, ZL_EXEC_IFACE, "ContainerExited", "sisst", "who-rep-1",
                                       1, "exited", "", UINT64_C(1)) >= 0);
        for (int i = 0; i < 50 && running->state != CONTAINER_EXITED; i++)
                assert_true(sd_event_run(b.event, 100 * 1000) >= 0);
        assert_int_equal(running->state, CONTAINER_EXITED);
        assert_int_equal(running->exit_code, 3);
        assert_int_equal(running->pid, 0);

        Container *loaded = NULL;
        assert_int_equal(container_state_load(b.containers_fd, "run-rep-1", &loaded), 0);
        assert_int_equal(loaded->state, CONTAINER_EXITED);
        assert_int_equal(loaded->exit_code, 3);
        container_unref(loaded);

        /* A Delete that zlayer-exec keeps refusing is retried; the broker
         * may exit meanwhile without losing track of it (ASan checks). */
        assert_int_equal(container_remove(idle, NULL), 0);
        for (int i = 0; i < 50 && delete_calls < 2; i++)
                assert_true(sd_event_run(b.event, 100 * 1000) >= 0);
        assert_true(delete_calls >= 2);
        assert_true(idle->removing);

        /* zlayerd goes away: the broker's loop is told to exit with 0. */
        sd_bus_flush_close_unref(ctl);
        for (int i = 0; i < 50 && sd_event_get_state(b.event) != SD_EVENT_FINISHED; i++)
                assert_true(sd_event_run(b.event, 100 * 1000) >= 0);
        assert_int_equal(sd_event_get_state(b.event), SD_EVENT_FINISHED);
        int code = -1;
        assert_int_equal(sd_event_get_exit_code(b.event, &code), 0);
        assert_int_equal(code, 0);

        sd_bus_flush_close_unref(exec);
        free((char *) attach_error);
        attach_error = NULL;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_wait_then_attach, setup, teardown),
                cmocka_unit_test_setup_teardown(test_replaced_link_fails_pending_calls, setup, teardown),
                cmocka_unit_test_setup_teardown(test_control_attach_adopt_exit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wait_times_out, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
