"""Crash safety: the collector is killed with SIGKILL again and again while a fleet streams at full speed.

A `device-sim` fleet (a third each on gRPC client streams, gRPC unary and REST JSON, at max rate) sends to a
collector on a fixed port. The collector is killed with SIGKILL `KILLS` times at random moments (seeded:
FW_CRASH_SEED) and restarted on the same database and port each time; the fleet retries with backoff and re-sends
every batch that was not acknowledged. The simulator appends every acknowledged batch to `--acked-log` as the Ack
arrives. Afterwards, reading the file with Python's own sqlite3 and decoding its chunks with chunks.py:

- every acknowledged batch is stored exactly once, with its readings (count and value sum of its time range);
- every stored batch's readings are stored once: per device the decoded readings equal the sum of its batches'
  counts, and the device and series counters and the chunks' counts equal the decoded readings;
- every chunk row agrees with its blob (count, first and last ts, min, max, first and last value, sum), its
  timestamps strictly increase, and the chunks of a series do not overlap;
- PRAGMA integrity_check is ok and foreign_key_check is empty;
- the bandwidth counters (GET /v1/bandwidth per ingest protocol), read after every restart and at the end, never
  decrease, and never count more readings than are stored: a kill loses at most the counters of the last flush
  interval (2 s), never stored data;
- a second fleet run with `--seq-base auto` continues after the highest stored seq: none of its batches is a
  duplicate and all its readings are stored.
"""

from __future__ import annotations

import json
import math
import os
import random
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

from fwtest import DEVICE_SIM_BIN, Collector, add_decoded_readings, chunk_problems, get_json

SEED = int(os.environ.get("FW_CRASH_SEED", "20261121"))
KILLS = 5
INGEST = ("grpc-stream", "grpc-unary", "rest-json")
COUNTERS = ("bytes_in", "bytes_out", "readings", "batches", "duplicate_batches", "calls", "connections", "errors")
FLUSH_SLACK_MS = 1000  # how late the collector's 2 s counter flush may run on a loaded machine
FLEET_SECONDS = 24  # the fleet streams this long (the kills happen within its first ~18 s), then drains
FLEET_TIMEOUT = 120  # seconds for a fleet run to end (it has its own --time-limit and drain well below this)


def _free_port() -> int:
    """A port that was free a moment ago (the collector binds it with SO_REUSEADDR, restart after restart)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bandwidth(collector: Collector) -> dict:
    rows = {row["protocol"]: row for row in get_json(collector, "/v1/bandwidth")["protocols"]}
    return {p: {c: rows.get(p, {}).get(c, 0) for c in COUNTERS} for p in INGEST}


def _assert_not_decreasing(before: dict, after: dict, when: str) -> None:
    for p in INGEST:
        for c in COUNTERS:
            assert after[p][c] >= before[p][c], f"{p} {c} went down {when}: {before[p][c]} -> {after[p][c]}"


def _read_acked_log(path: Path) -> dict:
    """{(device, seq): (readings, first_ms, last_ms, value_sum)}; a batch acknowledged twice fails the test."""
    acked = {}
    for line in path.read_text().splitlines():
        device, seq, readings, first, last, total = line.split()
        key = (device, int(seq))
        assert key not in acked, f"batch {key} was acknowledged twice"
        acked[key] = (int(readings), int(first), int(last), float(total))
    return acked


def _fleet(tmp_path: Path, name: str, target: str, *args: str, seed: int = SEED) -> subprocess.Popen:
    """Starts `device-sim run` against `target`, writing its acked log, JSON report and output under tmp_path/name.*
    (also used by test_postgres_scale_out)."""
    out = open(tmp_path / f"{name}.out", "wb")
    try:
        return subprocess.Popen(
            [str(DEVICE_SIM_BIN), "run", "--target", target, "--seed", str(seed), "--call-timeout", "5s", "--quiet",
             "--acked-log", str(tmp_path / f"{name}.acked"), "--json", str(tmp_path / f"{name}.json"), *args],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    finally:
        out.close()


def _finish(fleet: subprocess.Popen, tmp_path: Path, name: str) -> dict:
    """Waits for the fleet run, checks it exited 0, returns its JSON report."""
    try:
        code = fleet.wait(timeout=FLEET_TIMEOUT)
    except subprocess.TimeoutExpired:
        fleet.kill()
        fleet.wait(5)
        raise AssertionError(f"device-sim {name} did not finish within {FLEET_TIMEOUT} s:\n"
                             f"{(tmp_path / f'{name}.out').read_text(errors='replace')[-3000:]}")
    output = (tmp_path / f"{name}.out").read_text(errors="replace")
    assert code == 0, f"device-sim {name} exited with {code}:\n{output[-3000:]}"
    return json.loads((tmp_path / f"{name}.json").read_text())


def _check_acknowledged_batches_stored_once(db: Path, acked: dict) -> None:
    """Every acknowledged batch has its batches row with its reading count, and its time range holds exactly its
    readings with the values the simulator generated (sum compared with a tolerance: summing order differs). The
    readings are the chunks decoded by chunks.py."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        add_decoded_readings(conn)
        conn.execute("ATTACH DATABASE ':memory:' AS t")
        conn.execute("CREATE TABLE t.acked (device TEXT, seq INTEGER, readings INTEGER, first_ms INTEGER, "
                     "last_ms INTEGER, value_sum REAL, PRIMARY KEY (device, seq))")
        conn.executemany("INSERT INTO t.acked VALUES (?, ?, ?, ?, ?, ?)",
                         [(d, s, *rest) for (d, s), rest in acked.items()])
        missing = conn.execute(
            "SELECT a.device, a.seq, a.readings, b.readings FROM t.acked a "
            "LEFT JOIN devices d ON d.name = a.device "
            "LEFT JOIN batches b ON b.device_id = d.id AND b.seq = a.seq "
            "WHERE b.readings IS NULL OR b.readings != a.readings").fetchall()
        assert not missing, (f"{len(missing)} acknowledged batches are not stored as acknowledged "
                             f"(device, seq, readings acked, readings stored): {missing[:10]}")
        rows = conn.execute(
            "SELECT a.device, a.seq, a.readings, a.value_sum, count(r.ts), total(r.value) FROM t.acked a "
            "JOIN devices d ON d.name = a.device JOIN series s ON s.device_id = d.id "
            "LEFT JOIN temp.decoded_readings r ON r.series_id = s.id AND r.ts BETWEEN a.first_ms AND a.last_ms "
            "GROUP BY a.device, a.seq").fetchall()
        assert len(rows) == len(acked)
        wrong = [r for r in rows if r[4] != r[2] or not math.isclose(r[5], r[3], rel_tol=1e-9, abs_tol=1e-6)]
        assert not wrong, (f"{len(wrong)} acknowledged batches have other readings stored in their time range "
                           f"(device, seq, readings, value sum acked, rows, value sum stored): {wrong[:10]}")
    finally:
        conn.close()


def _check_stored_batches_whole_and_counted(db: Path) -> None:
    """Every chunk agrees with its blob and no two chunks of a series overlap (so a series has one reading per ms).
    Per device: decoded readings == its chunks' counts == sum of its batches' reading counts == devices.readings;
    batch rows == devices.batches; highest seq == devices.last_seq. Per series: decoded readings == its chunks'
    counts == series.readings."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        problems = chunk_problems(conn)
        assert not problems, f"{len(problems)} chunks disagree with their blobs or overlap: {problems[:10]}"
        add_decoded_readings(conn)
        twice = conn.execute("SELECT series_id, ts, count(*) FROM temp.decoded_readings GROUP BY series_id, ts "
                             "HAVING count(*) > 1").fetchall()
        assert not twice, f"readings stored more than once (series, ts, times): {twice[:10]}"
        devices = conn.execute(
            "SELECT d.name, d.readings, d.batches, d.last_seq, "
            "(SELECT count(*) FROM temp.decoded_readings r JOIN series s ON s.id = r.series_id "
            "WHERE s.device_id = d.id), "
            "(SELECT coalesce(sum(c.count), 0) FROM chunks c JOIN series s ON s.id = c.series_id "
            "WHERE s.device_id = d.id), "
            "(SELECT total(readings) FROM batches b WHERE b.device_id = d.id), "
            "(SELECT count(*) FROM batches b WHERE b.device_id = d.id), "
            "(SELECT coalesce(max(seq), 0) FROM batches b WHERE b.device_id = d.id) FROM devices d").fetchall()
        assert devices
        for name, readings, batches, last_seq, rows, chunk_count, batch_readings, batch_rows, max_seq in devices:
            assert rows == chunk_count == batch_readings == readings, (
                f"{name}: {rows} decoded readings, its chunks count {chunk_count}, its batches count "
                f"{batch_readings:.0f}, devices.readings {readings}")
            assert batch_rows == batches, f"{name}: {batch_rows} batch rows, devices.batches {batches}"
            assert max_seq == last_seq, f"{name}: highest stored seq {max_seq}, devices.last_seq {last_seq}"
        series = conn.execute(
            "SELECT s.id, s.readings, (SELECT count(*) FROM temp.decoded_readings r WHERE r.series_id = s.id), "
            "(SELECT coalesce(sum(c.count), 0) FROM chunks c WHERE c.series_id = s.id) FROM series s").fetchall()
        wrong = [row for row in series if not row[1] == row[2] == row[3]]
        assert not wrong, ("series whose counter differs from their readings (id, counter, decoded readings, "
                           f"chunks' counts): {wrong[:10]}")
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def test_sigkill_during_full_speed_ingest_loses_no_acknowledged_batch(tmp_path):
    rng = random.Random(SEED)
    db = tmp_path / "telemetry.db"
    port = _free_port()
    collector = Collector(db, tmp_path / "collector.log", port=port)
    fleet = None
    try:
        collector.start()
        counters = [_bandwidth(collector)]
        fleet = _fleet(tmp_path, "fleet", f"http://127.0.0.1:{port}", "--protocol", "mixed", "--max-rate",
                       "--devices", "24", "--duration", "30d",
                       "--time-limit", f"{FLEET_SECONDS}s")
        acked_log = tmp_path / "fleet.acked"
        acked_at_kill = []
        killed_at_ms = []
        wal_left = 0
        for kill in range(KILLS):
            time.sleep(rng.uniform(2.0, 3.2))
            assert fleet.poll() is None, f"the fleet finished before kill {kill + 1}: make the run longer"
            acked_at_kill.append(acked_log.read_bytes().count(b"\n") if acked_log.exists() else 0)
            killed_at_ms.append(int(time.time() * 1000))
            collector.kill()
            assert collector.proc.returncode == -9, f"kill {kill + 1}: exit status {collector.proc.returncode}"
            wal_left += Path(f"{db}-wal").exists()
            collector.start()  # the same database and port: the fleet keeps its target
            counters.append(_bandwidth(collector))
            _assert_not_decreasing(counters[-2], counters[-1], f"across kill {kill + 1}")
        report = _finish(fleet, tmp_path, "fleet")
        fleet = None
        acked = _read_acked_log(acked_log)
        assert len(acked) > acked_at_kill[-1], "nothing was acknowledged after the last restart"
        assert all(b > a for a, b in zip(acked_at_kill, acked_at_kill[1:])), \
            f"the fleet made no progress between two kills: acknowledged lines at each kill {acked_at_kill}"
        assert report["total"]["batches_acked"] == len(acked)
        counters.append(_bandwidth(collector))
        _assert_not_decreasing(counters[-2], counters[-1], "after the fleet finished")

        # A second run continues after the highest stored seq (--seq-base auto): nothing of it is a duplicate.
        # Its 5 simulated seconds end at its start, after the first run's readings: no timestamp is shared.
        highest = {}
        for device, seq in acked:
            highest[device] = max(highest.get(device, 0), seq)
        second = _fleet(tmp_path, "again", f"http://127.0.0.1:{port}", "--protocol", "mixed", "--max-rate",
                        "--devices", "24", "--interval", "100ms", "--batch", "1s",
                        "--duration", "5s", "--seq-base", "auto")
        report2 = _finish(second, tmp_path, "again")
        acked2 = _read_acked_log(tmp_path / "again.acked")
        assert acked2 and report2["total"]["batches_acked"] == len(acked2)
        assert report2["total"]["duplicate_batches"] == 0
        assert report2["total"]["readings_stored"] == report2["total"]["readings_acked"]
        assert all(seq > max(highest.values()) for _, seq in acked2)
        counters.append(_bandwidth(collector))
        _assert_not_decreasing(counters[-2], counters[-1], "after the second run")
        collector.stop()
    finally:
        if fleet is not None:
            fleet.kill()
        collector.kill()

    all_acked = {**acked, **acked2}
    _check_acknowledged_batches_stored_once(db, all_acked)
    _check_stored_batches_whole_and_counted(db)
    stored = dict(((d, s), r) for d, s, r in sqlite3.connect(f"file:{db}?mode=ro", uri=True).execute(
        "SELECT d.name, b.seq, b.readings FROM batches b JOIN devices d ON d.id = b.device_id"))
    stored_not_acked = set(stored) - set(all_acked)
    left = report["total"]["buffered_batches"] + report["total"]["batches_dropped_full"] + \
        report["total"]["batches_dropped_rejected"]
    assert len(stored_not_acked) <= left, (
        f"{len(stored_not_acked)} stored batches were never acknowledged, but the fleet ended holding or having "
        f"dropped only {left}: {sorted(stored_not_acked)[:10]}")

    # The counters persisted at the graceful stop are at least the last ones read, and count no more readings than
    # are stored (what a kill loses is counted traffic, never stored readings).
    persisted = {p: {c: 0 for c in COUNTERS} for p in INGEST}
    for row in sqlite3.connect(f"file:{db}?mode=ro", uri=True).execute(
            f"SELECT protocol, {', '.join(COUNTERS)} FROM bandwidth"):
        if row[0] in persisted:
            for c, v in zip(COUNTERS, row[1:]):
                persisted[row[0]][c] += v
    _assert_not_decreasing(counters[-1], persisted, "at the graceful stop")
    counted = sum(persisted[p]["readings"] for p in INGEST)
    stored_readings = sum(stored.values())
    assert counted <= stored_readings
    # The loss bound: what the counters miss was committed within a flush interval (2 s, plus FLUSH_SLACK_MS for a
    # late timer on a busy machine) before some kill; batches rows carry their commit time.
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    windows = " OR ".join("committed_ms BETWEEN ? AND ?" for _ in killed_at_ms)
    bound = conn.execute(f"SELECT total(readings) FROM batches WHERE {windows}",
                         [t for at in killed_at_ms for t in (at - 2000 - FLUSH_SLACK_MS, at)]).fetchone()[0]
    conn.close()
    assert stored_readings - counted <= bound, (
        f"the counters miss {stored_readings - counted} stored readings, more than the {bound:.0f} committed "
        f"within a flush interval before the {KILLS} kills")
    print(f"\n{KILLS} kills (seed {SEED}), WAL left behind {wal_left} times; acknowledged {len(acked)} batches "
          f"({report['total']['readings_acked']} readings) then {len(acked2)}; stored {len(stored)} batches, "
          f"{stored_readings} readings; {len(stored_not_acked)} stored but never acknowledged; duplicates "
          f"acknowledged {report['total']['duplicate_batches']} (collector counted "
          f"{sum(persisted[p]['duplicate_batches'] for p in INGEST)}); counters lost {stored_readings - counted} "
          f"readings' worth of traffic over {KILLS} kills (bound: {bound:.0f} committed within 2 s + slack before "
          f"a kill)")
