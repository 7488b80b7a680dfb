#ifndef NETFAULT_CNETFILTERQUEUE_SHIM_H
#define NETFAULT_CNETFILTERQUEUE_SHIM_H

// glibc's socket headers first: their libc-compat guards keep the kernel's linux/in.h and
// linux/in6.h (pulled in by linux/netfilter.h) from defining the same structs a second time.
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/signalfd.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <spawn.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <poll.h>
#include <time.h>

// ppoll(2) without a signal mask: glibc declares it only under _GNU_SOURCE.
static inline int netfault_ppoll(struct pollfd *descriptors, unsigned long count, const struct timespec *timeout) {
    return (int)syscall(SYS_ppoll, descriptors, count, timeout, (void *)0, 0UL);
}

// prctl(2) is variadic, which Swift cannot call.
static inline int netfault_prctl(int option, unsigned long arg2, unsigned long arg3) {
    return prctl(option, arg2, arg3, 0UL, 0UL);
}

// posix_spawn_file_actions_addclosefrom_np (glibc 2.34) is declared only under _GNU_SOURCE.
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

// recvmmsg(2) and struct mmsghdr are declared only under _GNU_SOURCE: the kernel's layout, and the
// system call itself (no timeout).
struct netfault_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};
static inline int netfault_recvmmsg(int fd, struct netfault_mmsghdr *messages, unsigned int count, int flags) {
    return (int)syscall(SYS_recvmmsg, fd, messages, count, flags, (void *)0);
}

// pipe2(2) is declared only under _GNU_SOURCE.
extern int pipe2(int pipefd[2], int flags);

// unshare(2) is declared only under _GNU_SOURCE (a test gives one thread a network namespace of its own).
extern int unshare(int flags);

// setns(2) is declared only under _GNU_SOURCE: `--netns` enters a container's network namespace.
extern int setns(int fd, int nstype);

// mallopt(3): under an address-space limit, one malloc arena for every thread (M_ARENA_MAX).
#include <malloc.h>

// pthread_setattr_default_np(3) is declared only under _GNU_SOURCE: under an address-space limit,
// the stack of the threads started without a size of their own (NIO's, Swift concurrency's, Foundation's).
#include <pthread.h>
extern int pthread_setattr_default_np(const pthread_attr_t *attr);

// setfsuid(2)/setfsgid(2): files opened for another user are opened with that user's rights.
#include <sys/fsuid.h>

// setresuid(2)/setresgid(2) are declared only under _GNU_SOURCE.
extern int setresuid(uid_t ruid, uid_t euid, uid_t suid);
extern int setresgid(gid_t rgid, gid_t egid, gid_t sgid);

// capset(2) has no glibc wrapper and syscall(2) is variadic, which Swift cannot call: this sets
// the permitted, effective and inheritable sets to `mask` (bit N = capability N).
static inline int netfault_capset(unsigned long long mask) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    data[0].effective = data[0].permitted = data[0].inheritable = (unsigned int)mask;
    data[1].effective = data[1].permitted = data[1].inheritable = (unsigned int)(mask >> 32);
    return (int)syscall(SYS_capset, &header, data);
}

// The same, with the inheritable set empty: capabilities kept for this thread alone.
static inline int netfault_capset_own(unsigned long long mask) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    data[0].effective = data[0].permitted = (unsigned int)mask;
    data[1].effective = data[1].permitted = (unsigned int)(mask >> 32);
    data[0].inheritable = data[1].inheritable = 0;
    return (int)syscall(SYS_capset, &header, data);
}

// Names the calling thread for the kernel (/proc/PID/task/TID/comm, 15 characters kept).
static inline void netfault_name_thread(const char *name) { prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }

#endif
