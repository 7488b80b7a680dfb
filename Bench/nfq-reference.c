// The reference consumer of `Scripts/bench`: libnetfilter_queue's nf-queue.c example done right
// (GSO, fail-open, a large receive buffer, no ENOBUFS reports), one accept verdict per packet.
// The yardstick netfault's pass-through is measured against.
//   nfq-reference QUEUE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include "nfq-open.h"

static struct mnl_socket *nl;
static unsigned queue_number;
static volatile sig_atomic_t stopping;

static void stop(int signal) { (void)signal; stopping = 1; }

static void verdict(uint32_t id) {
    char buffer[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *header = nfq_nlmsg_put(buffer, NFQNL_MSG_VERDICT, queue_number);
    nfq_nlmsg_verdict_put(header, id, NF_ACCEPT);
    if (mnl_socket_sendto(nl, header, header->nlmsg_len) < 0) { perror("mnl_socket_sendto"); exit(1); }
}

static int packet(const struct nlmsghdr *header, void *data) {
    (void)data;
    struct nlattr *attributes[NFQA_MAX + 1] = {0};
    if (nfq_nlmsg_parse(header, attributes) < 0 || !attributes[NFQA_PACKET_HDR]) return MNL_CB_ERROR;
    struct nfqnl_msg_packet_hdr *packet_header = mnl_attr_get_payload(attributes[NFQA_PACKET_HDR]);
    verdict(ntohl(packet_header->packet_id));
    return MNL_CB_OK;
}

int main(int argc, char *argv[]) {
    if (argc != 2) { fprintf(stderr, "usage: %s QUEUE\n", argv[0]); return 2; }
    queue_number = (unsigned)atoi(argv[1]);
    // No SA_RESTART: the blocking receive returns EINTR and the loop sees `stopping`.
    struct sigaction action = {0};
    action.sa_handler = stop;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    size_t size = 0xffff + (MNL_SOCKET_BUFFER_SIZE / 2);
    char *buffer = malloc(size);
    nl = bench_queue_open("nfq-reference", queue_number, 0xffff, NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN, 16384, 16 << 20);
    unsigned port = mnl_socket_get_portid(nl);

    while (!stopping) {
        ssize_t received = mnl_socket_recvfrom(nl, buffer, size);
        if (received < 0) {
            if (errno == EINTR || errno == ENOBUFS) continue;  // the loop condition sees a stop
            perror("recv");
            return 1;
        }
        if (mnl_cb_run(buffer, received, 0, port, packet, NULL) < 0 && errno != EINTR) { perror("mnl_cb_run"); return 1; }
    }
    return 0;
}
