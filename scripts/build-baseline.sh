#!/usr/bin/env bash
# Builds the collector as it was before the chunked store (issue 13) into .build-baseline/release, for row 9 of
# `make bench` to compare end-to-end ingest and ack latency in the same run. Cached: rebuilt only when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
commit=${BASELINE_COMMIT:-405fad5}
out=.build-baseline
if [ -x "$out/release/collector" ] && [ "$(cat "$out/commit" 2>/dev/null)" = "$commit" ]; then exit 0; fi
if ! git cat-file -e "$commit^{commit}" 2>/dev/null; then
    echo "build-baseline: commit $commit is not in this clone (a shallow clone?); row 9 runs without the baseline" >&2
    exit 1
fi
tree=$(mktemp -d)
trap 'git worktree remove --force "$tree" >/dev/null 2>&1 || rm -rf "$tree"' EXIT
git worktree add --detach "$tree" "$commit" >/dev/null
(cd "$tree" && swift build -c release --static-swift-stdlib --product collector --build-path "$PWD/.build-baseline-tmp")
mkdir -p "$out/release"
cp "$tree/.build-baseline-tmp/release/collector" "$out/release/collector"
echo "$commit" > "$out/commit"
