"""The bandwidth report after real traffic: a row per (device, protocol) matching what was acknowledged, per-protocol
rows that add up, byte splits that add up, and the bytes-per-reading comparison gRPC stream vs REST JSON."""

import http.client
import json
import sqlite3
import time

import grpc
import pytest

from fwtest import (CALL_TIMEOUT, CHANNEL_OPTIONS, curl, db_readings, get_json, http_request, make_series,
                    simple_batch, wait_until)

T0 = 1_732_190_000_000
FIELDS = ["bytes_in", "bytes_out", "readings", "batches", "duplicate_batches", "calls", "connections", "errors",
          "header_bytes_in", "header_bytes_out", "framing_bytes_in", "framing_bytes_out", "payload_bytes_in",
          "payload_bytes_out", "tls_handshake_bytes_in", "tls_handshake_bytes_out", "tls_record_bytes_in",
          "tls_record_bytes_out", "segments_in", "segments_out", "estimated_link_bytes"]
# Bytes below TCP's payload per segment in the estimate: IPv4 (20) + TCP with timestamps (32).
SEGMENT_HEADER_BYTES = 52


def readings_for(seq, sensors=4, per_sensor=10):
    """One batch's readings as (sensor, ts, mantissa, exponent): 1 s apart, two decimals, some negative."""
    out = []
    for k in range(sensors):
        for i in range(per_sensor):
            ts = T0 + seq * 100_000 + i * 1000
            out.append((f"sensor{k}", ts, (seq * 37 + i * 13 + k * 101) % 5000 - 1500, -2))
    return out


def as_batch(pb, seq, readings):
    by_sensor = {}
    for sensor, ts, m, e in readings:
        by_sensor.setdefault((sensor, e), []).append((ts, m))
    series = [make_series(pb, s, e, [t for t, _ in pts], [m for _, m in pts])[0] for (s, e), pts in by_sensor.items()]
    return pb.Batch(seq=seq, series=series)


def as_json(seq, readings):
    return json.dumps({"seq": seq, "readings": [{"sensor": s, "ts": ts, "value": float(f"{m}e{e}")}
                                                for s, ts, m, e in readings]}, separators=(",", ":"))


def send_rest_keepalive(collector, device, bodies):
    """POSTs each body on one HTTP/1.1 keep-alive connection; returns the Acks and the response bodies' bytes."""
    conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=CALL_TIMEOUT)
    acks, response_bytes = [], 0
    try:
        for body in bodies:
            r = http_request(collector, "POST", f"/v1/devices/{device}/readings", body=body.encode(),
                             headers={"Content-Type": "application/json"}, conn=conn)
            assert r.status == 200, r.body
            acks.append(r.json())
            response_bytes += len(r.body)
    finally:
        conn.close()
    return acks, response_bytes


def stable_report(collector, path, ready):
    """Polls `path` until `ready(report)` holds and two reads in a row agree on every ingest row."""
    def ingest_rows(report):
        rows = report.get("devices", report.get("protocols"))
        return [r for r in rows if r["protocol"] != "query"]

    last = {}

    def poll():
        report = get_json(collector, path)
        same = ingest_rows(report) == ingest_rows(last) if last else False
        last.clear()
        last.update(report)
        return report if (ready(report) and same) else None

    return wait_until(poll, timeout=10, interval=0.1, message=lambda: f"a settled {path} (last: {last})")


def check_splits(row):
    """Header + framing + payload + TLS handshake + TLS record add up to the row's bytes in each direction;
    bytes_per_reading is the ratio; the link estimate is the bytes plus 52 per TCP segment, and its ratio."""
    for d in ("in", "out"):
        parts = sum(row[f"{part}_bytes_{d}"]
                    for part in ("header", "framing", "payload", "tls_handshake", "tls_record"))
        assert parts == row[f"bytes_{d}"], row
    # These connections are plaintext.
    assert row["tls_handshake_bytes_in"] == row["tls_record_bytes_in"] == 0, row
    assert row["tls_handshake_bytes_out"] == row["tls_record_bytes_out"] == 0, row
    estimate = row["bytes_in"] + row["bytes_out"] + SEGMENT_HEADER_BYTES * (row["segments_in"] + row["segments_out"])
    assert row["estimated_link_bytes"] == estimate, row
    if row["readings"]:
        assert abs(row["bytes_per_reading"] - (row["bytes_in"] + row["bytes_out"]) / row["readings"]) < 1e-6, row
        assert abs(row["estimated_link_bytes_per_reading"] - estimate / row["readings"]) < 1e-6, row
    else:
        assert row["bytes_per_reading"] is None, row
        assert row["estimated_link_bytes_per_reading"] is None, row


def test_rows_per_device_and_protocol_match_what_was_acknowledged(proto, collector):
    pb = proto.pb
    expected = {}  # (device, protocol) -> counters the row must show

    # grpc-stream: one Upload of 30 batches (one of them sent twice), on its own channel.
    batches = [as_batch(pb, seq, readings_for(seq)) for seq in range(1, 31)]
    with grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS) as ch:
        ack = proto.grpc.TelemetryStub(ch).Upload(iter(batches + [batches[0]]), metadata=[("device-id", "bw-stream")],
                                                  timeout=CALL_TIMEOUT)
    assert (ack.batches, ack.readings, ack.duplicate_batches) == (31, 30 * 40, 1)
    stream_payload = sum(b.ByteSize() for b in batches + [batches[0]])
    expected[("bw-stream", "grpc-stream")] = dict(readings=1200, batches=31, duplicate_batches=1, calls=1,
                                                  connections=1, errors=0, payload_bytes_in=stream_payload)

    # grpc-unary: 10 Pushes, one retried, one malformed, on its own channel.
    with grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS) as ch:
        stub = proto.grpc.TelemetryStub(ch)
        for seq in list(range(1, 11)) + [3]:
            stub.Push(as_batch(pb, seq, readings_for(seq)), metadata=[("device-id", "bw-unary")], timeout=CALL_TIMEOUT)
        try:
            ch.unary_unary("/telemetry.v1.Telemetry/Push")(b"\x08\x00", metadata=[("device-id", "bw-unary")],
                                                           timeout=CALL_TIMEOUT)
            raise AssertionError("a batch with seq 0 was accepted")
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
    expected[("bw-unary", "grpc-unary")] = dict(readings=400, batches=11, duplicate_batches=1, calls=12,
                                                connections=1, errors=1)

    # rest-json: 10 POSTs on one keep-alive connection, one retried.
    bodies = [as_json(seq, readings_for(seq)) for seq in range(1, 11)] + [as_json(5, readings_for(5))]
    acks, response_bytes = send_rest_keepalive(collector, "bw-rest", bodies)
    assert sum(a["readings"] for a in acks) == 400 and sum(a["duplicate_batches"] for a in acks) == 1
    expected[("bw-rest", "rest-json")] = dict(readings=400, batches=11, duplicate_batches=1, calls=11, connections=1,
                                              errors=0, payload_bytes_in=sum(len(b) for b in bodies),
                                              payload_bytes_out=response_bytes)

    # rest-json-h2: 3 POSTs with curl over h2c (a connection each).
    for seq in (1, 2, 3):
        r = curl(collector, "/v1/devices/bw-h2/readings", "-H", "Content-Type: application/json",
                 data=as_json(seq, readings_for(seq)), http2=True)
        assert (r.status, r.version) == (200, "2")
    expected[("bw-h2", "rest-json-h2")] = dict(readings=120, batches=3, duplicate_batches=0, calls=3, connections=3,
                                               errors=0)

    def all_there(report):
        rows = {(r["device"], r["protocol"]): r for r in report["devices"]}
        return all(key in rows and rows[key]["readings"] == want["readings"] and rows[key]["bytes_out"] > 0
                   and rows[key]["connections"] == want["connections"] for key, want in expected.items())

    devices = stable_report(collector, "/v1/bandwidth/devices", all_there)["devices"]
    rows = {(r["device"], r["protocol"]): r for r in devices}
    assert set(rows) == set(expected), f"unexpected rows: {set(rows) ^ set(expected)}"
    for key, want in expected.items():
        row = rows[key]
        assert set(row) == {"device", "protocol", "bytes_per_reading", "estimated_link_bytes_per_reading", *FIELDS}, row
        for name, value in want.items():
            assert row[name] == value, f"{key} {name}: {row[name]} != {value} in {row}"
        assert row["bytes_in"] > 0 and row["bytes_out"] > 0, row
        assert row["header_bytes_in"] > 0 and row["header_bytes_out"] > 0, row
        check_splits(row)
    # gRPC framing: at least a 5-byte prefix and a 9-byte frame header per message.
    assert rows[("bw-stream", "grpc-stream")]["framing_bytes_in"] >= 31 * (5 + 9)

    # ?protocol= keeps that protocol's rows only.
    only = get_json(collector, "/v1/bandwidth/devices?protocol=grpc-unary")["devices"]
    assert [(r["device"], r["protocol"]) for r in only] == [("bw-unary", "grpc-unary")]
    assert get_json(collector, "/v1/bandwidth/devices?protocol=nope")["devices"] == []

    # Per-protocol rows: the device rows plus the protocol's overhead (never less), same readings.
    report = get_json(collector, "/v1/bandwidth")
    protocols = {p["protocol"]: p for p in report["protocols"]}
    for p in protocols.values():
        check_splits(p)
    for protocol in ("grpc-stream", "grpc-unary", "rest-json", "rest-json-h2"):
        mine = [r for r in devices if r["protocol"] == protocol]
        for name in FIELDS:
            total = sum(r[name] for r in mine)
            assert protocols[protocol][name] >= total, f"{protocol} {name}: {protocols[protocol][name]} < {total}"
        assert protocols[protocol]["readings"] == sum(r["readings"] for r in mine)
    # Every socket byte is attributed exactly once (the GET being answered has no bytes out yet).
    assert sum(p["bytes_in"] for p in protocols.values()) == report["socket_bytes_in"], report
    assert sum(p["bytes_out"] for p in protocols.values()) == report["socket_bytes_out"], report


def test_bytes_per_reading_grpc_stream_far_below_rest_json(proto, collector, capsys):
    """The same 4,000 readings (100 batches of 4 sensors x 10) as one gRPC Upload, as 100 Pushes on one channel,
    and as 100 REST JSON posts on one keep-alive HTTP/1.1 connection."""
    pb = proto.pb
    per_batch = [readings_for(seq) for seq in range(1, 101)]
    with grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS) as ch:
        stub = proto.grpc.TelemetryStub(ch)
        ack = stub.Upload(iter(as_batch(pb, seq, r) for seq, r in enumerate(per_batch, 1)),
                          metadata=[("device-id", "cmp-stream")], timeout=CALL_TIMEOUT)
        assert ack.readings == 4000
    with grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS) as ch:
        stub = proto.grpc.TelemetryStub(ch)
        for seq, r in enumerate(per_batch, 1):
            assert stub.Push(as_batch(pb, seq, r), metadata=[("device-id", "cmp-unary")],
                             timeout=CALL_TIMEOUT).readings == 40
    acks, _ = send_rest_keepalive(collector, "cmp-rest", [as_json(seq, r) for seq, r in enumerate(per_batch, 1)])
    assert sum(a["readings"] for a in acks) == 4000

    names = {"cmp-stream": "grpc-stream", "cmp-unary": "grpc-unary", "cmp-rest": "rest-json"}

    def settled(report):
        rows = {(r["device"], r["protocol"]): r for r in report["devices"]}
        return all((d, p) in rows and rows[(d, p)]["readings"] == 4000 for d, p in names.items())

    rows = {r["device"]: r for r in stable_report(collector, "/v1/bandwidth/devices", settled)["devices"]}
    with capsys.disabled():
        print("\n  bytes per reading, 4,000 readings (100 batches of 40) each:")
        for device, protocol in names.items():
            row = rows[device]
            print(f"    {protocol:12} {row['bytes_per_reading']:8.2f} B/reading  (in {row['bytes_in']:7d}, "
                  f"out {row['bytes_out']:6d}; payload in {row['payload_bytes_in']:7d})")
    stream, unary, rest = (rows[d]["bytes_per_reading"] for d in names)
    assert stream * 5 < rest, (stream, rest)
    assert stream < unary < rest, (stream, unary, rest)


def test_readings_committed_after_the_client_left_are_counted(proto, collector):
    pb = proto.pb
    batch, rows = simple_batch(pb, 1, count=5)
    # Hold the database's write lock so the batch waits in the collector's writer while the client goes away.
    lock = sqlite3.connect(str(collector.db), timeout=5, isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")
        channel = grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS)
        future = proto.grpc.TelemetryStub(channel).Push.future(batch, metadata=[("device-id", "gone-1")],
                                                               timeout=CALL_TIMEOUT)
        time.sleep(0.5)  # the batch reaches the writer, which waits for the lock
        if future.done():
            raise RuntimeError(f"the Push finished while the database was locked: {future.exception()}")
        channel.close()  # cancels the call and closes the connection
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    if not wait_until_value(lambda: db_readings(collector.db, "gone-1") == sorted(rows), timeout=5):
        raise RuntimeError("precondition: the batch was not committed after the lock was released")
    row = wait_until_value(lambda: next((r for r in get_json(collector, "/v1/bandwidth/devices")["devices"]
                                         if r["device"] == "gone-1" and r["readings"] == 5), None), timeout=3)
    rows_now = [r for r in get_json(collector, "/v1/bandwidth/devices")["devices"] if r["device"] == "gone-1"]
    assert row is not None, f"5 readings of gone-1 are in the database but the bandwidth rows say {rows_now}"
    assert row["batches"] == 1


def wait_until_value(fn, timeout):
    """Polls `fn` until it returns something truthy (returned) or `timeout` seconds pass (then the last value)."""
    deadline = time.monotonic() + timeout
    value = fn()
    while not value and time.monotonic() < deadline:
        time.sleep(0.05)
        value = fn()
    return value
