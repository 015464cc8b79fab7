/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* com.zlayer.Worker.Archive1: each UnpackLayer and CommitLayer runs in a
 * child process and is answered when that child exits. A crash in
 * libarchive then costs one request, not the worker; the loop keeps serving
 * (a commit of a big upper dir does not hold up ArchiveHead); and the
 * unpack's chdir() never touches this process. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "archive-bus.h"
#include "errors.h"
#include "fileio.h"
#include "ids.h"
#include "layer-commit.h"
#include "layer-remove.h"
#include "layer-unpack.h"
#include "log.h"

/* Unpacks and commits at the same time; more is almost certainly a confused broker. */
#define ARCHIVE_MAX_JOBS 8

/* What a child reports through its pipe; fits in PIPE_BUF, so one write. */
typedef struct UnpackResult {
        int r;
        uint64_t size;
        char digest[72], diff_id[72]; /* CommitLayer's */
        char message[2048];
} UnpackResult;
_Static_assert(sizeof(UnpackResult) <= PIPE_BUF, "a child's result must be one atomic pipe write");

typedef struct UnpackJob UnpackJob;
struct UnpackJob {
        UnpackJob *next;
        sd_bus_message *request;
        sd_event_source *child;
        int result_fd;
        int layers_fd;          /* -1 for a commit */
        bool commit;            /* CommitLayer, not an unpack */
        char chain_id[72];      /* "" for a commit */
};

static UnpackJob *jobs;
static unsigned n_jobs;

static UnpackJob *job_free(UnpackJob *j) {
        if (!j)
                return NULL;
        for (UnpackJob **p = &jobs; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        n_jobs--;
                        break;
                }
        sd_event_source_disable_unref(j->child);
        sd_bus_message_unref(j->request);
        if (j->result_fd >= 0)
                close(j->result_fd);
        if (j->layers_fd >= 0)
                close(j->layers_fd);
        free(j);
        return NULL;
}

static bool chain_is_busy(const char *chain_id) {
        for (UnpackJob *j = jobs; j; j = j->next)
                if (streq(j->chain_id, chain_id))
                        return true;
        return false;
}

static const char *unpack_error_name(int r) {
        switch (r) {
        case -EINVAL:
                return SD_BUS_ERROR_INVALID_ARGS;
        case -EBADMSG:
        case -EFBIG:
        case -E2BIG:
                /* The layer itself is bad: the image cannot be pulled. */
                return ZL_ERROR_PULL_FAILED;
        default:
                return ZL_ERROR_INTERNAL;
        }
}

static int reply_commit_result(UnpackJob *j, const siginfo_t *si, UnpackResult *res, ssize_t n) {
        if (si->si_code != CLD_EXITED || si->si_status != 0 || n != (ssize_t) sizeof(*res)) {
                /* The blob file is the broker's: it removes it on failure. */
                log_error("Commit process died (%s %d)", si->si_code == CLD_EXITED ? "status" : "signal", si->si_status);
                return sd_bus_reply_method_errorf(j->request, ZL_ERROR_INTERNAL, "Commit process died (%s %d)",
                                                  si->si_code == CLD_EXITED ? "status" : "signal", si->si_status);
        }
        res->message[sizeof(res->message) - 1] = 0;
        res->digest[sizeof(res->digest) - 1] = res->diff_id[sizeof(res->diff_id) - 1] = 0;
        if (res->r < 0)
                return sd_bus_reply_method_errorf(j->request, ZL_ERROR_INTERNAL, "Failed to commit the layer: %s",
                                                  res->message[0] ? res->message : strerror(-res->r));
        log_info("Committed layer %s (diff %s), %llu bytes", res->digest, res->diff_id, (unsigned long long) res->size);
        return sd_bus_reply_method_return(j->request, "sst", res->digest, res->diff_id, res->size);
}

static int reply_result(UnpackJob *j, const siginfo_t *si) {
        UnpackResult res = {};
        ssize_t n = read(j->result_fd, &res, sizeof(res));

        if (j->commit)
                return reply_commit_result(j, si, &res, n);

        if (si->si_code != CLD_EXITED || si->si_status != 0 || n != (ssize_t) sizeof(res)) {
                /* The child died mid-way: its temp dir is a leftover now. */
                if (!chain_is_busy(j->chain_id))
                        (void) layer_unpack_clean_leftovers(j->layers_fd, j->chain_id);
                log_error("Unpack process of layer %s died (%s %d)", j->chain_id,
                          si->si_code == CLD_EXITED ? "status" : "signal", si->si_status);
                return sd_bus_reply_method_errorf(j->request, ZL_ERROR_INTERNAL,
                                                  "Unpack process of layer %s died (%s %d)", j->chain_id,
                                                  si->si_code == CLD_EXITED ? "status" : "signal",
                                                  si->si_status);
        }

        res.message[sizeof(res.message) - 1] = 0;
        if (res.r < 0) {
                log_error_errno(res.r, "Unpacking layer %s failed: %s", j->chain_id, res.message);
                return sd_bus_reply_method_errorf(j->request, unpack_error_name(res.r), "%s",
                                                  res.message[0] ? res.message : strerror(-res.r));
        }

        log_info("Unpacked layer %s, %llu bytes", j->chain_id, (unsigned long long) res.size);
        return sd_bus_reply_method_return(j->request, "t", res.size);
}

static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        UnpackJob *j = userdata;
        int r;

        /* Unlink the job first: a clean-up of leftovers must not see it busy. */
        for (UnpackJob **p = &jobs; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        n_jobs--;
                        break;
                }
        j->next = NULL;

        r = reply_result(j, si);
        if (r < 0)
                log_warning_errno(r, "Failed to reply for layer %s: %m", j->chain_id);

        /* Not in the list any more, job_free() only releases. */
        job_free(j);
        return 0;
}

pid_t archive_fork_child(sd_bus *bus) {
        pid_t parent = getpid(), pid;
        sigset_t empty;

        pid = fork();
        if (pid != 0)
                return pid < 0 ? -errno : pid;
        /* Do not outlive the worker: an orphaned job is only a leftover. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(EXIT_FAILURE);
        sigemptyset(&empty);
        (void) sigprocmask(SIG_SETMASK, &empty, NULL);
        (void) signal(SIGPIPE, SIG_IGN);
        close(sd_bus_get_fd(bus));
        return 0;
}

/* Forks the process of @j, answered by on_child_exit() from what it writes
 * to its pipe. Returns 0 in the child with *@ret_result_fd the pipe's write
 * end, 1 in the parent (the job is listed), < 0 on failure (@j freed). */
static int job_fork(sd_bus_message *m, UnpackJob *j, int *ret_result_fd) {
        sd_bus *bus = sd_bus_message_get_bus(m);
        int pipefd[2], r;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                r = -errno;
                job_free(j);
                return r;
        }
        pid = archive_fork_child(bus);
        if (pid < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                job_free(j);
                return pid;
        }
        if (pid == 0) {
                close(pipefd[0]);
                *ret_result_fd = pipefd[1];
                return 0;
        }

        close(pipefd[1]);
        j->result_fd = pipefd[0];
        j->request = sd_bus_message_ref(m);
        r = sd_event_add_child(sd_bus_get_event(bus), &j->child, pid, WEXITED, on_child_exit, j);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                job_free(j);
                return r;
        }
        j->next = jobs;
        jobs = j;
        n_jobs++;
        return 1;
}

static _noreturn_ void child_finish(int result_fd, UnpackResult *res, const char *message) {
        if (message)
                snprintf(res->message, sizeof(res->message), "%s", message);
        if (loop_write(result_fd, res, sizeof(*res)) < 0)
                _exit(EXIT_FAILURE);
        _exit(EXIT_SUCCESS);
}

static int method_unpack_layer(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *chain_id, *diff_id, *blob_digest = NULL;
        int blob_fd, layers_fd, result_fd, r;
        UnpackJob *j;

        r = sd_bus_message_read(m, "hhss", &blob_fd, &layers_fd, &chain_id, &diff_id);
        if (r < 0)
                return r;
        /* UnpackLayerStream: a pipe the puller writes while it downloads. */
        if (streq(sd_bus_message_get_member(m), "UnpackLayerStream")) {
                r = sd_bus_message_read(m, "s", &blob_digest);
                if (r < 0)
                        return r;
                if (!digest_is_valid(blob_digest))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid blob digest: %.100s",
                                                 blob_digest);
        }

        /* The broker validated these already; we trust only ourselves. */
        if (!digest_is_valid(chain_id))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid chain id: %.100s", chain_id);
        if (!digest_is_valid(diff_id))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid diff id: %.100s", diff_id);
        if (n_jobs >= ARCHIVE_MAX_JOBS)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "Already unpacking %u layers", n_jobs);

        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->result_fd = -1;
        strcpy(j->chain_id, chain_id);
        /* Kept for cleaning up after a crashed child. */
        j->layers_fd = fcntl(layers_fd, F_DUPFD_CLOEXEC, 3);
        if (j->layers_fd < 0) {
                r = -errno;
                free(j);
                return r;
        }

        /* Only this worker writes temp dirs into the layers dir, and its
         * unpack children die with it (PR_SET_PDEATHSIG). So when no unpack
         * runs, every .tmp-* is a leftover of a crash; otherwise at least
         * those of this chain are, unless the same chain is being unpacked. */
        if (n_jobs == 0)
                (void) layer_unpack_clean_leftovers(layers_fd, NULL);
        else if (!chain_is_busy(chain_id))
                (void) layer_unpack_clean_leftovers(layers_fd, chain_id);

        log_info("Unpacking layer %s (diff %s)", chain_id, diff_id);

        r = job_fork(m, j, &result_fd);
        if (r == 0) {
                _cleanup_free_ char *message = NULL;
                UnpackResult res = {};

                res.r = layer_unpack_verified(blob_fd, layers_fd, chain_id, diff_id, blob_digest, &res.size, &message);
                child_finish(result_fd, &res, message);
        }
        return r; /* 1: replied to in on_child_exit() */
}

/* Synchronous: a rename and an unlink walk of one layer (see layer-remove.c). */
static int method_remove_layer(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *chain_id;
        uint64_t size = 0;
        int layers_fd, r;

        r = sd_bus_message_read(m, "hs", &layers_fd, &chain_id);
        if (r < 0)
                return r;
        if (!digest_is_valid(chain_id))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid chain id: %.100s", chain_id);
        if (chain_is_busy(chain_id))
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "Layer %s is being unpacked", chain_id);
        r = layer_remove(layers_fd, chain_id, &size);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to remove layer %s: %m", chain_id);
        log_info("Removed layer %s, %llu bytes", chain_id, (unsigned long long) size);
        return sd_bus_reply_method_return(m, "t", size);
}

/* In a child like an unpack: reading a big upper dir and gzipping it takes
 * a while, and the loop serves ArchiveHead and the others meanwhile. */
static int method_commit_layer(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        int upper_fd, out_fd, result_fd, r;
        UnpackJob *j;

        r = sd_bus_message_read(m, "hh", &upper_fd, &out_fd);
        if (r < 0)
                return r;
        if (n_jobs >= ARCHIVE_MAX_JOBS)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "Already running %u unpacks and commits", n_jobs);
        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        *j = (UnpackJob) { .result_fd = -1, .layers_fd = -1, .commit = true };

        r = job_fork(m, j, &result_fd);
        if (r == 0) {
                _cleanup_free_ char *message = NULL;
                UnpackResult res = {};

                res.r = layer_commit(upper_fd, out_fd, res.diff_id, res.digest, &res.size, &message);
                child_finish(result_fd, &res, message);
        }
        return r; /* 1: replied to in on_child_exit() */
}

static const sd_bus_vtable archive_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_NAMES("UnpackLayer", "hhss",
                                 SD_BUS_PARAM(blob) SD_BUS_PARAM(layers_dir) SD_BUS_PARAM(chain_id) SD_BUS_PARAM(diff_id),
                                 "t", SD_BUS_PARAM(size),
                                 method_unpack_layer, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("UnpackLayerStream", "hhsss",
                                 SD_BUS_PARAM(stream) SD_BUS_PARAM(layers_dir) SD_BUS_PARAM(chain_id)
                                 SD_BUS_PARAM(diff_id) SD_BUS_PARAM(blob_digest),
                                 "t", SD_BUS_PARAM(size),
                                 method_unpack_layer, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("RemoveLayer", "hs", SD_BUS_PARAM(layers_dir) SD_BUS_PARAM(chain_id),
                                 "t", SD_BUS_PARAM(size), method_remove_layer, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("CommitLayer", "hh", SD_BUS_PARAM(upper) SD_BUS_PARAM(out),
                                 "sst", SD_BUS_PARAM(digest) SD_BUS_PARAM(diff_id) SD_BUS_PARAM(size),
                                 method_commit_layer, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int archive_bus_add_object(sd_bus *bus) {
        int r;

        r = sd_bus_add_object_vtable(bus, NULL, ZL_WORKER_PATH, ZL_ARCHIVE_IFACE, archive_vtable, NULL);
        if (r < 0)
                return r;
        /* SaveImages, LoadImages, ImportImage (image-archive-bus.c) */
        return archive_image_bus_add_object(bus);
}
