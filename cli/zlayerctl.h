/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

/* Exit codes as docker uses them: our own failures, a command that could
 * not be invoked, a command that was not found; else the container's. */
#define EXIT_ZL 125
#define EXIT_CANNOT_INVOKE 126
#define EXIT_CMD_NOT_FOUND 127

#define CALL_FOREVER UINT64_MAX
#define CALL_DEFAULT (120 * USEC_PER_SEC)

typedef int (*verb_fn)(int argc, char **argv);

typedef struct Verb {
        const char *name;
        verb_fn fn;
        const char *summary;
} Verb;

/* zlayerctl.c */
extern const char *arg_bus_address;   /* NULL = system bus */
extern bool arg_ask_password;         /* false with --no-ask-password */

/* polkit-agent.c: whether to run pkttyagent (non-root, stdin a terminal,
 * asking allowed), and running it for the rest of the process. */
bool polkit_agent_wanted(void);
int polkit_agent_open(const char *bus_address);

/* bus-call.c: one connection per process, opened on first use. */
int ctl_bus(sd_bus **ret);
/* Calls a Manager method; types/varargs as sd_bus_message_append(). */
int ctl_call(uint64_t timeout, const char *method, sd_bus_error *error, sd_bus_message **reply,
             const char *types, ...);
/* Prints the D-Bus error (or errno) of a failed call on stderr, prefixed
 * with @what, and returns the exit code (125, or 126/127 for StartFailed). */
int ctl_fail(const sd_bus_error *error, int r, const char *what);
/* Exit code for a StartFailed message (docker's 126/127 rules). */
int start_failed_exit_code(const char *message);
int ctl_get_property_string(const char *property, char **ret);
int ctl_get_property_u32(const char *property, uint32_t *ret);

/* Usage errors: print "zlayerctl VERB: MESSAGE" and "See 'zlayerctl VERB --help'". */
int usage_error(const char *verb, const char *fmt, ...) _printf_(2, 3);

/* Reads a Container's properties by its object path; fields left 0/NULL
 * when the object does not have them. */
typedef struct ContainerInfo {
        char *id, *name, *service, *image, *state, *path;
        uint32_t replica;
        uint64_t created, started, finished;
        int32_t exit_code;
        bool have_times;
} ContainerInfo;
void container_info_free_many(ContainerInfo *l, size_t n);
int list_containers(ContainerInfo **ret, size_t *ret_n);

/* verbs-*.c */
int verb_pull(int argc, char **argv);
int verb_images(int argc, char **argv);
int verb_rmi(int argc, char **argv);
int verb_tag(int argc, char **argv);
int verb_history(int argc, char **argv);
int verb_search(int argc, char **argv);
int verb_save(int argc, char **argv);
int verb_load(int argc, char **argv);
int verb_import(int argc, char **argv);
int verb_image(int argc, char **argv);
int verb_ps(int argc, char **argv);
int verb_start(int argc, char **argv);
int verb_stop(int argc, char **argv);
int verb_kill(int argc, char **argv);
int verb_rm(int argc, char **argv);
int verb_wait(int argc, char **argv);
int verb_logs(int argc, char **argv);
int verb_inspect(int argc, char **argv);
int verb_rename(int argc, char **argv);
int verb_pause(int argc, char **argv);
int verb_unpause(int argc, char **argv);
int verb_top(int argc, char **argv);
int verb_diff(int argc, char **argv);
int verb_port(int argc, char **argv);
int verb_export(int argc, char **argv);
int verb_commit(int argc, char **argv);
int verb_stats(int argc, char **argv);
int verb_container(int argc, char **argv);
int verb_update(int argc, char **argv);
int verb_cp(int argc, char **argv);
int verb_exec(int argc, char **argv);
int verb_attach(int argc, char **argv);
int verb_create(int argc, char **argv);
int verb_run(int argc, char **argv);
int verb_info(int argc, char **argv);
int verb_version(int argc, char **argv);
int verb_deploy(int argc, char **argv);

/* pull.c: pulls @image showing progress on stderr/stdout as docker does;
 * returns 0 or an exit code. @quiet: no output at all. */
int pull_image(const char *image, const char *policy, bool quiet, bool to_stderr);
/* Whether ListImages has the normalized @image. */
bool image_is_present(const char *image);

/* logs-stream.c: prints the entries of GetContainerLogs after the first
 * @skip ones; sets *ret_count to the total; stdout entries to stdout,
 * stderr entries to stderr; @timestamps prefixes RFC 3339 times. */
int print_logs(const char *id, uint64_t tail, uint64_t since, uint64_t until, bool timestamps,
               size_t skip, size_t *ret_count, sd_bus_error *error);

/* OpenContainerLogs (follow) demultiplexed to stdout/stderr until EOF;
 * -errno with @error set by the daemon's refusal. */
int open_log_stream(const char *id, uint64_t tail, uint64_t since, uint64_t until, bool timestamps,
                    sd_bus_error *error);
/* The OpenContainerLogs call alone: *ret_fd is the stream (owned by the caller). */
int open_log_fd(const char *id, bool follow, uint64_t tail, uint64_t since, uint64_t until, bool timestamps,
                int *ret_fd, sd_bus_error *error);

/* output-file.c: a temp file next to @path (fd; *ret_tmp its name), then
 * fsync + rename over @path when @ok, else removed. */
int output_file_open(const char *path, char **ret_tmp);
int output_file_finish(int fd, const char *tmp, const char *path, bool ok);

/* names.c */
int generate_service_name(char **ret);
/* "host/repo:tag" → repository and tag ("<none>" when there is none);
 * NULLs when out of memory. */
void split_reference(const char *ref, char **repo, char **tag);

/* Prints @j pretty, as docker inspect does. */
void print_json(json_object *j);
