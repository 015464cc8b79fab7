/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* deploy FILE: every service of a ZLayer deployment file, scale.replicas
 * containers each (ids <service>-rep-1 … -rep-N), pulled if missing,
 * created and started. Containers that exist are left as they are (a
 * created one is started), so a second run changes nothing. */
#include <errno.h>
#include <inttypes.h>

#include "errors.h"
#include "fileio.h"
#include "ids.h"
#include "yaml-json.h"
#include "zlayerctl.h"

#define REPLICAS_MAX 1000

static int read_file_limited(const char *path, char **ret, size_t *ret_len) {
        _cleanup_fclose_ FILE *f = streq(path, "-") ? NULL : fopen(path, "re");
        FILE *in = streq(path, "-") ? stdin : f;
        _cleanup_free_ char *buf = NULL;
        size_t n;

        if (!in)
                return -errno;
        buf = malloc(YAML_JSON_MAX_INPUT + 1);
        if (!buf)
                return -ENOMEM;
        n = fread(buf, 1, YAML_JSON_MAX_INPUT + 1, in);
        if (ferror(in))
                return -EIO;
        if (n > YAML_JSON_MAX_INPUT)
                return -E2BIG;
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = n;
        return 0;
}

static const ContainerInfo *find_container(const ContainerInfo *l, size_t n, const char *id) {
        for (size_t i = 0; i < n; i++)
                if (streq(l[i].id, id))
                        return &l[i];
        return NULL;
}

static int deploy_replica(const char *service, uint32_t replica, const char *spec, const ContainerInfo *l, size_t n) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        char id[256];
        const ContainerInfo *c;
        int r;

        r = container_id_format(service, replica, id, sizeof id);
        if (r < 0) {
                fprintf(stderr, "zlayerctl deploy: '%s' is not a valid service name (a DNS label)\n", service);
                return EXIT_ZL;
        }
        c = find_container(l, n, id);
        if (c && !streq(c->state, "pending") && !streq(c->state, "initializing")) {
                printf("%s: %s (unchanged)\n", id, c->state);
                return 0;
        }
        if (!c) {
                r = ctl_call(CALL_FOREVER, "CreateContainer", &error, NULL, "sus", service, replica, spec);
                if (r < 0)
                        return ctl_fail(&error, r, id);
        }
        r = ctl_call(CALL_FOREVER, "StartContainer", &error, NULL, "s", id);
        if (r < 0)
                return ctl_fail(&error, r, id);
        printf("%s: %s\n", id, c ? "started" : "created and started");
        return 0;
}

static int deploy_service(const char *name, json_object *svc, const ContainerInfo *l, size_t n) {
        json_object *image, *image_name, *policy, *scale, *replicas;
        const char *spec, *pol = "if_not_present";
        int64_t count = 1;
        int r, ret = 0;

        if (!json_object_is_type(svc, json_type_object) || !json_object_object_get_ex(svc, "image", &image) ||
            !json_object_object_get_ex(image, "name", &image_name) || !json_object_is_type(image_name, json_type_string)) {
                fprintf(stderr, "zlayerctl deploy: service '%s' has no image.name\n", name);
                return EXIT_ZL;
        }
        if (json_object_object_get_ex(image, "pull_policy", &policy) && json_object_is_type(policy, json_type_string))
                pol = json_object_get_string(policy);
        if (json_object_object_get_ex(svc, "scale", &scale) && json_object_object_get_ex(scale, "replicas", &replicas)) {
                if (!json_object_is_type(replicas, json_type_int) || (count = json_object_get_int64(replicas)) < 0 ||
                    count > REPLICAS_MAX) {
                        fprintf(stderr, "zlayerctl deploy: service '%s': scale.replicas must be 0…%d, not '%s'\n", name,
                                REPLICAS_MAX, json_object_get_string(replicas));
                        return EXIT_ZL;
                }
        }
        if (!streq(pol, "never") && !image_is_present(json_object_get_string(image_name))) {
                r = pull_image(json_object_get_string(image_name), "if_not_present", false, false);
                if (r != 0)
                        return r;
        }
        spec = json_object_to_json_string_ext(svc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        for (int64_t i = 1; i <= count; i++) {
                r = deploy_replica(name, (uint32_t) i, spec, l, n);
                if (r != 0)
                        ret = r;
        }
        return ret;
}

int verb_deploy(int argc, char **argv) {
        _cleanup_free_ char *text = NULL, *err = NULL;
        _cleanup_(json_object_putp) json_object *doc = NULL;
        json_object *services;
        ContainerInfo *l = NULL;
        size_t len = 0, n = 0;
        int r, ret = 0;

        if (argc != 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                if (argc == 2)
                        return printf("Usage: zlayerctl deploy FILE\n"), 0;
                return usage_error(argv[0], "requires exactly 1 argument (FILE, or - for stdin)");
        }
        r = read_file_limited(argv[1], &text, &len);
        if (r < 0) {
                fprintf(stderr, "zlayerctl deploy: cannot read %s: %s\n", argv[1],
                        r == -E2BIG ? "larger than 1 MiB" : strerror(-r));
                return EXIT_ZL;
        }
        r = yaml_to_json(text, len, &doc, &err);
        if (r < 0) {
                fprintf(stderr, "zlayerctl deploy: %s: %s\n", argv[1], err ?: strerror(-r));
                return EXIT_ZL;
        }
        if (!json_object_is_type(doc, json_type_object) || !json_object_object_get_ex(doc, "services", &services) ||
            !json_object_is_type(services, json_type_object)) {
                fprintf(stderr, "zlayerctl deploy: %s: no 'services' map\n", argv[1]);
                return EXIT_ZL;
        }
        if (list_containers(&l, &n) < 0)
                return EXIT_ZL;
        json_object_object_foreach(services, name, svc) {
                r = deploy_service(name, svc, l, n);
                if (r != 0)
                        ret = r;
        }
        container_info_free_many(l, n);
        return ret;
}
