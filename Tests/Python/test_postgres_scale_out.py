"""Scale-out on PostgreSQL with real processes: several collectors on one database (issue 16).

Each test starts its own throwaway PostgreSQL server (pgtest.PostgresServer; skipped, saying why, when the server
binaries are not installed), collectors (`collector serve --db postgresql://...`, each with its --collector-name)
and device-sim fleets. Fleets reach the collectors either directly or through pgtest.RoundRobinProxy, an L4 load
balancer in Python that hands each new connection to the next collector: with `--connection per-batch` every batch
is a new connection, so a device's batches are stored by different collectors in turn.

psql is the independent reader: the tables are read back with it (chunk blobs as hex) and copied into a SQLite file
shaped like schema/sqlite.sql, on which test_crash.py's checks run unchanged (every acknowledged batch stored exactly
once with its readings, chunks agreeing with their blobs as decoded by chunks.py, counters equal to the readings).

- A database that cannot be reached at start: exit 1 within seconds, the message names host:port, never the password.
- Three collectors, a mixed fleet split between them by the proxy plus a keep-alive fleet on one of them: every
  replica's devices, device summaries, readings, and fleet bandwidth (with each collector's share) agree with each
  other, with psql, and with what device-sim says was acknowledged.
- The kill storm: one of two collectors is SIGKILLed again and again under a max-rate fleet and restarted on its
  port: no acknowledged batch is lost, none is stored twice.
- PostgreSQL stopped mid-run and started again: the collectors keep running, answer /readyz 503 and refuse writes
  with 503 + Retry-After / UNAVAILABLE while it is down, write again once it is back (no restart), and every
  acknowledged batch is stored.
"""

from __future__ import annotations

import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest

from fwtest import (CALL_TIMEOUT, CHANNEL_OPTIONS, COLLECTOR_BIN, DEVICE_SIM_BIN, Collector, get_json, http_request,
                    simple_batch)
from pgtest import PostgresServer, RoundRobinProxy, free_port, mirror_to_sqlite, missing_device_rows, wait_for
from test_crash import _fleet as crash_fleet, _finish
from test_crash import (_check_acknowledged_batches_stored_once, _check_stored_batches_whole_and_counted,
                        _read_acked_log)

SEED = int(os.environ.get("FW_SCALE_SEED", "20261206"))
FLUSH_WAIT = 12.0  # seconds for every replica's view of the fleet counters to settle (flushes every 2 s)
RECOVERY_WAIT = 30.0  # seconds for writes to work again once PostgreSQL is back (reconnect with backoff)
NOT_READY_WAIT = 10.0  # seconds for a collector to notice that PostgreSQL is gone
# The protocols the mixed fleet ingests with (counted per collector in `bandwidth`); "query" (the read API our own
# checks call, a different number of times on each replica) is left out of the comparisons.
NOT_COMPARED = {"query", "watch"}
COMPARED_COUNTERS = ("readings", "batches", "duplicate_batches", "calls", "connections", "errors", "bytes_in",
                     "bytes_out")


# -- processes ----------------------------------------------------------------------------------------------------


def _registry() -> list:
    """conftest's list of collectors that its session watchdog kills on a hang (when conftest is loaded)."""
    conftest = sys.modules.get("conftest")
    return getattr(conftest, "_all_collectors", None) if conftest is not None else None


def _server(fsync: bool):
    with PostgresServer(fsync=fsync) as server:
        yield server
        # Shown with a failing test's captured output.
        print(f"\n-- PostgreSQL server log (last lines) --\n{_server_log_tail(server)}")


@pytest.fixture
def pg():
    """A PostgreSQL server with fsync on (acknowledged commits survive a crash). Request it before `replicas`:
    fixtures are torn down in reverse order, so the collectors stop while their database is still there."""
    yield from _server(fsync=True)


@pytest.fixture
def pg_fast():
    """A PostgreSQL server with fsync off, for tests that never crash anything."""
    yield from _server(fsync=False)


@pytest.fixture
def replicas(tmp_path):
    """replicas(url, name, port=0) starts a collector on the PostgreSQL database `url` named `name`; at the end
    every one still running is stopped gracefully (exit 0 and its stop lines asserted), anything left is killed."""
    started: list[Collector] = []
    registry = _registry()

    def start(url: str, name: str, port: int = 0, *extra: str) -> Collector:
        collector = Collector(url, tmp_path / f"{name}.log", ["--collector-name", name, *extra], port=port)
        started.append(collector)
        if registry is not None:
            registry.append(collector)
        return collector.start()

    yield start
    try:
        for collector in started:
            if collector.running:
                collector.stop()
    finally:
        for collector in started:
            collector.kill()
            if registry is not None and collector in registry:
                registry.remove(collector)


def _fleet(tmp_path: Path, name: str, target: str, *args: str) -> subprocess.Popen:
    """test_crash's fleet (acked log, JSON report) with this file's seed."""
    return crash_fleet(tmp_path, name, target, *args, seed=SEED)


def _kill_all(*processes) -> None:
    for p in processes:
        if p is not None and p.poll() is None:
            p.kill()
            p.wait(5)


def _server_log_tail(pg: PostgresServer, lines: int = 40) -> str:
    return "\n".join(pg.log().splitlines()[-lines:])


# -- reading the database back --------------------------------------------------------------------------------------


def _ints(rows) -> list[tuple]:
    return [tuple(int(v) if v is not None and v.lstrip("-").isdigit() else v for v in row) for row in rows]


def _check_database(pg: PostgresServer, db: str, tmp_path: Path, acked: dict | None = None) -> Path:
    """Copies the database into SQLite and runs test_crash's checks on it; returns the copy's path."""
    assert missing_device_rows(pg, db) == [], "series or batches rows name devices without a devices row"
    mirror = mirror_to_sqlite(pg, db, tmp_path / "mirror.db")
    if acked is not None:
        _check_acknowledged_batches_stored_once(mirror, acked)
    _check_stored_batches_whole_and_counted(mirror)
    return mirror


# -- the read API -------------------------------------------------------------------------------------------------


def _all_devices(collector: Collector) -> list[dict]:
    devices, cursor = [], None
    while True:
        page = get_json(collector, "/v1/devices?limit=1000" + (f"&cursor={cursor}" if cursor else ""))
        devices += page["devices"]
        cursor = page["next_cursor"]
        if cursor is None:
            return devices


def _all_readings(collector: Collector, device: str) -> list[dict]:
    readings, cursor = [], None
    while True:
        page = get_json(collector, f"/v1/devices/{device}/readings?limit=10000" + (f"&cursor={cursor}" if cursor else ""))
        readings += page["readings"]
        cursor = page.get("next_cursor")
        if not cursor:
            return readings


def _bandwidth(collector: Collector) -> dict:
    return get_json(collector, "/v1/bandwidth")


def _fleet_rows(report: dict) -> dict:
    """{protocol: {counter: value}} of a /v1/bandwidth answer's fleet rows, without the read API's rows."""
    return {row["protocol"]: {c: row[c] for c in COMPARED_COUNTERS} for row in report["protocols"]
            if row["protocol"] not in NOT_COMPARED}


def _share_rows(share: dict) -> dict:
    return {row["protocol"]: {c: row[c] for c in COMPARED_COUNTERS} for row in share["protocols"]
            if row["protocol"] not in NOT_COMPARED}


def _readings(rows: dict) -> int:
    return sum(r["readings"] for r in rows.values())


# -- a database that cannot be reached ------------------------------------------------------------------------------


def test_unreachable_database_at_start_exits_1_naming_the_target_without_the_password(tmp_path):
    if not COLLECTOR_BIN.exists():
        pytest.skip(f"{COLLECTOR_BIN} is missing")
    port = free_port()  # nothing listens there
    started = time.monotonic()
    done = subprocess.run(
        [str(COLLECTOR_BIN), "serve", "--listen", "127.0.0.1:0", "--auth", "off",
         "--fleet-key-file", str(tmp_path / "fleet.key"), "--db", f"postgresql://fleetwire:s3cret@127.0.0.1:{port}/x"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    elapsed = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode == 1, f"exit {done.returncode} after {elapsed:.1f} s:\n{output}"
    assert elapsed < 15, f"took {elapsed:.1f} s to give up:\n{output}"
    assert f"127.0.0.1:{port}" in done.stderr, f"the error does not name the target:\n{output}"
    assert "s3cret" not in output, f"the password was printed:\n{output}"
    assert "listening" not in output, output


# -- replicas agree -------------------------------------------------------------------------------------------------


# The fleet's devices send in lockstep (same simulated schedule), so with a multiple of 3 devices the round-robin
# balancer would hand each device the same replica every round; 61 moves each device to the next replica each round.
DEVICES = 61


def test_three_replicas_on_one_database_agree_on_devices_readings_and_bandwidth(tmp_path, pg_fast, replicas):
    names = ["replica-a", "replica-b", "replica-c"]
    pg = pg_fast
    db = pg.create_database()
    url = pg.url(db)
    collectors = [replicas(url, name) for name in names]
    with RoundRobinProxy([("127.0.0.1", c.port) for c in collectors]) as proxy:
        # 61 devices through the balancer, a new connection (so the next replica) for every batch; 20 of them
        # also send other sensors over keep-alive connections straight to replica b, with seqs of their own.
        # 5 simulated minutes at 30x: 30 batches of 10 s per device and fleet, about 10 s of real time.
        spread = direct = None
        try:
            spread = _fleet(tmp_path, "spread", proxy.url, "--devices", str(DEVICES), "--protocol", "mixed",
                            "--connection", "per-batch", "--duration", "5m", "--speedup", "30",
                            "--seq-base", "0")
            direct = _fleet(tmp_path, "direct", collectors[1].url, "--devices", "20", "--protocol", "mixed",
                            "--sensors", "co2,vibration", "--duration", "5m", "--speedup", "30",
                            "--seq-base", "1000000")
            reports = [_finish(spread, tmp_path, "spread"), _finish(direct, tmp_path, "direct")]
        finally:
            _kill_all(spread, direct)
        per_backend = list(proxy.per_backend)
    assert all(n > 0 for n in per_backend), f"the balancer's connections per replica: {per_backend}"

    # Every generated reading was acknowledged once. (A batch whose Ack was late is resent and answered as a
    # duplicate, storing nothing again: the readings stored are the readings acknowledged, not the Acks' sum of
    # newly stored readings, which leaves out the first, unanswered, attempt.)
    for report in reports:
        total = report["total"]
        assert total["batches_dropped_full"] == 0 and total["batches_dropped_rejected"] == 0, total
        assert total["readings_acked"] == total["readings_generated"], total
    expected_readings = sum(r["total"]["readings_acked"] for r in reports)
    expected_batches = sum(r["total"]["batches_acked"] for r in reports)

    # psql, the independent reader.
    assert _ints(pg.psql(db, "SELECT count(*), sum(readings), sum(batches) FROM devices")) == \
        [(DEVICES, expected_readings, expected_batches)]
    assert _ints(pg.psql(db, "SELECT sum(count) FROM chunks")) == [(expected_readings,)]
    assert _ints(pg.psql(db, "SELECT sum(readings) FROM series")) == [(expected_readings,)]
    by_collector = {row[0]: (row[1], row[2]) for row in _ints(
        pg.psql(db, "SELECT collector, count(*), sum(readings) FROM batches GROUP BY collector"))}
    assert set(by_collector) == set(names), f"batches rows per collector: {by_collector}"
    assert sum(n for n, _ in by_collector.values()) == expected_batches
    assert sum(r for _, r in by_collector.values()) == expected_readings
    # The balancer moved the spread fleet's devices between replicas: each has batches stored by more than one.
    switched = dict(_ints(pg.psql(db, "SELECT n, count(*) FROM (SELECT count(DISTINCT collector) AS n FROM batches "
                                      "WHERE seq < 1000000 GROUP BY device) AS d GROUP BY n")))
    assert set(switched) <= {2, 3} and sum(switched.values()) == DEVICES, \
        f"devices of the spread fleet by how many replicas stored their batches: {switched}"
    db_devices = {row[0]: row[1:] for row in _ints(pg.psql(
        db, "SELECT name, first_seen_ms, last_seen_ms, readings, batches, last_seq FROM devices"))}

    # Every replica lists the same devices with the same summaries, and they are the database's.
    listed = [_all_devices(c) for c in collectors]
    for name, devices in zip(names, listed):
        store_view = {d["device"]: (d["first_seen_ms"], d["last_seen_ms"], d["readings"], d["batches"],
                                    d["last_seq"]) for d in devices}
        assert store_view == db_devices, f"{name}'s /v1/devices differs from the devices table"
    for device in sorted(db_devices):
        answers = [get_json(c, f"/v1/devices/{device}") for c in collectors]
        store_fields = [{k: v for k, v in a.items() if k not in ("protocols", "bytes_in", "bytes_out")}
                        for a in answers]
        assert all(f == store_fields[0] for f in store_fields), (device, store_fields)
    # Readings: every replica returns the same readings of a device, as many as it stored.
    for device in sorted(db_devices)[::6]:
        pages = [_all_readings(c, device) for c in collectors]
        assert len(pages[0]) == db_devices[device][2], (device, len(pages[0]), db_devices[device])
        assert all(p == pages[0] for p in pages), f"{device}: the replicas return different readings"

    # Bandwidth: once every collector has flushed (every 2 s) and reread the others' rows, each reports the same
    # fleet totals, counting every acknowledged reading once, with each collector's share adding up to them.
    def settled():
        views = [_bandwidth(c) for c in collectors]
        fleets = [_fleet_rows(v) for v in views]
        return views if all(f == fleets[0] for f in fleets) and _readings(fleets[0]) == expected_readings \
            else None

    views = None
    deadline = time.monotonic() + FLUSH_WAIT
    while views is None and time.monotonic() < deadline:
        time.sleep(0.5)
        views = settled()
    if views is None:
        views = [_bandwidth(c) for c in collectors]
        summary = {name: {p: r["readings"] for p, r in _fleet_rows(v).items()} for name, v in zip(names, views)}
        raise AssertionError(f"the replicas' fleet bandwidth did not settle on {expected_readings} readings "
                             f"within {FLUSH_WAIT} s; readings per protocol: {summary}; full rows: "
                             f"{[_fleet_rows(v) for v in views]}")
    for name, view in zip(names, views):
        assert view["collector"] == name, (name, view["collector"])
        shares = {s["collector"]: _share_rows(s) for s in view["collectors"]}
        assert set(shares) == set(names), f"{name} lists the collectors {sorted(shares)}"
        fleet = _fleet_rows(view)
        for protocol, row in fleet.items():
            for counter in COMPARED_COUNTERS:
                total = sum(s.get(protocol, {}).get(counter, 0) for s in shares.values())
                assert total == row[counter], (
                    f"{name}: {protocol} {counter}: the fleet row says {row[counter]}, the collectors' shares "
                    f"add up to {total}: {[(n, s.get(protocol, {}).get(counter)) for n, s in shares.items()]}")
        for collector_name, share in shares.items():
            stored = by_collector[collector_name]
            assert (sum(r["batches"] for r in share.values()), _readings(share)) == stored, (
                f"{name} says {collector_name} stored {sum(r['batches'] for r in share.values())} batches, "
                f"{_readings(share)} readings; its batches rows say {stored}")
    # /metrics: each replica's own share, under its collector label, as its batches rows say.
    for name, c in zip(names, collectors):
        metrics = http_request(c, "GET", "/metrics").body.decode()
        own = re.findall(r'^fleetwire_readings_total\{collector="([^"]*)",protocol="[^"]*"\} (\d+)$', metrics,
                         re.MULTILINE)
        assert own and {label for label, _ in own} == {name}, f"{name}'s readings metrics: {own}"
        assert sum(int(v) for _, v in own) == by_collector[name][1], (name, own, by_collector[name])
    # With the counters settled, the traffic fields of the device summaries agree too.
    for device in sorted(db_devices):
        answers = [get_json(c, f"/v1/devices/{device}") for c in collectors]
        assert all(a == answers[0] for a in answers), (device, answers)

    for c in collectors:
        c.stop()
    _check_database(pg, db, tmp_path)
    print(f"\nbalancer connections per replica {per_backend}; batches rows per collector {by_collector}; "
          f"{expected_batches} batches, {expected_readings} readings; devices by replicas that stored their "
          f"batches {switched}; duplicates answered "
          f"{[r['total']['duplicate_batches'] for r in reports]}")


# -- the kill storm -------------------------------------------------------------------------------------------------


KILLS = 4
FLUSH_SLACK_MS = 1000  # how late a collector's 2 s counter flush may run on a loaded machine
STORM_SECONDS = 16  # the fleet streams this long (kills within its first ~13 s), then drains


def test_sigkill_storm_on_one_replica_loses_no_acknowledged_batch_and_stores_none_twice(tmp_path, pg, replicas):
    rng = random.Random(SEED)
    db = pg.create_database()
    url = pg.url(db)
    a = replicas(url, "replica-a", free_port())
    b = replicas(url, "replica-b")
    fleet = None
    with RoundRobinProxy([("127.0.0.1", a.port), ("127.0.0.1", b.port)]) as proxy:
        try:
            fleet = _fleet(tmp_path, "storm", proxy.url, "--devices", "24", "--protocol", "mixed",
                           "--max-rate", "--connection", "per-batch", "--duration", "30d",
                           "--time-limit", f"{STORM_SECONDS}s")
            acked_log = tmp_path / "storm.acked"
            acked_at_kill = []
            killed_at_ms = []
            for kill in range(KILLS):
                time.sleep(rng.uniform(2.0, 3.0))
                assert fleet.poll() is None, f"the fleet finished before kill {kill + 1}"
                acked_at_kill.append(acked_log.read_bytes().count(b"\n") if acked_log.exists() else 0)
                killed_at_ms.append(int(time.time() * 1000))
                a.kill()
                assert a.proc.returncode == -9, f"kill {kill + 1}: exit status {a.proc.returncode}"
                time.sleep(rng.uniform(0.0, 0.5))
                a.start()  # the same port: the balancer keeps its list
                assert b.running, f"replica b died during kill {kill + 1}:\n{b.log()[-3000:]}"
            report = _finish(fleet, tmp_path, "storm")
            fleet = None
        finally:
            _kill_all(fleet)
        per_backend = list(proxy.per_backend)
    acked = _read_acked_log(acked_log)
    assert len(acked) > acked_at_kill[-1], "nothing was acknowledged after the last restart"
    assert all(y > x for x, y in zip(acked_at_kill, acked_at_kill[1:])), \
        f"no progress between two kills: acknowledged lines at each kill {acked_at_kill}"
    assert report["total"]["batches_acked"] == len(acked)
    a.stop()
    b.stop()

    mirror = _check_database(pg, db, tmp_path, acked)
    conn = sqlite3.connect(f"file:{mirror}?mode=ro", uri=True)
    try:
        stored = {(d, s): r for d, s, r in conn.execute(
            "SELECT d.name, b.seq, b.readings FROM batches b JOIN devices d ON d.id = b.device_id")}
        per_collector = dict(conn.execute("SELECT collector, count(*) FROM batches GROUP BY collector"))
        one_replica = [name for name, n in conn.execute(
            "SELECT d.name, count(DISTINCT b.collector) FROM batches b JOIN devices d ON d.id = b.device_id "
            "GROUP BY d.name") if n < 2]
        stored_by = dict(conn.execute("SELECT collector, total(readings) FROM batches GROUP BY collector"))
        counted_by = dict(conn.execute("SELECT collector, total(readings) FROM bandwidth GROUP BY collector"))
        # What replica-a committed within a flush interval (2 s, plus slack for a late timer) before a kill.
        windows = " OR ".join("committed_ms BETWEEN ? AND ?" for _ in killed_at_ms)
        bound = conn.execute(f"SELECT total(readings) FROM batches WHERE collector = 'replica-a' AND ({windows})",
                             [t for at in killed_at_ms for t in (at - 2000 - FLUSH_SLACK_MS, at)]).fetchone()[0]
    finally:
        conn.close()
    counted = sum(counted_by.values())
    assert set(per_collector) == {"replica-a", "replica-b"}, f"batches rows per collector: {per_collector}"
    assert not one_replica, f"devices whose batches only one replica stored (the balancer did not move them): {one_replica}"
    stored_not_acked = set(stored) - set(acked)
    left = report["total"]["buffered_batches"] + report["total"]["batches_dropped_full"] + \
        report["total"]["batches_dropped_rejected"]
    assert len(stored_not_acked) <= left, (
        f"{len(stored_not_acked)} stored batches were never acknowledged, but the fleet ended holding or having "
        f"dropped only {left}: {sorted(stored_not_acked)[:10]}")
    stored_readings = sum(stored.values())
    # Counters: replica-b, never killed and stopped gracefully, counted exactly the readings it stored; a kill of
    # replica-a loses at most its counters of the last flush interval, never stored readings.
    assert counted_by.get("replica-b") == stored_by["replica-b"], (counted_by, stored_by)
    assert counted_by.get("replica-a", 0) <= stored_by["replica-a"], (counted_by, stored_by)
    assert stored_by["replica-a"] - counted_by.get("replica-a", 0) <= bound, (
        f"replica-a's counters miss {stored_by['replica-a'] - counted_by.get('replica-a', 0):.0f} of its stored "
        f"readings, more than the {bound:.0f} it committed within a flush interval before the {KILLS} kills")
    print(f"\n{KILLS} kills of replica-a (seed {SEED}); balancer connections per replica {per_backend}, refused "
          f"{proxy.refused}; acknowledged {len(acked)} batches ({report['total']['readings_acked']} readings); "
          f"stored {len(stored)} batches ({per_collector}), {stored_readings} readings; "
          f"{len(stored_not_acked)} stored but never acknowledged; duplicates acknowledged "
          f"{report['total']['duplicate_batches']}; counters {counted:.0f} readings (lost {stored_readings - counted:.0f}, "
          f"bound {bound:.0f})")


# -- PostgreSQL stopped and started again ---------------------------------------------------------------------------


T0 = 1_732_190_000_000
PASSWORD = "s3cret-pw"


def _post(collector: Collector, device: str, seq: int):
    body = {"seq": seq, "readings": [{"sensor": "t", "ts": T0 + seq * 100_000 + i, "value": seq + i / 100}
                                     for i in range(3)]}
    return http_request(collector, "POST", f"/v1/devices/{device}/readings", body=body)


def _push(proto, channel, device: str, seq: int):
    """A gRPC Push; returns the Ack or the RpcError."""
    batch, _ = simple_batch(proto.pb, seq, start_ms=T0 + seq * 100_000)
    try:
        return proto.grpc.TelemetryStub(channel).Push(batch, metadata=[("device-id", device)], timeout=CALL_TIMEOUT)
    except grpc.RpcError as e:
        return e


def test_postgres_stopped_mid_run_refuses_writes_then_recovers_without_restarting_collectors(
        tmp_path, pg, replicas, proto):
    db = pg.create_database()
    url = pg.url(db, password=PASSWORD)  # `trust` takes any password; no message may show it
    a = replicas(url, "replica-a")
    b = replicas(url, "replica-b")
    pids = (a.proc.pid, b.proc.pid)
    fleet = None
    with RoundRobinProxy([("127.0.0.1", a.port), ("127.0.0.1", b.port)]) as proxy, \
            grpc.insecure_channel(b.address, options=CHANNEL_OPTIONS) as channel:
        try:
            # 10 simulated minutes at 30x: 20 s of real time, a batch per device every 1/3 s; a device buffers
            # up to 64 batches, more than the outage (about 8 s) holds.
            fleet = _fleet(tmp_path, "outage", proxy.url, "--devices", "16", "--protocol", "mixed",
                           "--connection", "per-batch", "--duration", "10m", "--speedup", "30")
            acked_log = tmp_path / "outage.acked"
            time.sleep(4)
            acked_before = acked_log.read_bytes().count(b"\n")
            assert acked_before > 0, "nothing was acknowledged before the outage"
            pg.pause()
            paused_at = time.monotonic()

            # While it is down: not ready, and writes refused as unavailable with a Retry-After.
            for c in (a, b):
                wait_for(lambda: http_request(c, "GET", "/readyz").status == 503, NOT_READY_WAIT,
                         message=f"{c.args[c.args.index('--collector-name') + 1]} /readyz 503")
                ready = http_request(c, "GET", "/readyz")
                assert ready.status == 503 and ready.body, (ready.status, ready.body)
            r = _post(a, "probe-rest", 1)
            assert r.status == 503, (r.status, r.body)
            assert r.headers.get("retry-after", "").isdigit(), r.headers
            assert r.json()["error"] == "unavailable", r.body
            answer = _push(proto, channel, "probe-grpc", 1)
            assert isinstance(answer, grpc.RpcError), f"a Push was acknowledged while PostgreSQL was down: {answer}"
            assert answer.code() == grpc.StatusCode.UNAVAILABLE, (answer.code(), answer.details())
            refused_details = (r.json()["message"], answer.details(), ready.json())
            assert PASSWORD not in repr(refused_details), f"a refusal shows the password: {refused_details}"
            # Reads of what the collector holds in memory keep working (no assertion on store reads: a read of
            # the database may fail while it is down).
            assert http_request(a, "GET", "/healthz").status == 200
            time.sleep(max(0.0, 6 - (time.monotonic() - paused_at)))
            acked_during = acked_log.read_bytes().count(b"\n")
            pg.resume()
            resumed_at = time.monotonic()

            # Back: both collectors write again by themselves.
            def rest_accepted():
                r = _post(a, "probe-rest", 1)
                assert r.status in (200, 503), (r.status, r.body)
                return r if r.status == 200 else None

            ack = wait_for(rest_accepted, RECOVERY_WAIT, interval=0.2, message="replica-a accepting a REST post")
            assert ack.json()["batches"] == 1, ack.body
            grpc_ack = wait_for(lambda: None if isinstance(x := _push(proto, channel, "probe-grpc", 1),
                                                           grpc.RpcError) else x,
                                RECOVERY_WAIT, interval=0.2, message="replica-b acknowledging a Push")
            assert grpc_ack.batches == 1
            recovered_after = time.monotonic() - resumed_at
            for c in (a, b):
                wait_for(lambda: http_request(c, "GET", "/readyz").status == 200, RECOVERY_WAIT,
                         message="/readyz 200 after PostgreSQL came back")
            report = _finish(fleet, tmp_path, "outage")
            fleet = None
        finally:
            _kill_all(fleet)
    assert (a.proc.pid, b.proc.pid) == pids and a.running and b.running, "a collector was restarted or died"
    for c in (a, b):
        assert PASSWORD not in c.log(), f"the collector logged the password:\n{c.log()[-3000:]}"
        assert PASSWORD not in http_request(c, "GET", "/metrics").body.decode()
    acked = _read_acked_log(acked_log)
    assert len(acked) > acked_during, "nothing was acknowledged after PostgreSQL came back"
    assert report["total"]["batches_acked"] == len(acked)
    a.stop()
    b.stop()

    _check_database(pg, db, tmp_path, acked)
    assert _ints(pg.psql(db, "SELECT device, seq, readings FROM batches WHERE device LIKE 'probe-%' "
                             "ORDER BY device")) == [("probe-grpc", 1, 3), ("probe-rest", 1, 3)]
    total = report["total"]
    print(f"\noutage: {acked_before} batches acknowledged before, {acked_during - acked_before} while down, "
          f"{len(acked)} in all; writes recovered {recovered_after:.1f} s after PostgreSQL restarted; fleet "
          f"retried {total['batches_retried']} batches, errors {total['errors_by_kind']}, dropped "
          f"{total['batches_dropped_full']}; refusals said {refused_details}")
