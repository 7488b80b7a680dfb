// udp-pingpong: round trips through two consumers at once, interleaved packet by packet, so that
// both meet the same moment of a shared host. Scripts/bench's arm (i).
//
//   udp-pingpong server ADDRESS PORT
//       echoes every datagram back to its sender (until killed)
//   udp-pingpong client ADDRESS PORT SECONDS PORT_A PORT_B
//       from two sockets bound to local ports PORT_A and PORT_B, sends 64-byte datagrams to
//       ADDRESS:PORT in turn (A, B, A, B, ...), each after the previous one's echo, for SECONDS;
//       then prints one line per port: "PORT round-trips lost average p50 p99" (µs). A datagram
//       with no echo within a second counts as lost. The middlebox sends PORT_A's packets to one
//       consumer and PORT_B's to the other, so the two columns differ only by their consumer.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum { payload = 64, most = 4 << 20 };

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct sockaddr_in address(const char *text, const char *port) {
    struct sockaddr_in result = {.sin_family = AF_INET, .sin_port = htons(atoi(port))};
    if (inet_pton(AF_INET, text, &result.sin_addr) != 1) {
        fprintf(stderr, "udp-pingpong: %s is not an IPv4 address\n", text);
        exit(2);
    }
    return result;
}

static int server(struct sockaddr_in at) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&at, sizeof at) < 0) {
        perror("udp-pingpong server: bind");
        return 1;
    }
    char data[2048];
    for (;;) {
        struct sockaddr_in from;
        socklen_t length = sizeof from;
        ssize_t n = recvfrom(fd, data, sizeof data, 0, (struct sockaddr *)&from, &length);
        if (n >= 0) sendto(fd, data, n, 0, (struct sockaddr *)&from, length);
    }
}

static int compare(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

struct side {
    int fd;
    int port;
    long long *trips;
    long count, lost;
};

static void report(struct side *side) {
    if (side->count == 0) {
        printf("%d 0 %ld nan nan nan\n", side->port, side->lost);
        return;
    }
    qsort(side->trips, side->count, sizeof *side->trips, compare);
    long long total = 0;
    for (long i = 0; i < side->count; i++) total += side->trips[i];
    printf("%d %ld %ld %.2f %.2f %.2f\n", side->port, side->count, side->lost, total / 1e3 / side->count,
           side->trips[side->count / 2] / 1e3, side->trips[(long)(side->count * 0.99)] / 1e3);
}

static int client(struct sockaddr_in to, double seconds, const char *port_a, const char *port_b) {
    struct side sides[2] = {{.port = atoi(port_a)}, {.port = atoi(port_b)}};
    struct timeval second = {.tv_sec = 1};
    for (int i = 0; i < 2; i++) {
        struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons(sides[i].port)};
        sides[i].fd = socket(AF_INET, SOCK_DGRAM, 0);
        sides[i].trips = malloc(most * sizeof *sides[i].trips);
        if (sides[i].fd < 0 || !sides[i].trips || bind(sides[i].fd, (struct sockaddr *)&local, sizeof local) < 0
            || connect(sides[i].fd, (struct sockaddr *)&to, sizeof to) < 0
            || setsockopt(sides[i].fd, SOL_SOCKET, SO_RCVTIMEO, &second, sizeof second) < 0) {
            perror("udp-pingpong client: socket");
            return 1;
        }
    }
    char data[payload] = {0}, echo[2048];
    long long end = now_ns() + (long long)(seconds * 1e9);
    for (long turn = 0; now_ns() < end; turn++) {
        struct side *side = &sides[turn % 2];
        if (side->count == most) break;
        memcpy(data, &turn, sizeof turn);
        long long start = now_ns();
        if (send(side->fd, data, sizeof data, 0) != sizeof data) {
            perror("udp-pingpong client: send");
            return 1;
        }
        // An echo that came after its second (of an earlier turn) is skipped.
        ssize_t n;
        while ((n = recv(side->fd, echo, sizeof echo, 0)) >= 0 && (n < (ssize_t)sizeof turn || memcmp(echo, &turn, sizeof turn) != 0)) {}
        if (n < 0) {
            side->lost++;
            continue;
        }
        side->trips[side->count++] = now_ns() - start;
    }
    report(&sides[0]);
    report(&sides[1]);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "server") == 0) return server(address(argv[2], argv[3]));
    if (argc == 7 && strcmp(argv[1], "client") == 0)
        return client(address(argv[2], argv[3]), atof(argv[4]), argv[5], argv[6]);
    fprintf(stderr, "usage: udp-pingpong server ADDRESS PORT\n"
                    "       udp-pingpong client ADDRESS PORT SECONDS PORT_A PORT_B\n");
    return 2;
}
