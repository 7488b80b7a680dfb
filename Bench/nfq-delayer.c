// The reference delayer of `Scripts/bench`'s link-condition arms: the best an NFQUEUE consumer can
// do for delay, jitter and loss, at tc netem's hrtimer level. Each packet is stamped on arrival
// and released by an absolute timerfd (an hrtimer; the thread's timer slack is 1 ns) at arrival +
// DELAY, or + a draw of DELAY ± JITTER from the distribution; a min-heap keeps the releases in
// time order, so jitter reorders as netem's does. Loss is an independent roll per packet.
// The queue is bound without NFQA_CFG_F_GSO: it sees the segments on the wire.
//
//   nfq-delayer QUEUE DELAY_US [--jitter US] [--distribution uniform|normal] [--loss PERCENT]
//               [--to-port PORT] [--seed N]
//
// --to-port: only packets to this TCP or UDP port are delayed or lost; the rest (the replies)
// are accepted at once. On SIGTERM it accepts what it holds and prints to stderr
// "nfq-delayer: packets N delayed N lost N".
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include "nfq-open.h"

enum { most_held = 1 << 20 };

struct held { long long release, order; uint32_t id; };

/// Earlier release first; of equal ones (a batch received at once) the earlier arrival, as
/// netem's tfifo keeps them: no reordering that the delays do not make.
static int before(struct held a, struct held b) { return a.release < b.release || (a.release == b.release && a.order < b.order); }

static struct mnl_socket *nl;
static unsigned queue_number;
static volatile sig_atomic_t stopping;
static long long delay_ns, jitter_ns;
static int normal, to_port = -1;
static double loss;
static uint64_t state = 0x9e3779b97f4a7c15ULL;
static struct held *heap;
static long held_count;
static long long packets, delayed, lost, arrivals;

static void stop(int signal) { (void)signal; stopping = 1; }

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/// xorshift64*: a uniform in [0, 1).
static double uniform(void) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return (double)((state * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

/// DELAY + JITTER × t, t uniform in ±1 or standard normal (Box-Muller), cut at zero.
static long long draw(void) {
    if (jitter_ns == 0) return delay_ns;
    double t = normal ? sqrt(-2 * log(1 - uniform())) * cos(2 * M_PI * uniform()) : 2 * uniform() - 1;
    long long value = delay_ns + (long long)(jitter_ns * t);
    return value < 0 ? 0 : value;
}

static void verdict(uint32_t id, int accept) {
    char buffer[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *header = nfq_nlmsg_put(buffer, NFQNL_MSG_VERDICT, queue_number);
    nfq_nlmsg_verdict_put(header, id, accept ? NF_ACCEPT : NF_DROP);
    if (mnl_socket_sendto(nl, header, header->nlmsg_len) < 0) { perror("nfq-delayer: verdict"); exit(1); }
}

static void push(long long release, uint32_t id) {
    if (held_count == most_held) { verdict(id, 1); return; }
    struct held entry = {release, arrivals++, id};
    long i = held_count++;
    while (i > 0 && before(entry, heap[(i - 1) / 2])) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = entry;
}

static struct held pop(void) {
    struct held top = heap[0], last = heap[--held_count];
    long i = 0;
    for (;;) {
        long child = 2 * i + 1;
        if (child >= held_count) break;
        if (child + 1 < held_count && before(heap[child + 1], heap[child])) child++;
        if (!before(heap[child], last)) break;
        heap[i] = heap[child];
        i = child;
    }
    if (held_count > 0) heap[i] = last;
    return top;
}

/// The destination port of an IPv4 or IPv6 TCP or UDP packet, or -1.
static int destination_port(const uint8_t *bytes, size_t length) {
    if (length < 1) return -1;
    size_t offset;
    int protocol;
    if (bytes[0] >> 4 == 4) {
        offset = (bytes[0] & 15) * 4;
        protocol = length > 9 ? bytes[9] : -1;
    } else {
        offset = 40;
        protocol = length > 6 ? bytes[6] : -1;
    }
    if ((protocol != IPPROTO_TCP && protocol != IPPROTO_UDP) || length < offset + 4) return -1;
    return bytes[offset + 2] << 8 | bytes[offset + 3];
}

static int packet(const struct nlmsghdr *header, void *data) {
    long long arrival = *(long long *)data;
    struct nlattr *attributes[NFQA_MAX + 1] = {0};
    if (nfq_nlmsg_parse(header, attributes) < 0 || !attributes[NFQA_PACKET_HDR]) return MNL_CB_ERROR;
    struct nfqnl_msg_packet_hdr *packet_header = mnl_attr_get_payload(attributes[NFQA_PACKET_HDR]);
    uint32_t id = ntohl(packet_header->packet_id);
    packets++;
    if (to_port >= 0) {
        const uint8_t *bytes = attributes[NFQA_PAYLOAD] ? mnl_attr_get_payload(attributes[NFQA_PAYLOAD]) : NULL;
        size_t length = attributes[NFQA_PAYLOAD] ? mnl_attr_get_payload_len(attributes[NFQA_PAYLOAD]) : 0;
        if (!bytes || destination_port(bytes, length) != to_port) { verdict(id, 1); return MNL_CB_OK; }
    }
    if (loss > 0 && uniform() < loss) {
        lost++;
        verdict(id, 0);
        return MNL_CB_OK;
    }
    delayed++;
    push(arrival + draw(), id);
    return MNL_CB_OK;
}

static void arm(int timer) {
    struct itimerspec when = {0};
    if (held_count > 0) {
        long long release = heap[0].release;
        when.it_value = (struct timespec){release / 1000000000LL, release % 1000000000LL};
        if (when.it_value.tv_sec == 0 && when.it_value.tv_nsec == 0) when.it_value.tv_nsec = 1;
    }
    timerfd_settime(timer, TFD_TIMER_ABSTIME, &when, NULL);
}

static void usage(void) {
    fprintf(stderr, "usage: nfq-delayer QUEUE DELAY_US [--jitter US] [--distribution uniform|normal] [--loss PERCENT] "
                    "[--to-port PORT] [--seed N]\n");
    exit(2);
}

int main(int argc, char *argv[]) {
    if (argc < 3) usage();
    queue_number = (unsigned)atoi(argv[1]);
    delay_ns = (long long)(atof(argv[2]) * 1000);
    for (int i = 3; i < argc; i += 2) {
        if (i + 1 >= argc) usage();
        if (strcmp(argv[i], "--jitter") == 0) jitter_ns = (long long)(atof(argv[i + 1]) * 1000);
        else if (strcmp(argv[i], "--distribution") == 0) normal = strcmp(argv[i + 1], "normal") == 0;
        else if (strcmp(argv[i], "--loss") == 0) loss = atof(argv[i + 1]) / 100;
        else if (strcmp(argv[i], "--to-port") == 0) to_port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seed") == 0) state = strtoull(argv[i + 1], NULL, 10) | 1;
        else usage();
    }
    prctl(PR_SET_TIMERSLACK, 1UL);
    struct sigaction action = {0};
    action.sa_handler = stop;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    heap = malloc(most_held * sizeof *heap);
    size_t size = 0xffff + (MNL_SOCKET_BUFFER_SIZE / 2);
    char *buffer = malloc(size);
    if (!heap || !buffer) { perror("nfq-delayer: malloc"); return 1; }
    // Without NFQA_CFG_F_GSO: the kernel cuts super-packets, so loss and delay act on segments.
    nl = bench_queue_open("nfq-delayer", queue_number, 128, 0, 100000, 32 << 20);
    unsigned port = mnl_socket_get_portid(nl);
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    if (timer < 0) { perror("nfq-delayer: timerfd"); return 1; }

    struct pollfd waits[2] = {{.fd = mnl_socket_get_fd(nl), .events = POLLIN}, {.fd = timer, .events = POLLIN}};
    while (!stopping) {
        if (poll(waits, 2, -1) < 0) {
            if (errno == EINTR) continue;
            perror("nfq-delayer: poll");
            return 1;
        }
        if (waits[0].revents & POLLIN) {
            ssize_t received;
            while ((received = recv(waits[0].fd, buffer, size, MSG_DONTWAIT)) > 0) {
                long long arrival = now_ns();
                if (mnl_cb_run(buffer, received, 0, port, packet, &arrival) < 0) { perror("nfq-delayer: mnl_cb_run"); return 1; }
            }
            if (received < 0 && errno != EAGAIN && errno != EINTR && errno != ENOBUFS) { perror("nfq-delayer: recv"); return 1; }
        }
        uint64_t expirations;
        if (waits[1].revents & POLLIN) (void)!read(timer, &expirations, sizeof expirations);
        long long now = now_ns();
        while (held_count > 0 && heap[0].release <= now) verdict(pop().id, 1);
        arm(timer);  // a release already past fires at once
    }
    while (held_count > 0) verdict(pop().id, 1);
    fprintf(stderr, "nfq-delayer: packets %lld delayed %lld lost %lld\n", packets, delayed, lost);
    return 0;
}
