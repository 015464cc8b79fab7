/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Tar work on a container's root (ArchiveGet/Put/Head, ExportContainer).
 * Everything here works on a directory fd of the container's root handed
 * to us (never a host path): every path inside it is resolved with
 * openat2(RESOLVE_IN_ROOT), so symlinks in it resolve inside the container
 * and nothing can name a file outside it. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Default limits of one ArchivePut (HACKING.md: every resource a caller
 * controls has a limit); zlayer-archive takes others from its environment
 * (ZLAYER_ARCHIVE_MAX_ENTRIES, ZLAYER_ARCHIVE_MAX_BYTES). */
#define CARCHIVE_MAX_ENTRIES 1000000ULL
#define CARCHIVE_MAX_BYTES (16ULL << 30)

typedef struct CArchiveStat {
        char name[256];          /* last component; "/" for the root */
        int64_t size;
        uint32_t mode;           /* plain st_mode (type and permission bits) */
        char mtime[40];          /* RFC 3339, UTC, nanoseconds */
        char link_target[4096];  /* readlink of a symlink, else "" */
} CArchiveStat;

typedef struct CArchivePutOptions {
        bool no_overwrite_dir_non_dir;
        bool copy_uid_gid;
        uid_t uid;               /* owner when !copy_uid_gid */
        gid_t gid;
        uint64_t max_entries;
        uint64_t max_bytes;      /* regular file data */
} CArchivePutOptions;

/* Normalizes a relative path of a tar entry or a container path: drops
 * "." components, repeated and trailing slashes. Absolute paths are made
 * relative when @allow_absolute, else -EINVAL, as is any ".." component.
 * An empty result is ".". */
int carchive_clean_path(const char *path, bool allow_absolute, char **ret);

/* Splits a clean relative path into its parent ("." when none) and last
 * component. */
int carchive_split(const char *clean, char **ret_parent, char **ret_base);

/* Opens @path (container path, relative ones are taken from "/") under
 * @root_fd with RESOLVE_IN_ROOT: O_PATH, the last component not followed
 * unless @path ends in "/" or "/.". -ENOENT/-ENOTDIR when missing. */
int carchive_open_in_root(int root_fd, const char *path, int *ret_fd);

/* The stat payload of ArchiveHead / ArchiveGet for @path. */
int carchive_stat(int root_fd, const char *path, CArchiveStat *ret);
/* Formats @ts as RFC 3339 with nanoseconds in UTC. */
void carchive_format_time(int64_t sec, uint32_t nsec, char buf[static 40]);

/* Writes a tar of @path to @out_fd with `docker cp` semantics: a file is
 * one entry named after it; a directory is the top entry with its
 * contents below; "dir/." (and "/") is the contents only. Symlinks are
 * archived as symlinks. Fails with a message in @ret_error. */
int carchive_get(int root_fd, const char *path, int out_fd, char **ret_error);

/* Writes the whole filesystem under @root_fd to @out_fd; mounts below it
 * (/proc, /sys, /dev, bind mounts of a running container) appear as their
 * mount point only, without contents. */
int carchive_export(int root_fd, int out_fd, char **ret_error);

/* Extracts the tar (plain, gzip, bzip2, xz or zstd) read from @in_fd into
 * the existing directory @path under @root_fd. Every entry is written by
 * us through a RESOLVE_IN_ROOT-resolved parent directory fd; refused with
 * -EINVAL and a message naming the entry: absolute names, "..", device
 * nodes, setuid/setgid bits, hard links leaving the destination; -E2BIG /
 * -EFBIG over max_entries / max_bytes; -EBADMSG a corrupt or truncated
 * archive; -EEXIST a dir/non-dir clash with no_overwrite_dir_non_dir;
 * -ENOENT / -ENOTDIR when @path is missing / not a directory. Entries
 * before a failure stay extracted (as with docker cp). */
int carchive_put(int root_fd, const char *path, int in_fd, const CArchivePutOptions *o, char **ret_error);

/* Resolves a container user spec ("" = root, "uid[:gid]", "name[:group]")
 * with the container's /etc/passwd and /etc/group. */
int carchive_resolve_user(int root_fd, const char *user, uid_t *ret_uid, gid_t *ret_gid);
