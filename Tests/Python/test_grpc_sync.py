"""The bidirectional Sync RPC and stream context, with the stock grpcio client as the independent implementation:
Acks arrive while the stream is open (before the client half-closes), they add up to the batches sent, duplicates
are counted, a stream may leave out what it already said, and what breaks the context rules is refused by name."""

import queue

import grpc
import pytest

from fwtest import CALL_TIMEOUT, db_batches, db_readings, make_series, wait_until

T0 = 1_765_000_000_000
SENSORS = [("temperature", -2, 2150), ("humidity", -1, 455), ("pressure", -1, 10132)]


def md(device):
    return [("device-id", device)]


def device_batch(pb, seq):
    """Batch `seq` of a device: three sensors, ten readings a second apart, continuing the previous batch."""
    series, rows = [], []
    base = T0 + (seq - 1) * 10_000
    for k, (sensor, exponent, level) in enumerate(SENSORS):
        mantissas = [level + ((seq * 10 + i) * (k + 3)) % 7 for i in range(10)]
        s, r = make_series(pb, sensor, exponent, [base + i * 1000 for i in range(10)], mantissas, regular=True)
        series.append(s), rows.extend(r)
    return pb.Batch(seq=seq, series=series), rows


class OpenStream:
    """A Sync call whose requests the test sends one at a time, reading Acks as they come."""

    def __init__(self, stub, device):
        self.requests = queue.Queue()
        self.responses = stub.Sync(iter(self.requests.get, None), metadata=md(device), timeout=CALL_TIMEOUT)

    def send(self, batch):
        self.requests.put(batch)

    def next_ack(self):
        return next(self.responses)

    def close(self):
        self.requests.put(None)
        return list(self.responses)


def test_acks_arrive_before_the_client_half_closes(proto, stub, collector):
    pb = proto.pb
    stream = OpenStream(stub, "sync-1")
    expected_rows = []
    acked = 0
    for seq in range(1, 6):
        batch, rows = device_batch(pb, seq)
        expected_rows += rows
        stream.send(batch)
        ack = stream.next_ack()  # the stream is still open: this Ack came from a commit, not from the end
        assert (ack.batches, ack.readings, ack.duplicate_batches, ack.last_seq) == (1, 30, 0, seq)
        acked += ack.batches
        # The Ack means committed: an independent reader sees the batch now.
        assert [s for s, _ in db_batches(collector.db, "sync-1")] == list(range(1, seq + 1))
    assert stream.close() == []
    assert acked == 5
    assert db_readings(collector.db, "sync-1") == sorted(expected_rows)


def test_acks_add_up_to_the_batches_sent_and_count_duplicates(proto, stub, collector):
    pb = proto.pb
    batches = [device_batch(pb, seq)[0] for seq in range(1, 201)]
    acks = list(stub.Sync(iter(batches), metadata=md("sync-2"), timeout=CALL_TIMEOUT))
    assert sum(a.batches for a in acks) == 200
    assert sum(a.readings for a in acks) == 200 * 30
    assert acks[-1].last_seq == 200
    assert all(a.batches >= 1 for a in acks)
    # Sent again (a device that lost its Acks): every batch is recognised, nothing is stored twice.
    again = list(stub.Sync(iter(batches[:50]), metadata=md("sync-2"), timeout=CALL_TIMEOUT))
    assert sum(a.batches for a in again) == 50
    assert sum(a.duplicate_batches for a in again) == 50
    assert sum(a.readings for a in again) == 0
    assert len(db_batches(collector.db, "sync-2")) == 200


def compact(pb, batch):
    """`batch` as the second batch of a stream that already sent its predecessor: no seq, no sensor names, no
    exponents, starts or intervals, and the first mantissa as a delta from the previous batch's last."""
    out = pb.Batch()
    for s in batch.series:
        c = out.series.add()
        c.mantissa_deltas.extend(s.mantissa_deltas)
    return out


def test_stream_context_leaves_out_what_the_stream_already_said(proto, stub, collector):
    pb = proto.pb
    first, rows1 = device_batch(pb, 1)
    second, rows2 = device_batch(pb, 2)
    short = compact(pb, second)
    for s, full, prev in zip(short.series, second.series, first.series):
        previous_last = sum(prev.mantissa_deltas)
        s.mantissa_deltas[0] = full.mantissa_deltas[0] - previous_last
    assert len(short.SerializeToString()) < len(second.SerializeToString()) / 2
    ack = stub.Upload(iter([first, short]), metadata=md("context-1"), timeout=CALL_TIMEOUT)
    assert (ack.batches, ack.readings, ack.last_seq) == (2, 60, 2)
    assert db_readings(collector.db, "context-1") == sorted(rows1 + rows2)
    # The same on Sync, with an explicit ref to the third series in the first position.
    third_only = pb.Batch(seq=5)
    s = third_only.series.add(ref=3, start_ms=T0 + 500_000, mantissa_deltas=[0, 1])
    acks = list(stub.Sync(iter([first, third_only]), metadata=md("context-2"), timeout=CALL_TIMEOUT))
    assert sum(a.readings for a in acks) == 32
    stored = [r for r in db_readings(collector.db, "context-2") if r[1] >= T0 + 500_000]
    last_pressure = sum(first.series[2].mantissa_deltas)
    assert stored == [("pressure", T0 + 500_000, last_pressure / 10), ("pressure", T0 + 501_000, (last_pressure + 1) / 10)]


def test_a_series_the_stream_never_defined_is_refused_by_name(proto, stub, collector):
    pb = proto.pb
    first, _ = device_batch(pb, 1)
    orphan = pb.Batch(seq=2)
    orphan.series.add(ref=7, mantissa_deltas=[1])
    with pytest.raises(grpc.RpcError) as refused:
        list(stub.Sync(iter([first, orphan]), metadata=md("context-3"), timeout=CALL_TIMEOUT))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "batch 2" in refused.value.details() and "continues series 7" in refused.value.details()
    assert "3 series are defined" in refused.value.details()
    # The first batch was accepted before the refusal and still commits (the refusal does not wait for it); the
    # orphan stores nothing.
    wait_until(lambda: db_batches(collector.db, "context-3"), message="batch 1 committed")
    assert [s for s, _ in db_batches(collector.db, "context-3")] == [1]
    # A positional continuation on a new stream, whose context is empty, is refused the same way.
    with pytest.raises(grpc.RpcError) as fresh:
        stub.Upload(iter([compact(pb, device_batch(pb, 3)[0])]), metadata=md("context-3"), timeout=CALL_TIMEOUT)
    assert fresh.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "seq must be at least 1" in fresh.value.details()


def test_push_refuses_stream_context(proto, stub, collector):
    pb = proto.pb
    batch = pb.Batch(seq=1)
    batch.series.add(ref=1, start_ms=T0, mantissa_deltas=[1])
    with pytest.raises(grpc.RpcError) as refused:
        stub.Push(batch, metadata=md("context-4"), timeout=CALL_TIMEOUT)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "only valid on Upload and Sync streams" in refused.value.details()
    assert db_batches(collector.db, "context-4") == []


def pack_deltas(deltas):
    """`packed_deltas` written from the .proto's words: varint n, width byte, zigzag values LSB-first."""
    zigzag = [((d << 1) ^ (d >> 63)) & 0xFFFFFFFFFFFFFFFF for d in deltas]
    width = max((z.bit_length() for z in zigzag), default=0)
    bits = 0
    for i, z in enumerate(zigzag):
        bits |= z << (i * width)
    n = len(deltas)
    varint = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        varint.append(byte | (0x80 if n else 0))
        if not n:
            break
    return bytes(varint) + bytes([width]) + bits.to_bytes((len(deltas) * width + 7) // 8, "little")


def test_packed_deltas_written_by_an_independent_packer_are_stored_exactly(proto, stub, collector):
    pb = proto.pb
    mantissas = [2150, 2149, 2151, 2151, 2148, 2152, 2150, 2150, 2147, 2153, 2150, -7, 900]
    deltas = [mantissas[0]] + [b - a for a, b in zip(mantissas, mantissas[1:])]
    series = pb.Series(sensor="temperature", exponent=-2, start_ms=T0, interval_ms=1000,
                       mantissa_deltas=deltas[:1], packed_deltas=pack_deltas(deltas[1:]))
    ack = stub.Push(pb.Batch(seq=1, series=[series]), metadata=md("packed-1"), timeout=CALL_TIMEOUT)
    assert (ack.batches, ack.readings) == (1, len(mantissas))
    assert db_readings(collector.db, "packed-1") == [
        ("temperature", T0 + i * 1000, float(f"{m / 100:.2f}")) for i, m in enumerate(mantissas)]
    # All of a series' deltas may be packed, the first one too.
    whole = pb.Series(sensor="humidity", exponent=-1, start_ms=T0, interval_ms=1000, packed_deltas=pack_deltas(deltas))
    ack = stub.Push(pb.Batch(seq=2, series=[whole]), metadata=md("packed-1"), timeout=CALL_TIMEOUT)
    assert ack.readings == len(mantissas)


@pytest.mark.parametrize("run, problem", [
    (bytes([3, 2]), "3 deltas of 2 bits take 1 bytes, got 0"),
    (bytes([1, 65]) + bytes(9), "width 65 is over 64 bits"),
    (bytes([3, 2, 0b0111_1001]), "padding bits after the last delta are not 0"),
])
def test_malformed_packed_deltas_are_refused_naming_the_field(proto, stub, collector, run, problem):
    pb = proto.pb
    series = pb.Series(sensor="temperature", exponent=-2, start_ms=T0, interval_ms=1000, mantissa_deltas=[1],
                       packed_deltas=run)
    with pytest.raises(grpc.RpcError) as refused:
        stub.Push(pb.Batch(seq=1, series=[series]), metadata=md("packed-2"), timeout=CALL_TIMEOUT)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "series[0].packed_deltas" in refused.value.details() and problem in refused.value.details()
    assert db_batches(collector.db, "packed-2") == []
