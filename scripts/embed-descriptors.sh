#!/usr/bin/env bash
# Regenerates schema/descriptors.binpb, the FileDescriptorSet of every .proto under schema/ (with their imports),
# and its embedded copy Sources/GRPC/ServedDescriptorSet.swift, which the server reflection service answers from.
# Run via `make schema` after editing any .proto under schema/. Tests/Python/test_grpc_health_reflection.py fails
# while the committed set differs from what protoc makes of the .proto files, and ProtoDescriptorIndexTests while the
# Swift copy differs from the committed set. Needs grpcio-tools (scripts/install-deps.sh test installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
# Every .proto, in byte order of its path relative to schema/ (the test lists them the same way).
mapfile -t protos < <(cd schema && find . -name '*.proto' -printf '%P\n' | LC_ALL=C sort)
[ "${#protos[@]}" -gt 0 ] || { echo "embed-descriptors: no .proto under schema/" >&2; exit 1; }
(cd schema && python3 -m grpc_tools.protoc -I. --include_imports --descriptor_set_out=descriptors.binpb "${protos[@]}")
{
  cat <<HEAD
// The FileDescriptorSet of schema/ (every .proto there, with its imports), embedded so the server needs no resource
// files at run time. Generated from schema/descriptors.binpb by scripts/embed-descriptors.sh (make schema), which
// first regenerates that file with protoc: edit the .proto files, not this one.

/// The bytes of \`schema/descriptors.binpb\`, which server reflection serves (see \`ProtoDescriptorIndex\`).
///
/// \`ProtoDescriptorIndexTests\` fails while the two differ, so the committed set and the code cannot drift.
enum ServedDescriptorSet {
    /// The set as lowercase hexadecimal, 112 digits a line.
    static let hex = """
HEAD
  od -An -v -tx1 schema/descriptors.binpb | tr -d ' \n' | fold -w 112 | sed 's/^/        /'
  echo ''
  echo '        """'
  echo '}'
} > Sources/GRPC/ServedDescriptorSet.swift
