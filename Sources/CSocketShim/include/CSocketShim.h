#ifndef CODERDNS_CSOCKETSHIM_H
#define CODERDNS_CSOCKETSHIM_H
// The socket calls Swift's Glibc module does not expose (recvmmsg/sendmmsg, accept4), the Linux
// socket option numbers it lacks, and the variadic calls it cannot import (prctl, the
// capability system calls) that dropping privileges needs. Nothing else lives here.
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

static const int cdns_IP_FREEBIND = 15;    // <linux/in.h>
static const int cdns_IPV6_FREEBIND = 78;  // <linux/in6.h>, Linux 4.15+

/// A fixed set of datagram buffers for one recvmmsg/sendmmsg round trip.
typedef struct cdns_batch cdns_batch;

/// Allocates `count` receive buffers of `receive_size` bytes and `count` reply buffers of
/// `reply_size` bytes. Buffers are spaced a cache line more than their rounded-up size apart,
/// so the first lines of a batch's datagrams do not all fall in the same cache sets.
cdns_batch *cdns_batch_create(int count, size_t receive_size, size_t reply_size);
void cdns_batch_destroy(cdns_batch *batch);
int cdns_batch_capacity(const cdns_batch *batch);

/// recvmmsg(MSG_WAITFORONE) into the receive buffers, on a blocking socket: sleeps until a
/// datagram arrives, then takes it and whatever else is queued, up to the batch's size. The
/// number of datagrams, or -1 and errno. After shutdown(SHUT_RD) it returns at once (with
/// empty datagrams).
int cdns_batch_receive_waiting(cdns_batch *batch, int fd);
/// Datagram `i` of the last receive and its length (at most `receive_size`: a longer datagram
/// is cut short, and reads as a message that ends early).
const unsigned char *cdns_batch_datagram(const cdns_batch *batch, int i, size_t *length);
/// Reply buffer `i` (`reply_size` bytes).
unsigned char *cdns_batch_reply_buffer(cdns_batch *batch, int i);
/// Marks reply `i` as `length` bytes long (0: no reply) addressed to the sender of datagram `i`.
void cdns_batch_set_reply(cdns_batch *batch, int i, size_t length);
/// sendmmsg of every reply set for datagrams 0..<received. A reply that cannot be sent is
/// skipped and the rest still go: returns how many were skipped, and sets `*last_error` to the
/// errno of the last one (untouched when none was).
int cdns_batch_send(cdns_batch *batch, int fd, int received, int *last_error);

/// Clears O_NONBLOCK: 0, or -1 and errno.
int cdns_set_blocking(int fd);

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC: a connection's descriptor, or -1 and errno.
int cdns_accept(int fd);

/// setresuid/setresgid and getresuid/getresgid (GNU extensions Glibc's module leaves out):
/// the real, effective and saved ids at once. 0, or -1 and errno.
int cdns_setresuid(uid_t id);
int cdns_setresgid(gid_t id);
int cdns_getresuid(uid_t *real, uid_t *effective, uid_t *saved);
int cdns_getresgid(gid_t *real, gid_t *effective, gid_t *saved);
/// Drops every capability from this thread's bounding set (PR_CAPBSET_DROP; needs
/// CAP_SETPCAP, so call it while still root): 0, or -1 and errno.
int cdns_drop_capability_bounding_set(void);
/// Empties this thread's effective, permitted and inheritable capability sets (capset) and its
/// ambient set: 0, or -1 and errno.
int cdns_clear_capabilities(void);
/// PR_SET_NO_NEW_PRIVS: no execve from this thread or its future children can grant
/// privileges (setuid binaries, file capabilities): 0, or -1 and errno.
int cdns_set_no_new_privileges(void);
/// 1 when this thread's effective and permitted capability sets are empty, 0 when not, -1
/// and errno when they cannot be read.
int cdns_capabilities_are_empty(void);
/// 1 when this thread holds any capability (effective, permitted, inheritable or ambient), 0
/// when it holds none, -1 and errno when they cannot be read.
int cdns_capabilities_held(void);
/// How many CPUs this process may run on (sched_getaffinity's mask, as taskset or a cpuset
/// leaves it), or -1 and errno.
int cdns_available_cpus(void);
#endif
