#!/usr/bin/env bash
# Installs what building and testing Fleetwire needs, and nothing that is already there.
# Debian packages through apt-get (as root, or with sudo as a normal user); Python test tools through pip.
# Usage: scripts/install-deps.sh [build|test|demo|bench]   (default: test)
set -euo pipefail
what="${1:-test}"

apt_pkgs=(libnghttp2-dev libsqlite3-dev libssl-dev libpq-dev pkg-config)
case "$what" in
  test|bench) apt_pkgs+=(protobuf-compiler sqlite3 curl nghttp2-client tcpdump) ;;
  demo)       apt_pkgs+=(curl python3) ;;
esac
# The dashboard's real-browser test (Tests/Python/test_dashboard_browser.py) drives headless Chromium.
if [ "$what" = test ]; then apt_pkgs+=(chromium); fi
# PostgresTests start a throwaway PostgreSQL server (initdb + pg_ctl from /usr/lib/postgresql/15/bin); Debian's
# package also creates the postgres user they run it as when the tests run as root.
if [ "$what" = test ]; then apt_pkgs+=(postgresql-15); fi

missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "install-deps: installing Debian packages: ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$what" = test ] || [ "$what" = bench ]; then
  py_missing=()
  python3 -c 'import grpc' 2>/dev/null || py_missing+=(grpcio)
  python3 -c 'import grpc_tools' 2>/dev/null || py_missing+=(grpcio-tools)
  python3 -c 'import grpc_health.v1.health_pb2' 2>/dev/null || py_missing+=(grpcio-health-checking)
  python3 -c 'import grpc_reflection.v1alpha.proto_reflection_descriptor_database' 2>/dev/null \
    || py_missing+=(grpcio-reflection)
  python3 -c 'import google.protobuf' 2>/dev/null || py_missing+=(protobuf)
  python3 -c 'import pytest' 2>/dev/null || py_missing+=(pytest)
  python3 -c 'import openapi_spec_validator' 2>/dev/null || py_missing+=(openapi-spec-validator)
  python3 -c 'import openapi_schema_validator' 2>/dev/null || py_missing+=(openapi-schema-validator)
  python3 -c 'import jsonschema' 2>/dev/null || py_missing+=(jsonschema)
  python3 -c 'import schemathesis' 2>/dev/null || py_missing+=(schemathesis)
  python3 -c 'import h2' 2>/dev/null || py_missing+=(h2)
  # The DevTools protocol client of test_dashboard_browser.py.
  python3 -c 'import websocket; websocket.create_connection' 2>/dev/null || py_missing+=(websocket-client)
  if [ "${#py_missing[@]}" -gt 0 ]; then
    echo "install-deps: installing Python packages: ${py_missing[*]}"
    python3 -m pip install --quiet --disable-pip-version-check "${py_missing[@]}"
  fi
fi
echo "install-deps: ready ($what)"
