// Linux APIs that `import Glibc` does not expose to Swift: epoll, eventfd, timerfd, TCP options, accept4.
#ifndef FLEETWIRE_CLINUX_SHIM_H
#define FLEETWIRE_CLINUX_SHIM_H
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

// accept4 is declared only under _GNU_SOURCE; forward to it without exposing the transparent-union argument.
extern int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);
static inline int fw_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    return accept4(fd, addr, len, flags);
}
#endif
