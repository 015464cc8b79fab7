/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "network.h"
#include "overlay.h"
#include "shim.h"

_printf_(2, 3) static int fail(char **ret_error, const char *fmt, ...) {
        int saved = errno;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return saved > 0 ? -saved : -EIO;
}

int open_in_root(int rootfd, const char *path, int flags) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int) syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        return fd < 0 ? -errno : fd;
}

/* Opens (O_PATH) @path inside the root, creating missing directories and, if
 * @dir is false, an empty file as the last component. */
static int ensure_target(int rootfd, const char *path, bool dir) {
        _cleanup_free_ char *p = strdup(path);
        int fd;

        if (!p)
                return -ENOMEM;
        fd = open_in_root(rootfd, p, O_PATH);
        if (fd >= 0 || fd != -ENOENT)
                return fd;

        for (char *s = p + 1;; s++) {
                bool last = *s == '\0';
                if (*s == '/' || last) {
                        char saved = *s;
                        _cleanup_close_ int parent = -1;
                        char *slash;

                        *s = '\0';
                        fd = open_in_root(rootfd, p, O_PATH);
                        if (fd >= 0) {
                                close(fd);
                        } else if (fd == -ENOENT) {
                                slash = strrchr(p, '/');
                                *slash = '\0';
                                parent = open_in_root(rootfd, p[0] ? p : "/", O_PATH | O_DIRECTORY);
                                *slash = '/';
                                if (parent < 0)
                                        return parent;
                                if (last && !dir) {
                                        int f = openat(parent, slash + 1, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
                                        if (f < 0 && errno != EEXIST)
                                                return -errno;
                                        if (f >= 0)
                                                close(f);
                                } else if (mkdirat(parent, slash + 1, 0755) < 0 && errno != EEXIST)
                                        return -errno;
                        } else
                                return fd;
                        *s = saved;
                }
                if (last)
                        break;
        }
        return open_in_root(rootfd, p, O_PATH);
}

static int mount_on_fd(const char *source, int fd, const char *fstype, unsigned long flags, const char *data) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        return mount(source, path, fstype, flags, data) < 0 ? -errno : 0;
}

/* Mounts @source (NULL for bind mounts: @bind_source) at @target inside the root. */
static int mount_in_root(int rootfd, const char *target, bool dir, const char *source, const char *fstype,
                         unsigned long flags, const char *data, char **ret_error) {
        _cleanup_close_ int fd = ensure_target(rootfd, target, dir);
        int r;

        if (fd < 0) {
                errno = -fd;
                return fail(ret_error, "creating mount point %s: %m", target);
        }
        r = mount_on_fd(source, fd, fstype, flags, data);
        if (r < 0) {
                errno = -r;
                return fail(ret_error, "mounting %s on %s: %m", source ?: fstype, target);
        }
        return 0;
}

static int remount_readonly_in_root(int rootfd, const char *target, unsigned long extra, char **ret_error) {
        /* reopen: the fd used for mounting still names the covered inode */
        _cleanup_close_ int fd = open_in_root(rootfd, target, O_PATH);
        int r;

        if (fd < 0) {
                errno = -fd;
                return fail(ret_error, "opening %s: %m", target);
        }
        r = mount_on_fd(NULL, fd, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | extra, NULL);
        if (r < 0) {
                errno = -r;
                return fail(ret_error, "remounting %s read-only: %m", target);
        }
        return 0;
}

/* Opens ROOT/containers/<id>/<name>: a directory zlayer-exec made (root's),
 * reached without following any symlink, since the container dir belongs to
 * the unprivileged user. */
static int open_container_dir(int root_fd, const char *id, const char *name, char **ret_error) {
        _cleanup_free_ char *p = NULL;
        struct open_how how = {
                .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH,
        };
        struct stat st;
        int fd;

        if (asprintf(&p, "containers/%s/%s", id, name) < 0)
                return -ENOMEM;
        fd = (int) syscall(SYS_openat2, root_fd, p, &how, sizeof(how));
        if (fd < 0)
                return fail(ret_error, "opening %s without symlinks: %m", p);
        if (fstat(fd, &st) < 0 || st.st_uid != 0) {
                close(fd);
                errno = EPERM;
                return fail(ret_error, "%s is not owned by root", p);
        }
        return fd;
}

int rootfs_mount_overlay(const char *root, const LaunchConfig *c, int *ret_mount_fd, char **ret_error) {
        _cleanup_close_ int root_fd = -1, upper = -1, work = -1, target = -1, fsfd = -1, mnt = -1;
        _cleanup_strv_free_ char **lowers = NULL;
        char upper_path[64], work_path[64];

        root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return fail(ret_error, "opening %s: %m", root);
        if ((upper = open_container_dir(root_fd, c->id, "upper", ret_error)) < 0)
                return upper;
        if ((work = open_container_dir(root_fd, c->id, "work", ret_error)) < 0)
                return work;
        if ((target = open_container_dir(root_fd, c->id, "rootfs", ret_error)) < 0)
                return target;

        /* The new mount API: layers one by one (no page-size limit on the
         * options), upper and work by fd, and a mount fd that is the new
         * root itself, so nothing is looked up by path again. */
        lowers = calloc(strv_length(c->layers) + 1, sizeof(char *));
        if (!lowers)
                return -ENOMEM;
        for (size_t i = 0; c->layers[i]; i++) {
                if (asprintf(&lowers[i], "%s/layers/%s", root, c->layers[i]) < 0)
                        return -ENOMEM;
                if (access(lowers[i], F_OK) < 0)
                        return fail(ret_error, "layer %s: %m", lowers[i]);
        }
        snprintf(upper_path, sizeof(upper_path), "/proc/self/fd/%d", upper);
        snprintf(work_path, sizeof(work_path), "/proc/self/fd/%d", work);
        fsfd = overlay_fs_create(lowers, upper_path, work_path);
        if (fsfd < 0) {
                errno = -fsfd;
                return fail(ret_error, "creating the overlay of %s: %m", c->id);
        }
        mnt = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
        if (mnt < 0)
                return fail(ret_error, "fsmount overlay: %m");
        if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return fail(ret_error, "attaching the overlay of %s: %m", c->id);
        *ret_mount_fd = TAKE_FD(mnt);
        return 0;
}

static int setup_dev(int rootfd, char **ret_error) {
        static const struct {
                const char *name;
                unsigned major, minor;
        } nodes[] = {
                { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
                { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
        };
        static const struct {
                const char *target, *link;
        } links[] = {
                { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
                { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
                { "pts/ptmx", "ptmx" }, { "/proc/kcore", "core" },
        };
        _cleanup_close_ int dev = -1;
        int r;

        r = mount_in_root(rootfd, "/dev", true, "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME,
                          "mode=755,size=65536k", ret_error);
        if (r < 0)
                return r;
        dev = open_in_root(rootfd, "/dev", O_RDONLY | O_DIRECTORY);
        if (dev < 0) {
                errno = -dev;
                return fail(ret_error, "opening /dev: %m");
        }
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++)
                if (mknodat(dev, nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) < 0 ||
                    fchmodat(dev, nodes[i].name, 0666, 0) < 0)
                        return fail(ret_error, "creating /dev/%s: %m", nodes[i].name);
        for (size_t i = 0; i < ELEMENTSOF(links); i++)
                if (symlinkat(links[i].target, dev, links[i].link) < 0)
                        return fail(ret_error, "creating /dev/%s: %m", links[i].link);

        r = mount_in_root(rootfd, "/dev/pts", true, "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
                          "newinstance,ptmxmode=0666,mode=0620,gid=5", ret_error);
        if (r < 0)
                return r;
        r = mount_in_root(rootfd, "/dev/shm", true, "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          "mode=1777,size=65536k", ret_error);
        if (r < 0)
                return r;
        /* optional: needs the IPC namespace we have, but a kernel may lack mqueue */
        _cleanup_free_ char *ignored = NULL;
        (void) mount_in_root(rootfd, "/dev/mqueue", true, "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                             NULL, &ignored);
        return 0;
}

int rootfs_setup(const char *root, int rootfd, const LaunchConfig *c, char **ret_error) {
        int r;

        r = mount_in_root(rootfd, "/proc", true, "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, ret_error);
        if (r < 0)
                return r;

        unsigned long sysflags = MS_NOSUID | MS_NODEV | MS_NOEXEC | (c->privileged ? 0 : MS_RDONLY);
        r = mount_in_root(rootfd, "/sys", true, "sysfs", "sysfs", sysflags, NULL, ret_error);
        if (r < 0) {
                /* sysfs of the host network namespace (network_mode host) */
                free(*ret_error);
                *ret_error = NULL;
                r = mount_in_root(rootfd, "/sys", true, "/sys", NULL, MS_BIND | MS_REC, NULL, ret_error);
                if (r < 0)
                        return r;
                if (!c->privileged && (r = remount_readonly_in_root(rootfd, "/sys", MS_NOSUID | MS_NODEV | MS_NOEXEC, ret_error)) < 0)
                        return r;
        }

        r = setup_dev(rootfd, ret_error);
        if (r < 0)
                return r;
        /* before the spec's mounts, which may cover them */
        r = network_mount_name_files(root, rootfd, c, ret_error);
        if (r < 0)
                return r;

        for (size_t i = 0; i < c->n_mounts; i++) {
                const LaunchMount *m = &c->mounts[i];

                if (m->type == MOUNT_BIND) {
                        struct stat st;
                        if (stat(m->source, &st) < 0)
                                return fail(ret_error, "bind mount source %s: %m", m->source);
                        r = mount_in_root(rootfd, m->target, S_ISDIR(st.st_mode), m->source, NULL,
                                          MS_BIND | MS_REC, NULL, ret_error);
                        if (r < 0)
                                return r;
                        if (m->readonly && (r = remount_readonly_in_root(rootfd, m->target, 0, ret_error)) < 0)
                                return r;
                } else if (m->type == MOUNT_VOLUME || m->type == MOUNT_ANONYMOUS) {
                        _cleanup_close_ int vol = volume_open(root, rootfd, c, i, ret_error);
                        char source[64];

                        if (vol < 0)
                                return vol;
                        snprintf(source, sizeof(source), "/proc/self/fd/%d", vol);
                        r = mount_in_root(rootfd, m->target, true, source, NULL, MS_BIND | MS_REC, NULL, ret_error);
                        if (r < 0)
                                return r;
                        if (m->readonly && (r = remount_readonly_in_root(rootfd, m->target, 0, ret_error)) < 0)
                                return r;
                } else {
                        char data[64];
                        int n = snprintf(data, sizeof(data), "mode=%o", m->mode ?: 01777);
                        if (m->size > 0)
                                snprintf(data + n, sizeof(data) - (size_t) n, ",size=%llu", (unsigned long long) m->size);
                        r = mount_in_root(rootfd, m->target, true, "tmpfs", "tmpfs",
                                          MS_NOSUID | MS_NODEV | (m->readonly ? MS_RDONLY : 0), data, ret_error);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int rootfs_pivot(int rootfd, char **ret_error) {
        /* pivot_root(".", "."): the old root ends up on top of the new one
         * and is detached right away; no directory for it needed. */
        if (fchdir(rootfd) < 0)
                return fail(ret_error, "entering the new root: %m");
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return fail(ret_error, "pivot_root: %m");
        if (umount2(".", MNT_DETACH) < 0)
                return fail(ret_error, "detaching the old root: %m");
        if (chdir("/") < 0)
                return fail(ret_error, "chdir /: %m");
        return 0;
}

/* Docker's masked and read-only /proc paths. */
static void mask_proc_paths(void) {
        static const char *const masked[] = {
                "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                "/sys/firmware", "/sys/devices/virtual/powercap",
        };
        static const char *const readonly[] = {
                "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
        };
        struct stat st;

        for (size_t i = 0; i < ELEMENTSOF(masked); i++) {
                if (stat(masked[i], &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode))
                        (void) mount("tmpfs", masked[i], "tmpfs", MS_RDONLY, NULL);
                else
                        (void) mount("/dev/null", masked[i], NULL, MS_BIND, NULL);
        }
        for (size_t i = 0; i < ELEMENTSOF(readonly); i++) {
                if (stat(readonly[i], &st) < 0)
                        continue;
                if (mount(readonly[i], readonly[i], NULL, MS_BIND | MS_REC, NULL) >= 0)
                        (void) mount(NULL, readonly[i], NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
        }
}

int rootfs_finish(const LaunchConfig *c, char **ret_error) {
        if (!c->privileged)
                mask_proc_paths();
        if (c->readonly_rootfs && mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
                return fail(ret_error, "remounting / read-only: %m");
        return 0;
}
