#!/usr/bin/env python3
"""Row 10 of `make bench`: the four kinds of gRPC call and the compact stream forms (issue #14).

10a. Wire bytes per reading on the reference workload (100 devices × 4 sensors at 1 Hz, one stream per 10
     simulated minutes): grpc-stream and grpc-sync with every batch in full, with stream context, and with stream
     context plus packed deltas (the simulator's default), at 10 s and 60 s batches; grpc-unary with and without
     packed deltas. The collector's ledger is the measure; the simulator's socket count must agree.
10b. Ingest at --max-rate, 100 devices: grpc-sync against grpc-stream, three alternating pairs (medians).
10c. Sync ack latency, paced at 20,000 readings/s and at 50 % and 80 % of its 10b max rate (per batch, send to
     Ack), each beside grpc-unary at the same rate in the same collector.
10d. Watch: 10 `device-sim watch` processes, each following 100 of 1,000 devices (output to /dev/null): the
     collector's commit-to-stream histogram (`fleetwire_watch_delivery_seconds`) during a paced grpc-stream fleet,
     and ingest at --max-rate with the 10 watchers against without, three alternating pairs (medians).

Standalone: python3 bench/streams.py [--bin .build/release] [--quick]
"""
import os
import statistics
import subprocess
import sys

bench = None  # bench/run.py, set by run.py or main()

TARGETS = {
    "sync_full_10s": 4.9,       # per-batch Acks cost at most ~0.55 B/reading over grpc-stream's 4.33
    "context_10s": 2.2,         # moonshot 2.0, both grpc-stream and grpc-sync
    "context_60s": 1.0,
    "sync_ack_p99_ms_at_80pct": 25.0,  # commit window (20 ms) + 5 ms
    "sync_ingest_vs_stream": 1.0,
    "watch_p99_ms": 10.0,
    "watch_ingest_ratio": 0.95,
}
WATCHERS, WATCH_DEVICES = 10, 1_000
ENCODINGS = {
    "full": ["--stream-context", "off", "--packing", "off"],
    "context": ["--stream-context", "on", "--packing", "off"],
    "context+packed": ["--stream-context", "on", "--packing", "on"],
}


def wire_rows(args):
    rows = []
    for batch, per_stream in (("10s", 60), ("60s", 10)):
        for protocol in ("grpc-stream", "grpc-sync"):
            for name, flags in ENCODINGS.items():
                row = bench.wire(args, protocol, batch, bench.REF_SENSORS, 100, per_stream, encoding=flags)
                row["encoding_name"] = name
                rows.append(row)
    for name in ("full", "context+packed"):
        row = bench.wire(args, "grpc-unary", "10s", bench.REF_SENSORS, 100, encoding=ENCODINGS[name])
        row["encoding_name"] = "packed" if name != "full" else name
        rows.append(row)
    return rows


def ingest_pairs(args, pairs=3):
    peak = {"rss": 0, "hwm": 0}
    runs = {"grpc-stream": [], "grpc-sync": []}
    for _ in range(pairs):
        for protocol in runs:
            runs[protocol].append(bench.ingest(args, protocol, 100, peak, encoding=ENCODINGS["context+packed"]))
    medians = {p: statistics.median(r["readings_per_s"] for r in rs) for p, rs in runs.items()}
    bench.log(f"  ingest medians: sync {medians['grpc-sync']:,.0f}/s, stream {medians['grpc-stream']:,.0f}/s "
              f"({medians['grpc-sync'] / medians['grpc-stream']:.2f}×)")
    return {"runs": runs, "medians": medians}


def sync_latency(args, max_rate):
    """Sync's per-batch ack latency, paced, beside grpc-unary at the same rates in the same collector: at a light
    20,000 readings/s (where the store commits within its window) and at 50 % and 80 % of Sync's max rate."""
    collector = bench.Collector(args.collector)
    timeline = bench.Timeline(collector.proc.pid)
    segments = []
    try:
        for load, rate in (("20k/s", 20_000), ("50%", max_rate * 0.5), ("80%", max_rate * 0.8)):
            for protocol in ("grpc-sync", "grpc-unary"):
                segments.append(bench.latency_segment(args, collector, timeline, protocol, rate, load,
                                                      encoding=ENCODINGS["context+packed"]))
    finally:
        collector.stop()
    return segments


class Watchers:
    """`count` device-sim watch processes splitting `devices` devices (dev-00001…) evenly, printing to /dev/null;
    started once the collector has registered each watch."""

    def __init__(self, args, collector, count=WATCHERS, devices=WATCH_DEVICES):
        self.procs = []
        per = devices // count
        for k in range(count):
            names = ",".join(f"dev-{i:05d}" for i in range(k * per + 1, (k + 1) * per + 1))
            proc = subprocess.Popen([args.sim, "watch", "--target", collector.url, "--devices", names],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            bench._children.append(proc)
            self.procs.append(proc)
        for proc in self.procs:
            line = proc.stderr.readline().decode(errors="replace")
            if "watching" not in line:
                raise RuntimeError(f"device-sim watch did not start: {line}")

    def stop(self):
        """Stops the watchers; returns how many had ended on their own (fallen behind), with their messages."""
        ended = []
        for proc in self.procs:
            if proc.poll() is not None:
                ended.append(proc.stderr.read().decode(errors="replace").strip()[-200:])
            else:
                proc.send_signal(2)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            bench._children.remove(proc)
        return ended


def watch_ingest(args, watchers):
    collector = bench.Collector(args.collector)
    group = Watchers(args, collector) if watchers else None
    try:
        cpu0 = collector.cpu()
        report, _, _ = bench.run_sim(args, [
            "--target", collector.url, "--devices", str(WATCH_DEVICES), "--protocol", "grpc-stream",
            "--sensors", bench.REF_SENSORS, "--interval", "1s", "--batch", "10s", "--duration", "3650d",
            "--max-rate", "--time-limit", args.ingest_time])
        cpu = collector.cpu() - cpu0
        ended = group.stop() if group else []
    finally:
        collector.stop()
    row = bench.proto_row(report, "grpc-stream")
    rate = round(row["readings_acked"] / (report["run"]["elapsed_ms"] / 1000))
    cpu_per_m = round(cpu / (row["readings_acked"] / 1e6), 3) if row["readings_acked"] else None
    bench.log(f"  ingest grpc-stream {WATCH_DEVICES} devices, {WATCHERS if watchers else 0} watchers: {rate:,}/s, "
              f"collector CPU {cpu_per_m} s/M" + (f"; {len(ended)} watchers ended: {ended[:1]}" if ended else ""))
    return {"watchers": WATCHERS if watchers else 0, "readings_per_s": rate, "watchers_ended": ended,
            "collector_cpu_s_per_m_readings": cpu_per_m}


def watch_latency(args, rate=40_000):
    """A paced grpc-stream fleet of 1,000 devices at `rate` readings/s with the 10 watchers: the collector's
    commit-to-stream histogram over the run."""
    collector = bench.Collector(args.collector)
    group = Watchers(args, collector)
    try:
        before = bench.histogram_from_metrics(collector.text("/metrics"), "fleetwire_watch_delivery_seconds")
        speedup = rate / (WATCH_DEVICES * 4)
        real_s = args.latency_time
        report, _, _ = bench.run_sim(args, [
            "--target", collector.url, "--devices", str(WATCH_DEVICES), "--protocol", "grpc-stream",
            "--sensors", bench.REF_SENSORS, "--interval", "1s", "--batch", "10s", "--stream-batches", "6",
            "--duration", f"{int(speedup * (real_s + 5))}s", "--speedup", f"{speedup:.3f}",
            "--time-limit", f"{real_s}s"])
        after = bench.histogram_from_metrics(collector.text("/metrics"), "fleetwire_watch_delivery_seconds")
        ended = group.stop()
    finally:
        collector.stop()
    row = bench.proto_row(report, "grpc-stream")
    delivered = (after[-1][1] - before[-1][1]) if after and before else 0
    result = {"target_readings_per_s": rate, "achieved_readings_per_s": round(row["readings_acked"] / (report["run"]["elapsed_ms"] / 1000)),
              "deliveries": delivered, "watchers_ended": ended,
              "p50_ms_at_most": bench.histogram_percentile(before, after, 0.50),
              "p99_ms_at_most": bench.histogram_percentile(before, after, 0.99),
              "p999_ms_at_most": bench.histogram_percentile(before, after, 0.999)}
    bench.log(f"  watch delivery at {rate:,}/s: {delivered:,} deliveries, p50 ≤ {result['p50_ms_at_most']} ms, "
              f"p99 ≤ {result['p99_ms_at_most']} ms, p99.9 ≤ {result['p999_ms_at_most']} ms")
    return result


def watch_rows(args, pairs=3):
    runs = {"with": [], "without": []}
    for _ in range(pairs):
        runs["without"].append(watch_ingest(args, False))
        runs["with"].append(watch_ingest(args, True))
    medians = {k: statistics.median(r["readings_per_s"] for r in v) for k, v in runs.items()}
    return {"ingest": runs, "medians": medians, "latency": watch_latency(args)}


def run(args, only=None):
    bench.log("10. gRPC call kinds and compact streams")
    if only == "watch":
        return {"watch": watch_rows(args, 2 if args.quick else 3)}
    res = {"wire": wire_rows(args), "ingest": ingest_pairs(args, 2 if args.quick else 3)}
    res["latency"] = sync_latency(args, res["ingest"]["medians"]["grpc-sync"])
    res["watch"] = watch_rows(args, 2 if args.quick else 3)
    return res


def verdict(ok):
    return "met" if ok else "missed"


def watch_markdown(res):
    fmt = bench.fmt
    if "watch" not in res:
        return []
    out = []
    wr = res["watch"]
    lat = wr["latency"]
    ratio = wr["medians"]["with"] / wr["medians"]["without"]
    out += ["", f"Watch: {WATCHERS} `device-sim watch` processes, each following 100 of {WATCH_DEVICES:,} devices "
            "(all sensors), on the same 2 cores as the collector and the fleet.", "",
            "| measure | measured | target | verdict |", "|---|---|---|---|",
            f"| commit → watcher's stream, paced grpc-stream fleet at {fmt(lat['target_readings_per_s'])} "
            f"readings/s (achieved {fmt(lat['achieved_readings_per_s'])}), {fmt(lat['deliveries'])} deliveries | "
            f"p50 ≤ {fmt(lat['p50_ms_at_most'], 1)} ms, p99 ≤ {fmt(lat['p99_ms_at_most'], 1)} ms, "
            f"p99.9 ≤ {fmt(lat['p999_ms_at_most'], 1)} ms (histogram bucket bounds) | p99 ≤ 10 ms | "
            f"{verdict(lat['p99_ms_at_most'] is not None and lat['p99_ms_at_most'] <= TARGETS['watch_p99_ms'])} |",
            f"| ingest at --max-rate with the watchers ÷ without (medians of "
            f"{len(wr['ingest']['with'])}: {fmt(wr['medians']['with'])} / {fmt(wr['medians']['without'])} "
            f"readings/s; runs with: {', '.join(fmt(r['readings_per_s']) for r in wr['ingest']['with'])}; "
            f"without: {', '.join(fmt(r['readings_per_s']) for r in wr['ingest']['without'])}) | "
            f"{ratio:.2f}× | ≥ 0.95× | {verdict(ratio >= TARGETS['watch_ingest_ratio'])} |",
            f"| collector CPU per million ingested readings, with / without the watchers (medians) | "
            f"{fmt(statistics.median(r['collector_cpu_s_per_m_readings'] for r in wr['ingest']['with']), 2)} / "
            f"{fmt(statistics.median(r['collector_cpu_s_per_m_readings'] for r in wr['ingest']['without']), 2)} s | | |"]
    ended = sum(len(r["watchers_ended"]) for r in wr["ingest"]["with"]) + len(lat["watchers_ended"])
    if ended:
        out.append(f"\n{ended} watchers were ended during the runs (fallen behind): "
                   f"{(wr['ingest']['with'][0]['watchers_ended'] or lat['watchers_ended'])[:1]}")
    return out


def markdown(res):
    fmt = bench.fmt
    if "wire" not in res:
        return ["", "## 10d. Watch (issue #14)"] + watch_markdown(res)
    out = ["", "## 10. gRPC call kinds and compact streams (issue #14)", "",
           "Reference workload: 100 devices × temperature, humidity, pressure, battery at 1 s, one stream per 10 "
           f"simulated minutes (60 batches of 10 s, or 10 of 60 s), 10 simulated minutes at {bench.WIRE_SPEEDUP}×. "
           "*full*: every batch states everything (as before issue #14); *context*: stream context (no sensor "
           "names, exponents, starts or seq after a stream's first batch); *packed*: mantissa deltas bit-packed "
           "(`packed_deltas`).", "",
           "| protocol | batch | encoding | readings | B/reading (collector) | B/reading (sim) | agree | retried / errors |",
           "|---|---|---|---|---|---|---|---|"]
    for r in res["wire"]:
        out.append(f"| {r['protocol']} | {r['batch']} | {r['encoding_name']} | {fmt(r['readings'])} | "
                   f"{fmt(r['collector_bytes_per_reading'], 2)} | {fmt(r['sim_bytes_per_reading'], 2)} | "
                   f"{'yes' if r['agree'] else 'NO'} | {fmt(r['batches_retried'])} / {fmt(r['errors'])} |")
    w = {(r["protocol"], r["batch"], r["encoding_name"]): r["collector_bytes_per_reading"] for r in res["wire"]}
    checks = [
        ("grpc-sync, 10 s, every batch in full (per-batch Acks)", w.get(("grpc-sync", "10s", "full")),
         TARGETS["sync_full_10s"]),
        ("grpc-stream, 10 s, stream context (+ packed)", w.get(("grpc-stream", "10s", "context+packed")),
         TARGETS["context_10s"]),
        ("grpc-sync, 10 s, stream context (+ packed)", w.get(("grpc-sync", "10s", "context+packed")),
         TARGETS["context_10s"]),
        ("grpc-stream, 10 s, stream context alone", w.get(("grpc-stream", "10s", "context")), TARGETS["context_10s"]),
        ("grpc-sync, 10 s, stream context alone", w.get(("grpc-sync", "10s", "context")), TARGETS["context_10s"]),
        ("grpc-stream, 60 s, stream context (+ packed)", w.get(("grpc-stream", "60s", "context+packed")),
         TARGETS["context_60s"]),
        ("grpc-sync, 60 s, stream context (+ packed)", w.get(("grpc-sync", "60s", "context+packed")),
         TARGETS["context_60s"]),
    ]
    out += ["", "| wire target | measured B/reading | target | verdict |", "|---|---|---|---|"]
    for name, got, target in checks:
        out.append(f"| {name} | {fmt(got, 2)} | ≤ {target} | {verdict(got is not None and got <= target)} |")
    ing = res["ingest"]
    ratio = ing["medians"]["grpc-sync"] / ing["medians"]["grpc-stream"]
    out += ["", "Ingest at --max-rate, 100 devices, stream context + packed deltas, "
                f"{len(ing['runs']['grpc-sync'])} alternating pairs:", "",
            "| protocol | readings/s per run | median | ack p99 ms per run |", "|---|---|---|---|"]
    for p, rs in ing["runs"].items():
        out.append(f"| {p} | {', '.join(fmt(r['readings_per_s']) for r in rs)} | {fmt(ing['medians'][p])} | "
                   f"{', '.join(fmt(r['latency_p99_ms'], 1) for r in rs)} |")
    out += ["", f"grpc-sync ÷ grpc-stream (medians): {ratio:.2f}× (target ≥ 1.0: {verdict(ratio >= 1.0)}).", "",
            "Ack latency, paced (per batch, send to Ack; 100 devices, 10 s batches; one collector, segments in "
            "this order): Sync beside grpc-unary at the same rate. An Upload's batches wait for the stream's end "
            "(one per 10 minutes on the reference workload).", "",
            "| protocol | load | target readings/s | achieved | p50 ms | p99 ms | p99.9 ms | store p99 ms ≤ | p99 target | "
            "verdict |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in res["latency"]:
        target = TARGETS["sync_ack_p99_ms_at_80pct"]
        judged = r["load"] == "80%" and r["protocol"] == "grpc-sync"
        ok = r["p99_ms"] is not None and r["p99_ms"] <= target
        out.append(f"| {r['protocol']} | {r['load']} | {fmt(r['target_readings_per_s'])} | "
                   f"{fmt(r['achieved_readings_per_s'])} | {fmt(r['p50_ms'], 2)} | {fmt(r['p99_ms'], 2)} | "
                   f"{fmt(r['p999_ms'], 2)} | {fmt(r.get('store_p99_ms_at_most'), 1)} | "
                   f"{'≤ %.0f ms' % target if judged else ''} | {verdict(ok) if judged else ''} |")
    out += watch_markdown(res)
    return out


def main():
    global bench
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run as bench
    args = bench.row_arguments(lambda p: p.add_argument("--only", choices=["watch"], help="only 10d (Watch)"))
    return bench.standalone_row(10, "streams", lambda a: run(a, a.only), markdown, args,
                                suffix=f"-{args.only}" if args.only else "")


if __name__ == "__main__":
    sys.exit(main())
