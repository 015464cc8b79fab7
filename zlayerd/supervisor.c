/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "errors.h"
#include "link.h"
#include "log.h"
#include "supervisor.h"

/* How long children get between SIGTERM and SIGKILL at shutdown, and how
 * long we then wait for the kernel to reap the SIGKILLed ones. */
#define STOP_TIMEOUT_USEC (5ULL * USEC_PER_SEC)
#define KILL_TIMEOUT_USEC (1ULL * USEC_PER_SEC)
/* How long a worker whose broker died gets to exit before SIGKILL. */
#define ORPHAN_KILL_USEC (5ULL * USEC_PER_SEC)
/* How long a broker whose control link closed gets to exit by itself. */
#define BROKER_LINK_LOST_USEC (1ULL * USEC_PER_SEC)

static const struct {
        const char *name;
        const char *binary;
        bool optional;
} child_table[_CHILD_KIND_MAX] = {
        [CHILD_BROKER] = { "broker", "zlayer-broker", false },
        [CHILD_PULLER] = { "puller", "zlayer-puller", false },
        [CHILD_ARCHIVE] = { "archive", "zlayer-archive", false },
        [CHILD_EXEC] = { "exec", "zlayer-exec", false },
        /* the only source of GetContainerStats / OpenContainerStats samples */
        [CHILD_STATS] = { "stats", "zlayer-stats", false },
};

static int child_spawn(Child *c);
static void worker_attach(Child *c);

static int safe_close(int fd) {
        if (fd >= 0)
                close(fd);
        return -1;
}

/* sd_event_add_time_relative() needs libsystemd 247; we accept 246. */
static int add_timer(sd_event *e, sd_event_source **ret, uint64_t delay_usec,
                     sd_event_time_handler_t handler, void *userdata) {
        uint64_t now;
        int r;

        r = sd_event_now(e, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        return sd_event_add_time(e, ret, CLOCK_MONOTONIC, now + delay_usec, 0, handler, userdata);
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

static bool child_is_worker(const Child *c) {
        return c->kind != CHILD_BROKER;
}

static char *child_path(const Supervisor *s, const Child *c) {
        char *p;
        if (asprintf(&p, "%s/%s", s->libexec_dir, c->binary) < 0)
                return NULL;
        return p;
}

int supervisor_init(Supervisor *s, sd_event *event) {
        for (ChildKind k = 0; k < _CHILD_KIND_MAX; k++) {
                Child *c = &s->children[k];
                _cleanup_free_ char *path = NULL;

                *c = (Child) {
                        .supervisor = s,
                        .kind = k,
                        .name = child_table[k].name,
                        .binary = child_table[k].binary,
                        .optional = child_table[k].optional,
                        .link_fd = -1,
                };

                path = child_path(s, c);
                if (!path)
                        return log_oom();
                if (access(path, X_OK) < 0) {
                        if (!c->optional)
                                return log_error_errno(-errno, "Cannot run %s: %m", path);
                        log_debug("%s not installed, not starting the %s worker.", path, c->name);
                        continue;
                }
                c->enabled = true;
        }

        s->event = sd_event_ref(event);
        return 0;
}

/* ---- the control link to the broker ---- */

static void control_close(Supervisor *s) {
        if (!s->control)
                return;

        /* Pending AttachWorker calls hold a reference on the bus; drop them
         * first. Their queued messages own the last copy of each worker's
         * link fd, so those workers see EOF, exit and get restarted. */
        for (ChildKind k = 0; k < _CHILD_KIND_MAX; k++)
                s->children[k].attach_slot = sd_bus_slot_unref(s->children[k].attach_slot);

        s->control = sd_bus_close_unref(s->control);
}

static int on_broker_ready(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Supervisor *s = userdata;

        if (s->notified_ready) {
                log_info("Restarted broker is ready.");
                (void) sd_notify(0, "STATUS=Running");
                return 0;
        }

        s->notified_ready = true;
        log_info("ready");
        (void) sd_notify(0, "READY=1\nSTATUS=Running");
        return 0;
}

static int on_broker_link_lost_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Child *broker = userdata;

        broker->link_lost_timer = sd_event_source_unref(broker->link_lost_timer);
        if (broker->pid > 0 && !broker->supervisor->stopping) {
                /* It can no longer be given workers: restart it with a fresh link. */
                log_warning("zlayer-broker (pid %d) closed its control link but keeps running; terminating it.",
                            (int) broker->pid);
                (void) kill(broker->pid, SIGTERM);
        }
        return 0;
}

static int on_control_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Supervisor *s = userdata;
        Child *broker = &s->children[CHILD_BROKER];
        int r;

        control_close(s);
        if (s->stopping || broker->pid <= 0)
                return 0;

        /* Usually the broker is exiting (its fds close before it becomes a
         * zombie) and SIGCHLD follows; give it a moment before acting. */
        broker->link_lost_timer = sd_event_source_unref(broker->link_lost_timer);
        r = add_timer(s->event, &broker->link_lost_timer, BROKER_LINK_LOST_USEC, on_broker_link_lost_timer, broker);
        if (r < 0) {
                log_warning_errno(r, "Failed to arm a timer, terminating the broker now: %m");
                (void) kill(broker->pid, SIGTERM);
        }
        return 0;
}

static int control_open(Supervisor *s, int fd) {
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        int r;

        r = link_open_client(fd, s->event, &bus);
        if (r < 0)
                return log_error_errno(r, "Failed to open the control link to the broker: %m");

        r = sd_bus_match_signal(bus, NULL, NULL, ZL_CONTROL_PATH, ZL_CONTROL_IFACE, "Ready",
                                on_broker_ready, s);
        if (r < 0)
                return log_error_errno(r, "Failed to watch for the broker's Ready signal: %m");

        r = sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
                                "org.freedesktop.DBus.Local", "Disconnected",
                                on_control_disconnected, s);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the control link: %m");

        s->control = TAKE_PTR(bus);

        /* Workers (re)started while there was no broker waited for this link. */
        for (ChildKind k = 0; k < _CHILD_KIND_MAX; k++)
                if (child_is_worker(&s->children[k]))
                        worker_attach(&s->children[k]);
        return 0;
}

static int on_attach_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Child *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        c->attach_slot = sd_bus_slot_unref(c->attach_slot);

        if (!e) {
                log_debug("Worker %s (pid %d) attached to the broker.", c->name, (int) c->pid);
                return 0;
        }

        /* The broker refused the link: a worker without a broker is useless,
         * so let it go round the restart loop (with backoff) and try again. */
        log_error("Broker refused worker %s (pid %d): %s: %s", c->name, (int) c->pid,
                  e->name, strempty(e->message));
        if (c->pid > 0 && !c->supervisor->stopping)
                (void) kill(c->pid, SIGTERM);
        return 0;
}

/* Hands the broker's end of @c's socketpair to the broker, once both the
 * worker and the broker's control link exist. */
static void worker_attach(Child *c) {
        Supervisor *s = c->supervisor;
        int r;

        if (c->pid <= 0 || c->link_fd < 0 || !s->control || s->stopping)
                return;

        c->attach_slot = sd_bus_slot_unref(c->attach_slot);
        r = sd_bus_call_method_async(s->control, &c->attach_slot, NULL, ZL_CONTROL_PATH, ZL_CONTROL_IFACE,
                                     "AttachWorker", on_attach_reply, c, "sh", c->name, c->link_fd);
        if (r < 0) {
                log_error_errno(r, "Failed to send AttachWorker(%s): %m", c->name);
                return;
        }

        /* The message holds its own copy now. Ours must go, or the worker
         * would not see EOF when the broker dies. */
        c->link_fd = safe_close(c->link_fd);
        log_debug("AttachWorker(%s) sent.", c->name);
}

/* ---- spawning, reaping, restarting ---- */

static int on_restart_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Child *c = userdata;

        c->restart_timer = sd_event_source_unref(c->restart_timer);
        if (!c->supervisor->stopping)
                (void) child_spawn(c);
        return 0;
}

static void child_schedule_restart(Child *c, uint64_t uptime_usec) {
        uint64_t delay = backoff_next(&c->backoff, uptime_usec);
        int r;

        if (backoff_at_max(&c->backoff))
                log_warning("%s keeps failing; retrying every %llu s.", c->binary,
                            (unsigned long long) (delay / USEC_PER_SEC));
        else
                log_info("Restarting %s in %llu ms.", c->binary, (unsigned long long) (delay / USEC_PER_MSEC));

        c->restart_timer = sd_event_source_unref(c->restart_timer);
        r = add_timer(c->supervisor->event, &c->restart_timer, delay, on_restart_timer, c);
        if (r < 0)
                /* Without a timer there is no way back for this child; say so loudly. */
                log_error_errno(r, "Failed to arm the restart timer of %s, it stays down: %m", c->binary);
}

static void supervisor_maybe_exit(Supervisor *s) {
        if (!s->stopping)
                return;
        for (ChildKind k = 0; k < _CHILD_KIND_MAX; k++)
                if (s->children[k].pid > 0)
                        return;
        log_info("All children stopped, exiting.");
        (void) sd_event_exit(s->event, 0);
}

static int on_link_lost_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Child *c = userdata;

        c->link_lost_timer = sd_event_source_unref(c->link_lost_timer);
        if (c->pid > 0) {
                log_warning("%s (pid %d) ignored SIGTERM after its broker died, sending SIGKILL.", c->binary,
                            (int) c->pid);
                (void) kill(c->pid, SIGKILL);
        }
        return 0;
}

/* The broker is gone, and with it the other end of every link it was given.
 * Workers are meant to exit on EOF of their link; make sure they do, or the
 * new broker would never get them back. A worker whose link fd we still
 * hold was never handed to the dead broker: it goes to the new one. */
static void workers_stop_orphaned(Supervisor *s) {
        for (ChildKind k = 0; k < _CHILD_KIND_MAX; k++) {
                Child *c = &s->children[k];
                int r;

                if (!child_is_worker(c) || c->pid <= 0 || c->link_fd >= 0)
                        continue;
                if (c->link_lost_timer) /* already on its way out from an earlier broker */
                        continue;

                log_info("Stopping %s (pid %d): its link went away with the broker.", c->binary, (int) c->pid);
                (void) kill(c->pid, SIGTERM);

                c->link_lost_timer = sd_event_source_unref(c->link_lost_timer);
                r = add_timer(s->event, &c->link_lost_timer, ORPHAN_KILL_USEC, on_link_lost_timer, c);
                if (r < 0)
                        log_warning_errno(r, "Failed to arm the kill timer of %s: %m", c->binary);
        }
}

static int on_child_exit(sd_event_source *source, const siginfo_t *si, void *userdata) {
        Child *c = userdata;
        Supervisor *s = c->supervisor;
        uint64_t uptime = now_usec() - c->started_usec;

        if (si->si_code == CLD_EXITED)
                log_full_errno(si->si_status == 0 ? LOG_INFO : LOG_WARNING, 0,
                               "%s (pid %d) exited with status %d after %llu ms.", c->binary, (int) si->si_pid,
                               si->si_status, (unsigned long long) (uptime / USEC_PER_MSEC));
        else
                log_warning("%s (pid %d) killed by signal %s%s after %llu ms.", c->binary, (int) si->si_pid,
                            strsignal(si->si_status), si->si_code == CLD_DUMPED ? " (core dumped)" : "",
                            (unsigned long long) (uptime / USEC_PER_MSEC));

        c->child_source = sd_event_source_unref(c->child_source);
        c->link_lost_timer = sd_event_source_unref(c->link_lost_timer);
        c->pid = 0;
        c->attach_slot = sd_bus_slot_unref(c->attach_slot);
        c->link_fd = safe_close(c->link_fd);

        if (c->kind == CHILD_BROKER) {
                control_close(s);
                if (!s->stopping)
                        workers_stop_orphaned(s);
        }

        if (s->stopping) {
                supervisor_maybe_exit(s);
                return 0;
        }

        child_schedule_restart(c, uptime);
        return 0;
}

static char **child_argv(const Supervisor *s, const Child *c, const char *path) {
        _cleanup_strv_free_ char **argv = calloc(12 + s->n_search_registries, sizeof(char *));
        size_t n = 0;

        if (!argv)
                return NULL;
        if (!(argv[n++] = strdup(path)))
                return NULL;
        if (asprintf(&argv[n++], "--root=%s", s->root) < 0 ||
            asprintf(&argv[n++], "--run-dir=%s", s->run_dir) < 0 ||
            asprintf(&argv[n++], "--user=%s", s->user) < 0) {
                argv[n - 1] = NULL;
                return NULL;
        }
        /* Only the broker touches the public bus. */
        if (c->kind == CHILD_BROKER && s->bus_address &&
            asprintf(&argv[n++], "--bus=%s", s->bus_address) < 0) {
                argv[n - 1] = NULL;
                return NULL;
        }
        /* Only the puller reads registry credentials. */
        if (c->kind == CHILD_PULLER && s->auth_file &&
            asprintf(&argv[n++], "--auth-file=%s", s->auth_file) < 0) {
                argv[n - 1] = NULL;
                return NULL;
        }
        /* Only the broker allocates addresses; the shims get the bridge in
         * the launch config. */
        if (c->kind == CHILD_BROKER && s->bridge_name &&
            asprintf(&argv[n++], "--bridge-name=%s", s->bridge_name) < 0) {
                argv[n - 1] = NULL;
                return NULL;
        }
        if (c->kind == CHILD_BROKER && s->bridge_subnet &&
            asprintf(&argv[n++], "--bridge-subnet=%s", s->bridge_subnet) < 0) {
                argv[n - 1] = NULL;
                return NULL;
        }
        if (c->kind == CHILD_BROKER && s->network_pool &&
            asprintf(&argv[n++], "--network-pool=%s", s->network_pool) < 0) {
                argv[n - 1] = NULL;
                return NULL;
        }
        if (c->kind == CHILD_BROKER && s->max_concurrent_ops &&
            asprintf(&argv[n++], "--max-concurrent-ops=%s", s->max_concurrent_ops) < 0) {
                argv[n - 1] = NULL;
                return NULL;
        }
        for (unsigned i = 0; c->kind == CHILD_BROKER && i < s->n_search_registries; i++)
                if (asprintf(&argv[n++], "--search-registry=%s", s->search_registries[i]) < 0) {
                        argv[n - 1] = NULL;
                        return NULL;
                }
        if (s->debug && !(argv[n++] = strdup("--debug")))
                return NULL;
        return TAKE_PTR(argv);
}

/* Runs in the forked child: only async-signal-safe work until execv()
 * (we are single-threaded, so unsetenv() is fine too). */
static _noreturn_ void child_exec(const char *path, char **argv, int link_fd, pid_t parent) {
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t mask;

        /* zlayerd blocks signals for sd-event and ignores SIGPIPE; both would
         * be inherited across exec and surprise the child. */
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) sigaction(sig, &sa, NULL);
        sigemptyset(&mask);
        (void) sigprocmask(SIG_SETMASK, &mask, NULL);

        if (link_fd == LINK_FD) {
                if (fcntl(LINK_FD, F_SETFD, 0) < 0)
                        _exit(126);
        } else if (dup2(link_fd, LINK_FD) < 0) /* the duplicate has no CLOEXEC */
                _exit(126);
        /* Whatever else we inherited without CLOEXEC (from our own parent)
         * is none of the child's business: it gets stdio and its link. */
        (void) close_range(LINK_FD + 1, ~0U, 0);

        /* If zlayerd dies without stopping us (SIGKILL, crash), do not linger
         * as an unsupervised copy. Children that change credentials lose
         * this setting; they notice EOF on fd 3 instead. */
        (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
                _exit(0);

        /* READY=1 is zlayerd's to send (NotifyAccess=main anyway). */
        (void) unsetenv("NOTIFY_SOCKET");

        execv(path, argv);
        fprintf(stderr, "zlayerd: failed to execute %s: %s\n", path, strerror(errno));
        _exit(127);
}

static int child_spawn(Child *c) {
        Supervisor *s = c->supervisor;
        _cleanup_free_ char *path = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_close_ int parent_fd = -1, child_fd = -1;
        int pair[2], r;
        pid_t parent = getpid(), pid;

        path = child_path(s, c);
        if (!path)
                goto oom;
        argv = child_argv(s, c, path);
        if (!argv)
                goto oom;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
                r = log_error_errno(-errno, "Failed to create the link for %s: %m", c->binary);
                goto retry;
        }
        parent_fd = pair[0];
        child_fd = pair[1];

        pid = fork();
        if (pid < 0) {
                r = log_error_errno(-errno, "Failed to fork %s: %m", c->binary);
                goto retry;
        }
        if (pid == 0)
                child_exec(path, argv, child_fd, parent);

        c->pid = pid;
        c->started_usec = now_usec();
        log_info("Started %s (pid %d).", c->binary, (int) pid);

        /* SIGCHLD is blocked (main.c), as sd-event requires. */
        r = sd_event_add_child(s->event, &c->child_source, pid, WEXITED, on_child_exit, c);
        if (r < 0) {
                /* We could never learn when it dies: do not leave it unsupervised. */
                log_error_errno(r, "Failed to watch %s (pid %d), killing it: %m", c->binary, (int) pid);
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                c->pid = 0;
                goto retry;
        }

        if (c->kind == CHILD_BROKER) {
                r = control_open(s, TAKE_FD(parent_fd));
                if (r < 0) {
                        /* The broker exits on EOF of its control link and is restarted. */
                        (void) kill(pid, SIGTERM);
                        return r;
                }
        } else {
                c->link_fd = TAKE_FD(parent_fd);
                worker_attach(c);
        }
        return 0;

oom:
        r = log_oom();
retry:
        child_schedule_restart(c, 0);
        return r;
}

int supervisor_start(Supervisor *s) {
        int r;

        /* The broker first, so the workers can be attached right away. */
        for (ChildKind k = 0; k < _CHILD_KIND_MAX; k++) {
                Child *c = &s->children[k];
                if (!c->enabled)
                        continue;
                r = child_spawn(c);
                if (r < 0 && k == CHILD_BROKER)
                        /* Not fatal: a restart is scheduled. Keep going. */
                        log_warning("The broker did not start; it will be retried.");
        }
        (void) sd_notify(0, "STATUS=Waiting for the broker");
        return 0;
}

/* ---- shutdown ---- */

static int on_kill_grace_over(sd_event_source *source, uint64_t usec, void *userdata) {
        Supervisor *s = userdata;

        /* A child stuck in uninterruptible sleep even after SIGKILL: do not hang. */
        log_warning("Children did not go away after SIGKILL; exiting anyway.");
        (void) sd_event_exit(s->event, 0);
        return 0;
}

static int on_stop_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        Supervisor *s = userdata;
        int r;

        s->kill_timer = sd_event_source_unref(s->kill_timer);

        for (ChildKind k = 0; k < _CHILD_KIND_MAX; k++) {
                Child *c = &s->children[k];
                if (c->pid <= 0)
                        continue;
                log_warning("%s (pid %d) did not stop in time, sending SIGKILL.", c->binary, (int) c->pid);
                (void) kill(c->pid, SIGKILL);
        }

        r = add_timer(s->event, &s->kill_timer, KILL_TIMEOUT_USEC, on_kill_grace_over, s);
        if (r < 0) {
                log_error_errno(r, "Failed to arm the kill timer, exiting now: %m");
                (void) sd_event_exit(s->event, 0);
        }
        return 0;
}

void supervisor_stop(Supervisor *s) {
        int r;

        if (s->stopping)
                return;
        s->stopping = true;
        log_info("Stopping.");
        (void) sd_notify(0, "STOPPING=1\nSTATUS=Stopping");

        /* No link to hand out any more; the broker sees EOF as well as SIGTERM. */
        control_close(s);

        /* Only our own children: containers run under zlayer-shim, which is
         * nobody's child here, and must keep running. */
        for (ChildKind k = 0; k < _CHILD_KIND_MAX; k++) {
                Child *c = &s->children[k];
                c->restart_timer = sd_event_source_unref(c->restart_timer);
                c->link_lost_timer = sd_event_source_unref(c->link_lost_timer);
                c->link_fd = safe_close(c->link_fd);
                if (c->pid > 0)
                        (void) kill(c->pid, SIGTERM);
        }

        r = add_timer(s->event, &s->kill_timer, STOP_TIMEOUT_USEC, on_stop_timeout, s);
        if (r < 0) {
                log_error_errno(r, "Failed to arm the stop timer, killing children now: %m");
                for (ChildKind k = 0; k < _CHILD_KIND_MAX; k++)
                        if (s->children[k].pid > 0)
                                (void) kill(s->children[k].pid, SIGKILL);
        }

        supervisor_maybe_exit(s);
}

void supervisor_done(Supervisor *s) {
        control_close(s);
        for (ChildKind k = 0; k < _CHILD_KIND_MAX; k++) {
                Child *c = &s->children[k];
                c->child_source = sd_event_source_unref(c->child_source);
                c->restart_timer = sd_event_source_unref(c->restart_timer);
                c->link_lost_timer = sd_event_source_unref(c->link_lost_timer);
                c->link_fd = safe_close(c->link_fd);
        }
        s->kill_timer = sd_event_source_unref(s->kill_timer);
        s->event = sd_event_unref(s->event);
}
