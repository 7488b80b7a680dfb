// What Bench's C NFQUEUE consumers share: a netfilter netlink socket bound to one queue, with its
// copy mode, flags (NFQA_CFG_F_GSO, NFQA_CFG_F_FAIL_OPEN, or 0 for neither) and length set, a
// large receive buffer and no ENOBUFS reports. `name` prefixes the errors; any failure exits.
#ifndef NFQ_OPEN_H
#define NFQ_OPEN_H
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

static struct mnl_socket *bench_queue_open(const char *name, unsigned queue, unsigned copy_range, uint32_t flags, unsigned max_length,
                                   int receive_buffer) {
    char buffer[MNL_SOCKET_BUFFER_SIZE];
    struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
    if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) { fprintf(stderr, "%s: ", name); perror("socket"); exit(1); }
    struct nlmsghdr *header = nfq_nlmsg_put(buffer, NFQNL_MSG_CONFIG, queue);
    nfq_nlmsg_cfg_put_cmd(header, AF_INET, NFQNL_CFG_CMD_BIND);
    if (mnl_socket_sendto(nl, header, header->nlmsg_len) < 0) { fprintf(stderr, "%s: ", name); perror("bind"); exit(1); }
    header = nfq_nlmsg_put(buffer, NFQNL_MSG_CONFIG, queue);
    nfq_nlmsg_cfg_put_params(header, NFQNL_COPY_PACKET, copy_range);
    mnl_attr_put_u32(header, NFQA_CFG_FLAGS, htonl(flags));
    mnl_attr_put_u32(header, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
    nfq_nlmsg_cfg_put_qmaxlen(header, max_length);
    if (mnl_socket_sendto(nl, header, header->nlmsg_len) < 0) { fprintf(stderr, "%s: ", name); perror("params"); exit(1); }
    int on = 1;
    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer, sizeof receive_buffer);
    setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, sizeof on);
    fprintf(stderr, "%s: queue %u ready\n", name, queue);
    return nl;
}
#endif
