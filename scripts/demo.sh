#!/usr/bin/env bash
# make demo: a collector on the embedded SQLite database, a mixed fleet feeding it, the bandwidth comparison, three
# REST queries, and a clean stop. Expects release binaries (make demo builds them first). Authentication is on: the
# collector creates data/fleet.key and data/admin.token (mode 0600) on first start, the simulator derives each
# device's token from the fleet key, and the queries send the admin token.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release
db=data/telemetry.db
fleet_key=data/fleet.key
admin_token=data/admin.token
devices=${DEMO_DEVICES:-240}
simulated=${DEMO_SIMULATED:-2h}
speedup=${DEMO_SPEEDUP:-120}
mkdir -p data
log=$(mktemp)
collector_pid=""
cleanup() {
  if [ -n "$collector_pid" ] && kill -0 "$collector_pid" 2>/dev/null; then kill -TERM "$collector_pid"; wait "$collector_pid" || true; fi
  rm -f "$log" "${auth_header:-}"
}
trap cleanup EXIT

start_collector() {
  # Every simulated device connects from 127.0.0.1: allow DEMO_DEVICES above the per-address default (1,024).
  "$bin/collector" serve --listen "$1" --db "$db" --fleet-key-file "$fleet_key" --admin-token-file "$admin_token" \
    --quiet --max-connections-per-address 16384 >"$log" 2>&1 &
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
echo "collector listening on $address (authentication on: device tokens from $fleet_key, reads need $admin_token)"

say "2. Running $devices devices (gRPC client streams, gRPC unary, REST JSON) over $simulated simulated at ${speedup}x"
"$bin/device-sim" run --target "http://$address" --devices "$devices" --protocol mixed \
  --sensors temperature,humidity,pressure,battery --interval 1s --batch 10s --duration "$simulated" \
  --speedup "$speedup" --seed 42 --json data/demo-report.json --csv data/demo-devices.csv \
  --fleet-key-file "$fleet_key" --admin-token-file "$admin_token"

pretty() { if command -v python3 >/dev/null; then python3 -m json.tool; else cat; echo; fi; }
# The admin token goes in a header read from a file, so it never shows on a command line or in this output.
auth_header=$(mktemp)
chmod 600 "$auth_header"
printf 'Authorization: Bearer %s\n' "$(cat "$admin_token")" >"$auth_header"
query() {
  echo "\$ curl -H @auth-header 'http://$address$1'"
  curl -s -H "@$auth_header" "http://$address$1" | pretty
}
say "3. REST queries (with the admin token)"
query "/v1/devices/dev-00001/readings?sensor=temperature&order=desc&limit=5"
query "/v1/devices/dev-00001/series?sensor=temperature&step=15m&agg=avg"
query "/v1/bandwidth"
echo "\$ curl 'http://$address/v1/bandwidth'   # without it"
curl -s "http://$address/v1/bandwidth"; echo
rm -f "$auth_header"

say "4. Stopping the collector"
kill -TERM "$collector_pid"
wait "$collector_pid" || true
collector_pid=""
grep -a 'collector stopped' "$log" || true
cat <<TEXT

The readings are in $db (open it with: sqlite3 $db 'SELECT * FROM readings_view LIMIT 10').
The simulator's report is in data/demo-report.json and data/demo-devices.csv.
To keep exploring, start the collector again:  $bin/collector serve --db $db
the dashboard is then at:                       http://127.0.0.1:8080/?token=\$(cat $admin_token)
a device's token:                               $bin/collector token dev-00001
run more devices:                               $bin/device-sim run --fleet-key-file $fleet_key --admin-token-file $admin_token
TEXT
