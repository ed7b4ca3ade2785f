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
static inline void fw_sqlite3_result_text_transient(sqlite3_context *context, const char *text, int length) {
    sqlite3_result_text(context, text, length, SQLITE_TRANSIENT);
}
/// Turns off SQLite's memory statistics (sqlite3_config is variadic): every allocation otherwise takes a global
/// mutex. Process-wide, effective only before SQLite initializes (later it returns SQLITE_MISUSE and changes nothing).
static inline int fw_sqlite3_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
/// A copy of `text` in memory from sqlite3_malloc, as SQLite wants for sqlite3_vtab.zErrMsg (sqlite3_mprintf is
/// variadic, so Swift cannot call it).
static inline char *fw_sqlite3_strdup(const char *text) {
    return sqlite3_mprintf("%s", text);
}

/// The virtual table and cursor objects of the `fleetwire_readings` module (Store/ReadingsVirtualTable.swift):
/// SQLite's base struct first, as SQLite requires, then the retained Swift object that holds the state.
typedef struct fw_readings_vtab {
    sqlite3_vtab base;
    void *owner;
} fw_readings_vtab;
typedef struct fw_readings_cursor {
    sqlite3_vtab_cursor base;
    void *owner;
} fw_readings_cursor;
#endif
