/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Credentials from a Docker config.json-style file (zlayerd --auth-file):
 *   {"auths": {"HOST[:PORT]": {"auth": base64("user:password")}}}
 * or {"username": …, "password": …} in place of "auth". Keys may carry a
 * scheme and a path ("https://index.docker.io/v1/"); only the host counts,
 * compared without case; docker.io also matches index.docker.io and
 * registry-1.docker.io. */

#define AUTH_FILE_MAX (1024 * 1024)

/* Parses @text for @host: 0 with both strings set, -ENOENT when the file
 * has no entry for @host, -EBADMSG (with @ret_error) when the file or the
 * entry is malformed. */
int auth_file_parse(const char *text, const char *host, char **ret_user, char **ret_password, char **ret_error);

/* Reads @path and parses it; a missing file is -ENOENT (anonymous). */
int auth_file_lookup(const char *path, const char *host, char **ret_user, char **ret_password, char **ret_error);
