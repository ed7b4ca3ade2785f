// libsqlite3 for Swift: forwarders for what Swift cannot call or import (SQLITE_TRANSIENT is a cast macro).
#ifndef FLEETWIRE_CSQLITE_SHIM_H
#define FLEETWIRE_CSQLITE_SHIM_H
#include <sqlite3.h>

static inline int fw_sqlite3_bind_text_transient(sqlite3_stmt *stmt, int index, const char *text, int length) {
    return sqlite3_bind_text(stmt, index, text, length, SQLITE_TRANSIENT);
}
static inline int fw_sqlite3_bind_blob_transient(sqlite3_stmt *stmt, int index, const void *bytes, int length) {
    return sqlite3_bind_blob(stmt, index, bytes, length, SQLITE_TRANSIENT);
}
#endif
