/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `pull`: PullImage, with docker-like output. While the call runs, the
 * Progress signals of its Job (matched by JobNew type "pull" and the
 * normalized reference as target) draw one bar per layer on a terminal, or
 * one line per status change into a pipe. Ctrl-C cancels the Job. A daemon
 * without Jobs gives the start and end lines only. */
#include <signal.h>
#include <systemd/sd-event.h>

#include "errors.h"
#include "format.h"
#include "reference.h"
#include "zlayerctl.h"

#define JOB_IFACE "com.zlayer.Runtime1.Job"
#define LAYERS_MAX 256
#define BAR_WIDTH 40

typedef struct Layer {
        char *id;
        char *status;
        uint64_t current, total;
} Layer;

typedef struct Pull {
        const char *image;
        char *normalized;
        FILE *out;
        bool tty, quiet;
        char *job_path;
        Layer layers[LAYERS_MAX];
        size_t n_layers, drawn;
        bool done, canceled;
        sd_bus_error error;
        int r;
        char *reference, *digest;
} Pull;

static void pull_done(Pull *p) {
        for (size_t i = 0; i < p->n_layers; i++) {
                free(p->layers[i].id);
                free(p->layers[i].status);
        }
        free(p->normalized);
        free(p->job_path);
        free(p->reference);
        free(p->digest);
        sd_bus_error_free(&p->error);
}

static const char *short_id(const char *layer) {
        const char *c = strchr(layer, ':');
        static char buf[13];

        snprintf(buf, sizeof buf, "%s", c ? c + 1 : layer);
        return buf;
}

static void draw_bar(Pull *p, const Layer *l) {
        char cur[32], tot[32];

        fprintf(p->out, "\033[2K%s: %s", short_id(l->id), l->status);
        if (l->total > 0 && l->current < l->total) {
                size_t fill = (size_t) ((double) l->current / (double) l->total * BAR_WIDTH);
                fputs(" [", p->out);
                for (size_t i = 0; i < BAR_WIDTH; i++)
                        fputc(i < fill ? '=' : i == fill ? '>' : ' ', p->out);
                fprintf(p->out, "] %s/%s", format_size_human(l->current, cur, sizeof cur),
                        format_size_human(l->total, tot, sizeof tot));
        }
        fputc('\n', p->out);
}

static void redraw(Pull *p) {
        if (p->drawn > 0)
                fprintf(p->out, "\033[%zuA", p->drawn);
        for (size_t i = 0; i < p->n_layers; i++)
                draw_bar(p, &p->layers[i]);
        p->drawn = p->n_layers;
        fflush(p->out);
}

static int on_progress(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Pull *p = userdata;
        const char *layer, *status;
        uint64_t current, total;
        Layer *l = NULL;
        bool changed;

        if (!p->job_path || !streq(sd_bus_message_get_path(m), p->job_path))
                return 0;
        if (sd_bus_message_read(m, "sstt", &layer, &status, &current, &total) < 0)
                return 0;
        for (size_t i = 0; i < p->n_layers; i++)
                if (streq(p->layers[i].id, layer))
                        l = &p->layers[i];
        if (!l) {
                if (p->n_layers >= LAYERS_MAX)
                        return 0;
                l = &p->layers[p->n_layers];
                l->id = strdup(layer);
                if (!l->id)
                        return 0;
                p->n_layers++;
        }
        changed = !l->status || !streq(l->status, status);
        if (changed) {
                free(l->status);
                l->status = strdup(status);
                if (!l->status)
                        return 0;
        }
        l->current = current;
        l->total = total;
        if (p->quiet)
                return 0;
        if (p->tty)
                redraw(p);
        else if (changed) {
                fprintf(p->out, "%s: %s\n", short_id(layer), status);
                fflush(p->out);
        }
        return 0;
}

static int on_job_new(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Pull *p = userdata;
        const char *path, *type, *target;
        uint32_t id;

        if (p->job_path || sd_bus_message_read(m, "uoss", &id, &path, &type, &target) < 0)
                return 0;
        if (!streq(type, "pull") || !(streq(target, p->image) || (p->normalized && streq(target, p->normalized))))
                return 0;
        p->job_path = strdup(path);
        return 0;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Pull *p = userdata;
        const char *ref, *digest;

        p->done = true;
        if (sd_bus_message_is_method_error(m, NULL)) {
                sd_bus_error_copy(&p->error, sd_bus_message_get_error(m));
                p->r = -EIO;
        } else if ((p->r = sd_bus_message_read(m, "ss", &ref, &digest)) >= 0) {
                p->reference = strdup(ref);
                p->digest = strdup(digest);
                if (!p->reference || !p->digest)
                        p->r = -ENOMEM;
        }
        return sd_event_exit(sd_bus_get_event(sd_bus_message_get_bus(m)), 0);
}

static int on_sigint(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Pull *p = userdata;
        sd_bus *bus;

        if (!p->job_path || p->canceled || ctl_bus(&bus) < 0) {
                /* nothing to cancel: leave, the daemon finishes the pull */
                p->canceled = true;
                return sd_event_exit(sd_event_source_get_event(s), 0);
        }
        p->canceled = true;
        (void) sd_bus_call_method_async(bus, NULL, ZL_BUS_NAME, p->job_path, JOB_IFACE, "Cancel", NULL, NULL, NULL);
        return 0;
}

/* The digest ListImages has for @reference, NULL when none. */
static char *present_digest(const char *reference) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *ref, *digest;
        uint64_t size;

        if (ctl_call(CALL_DEFAULT, "ListImages", NULL, &reply, NULL) < 0)
                return NULL;
        if (sd_bus_message_enter_container(reply, 'a', "(sst)") < 0)
                return NULL;
        while (sd_bus_message_read(reply, "(sst)", &ref, &digest, &size) > 0)
                if (streq(ref, reference))
                        return strdup(digest);
        return NULL;
}

bool image_is_present(const char *image) {
        _cleanup_free_ char *normalized = NULL, *digest = NULL;

        if (image_reference_normalize(image, &normalized) < 0)
                return false;
        digest = present_digest(normalized);
        return digest != NULL;
}

int pull_image(const char *image, const char *policy, bool quiet, bool to_stderr) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *call_slot = NULL, *job_slot = NULL, *progress_slot = NULL;
        _cleanup_free_ char *before = NULL;
        Pull p = { .image = image, .error = SD_BUS_ERROR_NULL, .quiet = quiet };
        sigset_t mask;
        sd_bus *bus;
        int r, ret = 0;

        p.out = to_stderr ? stderr : stdout;
        p.tty = isatty(fileno(p.out));
        r = ctl_bus(&bus);
        if (r < 0)
                return EXIT_ZL;
        (void) image_reference_normalize(image, &p.normalized);
        if (p.normalized)
                before = present_digest(p.normalized);

        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, 0);
        if (r >= 0)
                r = sd_bus_match_signal(bus, &job_slot, ZL_BUS_NAME, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, "JobNew",
                                        on_job_new, &p);
        if (r >= 0)
                r = sd_bus_match_signal(bus, &progress_slot, ZL_BUS_NAME, NULL, JOB_IFACE, "Progress", on_progress, &p);
        if (r >= 0)
                r = sd_bus_message_new_method_call(bus, &m, ZL_BUS_NAME, ZL_MANAGER_PATH, ZL_MANAGER_IFACE, "PullImage");
        if (r >= 0)
                r = sd_bus_message_append(m, "ssa{sv}", image, policy, 0);
        if (r >= 0)
                r = sd_bus_call_async(bus, &call_slot, m, on_reply, &p, CALL_FOREVER);
        if (r >= 0) {
                sigemptyset(&mask);
                sigaddset(&mask, SIGINT);
                sigaddset(&mask, SIGTERM);
                sigprocmask(SIG_BLOCK, &mask, NULL);
                r = sd_event_add_signal(event, NULL, SIGINT, on_sigint, &p);
                if (r >= 0)
                        r = sd_event_add_signal(event, NULL, SIGTERM, on_sigint, &p);
        }
        if (r < 0) {
                ret = ctl_fail(NULL, r, "pull");
                goto out;
        }
        if (!quiet) {
                fprintf(p.out, "Pulling %s\n", p.normalized ?: image);
                fflush(p.out);
        }
        r = sd_event_loop(event);
        sigprocmask(SIG_UNBLOCK, &mask, NULL);
        if (r < 0) {
                ret = ctl_fail(NULL, r, "pull");
                goto out;
        }
        if (!p.done) {
                fprintf(stderr, "zlayerctl: pull interrupted%s\n",
                        p.job_path ? "" : " (this zlayerd has no pull Job to cancel; it finishes the pull)");
                ret = 130;
                goto out;
        }
        if (p.r < 0) {
                if (sd_bus_error_has_name(&p.error, ZL_ERROR_CANCELED))
                        fprintf(stderr, "zlayerctl: pull of %s canceled\n", image);
                ret = sd_bus_error_has_name(&p.error, ZL_ERROR_CANCELED) ? 130 : ctl_fail(&p.error, p.r, "pull");
                goto out;
        }
        if (!quiet) {
                fprintf(p.out, "Digest: %s\n", p.digest);
                if (before && streq(before, p.digest))
                        fprintf(p.out, "Status: Image is up to date for %s\n", p.reference);
                else
                        fprintf(p.out, "Status: Downloaded newer image for %s\n", p.reference);
                if (!to_stderr)
                        fprintf(p.out, "%s\n", p.reference);
        }
out:
        sd_bus_detach_event(bus);
        pull_done(&p);
        return ret;
}
