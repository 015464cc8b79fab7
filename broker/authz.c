/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Authorization of public calls (ARCHITECTURE.md §5): every Manager method
 * maps to one polkit action (the table below, from dbus-api.md); handlers
 * validate their arguments, then call authz_verify(), which asks polkit's
 * CheckAuthorization asynchronously. Meanwhile the handler returns 1 (reply
 * deferred) and the broker serves other calls; when polkit answers, the
 * original message is queued for dispatch again (sd_bus_enqueue_for_read),
 * the handler runs once more from the top, and authz_verify() then returns
 * the stored answer. This is the shape of systemd's bus_verify_polkit_async().
 */
#include <string.h>
#include <time.h>

#include "authz.h"
#include "broker.h"
#include "errors.h"
#include "log.h"

#define strna(s) ((s) ? (s) : "n/a")

#define POLKIT_SERVICE   "org.freedesktop.PolicyKit1"
#define POLKIT_PATH      "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_INTERFACE "org.freedesktop.PolicyKit1.Authority"
#define POLKIT_CHECK_ALLOW_USER_INTERACTION 1u

/* Questions to polkit in flight at once; more are refused with Busy. */
#define AUTHZ_PENDING_MAX 512
/* Interactive checks wait for a person typing a password. */
#define AUTHZ_TIMEOUT_USEC             (25ULL * 1000000ULL)
#define AUTHZ_INTERACTIVE_TIMEOUT_USEC (300ULL * 1000000ULL)
/* An answer not picked up by its re-dispatched call within this time (the
 * handler failed validation on the second run) is dropped. */
#define AUTHZ_ANSWER_TTL_USEC (60ULL * 1000000ULL)

/* Every method of com.zlayer.Runtime1.Manager, with its polkit action and
 * the detail key naming its target. The one place that decides it. */
static const AuthzMethod authz_methods[] = {
        /* Images */
        { "PullImage",                AUTHZ_ACTION_MANAGE_IMAGES,     "image" },
        { "ListImages",               AUTHZ_ACTION_INSPECT,           NULL },
        { "InspectImage",             AUTHZ_ACTION_INSPECT,           "image" },
        { "GetImageHistory",          AUTHZ_ACTION_INSPECT,           "image" },
        { "TagImage",                 AUTHZ_ACTION_MANAGE_IMAGES,     "image" },
        { "RemoveImage",              AUTHZ_ACTION_MANAGE_IMAGES,     "image" },
        { "PruneImages",              AUTHZ_ACTION_MANAGE_IMAGES,     NULL },
        { "SearchImages",             AUTHZ_ACTION_INSPECT,           NULL },
        { "SaveImages",               AUTHZ_ACTION_MANAGE_IMAGES,     NULL },
        { "LoadImages",               AUTHZ_ACTION_MANAGE_IMAGES,     NULL },
        { "ImportImage",              AUTHZ_ACTION_MANAGE_IMAGES,     NULL },
        /* Containers: inspection */
        { "GetContainerState",        AUTHZ_ACTION_INSPECT,           "container" },
        { "GetContainerStats",        AUTHZ_ACTION_INSPECT,           "container" },
        { "OpenContainerStats",       AUTHZ_ACTION_INSPECT,           "container" },
        { "GetContainerPid",          AUTHZ_ACTION_INSPECT,           "container" },
        { "GetContainerIP",           AUTHZ_ACTION_INSPECT,           "container" },
        { "GetContainerPortOverride", AUTHZ_ACTION_INSPECT,           "container" },
        { "GetContainerChanges",      AUTHZ_ACTION_INSPECT,           "container" },
        { "GetContainerPorts",        AUTHZ_ACTION_INSPECT,           "container" },
        { "InspectContainer",         AUTHZ_ACTION_INSPECT,           "container" },
        { "TopContainer",             AUTHZ_ACTION_INSPECT,           "container" },
        { "ListContainers",           AUTHZ_ACTION_INSPECT,           NULL },
        /* Containers: logs and files */
        { "GetContainerLogs",         AUTHZ_ACTION_READ_LOGS,         "container" },
        { "OpenContainerLogs",        AUTHZ_ACTION_READ_LOGS,         "container" },
        { "ArchiveGet",               AUTHZ_ACTION_READ_LOGS,         "container" },
        { "ArchiveHead",              AUTHZ_ACTION_READ_LOGS,         "container" },
        { "ExportContainer",          AUTHZ_ACTION_READ_LOGS,         "container" },
        /* Containers: exec and attach */
        { "Exec",                     AUTHZ_ACTION_EXEC,              "container" },
        { "ExecStream",               AUTHZ_ACTION_EXEC,              "container" },
        { "ExecPty",                  AUTHZ_ACTION_EXEC,              "container" },
        { "AttachContainer",          AUTHZ_ACTION_EXEC,              "container" },
        /* Containers: everything else changes state (WaitContainer is not
         * in dbus-api.md's inspect row, so it is manage-containers too) */
        { "CreateContainer",          AUTHZ_ACTION_MANAGE_CONTAINERS, "container" },
        { "StartContainer",           AUTHZ_ACTION_MANAGE_CONTAINERS, "container" },
        { "StopContainer",            AUTHZ_ACTION_MANAGE_CONTAINERS, "container" },
        { "KillContainer",            AUTHZ_ACTION_MANAGE_CONTAINERS, "container" },
        { "RemoveContainer",          AUTHZ_ACTION_MANAGE_CONTAINERS, "container" },
        { "RenameContainer",          AUTHZ_ACTION_MANAGE_CONTAINERS, "container" },
        { "PauseContainer",           AUTHZ_ACTION_MANAGE_CONTAINERS, "container" },
        { "UnpauseContainer",         AUTHZ_ACTION_MANAGE_CONTAINERS, "container" },
        { "WaitContainer",            AUTHZ_ACTION_MANAGE_CONTAINERS, "container" },
        { "ResizeContainerTTY",       AUTHZ_ACTION_MANAGE_CONTAINERS, "container" },
        { "UpdateContainerResources", AUTHZ_ACTION_MANAGE_CONTAINERS, "container" },
        { "PruneContainers",          AUTHZ_ACTION_MANAGE_CONTAINERS, NULL },
        { "ArchivePut",               AUTHZ_ACTION_MANAGE_CONTAINERS, "container" },
        { "CommitContainer",          AUTHZ_ACTION_MANAGE_CONTAINERS, "container" },
        { "SyncContainerVolumes",     AUTHZ_ACTION_MANAGE_CONTAINERS, "container" },
};

const AuthzMethod *authz_method_table(size_t *n) {
        *n = ELEMENTSOF(authz_methods);
        return authz_methods;
}

const AuthzMethod *authz_method_find(const char *member) {
        if (!member)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(authz_methods); i++)
                if (streq(authz_methods[i].member, member))
                        return &authz_methods[i];
        return NULL;
}

struct AuthzQuery {
        Broker *broker;
        sd_bus_message *request;   /* the call being authorized (ref) */
        sd_bus_slot *slot;         /* CheckAuthorization in flight; NULL once answered */
        const char *action;
        int result;                /* once answered: 1 allowed, -EACCES refused */
        sd_bus_error error;        /* the refusal */
        uint64_t answered_usec;    /* CLOCK_MONOTONIC */
        AuthzQuery *next, *prev;
};

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static void query_free(AuthzQuery *q) {
        Broker *b;

        if (!q)
                return;
        b = q->broker;
        if (q->prev)
                q->prev->next = q->next;
        else
                b->authz_queries = q->next;
        if (q->next)
                q->next->prev = q->prev;
        if (q->slot)
                b->n_authz_pending--;
        sd_bus_slot_unref(q->slot);
        sd_bus_message_unref(q->request);
        sd_bus_error_free(&q->error);
        free(q);
}

void authz_queries_free(Broker *b) {
        while (b->authz_queries)
                query_free(b->authz_queries);
}

/* Answers whose call never came back for them (see AUTHZ_ANSWER_TTL_USEC). */
static void queries_sweep(Broker *b) {
        uint64_t now = now_usec();

        for (AuthzQuery *q = b->authz_queries, *next; q; q = next) {
                next = q->next;
                if (!q->slot && now - q->answered_usec > AUTHZ_ANSWER_TTL_USEC)
                        query_free(q);
        }
}

static AuthzQuery *query_find(Broker *b, sd_bus_message *m) {
        for (AuthzQuery *q = b->authz_queries; q; q = q->next)
                if (q->request == m)
                        return q;
        return NULL;
}

static bool error_means_no_polkit(const sd_bus_error *e) {
        return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                      SD_BUS_ERROR_UNKNOWN_OBJECT, SD_BUS_ERROR_UNKNOWN_METHOD,
                                      "org.freedesktop.DBus.Error.Spawn.ServiceNotFound");
}

static int on_check_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        AuthzQuery *q = userdata;
        Broker *b = q->broker;
        const sd_bus_error *e;
        int authorized = 0, challenge = 0, r;

        q->slot = sd_bus_slot_unref(q->slot);
        b->n_authz_pending--;
        q->answered_usec = now_usec();
        q->result = -EACCES;

        e = sd_bus_message_get_error(reply);
        if (e) {
                if (error_means_no_polkit(e))
                        sd_bus_error_setf(&q->error, SD_BUS_ERROR_ACCESS_DENIED,
                                          "%s refused: polkit is unavailable (%s), only root may call it",
                                          q->action, e->name);
                else
                        sd_bus_error_setf(&q->error, SD_BUS_ERROR_ACCESS_DENIED,
                                          "%s refused: polkit failed to check it: %s: %s",
                                          q->action, e->name, strna(e->message));
                log_warning("polkit check of %s failed: %s: %s", q->action, e->name, strna(e->message));
        } else {
                r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
                if (r >= 0)
                        r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
                if (r < 0)
                        sd_bus_error_setf(&q->error, SD_BUS_ERROR_ACCESS_DENIED,
                                          "%s refused: cannot parse polkit's answer: %s", q->action, strerror(-r));
                else if (authorized)
                        q->result = 1;
                else
                        /* AccessDenied also when polkit would have asked for a
                         * password (challenge): callers test one error name. */
                        sd_bus_error_setf(&q->error, SD_BUS_ERROR_ACCESS_DENIED,
                                          "polkit refused %s%s", q->action,
                                          challenge ? " (authentication required and no agent answered)" : "");
        }

        /* Run the handler again; it finds this answer. */
        r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->request), q->request);
        if (r < 0) {
                log_error_errno(r, "Failed to dispatch %s again after polkit answered: %m",
                                strna(sd_bus_message_get_member(q->request)));
                (void) sd_bus_reply_method_errorf(q->request, SD_BUS_ERROR_FAILED,
                                                  "cannot resume the call after authorization: %s", strerror(-r));
                query_free(q);
        }
        return 0;
}

static int caller_uid(sd_bus_message *m, uid_t *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        int r;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r < 0)
                return r;
        return sd_bus_creds_get_euid(creds, ret);
}

static int check_start(Broker *b, sd_bus_message *m, const AuthzMethod *am, const char *target,
                       sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        sd_bus *bus = sd_bus_message_get_bus(m);
        const char *sender = sd_bus_message_get_sender(m);
        bool interactive = sd_bus_message_get_allow_interactive_authorization(m) > 0;
        AuthzQuery *q;
        int r;

        if (!sender)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "%s refused: the call has no sender to ask polkit about", am->action);
        if (b->n_authz_pending >= AUTHZ_PENDING_MAX)
                return sd_bus_error_setf(error, ZL_ERROR_BUSY,
                                         "%s: %u authorization checks are in flight already", am->action,
                                         b->n_authz_pending);

        r = sd_bus_message_new_method_call(bus, &call, POLKIT_SERVICE, POLKIT_PATH, POLKIT_INTERFACE,
                                           "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(call, "(sa{sv})s", "system-bus-name", 1, "name", "s", sender, am->action);
        if (r >= 0)
                r = sd_bus_message_open_container(call, 'a', "{ss}");
        if (r >= 0 && am->detail && target)
                r = sd_bus_message_append(call, "{ss}", am->detail, target);
        if (r >= 0)
                r = sd_bus_message_append(call, "{ss}", "verb", am->member);
        if (r >= 0)
                r = sd_bus_message_close_container(call);
        if (r >= 0)
                r = sd_bus_message_append(call, "us", interactive ? POLKIT_CHECK_ALLOW_USER_INTERACTION : 0u, "");
        if (r < 0)
                return r;

        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        q->broker = b;
        q->action = am->action;
        q->request = sd_bus_message_ref(m);
        r = sd_bus_call_async(bus, &q->slot, call, on_check_reply, q,
                              interactive ? AUTHZ_INTERACTIVE_TIMEOUT_USEC : AUTHZ_TIMEOUT_USEC);
        if (r < 0) {
                sd_bus_message_unref(q->request);
                free(q);
                return r;
        }
        b->n_authz_pending++;
        q->next = b->authz_queries;
        if (q->next)
                q->next->prev = q;
        b->authz_queries = q;
        log_debug("Asked polkit for %s (%s %s) on behalf of %s.", am->action, am->member, strempty(target), sender);
        return 0;
}

int authz_verify(Broker *b, sd_bus_message *m, const char *target, sd_bus_error *error) {
        const AuthzMethod *am = authz_method_find(sd_bus_message_get_member(m));
        AuthzQuery *q;
        uid_t uid;
        int r;

        if (!am)
                /* A method missing from the table is a bug: refuse rather than guess. */
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "%s has no polkit action",
                                         strna(sd_bus_message_get_member(m)));

        q = query_find(b, m);
        if (q) {
                if (q->slot)
                        return 0; /* dispatched again before polkit answered: keep waiting */
                if (q->action != am->action) {
                        query_free(q);
                        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                                 "%s refused: the authorization asked for another action",
                                                 am->action);
                }
                r = q->result;
                if (r < 0)
                        sd_bus_error_copy(error, &q->error);
                query_free(q);
                return r;
        }
        queries_sweep(b);

        r = caller_uid(m, &uid);
        if (r < 0) {
                log_warning_errno(r, "Failed to get the credentials of %s: %m", strempty(sd_bus_message_get_sender(m)));
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "%s refused: cannot determine the caller's uid", am->action);
        }
        if (uid == 0)
                return 1;

        r = check_start(b, m, am, target, error);
        if (r < 0) {
                if (!sd_bus_error_is_set(error))
                        sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "%s refused: cannot ask polkit: %s",
                                          am->action, strerror(-r));
                return -EACCES;
        }
        return 0;
}
