#ifndef NETFAULT_CNETFILTERQUEUE_SHIM_H
#define NETFAULT_CNETFILTERQUEUE_SHIM_H

// glibc's socket headers first: their libc-compat guards keep the kernel's linux/in.h and
// linux/in6.h (pulled in by linux/netfilter.h) from defining the same structs a second time.
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/signalfd.h>
#include <sys/pidfd.h>
#include <spawn.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#endif
