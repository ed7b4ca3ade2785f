#!/usr/bin/env bash
# libFuzzer harnesses for the parsers and the TLS server side that read untrusted bytes (Tests/Fuzz/README-free
# layout below).
#
#   scripts/fuzz.sh build [name...]            build harnesses into .build/fuzz/<name>
#   scripts/fuzz.sh replay [name...]           build, then run every regression and seed input once (no fuzzing)
#   scripts/fuzz.sh run SECONDS [name...]      build, replay, then fuzz each harness for SECONDS
#
# Names: protobuf json http1 grpc-deframer tls (default: all five). Each harness is its module's sources compiled
# together with Tests/Fuzz/Support, the harness directory (and, for the Telemetry module, Tests/Fuzz/TelemetrySupport)
# as ONE module with `swiftc -sanitize=fuzzer,address`, so it can check internal state; SwiftPM never sees them.
# The tls harness needs the modules TLS imports: Clocks and EventIO are compiled first as modules of their own
# (address sanitizer, no fuzzer coverage) into .build/fuzz/modules-tls and linked in; libssl comes from COpenSSL.
#
# Fuzzing runs on a scratch corpus, .build/fuzz/work/<name>/corpus: the seeds of Tests/Fuzz/corpus/<name> are copied
# in, and the inputs it finds stay there (never in the repository), so the next run on this checkout continues
# where the last one stopped; `make clean` (or deleting the directory) starts over from the seeds. Crashes are
# written to .build/fuzz/work/<name>/crashes/ and the run fails.
# To keep a crash: fix the bug, copy the input to Tests/Fuzz/regressions/<name>/ (replayed by every run and by
# `make test`) and add a Swift test for it in the module's test target.
#
# Environment: FUZZ_JOBS (harnesses built and fuzzed at once, default 1), FUZZ_MAX_LEN (default 16384),
# FUZZ_OPT (-O or -Onone, default -O).
set -euo pipefail
cd "$(dirname "$0")/.."

all_harnesses=(protobuf json http1 grpc-deframer tls)
out=.build/fuzz
opt="${FUZZ_OPT:--O}"
max_len="${FUZZ_MAX_LEN:-16384}"
jobs="${FUZZ_JOBS:-1}"
# A trap must reach libFuzzer's handler at once; Swift's own backtracer would hold the process for its report.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"

# The sources of the module under test, one per line.
module_sources() {
  case "$1" in
    protobuf|json) ls Sources/Telemetry/*/*.swift Tests/Fuzz/TelemetrySupport/*.swift ;;
    http1) ls Sources/HTTP1/*.swift ;;
    # The deframer, the status it maps errors to, and the header value codecs; the rest of GRPC needs the
    # Telemetry module, which these do not use.
    grpc-deframer) ls Sources/GRPC/GRPCMessageFramer.swift Sources/GRPC/GRPCMessageDeframer.swift \
      Sources/GRPC/GRPCDeframeError.swift Sources/GRPC/GRPCDeframeErrorOr.swift Sources/GRPC/GRPCStatus.swift \
      Sources/GRPC/GRPCTimeout.swift Sources/GRPC/GRPCMessageText.swift ;;
    tls) ls Sources/TLS/*.swift ;;
    *) echo "fuzz: unknown harness '$1' (known: ${all_harnesses[*]})" >&2; return 1 ;;
  esac
}

module_name() {
  case "$1" in
    protobuf|json) echo Telemetry ;;
    http1) echo HTTP1 ;;
    grpc-deframer) echo GRPC ;;
    tls) echo TLS ;;
  esac
}

# Sources of the modules a harness's module imports, compiled apart (tls only), one per line.
dependency_sources() {
  case "$1" in
    tls) ls Sources/Clocks/*.swift Sources/EventIO/*.swift ;;
  esac
}

# Compiles the modules the tls harness imports into $out/modules-tls (a .swiftmodule and an object file each);
# prints the flags that make them visible to the harness and link them.
build_dependencies() {
  local name="$1" dir="$out/modules-$1"
  [ "$name" = tls ] || return 0
  mkdir -p "$dir"
  local module
  for module in Clocks EventIO; do
    # shellcheck disable=SC2046
    if ! swiftc -sanitize=address -parse-as-library -wmo -module-name "$module" "$opt" -g -swift-version 6 \
        -I "$dir" -I Sources/CLinux -emit-module -emit-module-path "$dir/$module.swiftmodule" \
        -c -o "$dir/$module.o" $(ls "Sources/$module"/*.swift) >"$out/$name.build.log" 2>&1; then
      cat "$out/$name.build.log" >&2
      echo "fuzz: building $module for $name failed" >&2
      return 1
    fi
  done
}

# The flags build_dependencies' output needs on the harness's command line.
dependency_flags() {
  case "$1" in
    tls) echo "-I $out/modules-tls -I Sources/CLinux -I Sources/COpenSSL $out/modules-tls/Clocks.o $out/modules-tls/EventIO.o" ;;
  esac
}

build() {
  local name="$1"
  mkdir -p "$out"
  local sources
  sources=$(module_sources "$name")
  local dependencies
  dependencies=$(dependency_sources "$name")
  # Up to date when no source, harness file or this script is newer than the binary.
  # shellcheck disable=SC2086
  if [ -x "$out/$name" ] && [ -z "$(find $sources $dependencies Tests/Fuzz/Support "Tests/Fuzz/$name" "$0" -newer "$out/$name" \
      -type f 2>/dev/null | head -1)" ]; then
    return 0
  fi
  build_dependencies "$name" || return 1
  # shellcheck disable=SC2086
  if ! swiftc -sanitize=fuzzer,address -parse-as-library -module-name "$(module_name "$name")" "$opt" -g \
      -swift-version 6 -o "$out/$name" $(dependency_flags "$name") $sources Tests/Fuzz/Support/*.swift \
      "Tests/Fuzz/$name"/*.swift >"$out/$name.build.log" 2>&1; then
    grep -v "Cannot export local symbol" "$out/$name.build.log" >&2
    echo "fuzz: building $name failed (the toolchain needs libclang_rt.fuzzer, as swift.org's Linux toolchains have)" >&2
    return 1
  fi
}

# Runs the regression inputs and the seed corpus through the harness once each.
replay() {
  local name="$1" inputs=()
  for dir in "Tests/Fuzz/regressions/$name" "Tests/Fuzz/corpus/$name"; do
    [ -d "$dir" ] && while IFS= read -r -d '' f; do inputs+=("$f"); done < <(find "$dir" -type f -print0 | sort -z)
  done
  [ "${#inputs[@]}" -gt 0 ] || return 0
  local log="$out/work/$name/replay.log"
  mkdir -p "$out/work/$name"
  if ! "$out/$name" -runs=1 "${inputs[@]}" >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz: $name fails on a regression or seed input (log: $log)" >&2
    return 1
  fi
  echo "fuzz: $name replayed ${#inputs[@]} regression and seed inputs"
}

# Fuzzes one harness for $1 seconds from a scratch copy of its corpus; prints a one-line summary.
fuzz_one() {
  local seconds="$1" name="$2" work="$out/work/$2"
  rm -rf "$work/crashes"
  mkdir -p "$work/corpus" "$work/crashes"
  [ -d "Tests/Fuzz/corpus/$name" ] && cp -R "Tests/Fuzz/corpus/$name/." "$work/corpus/"
  local seeds
  seeds=$(find "$work/corpus" -type f | wc -l)
  local dict=()
  [ -f "Tests/Fuzz/$name/$name.dict" ] && dict=("-dict=Tests/Fuzz/$name/$name.dict")
  local status=0
  "$out/$name" "$work/corpus" "${dict[@]}" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/crashes/" >"$work/fuzz.log" 2>&1 || status=$?
  local execs rate cov ft units crashes
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$work/fuzz.log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$work/fuzz.log" | tail -1 | cut -d' ' -f2)
  units=$(find "$work/corpus" -type f | wc -l)
  crashes=$(find "$work/crashes" -type f | wc -l)
  printf 'fuzz: %-13s %5ss  execs %10s  (%6s/s)  cov %5s  ft %6s  corpus %5s (+%s new)  crashes %s\n' \
    "$name" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$units" "$((units - seeds))" "$crashes"
  if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    grep -E "fuzz property violated|Fatal error|ERROR: (AddressSanitizer|libFuzzer)|SUMMARY" "$work/fuzz.log" | head -5 >&2
    echo "fuzz: $name FAILED (exit $status); inputs in $work/crashes/, log $work/fuzz.log" >&2
    return 1
  fi
}

# Builds the named harnesses, FUZZ_JOBS at a time.
build_all() {
  local pids=() failed=0
  for n in "$@"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 0.2; done
    build "$n" & pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  return "$failed"
}

cmd="${1:-}"
[ -n "$cmd" ] && shift
case "$cmd" in
  build|replay)
    names=("$@"); [ "${#names[@]}" -gt 0 ] || names=("${all_harnesses[@]}")
    build_all "${names[@]}"
    if [ "$cmd" = replay ]; then for n in "${names[@]}"; do replay "$n"; done; fi
    ;;
  run)
    seconds="${1:?usage: scripts/fuzz.sh run SECONDS [name...]}"; shift
    names=("$@"); [ "${#names[@]}" -gt 0 ] || names=("${all_harnesses[@]}")
    build_all "${names[@]}"
    for n in "${names[@]}"; do replay "$n"; done
    failed=0
    if [ "$jobs" -le 1 ]; then
      for n in "${names[@]}"; do fuzz_one "$seconds" "$n" || failed=1; done
    else
      pids=()
      for n in "${names[@]}"; do
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 1; done
        fuzz_one "$seconds" "$n" & pids+=($!)
      done
      for p in "${pids[@]}"; do wait "$p" || failed=1; done
    fi
    exit "$failed"
    ;;
  *)
    echo "usage: scripts/fuzz.sh build|replay [name...] | run SECONDS [name...]" >&2
    exit 2
    ;;
esac
