/* A keep-alive HTTP/1.1 load generator for bench.py: what wrk does, with the requests
 * given whole (each one is encrypted beforehand, with its own clientTxnId).
 *
 *   loadgen HOST PORT CONNECTIONS FILE
 *
 * FILE holds the requests, each as a 4-byte big-endian length and the request's bytes.
 * CONNECTIONS connections each send one request, read its whole answer (a head, then
 * Content-Length bytes), then send the next, until every request is answered. Prints
 * "ANSWERED SECONDS OK" (OK: answers with status 200) on stdout; exit 1 on any error.
 * One thread, epoll: a few microseconds of CPU a request, so the server is measured.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUFFER (1 << 20)

struct conn {
    int fd;
    char *buf;
    size_t have;
};

static char *requests;
static size_t size, next;

static int fail(const char *what) {
    perror(what);
    exit(1);
}

/* The next request to send: its bytes and length; 0 when none is left. */
static size_t take(const char **out) {
    if (next + 4 > size) return 0;
    unsigned char *p = (unsigned char *)requests + next;
    size_t length = ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
    *out = requests + next + 4;
    next += 4 + length;
    return length;
}

static void send_all(int fd, const char *data, size_t length) {
    while (length) {
        ssize_t sent = send(fd, data, length, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) continue;
            fail("send");
        }
        data += sent;
        length -= (size_t)sent;
    }
}

/* Bytes of one whole answer at the start of buf, or 0 while it is not whole. */
static size_t answer_length(const char *buf, size_t have) {
    const char *end = memmem(buf, have, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t head = (size_t)(end - buf) + 4;
    long body = -1;
    for (const char *line = buf; line < end; ) {
        const char *eol = memmem(line, (size_t)(end - line) + 2, "\r\n", 2);
        if (!eol) break;
        if ((size_t)(eol - line) > 15 && strncasecmp(line, "content-length:", 15) == 0)
            body = strtol(line + 15, NULL, 10);
        line = eol + 2;
    }
    if (body < 0) {
        fprintf(stderr, "an answer without Content-Length\n");
        exit(1);
    }
    return have >= head + (size_t)body ? head + (size_t)body : 0;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: loadgen HOST PORT CONNECTIONS FILE\n");
        return 2;
    }
    int count = atoi(argv[3]);
    FILE *file = fopen(argv[4], "rb");
    if (!file) fail(argv[4]);
    fseek(file, 0, SEEK_END);
    size = (size_t)ftell(file);
    rewind(file);
    requests = malloc(size);
    if (!requests || fread(requests, 1, size, file) != size) fail("read");
    fclose(file);

    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &address.sin_addr) != 1) fail("address");
    int poll = epoll_create1(0);
    struct conn *conns = calloc((size_t)count, sizeof *conns);
    struct timespec start, stop;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int open = 0;
    long answered = 0, ok = 0;
    for (int i = 0; i < count; i++) {
        const char *request;
        size_t length = take(&request);
        if (!length) break;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) < 0) fail("connect");
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conns[i] = (struct conn){.fd = fd, .buf = malloc(BUFFER), .have = 0};
        struct epoll_event event = {.events = EPOLLIN, .data.ptr = &conns[i]};
        if (epoll_ctl(poll, EPOLL_CTL_ADD, fd, &event) < 0) fail("epoll_ctl");
        send_all(fd, request, length);
        open++;
    }
    struct epoll_event events[256];
    while (open) {
        int ready = epoll_wait(poll, events, 256, 30000);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) fail("epoll_wait (30 s without an answer)");
        for (int e = 0; e < ready; e++) {
            struct conn *c = events[e].data.ptr;
            ssize_t got = recv(c->fd, c->buf + c->have, BUFFER - c->have, 0);
            if (got <= 0) {
                fprintf(stderr, "the server closed a connection with %ld answered\n", answered);
                return 1;
            }
            c->have += (size_t)got;
            size_t whole = answer_length(c->buf, c->have);
            if (!whole) continue;
            if (c->have != whole) {
                fprintf(stderr, "bytes after an answer\n");
                return 1;
            }
            answered++;
            if (c->have > 12 && memcmp(c->buf + 9, "200", 3) == 0) ok++;
            c->have = 0;
            const char *request;
            size_t length = take(&request);
            if (length) {
                send_all(c->fd, request, length);
            } else {
                close(c->fd);
                open--;
            }
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &stop);
    double seconds = (double)(stop.tv_sec - start.tv_sec) + (stop.tv_nsec - start.tv_nsec) / 1e9;
    printf("%ld %.6f %ld\n", answered, seconds, ok);
    return 0;
}
