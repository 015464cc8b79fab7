/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* exec attach cp export commit update: thin wrappers of their methods. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "errors.h"
#include "exec-pty.h"
#include "stream.h"
#include "zlayerctl.h"

#define HELP_OPTION { "help", no_argument, NULL, 'h' }
#define COPY_BUF (64 * 1024)

static int write_all(int fd, const char *buf, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, buf, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                buf += k;
                n -= k;
        }
        return 0;
}

static int copy_fd(int from, int to) {
        char buf[COPY_BUF];

        for (;;) {
                ssize_t n = read(from, buf, sizeof buf);
                int r;
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return 0;
                r = write_all(to, buf, n);
                if (r < 0)
                        return r;
        }
}

int verb_exec(int argc, char **argv) {
        static const struct option options[] = {
                { "interactive", no_argument,       NULL, 'i' },
                { "tty",         no_argument,       NULL, 't' },
                { "env",         required_argument, NULL, 'e' },
                { "user",        required_argument, NULL, 'u' },
                { "workdir",     required_argument, NULL, 'w' },
                HELP_OPTION,
                {}
        };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const void *out, *err;
        size_t out_n, err_n;
        int32_t code;
        sd_bus *bus;
        int c, r;

        ExecPtyOptions po = {};
        _cleanup_strv_free_ char **env = NULL;
        size_t n_env = 0;
        bool pty = false;

        while ((c = getopt_long(argc, argv, "+ite:u:w:h", options, NULL)) >= 0)
                switch (c) {
                case 'i': po.interactive = pty = true; break;
                case 't': po.tty = pty = true; break;
                case 'e': {
                        char **n = realloc(env, (n_env + 2) * sizeof *env);
                        if (!n)
                                return EXIT_ZL;
                        env = n;
                        /* NAME alone: from our environment, as docker */
                        if (strchr(optarg, '='))
                                env[n_env] = strdup(optarg);
                        else if (getenv(optarg))
                                (void) asprintf(&env[n_env], "%s=%s", optarg, getenv(optarg));
                        else {
                                env[n_env] = NULL;
                                break;
                        }
                        if (!env[n_env])
                                return EXIT_ZL;
                        env[++n_env] = NULL;
                        pty = true;
                        break;
                }
                case 'u': po.user = optarg; pty = true; break;
                case 'w': po.workdir = optarg; pty = true; break;
                case 'h':
                        printf("Usage: zlayerctl exec [-i] [-t] [-e NAME=VALUE] [-u USER] [-w DIR] CONTAINER COMMAND [ARG...]\n");
                        return 0;
                default:
                        return usage_error(argv[0], "bad option");
                }
        if (argc - optind < 2)
                return usage_error(argv[0], "requires at least 2 arguments (CONTAINER COMMAND [ARG...])");
        if (pty) {
                po.command = argv + optind + 1;
                po.env = env;
                return exec_pty(argv[optind], &po);
        }
        r = ctl_bus(&bus);
        if (r < 0)
                return EXIT_ZL;
        r = sd_bus_message_new_method_call(bus, &m, ZL_BUS_NAME, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, "Exec");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[optind]);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, argv + optind + 1);
        if (r >= 0)
                r = sd_bus_call(bus, m, CALL_FOREVER, &error, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "i", &code);
        if (r >= 0)
                r = sd_bus_message_read_array(reply, 'y', &out, &out_n);
        if (r >= 0)
                r = sd_bus_message_read_array(reply, 'y', &err, &err_n);
        if (r < 0)
                return ctl_fail(&error, r, "exec");
        fflush(stdout);
        (void) write_all(STDOUT_FILENO, out, out_n);
        (void) write_all(STDERR_FILENO, err, err_n);
        return code < 0 || code > 255 ? EXIT_ZL : code;
}

/* "CONTAINER:PATH" → container and path; NULL when @s has no ':' before a '/'. */
static bool split_container_path(const char *s, char **ctr, const char **path) {
        const char *colon = strchr(s, ':');

        if (!colon || colon == s || (strchr(s, '/') && strchr(s, '/') < colon))
                return false;
        *ctr = strndup(s, colon - s);
        *path = colon + 1;
        return *ctr != NULL;
}

/* Runs @args (tar, rm) with @in_fd as stdin and @out_fd as stdout (-1 = ours); its exit status or -errno. */
static int run_cmd(char **args, int in_fd, int out_fd) {
        pid_t pid = fork();
        int status;

        if (pid < 0)
                return -errno;
        if (pid == 0) {
                if ((in_fd >= 0 && dup2(in_fd, STDIN_FILENO) < 0) || (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0))
                        _exit(126);
                execvp(args[0], args);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* CONTAINER:SRC → host DEST: into DEST when it is a directory, else as DEST
 * (extracted next to it, then renamed), as docker cp does. */
static int cp_from_container(const char *ctr, const char *src, const char *dest) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *parent = NULL, *tmp = NULL, *from = NULL;
        const char *name;
        struct stat st;
        int fd, r;

        r = ctl_call(CALL_FOREVER, "ArchiveGet", &error, &reply, "ss", ctr, src);
        if (r >= 0)
                r = sd_bus_message_read(reply, "hs", &fd, &name);
        if (r < 0)
                return ctl_fail(&error, r, "cp");
        if (stat(dest, &st) >= 0 && S_ISDIR(st.st_mode)) {
                r = run_cmd((char *[]) { "tar", "-x", "-f", "-", "-C", (char *) dest, "--no-same-owner", NULL }, fd, -1);
                return r == 0 ? 0 : (fprintf(stderr, "zlayerctl cp: tar failed (%d)\n", r), EXIT_ZL);
        }
        parent = strdup(dest);
        if (!parent)
                return EXIT_ZL;
        if (asprintf(&tmp, "%s/.zlayerctl-cp-XXXXXX", strchr(parent, '/') ? dirname(parent) : ".") < 0 || !mkdtemp(tmp))
                return fprintf(stderr, "zlayerctl cp: cannot create a directory next to %s: %m\n", dest), EXIT_ZL;
        r = run_cmd((char *[]) { "tar", "-x", "-f", "-", "-C", tmp, "--no-same-owner", NULL }, fd, -1);
        if (r == 0 && asprintf(&from, "%s/%s", tmp, name) >= 0 && rename(from, dest) < 0)
                r = -errno;
        (void) run_cmd((char *[]) { "rm", "-rf", "--", tmp, NULL }, -1, -1);   /* leftovers of a failed copy */
        if (r != 0) {
                fprintf(stderr, "zlayerctl cp: copying to %s failed: %s\n", dest, r < 0 ? strerror(-r) : "tar failed");
                return EXIT_ZL;
        }
        return 0;
}

/* host SRC → CONTAINER:DIR (an existing directory there). */
static int cp_to_container(const char *src, const char *ctr, const char *dest) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *d = strdup(src), *b = strdup(src);
        int p[2], r, tr;
        pid_t pid;

        if (!d || !b)
                return EXIT_ZL;
        if (access(src, F_OK) < 0)
                return fprintf(stderr, "zlayerctl cp: %s: %m\n", src), EXIT_ZL;
        if (pipe2(p, O_CLOEXEC) < 0)
                return EXIT_ZL;
        pid = fork();
        if (pid < 0)
                return EXIT_ZL;
        if (pid == 0) {
                close(p[0]);
                _exit(run_cmd((char *[]) { "tar", "-c", "-f", "-", "-C", dirname(d), "--", basename(b), NULL }, -1, p[1]));
        }
        close(p[1]);
        r = ctl_call(CALL_FOREVER, "ArchivePut", &error, NULL, "ssha{sv}", ctr, dest, p[0], 0);
        close(p[0]);
        (void) waitpid(pid, &tr, 0);
        if (r < 0)
                return ctl_fail(&error, r, "cp");
        return WIFEXITED(tr) && WEXITSTATUS(tr) == 0 ? 0 : (fprintf(stderr, "zlayerctl cp: tar failed\n"), EXIT_ZL);
}

int verb_cp(int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *ctr = NULL;
        const char *path;
        int fd, r;

        if (argc != 3)
                return usage_error(argv[0], "requires exactly 2 arguments (CONTAINER:SRC DEST|- or SRC|- CONTAINER:DEST)");
        if (split_container_path(argv[1], &ctr, &path)) {
                if (!streq(argv[2], "-"))
                        return cp_from_container(ctr, path, argv[2]);
                if (isatty(STDOUT_FILENO))
                        return usage_error(argv[0], "refusing to write a tar stream to a terminal");
                r = ctl_call(CALL_FOREVER, "ArchiveGet", &error, &reply, "ss", ctr, path);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "h", &fd);
                if (r < 0)
                        return ctl_fail(&error, r, "cp");
                r = copy_fd(fd, STDOUT_FILENO);
                return r < 0 ? ctl_fail(NULL, r, "cp") : 0;
        }
        if (split_container_path(argv[2], &ctr, &path)) {
                if (!streq(argv[1], "-"))
                        return cp_to_container(argv[1], ctr, path);
                r = ctl_call(CALL_FOREVER, "ArchivePut", &error, NULL, "ssha{sv}", ctr, path, STDIN_FILENO, 0);
                return r < 0 ? ctl_fail(&error, r, "cp") : 0;
        }
        return usage_error(argv[0], "one of the arguments must be CONTAINER:PATH");
}

int verb_export(int argc, char **argv) {
        static const struct option options[] = { { "output", required_argument, NULL, 'o' }, HELP_OPTION, {} };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_close_ int out = -1;
        _cleanup_free_ char *tmp = NULL;
        const char *output = NULL;
        int fd, c, r;

        while ((c = getopt_long(argc, argv, "o:h", options, NULL)) >= 0)
                switch (c) {
                case 'o': output = optarg; break;
                case 'h': printf("Usage: zlayerctl export [-o FILE] CONTAINER\n"); return 0;
                default: return usage_error(argv[0], "bad option");
                }
        if (optind + 1 != argc)
                return usage_error(argv[0], "requires exactly 1 argument (CONTAINER)");
        if (!output && isatty(STDOUT_FILENO))
                return usage_error(argv[0], "refusing to write a tar archive to a terminal; use -o FILE or a redirect");
        r = ctl_call(CALL_FOREVER, "ExportContainer", &error, &reply, "s", argv[optind]);
        if (r >= 0)
                r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0)
                return ctl_fail(&error, r, "export");
        out = output ? output_file_open(output, &tmp) : dup(STDOUT_FILENO);
        if (out < 0)
                return fprintf(stderr, "zlayerctl export: cannot create %s: %s\n", strempty(output),
                               strerror(output ? -out : errno)), EXIT_ZL;
        r = copy_fd(fd, out);
        if (tmp) {
                int k = output_file_finish(TAKE_FD(out), tmp, output, r >= 0);
                if (r >= 0)
                        r = k;
        }
        return r < 0 ? ctl_fail(NULL, r, "export") : 0;
}

int verb_commit(int argc, char **argv) {
        static const struct option options[] = {
                { "message", required_argument, NULL, 'm' }, { "author", required_argument, NULL, 'a' },
                { "pause", required_argument, NULL, 'p' }, { "change", required_argument, NULL, 'c' }, HELP_OPTION, {}
        };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *comment = NULL, *author = NULL, *change = NULL, *id;
        _cleanup_free_ char *repo = NULL;
        const char *tag = NULL;
        int pause = 1, c, r;
        sd_bus *bus;

        while ((c = getopt_long(argc, argv, "m:a:p:c:h", options, NULL)) >= 0)
                switch (c) {
                case 'm': comment = optarg; break;
                case 'a': author = optarg; break;
                case 'p': pause = !streq(optarg, "false"); break;
                case 'c': change = optarg; break;
                case 'h': printf("Usage: zlayerctl commit [-m MSG] [-a AUTHOR] [-c CHANGE] CONTAINER [REPOSITORY[:TAG]]\n"); return 0;
                default: return usage_error(argv[0], "bad option");
                }
        if (argc - optind < 1 || argc - optind > 2)
                return usage_error(argv[0], "requires CONTAINER [REPOSITORY[:TAG]]");
        if (optind + 1 < argc) {
                const char *ref = argv[optind + 1], *colon = strrchr(ref, ':');
                if (colon && !strchr(colon, '/')) {
                        repo = strndup(ref, colon - ref);
                        tag = colon + 1;
                } else
                        repo = strdup(ref);
                if (!repo)
                        return EXIT_ZL;
        }
        r = ctl_bus(&bus);
        if (r < 0)
                return EXIT_ZL;
        r = sd_bus_message_new_method_call(bus, &m, ZL_BUS_NAME, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, "CommitContainer");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[optind]);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", "pause", "b", pause);
        if (r >= 0 && repo)
                r = sd_bus_message_append(m, "{sv}", "repository", "s", repo);
        if (r >= 0 && tag)
                r = sd_bus_message_append(m, "{sv}", "tag", "s", tag);
        if (r >= 0 && comment)
                r = sd_bus_message_append(m, "{sv}", "comment", "s", comment);
        if (r >= 0 && author)
                r = sd_bus_message_append(m, "{sv}", "author", "s", author);
        if (r >= 0 && change)
                r = sd_bus_message_append(m, "{sv}", "changes", "s", change);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_call(bus, m, CALL_FOREVER, &error, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "s", &id);
        if (r < 0)
                return ctl_fail(&error, r, "commit");
        printf("%s\n", id);
        return 0;
}

int verb_update(int argc, char **argv) {
        static const struct option options[] = {
                { "memory", required_argument, NULL, 'm' }, { "cpus", required_argument, NULL, 'C' },
                { "pids-limit", required_argument, NULL, 'P' }, { "restart", required_argument, NULL, 'R' },
                HELP_OPTION, {}
        };
        int64_t memory = -1, pids = -1;
        double cpus = -1;
        const char *restart = NULL;
        char *end;
        int c, ret = 0;

        while ((c = getopt_long(argc, argv, "m:h", options, NULL)) >= 0) {
                errno = 0;
                switch (c) {
                case 'm':
                        memory = strtoll(optarg, &end, 10);
                        if (errno || *end || memory < 0)
                                return usage_error(argv[0], "--memory takes bytes, not '%s'", optarg);
                        break;
                case 'C':
                        cpus = strtod(optarg, &end);
                        if (errno || *end || !(cpus > 0) || !isfinite(cpus))
                                return usage_error(argv[0], "invalid --cpus '%s'", optarg);
                        break;
                case 'P':
                        pids = strtoll(optarg, &end, 10);
                        if (errno || *end || pids < 0)
                                return usage_error(argv[0], "invalid --pids-limit '%s'", optarg);
                        break;
                case 'R': restart = optarg; break;
                case 'h': printf("Usage: zlayerctl update [--memory BYTES] [--cpus N] [--pids-limit N] [--restart POLICY] CONTAINER...\n"); return 0;
                default: return usage_error(argv[0], "bad option");
                }
        }
        if (optind >= argc)
                return usage_error(argv[0], "requires at least 1 argument (CONTAINER)");
        for (int i = optind; i < argc; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
                _cleanup_strv_free_ char **warnings = NULL;
                sd_bus *bus;
                int r = ctl_bus(&bus);
                if (r < 0)
                        return EXIT_ZL;
                r = sd_bus_message_new_method_call(bus, &m, ZL_BUS_NAME, ZL_MANAGER_PATH, ZL_MANAGER_IFACE,
                                                   "UpdateContainerResources");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", argv[i]);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "{sv}");
                if (r >= 0 && memory >= 0)
                        r = sd_bus_message_append(m, "{sv}", "memory", "x", memory);
                if (r >= 0 && cpus > 0)
                        r = sd_bus_message_append(m, "{sv}{sv}", "cpu_period", "x", (int64_t) 100000, "cpu_quota", "x",
                                                  (int64_t) llround(cpus * 100000));
                if (r >= 0 && pids >= 0)
                        r = sd_bus_message_append(m, "{sv}", "pids_limit", "x", pids);
                if (r >= 0 && restart)
                        r = sd_bus_message_append(m, "{sv}", "restart_policy", "s", restart);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_call(bus, m, CALL_DEFAULT, &error, &reply);
                if (r >= 0)
                        r = sd_bus_message_read_strv(reply, &warnings);
                if (r < 0) {
                        ret = ctl_fail(&error, r, "update");
                        continue;
                }
                for (char **w = warnings; w && *w; w++)
                        fprintf(stderr, "WARNING: %s\n", *w);
                printf("%s\n", argv[i]);
        }
        return ret;
}
