#ifndef NETFAULT_CNETFILTERQUEUE_SHIM_H
#define NETFAULT_CNETFILTERQUEUE_SHIM_H

#include <stdint.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#endif
