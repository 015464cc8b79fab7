/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Archive1.SaveImages, LoadImages, ImportImage (docs/internals.md, "Image
 * archives"): each runs in a child process, answered at its exit. The
 * child's result (a JSON text of any length, or an error message) comes
 * back in a memfd, read once the child is gone. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "archive-bus.h"
#include "errors.h"
#include "fileio.h"
#include "image-archive.h"
#include "log.h"
#include "reference.h"

#define IMAGE_MAX_JOBS 8
#define RESULT_MAX (16U << 20)

typedef enum ImageOp { OP_SAVE, OP_LOAD, OP_IMPORT } ImageOp;

typedef struct ImageJob {
        ImageOp op;
        sd_bus_message *request;
        sd_event_source *child;
        int result_fd;
} ImageJob;

static unsigned n_jobs;
static const char *const op_names[] = { "SaveImages", "LoadImages", "ImportImage" };

static void image_job_free(ImageJob *j) {
        n_jobs--;
        sd_event_source_disable_unref(j->child);
        sd_bus_message_unref(j->request);
        if (j->result_fd >= 0)
                close(j->result_fd);
        free(j);
}

static const char *error_name(ImageOp op, int r) {
        switch (r) {
        case -EINVAL:
                return SD_BUS_ERROR_INVALID_ARGS;
        case -EBADMSG:
        case -EFBIG:
        case -E2BIG:
                /* a load's or import's input is the caller's; a save's blobs are the store's */
                return op == OP_SAVE ? ZL_ERROR_INTERNAL : SD_BUS_ERROR_INVALID_ARGS;
        default:
                return ZL_ERROR_INTERNAL;
        }
}

static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        ImageJob *j = userdata;
        _cleanup_free_ char *text = NULL;
        const char *what = op_names[j->op];
        char *body = NULL;
        int r = -EIO;

        if (si->si_code != CLD_EXITED || si->si_status != 0) {
                log_error("%s process died (%s %d)", what, si->si_code == CLD_EXITED ? "status" : "signal", si->si_status);
                (void) sd_bus_reply_method_errorf(j->request, ZL_ERROR_INTERNAL, "%s process died (%s %d)", what,
                                                  si->si_code == CLD_EXITED ? "status" : "signal", si->si_status);
                image_job_free(j);
                return 0;
        }
        if (lseek(j->result_fd, 0, SEEK_SET) >= 0 && read_fd_full(j->result_fd, RESULT_MAX, &text, NULL) >= 0 &&
            sscanf(text, "%d", &r) == 1)
                body = strchr(text, '\n');
        body = body ? body + 1 : (char *) "";
        if (r < 0) {
                log_warning_errno(r, "%s failed: %s", what, body);
                (void) sd_bus_reply_method_errorf(j->request, error_name(j->op, r), "%s", *body ? body : strerror(-r));
        } else if (j->op == OP_SAVE) {
                log_info("SaveImages done");
                (void) sd_bus_reply_method_return(j->request, NULL);
        } else {
                log_info("%s done: %s", what, body);
                (void) sd_bus_reply_method_return(j->request, "s", body);
        }
        image_job_free(j);
        return 0;
}

typedef struct ImageArgs {
        ImageOp op;
        int images_fd, layers_fd, io_fd;
        const char *text;   /* save: the plan; import: the reference */
} ImageArgs;

/* In the child of archive_fork_child(). */
static _noreturn_ void run_child(int result_fd, const ImageArgs *args) {
        _cleanup_free_ char *json = NULL, *message = NULL;
        FILE *f;
        int r;

        switch (args->op) {
        case OP_SAVE:
                r = image_save(args->images_fd, args->text, args->io_fd, &message);
                break;
        case OP_LOAD:
                r = image_load(args->images_fd, args->layers_fd, args->io_fd, &json, &message);
                break;
        default:
                r = image_import(args->images_fd, args->layers_fd, args->io_fd, args->text, &json, &message);
        }
        f = fdopen(result_fd, "w");
        if (!f)
                _exit(EXIT_FAILURE);
        fprintf(f, "%d\n%s", r, r < 0 ? strempty(message) : strempty(json));
        _exit(fclose(f) == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

static int image_job_start(sd_bus_message *m, const ImageArgs *args, sd_bus_error *error) {
        sd_bus *bus = sd_bus_message_get_bus(m);
        ImageJob *j;
        pid_t pid;
        int r;

        if (n_jobs >= IMAGE_MAX_JOBS)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY, "Already running %u image archive jobs", n_jobs);
        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        n_jobs++;
        j->op = args->op;
        /* an unnamed file in ingest/: no memfd_create in the worker's seccomp list */
        j->result_fd = openat(args->images_fd, "ingest", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (j->result_fd < 0) {
                r = -errno;
                image_job_free(j);
                return r;
        }
        pid = archive_fork_child(bus);
        if (pid < 0) {
                image_job_free(j);
                return pid;
        }
        if (pid == 0)
                run_child(j->result_fd, args);
        j->request = sd_bus_message_ref(m);
        r = sd_event_add_child(sd_bus_get_event(bus), &j->child, pid, WEXITED, on_child_exit, j);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                image_job_free(j);
                return r;
        }
        log_info("%s started (pid %d)", op_names[args->op], (int) pid);
        return 1;
}

static int method_save_images(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ImageArgs args = { .op = OP_SAVE, .layers_fd = -1 };
        int r;

        r = sd_bus_message_read(m, "hsh", &args.images_fd, &args.text, &args.io_fd);
        if (r < 0)
                return r;
        return image_job_start(m, &args, error);
}

static int method_load_images(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ImageArgs args = { .op = OP_LOAD };
        int r;

        r = sd_bus_message_read(m, "hhh", &args.images_fd, &args.layers_fd, &args.io_fd);
        if (r < 0)
                return r;
        return image_job_start(m, &args, error);
}

static int method_import_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ImageArgs args = { .op = OP_IMPORT };
        _cleanup_free_ char *n = NULL;
        int r;

        r = sd_bus_message_read(m, "hhhs", &args.images_fd, &args.layers_fd, &args.io_fd, &args.text);
        if (r < 0)
                return r;
        /* the broker normalized it; we trust only ourselves ("" = no name: a dangling image) */
        if (!isempty(args.text) && (image_reference_normalize(args.text, &n) < 0 || !streq(n, args.text) || strchr(args.text, '@')))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid reference: %.200s", args.text);
        return image_job_start(m, &args, error);
}

static const sd_bus_vtable image_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("SaveImages", SD_BUS_ARGS("h", images_dir, "s", plan_json, "h", out), SD_BUS_NO_RESULT,
                                method_save_images, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("LoadImages", SD_BUS_ARGS("h", images_dir, "h", layers_dir, "h", in),
                                SD_BUS_RESULT("s", result_json), method_load_images, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ImportImage", SD_BUS_ARGS("h", images_dir, "h", layers_dir, "h", in, "s", reference),
                                SD_BUS_RESULT("s", result_json), method_import_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int archive_image_bus_add_object(sd_bus *bus) {
        return sd_bus_add_object_vtable(bus, NULL, ZL_WORKER_PATH, ZL_ARCHIVE_IFACE, image_vtable, NULL);
}
