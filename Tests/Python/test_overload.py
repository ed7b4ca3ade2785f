"""Storage overload: while another process holds the database's write lock the collector's writer waits (its busy
timeout is 5 s) and its bounded write queue (10,000 batches or 1,000,000 readings) fills; then gRPC answers
UNAVAILABLE and REST 503 with Retry-After. Nothing refused is stored, everything accepted is, and retries after
the lock is released are stored."""

import sqlite3
import time

import grpc

from fwtest import CALL_TIMEOUT, CHANNEL_OPTIONS, curl, db_batches, http_request, simple_batch, wait_until

T0 = 1_732_190_000_000
QUEUED_BATCHES = 10_000  # the collector's default write-queue bound


def test_overloaded_store_answers_unavailable_and_503(proto, collector):
    pb = proto.pb
    n = QUEUED_BATCHES + 100
    batches = [pb.Batch(seq=seq, series=[pb.Series(sensor="t", start_ms=T0 + seq, mantissa_deltas=[seq % 7 - 3])])
               for seq in range(1, n + 1)]
    lock = sqlite3.connect(str(collector.db), timeout=5, isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")  # the writer lock: the collector's writer now waits for it
        locked_at = time.monotonic()
        with grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS) as channel:
            stub = proto.grpc.TelemetryStub(channel)
            try:
                ack = stub.Upload(iter(batches), metadata=[("device-id", "ovl-up")], timeout=CALL_TIMEOUT)
                raise AssertionError(f"{n} batches acknowledged while the writer was blocked: {ack}")
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.UNAVAILABLE, (e.code(), e.details())
                assert "overloaded" in e.details(), e.details()

            # While the queue is full every new batch is refused, over gRPC and REST (HTTP/1.1 and h2c alike).
            probe, _ = simple_batch(pb, 1)
            try:
                stub.Push(probe, metadata=[("device-id", "ovl-push")], timeout=CALL_TIMEOUT)
                raise AssertionError("a Push was acknowledged while the write queue was full")
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.UNAVAILABLE and "overloaded" in e.details(), e
            body = {"seq": 1, "readings": [{"sensor": "t", "ts": T0, "value": 0.25}]}
            r = http_request(collector, "POST", "/v1/devices/ovl-rest/readings", body=body)
            assert r.status == 503, (r.status, r.body)
            assert r.headers.get("retry-after", "").isdigit(), r.headers
            assert r.json()["error"] == "unavailable" and "overloaded" in r.json()["message"], r.body
            r = curl(collector, "/v1/devices/ovl-rest/readings", "-H", "Content-Type: application/json",
                     data='{"seq": 2, "readings": []}', http2=True)
            assert (r.status, r.version) == (503, "2"), (r.status, r.body)
            assert r.headers.get("retry-after", "").isdigit(), r.headers
            assert time.monotonic() - locked_at < 4, "held the lock too long: the writer's busy timeout is 5 s"
    finally:
        lock.execute("ROLLBACK")
        lock.close()

    # The accepted batches are a prefix 1..k with k about the queue bound (plus what the writer had taken). The
    # store has one writer taking its queue in order, so once a batch queued after them is acknowledged (acks come
    # after the commit) all of them are committed; counting while the writer is still between two transactions
    # undercounted k under load.
    def probe_acknowledged():
        r = http_request(collector, "POST", "/v1/devices/ovl-probe/readings",
                         body={"seq": 1, "readings": [{"sensor": "t", "ts": T0, "value": 1.0}]})
        return r.status == 200

    wait_until(probe_acknowledged, timeout=10, interval=0.1, message="the queued batches committed")
    stored = db_batches(collector.db, "ovl-up")
    k = len(stored)
    print(f"accepted {k} of {n} batches before the queue was full")
    assert stored == [(seq, 1) for seq in range(1, k + 1)], "stored batches are not exactly the accepted prefix"
    assert QUEUED_BATCHES <= k < n, k
    assert db_batches(collector.db, "ovl-push") == [] and db_batches(collector.db, "ovl-rest") == []

    # Retries now succeed: the refused rest of the Upload, the Push, the REST post.
    with grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS) as channel:
        stub = proto.grpc.TelemetryStub(channel)
        ack = stub.Upload(iter(batches), metadata=[("device-id", "ovl-up")], timeout=CALL_TIMEOUT)
        assert (ack.batches, ack.readings, ack.duplicate_batches, ack.last_seq) == (n, n - k, k, n)
        ack = stub.Push(probe, metadata=[("device-id", "ovl-push")], timeout=CALL_TIMEOUT)
        assert (ack.readings, ack.duplicate_batches) == (3, 0)
    r = http_request(collector, "POST", "/v1/devices/ovl-rest/readings", body=body)
    assert r.status == 200 and r.json()["readings"] == 1
