#!/usr/bin/env bash
# make demo: a collector on the embedded SQLite database, a mixed fleet feeding it, the bandwidth comparison, three
# REST queries, and a clean stop. Expects release binaries (make demo builds them first).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release
db=data/telemetry.db
devices=${DEMO_DEVICES:-240}
simulated=${DEMO_SIMULATED:-2h}
speedup=${DEMO_SPEEDUP:-120}
mkdir -p data
log=$(mktemp)
collector_pid=""
cleanup() {
  if [ -n "$collector_pid" ] && kill -0 "$collector_pid" 2>/dev/null; then kill -TERM "$collector_pid"; wait "$collector_pid" || true; fi
  rm -f "$log"
}
trap cleanup EXIT

start_collector() {
  # Every simulated device connects from 127.0.0.1: allow DEMO_DEVICES above the per-address default (1,024).
  "$bin/collector" serve --listen "$1" --db "$db" --quiet --max-connections-per-address 16384 >"$log" 2>&1 &
  collector_pid=$!
  for _ in $(seq 50); do
    address=$(grep -ao 'listening on [0-9.:]*' "$log" | head -1 | cut -d' ' -f3 || true)
    [ -n "$address" ] && return 0
    kill -0 "$collector_pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. Starting the collector on $db"
if ! start_collector 127.0.0.1:8080; then
  echo "(port 8080 is taken; using a free port)"
  start_collector 127.0.0.1:0 || { cat "$log"; exit 1; }
fi
echo "collector listening on $address"

say "2. Running $devices devices (gRPC client streams, gRPC unary, REST JSON) over $simulated simulated at ${speedup}x"
"$bin/device-sim" run --target "http://$address" --devices "$devices" --protocol mixed \
  --sensors temperature,humidity,pressure,battery --interval 1s --batch 10s --duration "$simulated" \
  --speedup "$speedup" --seed 42 --json data/demo-report.json --csv data/demo-devices.csv

pretty() { if command -v python3 >/dev/null; then python3 -m json.tool; else cat; echo; fi; }
say "3. REST queries"
echo "\$ curl 'http://$address/v1/devices/dev-00001/readings?sensor=temperature&order=desc&limit=5'"
curl -s "http://$address/v1/devices/dev-00001/readings?sensor=temperature&order=desc&limit=5" | pretty
echo "\$ curl 'http://$address/v1/devices/dev-00001/series?sensor=temperature&step=15m&agg=avg'"
curl -s "http://$address/v1/devices/dev-00001/series?sensor=temperature&step=15m&agg=avg" | pretty
echo "\$ curl 'http://$address/v1/bandwidth'"
curl -s "http://$address/v1/bandwidth" | pretty

say "4. Stopping the collector"
kill -TERM "$collector_pid"
wait "$collector_pid" || true
collector_pid=""
grep -a 'collector stopped' "$log" || true
cat <<TEXT

The readings are in $db (open it with: sqlite3 $db 'SELECT * FROM readings_view LIMIT 10').
The simulator's report is in data/demo-report.json and data/demo-devices.csv.
To keep exploring, start the collector again:  $bin/collector serve --db $db
and run more devices:                           $bin/device-sim run --help
TEXT
