// Linux APIs that `import Glibc` does not expose to Swift: epoll, eventfd, timerfd, TCP options, accept4,
// pthread_setname_np, mallinfo2.
#ifndef FLEETWIRE_CLINUX_SHIM_H
#define FLEETWIRE_CLINUX_SHIM_H
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
// mallinfo2 and malloc_trim: heap figures for memory metrics and the per-connection cost tests.
#include <malloc.h>

// accept4 is declared only under _GNU_SOURCE; forward to it without exposing the transparent-union argument.
extern int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);
static inline int fw_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    return accept4(fd, addr, len, flags);
}

// pthread_setname_np is declared only under _GNU_SOURCE too: names loop threads ("fw-loop-0") for top -H and gdb.
#include <pthread.h>
extern int pthread_setname_np(pthread_t thread, const char *name);
static inline int fw_set_thread_name(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}

// TCP segment counts of a socket from TCP_INFO. glibc's <netinet/tcp.h> declares a struct tcp_info that stops before
// tcpi_segs_out/tcpi_segs_in (and <linux/tcp.h>, which has them, clashes with it), so the fields are read at their
// offsets in the kernel's struct, which only ever grows at the end (Linux >= 4.2): segs_out at 136, segs_in at 140.
#include <string.h>
static inline int fw_tcp_segment_counts(int fd, unsigned int *segments_in, unsigned int *segments_out) {
    unsigned char info[256];
    socklen_t length = sizeof info;
    memset(info, 0, sizeof info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, info, &length) != 0 || length < 144) return -1;
    memcpy(segments_out, info + 136, 4);
    memcpy(segments_in, info + 140, 4);
    return 0;
}
#endif
