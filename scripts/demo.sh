#!/usr/bin/env bash
# make demo: a collector on the embedded SQLite database, a mixed fleet feeding it, the bandwidth comparison, three
# REST queries, and a clean stop. Expects release binaries (make demo builds them first). Authentication is on: the
# collector creates data/fleet.key and data/admin.token (mode 0600) on first start, the simulator derives each
# device's token from the fleet key, and the queries send the admin token. Everything runs over TLS (the collector
# creates a self-signed certificate, data/tls-cert.pem, on first start), and step 3 compares links: plaintext
# against TLS, devices that keep their connection against sleeping devices that reconnect for every batch.
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
echo "collector listening on $address (TLS with data/tls-cert.pem, and plaintext; authentication on: device tokens"
echo "from $fleet_key, reads need $admin_token)"

say "2. Running $devices devices over TLS (gRPC client streams, unary and bidirectional, gRPC-Web, Connect, REST JSON), $simulated simulated at ${speedup}x"
"$bin/device-sim" run --target "https://$address" --ca data/tls-cert.pem --devices "$devices" \
  --protocol grpc-stream,grpc-unary,grpc-sync,grpc-web,connect,rest --web-http 2 \
  --sensors temperature,humidity,pressure,battery --interval 1s --batch 10s --duration "$simulated" \
  --speedup "$speedup" --seed 42 --json data/demo-report.json --csv data/demo-devices.csv \
  --fleet-key-file "$fleet_key" --admin-token-file "$admin_token"

link_devices=${DEMO_LINK_DEVICES:-30}
say "3. What the link costs: $link_devices devices, 10 simulated minutes per link (10 s batches)"
links=(
  "plaintext|keep|--target http://$address"
  "TLS|keep|--target https://$address --ca data/tls-cert.pem --tls-auth token"
  "TLS full handshakes|per-batch|--target https://$address --ca data/tls-cert.pem --tls-auth token --resumption off"
  "TLS resumed|per-batch|--target https://$address --ca data/tls-cert.pem --tls-auth token --resumption on"
  "TLS-PSK|keep|--target https://$address --ca data/tls-cert.pem --tls-auth psk"
  "TLS-PSK|per-batch|--target https://$address --ca data/tls-cert.pem --tls-auth psk --resumption off"
)
reports=()
for entry in "${links[@]}"; do
  IFS='|' read -r name connection flags <<<"$entry"
  report="data/demo-link-${#reports[@]}.json"
  # shellcheck disable=SC2086
  "$bin/device-sim" run $flags --connection "$connection" --devices "$link_devices" \
    --protocol mixed --sensors temperature,humidity,pressure,battery --interval 1s --batch 10s --duration 10m \
    --speedup 200 --seed 7 --quiet --json "$report" --fleet-key-file "$fleet_key" --admin-token-file "$admin_token" \
    >/dev/null || { echo "device-sim failed on link $name ($connection)"; exit 1; }
  reports+=("$name|$connection|$report")
done
python3 - "${reports[@]}" <<'PY'
import json, sys
print(f"{'link':22} {'connection':10} {'protocol':12} {'B/reading':>9} {'link B/reading (est.)':>21} "
      f"{'handshakes full/resumed/PSK':>28}  cross-check")
for entry in sys.argv[1:]:
    name, connection, path = entry.split("|")
    report = json.load(open(path))
    agree = (report.get("cross_check") or {}).get("consistent")
    for row in report["protocols"]:
        hs = f"{row.get('handshakes_full', 0)}/{row.get('handshakes_resumed', 0)}/{row.get('handshakes_psk', 0)}"
        link = row.get("estimated_link_bytes_per_reading")
        print(f"{name:22} {connection:10} {row['protocol']:12} {row['bytes_per_reading']:>9.2f} "
              f"{link if link is None else round(link, 2):>21} {hs:>28}  {'OK' if agree else 'see report'}")
PY

pretty() { if command -v python3 >/dev/null; then python3 -m json.tool; else cat; echo; fi; }
# The admin token goes in a header read from a file, so it never shows on a command line or in this output.
auth_header=$(mktemp)
chmod 600 "$auth_header"
printf 'Authorization: Bearer %s\n' "$(cat "$admin_token")" >"$auth_header"
query() {
  echo "\$ curl --cacert data/tls-cert.pem -H @auth-header 'https://$address$1'"
  curl -s --cacert data/tls-cert.pem -H "@$auth_header" "https://$address$1" | pretty
}
say "4. REST queries over TLS (with the admin token)"
query "/v1/devices/dev-00001/readings?sensor=temperature&order=desc&limit=5"
query "/v1/devices/dev-00001/series?sensor=temperature&step=15m&agg=avg"
query "/v1/bandwidth"
echo "\$ curl --cacert data/tls-cert.pem 'https://$address/v1/bandwidth'   # without it"
curl -s --cacert data/tls-cert.pem "https://$address/v1/bandwidth"; echo
rm -f "$auth_header"

say "5. Stopping the collector"
kill -TERM "$collector_pid"
wait "$collector_pid" || true
collector_pid=""
grep -a 'collector stopped' "$log" || true
cat <<TEXT

The readings are in $db (read them with: $bin/collector sql --db $db --header 'SELECT * FROM readings LIMIT 10').
The simulator's report is in data/demo-report.json and data/demo-devices.csv.
To keep exploring, start the collector again:  $bin/collector serve --db $db
the dashboard is then at:                       https://127.0.0.1:8080/?token=\$(cat $admin_token)
                                                (the certificate is data/tls-cert.pem; http:// works too)
a device's token:                               $bin/collector token dev-00001
run more devices:                               $bin/device-sim run --tls --fleet-key-file $fleet_key --admin-token-file $admin_token
sleeping devices on TLS-PSK:                    ... --tls-auth psk --connection per-batch
TEXT
