/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry client against a small misbehaving HTTP server on 127.0.0.1
 * (a child process): a body cut off half-way is resumed with a Range
 * request and reaches the sink whole, once, in order; a server that ignores
 * Range fails the GET naming it; a Bearer token is fetched once and reused
 * by a second client of the same repository until it expires; a catalog
 * client asks for the scope registry:catalog:* when the challenge names
 * none, and sees the Link header of a page. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "workers/puller/registry.h"

#define BODY_SIZE 200000
#define TOKEN "unit-token"
#define CATALOG_TOKEN "unit-catalog-token"

typedef struct Counters {
        int tokens;          /* GET /token */
        int ranges;          /* GETs with a Range header */
        int unauthorized;    /* 401s sent */
        char scope[128];     /* the last token request's query */
} Counters;

static Counters *counters;
static char body[BODY_SIZE];
static pid_t server_pid;
static int server_port;

static void send_all(int fd, const void *p, size_t n) {
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
                if (k <= 0)
                        return;
                p = (const char *) p + k;
                n -= (size_t) k;
        }
}

static void serve(int fd) {
        char req[8192], head[512], *range, *path_end;
        size_t len = 0;
        ssize_t k;

        while (len < sizeof(req) - 1 && !strstr(req, "\r\n\r\n")) {
                k = recv(fd, req + len, sizeof(req) - 1 - len, 0);
                if (k <= 0)
                        return;
                len += (size_t) k;
                req[len] = 0;
        }
        path_end = strchr(req + 4, ' ');
        if (!path_end)
                return;
        *path_end = 0;
        range = strcasestr(path_end + 1, "\r\nRange: bytes=");

        if (strncmp(req + 4, "/token", 6) == 0) {
                const char *q = strstr(req + 4, "scope=");
                const char *t = q && strcmp(q, "scope=registry%3Acatalog%3A%2A") == 0
                                        ? "{\"token\":\"" CATALOG_TOKEN "\",\"expires_in\":300}"
                                        : "{\"token\":\"" TOKEN "\",\"expires_in\":300}";
                snprintf(counters->scope, sizeof(counters->scope), "%s", q ? q + 6 : "");
                __atomic_add_fetch(&counters->tokens, 1, __ATOMIC_SEQ_CST);
                snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", strlen(t));
                send_all(fd, head, strlen(head));
                send_all(fd, t, strlen(t));
                return;
        }
        if (strncmp(req + 4, "/v2/_catalog", 12) == 0) {
                /* behind a token of its own; a challenge without a scope */
                bool last = strstr(req + 4, "last=b");
                const char *page = last ? "{\"repositories\":[\"c\"]}" : "{\"repositories\":[\"a\",\"b\"]}";
                if (!strcasestr(path_end + 1, "\r\nAuthorization: Bearer " CATALOG_TOKEN "\r\n"))
                        snprintf(head, sizeof(head),
                                 "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\",service=\"unit\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                                 server_port);
                else
                        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                 last ? "" : "Link: </v2/_catalog?last=b&n=2>; rel=\"next\"\r\n", strlen(page), page);
                send_all(fd, head, strlen(head));
                return;
        }
        if (!strcasestr(path_end + 1, "\r\nAuthorization: Bearer " TOKEN "\r\n")) {
                __atomic_add_fetch(&counters->unauthorized, 1, __ATOMIC_SEQ_CST);
                snprintf(head, sizeof(head),
                         "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\",service=\"unit\",scope=\"repository:repo:pull\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                         server_port);
                send_all(fd, head, strlen(head));
                return;
        }
        if (range) {
                __atomic_add_fetch(&counters->ranges, 1, __ATOMIC_SEQ_CST);
                if (!strstr(req + 4, "norange")) {
                        long start = strtol(range + strlen("\r\nRange: bytes="), NULL, 10);
                        snprintf(head, sizeof(head),
                                 "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %ld-%d/%d\r\nContent-Length: %ld\r\nConnection: close\r\n\r\n",
                                 start, BODY_SIZE - 1, BODY_SIZE, BODY_SIZE - start);
                        send_all(fd, head, strlen(head));
                        send_all(fd, body + start, (size_t) (BODY_SIZE - start));
                        return;
                }
                /* norange: the whole body again, as a server without Range support does */
                snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", BODY_SIZE);
                send_all(fd, head, strlen(head));
                send_all(fd, body, BODY_SIZE);
                return;
        }
        /* The first GET: the whole length announced, half of it sent. */
        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", BODY_SIZE);
        send_all(fd, head, strlen(head));
        send_all(fd, body, BODY_SIZE / 2);
}

static int setup(void **state) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t sl = sizeof(sa);
        int s;

        for (size_t i = 0; i < BODY_SIZE; i++)
                body[i] = (char) (i * 7 + i / 251);
        counters = mmap(NULL, sizeof(*counters), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        assert_true(counters != MAP_FAILED);
        s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s >= 0);
        assert_int_equal(bind(s, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(s, 16), 0);
        assert_int_equal(getsockname(s, (struct sockaddr *) &sa, &sl), 0);
        server_port = ntohs(sa.sin_port);

        server_pid = fork();
        assert_true(server_pid >= 0);
        if (server_pid == 0) {
                for (;;) {
                        int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
                        if (c < 0)
                                continue;
                        serve(c);
                        close(c);
                }
        }
        close(s);
        assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
        return 0;
}

static int teardown(void **state) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, NULL, 0);
        curl_global_cleanup();
        munmap(counters, sizeof(*counters));
        return 0;
}

static Registry *client(void) {
        char host[64];
        Registry *r = NULL;

        snprintf(host, sizeof(host), "127.0.0.1:%d", server_port);
        assert_int_equal(registry_new(host, "repo", NULL, NULL, false, NULL, &r), 0);
        return r;
}

static void test_resume_and_token_cache(void **state) {
        RegistryBuffer buf = { .max = 2 * BODY_SIZE };
        RegistryResponse resp = {};
        char *error = NULL;
        Registry *r = client();

        assert_int_equal(registry_get(r, "blobs/sha256:x", NULL, registry_buffer_sink, &buf, &resp, &error), 0);
        assert_null(error);
        assert_int_equal(resp.status, 206);
        assert_int_equal(buf.len, BODY_SIZE);
        assert_memory_equal(buf.data, body, BODY_SIZE);
        assert_int_equal(counters->ranges, 1);
        assert_int_equal(counters->tokens, 1);
        registry_response_done(&resp);
        registry_buffer_done(&buf);
        registry_free(r);

        /* Another client (another pull) of the repository: the cached token
         * goes along with the first request, no 401, no token request. */
        int unauthorized = counters->unauthorized;
        r = client();
        assert_int_equal(registry_get(r, "blobs/sha256:x", NULL, registry_buffer_sink, &buf, &resp, &error), 0);
        assert_int_equal(buf.len, BODY_SIZE);
        assert_memory_equal(buf.data, body, BODY_SIZE);
        assert_int_equal(counters->tokens, 1);
        assert_int_equal(counters->unauthorized, unauthorized);
        registry_response_done(&resp);
        registry_buffer_done(&buf);
        registry_free(r);
}

static void test_no_range_support(void **state) {
        RegistryBuffer buf = { .max = 2 * BODY_SIZE };
        RegistryResponse resp = {};
        char *error = NULL;
        Registry *r = client();

        assert_int_equal(registry_get(r, "blobs/norange", NULL, registry_buffer_sink, &buf, &resp, &error), -EIO);
        assert_non_null(error);
        print_message("refused as expected: %s\n", error);
        assert_non_null(strstr(error, "cannot resume blobs/norange"));
        /* What the sink got is the first half, not the first half twice. */
        assert_true(buf.len <= BODY_SIZE);
        assert_memory_equal(buf.data, body, buf.len);
        free(error);
        registry_buffer_done(&buf);
        registry_free(r);
}

static void test_catalog_scope_and_link(void **state) {
        RegistryBuffer buf = { .max = 4096 };
        RegistryResponse resp = {};
        char host[64], *error = NULL;
        Registry *r = NULL;
        int tokens = counters->tokens;

        snprintf(host, sizeof(host), "127.0.0.1:%d", server_port);
        assert_int_equal(registry_new_catalog(host, NULL, NULL, false, &r), 0);
        assert_int_equal(registry_get_path(r, "/v2/_catalog?n=2", NULL, registry_buffer_sink, &buf, &resp, &error), 0);
        assert_null(error);
        assert_string_equal(counters->scope, "registry%3Acatalog%3A%2A");
        assert_int_equal(counters->tokens, tokens + 1);
        assert_string_equal(buf.data, "{\"repositories\":[\"a\",\"b\"]}");
        assert_non_null(resp.link);
        assert_string_equal(resp.link, "</v2/_catalog?last=b&n=2>; rel=\"next\"");
        registry_response_done(&resp);
        registry_buffer_done(&buf);
        /* the next page with the same token */
        assert_int_equal(registry_get_path(r, "/v2/_catalog?last=b&n=2", NULL, registry_buffer_sink, &buf, &resp, &error), 0);
        assert_string_equal(buf.data, "{\"repositories\":[\"c\"]}");
        assert_null(resp.link);
        assert_int_equal(counters->tokens, tokens + 1);
        registry_response_done(&resp);
        registry_buffer_done(&buf);
        registry_free(r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_resume_and_token_cache),
                cmocka_unit_test(test_no_range_support),
                cmocka_unit_test(test_catalog_scope_and_link),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
