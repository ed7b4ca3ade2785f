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
#endif
