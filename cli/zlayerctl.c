/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zlayerctl: the command-line client of com.zlayer.Runtime1. */
#include <getopt.h>
#include <locale.h>
#include <signal.h>

#include "config.h"
#include "zlayerctl.h"

const char *arg_bus_address;
bool arg_ask_password = true;

static int verb_help(int argc, char **argv);

static const Verb verbs[] = {
        { "attach",    verb_attach,    "Attach to a running container" },
        { "commit",    verb_commit,    "Create a new image from a container's changes" },
        { "container", verb_container, "Manage containers (container prune)" },
        { "cp",        verb_cp,        "Copy files between a container and the host" },
        { "create",    verb_create,    "Create a new container" },
        { "deploy",    verb_deploy,    "Deploy every service of a ZLayer deployment file" },
        { "diff",      verb_diff,      "Inspect changes to a container's filesystem" },
        { "exec",      verb_exec,      "Run a command in a running container" },
        { "export",    verb_export,    "Export a container's filesystem as a tar archive" },
        { "help",      verb_help,      "Show this help" },
        { "history",   verb_history,   "Show the history of an image" },
        { "image",     verb_image,     "Manage images (image prune, image ls)" },
        { "images",    verb_images,    "List images" },
        { "import",    verb_import,    "Import a tarball to create a filesystem image" },
        { "info",      verb_info,      "Display system-wide information" },
        { "inspect",   verb_inspect,   "Return low-level information on containers or images" },
        { "kill",      verb_kill,      "Kill one or more running containers" },
        { "load",      verb_load,      "Load an image from a tar archive" },
        { "logs",      verb_logs,      "Fetch the logs of a container" },
        { "pause",     verb_pause,     "Pause all processes within one or more containers" },
        { "port",      verb_port,      "List port mappings of a container" },
        { "ps",        verb_ps,        "List containers" },
        { "pull",      verb_pull,      "Download an image from a registry" },
        { "rename",    verb_rename,    "Rename a container" },
        { "rm",        verb_rm,        "Remove one or more containers" },
        { "rmi",       verb_rmi,       "Remove one or more images" },
        { "run",       verb_run,       "Create and run a new container from an image" },
        { "save",      verb_save,      "Save one or more images to a tar archive" },
        { "search",    verb_search,    "Search a registry for images" },
        { "start",     verb_start,     "Start one or more stopped containers" },
        { "stats",     verb_stats,     "Display resource usage statistics of containers" },
        { "stop",      verb_stop,      "Stop one or more running containers" },
        { "tag",       verb_tag,       "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
        { "top",       verb_top,       "Display the running processes of a container" },
        { "unpause",   verb_unpause,   "Unpause all processes within one or more containers" },
        { "update",    verb_update,    "Update the resources of one or more containers" },
        { "version",   verb_version,   "Show the zlayer version information" },
        { "wait",      verb_wait,      "Block until containers stop, then print their exit codes" },
};

static void help(FILE *f) {
        fprintf(f, "Usage: zlayerctl [OPTIONS] COMMAND [ARG...]\n\n"
                   "A client of the zlayer container runtime (com.zlayer.Runtime1 on D-Bus).\n\n"
                   "Options:\n"
                   "  --bus=ADDRESS   D-Bus address of zlayerd's bus (default: $ZLAYER_BUS_ADDRESS,\n"
                   "                  else the system bus)\n"
                   "  --no-ask-password  Do not start a polkit agent to ask for a password\n"
                   "  -h, --help      Show this help\n"
                   "  -v, --version   Print the version\n\n"
                   "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
        fprintf(f, "\nRun 'zlayerctl COMMAND --help' for more information on a command.\n");
}

static int verb_help(int argc, char **argv) {
        help(stdout);
        return 0;
}

/* Prints the verbs, one a line, for the shell completion. */
static void list_verbs(void) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                puts(verbs[i].name);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "bus",        required_argument, NULL, 'B' },
                { "help",       no_argument,       NULL, 'h' },
                { "version",    no_argument,       NULL, 'v' },
                { "list-verbs", no_argument,       NULL, 'L' },
                { "no-ask-password", no_argument,  NULL, 'P' },
                {}
        };
        int c, r;

        setlocale(LC_ALL, "");
        /* a closed pipe (zlayerctl ps | head) ends us quietly */
        signal(SIGPIPE, SIG_DFL);
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+hv", options, NULL)) >= 0) {
                switch (c) {
                case 'B':
                        arg_bus_address = optarg;
                        break;
                case 'h':
                        help(stdout);
                        return 0;
                case 'v':
                        printf("zlayerctl version %s\n", ZL_VERSION);
                        return 0;
                case 'L':
                        list_verbs();
                        return 0;
                case 'P':
                        arg_ask_password = false;
                        break;
                default:
                        fprintf(stderr, "zlayerctl: unknown option '%s'\nSee 'zlayerctl --help'.\n", argv[optind - 1]);
                        return EXIT_ZL;
                }
        }
        if (optind >= argc) {
                help(stderr);
                return EXIT_ZL;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, argv[optind])) {
                        int vargc = argc - optind;
                        char **vargv = argv + optind;

                        optind = 0;    /* glibc: re-initialize getopt for the verb */
                        opterr = 1;
                        r = verbs[i].fn(vargc, vargv);
                        fflush(stdout);
                        return r;
                }
        fprintf(stderr, "zlayerctl: '%s' is not a zlayerctl command.\nSee 'zlayerctl --help'.\n", argv[optind]);
        return EXIT_ZL;
}
