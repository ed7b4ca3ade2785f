#!/usr/bin/env bash
# Regenerates Sources/Store/SchemaSQL.swift from schema/sqlite.sql (the contract file is the source of truth;
# SchemaSQLTests fails while the two differ). Run via `make schema` after editing schema/sqlite.sql.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^PRAGMA user_version = \([0-9]*\);$/\1/p' schema/sqlite.sql)
[ -n "$version" ] || { echo "embed-schema: schema/sqlite.sql sets no PRAGMA user_version" >&2; exit 1; }
{
  cat <<HEAD
// The database schema, embedded so the store needs no resource files at run time.
// Generated from schema/sqlite.sql by scripts/embed-schema.sh (make schema): edit that file, not this one.

/// The text of \`schema/sqlite.sql\`, which the store applies to a new database.
///
/// \`SchemaSQLTests\` fails while the two differ, so the contract file and the code cannot drift.
enum SchemaSQL {
    /// The \`PRAGMA user_version\` the text leaves behind: the newest schema this code knows.
    static let version: Int32 = $version

    /// The schema, byte for byte as in \`schema/sqlite.sql\`.
    static let text = """
HEAD
  sed -e 's/\\/\\\\/g' -e 's/^\(.\)/        \1/' schema/sqlite.sql
  echo ''
  echo '        """'
  echo '}'
} > Sources/Store/SchemaSQL.swift

# The PostgreSQL schema: Sources/PostgresStore/PostgresSchemaSQL.swift from schema/postgresql.sql (its version is the
# value of the INSERT INTO fleetwire_schema at its end; PostgresSchemaSQLTests fails while the two differ).
pg_version=$(sed -n 's/^INSERT INTO fleetwire_schema (version) VALUES (\([0-9]*\));$/\1/p' schema/postgresql.sql)
[ -n "$pg_version" ] || { echo "embed-schema: schema/postgresql.sql inserts no fleetwire_schema version" >&2; exit 1; }
{
  cat <<HEAD
// The PostgreSQL schema, embedded so the backend needs no resource files at run time.
// Generated from schema/postgresql.sql by scripts/embed-schema.sh (make schema): edit that file, not this one.

/// The text of \`schema/postgresql.sql\`, which the PostgreSQL backend applies to a database without it.
///
/// \`PostgresSchemaSQLTests\` fails while the two differ, so the contract file and the code cannot drift.
enum PostgresSchemaSQL {
    /// The \`fleetwire_schema.version\` the text leaves behind: the newest schema this code knows.
    static let version: Int32 = $pg_version

    /// The schema, byte for byte as in \`schema/postgresql.sql\`.
    static let text = """
HEAD
  sed -e 's/\\/\\\\/g' -e 's/^\(.\)/        \1/' schema/postgresql.sql
  echo ''
  echo '        """'
  echo '}'
} > Sources/PostgresStore/PostgresSchemaSQL.swift
