/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <strings.h>
#include <stdio.h>

#include "ids.h"
#include "macro.h"
#include "reference.h"

#define DOCKER_HUB "docker.io"
#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128
/* The longest normalized reference, host/repository:tag@sha256:hex; the cap
 * on the input must admit it, or normalizing would not be idempotent. */
#define REFERENCE_MAX_LEN (NAME_MAX_LEN + 1 + NAME_MAX_LEN + 1 + TAG_MAX_LEN + 1 + 7 + 64)

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c) {
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* One path component of a repository, per the distribution spec:
 * [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool path_component_is_valid(const char *s, size_t n) {
        size_t i = 0;

        if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
                return false;
        while (i < n) {
                if (is_lower_alnum(s[i])) {
                        i++;
                        continue;
                }
                size_t start = i;
                if (s[i] == '.')
                        i++;
                else if (s[i] == '_') {
                        i++;
                        if (i < n && s[i] == '_')
                                i++;
                } else if (s[i] == '-') {
                        while (i < n && s[i] == '-')
                                i++;
                } else
                        return false;
                /* A separator must be followed by an alphanumeric. */
                if (i == start || i >= n || !is_lower_alnum(s[i]))
                        return false;
        }
        return true;
}

static bool repository_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > NAME_MAX_LEN)
                return false;
        for (const char *p = s;;) {
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t) (slash - p) : strlen(p);
                if (!path_component_is_valid(p, len))
                        return false;
                if (!slash)
                        return true;
                p = slash + 1;
        }
}

static bool tag_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > TAG_MAX_LEN)
                return false;
        if (!is_alnum(s[0]) && s[0] != '_')
                return false;
        for (size_t i = 1; i < n; i++)
                if (!is_alnum(s[i]) && !strchr("_.-", s[i]))
                        return false;
        return true;
}

static bool port_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 5)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_digit(s[i]))
                        return false;
        unsigned long v = strtoul(s, NULL, 10);
        return v > 0 && v <= 65535;
}

/* Splits "host[:port]" / "[v6][:port]" into a copy of the host part and the
 * port (NULL when absent). */
static int host_split(const char *s, char **ret_host, const char **ret_port) {
        const char *port = NULL;
        size_t hostlen;

        if (s[0] == '[') {
                const char *end = strchr(s, ']');
                if (!end)
                        return -EINVAL;
                if (end[1] == ':')
                        port = end + 2;
                else if (end[1] != 0)
                        return -EINVAL;
                /* Without the brackets. */
                char *h = strndup(s + 1, end - s - 1);
                if (!h)
                        return -ENOMEM;
                *ret_host = h;
                *ret_port = port;
                return 0;
        }

        const char *colon = strchr(s, ':');
        if (colon) {
                if (strchr(colon + 1, ':'))
                        return -EINVAL; /* unbracketed IPv6 is ambiguous */
                port = colon + 1;
                hostlen = colon - s;
        } else
                hostlen = strlen(s);

        char *h = strndup(s, hostlen);
        if (!h)
                return -ENOMEM;
        *ret_host = h;
        *ret_port = port;
        return 0;
}

bool registry_host_is_valid(const char *s) {
        _cleanup_free_ char *host = NULL;
        const char *port;
        struct in6_addr a6;

        if (isempty(s) || strlen(s) > 255)
                return false;
        if (host_split(s, &host, &port) < 0)
                return false;
        if (port && !port_is_valid(port))
                return false;
        if (s[0] == '[')
                return inet_pton(AF_INET6, host, &a6) == 1;

        /* DNS labels separated by dots; Docker accepts uppercase hosts. */
        const char *p = host;
        for (;;) {
                const char *dot = strchr(p, '.');
                size_t len = dot ? (size_t) (dot - p) : strlen(p);
                if (len == 0 || len > 63 || !is_alnum(p[0]) || !is_alnum(p[len - 1]))
                        return false;
                for (size_t i = 0; i < len; i++)
                        if (!is_alnum(p[i]) && p[i] != '-')
                                return false;
                if (!dot)
                        return true;
                p = dot + 1;
        }
}

ImageReference *image_reference_free(ImageReference *r) {
        if (!r)
                return NULL;
        free(r->registry);
        free(r->repository);
        free(r->tag);
        free(r->digest);
        free(r);
        return NULL;
}

int image_reference_parse(const char *s, ImageReference **ret) {
        _cleanup_image_reference_ ImageReference *r = NULL;
        _cleanup_free_ char *name = NULL;
        const char *at, *slash, *last_slash, *colon;

        if (isempty(s) || strlen(s) > REFERENCE_MAX_LEN)
                return -EINVAL;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;

        at = strchr(s, '@');
        if (at) {
                if (!digest_is_valid(at + 1))
                        return -EINVAL;
                r->digest = strdup(at + 1);
                if (!r->digest)
                        return -ENOMEM;
                name = strndup(s, at - s);
        } else
                name = strdup(s);
        if (!name)
                return -ENOMEM;

        /* The tag is after the last ':' of the last path component, so that
         * "host:5000/repo" is not mistaken for a tag. */
        last_slash = strrchr(name, '/');
        colon = strrchr(last_slash ? last_slash : name, ':');
        if (colon) {
                if (!tag_is_valid(colon + 1))
                        return -EINVAL;
                r->tag = strdup(colon + 1);
                if (!r->tag)
                        return -ENOMEM;
                name[colon - name] = 0;
        }

        slash = strchr(name, '/');
        if (slash) {
                size_t n = slash - name;
                bool is_host = memchr(name, '.', n) || memchr(name, ':', n) ||
                               (n == 9 && strneq(name, "localhost", 9));
                if (is_host) {
                        r->registry = strndup(name, n);
                        r->repository = strdup(slash + 1);
                } else {
                        r->registry = strdup(DOCKER_HUB);
                        r->repository = strdup(name);
                }
        } else {
                r->registry = strdup(DOCKER_HUB);
                if (asprintf(&r->repository, "library/%s", name) < 0)
                        r->repository = NULL;
        }
        if (!r->registry || !r->repository)
                return -ENOMEM;

        if (streq(r->registry, "index.docker.io") || streq(r->registry, "registry-1.docker.io")) {
                free(r->registry);
                r->registry = strdup(DOCKER_HUB);
                if (!r->registry)
                        return -ENOMEM;
        }
        /* Docker Hub puts single-component names under library/. */
        if (streq(r->registry, DOCKER_HUB) && !strchr(r->repository, '/')) {
                char *t;
                if (asprintf(&t, "library/%s", r->repository) < 0)
                        return -ENOMEM;
                free(r->repository);
                r->repository = t;
        }

        if (!registry_host_is_valid(r->registry) || !repository_is_valid(r->repository))
                return -EINVAL;

        if (!r->tag && !r->digest) {
                r->tag = strdup("latest");
                if (!r->tag)
                        return -ENOMEM;
        }

        *ret = TAKE_PTR(r);
        return 0;
}

char *image_reference_to_string(const ImageReference *r) {
        char *s;

        if (!r || !r->registry || !r->repository || (!r->tag && !r->digest))
                return NULL;
        if (asprintf(&s, "%s/%s%s%s%s%s", r->registry, r->repository,
                     r->tag ? ":" : "", strempty(r->tag),
                     r->digest ? "@" : "", strempty(r->digest)) < 0)
                return NULL;
        return s;
}

int image_reference_normalize(const char *s, char **ret) {
        _cleanup_image_reference_ ImageReference *r = NULL;
        int k;

        k = image_reference_parse(s, &r);
        if (k < 0)
                return k;
        char *t = image_reference_to_string(r);
        if (!t)
                return -ENOMEM;
        *ret = t;
        return 0;
}

bool registry_host_is_loopback(const char *host) {
        _cleanup_free_ char *h = NULL;
        const char *port;
        struct in_addr a4;
        struct in6_addr a6;

        if (isempty(host))
                return false;
        /* A bare "::1" is unambiguous enough to accept. */
        if (streq(host, "::1"))
                return true;
        if (host_split(host, &h, &port) < 0)
                return false;
        if (port && !port_is_valid(port))
                return false;
        if (host[0] == '[')
                return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
        if (strcasecmp(h, "localhost") == 0)
                return true;
        if (inet_pton(AF_INET, h, &a4) == 1)
                return (ntohl(a4.s_addr) >> 24) == 127;
        return false;
}
