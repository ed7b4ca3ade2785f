// libpq for Swift. Nothing to forward: its API has no variadic functions or function-like macros that we call.
// Debian installs libpq-fe.h in /usr/include/postgresql, which pkg-config's cflags for libpq add to the search path.
#ifndef FLEETWIRE_CPOSTGRES_SHIM_H
#define FLEETWIRE_CPOSTGRES_SHIM_H
#include <libpq-fe.h>
#endif
