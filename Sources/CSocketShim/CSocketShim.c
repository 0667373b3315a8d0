#define _GNU_SOURCE
#include "CSocketShim.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

struct cdns_batch {
    int count;
    size_t receive_size, receive_stride;
    size_t reply_size, reply_stride;
    unsigned char *receive_buffers;
    unsigned char *reply_buffers;
    struct mmsghdr *receive_headers;
    struct iovec *receive_iovecs;
    struct sockaddr_storage *peers;
    size_t *reply_lengths;
    struct mmsghdr *send_headers;
    struct iovec *send_iovecs;
};

// Rounded up to whole cache lines, plus one line: buffer i starts i lines further into a page
// than buffer 0, so consecutive buffers use different cache sets.
static size_t stride_for(size_t size) { return (size + 63) / 64 * 64 + 64; }

cdns_batch *cdns_batch_create(int count, size_t receive_size, size_t reply_size) {
    if (count <= 0 || receive_size == 0 || reply_size == 0) return NULL;
    cdns_batch *b = calloc(1, sizeof(*b));
    if (!b) return NULL;
    b->count = count;
    b->receive_size = receive_size;
    b->receive_stride = stride_for(receive_size);
    b->reply_size = reply_size;
    b->reply_stride = stride_for(reply_size);
    b->receive_buffers = aligned_alloc(64, (size_t)count * b->receive_stride);
    b->reply_buffers = aligned_alloc(64, (size_t)count * b->reply_stride);
    b->receive_headers = calloc((size_t)count, sizeof(struct mmsghdr));
    b->receive_iovecs = calloc((size_t)count, sizeof(struct iovec));
    b->peers = calloc((size_t)count, sizeof(struct sockaddr_storage));
    b->reply_lengths = calloc((size_t)count, sizeof(size_t));
    b->send_headers = calloc((size_t)count, sizeof(struct mmsghdr));
    b->send_iovecs = calloc((size_t)count, sizeof(struct iovec));
    if (!b->receive_buffers || !b->reply_buffers || !b->receive_headers || !b->receive_iovecs ||
        !b->peers || !b->reply_lengths || !b->send_headers || !b->send_iovecs) {
        cdns_batch_destroy(b);
        return NULL;
    }
    // The receive headers point at fixed buffers and peer slots: set them up once. Each
    // receive only resets what the kernel writes back (the peer's length, the datagram's).
    for (int i = 0; i < count; i++) {
        b->receive_iovecs[i].iov_base = b->receive_buffers + (size_t)i * b->receive_stride;
        b->receive_iovecs[i].iov_len = b->receive_size;
        struct msghdr *h = &b->receive_headers[i].msg_hdr;
        h->msg_name = &b->peers[i];
        h->msg_iov = &b->receive_iovecs[i];
        h->msg_iovlen = 1;
    }
    return b;
}

void cdns_batch_destroy(cdns_batch *b) {
    if (!b) return;
    free(b->receive_buffers);
    free(b->reply_buffers);
    free(b->receive_headers);
    free(b->receive_iovecs);
    free(b->peers);
    free(b->reply_lengths);
    free(b->send_headers);
    free(b->send_iovecs);
    free(b);
}

int cdns_batch_capacity(const cdns_batch *b) { return b->count; }

int cdns_batch_receive_waiting(cdns_batch *b, int fd) {
    for (int i = 0; i < b->count; i++) {
        struct msghdr *h = &b->receive_headers[i].msg_hdr;
        h->msg_namelen = sizeof(struct sockaddr_storage);
        h->msg_flags = 0;
        b->receive_headers[i].msg_len = 0;
        b->reply_lengths[i] = 0;
    }
    int n;
    do {
        n = recvmmsg(fd, b->receive_headers, (unsigned int)b->count, MSG_WAITFORONE, NULL);
    } while (n < 0 && errno == EINTR);
    return n;
}

const unsigned char *cdns_batch_datagram(const cdns_batch *b, int i, size_t *length) {
    size_t len = b->receive_headers[i].msg_len;
    // A datagram larger than the buffer is cut short by the kernel (MSG_TRUNC in msg_flags);
    // report it whole-length-capped so the parser sees a message that "ends early".
    if (len > b->receive_size) len = b->receive_size;
    *length = len;
    return b->receive_buffers + (size_t)i * b->receive_stride;
}

unsigned char *cdns_batch_reply_buffer(cdns_batch *b, int i) {
    return b->reply_buffers + (size_t)i * b->reply_stride;
}

void cdns_batch_set_reply(cdns_batch *b, int i, size_t length) {
    b->reply_lengths[i] = length > b->reply_size ? b->reply_size : length;
}

int cdns_batch_send(cdns_batch *b, int fd, int received, int *last_error) {
    int n = 0;
    for (int i = 0; i < received && i < b->count; i++) {
        if (b->reply_lengths[i] == 0) continue;
        b->send_iovecs[n].iov_base = b->reply_buffers + (size_t)i * b->reply_stride;
        b->send_iovecs[n].iov_len = b->reply_lengths[i];
        struct msghdr *h = &b->send_headers[n].msg_hdr;
        memset(h, 0, sizeof(*h));
        h->msg_name = &b->peers[i];
        h->msg_namelen = b->receive_headers[i].msg_hdr.msg_namelen;
        h->msg_iov = &b->send_iovecs[n];
        h->msg_iovlen = 1;
        n++;
    }
    int sent = 0;
    int failed = 0;
    while (sent < n) {
        // sendmmsg stops at the first message that fails: it returns how many went before it,
        // or -1 when the first one fails. That one is skipped (EAGAIN on a full socket buffer,
        // a peer address no datagram can go to): the client retries, and the rest of the batch
        // still goes out.
        int r = sendmmsg(fd, b->send_headers + sent, (unsigned int)(n - sent), MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EINTR) continue;
            *last_error = errno;
            failed++;
            sent++;
            continue;
        }
        sent += r;
    }
    return failed;
}

int cdns_set_blocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

int cdns_accept(int fd) { return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

// ---- Privileges ------------------------------------------------------------------------------

int cdns_setresuid(uid_t id) { return setresuid(id, id, id); }
int cdns_setresgid(gid_t id) { return setresgid(id, id, id); }
int cdns_getresuid(uid_t *r, uid_t *e, uid_t *s) { return getresuid(r, e, s); }
int cdns_getresgid(gid_t *r, gid_t *e, gid_t *s) { return getresgid(r, e, s); }

int cdns_drop_capability_bounding_set(void) {
    for (int cap = 0; cap <= 63; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            if (errno == EINVAL) break;  // past the last capability this kernel knows
            return -1;
        }
    }
    return 0;
}

int cdns_clear_capabilities(void) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capset, &header, data) != 0) return -1;
    // Linux 4.3+; older kernels have no ambient set to clear.
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return -1;
    return 0;
}

int cdns_set_no_new_privileges(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }

int cdns_capabilities_are_empty(void) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capget, &header, data) != 0) return -1;
    for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
        if (data[i].effective != 0 || data[i].permitted != 0) return 0;
    }
    return 1;
}

int cdns_capabilities_held(void) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capget, &header, data) != 0) return -1;
    for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
        if (data[i].effective != 0 || data[i].permitted != 0 || data[i].inheritable != 0) return 1;
    }
    for (int cap = 0; cap <= 63; cap++) {
        int set = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);
        if (set == 1) return 1;
        if (set < 0) break;  // past the last capability this kernel knows (or before Linux 4.3)
    }
    return 0;
}

int cdns_available_cpus(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    return CPU_COUNT(&set);
}
