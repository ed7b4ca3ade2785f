// libnghttp2 for Swift. Debian's 1.52 is used through nghttp2_session_mem_recv/mem_send (the *2 variants came in 1.60).
#ifndef FLEETWIRE_CNGHTTP2_SHIM_H
#define FLEETWIRE_CNGHTTP2_SHIM_H
#include <nghttp2/nghttp2.h>
#endif
