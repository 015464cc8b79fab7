/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zlayerctl images: docker's image listing. ListImages gives reference,
 * digest and size; the id and the creation time come from InspectImage,
 * one call per row (a dangling image is inspected by its manifest digest,
 * its only name). */
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>

#include "filter.h"
#include "format.h"
#include "template.h"
#include "zlayerctl.h"

#define DEFAULT_FORMAT "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}"
#define DIGESTS_FORMAT "table {{.Repository}}\\t{{.Tag}}\\t{{.Digest}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}"

typedef struct ImageRow {
        const char *reference, *digest;
        char *repository, *tag;
        uint64_t size;
        char id[72];          /* "sha256:…"; "" when InspectImage could not tell */
        uint64_t created;     /* µs since the epoch; 0 = unknown */
} ImageRow;

typedef struct ListContext {
        uint64_t now;
        bool no_trunc;
} ListContext;

static const char *const image_headers[][2] = {
        { ".Repository", "REPOSITORY" }, { ".Tag", "TAG" }, { ".ID", "IMAGE ID" }, { ".Digest", "DIGEST" },
        { ".CreatedSince", "CREATED" }, { ".CreatedAt", "CREATED AT" }, { ".Size", "SIZE" },
};

/* docker's short id: 12 hex digits without "sha256:". */
static const char *image_id_display(const char *id, bool no_trunc, char *buf, size_t size) {
        if (no_trunc || !strneq(id, "sha256:", 7))
                return id;
        snprintf(buf, size, "%.12s", id + 7);
        return buf;
}

static const char *image_value(const char *field, const void *item, const void *userdata, char *buf, size_t size) {
        const ImageRow *row = item;
        const ListContext *ctx = userdata;

        if (streq(field, ".Repository"))
                return row->repository;
        if (streq(field, ".Tag"))
                return row->tag;
        if (streq(field, ".ID"))
                return image_id_display(row->id, ctx->no_trunc, buf, size);
        if (streq(field, ".Digest"))
                return row->digest;
        if (streq(field, ".CreatedSince"))
                return format_time_ago(row->created, ctx->now, buf, size);
        if (streq(field, ".CreatedAt"))
                return format_timestamp(row->created, buf, size);
        if (streq(field, ".Size"))
                return format_size_human(row->size, buf, size);
        return NULL;
}

static const TemplateFields image_fields = {
        .verb = "images", .headers = image_headers, .n_headers = ELEMENTSOF(image_headers), .value = image_value,
};

static const char *const image_filter_keys[] = { "dangling", "reference", NULL };

/* dangling=true|false; reference=PATTERN, a shell pattern matched against
 * REPOSITORY:TAG and REPOSITORY, as docker's. */
static bool image_filter_match(const char *key, const char *value, const void *item) {
        const ImageRow *row = item;
        bool dangling = streq(row->reference, "<none>:<none>");

        if (streq(key, "dangling"))
                return dangling == streq(value, "true");
        if (streq(key, "reference"))
                return !dangling && (fnmatch(value, row->reference, 0) == 0 || fnmatch(value, row->repository, 0) == 0);
        return false;
}

/* Id and creation time of one row. An image removed since ListImages
 * keeps its row with both unknown, as a listing is a snapshot anyway. */
static int image_row_inspect(ImageRow *row) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(json_object_putp) json_object *j = NULL;
        bool dangling = streq(row->reference, "<none>:<none>");
        json_object *v;
        const char *text;
        int r;

        r = ctl_call(CALL_DEFAULT, "InspectImage", &error, &reply, "s", dangling ? row->digest : row->reference);
        if (r < 0)
                return 0;
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0)
                return r;
        j = json_tokener_parse(text);
        if (!j)
                return -EBADMSG;
        if (json_object_object_get_ex(j, "Id", &v) && json_object_is_type(v, json_type_string))
                snprintf(row->id, sizeof row->id, "%s", json_object_get_string(v));
        if (json_object_object_get_ex(j, "Created", &v) && json_object_is_type(v, json_type_string) &&
            parse_time_arg(json_object_get_string(v), 0, &row->created) < 0)
                row->created = 0;
        return 0;
}

static json_object *image_row_json(const ImageRow *row) {
        json_object *o = json_object_new_object();
        char ts[64];

        if (!o)
                return NULL;
        json_object_object_add(o, "reference", json_object_new_string(row->reference));
        json_object_object_add(o, "repository", json_object_new_string(row->repository));
        json_object_object_add(o, "tag", json_object_new_string(row->tag));
        json_object_object_add(o, "id", json_object_new_string(row->id));
        json_object_object_add(o, "digest", json_object_new_string(row->digest));
        json_object_object_add(o, "created", json_object_new_string(format_timestamp(row->created, ts, sizeof ts)));
        json_object_object_add(o, "size", json_object_new_int64((int64_t) row->size));
        return o;
}

static int images_usage(void) {
        printf("Usage: zlayerctl images [-a] [-q] [--digests] [--no-trunc] [--json] [--format TEMPLATE]\n"
               "                        [-f|--filter KEY=VALUE]... [REPOSITORY[:TAG]]\n\n"
               "List images: REPOSITORY TAG IMAGE ID CREATED SIZE. -q prints image ids only.\n"
               "TEMPLATE fields: {{.Repository}} {{.Tag}} {{.ID}} {{.Digest}} {{.CreatedSince}}\n"
               "{{.CreatedAt}} {{.Size}}; a \"table \" prefix prints aligned columns with headers.\n"
               "Filters: dangling=true|false, reference=PATTERN (a shell pattern).\n");
        return 0;
}

int verb_images(int argc, char **argv) {
        static const struct option options[] = {
                { "all",      no_argument,       NULL, 'a' },
                { "json",     no_argument,       NULL, 'j' },
                { "quiet",    no_argument,       NULL, 'q' },
                { "no-trunc", no_argument,       NULL, 'T' },
                { "digests",  no_argument,       NULL, 'D' },
                { "format",   required_argument, NULL, 'F' },
                { "filter",   required_argument, NULL, 'f' },
                { "help",     no_argument,       NULL, 'h' },
                {}
        };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(json_object_putp) json_object *arr = NULL;
        _cleanup_(template_output_free) TemplateOutput tmpl = {};
        ListContext ctx = { .now = now_usec() };
        Filters filters = { .known = image_filter_keys };
        bool json = false, quiet = false, digests = false;
        const char *format = NULL, *ref, *digest;
        uint64_t size;
        int c, r;

        while ((c = getopt_long(argc, argv, "aqf:h", options, NULL)) >= 0)
                switch (c) {
                case 'a': break;   /* every image is listed: there are no intermediate images */
                case 'j': json = true; break;
                case 'q': quiet = true; break;
                case 'T': ctx.no_trunc = true; break;
                case 'D': digests = true; break;
                case 'F': format = optarg; break;
                case 'f':
                        if (filters_add(&filters, argv[0], optarg) < 0)
                                return usage_error(argv[0], "bad --filter '%s'", optarg);
                        if (strneq(optarg, "dangling=", 9) && !streq(optarg + 9, "true") && !streq(optarg + 9, "false"))
                                return usage_error(argv[0], "dangling takes true or false, not '%s'", optarg + 9);
                        break;
                case 'h': return images_usage();
                default:
                        return usage_error(argv[0], "bad option");
                }
        if (argc - optind > 1)
                return usage_error(argv[0], "takes at most 1 argument (REPOSITORY[:TAG])");
        if (!format)
                format = digests ? DIGESTS_FORMAT : DEFAULT_FORMAT;
        if (!json && !quiet && template_output_begin(&tmpl, format, &image_fields, &ctx) < 0)
                return usage_error(argv[0], "bad --format template '%s'", format);
        r = ctl_call(CALL_DEFAULT, "ListImages", &error, &reply, NULL);
        if (r < 0)
                return ctl_fail(&error, r, "ListImages");
        arr = json_object_new_array();
        if (!arr)
                return ctl_fail(NULL, -ENOMEM, "images");
        r = sd_bus_message_enter_container(reply, 'a', "(sst)");
        if (r < 0)
                return ctl_fail(NULL, r, "images");
        while ((r = sd_bus_message_read(reply, "(sst)", &ref, &digest, &size)) > 0) {
                _cleanup_free_ char *repository = NULL, *tag = NULL;
                ImageRow row = { .reference = ref, .digest = digest, .size = size };
                char buf[80];

                split_reference(ref, &repository, &tag);
                if (!repository || !tag)
                        return ctl_fail(NULL, -ENOMEM, "images");
                if (optind < argc && !streq(argv[optind], repository) && !streq(argv[optind], ref))
                        continue;
                row.repository = repository;
                row.tag = tag;
                if (!filters_match(&filters, image_filter_match, &row))
                        continue;
                r = image_row_inspect(&row);
                if (r < 0)
                        return ctl_fail(NULL, r, "InspectImage");
                if (json) {
                        json_object *o = image_row_json(&row);
                        if (!o)
                                return ctl_fail(NULL, -ENOMEM, "images");
                        json_object_array_add(arr, o);
                } else if (quiet)
                        printf("%s\n", image_id_display(row.id, ctx.no_trunc, buf, sizeof buf));
                else if ((r = template_output_item(&tmpl, &row)) < 0)
                        return ctl_fail(NULL, r, "images");
        }
        if (r < 0)
                return ctl_fail(NULL, r, "images");
        if (json)
                print_json(arr);
        else if (!quiet)
                template_output_end(&tmpl);
        return 0;
}
