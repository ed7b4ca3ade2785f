"""gRPC ingest with the stock grpcio client: Push, Upload, deduplication, exact storage, concurrency."""

import random
import threading

import grpc
import pytest

from fwtest import CALL_TIMEOUT, CHANNEL_OPTIONS, db_batches, db_query, db_readings, get_json, make_series, simple_batch

T0 = 1_732_190_000_000  # a Unix ms timestamp in November 2024


def md(device):
    return [("device-id", device)]


def test_push_one_batch_is_acked_and_stored_exactly(proto, stub, collector):
    pb = proto.pb
    series, rows = make_series(pb, "temperature", -2, [T0 + 123], [2154])
    ack = stub.Push(pb.Batch(seq=17, series=[series]), metadata=md("push-1"), timeout=CALL_TIMEOUT)
    assert (ack.batches, ack.readings, ack.duplicate_batches, ack.last_seq) == (1, 1, 0, 17)
    # Read right after the Ack with an independent reader: the Ack means committed.
    stored = db_readings(collector.db, "push-1")
    assert stored == [("temperature", T0 + 123, 21.54)]
    assert stored[0][2] == float("21.54")
    assert db_batches(collector.db, "push-1") == [(17, 1)]


def _upload_batches(pb, n_batches, rng):
    """n batches with several sensors: regular and irregular timestamps, negative values, assorted exponents."""
    batches, rows = [], []
    irregular_ts = T0
    for seq in range(1, n_batches + 1):
        base = T0 + (seq - 1) * 10_000
        series = []
        # Regular: 10 readings a second apart, values swinging below zero.
        s, r = make_series(pb, "temperature", -2, [base + i * 1000 for i in range(10)],
                           [rng.randint(-3000, 4000) for _ in range(10)], regular=True)
        series.append(s), rows.extend(r)
        # Irregular gaps (time_deltas_ms), strictly increasing across batches.
        ts = []
        for _ in range(7):
            irregular_ts += rng.randint(1, 2500)
            ts.append(irregular_ts)
        s, r = make_series(pb, "humidity", -1, ts, [rng.randint(0, 1000) for _ in ts], regular=False)
        series.append(s), rows.extend(r)
        # Large values, exponent 0, regular 250 ms.
        s, r = make_series(pb, "pressure", 0, [base + i * 250 for i in range(4)],
                           [101_325 + rng.randint(-500, 500) for _ in range(4)], regular=True)
        series.append(s), rows.extend(r)
        # A single negative reading, milli-units.
        s, r = make_series(pb, "battery.voltage", -3, [base + 5], [-rng.randint(1, 99_999)])
        series.append(s), rows.extend(r)
        batches.append(pb.Batch(seq=seq, series=series))
    return batches, rows


def test_upload_200_batches_on_one_stream(proto, stub, collector):
    pb = proto.pb
    batches, rows = _upload_batches(pb, 200, random.Random(7))
    ack = stub.Upload(iter(batches), metadata=md("upload-1"), timeout=CALL_TIMEOUT)
    assert (ack.batches, ack.readings, ack.duplicate_batches, ack.last_seq) == (200, len(rows), 0, 200)
    assert len(rows) == 200 * 22
    assert db_readings(collector.db, "upload-1") == sorted(rows)
    stored_batches = db_batches(collector.db, "upload-1")
    assert [seq for seq, _ in stored_batches] == list(range(1, 201))
    assert all(n == 22 for _, n in stored_batches)
    assert db_query(collector.db, "SELECT readings, batches, last_seq FROM devices WHERE name = ?",
                    ("upload-1",)) == [(len(rows), 200, 200)]


def _push_exponent_grid(pb, stub, collector, device, exponents, mantissas):
    """Pushes one series per exponent with the given mantissas; returns [(sensor, ts, stored, expected)] that
    differ (expected: the nearest double, which is what Python's float() of the decimal text gives)."""
    series, rows = [], []
    for e in exponents:
        # Timestamps before 1970 (negative) work too.
        ts = [-5_000_000 + e * 100_000 + i for i in range(len(mantissas))]
        s, r = make_series(pb, f"exp{e + 30:02d}", e, ts, mantissas)
        series.append(s), rows.extend(r)
    ack = stub.Push(pb.Batch(seq=1, series=series), metadata=md(device), timeout=CALL_TIMEOUT)
    assert (ack.batches, ack.readings, ack.duplicate_batches, ack.last_seq) == (1, len(rows), 0, 1)
    stored = {(s, ts): v for s, ts, v in db_readings(collector.db, device)}
    assert len(stored) == len(rows)
    return stored, [(s, ts, stored[(s, ts)], v) for s, ts, v in rows if stored[(s, ts)] != v]


def test_values_are_the_nearest_double_of_mantissa_times_power_of_ten(proto, stub, collector):
    """|exponent| <= 22 and |mantissa| <= 2^53: each stored value is the double nearest to mantissa x 10^exponent."""
    rng = random.Random(11)
    mantissas = [1, -1, 3, 7, 9, 11, 13, 17, 123, 2154, -2154, 999_999_999, 123_456_789_012_345, 2**53, -(2**53),
                 2**53 - 1] + [rng.randint(-(2**53), 2**53) for _ in range(20)]
    stored, wrong = _push_exponent_grid(proto.pb, stub, collector, "exact-1", range(-22, 23), mantissas)
    assert not wrong, f"{len(wrong)} values differ from the nearest double, e.g. (sensor, ts, stored, expected) " \
                      f"{wrong[:5]}"
    # Spot checks written out by hand: 17 x 10^-2 and 2154 x 10^-2.
    assert stored[("exp28", -5_000_000 - 200_000 + 7)] == 0.17
    assert stored[("exp28", -5_000_000 - 200_000 + 9)] == 21.54


def test_values_are_the_nearest_double_for_every_exponent_and_mantissa(proto, stub, collector):
    """The whole contract range: exponent -30...30 and any int64 mantissa."""
    mantissas = [1, -1, 3, 7, 9, 11, 13, 17, 123, 2154, -2154, 999_999_999, 123_456_789_012_345,
                 2**53 - 1, 2**53 + 1, -(2**53 + 1), -(2**63), -5, 2**62, 2**63 - 1]  # consecutive deltas fit int64
    _, wrong = _push_exponent_grid(proto.pb, stub, collector, "exact-2", range(-30, 31), mantissas)
    assert not wrong, f"{len(wrong)} values differ from the nearest double, e.g. (sensor, ts, stored, expected) " \
                      f"{wrong[:5]}"


def test_duplicate_seq_within_and_across_calls(proto, stub, collector):
    pb = proto.pb
    dev = md("dup-1")
    b1, r1 = simple_batch(pb, 1, start_ms=T0, count=3)
    b2, r2 = simple_batch(pb, 2, start_ms=T0 + 10_000, count=4)
    b3, r3 = simple_batch(pb, 3, start_ms=T0 + 20_000, count=5)
    # A retry of seq 2 with other content: still a duplicate, and the first content stays.
    b2_other, _ = simple_batch(pb, 2, start_ms=T0 + 500_000, count=6, first=-1)

    ack = stub.Upload(iter([b1, b2, b2, b3, b2_other]), metadata=dev, timeout=CALL_TIMEOUT)
    assert (ack.batches, ack.readings, ack.duplicate_batches, ack.last_seq) == (5, 3 + 4 + 5, 2, 3)

    ack = stub.Push(b2, metadata=dev, timeout=CALL_TIMEOUT)
    assert (ack.batches, ack.readings, ack.duplicate_batches, ack.last_seq) == (1, 0, 1, 3)

    b4, r4 = simple_batch(pb, 4, start_ms=T0 + 30_000, count=2)
    ack = stub.Upload(iter([b3, b4, b1]), metadata=dev, timeout=CALL_TIMEOUT)
    assert (ack.batches, ack.readings, ack.duplicate_batches, ack.last_seq) == (3, 2, 2, 4)

    assert db_readings(collector.db, "dup-1") == sorted(r1 + r2 + r3 + r4)
    assert db_batches(collector.db, "dup-1") == [(1, 3), (2, 4), (3, 5), (4, 2)]
    assert db_query(collector.db, "SELECT readings, batches, last_seq FROM devices WHERE name = 'dup-1'") == \
        [(14, 4, 4)]


def test_seq_out_of_order_keeps_the_highest_and_seq_bounds(proto, stub, collector):
    pb = proto.pb
    dev = md("order-1")
    ack = stub.Push(simple_batch(pb, 10, start_ms=T0)[0], metadata=dev, timeout=CALL_TIMEOUT)
    assert ack.last_seq == 10
    ack = stub.Push(simple_batch(pb, 5, start_ms=T0 + 100_000)[0], metadata=dev, timeout=CALL_TIMEOUT)
    assert (ack.readings, ack.duplicate_batches, ack.last_seq) == (3, 0, 10)
    top = 2**63 - 1
    ack = stub.Push(simple_batch(pb, top, start_ms=T0 + 200_000)[0], metadata=dev, timeout=CALL_TIMEOUT)
    assert (ack.readings, ack.last_seq) == (3, top)
    ack = stub.Push(simple_batch(pb, top, start_ms=T0 + 200_000)[0], metadata=dev, timeout=CALL_TIMEOUT)
    assert (ack.readings, ack.duplicate_batches, ack.last_seq) == (0, 1, top)
    assert [s for s, _ in db_batches(collector.db, "order-1")] == [5, 10, top]


def test_same_millisecond_in_a_series_first_write_wins(proto, stub, collector):
    pb = proto.pb
    dev = md("fww-1")
    # Irregular series with a zero gap: the second reading at T0+1000 is not stored and not counted.
    s, _ = make_series(pb, "temp", 0, [T0, T0 + 1000, T0 + 1000, T0 + 2000], [1, 2, 3, 4], regular=False)
    ack = stub.Push(pb.Batch(seq=1, series=[s]), metadata=dev, timeout=CALL_TIMEOUT)
    assert (ack.readings, ack.last_seq) == (3, 1)
    # A later batch with an already stored timestamp: the stored value stays.
    s, _ = make_series(pb, "temp", 0, [T0 + 2000, T0 + 3000], [40, 50])
    ack = stub.Push(pb.Batch(seq=2, series=[s]), metadata=dev, timeout=CALL_TIMEOUT)
    assert (ack.readings, ack.duplicate_batches, ack.last_seq) == (1, 0, 2)
    assert db_readings(collector.db, "fww-1") == [("temp", T0, 1.0), ("temp", T0 + 1000, 2.0),
                                                  ("temp", T0 + 2000, 4.0), ("temp", T0 + 3000, 50.0)]


def test_empty_batch_is_stored_for_dedup(proto, stub, collector):
    pb = proto.pb
    ack = stub.Push(pb.Batch(seq=3), metadata=md("empty-1"), timeout=CALL_TIMEOUT)
    assert (ack.batches, ack.readings, ack.duplicate_batches, ack.last_seq) == (1, 0, 0, 3)
    ack = stub.Push(pb.Batch(seq=3), metadata=md("empty-1"), timeout=CALL_TIMEOUT)
    assert (ack.batches, ack.readings, ack.duplicate_batches, ack.last_seq) == (1, 0, 1, 3)
    ack = stub.Upload(iter([]), metadata=md("empty-2"), timeout=CALL_TIMEOUT)
    assert (ack.batches, ack.readings, ack.duplicate_batches, ack.last_seq) == (0, 0, 0, 0)


def _push_many(stub_for, pb, device_of, seqs_of, n_threads, per_thread):
    """n_threads threads, each pushing `per_thread` batches; returns {(device, seq): ack} and failures."""
    acks, failures, lock = {}, [], threading.Lock()
    start = threading.Barrier(n_threads, timeout=CALL_TIMEOUT)

    def worker(t):
        stub = stub_for(t)
        try:
            start.wait()
            for seq in seqs_of(t):
                batch, _ = simple_batch(pb, seq, start_ms=T0 + seq * 10_000, count=5)
                ack = stub.Push(batch, metadata=md(device_of(t)), timeout=CALL_TIMEOUT)
                with lock:
                    acks[(device_of(t), seq)] = ack
        except Exception as e:  # noqa: BLE001 - reported below
            with lock:
                failures.append((t, repr(e)))

    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert not any(th.is_alive() for th in threads), "push threads still running after 60 s"
    assert not failures, failures[:5]
    return acks


def test_concurrent_pushes_on_one_channel(proto, stub, collector):
    """20 threads x 20 Pushes on one channel (one HTTP/2 connection), one device per thread."""
    pb = proto.pb
    acks = _push_many(lambda t: stub, pb, lambda t: f"conc-{t}", lambda t: range(1, 21), 20, 20)
    assert len(acks) == 400
    assert all(a.batches == 1 and a.readings == 5 and a.duplicate_batches == 0 for a in acks.values())
    for t in range(20):
        # Pushes from one thread are sequential, so each Ack's last_seq is exactly its seq.
        assert [acks[(f"conc-{t}", s)].last_seq for s in range(1, 21)] == list(range(1, 21))
    rows = db_query(collector.db, "SELECT device, count(*), count(DISTINCT ts) FROM readings_view "
                                  "WHERE device LIKE 'conc-%' GROUP BY device")
    assert sorted(rows) == sorted((f"conc-{t}", 100, 100) for t in range(20))
    assert db_query(collector.db, "SELECT count(*), sum(readings) FROM batches") == [(400, 2000)]
    # One channel is one HTTP/2 connection: counted once, under the device of its first stream.
    rows = get_json(collector, "/v1/bandwidth/devices?protocol=grpc-unary")["devices"]
    assert sum(r["connections"] for r in rows) == 1, rows
    assert sum(r["calls"] for r in rows) == 400 and sum(r["readings"] for r in rows) == 2000


def test_concurrent_pushes_on_separate_channels_to_one_device(proto, collector):
    """20 threads x 20 Pushes, each thread on its own channel, all to one device with disjoint seqs."""
    pb = proto.pb
    channels = [grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS) for _ in range(20)]
    try:
        stubs = [proto.grpc.TelemetryStub(ch) for ch in channels]
        acks = _push_many(lambda t: stubs[t], pb, lambda t: "shared-1",
                          lambda t: range(t * 20 + 1, t * 20 + 21), 20, 20)
    finally:
        for ch in channels:
            ch.close()
    assert len(acks) == 400
    assert all(a.batches == 1 and a.readings == 5 and a.duplicate_batches == 0 for a in acks.values())
    # last_seq is the device's highest stored seq at commit: never below the call's own seq, never above 400.
    assert all(seq <= a.last_seq <= 400 for (_, seq), a in acks.items())
    assert db_batches(collector.db, "shared-1") == [(s, 5) for s in range(1, 401)]
    assert db_query(collector.db, "SELECT count(*), count(DISTINCT ts) FROM readings_view "
                                  "WHERE device = 'shared-1'") == [(2000, 2000)]
    assert db_query(collector.db, "SELECT readings, batches, last_seq FROM devices WHERE name = 'shared-1'") == \
        [(2000, 400, 400)]
    rows = get_json(collector, "/v1/bandwidth/devices?protocol=grpc-unary")["devices"]
    assert [(r["device"], r["connections"], r["calls"], r["readings"]) for r in rows] == [("shared-1", 20, 400, 2000)]


def test_more_concurrent_uploads_than_max_concurrent_streams(proto, stub, collector):
    """300 Uploads in flight at once on one channel (the collector advertises 100 concurrent streams)."""
    pb = proto.pb
    futures = {}
    for d in range(300):
        batches = [simple_batch(pb, seq, start_ms=T0 + seq * 10_000, count=2, first=d)[0] for seq in range(1, 11)]
        futures[f"many-{d}"] = stub.Upload.future(iter(batches), metadata=md(f"many-{d}"), timeout=30)
    for device, future in futures.items():
        ack = future.result(timeout=30)
        assert (ack.batches, ack.readings, ack.duplicate_batches, ack.last_seq) == (10, 20, 0, 10), device
    assert db_query(collector.db, "SELECT count(DISTINCT device), count(*) FROM readings_view "
                                  "WHERE device LIKE 'many-%'") == [(300, 6000)]
