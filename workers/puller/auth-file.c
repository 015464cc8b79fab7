/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth-file.h"
#include "fileio.h"
#include "macro.h"

#define CREDENTIAL_MAX 4096

static void json_object_putp(json_object **j) {
        if (*j)
                json_object_put(*j);
}

/* "https://Host:5000/v1/" → "host:5000" in @buf. */
static void key_host(const char *key, char *buf, size_t size) {
        const char *p = key, *end;
        size_t n;

        if (strncasecmp(p, "https://", 8) == 0)
                p += 8;
        else if (strncasecmp(p, "http://", 7) == 0)
                p += 7;
        end = strchr(p, '/');
        n = end ? (size_t) (end - p) : strlen(p);
        if (n >= size)
                n = size - 1;
        memcpy(buf, p, n);
        buf[n] = 0;
}

static bool host_matches(const char *key, const char *host) {
        static const char *const docker_hub[] = { "docker.io", "index.docker.io", "registry-1.docker.io" };
        char k[256];

        key_host(key, k, sizeof(k));
        if (strcasecmp(k, host) == 0)
                return true;
        bool key_hub = false, host_hub = false;
        for (size_t i = 0; i < ELEMENTSOF(docker_hub); i++) {
                key_hub |= strcasecmp(k, docker_hub[i]) == 0;
                host_hub |= strcasecmp(host, docker_hub[i]) == 0;
        }
        return key_hub && host_hub;
}

static int set_error(char **ret_error, const char *fmt, const char *arg) {
        if (ret_error && asprintf(ret_error, fmt, arg) < 0)
                *ret_error = NULL;
        return -EBADMSG;
}

static int decode_auth(const char *b64, const char *host, char **ret_user, char **ret_password, char **ret_error) {
        size_t len = strlen(b64), pad = 0;
        _cleanup_free_ unsigned char *out = NULL;
        char *colon;
        int n;

        if (len == 0 || len % 4 != 0 || len > CREDENTIAL_MAX)
                return set_error(ret_error, "the \"auth\" of %s is not base64 of user:password", host);
        out = malloc(len / 4 * 3 + 1);
        if (!out)
                return -ENOMEM;
        n = EVP_DecodeBlock(out, (const unsigned char *) b64, (int) len);
        if (n < 0)
                return set_error(ret_error, "the \"auth\" of %s is not base64 of user:password", host);
        for (size_t i = len; i > 0 && b64[i - 1] == '='; i--)
                pad++;
        n -= (int) pad;
        out[n] = 0;
        if (memchr(out, 0, (size_t) n) || !(colon = strchr((char *) out, ':')) || colon == (char *) out)
                return set_error(ret_error, "the \"auth\" of %s is not base64 of user:password", host);
        *colon = 0;
        *ret_user = strdup((char *) out);
        *ret_password = strdup(colon + 1);
        explicit_bzero(out, (size_t) n);
        if (!*ret_user || !*ret_password) {
                free(*ret_user);
                free(*ret_password);
                return -ENOMEM;
        }
        return 0;
}

static const char *string_member(json_object *o, const char *key) {
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

int auth_file_parse(const char *text, const char *host, char **ret_user, char **ret_password, char **ret_error) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_object *auths;

        o = json_tokener_parse(text);
        if (!o || !json_object_is_type(o, json_type_object))
                return set_error(ret_error, "%s", "not a JSON object");
        if (!json_object_object_get_ex(o, "auths", &auths))
                return -ENOENT;
        if (!json_object_is_type(auths, json_type_object))
                return set_error(ret_error, "%s", "\"auths\" is not an object");

        json_object_object_foreach(auths, key, entry) {
                const char *auth, *user, *password;

                if (!host_matches(key, host))
                        continue;
                if (!json_object_is_type(entry, json_type_object))
                        return set_error(ret_error, "the entry of %s is not an object", key);
                auth = string_member(entry, "auth");
                if (!isempty(auth))
                        return decode_auth(auth, key, ret_user, ret_password, ret_error);
                user = string_member(entry, "username");
                password = string_member(entry, "password");
                if (isempty(user) || !password)
                        return set_error(ret_error, "the entry of %s has neither \"auth\" nor username and password", key);
                if (strlen(user) > CREDENTIAL_MAX || strlen(password) > CREDENTIAL_MAX)
                        return set_error(ret_error, "the credentials of %s are too long", key);
                *ret_user = strdup(user);
                *ret_password = strdup(password);
                if (!*ret_user || !*ret_password) {
                        free(*ret_user);
                        free(*ret_password);
                        return -ENOMEM;
                }
                return 0;
        }
        return -ENOENT;
}

int auth_file_lookup(const char *path, const char *host, char **ret_user, char **ret_password, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        if (isempty(path))
                return -ENOENT;
        r = read_file_at(AT_FDCWD, path, AUTH_FILE_MAX, &text, &len);
        if (r == -ENOENT)
                return r;
        if (r < 0) {
                if (ret_error && asprintf(ret_error, "cannot read %s: %s", path, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        r = auth_file_parse(text, host, ret_user, ret_password, ret_error);
        explicit_bzero(text, len);
        return r;
}
