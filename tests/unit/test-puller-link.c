/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The real zlayer-puller against real docker-registry instances on
 * 127.0.0.1, driven over a socketpair on fd 3 as the broker would.
 * Environment: ZL_PULLER (the binary), ZL_PULLER_REGISTRY (puller-registry.py).
 * Skips (77) when docker-registry or python3 is missing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <systemd/sd-bus.h>

#include "digest.h"
#include "errors.h"
#include "fileio.h"
#include "link.h"
#include "macro.h"

#define CALL_TIMEOUT_USEC (90ULL * 1000000ULL)

static char workdir[] = "/tmp/test-puller-link.XXXXXX";
static json_object *fixture;
static int port, auth_port, token_port;
static pid_t registry_pids[4];
/* The puller of the running test, killed by the teardown when an assertion
 * ended the test early (it would keep the test's stderr open). */
static pid_t live_puller;

typedef struct PullerProc {
        pid_t pid;
        sd_bus *bus;
} PullerProc;

typedef struct Opts {
        const char *username, *password, *platform, *bogus_key;
        int insecure;              /* -1 = not given */
        bool insecure_as_string;
} Opts;

#define NO_OPTS ((Opts) { .insecure = -1 })

static bool in_path(const char *prog) {
        const char *path = getenv("PATH") ?: "/usr/bin:/bin";
        char *copy = strdup(path), *save = NULL;
        bool found = false;

        for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
                char buf[4096];
                snprintf(buf, sizeof(buf), "%s/%s", d, prog);
                found = access(buf, X_OK) == 0;
        }
        free(copy);
        return found;
}

static const char *image(const char *name, const char *key) {
        json_object *images, *img, *v;

        assert_true(json_object_object_get_ex(fixture, "images", &images));
        assert_true(json_object_object_get_ex(images, name, &img));
        assert_true(json_object_object_get_ex(img, key, &v));
        return json_object_get_string(v);
}

static json_object *image_array(const char *name, const char *key) {
        json_object *images, *img, *v;

        assert_true(json_object_object_get_ex(fixture, "images", &images));
        assert_true(json_object_object_get_ex(images, name, &img));
        assert_true(json_object_object_get_ex(img, key, &v));
        return v;
}

static int setup_registries(void **state) {
        char cmd[8192], buf[65536];
        size_t n;
        FILE *f;

        assert_non_null(mkdtemp(workdir));
        snprintf(cmd, sizeof(cmd), "python3 '%s' '%s'", getenv("ZL_PULLER_REGISTRY"), workdir);
        f = popen(cmd, "r");
        assert_non_null(f);
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = 0;
        assert_int_equal(pclose(f), 0);
        fixture = json_tokener_parse(buf);
        assert_non_null(fixture);

        json_object *v, *pids;
        assert_true(json_object_object_get_ex(fixture, "port", &v));
        port = json_object_get_int(v);
        assert_true(json_object_object_get_ex(fixture, "auth_port", &v));
        auth_port = json_object_get_int(v);
        assert_true(json_object_object_get_ex(fixture, "token_port", &v));
        token_port = json_object_get_int(v);
        assert_true(json_object_object_get_ex(fixture, "pids", &pids));
        for (size_t i = 0; i < json_object_array_length(pids) && i < 4; i++)
                registry_pids[i] = json_object_get_int(json_object_array_get_idx(pids, i));
        return 0;
}

static int teardown_registries(void **state) {
        char cmd[4200];

        for (size_t i = 0; i < 4; i++)
                if (registry_pids[i] > 0) {
                        kill(registry_pids[i], SIGTERM);
                        waitpid(registry_pids[i], NULL, 0); /* not our child: ECHILD is fine */
                }
        json_object_put(fixture);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
        return system(cmd) == 0 ? 0 : -1;
}

static void puller_start(PullerProc *p) {
        struct passwd *pw = getpwuid(geteuid());
        char user_arg[300], root_arg[300];
        int sv[2];

        assert_non_null(pw);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        snprintf(user_arg, sizeof(user_arg), "--user=%s", pw->pw_name);
        snprintf(root_arg, sizeof(root_arg), "--root=%s", workdir);
        p->pid = fork();
        assert_true(p->pid >= 0);
        if (p->pid == 0) {
                /* dup2 leaves the new fd 3 without CLOEXEC. */
                if (dup2(sv[1], LINK_FD) < 0)
                        _exit(127);
                execl(getenv("ZL_PULLER"), "zlayer-puller", user_arg, root_arg, "--run-dir=/tmp",
                      getenv("ZL_TEST_DEBUG") ? "--debug" : NULL, (char *) NULL);
                _exit(127);
        }
        live_puller = p->pid;
        close(sv[1]);
        assert_int_equal(link_open_client(sv[0], NULL, &p->bus), 0);
}

/* Closes our end and checks the puller exits 0 in time. */
static void puller_stop(PullerProc *p) {
        int status = 0;

        sd_bus_flush_close_unref(p->bus);
        p->bus = NULL;
        for (int i = 0; i < 100; i++) {
                pid_t r = waitpid(p->pid, &status, WNOHANG);
                assert_true(r >= 0);
                if (r == p->pid) {
                        live_puller = 0;
                        assert_true(WIFEXITED(status));
                        assert_int_equal(WEXITSTATUS(status), 0);
                        return;
                }
                usleep(100 * 1000);
        }
        kill(p->pid, SIGKILL);
        fail_msg("zlayer-puller did not exit within 10 s of EOF on its link");
}

static sd_bus_message *pull_message(PullerProc *p, const char *ref, int images_fd, Opts o) {
        sd_bus_message *m = NULL;

        assert_true(sd_bus_message_new_method_call(p->bus, &m, NULL, ZL_WORKER_PATH, ZL_PULLER_IFACE, "Pull") >= 0);
        assert_true(sd_bus_message_append(m, "sh", ref, images_fd) >= 0);
        assert_true(sd_bus_message_open_container(m, 'a', "{sv}") >= 0);
        if (o.username)
                assert_true(sd_bus_message_append(m, "{sv}", "username", "s", o.username) >= 0);
        if (o.password)
                assert_true(sd_bus_message_append(m, "{sv}", "password", "s", o.password) >= 0);
        if (o.platform)
                assert_true(sd_bus_message_append(m, "{sv}", "platform", "s", o.platform) >= 0);
        if (o.insecure >= 0)
                assert_true(sd_bus_message_append(m, "{sv}", "insecure", "b", o.insecure) >= 0);
        if (o.insecure_as_string)
                assert_true(sd_bus_message_append(m, "{sv}", "insecure", "s", "yes") >= 0);
        if (o.bogus_key)
                assert_true(sd_bus_message_append(m, "{sv}", o.bogus_key, "s", "x") >= 0);
        assert_true(sd_bus_message_close_container(m) >= 0);
        return m;
}

/* Returns the result JSON, or NULL with @error set. */
static json_object *pull(PullerProc *p, const char *ref, int images_fd, Opts o, sd_bus_error *error) {
        sd_bus_message *m = pull_message(p, ref, images_fd, o), *reply = NULL;
        const char *s;
        json_object *j;
        int r;

        r = sd_bus_call(p->bus, m, CALL_TIMEOUT_USEC, error, &reply);
        sd_bus_message_unref(m);
        if (r < 0) {
                assert_true(sd_bus_error_is_set(error));
                return NULL;
        }
        assert_int_equal(sd_bus_message_read(reply, "s", &s), 1);
        j = json_tokener_parse(s);
        assert_non_null(j);
        sd_bus_message_unref(reply);
        return j;
}

static const char *jstr(json_object *o, const char *key) {
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v))
                fail_msg("result has no \"%s\"", key);
        return json_object_get_string(v);
}

static int new_images_dir(void) {
        char path[512];
        static unsigned counter;
        int fd;

        /* Below --root's images/: Landlock confines the puller there. */
        snprintf(path, sizeof(path), "%s/images", workdir);
        assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
        snprintf(path, sizeof(path), "%s/images/%u", workdir, ++counter);
        assert_int_equal(mkdir(path, 0755), 0);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

static char *ref_of(int p, const char *name) {
        char *s;
        assert_true(asprintf(&s, "127.0.0.1:%d/%s", p, name) > 0);
        return s;
}

/* The blob exists under its digest and its bytes hash to it. */
static void assert_blob(int images_fd, const char *digest) {
        char path[128], actual[72];
        char *data = NULL;
        size_t len = 0;

        assert_true(strncmp(digest, "sha256:", 7) == 0);
        snprintf(path, sizeof(path), "blobs/sha256/%s", digest + 7);
        if (read_file_at(images_fd, path, 64 * 1024 * 1024, &data, &len) < 0)
                fail_msg("blob %s missing", digest);
        assert_int_equal(sha256_digest(data, len, actual), 0);
        assert_string_equal(actual, digest);
        free(data);
}

static bool blob_exists(int images_fd, const char *digest) {
        char path[128];
        snprintf(path, sizeof(path), "blobs/sha256/%s", digest + 7);
        return faccessat(images_fd, path, F_OK, 0) == 0;
}

static unsigned ingest_entries(int images_fd) {
        int fd = openat(images_fd, "ingest", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        unsigned n = 0;
        struct dirent *de;
        DIR *d;

        assert_true(fd >= 0);
        d = fdopendir(fd);
        assert_non_null(d);
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

static void assert_error(sd_bus_error *e, const char *name, const char *substring) {
        if (!sd_bus_error_has_name(e, name) || !strstr(e->message ?: "", substring))
                fail_msg("expected %s containing \"%s\", got %s: %s", name, substring, e->name, e->message);
        sd_bus_error_free(e);
}

static void test_pull_oci_image(void **state) {
        _cleanup_free_ char *ref = ref_of(port, "x:latest"), *byref = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        PullerProc p;
        json_object *r, *layers, *ids;
        struct stat st1, st2;
        char *layout = NULL;
        size_t len;
        int dir = new_images_dir();
        char stale[600];

        /* What a killed puller left in ROOT/images/ingest goes at start. */
        snprintf(stale, sizeof(stale), "%s/images", workdir);
        assert_int_equal(mkdir_p_at(AT_FDCWD, stale, 0755), 0);
        snprintf(stale, sizeof(stale), "%s/images/ingest", workdir);
        assert_int_equal(mkdir_p_at(AT_FDCWD, stale, 0755), 0);
        snprintf(stale, sizeof(stale), "%s/images/ingest/.0123456789ab-0123456789abcdef.tmp", workdir);
        int sfd = open(stale, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(sfd >= 0);
        close(sfd);

        puller_start(&p);
        r = pull(&p, ref, dir, NO_OPTS, &e);
        if (!r)
                fail_msg("Pull failed: %s: %s", e.name, e.message);
        assert_int_equal(access(stale, F_OK), -1);
        assert_string_equal(jstr(r, "reference"), ref);
        assert_string_equal(jstr(r, "digest"), image("x:latest", "manifest"));
        assert_string_equal(jstr(r, "manifest"), image("x:latest", "manifest"));
        assert_string_equal(jstr(r, "manifest_media_type"), "application/vnd.oci.image.manifest.v1+json");
        assert_string_equal(jstr(r, "config"), image("x:latest", "config"));
        assert_true(json_object_object_get_ex(r, "layers", &layers));
        assert_int_equal(json_object_array_length(layers), 1);
        json_object *l0 = json_object_array_get_idx(layers, 0), *size;
        assert_string_equal(jstr(l0, "digest"), json_object_get_string(json_object_array_get_idx(
                                                        image_array("x:latest", "layers"), 0)));
        assert_string_equal(jstr(l0, "media_type"), "application/vnd.oci.image.layer.v1.tar+gzip");
        assert_true(json_object_object_get_ex(l0, "size", &size));
        assert_int_equal(json_object_get_int64(size),
                         json_object_get_int64(json_object_array_get_idx(image_array("x:latest", "sizes"), 0)));
        assert_true(json_object_object_get_ex(r, "diff_ids", &ids));
        assert_int_equal(json_object_array_length(ids), 1);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(ids, 0)),
                            json_object_get_string(json_object_array_get_idx(image_array("x:latest", "diff_ids"), 0)));

        assert_blob(dir, jstr(r, "manifest"));
        assert_blob(dir, jstr(r, "config"));
        assert_blob(dir, jstr(l0, "digest"));
        assert_int_equal(ingest_entries(dir), 0);
        assert_int_equal(read_file_at(dir, "oci-layout", 4096, &layout, &len), 0);
        assert_string_equal(layout, "{\"imageLayoutVersion\":\"1.0.0\"}");
        free(layout);

        /* Again: the blobs there are kept, not fetched and replaced. */
        char path[128];
        snprintf(path, sizeof(path), "blobs/sha256/%s", jstr(l0, "digest") + 7);
        assert_int_equal(fstatat(dir, path, &st1, 0), 0);
        json_object *r2 = pull(&p, ref, dir, NO_OPTS, &e);
        assert_non_null(r2);
        assert_string_equal(jstr(r2, "manifest"), jstr(r, "manifest"));
        assert_int_equal(fstatat(dir, path, &st2, 0), 0);
        assert_int_equal(st1.st_ino, st2.st_ino);
        json_object_put(r2);

        /* By digest. */
        assert_true(asprintf(&byref, "127.0.0.1:%d/x@%s", port, image("x:latest", "manifest")) > 0);
        r2 = pull(&p, byref, dir, NO_OPTS, &e);
        if (!r2)
                fail_msg("Pull by digest failed: %s: %s", e.name, e.message);
        assert_string_equal(jstr(r2, "digest"), image("x:latest", "manifest"));
        json_object_put(r2);

        json_object_put(r);
        puller_stop(&p);
        close(dir);
}

static void test_pull_docker_and_zstd(void **state) {
        _cleanup_free_ char *docker = ref_of(port, "x:docker"), *two = ref_of(port, "two:latest");
        sd_bus_error e = SD_BUS_ERROR_NULL;
        PullerProc p;
        json_object *r, *layers, *ids;
        int dir = new_images_dir();

        puller_start(&p);
        r = pull(&p, docker, dir, NO_OPTS, &e);
        if (!r)
                fail_msg("Pull failed: %s: %s", e.name, e.message);
        assert_string_equal(jstr(r, "manifest"), image("x:docker", "manifest"));
        assert_string_equal(jstr(r, "manifest_media_type"), "application/vnd.docker.distribution.manifest.v2+json");
        assert_true(json_object_object_get_ex(r, "layers", &layers));
        assert_string_equal(jstr(json_object_array_get_idx(layers, 0), "media_type"),
                            "application/vnd.docker.image.rootfs.diff.tar.gzip");
        assert_blob(dir, jstr(r, "manifest"));
        json_object_put(r);

        r = pull(&p, two, dir, NO_OPTS, &e);
        if (!r)
                fail_msg("Pull failed: %s: %s", e.name, e.message);
        assert_true(json_object_object_get_ex(r, "layers", &layers));
        assert_int_equal(json_object_array_length(layers), 2);
        assert_string_equal(jstr(json_object_array_get_idx(layers, 1), "media_type"),
                            "application/vnd.oci.image.layer.v1.tar+zstd");
        assert_true(json_object_object_get_ex(r, "diff_ids", &ids));
        assert_int_equal(json_object_array_length(ids), 2);
        for (size_t i = 0; i < 2; i++) {
                assert_blob(dir, jstr(json_object_array_get_idx(layers, i), "digest"));
                assert_string_equal(json_object_get_string(json_object_array_get_idx(ids, i)),
                                    json_object_get_string(json_object_array_get_idx(
                                            image_array("two:latest", "diff_ids"), i)));
        }
        json_object_put(r);
        puller_stop(&p);
        close(dir);
}

static void test_pull_index(void **state) {
        _cleanup_free_ char *ref = ref_of(port, "multi:latest");
        sd_bus_error e = SD_BUS_ERROR_NULL;
        struct utsname u;
        PullerProc p;
        json_object *r;
        int dir = new_images_dir();

        puller_start(&p);
        assert_int_equal(uname(&u), 0);
        if (strcmp(u.machine, "x86_64") == 0) {
                /* The default platform skips the unknown entry listed first. */
                r = pull(&p, ref, dir, NO_OPTS, &e);
                if (!r)
                        fail_msg("Pull failed: %s: %s", e.name, e.message);
                assert_string_equal(jstr(r, "digest"), image("multi:latest", "index"));
                assert_string_equal(jstr(r, "manifest"), image("multi:latest", "amd64"));
                assert_blob(dir, image("multi:latest", "index"));
                assert_blob(dir, image("multi:latest", "amd64"));
                json_object_put(r);
        }

        r = pull(&p, ref, dir, (Opts) { .insecure = -1, .platform = "linux/arm64" }, &e);
        if (!r)
                fail_msg("Pull failed: %s: %s", e.name, e.message);
        assert_string_equal(jstr(r, "digest"), image("multi:latest", "index"));
        assert_string_equal(jstr(r, "manifest"), image("multi:latest", "arm64"));
        assert_string_equal(jstr(r, "config"), image("multi:latest", "arm64_config"));
        assert_blob(dir, image("multi:latest", "arm64_config"));
        json_object_put(r);

        r = pull(&p, ref, dir, (Opts) { .insecure = -1, .platform = "linux/arm64/v8" }, &e);
        assert_non_null(r);
        assert_string_equal(jstr(r, "manifest"), image("multi:latest", "arm64"));
        json_object_put(r);

        assert_null(pull(&p, ref, dir, (Opts) { .insecure = -1, .platform = "linux/s390x" }, &e));
        assert_error(&e, ZL_ERROR_NOT_FOUND, "no manifest for platform linux/s390x");
        assert_int_equal(ingest_entries(dir), 0);
        puller_stop(&p);
        close(dir);
}

static void test_pull_errors(void **state) {
        _cleanup_free_ char *missing = ref_of(port, "x:nope"), *ok = ref_of(port, "x:latest"),
                            *corrupt = ref_of(port, "corrupt:latest"), *dead = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        PullerProc p;
        int dir = new_images_dir(), dead_port;

        /* A port nobody listens on: bind, read the port, close. */
        {
                int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
                socklen_t al = sizeof(a);
                assert_int_equal(bind(s, (struct sockaddr *) &a, sizeof(a)), 0);
                assert_int_equal(getsockname(s, (struct sockaddr *) &a, &al), 0);
                dead_port = ntohs(a.sin_port);
                close(s);
        }
        assert_true(asprintf(&dead, "127.0.0.1:%d/x:latest", dead_port) > 0);

        puller_start(&p);
        assert_null(pull(&p, missing, dir, NO_OPTS, &e));
        assert_error(&e, ZL_ERROR_NOT_FOUND, "manifest unknown");

        assert_null(pull(&p, ok, dir, (Opts) { .insecure = -1, .bogus_key = "frobnicate" }, &e));
        assert_error(&e, SD_BUS_ERROR_INVALID_ARGS, "frobnicate");
        assert_null(pull(&p, ok, dir, (Opts) { .insecure = -1, .insecure_as_string = true }, &e));
        assert_error(&e, SD_BUS_ERROR_INVALID_ARGS, "insecure");
        assert_null(pull(&p, ok, dir, (Opts) { .insecure = -1, .platform = "linux" }, &e));
        assert_error(&e, SD_BUS_ERROR_INVALID_ARGS, "linux");
        assert_null(pull(&p, "127.0.0.1:5000/UPPER:x", dir, NO_OPTS, &e));
        assert_error(&e, SD_BUS_ERROR_INVALID_ARGS, "UPPER");

        char name[64];
        snprintf(name, sizeof(name), "127.0.0.1:%d", dead_port);
        time_t start = time(NULL);
        assert_null(pull(&p, dead, dir, NO_OPTS, &e));
        assert_true(time(NULL) - start < 30);
        assert_true(strstr(e.message, name) != NULL);
        assert_error(&e, ZL_ERROR_PULL_FAILED, "Couldn't connect to server");

        /* The registry serves other bytes than the digest: nothing is kept. */
        assert_null(pull(&p, corrupt, dir, NO_OPTS, &e));
        assert_error(&e, ZL_ERROR_PULL_FAILED, "digest mismatch");
        assert_false(blob_exists(dir, json_object_get_string(json_object_array_get_idx(
                image_array("corrupt:latest", "layers"), 0))));
        assert_false(blob_exists(dir, image("corrupt:latest", "manifest")));
        assert_int_equal(ingest_entries(dir), 0);

        puller_stop(&p);
        close(dir);
}

static void test_pull_basic_auth(void **state) {
        _cleanup_free_ char *ref = ref_of(auth_port, "private:latest");
        sd_bus_error e = SD_BUS_ERROR_NULL;
        PullerProc p;
        json_object *r;
        int dir = new_images_dir();

        puller_start(&p);
        assert_null(pull(&p, ref, dir, NO_OPTS, &e));
        assert_error(&e, ZL_ERROR_PULL_FAILED, "requires authentication");

        assert_null(pull(&p, ref, dir, (Opts) { .insecure = -1, .username = "zl", .password = "wrong" }, &e));
        assert_error(&e, ZL_ERROR_PULL_FAILED, "authentication as \"zl\" failed");

        r = pull(&p, ref, dir, (Opts) { .insecure = -1, .username = "zl", .password = "secret" }, &e);
        if (!r)
                fail_msg("Pull failed: %s: %s", e.name, e.message);
        assert_string_equal(jstr(r, "manifest"), image("private:latest", "manifest"));
        assert_blob(dir, image("private:latest", "config"));
        json_object_put(r);
        puller_stop(&p);
        close(dir);
}

/* Bearer token auth: the 401 challenge names a realm, the puller gets a
 * token there (anonymously or with Basic credentials) and retries. */
static void test_pull_bearer_token(void **state) {
        _cleanup_free_ char *ref = ref_of(token_port, "x:latest");
        sd_bus_error e = SD_BUS_ERROR_NULL;
        PullerProc p;
        json_object *r, *layers;
        int dir = new_images_dir();

        puller_start(&p);
        r = pull(&p, ref, dir, NO_OPTS, &e);
        if (!r)
                fail_msg("Pull failed: %s: %s", e.name, e.message);
        assert_string_equal(jstr(r, "manifest"), image("x:latest", "manifest"));
        assert_true(json_object_object_get_ex(r, "layers", &layers));
        assert_blob(dir, jstr(json_object_array_get_idx(layers, 0), "digest"));
        json_object_put(r);

        r = pull(&p, ref, dir, (Opts) { .insecure = -1, .username = "zl", .password = "secret" }, &e);
        if (!r)
                fail_msg("Pull failed: %s: %s", e.name, e.message);
        json_object_put(r);

        assert_null(pull(&p, ref, dir, (Opts) { .insecure = -1, .username = "zl", .password = "bad" }, &e));
        assert_error(&e, ZL_ERROR_PULL_FAILED, "refused the credentials");

        /* Misbehaving registries: an oversized manifest, wrong bytes for a digest. */
        _cleanup_free_ char *huge = ref_of(token_port, "huge:latest"), *evil = NULL;
        assert_null(pull(&p, huge, dir, NO_OPTS, &e));
        assert_error(&e, ZL_ERROR_PULL_FAILED, "larger than 4194304 bytes");
        assert_true(asprintf(&evil, "127.0.0.1:%d/evil@sha256:%064d", token_port, 0) > 0);
        assert_null(pull(&p, evil, dir, NO_OPTS, &e));
        assert_error(&e, ZL_ERROR_PULL_FAILED, "digest mismatch");
        assert_int_equal(ingest_entries(dir), 0);
        puller_stop(&p);
        close(dir);
}

typedef struct AsyncReply {
        bool done;
        sd_bus_error error;
} AsyncReply;

static int on_async_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        AsyncReply *a = userdata;

        a->done = true;
        if (sd_bus_message_is_method_error(m, NULL))
                sd_bus_error_copy(&a->error, sd_bus_message_get_error(m));
        return 0;
}

/* A socket that listens and never accepts: connects succeed, no answer comes. */
static int black_hole(int *ret_port) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t al = sizeof(a);
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(s >= 0);
        assert_int_equal(bind(s, (struct sockaddr *) &a, sizeof(a)), 0);
        assert_int_equal(listen(s, 16), 0);
        assert_int_equal(getsockname(s, (struct sockaddr *) &a, &al), 0);
        *ret_port = ntohs(a.sin_port);
        return s;
}

/* A pull stuck on a registry that never answers does not hold up another
 * one, gives up within 30 s naming the host, and EOF on the link cancels
 * a stuck pull and ends the process promptly. */
static void test_concurrent_timeout_and_eof(void **state) {
        _cleanup_free_ char *ok = ref_of(port, "x:latest"), *stuck = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        AsyncReply reply = { .error = SD_BUS_ERROR_NULL };
        sd_bus_message *m;
        sd_bus_slot *slot = NULL;
        PullerProc p;
        json_object *r;
        char host[64];
        int dir = new_images_dir(), hole_port;
        int s = black_hole(&hole_port);

        assert_true(asprintf(&stuck, "127.0.0.1:%d/x:latest", hole_port) > 0);
        snprintf(host, sizeof(host), "127.0.0.1:%d", hole_port);

        puller_start(&p);
        time_t start = time(NULL);
        m = pull_message(&p, stuck, dir, NO_OPTS);
        assert_int_equal(sd_bus_call_async(p.bus, &slot, m, on_async_reply, &reply, CALL_TIMEOUT_USEC), 1);
        sd_bus_message_unref(m);

        r = pull(&p, ok, dir, NO_OPTS, &e);
        if (!r)
                fail_msg("Pull failed: %s: %s", e.name, e.message);
        assert_true(time(NULL) - start < 10);
        json_object_put(r);

        while (!reply.done && time(NULL) - start < 40) {
                assert_true(sd_bus_process(p.bus, NULL) >= 0);
                assert_true(sd_bus_wait(p.bus, 1000000) >= 0);
        }
        assert_true(reply.done);
        assert_true(time(NULL) - start <= 30);
        assert_non_null(strstr(reply.error.message ?: "", host));
        assert_error(&reply.error, ZL_ERROR_PULL_FAILED, "Timeout");
        sd_bus_slot_unref(slot);
        slot = NULL;

        /* Stuck again, then the broker goes away. */
        m = pull_message(&p, stuck, dir, NO_OPTS);
        assert_int_equal(sd_bus_call_async(p.bus, &slot, m, NULL, NULL, CALL_TIMEOUT_USEC), 1);
        sd_bus_message_unref(m);
        assert_true(sd_bus_flush(p.bus) >= 0);
        usleep(300 * 1000);
        sd_bus_slot_unref(slot);
        puller_stop(&p);   /* the stuck pull is canceled, the process exits 0 */
        assert_int_equal(ingest_entries(dir), 0);
        close(s);
        close(dir);
}

static int kill_live_puller(void **state) {
        if (live_puller > 0) {
                kill(live_puller, SIGKILL);
                waitpid(live_puller, NULL, 0);
                live_puller = 0;
        }
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_pull_oci_image, kill_live_puller),
                cmocka_unit_test_teardown(test_pull_docker_and_zstd, kill_live_puller),
                cmocka_unit_test_teardown(test_pull_index, kill_live_puller),
                cmocka_unit_test_teardown(test_pull_errors, kill_live_puller),
                cmocka_unit_test_teardown(test_pull_basic_auth, kill_live_puller),
                cmocka_unit_test_teardown(test_pull_bearer_token, kill_live_puller),
                cmocka_unit_test_teardown(test_concurrent_timeout_and_eof, kill_live_puller),
        };

        if (!getenv("ZL_PULLER") || !getenv("ZL_PULLER_REGISTRY")) {
                fprintf(stderr, "ZL_PULLER and ZL_PULLER_REGISTRY must be set (meson test sets them).\n");
                return 77;
        }
        if (!in_path("docker-registry") || !in_path("python3") || !in_path("zstd")) {
                fprintf(stderr, "docker-registry, python3 or zstd not installed, skipping.\n");
                return 77;
        }
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, setup_registries, teardown_registries);
}
