#!/usr/bin/env python3
"""Row 12 of `make bench`: the PostgreSQL backend (issue #16), on a local PostgreSQL 15 started for the run
(Debian's server, fsync on, synchronous_commit on: an Ack means the commit reached the disk) sharing the 2 cores
with the collectors and the simulators.

12a. Ingest at --max-rate, grpc-stream (full batches, as rows 1-2), in alternating rounds on a fresh database each:
     one collector (two event loops) with one simulator of 200 devices, and two collectors (one loop each) on one
     database with a simulator of 100 devices each (the same 200 devices in all). Medians of readings/s; CPU seconds of the collectors, the
     simulators and the PostgreSQL server processes over each run say which is the limit.
12b. Ack latency at 50 % of the one-collector median, grpc-stream, 100 devices paced: the simulator's p99 against
     the commit window (20 ms) + 10 ms, and a fresh SQLite collector at the same rate as the reference.
12c. Disk per stored reading after compaction: one collector ingests for the ingest time, then idles until its
     compactor has merged the small chunks (a series idle for 60 s is compacted), then the database's tables
     (heap, TOAST and indexes) are measured as they are and after VACUUM FULL, against the readings stored.

Standalone: python3 bench/postgres.py [--bin .build/release] [--quick]
"""
import os
import statistics
import sys
import time

bench = None  # bench/run.py, set by run.py or main()

TARGETS = {
    "one_collector_readings_per_s": 300_000,
    "two_vs_one": 1.3,
    "ack_p99_ms": 30.0,  # the commit window (20 ms) + 10 ms
    "bytes_per_reading_on_disk": 4.0,
}
COMMIT_WINDOW_MS = 20
TABLES = ["devices", "series", "chunks", "batches", "bandwidth", "bandwidth_history", "revoked_devices",
          "fleetwire_schema"]


def _pgtest():
    sys.path.insert(0, os.path.join(bench.ROOT, "Tests", "Python"))
    import pgtest
    return pgtest


def postgres_cpu_s():
    """CPU seconds (user + system) of every process of the `postgres` user: the server's backends and workers."""
    import pwd
    try:
        uid = pwd.getpwnam("postgres").pw_uid
    except KeyError:
        uid = os.getuid()
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid != uid:
                continue
            total += bench.proc_stat(int(entry))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def ingest_round(args, pg, collectors, devices_each):
    """`collectors` collectors on one fresh database, one max-rate simulator of `devices_each` devices per collector,
    run at once; returns readings/s summed and CPU seconds per party."""
    import subprocess
    db = pg.create_database()
    # Two collectors get one event loop each, so both configurations run two loop threads on the two cores.
    loops = ["--loops", "1"] if collectors > 1 else []
    started = [bench.Collector(args.collector, db=pg.url(db), extra_args=["--collector-name", f"c{i}", *loops])
               for i in range(collectors)]
    try:
        cpu0 = [c.cpu() for c in started]
        pg0 = postgres_cpu_s()
        reports = [None] * collectors
        procs = []
        for i, c in enumerate(started):
            path = os.path.join(bench._tmpdir, f"pg-sim-{i}.json")
            cmd = [args.sim, "run", "--target", c.url, "--devices", str(devices_each), "--protocol", "grpc-stream",
                   "--sensors", bench.REF_SENSORS, "--interval", "1s", "--batch", "10s", "--duration", "3650d",
                   "--max-rate", "--time-limit", args.ingest_time, "--loops", "1", "--seed", str(42 + i),
                   "--json", path, "--quiet", *bench.FULL_BATCHES]
            procs.append((subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), path))
        sim_cpu = 0.0
        for i, (proc, path) in enumerate(procs):
            _, status, rusage = os.wait4(proc.pid, 0)
            sim_cpu += rusage.ru_utime + rusage.ru_stime
            with open(path) as f:
                import json
                reports[i] = json.load(f)
        collector_cpu = sum(c.cpu() - c0 for c, c0 in zip(started, cpu0))
        postgres_cpu = postgres_cpu_s() - pg0
    finally:
        for c in started:
            c.stop()
    rate = 0
    elapsed = 0.0
    acked = 0
    for report in reports:
        row = bench.proto_row(report, "grpc-stream")
        seconds = report["run"]["elapsed_ms"] / 1000
        rate += row["readings_acked"] / seconds
        elapsed = max(elapsed, seconds)
        acked += row["readings_acked"]
    result = {
        "collectors": collectors, "devices": devices_each * collectors, "readings_acked": acked,
        "readings_per_s": round(rate), "elapsed_s": round(elapsed, 2),
        "cpu_s": {"collectors": round(collector_cpu, 2), "simulators": round(sim_cpu, 2),
                  "postgres": round(postgres_cpu, 2)},
    }
    bench.log(f"  {collectors} collector(s): {result['readings_per_s']:,} readings/s; CPU s: collectors "
              f"{collector_cpu:.1f}, simulators {sim_cpu:.1f}, postgres {postgres_cpu:.1f} over {elapsed:.1f} s")
    return result


def ingest(args, pg, rounds):
    runs = {1: [], 2: []}
    for _ in range(rounds):
        runs[1].append(ingest_round(args, pg, 1, 200))
        runs[2].append(ingest_round(args, pg, 2, 100))
    medians = {n: statistics.median(r["readings_per_s"] for r in rs) for n, rs in runs.items()}
    return {"runs": {str(n): rs for n, rs in runs.items()}, "medians": {str(n): m for n, m in medians.items()}}


def latency(args, pg, one_rate):
    """The ack latency at 50 % of the one-collector median on PostgreSQL, and on a fresh SQLite collector at the same
    rate in the same run (the reference the target's miss or hit is read against)."""
    result = {}
    for backend in ("postgres", "sqlite"):
        db = pg.url(pg.create_database()) if backend == "postgres" else None
        collector = bench.Collector(args.collector, db=db)
        try:
            timeline = bench.Timeline(collector.proc.pid)
            result[backend] = bench.latency_segment(args, collector, timeline, "grpc-stream", one_rate * 0.5, "50%")
        finally:
            collector.stop()
    return result


def table_bytes(pg, db):
    names = ", ".join(f"'{t}'" for t in TABLES)
    return int(pg.scalar(db, f"SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                             f"WHERE c.relname IN ({names}) AND c.relkind = 'r'"))


def disk(args, pg):
    db = pg.create_database()
    collector = bench.Collector(args.collector, db=pg.url(db))
    try:
        bench.run_sim(args, [
            "--target", collector.url, "--devices", "100", "--protocol", "grpc-stream", "--sensors", bench.REF_SENSORS,
            "--interval", "1s", "--batch", "10s", "--duration", "3650d", "--max-rate", "--time-limit", args.ingest_time,
            *bench.FULL_BATCHES])
        before = int(pg.scalar(db, "SELECT count(*) FROM chunks"))
        # The compactor merges a series' last small chunks once it has been idle for 60 s; wait until the chunk count
        # stops changing after that.
        deadline = time.time() + 150
        time.sleep(62)
        last = -1
        while time.time() < deadline:
            count = int(pg.scalar(db, "SELECT count(*) FROM chunks"))
            if count == last:
                break
            last = count
            time.sleep(5)
    finally:
        collector.stop()
    readings = int(pg.scalar(db, "SELECT coalesce(sum(count), 0) FROM chunks"))
    chunks_after = int(pg.scalar(db, "SELECT count(*) FROM chunks"))
    as_is = table_bytes(pg, db)
    chunk_bytes = int(pg.scalar(db, "SELECT pg_total_relation_size('chunks')"))
    pg.psql(db, "VACUUM FULL")
    vacuumed = table_bytes(pg, db)
    vacuumed_chunks = int(pg.scalar(db, "SELECT pg_total_relation_size('chunks')"))
    batches_bytes = int(pg.scalar(db, "SELECT pg_total_relation_size('batches')"))
    result = {
        "readings": readings, "chunks_before_idle": before, "chunks_after": chunks_after,
        "bytes_as_is": as_is, "bytes_after_vacuum_full": vacuumed,
        "bytes_per_reading_as_is": round(as_is / readings, 2) if readings else None,
        "bytes_per_reading": round(vacuumed / readings, 2) if readings else None,
        "chunks_bytes_per_reading": round(vacuumed_chunks / readings, 2) if readings else None,
        "chunks_bytes_per_reading_as_is": round(chunk_bytes / readings, 2) if readings else None,
        "batches_bytes_per_reading": round(batches_bytes / readings, 2) if readings else None,
    }
    bench.log(f"  disk: {readings:,} readings, {before:,} → {chunks_after:,} chunks; {result['bytes_per_reading']} "
              f"B/reading after VACUUM FULL ({result['bytes_per_reading_as_is']} as is; chunks "
              f"{result['chunks_bytes_per_reading']}, batches {result['batches_bytes_per_reading']})")
    return result


def run(args):
    pgtest = _pgtest()
    bench.log("12. PostgreSQL backend")
    with pgtest.PostgresServer(fsync=True) as pg:
        ingested = ingest(args, pg, 1 if args.quick else 3)
        one = ingested["medians"]["1"]
        return {"ingest": ingested, "latency": latency(args, pg, one), "disk": disk(args, pg),
                "server_version": pg.scalar("postgres", "SHOW server_version")}


def markdown(res):
    fmt, verdict = bench.fmt, bench.verdict
    one, two = res["ingest"]["medians"]["1"], res["ingest"]["medians"]["2"]
    out = ["", "## 12. PostgreSQL backend (issue #16)", "",
           f"A local PostgreSQL {res.get('server_version', '15')} (Debian, fsync on, synchronous_commit on) on the same "
           "2 cores as the collectors and simulators; grpc-stream at --max-rate with full batches (4 sensors at 1 s, "
           "10 s batches); every run on a fresh database; medians of the rounds.",
           "", "| collectors | devices | readings/s (median) | CPU s of the median run: collectors / simulators / "
           "postgres |",
           "|---|---|---|---|"]
    for n in ("1", "2"):
        runs = sorted(res["ingest"]["runs"][n], key=lambda r: r["readings_per_s"])
        cpu = runs[len(runs) // 2]["cpu_s"]
        out.append(f"| {n} | {runs[0]['devices']} | {fmt(res['ingest']['medians'][n])} | "
                   f"{cpu['collectors']} / {cpu['simulators']} / {cpu['postgres']} |")
    lat = res["latency"]["postgres"]
    sqlite = res["latency"]["sqlite"]
    d = res["disk"]
    ratio = two / one if one else None
    out += ["", "| target | measured | target | verdict |", "|---|---|---|---|",
            f"| one collector ingest | {fmt(one)} readings/s | ≥ {fmt(TARGETS['one_collector_readings_per_s'])} | "
            f"{verdict(one >= TARGETS['one_collector_readings_per_s'])} |",
            f"| two collectors ÷ one | {fmt(ratio, 2)}× | ≥ {TARGETS['two_vs_one']}× | "
            f"{verdict(ratio is not None and ratio >= TARGETS['two_vs_one'])} |",
            f"| ack p99 at 50 % ({fmt(lat['achieved_readings_per_s'])} readings/s) | {fmt(lat['p99_ms'], 1)} ms "
            f"(p50 {fmt(lat['p50_ms'], 1)}; store ≤ "
            f"{lat['store_p99_ms_at_most']} ms) | ≤ {TARGETS['ack_p99_ms']} ms | "
            f"{verdict(lat['p99_ms'] is not None and lat['p99_ms'] <= TARGETS['ack_p99_ms'])} |",
            f"| the same on SQLite, same rate, same run ({fmt(sqlite['achieved_readings_per_s'])} readings/s) | "
            f"{fmt(sqlite['p99_ms'], 1)} ms (p50 {fmt(sqlite['p50_ms'], 1)}) | reference | |",
            f"| disk per reading after compaction | {d['bytes_per_reading']} B ({d['bytes_per_reading_as_is']} B "
            f"before VACUUM FULL; chunks {d['chunks_bytes_per_reading']} B, batches {d['batches_bytes_per_reading']} B)"
            f" | ≤ {TARGETS['bytes_per_reading_on_disk']} B | "
            f"{verdict(d['bytes_per_reading'] is not None and d['bytes_per_reading'] <= TARGETS['bytes_per_reading_on_disk'])} |"]
    return out


def main():
    global bench
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run as bench_run
    bench = bench_run
    args = bench.row_arguments()
    return bench.standalone_row("12", "postgres", run, markdown, args)


if __name__ == "__main__":
    sys.exit(main())
