#!/usr/bin/env python3
"""Row 7 of `make bench`: does a heavy query stall ingest? (issue #11)

One collector. A small fleet first stores history (4 devices × 4 sensors × 2 simulated hours, 28,800 readings per
device). Then a paced unary fleet (100 devices × 4 sensors, speedup 50: 20,000 readings/s) runs twice for the same
real time: alone, and while four query clients pull 10,000-reading pages of the history devices back to back
over keep-alive HTTP/1.1. The row is the devices' ack p50/p99 in each half, the pages the clients got, and the
target: p99 with the queries ≤ 2 × p99 without them + 5 ms (queries run on the store's read threads, below the
event loops' priority, so they must not stall the loops' connections).

Standalone: python3 bench/query_stall.py [--bin .build/release] [--seconds 30]
"""
import argparse
import http.client
import os
import sys
import threading
import time

# The suite module (bench/run.py: Collector, run_sim, cleanup): run.py sets it when it runs this row; main() imports
# it when this file runs alone.
bench = None

QUERY_CLIENTS = 4
PAGE_LIMIT = 10_000
SPEEDUP = 50


class QueryClients:
    """`count` threads, each pulling pages of the history devices over one keep-alive connection until stopped."""

    def __init__(self, collector, devices, count=QUERY_CLIENTS):
        self.collector, self.devices = collector, devices
        self.stop_flag = threading.Event()
        self.pages, self.bytes, self.errors, self.latencies = 0, 0, 0, []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.pull, args=(i,), daemon=True) for i in range(count)]

    def pull(self, index):
        conn = http.client.HTTPConnection("127.0.0.1", self.collector.port, timeout=30)
        n = index
        while not self.stop_flag.is_set():
            device = self.devices[n % len(self.devices)]
            n += 1
            started = time.monotonic()
            try:
                conn.request("GET", f"/v1/devices/{device}/readings?limit={PAGE_LIMIT}")
                response = conn.getresponse()
                body = response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.collector.port, timeout=30)
                ok, body = False, b""
            with self.lock:
                if ok:
                    self.pages += 1
                    self.bytes += len(body)
                    self.latencies.append(time.monotonic() - started)
                else:
                    self.errors += 1
        conn.close()

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_):
        self.stop_flag.set()
        for thread in self.threads:
            thread.join(timeout=60)


def paced_unary(args, collector, seconds):
    devices, sensors = 100, 4
    report, _, _ = bench.run_sim(args, [
        "--target", collector.url, "--devices", str(devices), "--protocol", "grpc-unary", "--sensors",
        bench.REF_SENSORS, "--interval", "1s", "--batch", "10s", "--duration", f"{int(SPEEDUP * (seconds + 5))}s",
        "--speedup", str(SPEEDUP), "--time-limit", f"{seconds}s", "--seed", "7"])
    row = bench.proto_row(report, "grpc-unary")
    elapsed = report["run"]["elapsed_ms"] / 1000
    return {"readings_per_s": round(row["readings_acked"] / elapsed), "p50_ms": row.get("latency_p50_ms"),
            "p99_ms": row.get("latency_p99_ms"), "p999_ms": row.get("latency_p999_ms"), "errors": row["errors"]}


def query_stall(args, seconds):
    collector = bench.Collector(args.collector)
    try:
        bench.log("  storing history: 4 devices × 4 sensors × 2 simulated hours")
        bench.run_sim(args, ["--target", collector.url, "--devices", "4", "--protocol", "grpc-stream",
                             "--sensors", bench.REF_SENSORS, "--interval", "1s", "--batch", "60s",
                             "--duration", "2h", "--max-rate"])
        history = [d["device"] for d in collector.get("/v1/devices?limit=4")["devices"]]
        alone = paced_unary(args, collector, seconds)
        bench.log(f"  unary alone: p50 {alone['p50_ms']} p99 {alone['p99_ms']} ms")
        with QueryClients(collector, history) as queries:
            loaded = paced_unary(args, collector, seconds)
        latencies = sorted(queries.latencies)
        result = {
            "seconds": seconds, "speedup": SPEEDUP, "query_clients": QUERY_CLIENTS, "page_limit": PAGE_LIMIT,
            "alone": alone, "with_queries": loaded, "pages": queries.pages, "page_errors": queries.errors,
            "pages_per_s": round(queries.pages / seconds, 1),
            "page_mib_per_s": round(queries.bytes / seconds / 2**20, 1),
            "page_p50_ms": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
        }
        limit = (2 * alone["p99_ms"] + 5) if alone["p99_ms"] is not None else None
        result["target_p99_ms"] = round(limit, 2) if limit is not None else None
        result["met"] = limit is not None and loaded["p99_ms"] is not None and loaded["p99_ms"] <= limit
        bench.log(f"  unary with {QUERY_CLIENTS} query clients: p50 {loaded['p50_ms']} p99 {loaded['p99_ms']} ms "
                  f"(target ≤ {result['target_p99_ms']}); {queries.pages} pages of {PAGE_LIMIT:,} readings, "
                  f"{result['page_mib_per_s']} MiB/s")
        return result
    finally:
        collector.stop()


def markdown(r):
    a, q = r["alone"], r["with_queries"]
    return [
        f"## 7. Heavy queries beside ingest ({r['seconds']} s each half)", "",
        f"A paced unary fleet (100 devices × 4 sensors at {r['speedup']}×) alone, then beside {r['query_clients']} "
        f"clients pulling {r['page_limit']:,}-reading pages back to back. Target: p99 with the queries ≤ 2 × p99 "
        "without them + 5 ms.", "",
        "| | readings/s | ack p50 ms | ack p99 ms | ack p99.9 ms | errors | pages (p50 ms each) | verdict |",
        "|---|---|---|---|---|---|---|---|",
        f"| alone | {bench.fmt(a['readings_per_s'])} | {bench.fmt(a['p50_ms'], 2)} | {bench.fmt(a['p99_ms'], 2)} | "
        f"{bench.fmt(a['p999_ms'], 2)} | {a['errors']} | | |",
        f"| with {r['query_clients']} query clients | {bench.fmt(q['readings_per_s'])} | {bench.fmt(q['p50_ms'], 2)} | "
        f"{bench.fmt(q['p99_ms'], 2)} | {bench.fmt(q['p999_ms'], 2)} | {q['errors']} | "
        f"{bench.fmt(r['pages'])} ({bench.fmt(r['page_p50_ms'], 1)}; {r['page_mib_per_s']} MiB/s, "
        f"{r['page_errors']} failed) | ≤ {bench.fmt(r['target_p99_ms'], 1)} ms: {bench.verdict(r['met'])} |", ""]


def main():
    global bench
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run
    bench = run
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(bench.ROOT, ".build", "release"))
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()
    args.collector = os.path.join(args.bin, "collector")
    args.sim = os.path.join(args.bin, "device-sim")
    try:
        print("\n".join(markdown(query_stall(args, args.seconds))))
    finally:
        bench.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
