"""gRPC error statuses, each with a grpc-message naming the problem, and that errors leave the connection usable."""

import subprocess
import threading
import time

import grpc
import pytest

from fwtest import (CALL_TIMEOUT, CHANNEL_OPTIONS, db_batches, db_readings, get_json, grpc_curl, grpc_frame,
                    parse_header_lines, simple_batch, wait_until)

PUSH = "/telemetry.v1.Telemetry/Push"
UPLOAD = "/telemetry.v1.Telemetry/Upload"
T0 = 1_732_190_000_000


def md(device):
    return [("device-id", device)]


def raw_push(channel):
    """Push with identity serializers: sends whatever bytes it is given."""
    return channel.unary_unary(PUSH)


def raw_upload(channel):
    return channel.stream_unary(UPLOAD)


def expect_status(call, code, *fragments):
    """Runs `call`, expects an RpcError with `code` whose details contain every fragment; returns the details."""
    with pytest.raises(grpc.RpcError) as info:
        call()
    err = info.value
    assert err.code() == code, f"expected {code}, got {err.code()}: {err.details()!r}"
    for fragment in fragments:
        assert fragment in (err.details() or ""), f"{fragment!r} not in {err.details()!r}"
    return err.details()


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


@pytest.mark.parametrize("metadata, fragment", [
    ([], "missing device-id"),
    ([("device-id", "")], "invalid device-id"),
    ([("device-id", "bad id")], "invalid device-id"),
    ([("device-id", "dev/1")], "invalid device-id"),
    ([("device-id", "x" * 129)], "invalid device-id"),
], ids=["missing", "empty", "space", "slash", "129-chars"])
def test_missing_or_invalid_device_id_is_invalid_argument(proto, stub, collector, metadata, fragment):
    batch, _ = simple_batch(proto.pb, 1)
    details = expect_status(lambda: stub.Push(batch, metadata=metadata, timeout=CALL_TIMEOUT),
                            grpc.StatusCode.INVALID_ARGUMENT, fragment)
    assert "device-id" in details
    expect_status(lambda: stub.Upload(iter([batch]), metadata=metadata, timeout=CALL_TIMEOUT),
                  grpc.StatusCode.INVALID_ARGUMENT, fragment)


def test_longest_device_id_and_every_allowed_character_are_accepted(proto, stub, collector):
    for device in ["x" * 128, "A-Za-z0-9._:-", "a"]:
        batch, rows = simple_batch(proto.pb, 1)
        ack = stub.Push(batch, metadata=md(device), timeout=CALL_TIMEOUT)
        assert (ack.readings, ack.last_seq) == (3, 1)
        assert db_readings(collector.db, device) == sorted(rows)


@pytest.mark.parametrize("path", ["/telemetry.v1.Telemetry/Nope", "/telemetry.v1.Telemetry/push",
                                  "/other.v1.Service/Push"])
def test_unknown_method_is_unimplemented(channel, collector, path):
    details = expect_status(lambda: channel.unary_unary(path)(b"", metadata=md("d"), timeout=CALL_TIMEOUT),
                            grpc.StatusCode.UNIMPLEMENTED, path)
    assert "unknown method" in details


def _series_bytes(pb, **fields):
    return pb.Batch(seq=1, series=[pb.Series(sensor="a", **fields)]).SerializeToString()


MALFORMED = {
    # name: (message bytes or a function of pb, expected start of grpc-message)
    "seq-wrong-wire-type": (b"\x0a\xff", "batch 1: seq: wrong wire type 2"),
    "seq-truncated-varint": (b"\x08\xff", "batch 1: seq: truncated varint"),
    "seq-zero": (b"\x08\x00", "batch 1: seq: seq must be at least 1"),
    "seq-missing": (b"", "batch 1: seq: seq must be at least 1"),
    "seq-2^63": (b"\x08" + varint(2**63), "batch 1: seq: value out of range"),
    "invalid-tag": (b"\x08\x01\x07", "batch 1: invalid field tag"),
    "series-past-end": (b"\x08\x01\x12\x05\x0a\x01a", "batch 1: series[0]: length runs past the end"),
    "sensor-not-utf8": (b"\x08\x01\x12\x03\x0a\x01\xff", "batch 1: series[0].sensor: sensor name must match"),
    "sensor-upper-case": (lambda pb: pb.Batch(seq=1, series=[pb.Series(sensor="ok"), pb.Series(
        sensor="Temp!", mantissa_deltas=[1])]).SerializeToString(), "batch 1: series[1].sensor: sensor name"),
    "exponent-31": (lambda pb: _series_bytes(pb, exponent=31, mantissa_deltas=[1]),
                    "batch 1: series[0].exponent: exponent must be within -30...30"),
    "interval-and-time-deltas": (lambda pb: _series_bytes(pb, interval_ms=5, mantissa_deltas=[1, 2],
                                                          time_deltas_ms=[3]),
                                 "batch 1: series[0].time_deltas_ms: a series with interval_ms > 0"),
    "time-delta-count": (lambda pb: _series_bytes(pb, mantissa_deltas=[1, 2, 3], time_deltas_ms=[3]),
                         "batch 1: series[0].time_deltas_ms: expected 2 time deltas"),
    "mantissa-overflow": (lambda pb: _series_bytes(pb, interval_ms=1, mantissa_deltas=[2**63 - 1, 1]),
                          "batch 1: series[0].mantissa_deltas: mantissa deltas overflow"),
    "timestamp-overflow": (lambda pb: _series_bytes(pb, start_ms=2**63 - 1, interval_ms=1, mantissa_deltas=[1, 1]),
                           "batch 1: series[0].interval_ms: timestamps overflow"),
    "too-many-readings": (lambda pb: _series_bytes(pb, interval_ms=1, mantissa_deltas=[1] * 100_001),
                          "batch 1: series[0].mantissa_deltas: more than 100000 readings"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_push_is_invalid_argument_naming_batch_and_field(proto, channel, collector, name):
    message, expected = MALFORMED[name]
    if callable(message):
        message = message(proto.pb)
    details = expect_status(lambda: raw_push(channel)(message, metadata=md("bad-1"), timeout=CALL_TIMEOUT),
                            grpc.StatusCode.INVALID_ARGUMENT)
    assert details.startswith(expected), details
    assert "(at byte " in details, details
    assert db_batches(collector.db, "bad-1") == []


def test_malformed_third_batch_of_upload_names_batch_3(proto, channel, collector):
    pb = proto.pb
    good = [simple_batch(pb, seq, start_ms=T0 + seq * 10_000)[0].SerializeToString() for seq in (1, 2)]
    bad = pb.Batch(seq=3, series=[pb.Series(sensor="ok", mantissa_deltas=[1]),
                                  pb.Series(sensor="Bad", mantissa_deltas=[1])]).SerializeToString()
    details = expect_status(lambda: raw_upload(channel)(iter(good + [bad]), metadata=md("bad-2"),
                                                        timeout=CALL_TIMEOUT),
                            grpc.StatusCode.INVALID_ARGUMENT)
    assert details.startswith("batch 3: series[1].sensor: sensor name must match"), details
    # Nothing of the refused batch is stored (the two before it may or may not be: they got no Ack).
    assert 3 not in [seq for seq, _ in db_batches(collector.db, "bad-2")]


def _batch_of_size(pb, size):
    """A valid Batch whose serialized size is exactly `size` bytes."""
    for n in range(size, 0, -1):
        for name_len in range(1, 65):
            batch = pb.Batch(seq=1, series=[pb.Series(sensor="s" * name_len, interval_ms=1, start_ms=T0,
                                                      mantissa_deltas=[1] + [0] * (n - 1))])
            got = batch.ByteSize()
            if got == size:
                return batch
            if got > size:
                break
    raise AssertionError(f"no batch of {size} bytes")


def test_message_over_the_limit_is_resource_exhausted(proto, start_collector):
    collector = start_collector("--max-message-bytes", "4096")
    pb = proto.pb
    with grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS) as channel:
        stub = proto.grpc.TelemetryStub(channel)
        at_limit = _batch_of_size(pb, 4096)
        ack = stub.Push(at_limit, metadata=md("big-1"), timeout=CALL_TIMEOUT)
        assert (ack.batches, ack.readings) == (1, len(at_limit.series[0].mantissa_deltas))
        over = _batch_of_size(pb, 4097)
        over.seq = 2
        assert over.ByteSize() == 4097
        details = expect_status(lambda: stub.Push(over, metadata=md("big-1"), timeout=CALL_TIMEOUT),
                                grpc.StatusCode.RESOURCE_EXHAUSTED, "4097", "4096")
        assert "exceeds" in details
        # In an Upload, after a good batch.
        small, _ = simple_batch(pb, 3, start_ms=T0 + 10**7)
        over.seq = 4
        expect_status(lambda: stub.Upload(iter([small, over]), metadata=md("big-1"), timeout=CALL_TIMEOUT),
                      grpc.StatusCode.RESOURCE_EXHAUSTED, "4097")
        assert 4 not in [seq for seq, _ in db_batches(collector.db, "big-1")]


def test_gzip_compression_is_unimplemented(proto, stub, collector):
    batch, _ = simple_batch(proto.pb, 1)
    expect_status(lambda: stub.Push(batch, metadata=md("gz-1"), timeout=CALL_TIMEOUT,
                                    compression=grpc.Compression.Gzip),
                  grpc.StatusCode.UNIMPLEMENTED, "grpc-encoding gzip")
    expect_status(lambda: stub.Upload(iter([batch]), metadata=md("gz-1"), timeout=CALL_TIMEOUT,
                                      compression=grpc.Compression.Gzip),
                  grpc.StatusCode.UNIMPLEMENTED, "grpc-encoding gzip")
    assert db_batches(collector.db, "gz-1") == []


def test_compressed_flag_or_encoding_over_raw_h2c_is_unimplemented(proto, collector):
    message = simple_batch(proto.pb, 1)[0].SerializeToString()
    # Compressed flag set, no grpc-encoding.
    r = grpc_curl(collector, PUSH, grpc_frame(message, compressed=True), ["device-id: raw-1"])
    assert (r.status, r.version, r.headers.get("grpc-status")) == (200, "2", "12"), r
    assert "compressed" in r.headers.get("grpc-message", ""), r.headers
    # grpc-encoding other than identity: refused at the request headers (sent here without a body, see `curl`).
    r = grpc_curl(collector, PUSH, b"", ["device-id: raw-1", "grpc-encoding: deflate"])
    assert r.headers.get("grpc-status") == "12", r
    assert "grpc-encoding deflate" in r.headers.get("grpc-message", ""), r.headers
    # The same request with identity works.
    r = grpc_curl(collector, PUSH, grpc_frame(message), ["device-id: raw-1", "grpc-encoding: identity"])
    assert r.headers.get("grpc-status") == "0", r
    assert r.body[:1] == b"\x00" and int.from_bytes(r.body[1:5], "big") == len(r.body) - 5
    assert db_batches(collector.db, "raw-1") == [(1, 3)]


def test_message_cut_short_by_end_of_stream_is_invalid_argument(proto, collector):
    message = simple_batch(proto.pb, 1)[0].SerializeToString()
    r = grpc_curl(collector, PUSH, grpc_frame(message)[:-2], ["device-id: raw-2"])
    assert r.headers.get("grpc-status") == "3", r
    assert "2 bytes missing" in r.headers.get("grpc-message", ""), r.headers


def test_deadline_expiring_while_upload_is_held_open(proto, stub, collector):
    """A generator that stalls after one batch: the call ends with DEADLINE_EXCEEDED at the deadline."""
    release = threading.Event()

    def slow():
        yield simple_batch(proto.pb, 1)[0]
        release.wait(5)  # bounded: released right after the call ends

    started = time.monotonic()
    try:
        expect_status(lambda: stub.Upload(slow(), metadata=md("slow-1"), timeout=0.5),
                      grpc.StatusCode.DEADLINE_EXCEEDED)
    finally:
        release.set()
    assert time.monotonic() - started < 3


def test_server_enforces_grpc_timeout_without_a_client_deadline(proto, collector, tmp_path):
    """curl sends `grpc-timeout: 300m` and keeps the request open (no client-side deadline): the collector ends
    the call with DEADLINE_EXCEEDED by itself while the request is still open."""
    message = simple_batch(proto.pb, 1)[0].SerializeToString()
    head = tmp_path / "curl-head"
    cmd = ["curl", "-sS", "--noproxy", "*", "--max-time", "10", "--http2-prior-knowledge", "-X", "POST",
           "-T", "-", "-D", str(head), "-o", "/dev/null", "-H", "content-type: application/grpc",
           "-H", "te: trailers", "-H", "device-id: slow-2", "-H", "grpc-timeout: 300m", collector.url + UPLOAD]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(grpc_frame(message))
        proc.stdin.flush()
        started = time.monotonic()
        # curl buffers what it prints until it exits, so the collector's log tells when the call ended.
        wait_until(lambda: "grpc-stream call from slow-2 ended DEADLINE_EXCEEDED" in collector.log(), timeout=5,
                   interval=0.01, message="the collector ending the call at its grpc-timeout")
        elapsed = time.monotonic() - started  # the request is still open: stdin has not been closed
    finally:
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    assert 0.25 <= elapsed < 3, elapsed
    fields = parse_header_lines(head.read_text("latin-1"))
    assert fields.get("grpc-status") == "4", fields
    assert "deadline" in fields.get("grpc-message", ""), fields


def test_push_with_two_or_no_messages_is_unimplemented(proto, channel, collector):
    batch = simple_batch(proto.pb, 1)[0].SerializeToString()
    push_stream = channel.stream_unary(PUSH)
    expect_status(lambda: push_stream(iter([batch, batch]), metadata=md("two-1"), timeout=CALL_TIMEOUT),
                  grpc.StatusCode.UNIMPLEMENTED, "Push takes exactly one Batch")
    expect_status(lambda: push_stream(iter([]), metadata=md("two-1"), timeout=CALL_TIMEOUT),
                  grpc.StatusCode.UNIMPLEMENTED, "Push takes exactly one Batch")


def test_errors_do_not_break_the_connection(proto, start_collector):
    """Every kind of error on one channel, each followed by a good Push on the same HTTP/2 connection."""
    collector = start_collector("--max-message-bytes", "4096")
    pb = proto.pb
    with grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS) as channel:
        stub = proto.grpc.TelemetryStub(channel)
        seq = 0

        def good_push():
            nonlocal seq
            seq += 1
            ack = stub.Push(simple_batch(pb, seq, start_ms=T0 + seq * 10_000)[0], metadata=md("keep-1"),
                            timeout=CALL_TIMEOUT)
            assert (ack.batches, ack.readings, ack.last_seq) == (1, 3, seq)

        batch = simple_batch(pb, 1000)[0]
        release = threading.Event()

        def slow():
            yield batch
            release.wait(5)

        errors = [
            (lambda: stub.Push(batch, timeout=CALL_TIMEOUT), grpc.StatusCode.INVALID_ARGUMENT),
            (lambda: raw_push(channel)(b"\x08\x00", metadata=md("keep-1"), timeout=CALL_TIMEOUT),
             grpc.StatusCode.INVALID_ARGUMENT),
            (lambda: channel.unary_unary("/telemetry.v1.Telemetry/Nope")(b"", metadata=md("keep-1"),
                                                                         timeout=CALL_TIMEOUT),
             grpc.StatusCode.UNIMPLEMENTED),
            (lambda: stub.Push(_batch_of_size(pb, 5000), metadata=md("keep-1"), timeout=CALL_TIMEOUT),
             grpc.StatusCode.RESOURCE_EXHAUSTED),
            (lambda: stub.Push(batch, metadata=md("keep-1"), timeout=CALL_TIMEOUT,
                               compression=grpc.Compression.Gzip), grpc.StatusCode.UNIMPLEMENTED),
            (lambda: channel.stream_unary(PUSH)(iter([b"\x08\x05", b"\x08\x06"]), metadata=md("keep-1"),
                                                timeout=CALL_TIMEOUT), grpc.StatusCode.UNIMPLEMENTED),
            (lambda: stub.Upload(slow(), metadata=md("keep-2"), timeout=0.3), grpc.StatusCode.DEADLINE_EXCEEDED),
        ]
        good_push()
        try:
            for call, code in errors:
                expect_status(call, code)
                good_push()
        finally:
            release.set()
        assert channel_state_ok(channel)

    report = get_json(collector, "/v1/bandwidth")
    grpc_rows = [p for p in report["protocols"] if p["protocol"].startswith("grpc") or p["protocol"] == "h2c"]
    assert sum(p["connections"] for p in grpc_rows) == 1, \
        f"the channel's calls used more than one connection: {grpc_rows}"
    unary = next(p for p in grpc_rows if p["protocol"] == "grpc-unary")
    assert unary["readings"] == 3 * seq


def channel_state_ok(channel):
    """The channel is still READY (or IDLE) after all those errors."""
    ready = threading.Event()
    states = []

    def on_state(state):
        states.append(state)
        if state in (grpc.ChannelConnectivity.READY, grpc.ChannelConnectivity.IDLE):
            ready.set()

    channel.subscribe(on_state, try_to_connect=False)
    try:
        return ready.wait(2) or states
    finally:
        channel.unsubscribe(on_state)
