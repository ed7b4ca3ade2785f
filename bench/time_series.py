#!/usr/bin/env python3
"""Row 9 of `make bench`: the chunked time-series store (issue #13).

9a. Store limit against this machine's raw SQLite row-insert rate (bench/raw_sqlite_rate.py, median of three runs
    in this bench): store-bench readings/s ÷ raw rows/s, for both arrival orders, 100 and 1,000 devices.
9b. Disk per reading on the reference workload (store-bench: 100 devices × 4 sensors at 1 Hz, 10 s batches): data
    pages after ingest (one chunk per series per batch), after compaction, and the file with its free pages.
9c. One year of 1 Hz readings of one sensor: the series query at a 1-day step (median of 5), a 25-minute step
    over 30 days (every chunk decoded), and raw range reads of a week through the query API (readings/s).
9d. With a baseline build (--baseline-bin, the collector before chunks): ingest at --max-rate with 1,000 devices
    per protocol, three alternating pairs (medians), and grpc-unary ack latency at 50 % of the baseline's
    100-device max rate against both (compaction runs in the current one meanwhile).

Standalone: python3 bench/time_series.py [--bin .build/release] [--baseline-bin DIR] [--quick]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

bench = None  # bench/run.py, set by run.py or main()

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = {
    "store_limit_ratio": 4.0,
    "bytes_per_reading_compacted": 2.0,
    "bytes_per_reading_written": 8.0,
    "series_1d_year_ms": 50.0,
    "raw_readings_per_s": 10_000_000,
    "end_to_end_ratio": 2.0,
    "unary_p99_increase_ms": 5.0,
}


def raw_sqlite_rate():
    rates = []
    for _ in range(3):
        path = os.path.join(bench._tmpdir, "raw.db")
        out = subprocess.run([sys.executable, os.path.join(HERE, "raw_sqlite_rate.py"), path],
                             capture_output=True, text=True, timeout=600).stdout
        # "raw sqlite: N rows in Xs = R rows/s; file B B/row"
        rates.append(float(out.split("=")[1].split("rows/s")[0]))
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    return statistics.median(rates), rates


def year_query(args):
    proc = subprocess.run([args.store_bench, "--year-query", "5", "--dir", bench._tmpdir],
                          capture_output=True, text=True, timeout=1200)
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    bench.log(f"  year of 1 Hz: series 1d {row.get('series_1d_ms_median')} ms, raw {row.get('raw_readings_per_s_median'):,}/s")
    return row


def ingest_pairs(args, baseline_bin, devices=1000, pairs=3):
    """Alternating current/baseline ingest runs at --max-rate; medians per protocol and binary."""
    results = {}
    for protocol in bench.PROTOCOLS:
        runs = {"current": [], "baseline": []}
        for _ in range(pairs):
            for name, binary in (("current", args.collector), ("baseline", os.path.join(baseline_bin, "collector"))):
                sub = argparse.Namespace(**vars(args))
                sub.collector = binary
                row = bench.ingest(sub, protocol, devices, {"rss": 0, "hwm": 0})
                runs[name].append(row["readings_per_s"])
        current = statistics.median(runs["current"])
        baseline = statistics.median(runs["baseline"])
        results[protocol] = {"current": current, "baseline": baseline, "runs": runs,
                             "ratio": round(current / baseline, 2) if baseline else None}
        bench.log(f"  end to end {protocol}: {current:,.0f} vs baseline {baseline:,.0f} readings/s "
                  f"= {results[protocol]['ratio']}×")
    return results


def unary_latency(args, baseline_bin, baseline_rate):
    """grpc-unary at 50 % of the baseline's 100-device max rate, current then baseline, same rate."""
    out = {}
    for name, binary in (("current", args.collector), ("baseline", os.path.join(baseline_bin, "collector"))):
        collector = bench.Collector(binary)
        timeline = bench.Timeline(collector.proc.pid)
        try:
            out[name] = bench.latency_segment(args, collector, timeline, "grpc-unary", baseline_rate * 0.5, "50%")
            if name == "current":
                metrics = collector.text("/metrics")
                out[name]["chunks_compacted"] = next(
                    (int(float(line.split()[-1])) for line in metrics.splitlines()
                     if line.startswith("fleetwire_store_chunks_compacted_total")), None)
        finally:
            collector.stop()
    return out


def run(args, store_rows=None, baseline_bin=None):
    bench.log("9. time-series store: raw SQLite reference, disk, year query"
              + (", against the baseline build" if baseline_bin else ""))
    raw, raw_runs = raw_sqlite_rate()
    bench.log(f"  raw SQLite row inserts: {raw:,.0f} rows/s (runs {', '.join(f'{r:,.0f}' for r in raw_runs)})")
    if store_rows is None:
        store_rows = bench.store_limit(args)
    limits = [dict(row, ratio_to_raw=round(row["readings_per_s"] / raw, 2)) for row in store_rows]
    result = {"raw_rows_per_s": round(raw), "raw_runs": [round(r) for r in raw_runs], "store_limit": limits,
              "year": year_query(args), "targets": TARGETS}
    if baseline_bin:
        result["end_to_end"] = ingest_pairs(args, baseline_bin)
        base_rate = None
        for _ in range(1):
            sub = argparse.Namespace(**vars(args))
            sub.collector = os.path.join(baseline_bin, "collector")
            base_rate = bench.ingest(sub, "grpc-unary", 100, {"rss": 0, "hwm": 0})["readings_per_s"]
        result["unary_latency_at_50pct_of_baseline"] = unary_latency(args, baseline_bin, base_rate)
        result["baseline_unary_100_max"] = base_rate
    return result


def markdown(res):
    t = res["targets"]
    lines = ["", "### 9. Time-series store (issue #13)", ""]
    lines.append(f"Raw SQLite row inserts on this machine (bench/raw_sqlite_rate.py, median of 3 in this run): "
                 f"**{res['raw_rows_per_s']:,} rows/s**.")
    lines += ["", "| store-bench | readings/s | × raw rows/s (target ≥ 4) | B/reading written (≤ 8) | "
              "after compaction (≤ 2.0) | file after compaction | compaction s |", "|---|---|---|---|---|---|---|"]
    for row in res["store_limit"]:
        lines.append(f"| {row['devices']} devices, {row['order']} | {row['readings_per_s']:,} | {row['ratio_to_raw']} | "
                     f"{row.get('bytes_per_reading')} | {row.get('compacted_bytes_per_reading')} | "
                     f"{row.get('file_bytes_per_reading')} | {row.get('compaction_s')} |")
    y = res["year"]
    lines += ["", f"One year of 1 Hz readings of one sensor ({y.get('year_readings', 0):,} readings, "
              f"{y.get('file_bytes_per_reading')} B/reading in the file): series at a 1-day step over the year "
              f"**{y.get('series_1d_ms_median')} ms** (median of 5; target ≤ {t['series_1d_year_ms']:.0f}); "
              f"a 25-minute step over 30 days (every chunk decoded) {y.get('series_25min_30d_ms')} ms; "
              f"raw range reads of a week through the query API **{y.get('raw_readings_per_s_median', 0):,} "
              f"readings/s** (target ≥ 10 M)."]
    if "end_to_end" in res:
        lines += ["", "| 1,000 devices at --max-rate | current readings/s | before chunks | ratio (target ≥ 2) |",
                  "|---|---|---|---|"]
        for protocol, row in res["end_to_end"].items():
            lines.append(f"| {protocol} | {row['current']:,.0f} | {row['baseline']:,.0f} | {row['ratio']} |")
        lat = res["unary_latency_at_50pct_of_baseline"]
        lines += ["", f"grpc-unary ack latency at {lat['current']['target_readings_per_s']:,} readings/s (50 % of the "
                  f"build before chunks' 100-device max): p99 {lat['current']['p99_ms']} ms with chunks and "
                  f"compaction ({lat['current'].get('chunks_compacted')} chunks compacted meanwhile) against "
                  f"{lat['baseline']['p99_ms']} ms before (target: at most +5 ms)."]
    return "\n".join(lines) + "\n"


def main():
    global bench
    sys.path.insert(0, HERE)
    import run as bench_module
    bench = bench_module
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(bench.ROOT, ".build", "release"))
    parser.add_argument("--baseline-bin")
    parser.add_argument("--quick", action="store_true")
    args = bench.with_run_settings(parser.parse_args())
    try:
        res = run(args, baseline_bin=args.baseline_bin)
        print(json.dumps(res, indent=2))
        print(markdown(res))
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()
