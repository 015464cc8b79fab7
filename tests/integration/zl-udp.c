/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zl-udp serve PORT: answers each UDP datagram to PORT with "echo " and the
 *                    datagram, for ever.
 * zl-udp ask IPV4 PORT TEXT: sends TEXT, prints the answer or "nothing"
 *                    after 2 s.
 * Built static by tests/integration/scenarios.d/network.sh and bind-mounted
 * into busybox containers, whose nc has no UDP. Addresses only: a static
 * glibc cannot resolve names without its NSS modules. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int serve(int port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY) };
        int fd = socket(AF_INET, SOCK_DGRAM, 0);

        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                perror("bind");
                return 1;
        }
        printf("serving %d/udp\n", port);
        fflush(stdout);
        for (;;) {
                char in[512], out[600];
                struct sockaddr_in peer;
                socklen_t len = sizeof(peer);
                ssize_t n = recvfrom(fd, in, sizeof(in) - 1, 0, (struct sockaddr *) &peer, &len);
                if (n < 0)
                        continue;
                in[n] = '\0';
                int m = snprintf(out, sizeof(out), "echo %s", in);
                (void) sendto(fd, out, (size_t) m, 0, (struct sockaddr *) &peer, len);
        }
}

static int ask(const char *ip, int port, const char *text) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
        struct timeval tv = { .tv_sec = 2 };
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        char buf[600];
        ssize_t n;

        if (fd < 0 || inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
                fprintf(stderr, "bad address %s\n", ip);
                return 2;
        }
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (sendto(fd, text, strlen(text), 0, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            (n = recv(fd, buf, sizeof(buf) - 1, 0)) < 0) {
                puts("nothing");
                return 1;
        }
        buf[n] = '\0';
        puts(buf);
        return 0;
}

int main(int argc, char **argv) {
        if (argc == 3 && strcmp(argv[1], "serve") == 0)
                return serve(atoi(argv[2]));
        if (argc == 5 && strcmp(argv[1], "ask") == 0)
                return ask(argv[2], atoi(argv[3]), argv[4]);
        fprintf(stderr, "usage: zl-udp serve PORT | zl-udp ask IPV4 PORT TEXT\n");
        return 2;
}
