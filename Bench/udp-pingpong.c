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
//   udp-pingpong stream ADDRESS PORT SECONDS INTERVAL_US PORT...
//       open loop, for delays longer than the interval (the link-condition arms): every
//       INTERVAL_US, the next local PORT in turn sends a datagram stamped with its sequence number
//       and the time, without waiting for echoes; echoes are timed by the kernel's receive stamp
//       (SO_TIMESTAMPNS). It prints "PORT SEQUENCE RTT_NS" per echo, in the order they came back,
//       and after SECONDS and two more for stragglers, "sent PORT N" per port.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sys/prctl.h>
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

struct stamp { long long sequence, sent_ns; };

static long long realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/// Reads every echo waiting on `fd` and prints each one's round trip from its kernel receive stamp.
static void drain(int fd, int port) {
    for (;;) {
        struct stamp stamp;
        char control[64];
        struct iovec vector = {&stamp, sizeof stamp};
        struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
        ssize_t n = recvmsg(fd, &message, MSG_DONTWAIT);
        if (n < 0) return;
        if (n < (ssize_t)sizeof stamp) continue;
        long long received = realtime_ns();
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(c), sizeof ts);
                received = ts.tv_sec * 1000000000LL + ts.tv_nsec;
            }
        }
        printf("%d %lld %lld\n", port, stamp.sequence, received - stamp.sent_ns);
    }
}

static int stream(struct sockaddr_in to, double seconds, long interval_us, int count, char **ports) {
    enum { most_ports = 8 };
    if (count > most_ports) { fprintf(stderr, "udp-pingpong stream: at most %d ports\n", most_ports); return 2; }
    prctl(PR_SET_TIMERSLACK, 1UL);
    struct pollfd waits[most_ports];
    int numbers[most_ports];
    long long sent[most_ports] = {0};
    for (int i = 0; i < count; i++) {
        numbers[i] = atoi(ports[i]);
        struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons(numbers[i])};
        int fd = socket(AF_INET, SOCK_DGRAM, 0), on = 1, buffer = 8 << 20;
        if (fd < 0 || bind(fd, (struct sockaddr *)&local, sizeof local) < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0
            || setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0) {
            perror("udp-pingpong stream: socket");
            return 1;
        }
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
        waits[i] = (struct pollfd){.fd = fd, .events = POLLIN};
    }
    long long start = now_ns(), end = start + (long long)(seconds * 1e9), quiet = end + 2000000000LL;
    long long next = start;
    for (long turn = 0;;) {
        long long now = now_ns();
        if (now >= quiet) break;
        if (now >= next && now < end) {
            int i = turn % count;
            struct stamp stamp = {sent[i]++, realtime_ns()};
            if (send(waits[i].fd, &stamp, sizeof stamp, 0) != sizeof stamp && errno != ECONNREFUSED) {
                perror("udp-pingpong stream: send");
                return 1;
            }
            turn++;
            next += interval_us * 1000LL;
            continue;
        }
        long long until = (now < end ? next : quiet) - now;
        struct timespec timeout = {until / 1000000000LL, until % 1000000000LL};
        if (ppoll(waits, count, &timeout, NULL) > 0)
            for (int i = 0; i < count; i++)
                if (waits[i].revents & POLLIN) drain(waits[i].fd, numbers[i]);
    }
    for (int i = 0; i < count; i++) drain(waits[i].fd, numbers[i]);
    fflush(stdout);
    for (int i = 0; i < count; i++) fprintf(stdout, "sent %d %lld\n", numbers[i], sent[i]);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "server") == 0) return server(address(argv[2], argv[3]));
    if (argc == 7 && strcmp(argv[1], "client") == 0)
        return client(address(argv[2], argv[3]), atof(argv[4]), argv[5], argv[6]);
    if (argc >= 7 && strcmp(argv[1], "stream") == 0)
        return stream(address(argv[2], argv[3]), atof(argv[4]), atol(argv[5]), argc - 6, argv + 6);
    fprintf(stderr, "usage: udp-pingpong server ADDRESS PORT\n"
                    "       udp-pingpong client ADDRESS PORT SECONDS PORT_A PORT_B\n"
                    "       udp-pingpong stream ADDRESS PORT SECONDS INTERVAL_US PORT...\n");
    return 2;
}
