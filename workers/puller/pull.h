/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "manifest.h"

/* One pull, start to end, blocking: manifest (through an index if need be),
 * config and layers into the image store. Runs in a thread of its own and
 * touches nothing but its arguments, so the bus stays on the loop thread. */

/* Called from the pull's thread for each blob: status "downloading" (many
 * times, current growing), "exists" (already in the store) or "done"
 * (verified and stored). Must be thread-safe and must not block. */
typedef void (*pull_progress_t)(void *userdata, const char *digest, const char *status, uint64_t current,
                                uint64_t total);

/* Called from a download thread before a layer's bytes arrive: returns the
 * write end of a pipe that gets the same bytes as the blob file (the reader
 * unpacks while we download), or -1 for none. The callee keeps the read
 * end; the pull closes the write end when the blob is complete or failed. */
typedef int (*pull_open_stream_t)(void *userdata, const char *digest, const char *diff_id, const char *chain_id);

/* Layers downloaded at the same time by one pull. */
#define PULL_PARALLEL_LAYERS 3U

typedef struct PullRequest {
        char *reference;        /* normalized: host/repo:tag or host/repo@sha256:… */
        int images_fd;          /* O_DIRECTORY fd of ROOT/images, owned */
        char *username;
        char *password;
        bool insecure;
        Platform platform;
        atomic_bool *cancel;
        pull_progress_t progress;   /* optional */
        void *progress_userdata;
        pull_open_stream_t open_stream; /* optional; same userdata as progress */
        bool resolve_only;      /* Resolve: fetch the top manifest, report its digest, store nothing */
} PullRequest;

void pull_request_done(PullRequest *req);

typedef struct PullResult {
        char *json;             /* on success */
        const char *error_name; /* lib/errors.h name on failure */
        char *error_message;
} PullResult;

void pull_result_done(PullResult *res);

/* Fills @res with either json or an error; with resolve_only, json is the
 * bare digest ("sha256:…") of what the registry serves for the reference. */
void pull_run(const PullRequest *req, PullResult *res);
