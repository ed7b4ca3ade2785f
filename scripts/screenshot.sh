#!/usr/bin/env bash
# make screenshot: renders the dashboard (GET /) of a collector filled by a simulated fleet into docs/dashboard.png
# with headless Chromium at 1400x1000. Installs Debian's chromium when it is missing, builds release binaries,
# uses a temporary database and a free port, and stops the collector and removes its files on exit. Authentication is
# on: the collector creates its fleet key and admin token in the temporary directory, the simulator derives its
# devices' tokens from the key, and Chromium opens the page as /?token=<admin token> (the page sends it as a header).
# Knobs: SCREENSHOT_DEVICES (60), SCREENSHOT_DURATION (30m simulated), SCREENSHOT_SPEEDUP (120),
#        SCREENSHOT_OUT (docs/dashboard.png), SCREENSHOT_BUDGET_MS (virtual time for the page to load, 8000).
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${SCREENSHOT_DEVICES:-60}
duration=${SCREENSHOT_DURATION:-30m}
speedup=${SCREENSHOT_SPEEDUP:-120}
out=${SCREENSHOT_OUT:-docs/dashboard.png}
budget=${SCREENSHOT_BUDGET_MS:-8000}

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "screenshot: installing Debian's chromium" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
  browser=$(command -v chromium)
fi

scripts/install-deps.sh build
swift build -c release --static-swift-stdlib --product collector
swift build -c release --static-swift-stdlib --product device-sim
bin=.build/release

work=$(mktemp -d)
collector_pid=""
cleanup() {
  if [ -n "$collector_pid" ] && kill -0 "$collector_pid" 2>/dev/null; then
    kill -TERM "$collector_pid"; wait "$collector_pid" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/collector" serve --listen 127.0.0.1:0 --db "$work/telemetry.db" --fleet-key-file "$work/fleet.key" \
  --admin-token-file "$work/admin.token" --quiet >"$work/collector.log" 2>&1 &
collector_pid=$!
address=""
for _ in $(seq 100); do
  address=$(grep -ao 'listening on [0-9.:]*' "$work/collector.log" | head -1 | cut -d' ' -f3 || true)
  [ -n "$address" ] && break
  kill -0 "$collector_pid" 2>/dev/null || { cat "$work/collector.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$address" ] || { echo "screenshot: the collector did not start" >&2; cat "$work/collector.log" >&2; exit 1; }
echo "screenshot: collector on $address; running $devices devices for $duration simulated at ${speedup}x"

"$bin/device-sim" run --target "http://$address" --devices "$devices" --protocol grpc-stream,grpc-unary,rest,grpc-sync,grpc-web,grpc-web-text,connect --duration "$duration" \
  --speedup "$speedup" --seed 7 --quiet --fleet-key-file "$work/fleet.key" --admin-token-file "$work/admin.token"

mkdir -p "$(dirname "$out")"
# Chromium writes its profile under HOME; keep it in the temporary directory.
HOME="$work" "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
  --user-data-dir="$work/profile" --window-size=1400,1000 --virtual-time-budget="$budget" \
  --screenshot="$out" "http://$address/?token=$(cat "$work/admin.token")" >"$work/chromium.log" 2>&1 \
  || { cat "$work/chromium.log" >&2; exit 1; }
[ -s "$out" ] || { echo "screenshot: chromium wrote no $out" >&2; cat "$work/chromium.log" >&2; exit 1; }
echo "screenshot: wrote $out"
