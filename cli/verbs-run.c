/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* create and run: flags → ServiceSpec → PullImage (if missing) →
 * CreateContainer → StartContainer; run without -d then prints the
 * container's output while it runs and exits with its exit code. */
#include <signal.h>
#include <systemd/sd-event.h>

#include "attach.h"
#include "errors.h"
#include "run-spec.h"
#include "stream.h"
#include "zlayerctl.h"

#define CREATE_ATTEMPTS 8
#define LOG_POLL_USEC (100 * USEC_PER_MSEC)
#define DRAIN_USEC (3 * USEC_PER_SEC)

static void run_help(const char *verb) {
        printf("Usage: zlayerctl %s [OPTIONS] IMAGE [COMMAND [ARG...]]\n\n"
               "Options:\n"
               "%s"
               "  -e, --env NAME[=VALUE]      Set an environment variable (NAME alone: from ours)\n"
               "  -v, --volume /HOST:/CTR[:ro] Bind mount a host directory\n"
               "      --tmpfs /CTR[:size=N,mode=M] Mount a tmpfs\n"
               "  -p, --publish [IP:][HOST:]CTR[/tcp|udp] Publish a container port\n"
               "  -m, --memory BYTES          Memory limit (b, k, m, g units)\n"
               "      --cpus N                Number of CPUs (0.5 = half a CPU)\n"
               "      --pids-limit N          Process limit\n"
               "  -u, --user UID[:GID]        User in the container\n"
               "  -w, --workdir DIR           Working directory\n"
               "      --entrypoint CMD        Override the image's entrypoint\n"
               "      --hostname NAME         Container host name\n"
               "      --network MODE          none, host, bridge, default or a network name\n"
               "      --restart POLICY        no, always, unless-stopped, on-failure[:N]\n"
               "      --read-only             Read-only root file system\n"
               "      --cap-add CAP, --cap-drop CAP, --privileged\n"
               "  -l, --label KEY=VALUE       Set a label\n"
               "      --stop-signal SIG, --stop-timeout SECONDS\n"
               "      --service NAME          Service of the container id (alias --name; default:\n"
               "                              a generated adjective-noun)\n"
               "      --replica N             Replica of the container id (default 0)\n"
               "      --pull missing|always|never  When to pull the image (default missing)\n",
               verb,
               streq(verb, "run") ? "  -d, --detach                Run in the background, print the container id\n"
                                    "      --rm                    Remove the container when it exits\n"
                                    "  -i, --interactive           Keep stdin open and attach ours\n"
                                    "  -t, --tty                   Allocate a terminal (-it: ctrl-p ctrl-q detaches)\n" : "");
}

static int ensure_image(const RunOptions *o) {
        if (streq(o->pull, "never"))
                return 0;
        if (streq(o->pull, "always"))
                return pull_image(o->image, "always", false, true);
        if (image_is_present(o->image))
                return 0;
        fprintf(stderr, "Unable to find image '%s' locally\n", o->image);
        return pull_image(o->image, "if_not_present", false, true);
}

/* CreateContainer; with a generated service name, a new name on AlreadyExists. */
static int create_container(const RunOptions *o, char **ret_id) {
        const char *spec = json_object_to_json_string_ext(o->spec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

        for (int attempt = 0;; attempt++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                _cleanup_free_ char *generated = NULL;
                const char *service = o->service, *id;
                int r;

                if (!service) {
                        r = generate_service_name(&generated);
                        if (r < 0)
                                return ctl_fail(NULL, r, "create");
                        service = generated;
                }
                r = ctl_call(CALL_FOREVER, "CreateContainer", &error, &reply, "sus", service, o->replica, spec);
                if (r < 0 && !o->service && attempt + 1 < CREATE_ATTEMPTS &&
                    sd_bus_error_has_name(&error, ZL_ERROR_ALREADY_EXISTS))
                        continue;
                if (r < 0)
                        return ctl_fail(&error, r, "create");
                r = sd_bus_message_read(reply, "so", &id, NULL);
                if (r < 0)
                        return ctl_fail(NULL, r, "create");
                *ret_id = strdup(id);
                return *ret_id ? 0 : ctl_fail(NULL, -ENOMEM, "create");
        }
}

int verb_create(int argc, char **argv) {
        _cleanup_(run_options_done) RunOptions o = {};
        _cleanup_free_ char *id = NULL;
        int r;

        r = run_options_parse("create", argc, argv, &o);
        if (r < 0)
                return EXIT_ZL;
        if (o.help)
                return run_help("create"), 0;
        if (o.detach || o.rm)
                return usage_error("create", "-d and --rm are flags of run");
        r = ensure_image(&o);
        if (r != 0)
                return r;
        r = create_container(&o, &id);
        if (r != 0)
                return r;
        printf("%s\n", id);
        return 0;
}

typedef struct Follow {
        const char *id;
        sd_event *event;
        bool done;
        int32_t exit_code;
        sd_bus_error error;
        int r;
        size_t printed;            /* log entries already printed (polling) */
        int log_fd;                /* OpenContainerLogs stream, -1 = polling GetContainerLogs */
        sd_event_source *io, *drain;
} Follow;

static int poll_logs(Follow *f) {
        return print_logs(f->id, 0, 0, 0, false, f->printed, &f->printed, NULL);
}

static int on_poll_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Follow *f = userdata;

        (void) poll_logs(f);
        sd_event_source_set_time(s, usec + LOG_POLL_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

static int on_drain_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Follow *f = userdata;
        return sd_event_exit(f->event, 0);
}

static int on_log_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Follow *f = userdata;
        int r = demux_frame(fd, STDOUT_FILENO, STDERR_FILENO);

        if (r > 0)
                return 0;
        /* EOF or a broken stream: the output is complete (or lost) */
        f->io = sd_event_source_disable_unref(f->io);
        if (f->done)
                return sd_event_exit(f->event, 0);
        return 0;
}

static int on_wait_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Follow *f = userdata;

        f->done = true;
        if (sd_bus_message_is_method_error(m, NULL)) {
                sd_bus_error_copy(&f->error, sd_bus_message_get_error(m));
                f->r = -EIO;
                return sd_event_exit(f->event, 0);
        }
        f->r = sd_bus_message_read(m, "i", &f->exit_code);
        if (f->log_fd < 0 || !f->io) {
                if (f->log_fd < 0)
                        (void) poll_logs(f);
                return sd_event_exit(f->event, 0);
        }
        /* the stream ends once the log is complete; do not wait forever for it */
        return sd_event_add_time_relative(f->event, &f->drain, CLOCK_MONOTONIC, DRAIN_USEC, 0, on_drain_timeout, f);
}

/* docker's sig-proxy: our SIGINT/SIGTERM go to the container. */
static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Follow *f = userdata;
        sd_bus *bus;

        if (ctl_bus(&bus) < 0)
                return 0;
        return sd_bus_call_method_async(bus, NULL, ZL_BUS_NAME, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, "KillContainer",
                                        NULL, NULL, "ss", f->id, si->ssi_signo == SIGINT ? "INT" : "TERM");
}

int follow_container(const char *id, uint64_t since_usec) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error lerr = SD_BUS_ERROR_NULL;
        _cleanup_(sd_event_source_unrefp) sd_event_source *timer = NULL;
        Follow f = { .id = id, .error = SD_BUS_ERROR_NULL, .log_fd = -1 };
        sigset_t mask;
        sd_bus *bus;
        int r, ret;

        r = ctl_bus(&bus);
        if (r < 0)
                return EXIT_ZL;
        r = sd_event_new(&event);
        if (r < 0)
                return ctl_fail(NULL, r, "run");
        f.event = event;

        r = open_log_fd(id, true, 0, since_usec, 0, false, &f.log_fd, &lerr);
        if (r < 0 && !sd_bus_error_has_name(&lerr, ZL_ERROR_UNSUPPORTED))
                return ctl_fail(&lerr, r, "logs");
        if (f.log_fd >= 0)
                r = sd_event_add_io(event, &f.io, f.log_fd, EPOLLIN, on_log_io, &f);
        else
                r = sd_event_add_time_relative(event, &timer, CLOCK_MONOTONIC, LOG_POLL_USEC, 0, on_poll_timer, &f);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, 0);
        if (r >= 0)
                r = sd_bus_message_new_method_call(bus, &m, ZL_BUS_NAME, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, "WaitContainer");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", id, "");
        if (r >= 0)
                r = sd_bus_call_async(bus, &slot, m, on_wait_reply, &f, CALL_FOREVER);
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        if (r >= 0)
                r = sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ? -errno : 0;
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, on_signal, &f);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, on_signal, &f);
        if (r >= 0)
                r = sd_event_loop(event);
        sigprocmask(SIG_UNBLOCK, &mask, NULL);
        sd_bus_detach_event(bus);
        f.io = sd_event_source_disable_unref(f.io);
        f.drain = sd_event_source_disable_unref(f.drain);
        if (f.log_fd >= 0)
                close(f.log_fd);
        fflush(stdout);
        if (r < 0)
                ret = ctl_fail(NULL, r, "run");
        else if (f.r < 0)
                ret = ctl_fail(&f.error, f.r, "wait");
        else
                ret = f.exit_code < 0 || f.exit_code > 255 ? EXIT_ZL : f.exit_code;
        sd_bus_error_free(&f.error);
        return ret;
}

static void remove_container(const char *id) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = ctl_call(CALL_FOREVER, "RemoveContainer", &error, NULL, "sb", id, 1);
        if (r < 0)
                (void) ctl_fail(&error, r, "rm");
}

int verb_run(int argc, char **argv) {
        _cleanup_(run_options_done) RunOptions o = {};
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *id = NULL;
        int r, ret;

        r = run_options_parse("run", argc, argv, &o);
        if (r < 0)
                return EXIT_ZL;
        if (o.help)
                return run_help("run"), 0;
        if (o.tty && o.interactive && !o.detach && !isatty(STDIN_FILENO)) {
                fprintf(stderr, "zlayerctl run: the input device is not a TTY\n");
                return EXIT_ZL;
        }
        if (o.rm && o.detach)
                return usage_error("run", "--rm with -d needs the daemon to remove the container when it exits, "
                                          "which it does not do yet");
        r = ensure_image(&o);
        if (r != 0)
                return r;
        r = create_container(&o, &id);
        if (r != 0)
                return r;
        r = ctl_call(CALL_FOREVER, "StartContainer", &error, NULL, "s", id);
        if (r < 0) {
                ret = ctl_fail(&error, r, "start");
                if (o.rm)
                        remove_container(id);
                return ret;
        }
        if (o.detach) {
                printf("%s\n", id);
                return 0;
        }
        if (o.interactive || o.tty)
                /* the log replay gives what it printed before we attached */
                ret = attach_container(id, &(AttachOptions) { .interactive = o.interactive, .tty = o.tty, .logs = true,
                                                              .stdin_once = o.interactive });
        else
                ret = follow_container(id, 0);
        if (o.rm)
                remove_container(id);
        return ret;
}
