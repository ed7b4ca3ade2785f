#!/usr/bin/env bash
# The demo, step by step. Until the collector and simulator exist, it says what each step will do.
set -euo pipefail
cat <<'TEXT'
Fleetwire demo (preview: the collector and device-sim are being built; see README "Status").

When complete, `make demo` will:
  1. start the collector on 127.0.0.1:8080 with the embedded SQLite database data/telemetry.db
  2. run a mixed fleet of a few hundred simulated devices (gRPC client streams, gRPC unary, REST JSON)
     covering a few simulated hours at speed-up, for about a minute
  3. print the simulator's report: wire bytes per reading per protocol and per device, and the ratio to the best
  4. show three REST queries with curl: a device's readings, a downsampled series, bandwidth per protocol
  5. stop the collector cleanly and say where the database is and how to keep exploring

Built so far: the telemetry codecs (protobuf and JSON) and the SQLite store; run `make test` to see them checked.
TEXT
