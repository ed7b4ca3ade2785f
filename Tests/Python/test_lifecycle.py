"""Process lifecycle: SIGTERM with an Upload in flight, restart on the same database, SIGTERM right after start."""

import os
import re
import select
import signal
import socket
import subprocess
import threading
import time

import grpc
import pytest

from fwtest import (CALL_TIMEOUT, CHANNEL_OPTIONS, COLLECTOR_BIN, STOP_TIMEOUT, STOPPED_RE, curl, db_batches,
                    db_query, db_readings, get_json, simple_batch, wait_until)

T0 = 1_732_190_000_000
INGEST = ("grpc-stream", "grpc-unary", "rest-json", "rest-json-h2")
COUNTERS = ["bytes_in", "bytes_out", "header_bytes_in", "header_bytes_out", "framing_bytes_in", "framing_bytes_out",
            "payload_bytes_in", "payload_bytes_out", "readings", "batches", "duplicate_batches", "calls",
            "connections", "errors"]


def _upload_in_background(stub, batches, device, sent_first, pace, hold=0.0):
    """Starts an Upload whose generator sends the first 10 batches at once, sets `sent_first`, sends the rest
    `pace` seconds apart, then waits `hold` seconds before half-closing. Returns (thread, outcome dict)."""
    outcome = {}

    def requests():
        for i, batch in enumerate(batches):
            if i == 10:
                sent_first.set()
            if i >= 10:
                time.sleep(pace)
            yield batch
        time.sleep(hold)

    def run():
        try:
            outcome["ack"] = stub.Upload(requests(), metadata=[("device-id", device)], timeout=30)
        except grpc.RpcError as e:
            outcome["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def _check_batches_whole(db, device, expected_rows_by_seq):
    """Every batch stored for the device has all its readings stored (a batch is committed whole or not at all)."""
    stored = set(db_readings(db, device))
    seqs = [seq for seq, _ in db_batches(db, device)]
    for seq in seqs:
        missing = [r for r in expected_rows_by_seq[seq] if r not in stored]
        assert not missing, f"batch {seq} stored without {len(missing)} of its readings, e.g. {missing[:3]}"
    assert len(stored) == sum(len(expected_rows_by_seq[s]) for s in seqs)
    return seqs


@pytest.mark.parametrize("hold", [0.0, 12.0], ids=["client-finishes", "client-holds-past-grace"])
def test_sigterm_with_an_upload_in_flight(proto, start_collector, hold):
    """SIGTERM while an Upload is streaming. Either the call completes with an Ack whose readings are all in the
    database, or it fails with UNAVAILABLE (cut at the end of the collector's 10 s grace when the client holds the
    stream open) and every batch that is stored is whole. The collector exits 0 either way."""
    collector = start_collector()
    pb = proto.pb
    pairs = [simple_batch(pb, seq, start_ms=T0 + seq * 10_000, count=8) for seq in range(1, 41)]
    rows_by_seq = {b.seq: rows for b, rows in pairs}
    sent_first = threading.Event()
    with grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS) as channel:
        stub = proto.grpc.TelemetryStub(channel)
        thread, outcome = _upload_in_background(stub, [b for b, _ in pairs], "inflight-1", sent_first, pace=0.02,
                                                hold=hold)
        assert sent_first.wait(CALL_TIMEOUT), "the Upload did not start"
        # The generator's first batches may sit in grpcio's buffers before the connection exists: wait until the
        # collector has stored some, so the SIGTERM surely finds the call in flight (not an unopened connection).
        wait_until(lambda: len(db_readings(collector.db, "inflight-1")) > 0, timeout=CALL_TIMEOUT,
                   message="the collector stored the Upload's first batches")
        stopped_at = time.monotonic()
        collector.terminate()
        # The listener closes at once: new connections are refused while the in-flight call finishes.
        wait_until(lambda: _refused(collector.port), timeout=3, message="new connections refused after SIGTERM")
        thread.join(timeout=30)
        assert not thread.is_alive(), "the Upload did not finish within 30 s of SIGTERM"
    log = collector.stop()
    took = time.monotonic() - stopped_at
    if "ack" in outcome:
        ack = outcome["ack"]
        assert (ack.batches, ack.readings, ack.duplicate_batches, ack.last_seq) == (40, 320, 0, 40)
        assert db_readings(collector.db, "inflight-1") == sorted(r for rows in rows_by_seq.values() for r in rows)
        assert hold == 0.0, "an Ack although the client held the stream open past the grace period"
    else:
        error = outcome["error"]
        assert error.code() == grpc.StatusCode.UNAVAILABLE, (error.code(), error.details())
        _check_batches_whole(collector.db, "inflight-1", rows_by_seq)
        assert hold > 0, f"the call failed although the client finished within the grace period: {error.details()}"
        assert 9 <= took <= 16, f"cut after {took:.1f} s, not at the end of the 10 s grace"
    assert "collector stopping" in log


def _refused(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except (ConnectionRefusedError, ConnectionResetError):
        # A connect that reached the backlog just as the listener closed is reset instead of refused.
        return True


def _ingest_rows(report):
    return {p["protocol"]: p for p in report["protocols"] if p["protocol"] in INGEST}


def test_restart_keeps_readings_counters_and_dedup(proto, start_collector, tmp_path):
    pb = proto.pb
    db = tmp_path / "restart.db"
    first = start_collector(db=db)
    grpc_rows, rest_rows = [], []
    with grpc.insecure_channel(first.address, options=CHANNEL_OPTIONS) as channel:
        stub = proto.grpc.TelemetryStub(channel)
        pairs = [simple_batch(pb, seq, start_ms=T0 + seq * 10_000, count=6) for seq in range(1, 6)]
        ack = stub.Upload(iter(b for b, _ in pairs), metadata=[("device-id", "rs-grpc")], timeout=CALL_TIMEOUT)
        assert (ack.readings, ack.last_seq) == (30, 5)
        grpc_rows = sorted(r for _, rows in pairs for r in rows)
    for seq in (1, 2, 3):
        body = f'{{"seq":{seq},"readings":[{{"sensor":"t","ts":{T0 + seq},"value":{seq}.5}}]}}'
        r = curl(first, "/v1/devices/rs-rest/readings", "-H", "Content-Type: application/json", data=body)
        assert r.status == 200
        rest_rows.append(("t", T0 + seq, seq + 0.5))

    def settled():
        rows = _ingest_rows(get_json(first, "/v1/bandwidth"))
        return rows if rows.get("grpc-stream", {}).get("readings") == 30 and rows.get("rest-json", {}).get(
            "readings") == 3 and rows["grpc-stream"]["bytes_out"] > 0 else None

    before = wait_until(settled, message="counters of the first run")
    log = first.stop()
    # The stopped line's totals agree with the report.
    match = STOPPED_RE.search(log)
    counted = re.search(r"\((\d+) readings and (\d+) wire bytes counted in total\)", match.group(0))
    assert counted and int(counted.group(1)) == 33, match.group(0)
    # What the first run persisted, read from the file by the independent reader: the table's rows summed per
    # protocol (device rows and overhead rows).
    persisted = {}
    for row in db_query(db, f"SELECT protocol, {', '.join(COUNTERS)} FROM bandwidth"):
        totals = persisted.setdefault(row[0], dict.fromkeys(COUNTERS, 0))
        for name, value in zip(COUNTERS, row[1:]):
            totals[name] += value
    assert sum(p["readings"] for p in persisted.values()) == 33, persisted

    second = start_collector(db=db)
    # Readings persist, and the second run reports exactly the persisted counters.
    assert db_readings(db, "rs-grpc") == grpc_rows
    assert db_readings(db, "rs-rest") == rest_rows
    after = _ingest_rows(get_json(second, "/v1/bandwidth"))
    assert set(after) == {"grpc-stream", "rest-json"}, after
    for protocol, row in after.items():
        assert {name: row[name] for name in COUNTERS} == persisted[protocol], protocol
        # ...which are the first run's live figures, plus bytes of connection closes booked after that read.
        for name in COUNTERS:
            if name.startswith("bytes") or name.endswith("bytes_in") or name.endswith("bytes_out"):
                assert row[name] >= before[protocol][name], (protocol, name)
            else:
                assert row[name] == before[protocol][name], (protocol, name)
    devices = get_json(second, "/v1/bandwidth/devices")["devices"]
    assert {(d["device"], d["protocol"]) for d in devices} >= {("rs-grpc", "grpc-stream"), ("rs-rest", "rest-json")}

    # Retries after the restart are duplicates; the device's last_seq survived.
    with grpc.insecure_channel(second.address, options=CHANNEL_OPTIONS) as channel:
        stub = proto.grpc.TelemetryStub(channel)
        ack = stub.Push(simple_batch(pb, 3, start_ms=T0 + 30_000, count=6)[0], metadata=[("device-id", "rs-grpc")],
                        timeout=CALL_TIMEOUT)
        assert (ack.batches, ack.readings, ack.duplicate_batches, ack.last_seq) == (1, 0, 1, 5)
        ack = stub.Push(simple_batch(pb, 6, start_ms=T0 + 60_000, count=6)[0], metadata=[("device-id", "rs-grpc")],
                        timeout=CALL_TIMEOUT)
        assert (ack.batches, ack.readings, ack.duplicate_batches, ack.last_seq) == (1, 6, 0, 6)
    body = f'{{"seq":2,"readings":[{{"sensor":"t","ts":{T0 + 2},"value":99}}]}}'
    r = curl(second, "/v1/devices/rs-rest/readings", "-H", "Content-Type: application/json", data=body)
    assert r.json() == {"batches": 1, "readings": 0, "duplicate_batches": 1, "last_seq": 3}
    assert db_readings(db, "rs-rest") == rest_rows
    assert db_query(db, "SELECT name, readings, batches, last_seq FROM devices ORDER BY name") == [
        ("rs-grpc", 36, 6, 6), ("rs-rest", 3, 3, 3)]
    # The counters keep adding up from where they were.
    later = wait_until(lambda: (lambda rows: rows if rows["rest-json"]["duplicate_batches"] == 1 else None)(
        _ingest_rows(get_json(second, "/v1/bandwidth"))), message="counters of the second run")
    assert later["grpc-stream"] == after["grpc-stream"]
    assert later["grpc-unary"]["readings"] == 6 and later["grpc-unary"]["duplicate_batches"] == 1
    assert later["rest-json"]["readings"] == 3 and later["rest-json"]["calls"] == after["rest-json"]["calls"] + 1
    assert later["rest-json"]["bytes_in"] > after["rest-json"]["bytes_in"]


def test_sigterm_right_after_listening_line_stops_the_collector(tmp_path):
    """Reads the collector's stderr through a pipe and sends SIGTERM the moment the listening line arrives."""
    for attempt in range(10):
        proc = subprocess.Popen([str(COLLECTOR_BIN), "serve", "--listen", "127.0.0.1:0", "--db",
                                 str(tmp_path / f"early-{attempt}.db"), "--loops", "2", "--auth", "off"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            head = _read_until(proc.stderr, b"collector listening on", timeout=10)
            if b"collector listening on" not in head:
                raise RuntimeError(f"no listening line: {head!r}")
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                # Alive and well: a second SIGTERM stops it cleanly.
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(timeout=STOP_TIMEOUT)
                rest = proc.stderr.read().decode()
                if code != 0 or "collector stopped" not in rest:
                    raise RuntimeError(f"second SIGTERM: exit {code}, log {rest!r}")
                raise AssertionError(f"attempt {attempt + 1}: the SIGTERM sent right after the listening line was "
                                     "lost; the collector still ran 2 s later and stopped only on a second SIGTERM")
            if code != 0:
                raise RuntimeError(f"exit code {code} after SIGTERM")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
            proc.stderr.close()


def _read_until(stream, marker, timeout):
    """Reads from a pipe until `marker` appears, EOF, or `timeout` seconds; returns what was read."""
    data = b""
    deadline = time.monotonic() + timeout
    fd = stream.fileno()
    while marker not in data and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data
