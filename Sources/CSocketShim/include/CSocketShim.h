#ifndef CODERDNS_CSOCKETSHIM_H
#define CODERDNS_CSOCKETSHIM_H
// The socket calls Swift's Glibc module does not expose (recvmmsg/sendmmsg), and the
// Linux socket option numbers it lacks. Nothing else lives here.
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

/// recvmmsg(MSG_DONTWAIT) into the receive buffers: the number of datagrams, or -1 and errno.
int cdns_batch_receive(cdns_batch *batch, int fd);
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
#endif
