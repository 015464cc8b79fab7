/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zlayerctl's helpers: human formats, time arguments, aligned tables, the
 * docker flags → ServiceSpec translation and the stream demultiplexer. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/filter.h"
#include "cli/format.h"
#include "cli/run-spec.h"
#include "cli/stream.h"
#include "cli/table.h"
#include "cli/template.h"
#include "macro.h"

const char *arg_bus_address;   /* defined by zlayerctl.c in the program */
bool arg_ask_password;

#define SEC USEC_PER_SEC

static void test_duration_human(void **state) {
        static const struct { uint64_t usec; const char *want; } cases[] = {
                { 0, "Less than a second" },
                { 999999, "Less than a second" },
                { 1 * SEC, "1 second" },
                { 59 * SEC, "59 seconds" },
                { 60 * SEC, "About a minute" },
                { 119 * SEC, "About a minute" },
                { 180 * SEC, "3 minutes" },
                { 59 * 60 * SEC, "59 minutes" },
                { 61 * 60 * SEC, "About an hour" },
                { 3 * 3600 * SEC, "3 hours" },
                { 47 * 3600 * SEC, "47 hours" },
                { 3 * 86400 * SEC, "3 days" },
                { 21 * 86400 * SEC, "3 weeks" },
                { 90 * 86400 * SEC, "3 months" },
                { 800 * 86400 * SEC, "2 years" },
        };
        char buf[64];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                assert_string_equal(format_duration_human(cases[i].usec, buf, sizeof buf), cases[i].want);
        assert_string_equal(format_time_ago(1000 * SEC, 1180 * SEC, buf, sizeof buf), "3 minutes ago");
        assert_string_equal(format_time_ago(0, 1180 * SEC, buf, sizeof buf), "");
        /* a clock that went backwards is "now", not a wrap-around */
        assert_string_equal(format_time_ago(2000 * SEC, 1000 * SEC, buf, sizeof buf), "Less than a second ago");
}

static void test_size_human(void **state) {
        char buf[32];

        assert_string_equal(format_size_human(0, buf, sizeof buf), "0B");
        assert_string_equal(format_size_human(999, buf, sizeof buf), "999B");
        assert_string_equal(format_size_human(1000, buf, sizeof buf), "1kB");
        assert_string_equal(format_size_human(1037460, buf, sizeof buf), "1.037MB");
        assert_string_equal(format_size_human(4260000, buf, sizeof buf), "4.26MB");
        assert_string_equal(format_size_human(5000000000ULL, buf, sizeof buf), "5GB");
}

static void test_timestamp_and_time_args(void **state) {
        char buf[64];
        uint64_t t;

        assert_string_equal(format_timestamp(1, buf, sizeof buf), "1970-01-01T00:00:00.000001Z");
        assert_string_equal(format_timestamp(1764394594123456ULL, buf, sizeof buf), "2025-11-29T05:36:34.123456Z");
        assert_string_equal(format_timestamp(0, buf, sizeof buf), "");

        assert_int_equal(parse_time_arg("1700000000", 0, &t), 0);
        assert_true(t == 1700000000ULL * SEC);
        assert_int_equal(parse_time_arg("1700000000.25", 0, &t), 0);
        assert_true(t == 1700000000ULL * SEC + 250000);
        assert_int_equal(parse_time_arg("2025-11-29T05:36:34Z", 0, &t), 0);
        assert_true(t == 1764394594ULL * SEC);
        assert_int_equal(parse_time_arg("2025-11-29T05:36:34.5Z", 0, &t), 0);
        assert_true(t == 1764394594ULL * SEC + 500000);
        assert_int_equal(parse_time_arg("10m", 3600 * SEC, &t), 0);
        assert_true(t == 3000 * SEC);
        assert_int_equal(parse_time_arg("bogus", 0, &t), -EINVAL);
        assert_int_equal(parse_time_arg("2025-11-29T05:36:34+02:00", 0, &t), -EINVAL);
        assert_int_equal(parse_time_arg("", 0, &t), -EINVAL);
}

static void test_table_alignment(void **state) {
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        Table *t = table_new(3, (const char *[]) { "ID", "IMAGE", "STATUS" });

        assert_non_null(f);
        assert_non_null(t);
        assert_int_equal(table_add_row(t, (const char *[]) { "web-rep-0", "busybox", "Up 3 minutes" }), 0);
        assert_int_equal(table_add_row(t, (const char *[]) { "x", "ünïcode", NULL }), 0);
        assert_int_equal(table_n_rows(t), 2);
        assert_int_equal(table_print(t, f, 1), 0);
        fclose(f);
        assert_string_equal(out,
                            "ID          IMAGE     STATUS\n"
                            "web-rep-0   busybox   Up 3 minutes\n"
                            "x           ünïcode   \n");
        table_free(t);
}

static const char *const fake_headers[][2] = { { ".Name", "NAME" }, { ".Size", "SIZE" } };

static const char *fake_value(const char *field, const void *item, const void *userdata, char *buf, size_t size) {
        const char *const *row = item;
        return streq(field, ".Name") ? row[0] : streq(field, ".Size") ? row[1] : NULL;
}

static const TemplateFields fake_fields = { "fake", fake_headers, ELEMENTSOF(fake_headers), fake_value };

/* docker's --format subset: fields, \t and \n, headers, and refusals. */
static void test_template_expand(void **state) {
        const char *row[] = { "web", "1.5MB" };
        char *out = NULL;

        assert_int_equal(template_expand("{{.Name}}:{{ .Size }}\\t!\\n", &fake_fields, row, NULL, &out), 0);
        assert_string_equal(out, "web:1.5MB\t!\n");
        free(out);
        assert_int_equal(template_expand("{{.Name}}\\t{{.Size}}", &fake_fields, NULL, NULL, &out), 0);
        assert_string_equal(out, "NAME\tSIZE");
        free(out);
        assert_int_equal(template_expand("plain \\x", &fake_fields, row, NULL, &out), 0);
        assert_string_equal(out, "plain \\x");
        free(out);
        out = NULL;
        assert_int_equal(template_expand("{{.Nope}}", &fake_fields, row, NULL, &out), -EINVAL);
        assert_int_equal(template_expand("{{.Name", &fake_fields, row, NULL, &out), -EINVAL);
        assert_int_equal(template_expand("{{}}", &fake_fields, row, NULL, &out), -EINVAL);
        assert_int_equal(template_expand("{{.Nope}}", &fake_fields, NULL, NULL, &out), -EINVAL);
        assert_null(out);
}

/* "table …" validates the whole template before any row and aligns; a
 * line template is checked up front too. */
static void test_template_output(void **state) {
        const char *a[] = { "web", "1.5MB" }, *b[] = { "database", "12kB" };
        _cleanup_(template_output_free) TemplateOutput o = {};

        assert_int_equal(template_output_begin(&o, "table {{.Name}}\\t{{.Size}}", &fake_fields, NULL), 0);
        assert_non_null(o.table);
        assert_int_equal(template_output_item(&o, a), 0);
        assert_int_equal(template_output_item(&o, b), 0);
        assert_int_equal(table_n_rows(o.table), 2);
        template_output_free(&o);
        assert_null(o.table);
        assert_int_equal(template_output_begin(&o, "{{.Name}} {{.Size}}", &fake_fields, NULL), 0);
        assert_null(o.table);
        assert_int_equal(template_output_begin(&o, "table {{.Name}}\\t{{.Bad}}", &fake_fields, NULL), -EINVAL);
        assert_int_equal(template_output_begin(&o, "tablet {{.Bad}}", &fake_fields, NULL), -EINVAL);
}

/* An item is "name:color"; key "name" and "color" compare exactly. */
static bool fake_match(const char *key, const char *value, const void *item) {
        const char *s = item, *colon = strchr(s, ':');
        if (streq(key, "name"))
                return strlen(value) == (size_t) (colon - s) && strneq(s, value, colon - s);
        return streq(key, "color") && streq(colon + 1, value);
}

/* docker's --filter: values of one key OR, different keys AND. */
static void test_filters(void **state) {
        static const char *const known[] = { "name", "color", NULL };
        Filters f = { .known = known };

        assert_true(filters_match(&f, fake_match, "web:red"));   /* none given: all pass */
        assert_int_equal(filters_add(&f, "ps", "color=red"), 0);
        assert_int_equal(filters_add(&f, "ps", "color=blue"), 0);
        assert_true(filters_match(&f, fake_match, "web:red"));
        assert_true(filters_match(&f, fake_match, "db:blue"));
        assert_false(filters_match(&f, fake_match, "db:green"));
        assert_int_equal(filters_add(&f, "ps", "name=db"), 0);
        assert_false(filters_match(&f, fake_match, "web:red"));
        assert_true(filters_match(&f, fake_match, "db:blue"));
        assert_false(filters_match(&f, fake_match, "db:green"));

        assert_int_equal(filters_add(&f, "ps", "shape=round"), -EINVAL);
        assert_int_equal(filters_add(&f, "ps", "name"), -EINVAL);
        assert_int_equal(filters_add(&f, "ps", "name="), -EINVAL);
        assert_int_equal(filters_add(&f, "ps", "=web"), -EINVAL);
        assert_int_equal(filters_add(&f, "ps", "nam=web"), -EINVAL);
        assert_int_equal(f.n, 3);
        while (f.n < FILTERS_MAX)
                assert_int_equal(filters_add(&f, "ps", "color=red"), 0);
        assert_int_equal(filters_add(&f, "ps", "color=red"), -E2BIG);
}

static json_object *get(json_object *o, const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        char *save = NULL;

        for (char *k = strtok_r(copy, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
                if (*k >= '0' && *k <= '9')
                        o = json_object_array_get_idx(o, atoi(k));
                else if (!json_object_object_get_ex(o, k, &o))
                        return NULL;
        }
        return o;
}

static const char *gets(json_object *o, const char *path) {
        json_object *v = get(o, path);
        return v ? json_object_get_string(v) : "(missing)";
}

static int parse(RunOptions *o, char **argv) {
        int argc = 0;
        while (argv[argc])
                argc++;
        optind = 0;
        return run_options_parse("run", argc, argv, o);
}

static void test_run_flags_to_spec(void **state) {
        RunOptions o = {};
        char *argv[] = {
                "run", "-d", "--rm", "-e", "A=1", "-v", "/h:/c:ro", "-v", "/h2:/c2", "--tmpfs", "/t:size=1m,mode=1777",
                "-p", "127.0.0.1:8080:80/udp", "-p", "9000", "-m", "64m", "--cpus", "0.5", "--pids-limit", "10",
                "-u", "1:2", "-w", "/w", "--entrypoint", "/bin/x", "--restart", "on-failure:3", "--cap-add",
                "NET_ADMIN", "--cap-drop", "MKNOD", "--read-only", "--network", "none", "--hostname", "h1",
                "--service", "web", "--replica", "4", "-l", "k=v", "img", "a", "b", NULL
        };
        json_object *s;

        assert_int_equal(parse(&o, argv), 0);
        s = o.spec;
        assert_true(o.detach && o.rm && !o.tty && !o.interactive);
        assert_string_equal(o.service, "web");
        assert_int_equal(o.replica, 4);
        assert_string_equal(o.image, "img");
        assert_string_equal(gets(s, "image.name"), "img");
        assert_string_equal(gets(s, "env.A"), "1");
        assert_string_equal(gets(s, "storage.0.type"), "bind");
        assert_string_equal(gets(s, "storage.0.source"), "/h");
        assert_string_equal(gets(s, "storage.0.target"), "/c");
        assert_true(json_object_get_boolean(get(s, "storage.0.readonly")));
        assert_false(json_object_get_boolean(get(s, "storage.1.readonly")));
        assert_string_equal(gets(s, "storage.2.type"), "tmpfs");
        assert_int_equal(json_object_get_int64(get(s, "storage.2.size")), 1 << 20);
        assert_string_equal(gets(s, "storage.2.mode"), "1777");
        assert_int_equal(json_object_get_int(get(s, "port_mappings.0.container_port")), 80);
        assert_int_equal(json_object_get_int(get(s, "port_mappings.0.host_port")), 8080);
        assert_string_equal(gets(s, "port_mappings.0.protocol"), "udp");
        assert_string_equal(gets(s, "port_mappings.0.host_ip"), "127.0.0.1");
        assert_int_equal(json_object_get_int(get(s, "port_mappings.1.container_port")), 9000);
        assert_null(get(s, "port_mappings.1.host_port"));
        assert_int_equal(json_object_get_int64(get(s, "resources.memory")), 64 << 20);
        assert_true(json_object_get_double(get(s, "resources.cpu")) == 0.5);
        assert_int_equal(json_object_get_int64(get(s, "resources.pids_limit")), 10);
        assert_string_equal(gets(s, "user"), "1:2");
        assert_string_equal(gets(s, "command.workdir"), "/w");
        assert_string_equal(gets(s, "command.entrypoint.0"), "/bin/x");
        assert_string_equal(gets(s, "command.args.0"), "a");
        assert_string_equal(gets(s, "command.args.1"), "b");
        assert_string_equal(gets(s, "restart_policy.kind"), "on_failure");
        assert_int_equal(json_object_get_int(get(s, "restart_policy.max_attempts")), 3);
        assert_string_equal(gets(s, "capabilities.0"), "NET_ADMIN");
        assert_string_equal(gets(s, "cap_drop.0"), "MKNOD");
        assert_true(json_object_get_boolean(get(s, "read_only_root_fs")));
        assert_string_equal(gets(s, "network_mode"), "none");
        assert_string_equal(gets(s, "hostname"), "h1");
        assert_string_equal(gets(s, "labels.k"), "v");
        run_options_done(&o);

        /* options stop at IMAGE: the command's own flags are its arguments */
        char *argv2[] = { "run", "-it", "img", "ls", "-l", "--rm", NULL };
        o = (RunOptions) {};
        assert_int_equal(parse(&o, argv2), 0);
        assert_true(o.tty && o.interactive && !o.rm);
        assert_int_equal(o.n_command, 3);
        assert_string_equal(gets(o.spec, "command.args.2"), "--rm");
        assert_null(get(o.spec, "command.entrypoint"));
        run_options_done(&o);
}

static void test_run_bad_flags(void **state) {
        static const char *const bad[][3] = {
                { "-v", "relative:/c" }, { "-v", "/h:/c:rx" }, { "-v", "/only" }, { "-p", "70000" },
                { "-p", "80/sctp" }, { "--restart", "sometimes" }, { "--restart", "on-failure:x" },
                { "-m", "12q" }, { "--cpus", "0" }, { "--cpus", "nan" }, { "--pids-limit", "-1" },
                { "--network", "Bad Name" }, { "--network", "-lead" }, { "--replica", "-1" }, { "--pull", "sometimes" }, { "--tmpfs", "/t:bogus=1" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                RunOptions o = {};
                char *argv[] = { "run", (char *) bad[i][0], (char *) bad[i][1], "img", NULL };
                assert_int_equal(parse(&o, argv), -EINVAL);
                run_options_done(&o);
        }
        RunOptions o = {};
        char *noimage[] = { "run", "-d", NULL };
        assert_int_equal(parse(&o, noimage), -EINVAL);
        run_options_done(&o);
}

static void write_frame(int fd, uint8_t stream, const char *data) {
        uint32_t n = strlen(data);
        unsigned char hdr[8] = { stream, 0, 0, 0, n >> 24, n >> 16, n >> 8, n };
        assert_int_equal(write(fd, hdr, 8), 8);
        assert_int_equal(write(fd, data, n), (ssize_t) n);
}

static void test_demux(void **state) {
        int in[2], out[2], err[2];
        char buf[64];
        ssize_t n;

        assert_int_equal(pipe2(in, O_CLOEXEC), 0);
        assert_int_equal(pipe2(out, O_CLOEXEC | O_NONBLOCK), 0);
        assert_int_equal(pipe2(err, O_CLOEXEC | O_NONBLOCK), 0);
        write_frame(in[1], 1, "hello ");
        write_frame(in[1], 2, "oops");
        write_frame(in[1], 1, "world");
        write_frame(in[1], 1, "");
        close(in[1]);
        assert_int_equal(demux_stream(in[0], out[1], err[1]), 0);
        n = read(out[0], buf, sizeof buf);
        assert_int_equal(n, 11);
        assert_memory_equal(buf, "hello world", 11);
        n = read(err[0], buf, sizeof buf);
        assert_int_equal(n, 4);
        assert_memory_equal(buf, "oops", 4);
        close(in[0]);

        /* a bad stream byte and a truncated frame are errors, not output */
        assert_int_equal(pipe2(in, O_CLOEXEC), 0);
        write_frame(in[1], 7, "x");
        close(in[1]);
        assert_int_equal(demux_frame(in[0], out[1], err[1]), -EBADMSG);
        close(in[0]);
        assert_int_equal(pipe2(in, O_CLOEXEC), 0);
        assert_int_equal(write(in[1], (unsigned char[]) { 1, 0, 0, 0, 0, 0, 0, 9, 'a' }, 9), 9);
        close(in[1]);
        assert_int_equal(demux_frame(in[0], out[1], err[1]), -EPIPE);
        close(in[0]);
        for (int i = 0; i < 2; i++) {
                close(out[i]);
                close(err[i]);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_duration_human),
                cmocka_unit_test(test_size_human),
                cmocka_unit_test(test_timestamp_and_time_args),
                cmocka_unit_test(test_table_alignment),
                cmocka_unit_test(test_template_expand),
                cmocka_unit_test(test_template_output),
                cmocka_unit_test(test_filters),
                cmocka_unit_test(test_run_flags_to_spec),
                cmocka_unit_test(test_run_bad_flags),
                cmocka_unit_test(test_demux),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
