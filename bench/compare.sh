#!/bin/sh
# Wire bytes per reading for every protocol side by side, on your own batch size, sensors and fleet size.
#   bench/compare.sh [--batch 10s] [--sensors temperature,humidity] [--devices 100] [--minutes 10]
# Builds release binaries if needed; each protocol runs against a fresh collector on a temporary database that is
# removed afterwards. grpc-stream is shown with one Upload per simulated run (batches per stream = minutes / batch)
# and with the simulator's default of 6 batches per stream.
set -eu
cd "$(dirname "$0")/.."
for product in collector device-sim; do
    [ -x ".build/release/$product" ] || swift build -c release --static-swift-stdlib --product "$product" >&2
done
exec python3 bench/run.py --wire-only "$@"
