// udp-flood ADDRESS PORT SECONDS: sends 64-byte UDP datagrams to ADDRESS:PORT as fast as one
// thread can, 64 per sendmmsg call, for SECONDS, then prints how many it sent. Scripts/bench's
// small-packet workload: iperf3 (one thread for all its streams, one sendto per datagram) tops
// out below what the queue can take on this machine, so the sender, not the queue, set the rate.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { batch = 64, payload = 64 };

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: udp-flood ADDRESS PORT SECONDS\n");
        return 2;
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
        fprintf(stderr, "udp-flood: %s is not an IPv4 address\n", argv[1]);
        return 2;
    }
    double seconds = atof(argv[3]);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
        perror("udp-flood: socket");
        return 1;
    }
    static char data[payload];
    memset(data, 'x', sizeof data);
    struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
    struct mmsghdr messages[batch];
    memset(messages, 0, sizeof messages);
    for (int i = 0; i < batch; i++) {
        messages[i].msg_hdr.msg_iov = &iov;
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    unsigned long long sent = 0, refused = 0;
    double end = now() + seconds;
    while (now() < end) {
        int count = sendmmsg(fd, messages, batch, 0);
        if (count > 0) {
            sent += (unsigned long long)count;
        } else if (errno == ECONNREFUSED || errno == ENOBUFS || errno == EAGAIN) {
            refused++;  // an ICMP error or a full queue on the way: keep sending
        } else {
            perror("udp-flood: sendmmsg");
            return 1;
        }
    }
    printf("%llu\n", sent);
    if (refused > 0) fprintf(stderr, "udp-flood: %llu calls refused (ICMP error or full queue)\n", refused);
    return 0;
}
