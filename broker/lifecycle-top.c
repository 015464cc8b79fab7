/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TopContainer's ps(1): rows from /proc for the pids of the container's
 * cgroup. The broker is unprivileged, but /proc/<pid>/stat, status and
 * cmdline are world-readable (without hidepid).
 *
 * Understood ps_args: none, -e, -f, -ef/-fe, -A (all mean the default,
 * ps -ef columns UID PID PPID C STIME TTY TIME CMD), and -o LIST / -oLIST
 * (repeatable; LIST comma or blank separated) with the fields pid, ppid,
 * uid, user, comm, args (alias cmd, command), stat, time, etime, stime, tty,
 * c, rss (KiB), vsz (KiB). Anything else is InvalidArgs naming it. */
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "lifecycle.h"
#include "macro.h"

static const struct {
        const char *name, *title;
} top_fields[] = {
        { "uid", "UID" },   { "user", "USER" }, { "pid", "PID" },     { "ppid", "PPID" },
        { "c", "C" },       { "stime", "STIME" }, { "tty", "TTY" },   { "time", "TIME" },
        { "cmd", "CMD" },   { "args", "COMMAND" }, { "command", "COMMAND" }, { "comm", "COMMAND" },
        { "stat", "STAT" }, { "etime", "ELAPSED" }, { "rss", "RSS" }, { "vsz", "VSZ" },
        { "uidname", "UID" }, /* ps -ef's first column: the user name, titled UID */
};
static const char *const default_fields[] = { "uidname", "pid", "ppid", "c", "stime", "tty", "time", "cmd" };

static int strv_push(char ***l, size_t *n, const char *s) {
        char **t = reallocarray(*l, *n + 2, sizeof(char *));
        if (!t)
                return -ENOMEM;
        *l = t;
        t[*n] = strdup(s);
        if (!t[*n])
                return -ENOMEM;
        t[++*n] = NULL;
        return 0;
}

static bool field_known(const char *f) {
        if (streq(f, "uidname"))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(top_fields); i++)
                if (streq(top_fields[i].name, f))
                        return true;
        return false;
}

static int push_list(const char *list, char ***l, size_t *n, char **ret_error) {
        _cleanup_free_ char *copy = strdup(list);
        char *save = NULL;
        int r;

        if (!copy)
                return -ENOMEM;
        for (char *f = strtok_r(copy, ", ", &save); f; f = strtok_r(NULL, ", ", &save)) {
                if (!field_known(f)) {
                        if (asprintf(ret_error, "ps field '%s' is not understood", f) < 0)
                                *ret_error = NULL;
                        return -EINVAL;
                }
                if ((r = strv_push(l, n, f)) < 0)
                        return r;
        }
        return 0;
}

int top_parse_args(char **ps_args, char ***ret_fields, char **ret_error) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0;
        int r;

        *ret_error = NULL;
        for (char **a = ps_args; a && *a; a++) {
                if (isempty(*a) || streq(*a, "-e") || streq(*a, "-f") || streq(*a, "-ef") || streq(*a, "-fe") ||
                    streq(*a, "-A"))
                        continue;
                if (streq(*a, "-o")) {
                        if (!a[1]) {
                                *ret_error = strdup("ps argument '-o' needs a field list");
                                return -EINVAL;
                        }
                        a++;
                        r = push_list(*a, &l, &n, ret_error);
                } else if (strneq(*a, "-o", 2))
                        r = push_list(*a + 2, &l, &n, ret_error);
                else {
                        if (asprintf(ret_error, "ps argument '%s' is not understood", *a) < 0)
                                *ret_error = NULL;
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }
        if (n == 0)
                for (size_t i = 0; i < ELEMENTSOF(default_fields); i++)
                        if ((r = strv_push(&l, &n, default_fields[i])) < 0)
                                return r;
        *ret_fields = TAKE_PTR(l);
        return 0;
}

int top_titles(char **fields, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0;
        int r;

        for (char **f = fields; *f; f++) {
                const char *t = NULL;
                for (size_t i = 0; !t && i < ELEMENTSOF(top_fields); i++)
                        if (streq(top_fields[i].name, *f))
                                t = top_fields[i].title;
                if ((r = strv_push(&l, &n, t ?: *f)) < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

typedef struct ProcInfo {
        char comm[64];
        char state;
        long ppid, tty_nr;
        unsigned long long utime, stime, starttime, vsize;
        long long rss;
        long euid;
        char *cmdline;
} ProcInfo;

static int proc_read(const char *proc, pid_t pid, ProcInfo *p) {
        _cleanup_free_ char *dir = NULL, *stat = NULL, *status = NULL, *cmd = NULL;
        _cleanup_close_ int dfd = -1;
        size_t len;
        char *open_paren, *close_paren;
        int r;

        if (asprintf(&dir, "%s/%d", proc, (int) pid) < 0)
                return -ENOMEM;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if ((r = read_file_at(dfd, "stat", 4096, &stat, NULL)) < 0)
                return r;
        open_paren = strchr(stat, '(');
        close_paren = strrchr(stat, ')');
        if (!open_paren || !close_paren || close_paren < open_paren)
                return -EBADMSG;
        snprintf(p->comm, sizeof(p->comm), "%.*s", (int) MIN((size_t) (close_paren - open_paren - 1), sizeof(p->comm) - 1),
                 open_paren + 1);
        /* fields 3… after "pid (comm) " */
        if (sscanf(close_paren + 2,
                   "%c %ld %*d %*d %ld %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu %llu %lld",
                   &p->state, &p->ppid, &p->tty_nr, &p->utime, &p->stime, &p->starttime, &p->vsize, &p->rss) != 8)
                return -EBADMSG;

        p->euid = -1;
        if (read_file_at(dfd, "status", 64 * 1024, &status, NULL) >= 0) {
                char *u = strstr(status, "\nUid:");
                long real, eff;
                if (u && sscanf(u + 5, "%ld %ld", &real, &eff) == 2)
                        p->euid = eff;
        }
        if (read_file_at(dfd, "cmdline", 128 * 1024, &cmd, &len) >= 0 && len > 0) {
                while (len > 0 && cmd[len - 1] == '\0')
                        len--;
                for (size_t i = 0; i < len; i++)
                        if (cmd[i] == '\0')
                                cmd[i] = ' ';
                cmd[len] = '\0';
                p->cmdline = TAKE_PTR(cmd);
        }
        return 0;
}

static void format_duration(char *buf, size_t size, unsigned long long sec, bool elapsed) {
        unsigned long long d = sec / 86400, h = sec / 3600 % 24, m = sec / 60 % 60, s = sec % 60;

        if (d > 0)
                snprintf(buf, size, "%llu-%02llu:%02llu:%02llu", d, h, m, s);
        else if (!elapsed || h > 0)
                snprintf(buf, size, "%02llu:%02llu:%02llu", h, m, s);
        else
                snprintf(buf, size, "%02llu:%02llu", m, s);
}

static void format_tty(char *buf, size_t size, long tty_nr) {
        unsigned maj = major((dev_t) tty_nr), min = minor((dev_t) tty_nr);

        if (tty_nr == 0)
                snprintf(buf, size, "?");
        else if (maj >= 136 && maj <= 143)
                snprintf(buf, size, "pts/%u", (maj - 136) * 256 + min);
        else if (maj == 4 && min < 64)
                snprintf(buf, size, "tty%u", min);
        else
                snprintf(buf, size, "?");
}

int top_row(const char *proc, pid_t pid, char **fields, uint64_t boot_time_sec, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        ProcInfo p = {};
        long hz = sysconf(_SC_CLK_TCK), page_kib = sysconf(_SC_PAGESIZE) / 1024;
        time_t now = time(NULL), started;
        size_t n = 0;
        int r;

        if (hz <= 0)
                hz = 100;
        r = proc_read(proc, pid, &p);
        if (r < 0)
                return r;
        started = (time_t) (boot_time_sec + p.starttime / (unsigned long long) hz);

        for (char **f = fields; *f; f++) {
                char buf[96];
                const char *v = buf;

                if (streq(*f, "pid"))
                        snprintf(buf, sizeof(buf), "%d", (int) pid);
                else if (streq(*f, "ppid"))
                        snprintf(buf, sizeof(buf), "%ld", p.ppid);
                else if (streq(*f, "uid"))
                        snprintf(buf, sizeof(buf), "%ld", p.euid);
                else if (streq(*f, "user") || streq(*f, "uidname")) {
                        struct passwd pw, *res = NULL;
                        char pwbuf[1024];
                        if (p.euid >= 0 && getpwuid_r((uid_t) p.euid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res)
                                snprintf(buf, sizeof(buf), "%s", res->pw_name);
                        else
                                snprintf(buf, sizeof(buf), "%ld", p.euid);
                } else if (streq(*f, "comm"))
                        v = p.comm;
                else if (streq(*f, "args") || streq(*f, "cmd") || streq(*f, "command")) {
                        if (p.cmdline)
                                v = p.cmdline;
                        else
                                snprintf(buf, sizeof(buf), "[%s]", p.comm);
                } else if (streq(*f, "stat"))
                        snprintf(buf, sizeof(buf), "%c", p.state);
                else if (streq(*f, "time"))
                        format_duration(buf, sizeof(buf), (p.utime + p.stime) / (unsigned long long) hz, false);
                else if (streq(*f, "etime"))
                        format_duration(buf, sizeof(buf), now > started ? (unsigned long long) (now - started) : 0, true);
                else if (streq(*f, "c")) {
                        unsigned long long el = now > started ? (unsigned long long) (now - started) : 0;
                        unsigned long long cpu = (p.utime + p.stime) / (unsigned long long) hz;
                        snprintf(buf, sizeof(buf), "%llu", el > 0 ? MIN(cpu * 100 / el, 99ULL) : 0ULL);
                } else if (streq(*f, "stime")) {
                        struct tm tm_s, tm_n;
                        localtime_r(&started, &tm_s);
                        localtime_r(&now, &tm_n);
                        if (now - started < 86400 && tm_s.tm_yday == tm_n.tm_yday)
                                strftime(buf, sizeof(buf), "%H:%M", &tm_s);
                        else if (tm_s.tm_year == tm_n.tm_year)
                                strftime(buf, sizeof(buf), "%b%d", &tm_s);
                        else
                                strftime(buf, sizeof(buf), "%Y", &tm_s);
                } else if (streq(*f, "tty"))
                        format_tty(buf, sizeof(buf), p.tty_nr);
                else if (streq(*f, "rss"))
                        snprintf(buf, sizeof(buf), "%lld", p.rss * page_kib);
                else if (streq(*f, "vsz"))
                        snprintf(buf, sizeof(buf), "%llu", p.vsize / 1024);
                else
                        snprintf(buf, sizeof(buf), "-");
                if ((r = strv_push(&l, &n, v)) < 0) {
                        free(p.cmdline);
                        return r;
                }
        }
        free(p.cmdline);
        *ret = TAKE_PTR(l);
        return 0;
}
