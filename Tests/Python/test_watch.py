"""The server-streaming Watch RPC end to end, with grpcio (stubs generated from schema/) and a raw h2 client as
independent watchers, and Python's sqlite3 reading the database as the oracle.

- Live: every reading committed after the watch started arrives exactly once, in commit order, as DeviceBatch
  messages carrying the batch's seq; a duplicate batch sends nothing, a batch partly stored before sends only its
  new readings.
- Filters: `devices` and `sensors` select; bad names are INVALID_ARGUMENT naming them.
- Replay: with `since_ms` the stored readings from that time come first (seq 0), then live batches, while another
  thread keeps writing: together exactly the stored readings from `since_ms` on, none twice.
- Authorization: the admin token, like REST reads; none or another token is UNAUTHENTICATED.
- A watcher that never reads is ended with RESOURCE_EXHAUSTED naming the reason, while ingest goes on.
- `device-sim watch` prints live readings one per line.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import threading
import time

import grpc
import pytest

from fwtest import (CALL_TIMEOUT, CHANNEL_OPTIONS, DEVICE_SIM_BIN, AuthFiles, db_query, get_json, grpc_frame,
                    http_request, make_series, device_batch_rows, wait_until)

T0 = 1_732_190_000_000


def expand(message) -> list[tuple]:
    """The readings of one DeviceBatch: [(device, sensor, ts, value, seq)]."""
    return device_batch_rows(message)


class Watcher:
    """A Watch call read on its own thread; `rows` grows as messages arrive, `status` is set when it ends."""

    def __init__(self, proto, address: str, metadata=(), **request):
        self.channel = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
        stub = proto.grpc.TelemetryStub(self.channel)
        self.call = stub.Watch(proto.pb.WatchRequest(**request), metadata=metadata, timeout=60)
        self.messages = []
        self.count = 0  # readings received
        self.status = None
        self.details = None
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for message in self.call:
                with self.lock:
                    self.messages.append(message)
                    self.count += sum(len(s.mantissa_deltas) for s in message.batch.series)
            self.status = grpc.StatusCode.OK
        except grpc.RpcError as error:
            self.status = error.code()
            self.details = error.details()

    @property
    def rows(self) -> list[tuple]:
        with self.lock:
            messages = list(self.messages)
        return [row for message in messages for row in expand(message)]

    def subscribed(self):
        """Waits for the response headers: the collector sends them once the subscription is registered."""
        self.call.initial_metadata()
        return self

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple]:
        wait_until(lambda: self.count >= count or self.status is not None, timeout=timeout,
                   message=lambda: f"{count} watched readings (have {self.count})")
        return self.rows

    def close(self):
        self.call.cancel()
        self.thread.join(timeout=5)
        self.channel.close()


def batch(pb, seq: int, readings: dict[str, list[tuple[int, int]]], exponent: int = -1):
    """A Batch with one series per sensor from [(ts, mantissa)], and its rows [(sensor, ts, value)]."""
    series = []
    rows = []
    for sensor, points in readings.items():
        s, r = make_series(pb, sensor, exponent, [p[0] for p in points], [p[1] for p in points])
        series.append(s)
        rows.extend(r)
    return pb.Batch(seq=seq, series=series), rows


def push(stub, device: str, message, metadata=()):
    return stub.Push(message, metadata=[("device-id", device), *metadata], timeout=CALL_TIMEOUT)


def stored(db, since: int | None = None) -> list[tuple]:
    rows = db_query(db, "SELECT device, sensor, ts, value FROM readings_view ORDER BY device, sensor, ts")
    return [r for r in rows if since is None or r[2] >= since]


# -- live ---------------------------------------------------------------------------------------------------


def test_live_every_committed_reading_once_in_commit_order(proto, collector, stub):
    pb = proto.pb
    watcher = Watcher(proto, collector.address).subscribed()
    expected = []
    seqs = []
    try:
        for seq in range(1, 6):
            for device in ("pump-1", "pump-2"):
                ts = T0 + seq * 1000
                message, rows = batch(pb, seq, {"temp": [(ts, 200 + seq), (ts + 500, 201 + seq)],
                                                "rpm": [(ts, 1500 + seq)]})
                assert push(stub, device, message).readings == 3
                expected += [(device, *row) for row in rows]
                seqs += [seq] * 3
        # A retried batch stores nothing and sends nothing.
        again, _ = batch(pb, 5, {"temp": [(T0 + 5000, 205)]})
        assert push(stub, "pump-1", again).duplicate_batches == 1
        # A batch whose readings were partly stored: only the new one is sent.
        partly, _ = batch(pb, 6, {"temp": [(T0 + 1000, 999), (T0 + 1200, 42)]})
        assert push(stub, "pump-1", partly).readings == 1
        expected.append(("pump-1", "temp", T0 + 1200, 4.2))
        seqs.append(6)
        # An Upload stream's batches arrive in the order they commit.
        batches = [batch(pb, seq, {"hum": [(T0 + seq * 10, seq)]}) for seq in range(1, 4)]
        ack = stub.Upload(iter([b for b, _ in batches]), metadata=[("device-id", "pump-3")], timeout=CALL_TIMEOUT)
        assert ack.readings == 3
        for seq, (_, rows) in enumerate(batches, start=1):
            expected += [("pump-3", *row) for row in rows]
            seqs.append(seq)

        got = watcher.wait_for(len(expected))
        time.sleep(0.3)  # nothing more may come
        got = watcher.wait_for(len(expected))
        assert [(d, s, t, v) for d, s, t, v, _ in got] == expected
        assert [seq for *_, seq in got] == seqs
        assert watcher.status is None
        assert sorted(expected) == stored(collector.db)
        # Every live batch sent was timed from its commit: 10 + 1 + 3 batches for this one watcher.
        metrics = http_request(collector, "GET", "/metrics").body.decode()
        assert re.search(r"^fleetwire_watch_delivery_seconds_count 14$", metrics, re.M), metrics[-3000:]
    finally:
        watcher.close()


def test_filters_select_devices_and_sensors(proto, collector, stub):
    pb = proto.pb
    only = Watcher(proto, collector.address, devices=["pump-2"], sensors=["temp"]).subscribed()
    every = Watcher(proto, collector.address).subscribed()
    try:
        for seq in range(1, 4):
            for device in ("pump-1", "pump-2"):
                message, _ = batch(pb, seq, {"temp": [(T0 + seq, seq)], "rpm": [(T0 + seq, 10 * seq)]})
                push(stub, device, message)
        every.wait_for(12)
        got = only.wait_for(3)
        time.sleep(0.2)
        assert [(d, s, t) for d, s, t, *_ in only.rows] == [("pump-2", "temp", T0 + seq) for seq in range(1, 4)]
        assert {d for d, *_ in every.rows} == {"pump-1", "pump-2"} and len(every.rows) == 12
    finally:
        only.close()
        every.close()


@pytest.mark.parametrize("request_fields, named", [
    ({"devices": ["ok-device", "bad device!"]}, '"bad device!"'),
    ({"sensors": ["Temp"]}, '"Temp"'),
    ({"sensors": ["x" * 65, "fine"]}, "x" * 65),
    ({"since_ms": -5}, "since_ms"),
])
def test_bad_request_is_invalid_argument_naming_it(proto, stub, request_fields, named):
    with pytest.raises(grpc.RpcError) as raised:
        list(stub.Watch(proto.pb.WatchRequest(**request_fields), timeout=CALL_TIMEOUT))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert named in raised.value.details()


# -- replay -------------------------------------------------------------------------------------------------


def test_replay_then_live_without_gap_or_duplicate(proto, collector, stub):
    pb = proto.pb
    since = T0 + 50_000
    # Stored before the watch: half before `since` (not replayed), half after.
    for seq in range(1, 101):
        for device in ("a", "b"):
            push(stub, device, batch(pb, seq, {"v": [(T0 + seq * 1000, seq)], "w": [(T0 + seq * 1000, -seq)]})[0])
    stop = threading.Event()
    written = []

    def writer():
        seq = 101
        channel = grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS)
        writer_stub = proto.grpc.TelemetryStub(channel)
        while not stop.is_set() or seq < 160:
            for device in ("a", "b"):
                push(writer_stub, device, batch(pb, seq, {"v": [(T0 + seq * 1000, seq)]})[0])
            # A late reading, landing among stored ones after `since` (merged into a stored chunk).
            push(writer_stub, "a", batch(pb, seq + 10_000, {"w": [(T0 + (seq - 40) * 1000 + 1, 7)]})[0])
            written.append(seq)
            seq += 1
        channel.close()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    wait_until(lambda: len(written) >= 10, message="the writer started")
    watcher = Watcher(proto, collector.address, since_ms=since)
    try:
        wait_until(lambda: len(written) >= 40, timeout=20, message="writes during the watch")
        stop.set()
        thread.join(timeout=30)
        expected = stored(collector.db, since)
        got = watcher.wait_for(len(expected), timeout=15)
        time.sleep(0.3)
        got = [(d, s, t, v) for d, s, t, v, _ in watcher.rows]
        assert len(got) == len(set(got)), "a reading arrived twice"
        assert sorted(got) == expected
        # The replay (seq 0) comes first, then only live batches (their seq).
        seqs = [seq for *_, seq in watcher.rows]
        first_live = next(i for i, s in enumerate(seqs) if s != 0)
        assert all(s == 0 for s in seqs[:first_live]) and all(s != 0 for s in seqs[first_live:])
        assert first_live > 0
        assert watcher.status is None
    finally:
        stop.set()
        watcher.close()


# -- authorization ------------------------------------------------------------------------------------------


def test_watch_needs_the_admin_token(proto, start_collector, tmp_path):
    auth = AuthFiles(tmp_path / "keys")
    secured = start_collector(*auth.args())
    channel = grpc.insecure_channel(secured.address, options=CHANNEL_OPTIONS)
    stub = proto.grpc.TelemetryStub(channel)
    try:
        for metadata in ((), (("authorization", f"Bearer {auth.token('pump-1')}"),),
                         (("authorization", "Bearer nonsense"),)):
            with pytest.raises(grpc.RpcError) as raised:
                list(stub.Watch(proto.pb.WatchRequest(), metadata=metadata, timeout=CALL_TIMEOUT))
            assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED, metadata
            assert auth.admin() not in (raised.value.details() or "")
        watcher = Watcher(proto, secured.address, metadata=(("authorization", f"Bearer {auth.admin()}"),))
        watcher.subscribed()
        message, _ = batch(proto.pb, 1, {"temp": [(T0, 1)]})
        push(stub, "pump-1", message, metadata=(("authorization", f"Bearer {auth.token('pump-1')}"),))
        assert [r[:3] for r in watcher.wait_for(1)] == [("pump-1", "temp", T0)]
        watcher.close()
    finally:
        channel.close()


# -- a watcher that does not read ----------------------------------------------------------------------------


def raw_watch(address: str, pb, window: int = 65_535):
    """Opens a Watch on a raw h2 connection that never sends WINDOW_UPDATE; returns (socket, connection, stream)."""
    import h2.config
    import h2.connection
    import h2.events
    import h2.settings

    host, port = address.split(":")
    sock = socket.create_connection((host, int(port)), timeout=CALL_TIMEOUT)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
    stream = conn.get_next_available_stream_id()
    conn.send_headers(stream, [(":method", "POST"), (":scheme", "http"), (":path", "/telemetry.v1.Telemetry/Watch"),
                               (":authority", address), ("content-type", "application/grpc"), ("te", "trailers")])
    conn.send_data(stream, grpc_frame(pb.WatchRequest().SerializeToString()), end_stream=True)
    sock.sendall(conn.data_to_send())
    # Read up to the response headers, so the subscription is in place.
    seen_headers = False
    while not seen_headers:
        for event in conn.receive_data(sock.recv(65_536)):
            if isinstance(event, h2.events.ResponseReceived):
                seen_headers = True
        sock.sendall(conn.data_to_send())
    return sock, conn, stream


def read_to_end(sock, conn, stream) -> dict:
    """Reads (now acknowledging data) until the stream ends; returns its trailers."""
    import h2.events

    trailers = {}
    ended = False
    deadline = time.monotonic() + 20
    while not ended and time.monotonic() < deadline:
        data = sock.recv(1 << 20)
        if not data:
            break
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.DataReceived):
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.TrailersReceived):
                trailers = dict(event.headers)
            elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                ended = True
        sock.sendall(conn.data_to_send())
    return trailers


def test_a_watcher_that_never_reads_is_ended_and_ingest_goes_on(proto, collector, stub):
    pb = proto.pb
    sock, conn, stream = raw_watch(collector.address, pb)
    reader = Watcher(proto, collector.address).subscribed()  # a watcher that keeps up, beside it
    try:
        # 3,000 batches of about 2 KB (large mantissa deltas): past the 1 MiB a watcher may leave unsent plus its
        # queue of 1,024 batches.
        rng = random.Random(7)
        sensors = [f"s{i:02}" for i in range(20)]
        messages = [batch(pb, seq, {s: [(T0 + seq * 1000 + j, rng.randrange(-10**12, 10**12)) for j in range(10)]
                                    for s in sensors})[0] for seq in range(1, 3001)]
        started = time.monotonic()
        for first in range(0, 3000, 500):
            ack = stub.Upload(iter(messages[first:first + 500]), metadata=[("device-id", "busy")],
                              timeout=60)
            assert ack.readings == 500 * 200
        elapsed = time.monotonic() - started
        total = 3000 * 200
        trailers = read_to_end(sock, conn, stream)
        assert trailers.get("grpc-status") == "8", trailers
        message = trailers.get("grpc-message", "")
        assert "watcher fell behind" in message and "(limit 1024)" in message, message
        # The watcher that reads got everything; every batch is stored.
        reader.wait_for(total, timeout=30)
        assert reader.count == total
        assert reader.status is None
        assert db_query(collector.db, "SELECT count(*) FROM batches")[0][0] == 3000
        assert elapsed < 60
    finally:
        sock.close()
        reader.close()


# -- accounting ---------------------------------------------------------------------------------------------


def test_watch_streams_are_counted_as_protocol_watch(proto, collector, stub):
    watcher = Watcher(proto, collector.address).subscribed()
    push(stub, "pump-1", batch(proto.pb, 1, {"temp": [(T0, 1)]})[0])
    watcher.wait_for(1)
    watcher.close()

    def watch_row():
        rows = get_json(collector, "/v1/bandwidth").get("protocols", [])
        return next((r for r in rows if r.get("protocol") == "watch"), None)

    wait_until(lambda: watch_row() is not None and watch_row().get("bytes_out", 0) > 0, timeout=5,
               message="a watch row in /v1/bandwidth")


# -- device-sim watch ---------------------------------------------------------------------------------------


def test_device_sim_watch_prints_live_readings(proto, collector, stub, tmp_path):
    out_path = tmp_path / "watch.out"
    err_path = tmp_path / "watch.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([str(DEVICE_SIM_BIN), "watch", "--target", collector.address, "--devices",
                                 "pump-1", "--sensors", "temp,rpm"], stdout=out, stderr=err)
    try:
        wait_until(lambda: "watching" in err_path.read_text(), timeout=10, message="device-sim watch subscribed")
        message, _ = batch(proto.pb, 1, {"temp": [(T0, 215), (T0 + 1000, 216)], "rpm": [(T0, 1500)],
                                         "other": [(T0, 1)]})
        push(stub, "pump-1", message)
        push(stub, "pump-2", message)
        wait_until(lambda: len(out_path.read_text().splitlines()) >= 3, timeout=10, message="three lines")
        time.sleep(0.2)
        lines = out_path.read_text().splitlines()
        assert lines == [f"pump-1\ttemp\t{T0}\t21.5", f"pump-1\ttemp\t{T0 + 1000}\t21.6",
                         f"pump-1\trpm\t{T0}\t150.0"]
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=10)
    assert code == 0, err_path.read_text()


def test_a_quiet_watch_outlives_the_idle_timeout(proto, start_collector):
    """Between commits nothing moves; the watch's PINGs keep its connection from the idle timeout."""
    collector = start_collector("--idle-timeout", "1s")
    watcher = Watcher(proto, collector.address).subscribed()
    channel = grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS)
    try:
        time.sleep(3.5)
        assert watcher.status is None, (watcher.status, watcher.details)
        push(proto.grpc.TelemetryStub(channel), "pump-1", batch(proto.pb, 1, {"temp": [(T0, 1)]})[0])
        assert [r[:3] for r in watcher.wait_for(1)] == [("pump-1", "temp", T0)]
    finally:
        channel.close()
        watcher.close()
