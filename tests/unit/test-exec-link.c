/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* End-to-end test of zlayer-exec + zlayer-shim over a real link (root only):
 * a busybox layer, real namespaces, overlayfs and cgroups.
 * argv[1] = zlayer-exec, argv[2] = zlayer-shim (copied into one libexec dir). */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "lib/crilog.h"
#include "lib/errors.h"
#include "lib/fileio.h"
#include "lib/link.h"
#include "lib/macro.h"

#define LAYER "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define LAYER2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static const char *exec_bin, *shim_bin;
static char tmp[] = "/var/tmp/zl-exec-test-XXXXXX";
static char root[256], run[256];
static pid_t exec_pid;
static sd_bus *bus;

typedef struct Exited {
        char id[64];
        int code;
        char reason[32], sig[32];
        uint64_t finished;
        bool seen;
} Exited;
static Exited exited[8];

/* Container ids unique to this run: cgroups are system-wide, and the
 * suite may run in several build dirs at once. */
static const char *ID(const char *name) {
        static struct {
                char name[32], id[64];
        } ids[16];
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                if (streq(ids[i].name, name))
                        return ids[i].id;
                if (ids[i].name[0] == '\0') {
                        snprintf(ids[i].name, sizeof(ids[i].name), "%s", name);
                        snprintf(ids[i].id, sizeof(ids[i].id), "zlt%d-%s", (int) getpid(), name);
                        return ids[i].id;
                }
        }
        fail_msg("too many ids");
        return NULL;
}

/* /sys/fs/cgroup/<ctrl>/zlayer/<id><file>, "" ctrl for the v2 tree */
static const char *cgp(const char *ctrl, const char *id, const char *file) {
        static char buf[4][256];
        static unsigned n;
        char *b = buf[n++ % 4];
        snprintf(b, sizeof(buf[0]), "/sys/fs/cgroup/%s%szlayer/%s%s", ctrl, ctrl[0] ? "/" : "", id, file);
        return b;
}

static void copy_file(const char *from, const char *to, mode_t mode) {
        _cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        size_t n;
        assert_true(in >= 0);
        assert_int_equal(read_fd_full(in, 64 * 1024 * 1024, &buf, &n), 0);
        _cleanup_close_ int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        assert_true(out >= 0);
        assert_int_equal(loop_write(out, buf, n), 0);
        assert_int_equal(fchmod(out, mode), 0);
}

static void pathf(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);
static void put_file(const char *rel, const char *content);
static void pathf(char *buf, size_t size, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, size, fmt, ap);
        va_end(ap);
        assert_true(n > 0 && (size_t) n < size);
}

static void put_file(const char *rel, const char *content) {
        char p[512];
        pathf(p, sizeof(p), "%s/%s", root, rel);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(loop_write(fd, content, strlen(content)), 0);
}

static int on_exited(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *id, *reason, *sig;
        int32_t code;
        uint64_t fin;

        assert_true(sd_bus_message_read(m, "sisst", &id, &code, &reason, &sig, &fin) >= 0);
        for (size_t i = 0; i < ELEMENTSOF(exited); i++)
                if (!exited[i].seen) {
                        exited[i].seen = true;
                        snprintf(exited[i].id, sizeof(exited[i].id), "%s", id);
                        exited[i].code = code;
                        snprintf(exited[i].reason, sizeof(exited[i].reason), "%s", reason);
                        snprintf(exited[i].sig, sizeof(exited[i].sig), "%s", sig);
                        exited[i].finished = fin;
                        break;
                }
        return 0;
}

/* Waits for the ContainerExited of @id and consumes it. */
static const Exited *wait_exited(const char *id) {
        static Exited got;
        for (int i = 0; i < 300; i++) {
                for (size_t k = 0; k < ELEMENTSOF(exited); k++)
                        if (exited[k].seen && streq(exited[k].id, id)) {
                                got = exited[k];
                                exited[k] = (Exited) {};
                                return &got;
                        }
                int r = sd_bus_process(bus, NULL);
                assert_true(r >= 0);
                if (r == 0)
                        assert_true(sd_bus_wait(bus, 100 * 1000) >= 0);
        }
        fail_msg("no ContainerExited for %s", id);
        return NULL;
}

static const char *network_mode = "none";
static bool privileged;

static char *launch_json_full(const char *id, const char *layers, const char *args_json, const char *user,
                              const char *cwd, bool readonly, const char *mounts, const char *resources) {
        char *s;
        assert_true(asprintf(&s,
                "{\"id\":\"%s\",\"image\":\"test/busybox:latest\",\"layers\":%s,"
                "\"args\":%s,\"env\":[\"PATH=/bin\",\"MODE=test\"],\"cwd\":\"%s\",\"user\":\"%s\","
                "\"extra_groups\":[],\"hostname\":\"%s\",\"network_mode\":\"%s\","
                "\"readonly_rootfs\":%s,\"tty\":false,\"stdin_open\":false,"
                "\"mounts\":%s,"
                "\"resources\":%s,\"cap_add\":[],\"cap_drop\":[\"CAP_MKNOD\"],\"privileged\":%s,"
                "\"rlimits\":[{\"name\":\"nofile\",\"soft\":1024,\"hard\":4096}],"
                "\"stop_signal\":\"SIGTERM\",\"stop_grace_usec\":10000000}",
                id, layers, args_json, cwd, user, id, network_mode, readonly ? "true" : "false", mounts,
                resources ?: "{}", privileged ? "true" : "false") > 0);
        return s;
}

static char *launch_json(const char *id, const char *args_json, const char *resources) {
        return launch_json_full(id, "[\"" LAYER "\"]", args_json, "", "/", false,
                                "[{\"type\":\"tmpfs\",\"target\":\"/scratch\",\"size\":1048576,\"mode\":448}]",
                                resources);
}

static void make_container_dir(const char *id) {
        char p[512];
        pathf(p, sizeof(p), "%s/containers/%s", root, id);
        assert_int_equal(mkdir(p, 0750), 0);
}

static int start_json(const char *id, const char *json, uint32_t *ret_pid, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint64_t started;
        int r = sd_bus_call_method(bus, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "Start", error, &reply, "ss", id, json);
        if (r < 0)
                return r;
        assert_true(sd_bus_message_read(reply, "ut", ret_pid, &started) >= 0);
        assert_true(*ret_pid > 1);
        assert_true(started > 1700000000ULL * USEC_PER_SEC);
        return r;
}

static int start(const char *id, const char *args_json, const char *resources, uint32_t *ret_pid,
                 sd_bus_error *error) {
        _cleanup_free_ char *json = launch_json(id, args_json, resources);
        return start_json(id, json, ret_pid, error);
}

static void delete_ok(const char *id) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        if (sd_bus_call_method(bus, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "Delete", &error, NULL, "s", id) < 0)
                fail_msg("Delete %s: %s: %s", id, error.name, error.message);
}

/* Exec1.@method(@id) with @signal when > 0, which must fail with @error_name. */
static void refused(const char *method, const char *id, int signal, const char *error_name) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = signal > 0 ? sd_bus_call_method(bus, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, method, &error, NULL, "si", id,
                                                signal)
                           : sd_bus_call_method(bus, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, method, &error, NULL, "s", id);
        assert_true(r < 0);
        assert_string_equal(error.name, error_name);
        sd_bus_error_free(&error);
}

typedef struct Adopted {
        int running, code;
        uint32_t pid;
        uint64_t started, finished;
        const char *reason, *sig; /* in *reply */
} Adopted;

/* Exec1.Adopt(@id), which must answer; *reply holds the strings of *ret. */
static void adopt(const char *id, sd_bus_message **reply, Adopted *ret) {
        sd_bus_error error = SD_BUS_ERROR_NULL;

        *reply = sd_bus_message_unref(*reply);
        if (sd_bus_call_method(bus, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "Adopt", &error, reply, "s", id) < 0)
                fail_msg("Adopt: %s: %s", error.name, error.message);
        assert_true(sd_bus_message_read(*reply, "butisst", &ret->running, &ret->pid, &ret->started, &ret->code,
                                        &ret->reason, &ret->sig, &ret->finished) >= 0);
}

/* A container that runs until it is killed. */
static void start_sleeper(const char *id, uint32_t *ret_pid) {
        sd_bus_error error = SD_BUS_ERROR_NULL;

        make_container_dir(id);
        if (start(id, "[\"sleep\",\"100\"]", NULL, ret_pid, &error) < 0)
                fail_msg("Start %s: %s: %s", id, error.name, error.message);
}

/* Exec1.Kill(@id, @signal), then the ContainerExited it causes. */
static void kill_and_expect(const char *id, int signal, int code, const char *sig) {
        sd_bus_error error = SD_BUS_ERROR_NULL;

        if (sd_bus_call_method(bus, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "Kill", &error, NULL, "si", id, signal) < 0)
                fail_msg("Kill %s: %s: %s", id, error.name, error.message);
        const Exited *x = wait_exited(id);
        assert_int_equal(x->code, code);
        assert_string_equal(x->reason, "signal");
        assert_string_equal(x->sig, sig);
}

static char libexec[512];

/* zlayer-exec with its link on fd 3, as zlayerd starts it */
static void spawn_exec(void) {
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        exec_pid = fork();
        assert_true(exec_pid >= 0);
        if (exec_pid == 0) {
                char a_root[300], a_run[300], bin[600];
                snprintf(a_root, sizeof(a_root), "--root=%s", root);
                snprintf(a_run, sizeof(a_run), "--run-dir=%s", run);
                snprintf(bin, sizeof(bin), "%s/zlayer-exec", libexec);
                if (dup2(sv[1], 3) < 0)
                        _exit(1);
                execl(bin, "zlayer-exec", a_root, a_run, "--user=root", "--debug", (char *) NULL);
                _exit(127);
        }
        close(sv[1]);
        assert_int_equal(link_open_client(sv[0], NULL, &bus), 0);
        assert_true(sd_bus_match_signal(bus, NULL, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "ContainerExited",
                                        on_exited, NULL) >= 0);
}

/* link EOF: zlayer-exec exits 0 */
static void stop_exec(void) {
        int st;
        sd_bus_flush_close_unref(bus);
        bus = NULL;
        assert_int_equal(waitpid(exec_pid, &st, 0), exec_pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
}

static int group_setup(void **state) {
        char p[512], lib[512];

        if (geteuid() != 0)
                return 0;
        assert_non_null(mkdtemp(tmp));
        pathf(root, sizeof(root), "%s/root", tmp);
        pathf(run, sizeof(run), "%s/run", tmp);
        pathf(lib, sizeof(lib), "%s/libexec", tmp);
        pathf(libexec, sizeof(libexec), "%s", lib);
        assert_int_equal(mkdir(root, 0755), 0);
        assert_int_equal(mkdir(lib, 0755), 0);
        pathf(p, sizeof(p), "%s/layers/" LAYER "/bin", root);
        assert_int_equal(mkdir_p_at(AT_FDCWD, p, 0755), 0);
        pathf(p, sizeof(p), "%s/containers", root);
        assert_int_equal(mkdir(p, 0755), 0);
        pathf(p, sizeof(p), "%s/layers/" LAYER "/bin/busybox", root);
        copy_file("/bin/busybox", p, 0755);
        for (size_t i = 0; i < 6; i++) {
                const char *name = (const char *[]) { "sh", "echo", "sleep", "true", "cat", "id" }[i];
                pathf(p, sizeof(p), "%s/layers/" LAYER "/bin/%s", root, name);
                assert_int_equal(symlink("busybox", p), 0);
        }
        /* a second layer on top: users, and a file shadowing the lower one */
        pathf(p, sizeof(p), "%s/layers/" LAYER "/etc", root);
        assert_int_equal(mkdir(p, 0755), 0);
        put_file("layers/" LAYER "/etc/motd", "bottom\n");
        pathf(p, sizeof(p), "%s/layers/" LAYER2 "/etc", root);
        assert_int_equal(mkdir_p_at(AT_FDCWD, p, 0755), 0);
        put_file("layers/" LAYER2 "/etc/motd", "top\n");
        put_file("layers/" LAYER2 "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n");
        put_file("layers/" LAYER2 "/etc/group", "root:x:0:\napp:x:1000:\nextra:x:2000:app\n");

        pathf(p, sizeof(p), "%s/zlayer-exec", lib);
        copy_file(exec_bin, p, 0755);
        pathf(p, sizeof(p), "%s/zlayer-shim", lib);
        copy_file(shim_bin, p, 0755);

        spawn_exec();
        return 0;
}

static int group_teardown(void **state) {
        if (geteuid() != 0)
                return 0;
        if (bus)
                stop_exec();
        (void) rm_rf_at(AT_FDCWD, tmp);
        return 0;
}

static void skip_unless_root(void) {
        if (geteuid() != 0)
                skip();
}

static void test_exit_code_and_log(void **state) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        uint32_t pid;
        char p[512];

        skip_unless_root();
        make_container_dir(ID("hello"));
        assert_true(start(ID("hello"), "[\"/bin/sh\",\"-c\",\"echo hello; echo err >&2; exit 3\"]",
                          "{\"memory\":67108864,\"pids_limit\":100,\"cpu_shares\":512}", &pid, &error) >= 0);
        const Exited *x = wait_exited(ID("hello"));
        assert_int_equal(x->code, 3);
        assert_string_equal(x->reason, "exited");
        assert_string_equal(x->sig, "");
        assert_true(x->finished > 0);

        /* the limits went into the cgroup (v1 here) */
        _cleanup_free_ char *mem = NULL;
        if (access(cgp("memory", ID("hello"), ""), F_OK) >= 0) {
                assert_int_equal(read_file_at(AT_FDCWD, cgp("memory", ID("hello"), "/memory.limit_in_bytes"),
                                              64, &mem, NULL), 0);
                assert_string_equal(mem, "67108864\n");
                free(mem);
                assert_int_equal(read_file_at(AT_FDCWD, cgp("pids", ID("hello"), "/pids.max"), 64, &mem, NULL), 0);
                assert_string_equal(mem, "100\n");
        } else {
                assert_int_equal(read_file_at(AT_FDCWD, cgp("", ID("hello"), "/memory.max"), 64, &mem, NULL), 0);
                assert_string_equal(mem, "67108864\n");
        }

        /* ctr.log: CRI lines, stdout and stderr apart, mode 0640 */
        _cleanup_free_ char *log = NULL;
        struct stat st;
        pathf(p, sizeof(p), "%s/containers/%s/ctr.log", root, ID("hello"));
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(read_file_at(AT_FDCWD, p, 1 << 20, &log, NULL), 0);
        bool saw_out = false, saw_err = false;
        for (char *line = log, *nl; *line; line = nl + 1) {
                CriLogEntry e;
                nl = strchr(line, '\n');
                assert_non_null(nl);
                assert_int_equal(crilog_parse_line(line, (size_t) (nl - line), &e), 0);
                if (!e.is_stderr && e.text_len == 5 && memcmp(e.text, "hello", 5) == 0 && !e.partial)
                        saw_out = true;
                if (e.is_stderr && e.text_len == 3 && memcmp(e.text, "err", 3) == 0 && !e.partial)
                        saw_err = true;
        }
        assert_true(saw_out);
        assert_true(saw_err);

        pathf(p, sizeof(p), "%s/containers/%s/exit.json", run, ID("hello"));
        assert_int_equal(access(p, F_OK), 0);

        /* a restart of the same container (no Delete in between) works and
         * appends to the same log; the limits are those of the new start */
        assert_true(start(ID("hello"), "[\"/bin/sh\",\"-c\",\"echo again; exit 4\"]", "{\"pids_limit\":50}", &pid, &error) >= 0);
        x = wait_exited(ID("hello"));
        assert_int_equal(x->code, 4);
        free(log);
        pathf(p, sizeof(p), "%s/containers/%s/ctr.log", root, ID("hello"));
        assert_int_equal(read_file_at(AT_FDCWD, p, 1 << 20, &log, NULL), 0);
        assert_non_null(strstr(log, "stdout F hello\n"));
        assert_non_null(strstr(log, "stdout F again\n"));
        if (access(cgp("memory", ID("hello"), ""), F_OK) >= 0) {
                free(mem);
                assert_int_equal(read_file_at(AT_FDCWD, cgp("memory", ID("hello"), "/memory.limit_in_bytes"),
                                              64, &mem, NULL), 0);
                assert_string_not_equal(mem, "67108864\n");
        }
        delete_ok(ID("hello"));
}

static void test_kill_adopt_delete(void **state) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Adopted a;
        uint32_t pid;

        skip_unless_root();
        start_sleeper(ID("sleeper"), &pid);
        assert_int_equal(kill((pid_t) pid, 0), 0);
        /* the pid callers get is the entrypoint itself */
        _cleanup_free_ char *cmdline = NULL;
        char proc[64];
        size_t len;
        snprintf(proc, sizeof(proc), "/proc/%u/cmdline", pid);
        assert_int_equal(read_file_at(AT_FDCWD, proc, 4096, &cmdline, &len), 0);
        assert_int_equal(len, sizeof("sleep\0" "100"));
        assert_memory_equal(cmdline, "sleep\0" "100", len);

        /* Adopt of a running container: its init */
        adopt(ID("sleeper"), &reply, &a);
        assert_true(a.running);
        assert_int_equal(a.pid, pid);

        /* Delete refuses while running */
        refused("Delete", ID("sleeper"), 0, ZL_ERROR_INVALID_STATE);

        kill_and_expect(ID("sleeper"), SIGTERM, 143, "SIGTERM");

        /* Kill of an exited container: NotFound */
        refused("Kill", ID("sleeper"), SIGTERM, ZL_ERROR_NOT_FOUND);

        /* Adopt after the exit: from exit.json */
        adopt(ID("sleeper"), &reply, &a);
        assert_false(a.running);
        assert_int_equal(a.code, 143);
        assert_string_equal(a.reason, "signal");
        assert_string_equal(a.sig, "SIGTERM");

        /* Delete removes everything */
        char p[512];
        assert_true(sd_bus_call_method(bus, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "Delete", &error, NULL, "s", ID("sleeper")) >= 0);
        pathf(p, sizeof(p), "%s/containers/sleeper", root);
        assert_int_equal(access(p, F_OK), -1);
        pathf(p, sizeof(p), "%s/containers/sleeper", run);
        assert_int_equal(access(p, F_OK), -1);
        assert_int_equal(access(cgp("memory", ID("sleeper"), ""), F_OK), -1);
        assert_int_equal(access(cgp("pids", ID("sleeper"), ""), F_OK), -1);

        /* Adopt of something never started: runtime_error */
        adopt(ID("sleeper"), &reply, &a);
        assert_false(a.running);
        assert_int_equal(a.code, -1);
        assert_string_equal(a.reason, "runtime_error");
}

static void test_missing_entrypoint(void **state) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        uint32_t pid;

        skip_unless_root();
        make_container_dir(ID("nope"));
        assert_true(start(ID("nope"), "[\"/nope\"]", "{\"memory\":67108864}", &pid, &error) < 0);
        assert_string_equal(error.name, ZL_ERROR_START_FAILED);
        assert_non_null(strstr(error.message, "exec /nope: No such file or directory"));
        sd_bus_error_free(&error);
        /* nothing left: no cgroup */
        assert_int_equal(access(cgp("memory", ID("nope"), ""), F_OK), -1);

        /* not in $PATH */
        assert_true(start(ID("nope"), "[\"frobnicate\"]", NULL, &pid, &error) < 0);
        assert_string_equal(error.name, ZL_ERROR_START_FAILED);
        assert_non_null(strstr(error.message, "frobnicate"));
        sd_bus_error_free(&error);
}

static void test_bad_config(void **state) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *json = NULL;

        skip_unless_root();
        json = launch_json(ID("bad"), "[]", NULL);
        assert_true(sd_bus_call_method(bus, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "Start", &error, NULL, "ss", ID("bad"), json) < 0);
        assert_string_equal(error.name, ZL_ERROR_INVALID_SPEC);
        assert_non_null(strstr(error.message, "args"));
        sd_bus_error_free(&error);

        assert_true(sd_bus_call_method(bus, NULL, ZL_WORKER_PATH, ZL_EXEC_IFACE, "Start", &error, NULL, "ss", "../x", "{}") < 0);
        assert_string_equal(error.name, ZL_ERROR_INVALID_SPEC);
        sd_bus_error_free(&error);

        /* a symlink planted in the (unprivileged) container dir is refused */
        char p[512];
        uint32_t pid;
        make_container_dir(ID("planted"));
        pathf(p, sizeof(p), "%s/containers/%s/upper", root, ID("planted"));
        assert_int_equal(symlink("/etc", p), 0);
        assert_true(start(ID("planted"), "[\"true\"]", NULL, &pid, &error) < 0);
        assert_string_equal(error.name, ZL_ERROR_START_FAILED);
        assert_non_null(strstr(error.message, "not a directory owned by root"));
        sd_bus_error_free(&error);
}

static void test_inside_view(void **state) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *log = NULL;
        uint32_t pid;
        char p[512];

        skip_unless_root();
        make_container_dir(ID("view"));
        /* pid namespace, hostname, tmpfs mount, capabilities dropped, rlimit */
        assert_true(start(ID("view"),
                          "[\"sh\",\"-c\",\"echo pid=$$; hostname; grep -c scratch /proc/mounts; "
                          "grep CapBnd /proc/self/status; grep NoNewPrivs /proc/self/status; ulimit -n; echo $MODE; test -c /dev/null && echo devnull; "
                          "ls /sys/class/net; (echo h > /proc/sysrq-trigger) 2>/dev/null || echo rosysrq; "
                          "wc -c < /proc/timer_list; printf '%020000d\\\\n' 7\"]",
                          NULL, &pid, &error) >= 0);
        const Exited *x = wait_exited(ID("view"));
        pathf(p, sizeof(p), "%s/containers/%s/ctr.log", root, ID("view"));
        assert_int_equal(read_file_at(AT_FDCWD, p, 1 << 20, &log, NULL), 0);
        if (x->code != 0)
                fail_msg("exit %d, log:\n%s", x->code, log);
        /* own pid namespace: pid 1 is the init that forwards signals */
        assert_non_null(strstr(log, "stdout F pid=2\n"));
        char host[128];
        snprintf(host, sizeof(host), "stdout F %s\n", ID("view"));
        assert_non_null(strstr(log, host));
        assert_non_null(strstr(log, "stdout F 1\n"));
        /* Docker's default set 0xa80425fb minus MKNOD (bit 27) */
        assert_non_null(strstr(log, "stdout F CapBnd:\t00000000a00425fb\n"));
        assert_non_null(strstr(log, "stdout F NoNewPrivs:\t1\n"));
        assert_non_null(strstr(log, "stdout F 1024\n"));
        assert_non_null(strstr(log, "stdout F test\n"));
        assert_non_null(strstr(log, "stdout F devnull\n"));
        /* network_mode none: a namespace with loopback only */
        assert_non_null(strstr(log, "stdout F lo\n"));
        /* Docker's read-only and masked /proc paths */
        assert_non_null(strstr(log, "stdout F rosysrq\n"));
        assert_non_null(strstr(log, "stdout F 0\n"));
        /* a 20000-byte line: one 16 KiB P part and an F part with the rest */
        size_t parts = 0, total = 0;
        bool last_f = false;
        for (char *line = log, *nl; *line; line = nl + 1) {
                CriLogEntry e;
                nl = strchr(line, '\n');
                assert_non_null(nl);
                assert_int_equal(crilog_parse_line(line, (size_t) (nl - line), &e), 0);
                if (e.text_len < 1000 || e.text[0] != '0')
                        continue;
                parts++;
                total += e.text_len;
                last_f = !e.partial;
                assert_true(parts > 1 || (e.partial && e.text_len == CRILOG_MAX_RECORD));
        }
        assert_int_equal(parts, 2);
        assert_int_equal(total, 20000);
        assert_true(last_f);
        delete_ok(ID("view"));
}

static void test_user_layers_mounts(void **state) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *json = NULL, *log = NULL, *out = NULL, *mounts = NULL;
        uint32_t pid;
        char p[512], src[512];

        skip_unless_root();
        make_container_dir(ID("user"));
        pathf(src, sizeof(src), "%s/bindsrc", tmp);
        assert_int_equal(mkdir(src, 0777), 0);
        assert_int_equal(chmod(src, 0777), 0);
        pathf(p, sizeof(p), "%s/in", src);
        copy_file("/dev/null", p, 0644);
        assert_true(asprintf(&mounts, "[{\"type\":\"bind\",\"source\":\"%s\",\"target\":\"/mnt/deep/data\",\"readonly\":false}]", src) > 0);
        json = launch_json_full(ID("user"), "[\"" LAYER2 "\",\"" LAYER "\"]",
                                "[\"sh\",\"-c\",\"id; cat /etc/motd; echo written > /mnt/deep/data/out; "
                                "touch /x 2>/dev/null || echo rofs; echo home=$HOME; pwd; grep CapEff /proc/self/status\"]",
                                "app", "/mnt", true, mounts, NULL);
        assert_true(start_json(ID("user"), json, &pid, &error) >= 0);
        const Exited *x = wait_exited(ID("user"));
        assert_int_equal(x->code, 0);

        pathf(p, sizeof(p), "%s/containers/%s/ctr.log", root, ID("user"));
        assert_int_equal(read_file_at(AT_FDCWD, p, 1 << 20, &log, NULL), 0);
        assert_non_null(strstr(log, "uid=1000(app) gid=1000(app)"));
        assert_non_null(strstr(log, "2000(extra)"));
        assert_non_null(strstr(log, "stdout F top\n"));       /* top layer wins */
        assert_non_null(strstr(log, "stdout F rofs\n"));      /* read-only rootfs */
        assert_non_null(strstr(log, "stdout F home=/home/app\n"));
        assert_non_null(strstr(log, "stdout F /mnt\n"));
        assert_non_null(strstr(log, "stdout F CapEff:\t0000000000000000\n"));
        pathf(p, sizeof(p), "%s/out", src);
        assert_int_equal(read_file_at(AT_FDCWD, p, 64, &out, NULL), 0);
        assert_string_equal(out, "written\n");
        delete_ok(ID("user"));

        /* a missing cwd fails the start clearly */
        make_container_dir(ID("nocwd"));
        free(json);
        json = launch_json_full(ID("nocwd"), "[\"" LAYER "\"]", "[\"true\"]", "", "/nonexistent", false, "[]", NULL);
        assert_true(start_json(ID("nocwd"), json, &pid, &error) < 0);
        assert_string_equal(error.name, ZL_ERROR_START_FAILED);
        assert_non_null(strstr(error.message, "/nonexistent"));
        sd_bus_error_free(&error);

        /* an unknown user too */
        free(json);
        json = launch_json_full(ID("nocwd"), "[\"" LAYER2 "\",\"" LAYER "\"]", "[\"true\"]", "ghost", "/", false, "[]", NULL);
        assert_true(start_json(ID("nocwd"), json, &pid, &error) < 0);
        assert_string_equal(error.name, ZL_ERROR_START_FAILED);
        assert_non_null(strstr(error.message, "ghost"));
        sd_bus_error_free(&error);
        delete_ok(ID("nocwd"));
}

static void test_oom_killed(void **state) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        uint32_t pid;

        skip_unless_root();
        make_container_dir(ID("oom"));
        /* 8 MiB, no swap; the shell doubles a string until the kernel kills it */
        assert_true(start(ID("oom"), "[\"sh\",\"-c\",\"a=aaaaaaaaaaaaaaaa; while :; do a=$a$a; done\"]",
                          "{\"memory\":8388608,\"memory_swap\":8388608}", &pid, &error) >= 0);
        const Exited *x = wait_exited(ID("oom"));
        assert_int_equal(x->code, 137);
        assert_string_equal(x->reason, "oom_killed");
        assert_string_equal(x->sig, "SIGKILL");
        delete_ok(ID("oom"));
}

static void test_adopt_after_restart(void **state) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint32_t pid, apid;
        Adopted a;

        skip_unless_root();
        start_sleeper(ID("survivor"), &pid);

        /* the broker went away: zlayer-exec exits, the container stays */
        stop_exec();
        assert_int_equal(kill((pid_t) pid, 0), 0);
        spawn_exec();

        /* not adopted yet, but alive: no second start, no delete */
        assert_true(start(ID("survivor"), "[\"sleep\",\"100\"]", NULL, &apid, &error) < 0);
        assert_string_equal(error.name, ZL_ERROR_INVALID_STATE);
        sd_bus_error_free(&error);
        refused("Delete", ID("survivor"), 0, ZL_ERROR_INVALID_STATE);

        adopt(ID("survivor"), &reply, &a);
        assert_true(a.running);
        assert_int_equal(a.pid, pid);
        assert_true(a.started > 1700000000ULL * USEC_PER_SEC);

        /* watched again: the exit is reported by the new zlayer-exec */
        kill_and_expect(ID("survivor"), SIGKILL, 137, "SIGKILL");
        delete_ok(ID("survivor"));
}

static void test_privileged_host_network(void **state) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *log = NULL, *status = NULL;
        uint32_t pid;
        char p[512];

        skip_unless_root();
        make_container_dir(ID("priv"));
        network_mode = "host";
        privileged = true;
        int r = start(ID("priv"), "[\"sh\",\"-c\",\"ls /sys/class/net; grep CapBnd /proc/self/status\"]", NULL, &pid, &error);
        network_mode = "none";
        privileged = false;
        if (r < 0)
                fail_msg("Start: %s", error.message);
        const Exited *x = wait_exited(ID("priv"));
        pathf(p, sizeof(p), "%s/containers/%s/ctr.log", root, ID("priv"));
        assert_int_equal(read_file_at(AT_FDCWD, p, 1 << 20, &log, NULL), 0);
        if (x->code != 0)
                fail_msg("exit %d, log:\n%s", x->code, log);
        /* the host's interfaces, the host's whole bounding set */
        _cleanup_closedir_ DIR *d = opendir("/sys/class/net");
        struct dirent *de;
        assert_non_null(d);
        while ((de = readdir(d))) {
                char line[300];
                if (de->d_name[0] == '.')
                        continue;
                snprintf(line, sizeof(line), "stdout F %s\n", de->d_name);
                if (!strstr(log, line))
                        fail_msg("host interface %s not seen:\n%s", de->d_name, log);
        }
        assert_int_equal(read_file_at(AT_FDCWD, "/proc/self/status", 1 << 20, &status, NULL), 0);
        char *bnd = strstr(status, "CapBnd:");
        assert_non_null(bnd);
        *strchr(bnd, '\n') = '\0';
        char want[128];
        snprintf(want, sizeof(want), "stdout F %s\n", bnd);
        assert_non_null(strstr(log, want));
        delete_ok(ID("priv"));
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bad_config),
                cmocka_unit_test(test_exit_code_and_log),
                cmocka_unit_test(test_kill_adopt_delete),
                cmocka_unit_test(test_missing_entrypoint),
                cmocka_unit_test(test_inside_view),
                cmocka_unit_test(test_user_layers_mounts),
                cmocka_unit_test(test_oom_killed),
                cmocka_unit_test(test_adopt_after_restart),
                cmocka_unit_test(test_privileged_host_network),
        };
        if (argc < 3) {
                fprintf(stderr, "usage: %s ZLAYER-EXEC ZLAYER-SHIM\n", argv[0]);
                return 2;
        }
        exec_bin = argv[1];
        shim_bin = argv[2];
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
