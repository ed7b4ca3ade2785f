"""Hostile HTTP/2 clients, frame by frame with the `h2` package: rapid reset (CVE-2023-44487), PING and SETTINGS
floods, a client that never reads (with a PING trickle and with large responses), streams that never send
END_STREAM (an open Upload that sends nothing, half a gRPC message), more streams than allowed, and partial messages
past the memory limits. Each attack runs while a healthy device keeps sending (HealthProbe) and samples the
collector's RSS; each checks the attacker is cut off, the device is served throughout, and no store work was done
for calls that never completed."""

import time

import h2.events
import h2.exceptions

from fwtest import db_batches, simple_batch
from hostile import (ENHANCE_YOUR_CALM, PUSH, UPLOAD, HealthProbe, RawH2, RSSSampler, frame, grpc_frame,
                     grpc_headers, metric, ping)


def stream_reset_codes(client: RawH2) -> dict:
    return {e.stream_id: e.error_code for e in client.events if isinstance(e, h2.events.StreamReset)}


def test_rapid_reset_is_answered_with_enhance_your_calm_and_costs_no_store_work(proto, start_collector):
    """1,000 × (HEADERS of a Push, then RST_STREAM) in one write: GOAWAY(ENHANCE_YOUR_CALM) after the reset
    budget (100), the connection closes, nothing is stored for the attacker, and the healthy device is served."""
    collector = start_collector()
    commits_before = metric(collector, "fleetwire_batches_total", 'protocol="grpc-unary"')
    with RSSSampler(collector) as rss, HealthProbe(proto, collector) as probe:
        client = RawH2(collector)
        for _ in range(1000):
            sid = client.h2.get_next_available_stream_id()
            client.h2.send_headers(sid, grpc_headers(collector, PUSH, "rapid"))
            client.h2.reset_stream(sid)
        try:
            client.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert client.wait_closed(), "the connection stayed open"
        client.close()
        time.sleep(0.3)
    goaway = client.goaway()
    assert goaway is not None and goaway.error_code == ENHANCE_YOUR_CALM, client.events[-3:]
    assert goaway.last_stream_id <= 2 * 101, goaway.last_stream_id
    assert metric(collector, "fleetwire_http2_floods_total", 'reason="stream_resets"') == 1
    assert db_batches(collector.db, "rapid") == []
    probe.assert_healthy()
    # The only grpc-unary batches committed are the healthy device's.
    committed = metric(collector, "fleetwire_batches_total", 'protocol="grpc-unary"') - commits_before
    assert committed == len([s for s in probe.seqs if s % 2 == 1]), (committed, probe.seqs)
    assert "too many stream resets (rapid reset)" in collector.log()
    rss.report("rapid reset")


def test_rapid_reset_after_a_whole_push_message_stores_nothing(proto, start_collector):
    """The variant that carries a complete Push message before each reset (but never END_STREAM): the message is
    decoded, but a unary call is submitted only at END_STREAM, so nothing is stored and the held bytes are freed."""
    collector = start_collector()
    message = grpc_frame(simple_batch(proto.pb, 7)[0].SerializeToString())
    client = RawH2(collector)
    for _ in range(300):
        sid = client.h2.get_next_available_stream_id()
        client.h2.send_headers(sid, grpc_headers(collector, PUSH, "rapid-data"))
        client.h2.send_data(sid, message)
        client.h2.reset_stream(sid)
    try:
        client.flush()
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert client.wait_closed()
    client.close()
    assert client.goaway().error_code == ENHANCE_YOUR_CALM
    time.sleep(0.3)
    assert db_batches(collector.db, "rapid-data") == []
    assert metric(collector, "fleetwire_buffered_request_bytes") == 0


def test_ping_flood_is_answered_with_enhance_your_calm(proto, start_collector):
    collector = start_collector()
    with RSSSampler(collector) as rss, HealthProbe(proto, collector) as probe:
        client = RawH2(collector)
        try:
            client.send_raw(b"".join(ping(i) for i in range(100_000)))  # 1.7 MB of PINGs
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed while we were still sending: fine
        assert client.wait_closed()
        client.close()
        time.sleep(0.3)
    goaway = client.goaway()
    assert goaway is not None and goaway.error_code == ENHANCE_YOUR_CALM, client.events[-3:]
    acks = [e for e in client.events if isinstance(e, h2.events.PingAckReceived)]
    assert len(acks) <= 100, f"{len(acks)} PING ACKs: more than the burst"
    assert metric(collector, "fleetwire_http2_floods_total", 'reason="control_frames"') == 1
    probe.assert_healthy()
    rss.report("PING flood")


def test_settings_flood_and_an_oversized_settings_frame_are_refused(proto, start_collector):
    collector = start_collector()
    with RSSSampler(collector) as rss, HealthProbe(proto, collector) as probe:
        # 10,000 SETTINGS frames (each one demands an ACK).
        flood = RawH2(collector)
        entry = (4).to_bytes(2, "big") + (65_535).to_bytes(4, "big")  # INITIAL_WINDOW_SIZE
        try:
            flood.send_raw(frame(4, 0, 0, entry) * 10_000)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert flood.wait_closed()
        flood.close()
        # One SETTINGS frame with 100 entries (the limit is 32).
        wide = RawH2(collector)
        wide.send_raw(frame(4, 0, 0, entry * 100))
        assert wide.wait_closed()
        wide.close()
        time.sleep(0.3)
    assert flood.goaway() is not None and flood.goaway().error_code == ENHANCE_YOUR_CALM
    assert wide.goaway() is not None and wide.goaway().error_code == ENHANCE_YOUR_CALM
    assert metric(collector, "fleetwire_http2_floods_total", 'reason="control_frames"') == 1
    probe.assert_healthy()
    rss.report("SETTINGS flood")


def test_a_client_that_pings_within_the_budget_is_left_alone(start_collector):
    """The other side of the flood tests: 30 PINGs 60 ms apart (a keepalive-happy client, within the budget) keep
    the connection open and every PING is answered."""
    collector = start_collector()
    client = RawH2(collector)
    for i in range(30):
        client.h2.ping(i.to_bytes(8, "big"))
        client.flush()
        time.sleep(0.06)
    client.read(timeout=1.0)
    client.close()
    acks = [e for e in client.events if isinstance(e, h2.events.PingAckReceived)]
    assert len(acks) == 30 and client.goaway() is None and not client.closed


def test_never_reading_client_with_ping_trickle_and_large_responses_is_closed_by_the_write_timeout(
        proto, start_collector):
    """A client opens its flow-control windows wide, asks for 0.6 MB responses on many streams and PINGs now and
    then (under the flood budget), but never reads: the collector runs no more queries once 1 MiB of answers wait
    unread (503 instead) and stops reading from it while its output waits, so neither responses nor PING ACKs pile
    up in its memory, and closes it after the 1 s write timeout."""
    import http.client
    import json
    collector = start_collector("--write-timeout", "1s")
    rows = [{"sensor": "t", "ts": 1_732_190_000_000 + i, "value": i * 0.5} for i in range(10_000)]
    conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=10)
    conn.request("POST", "/v1/devices/big/readings", body=json.dumps({"seq": 1, "readings": rows}),
                 headers={"Content-Type": "application/json"})
    assert conn.getresponse().status == 200
    conn.close()
    calls_before = metric(collector, "fleetwire_calls_total", 'protocol="query"')
    with RSSSampler(collector) as rss, HealthProbe(proto, collector) as probe:
        client = RawH2(collector, window=2**31 - 1, receive_buffer=4096)
        started = time.monotonic()
        closed = False
        n = 0
        while not closed and time.monotonic() - started < 20:
            try:
                for _ in range(20):
                    sid = client.h2.get_next_available_stream_id()
                    client.h2.send_headers(sid, [(":method", "GET"), (":scheme", "http"),
                                                 (":path", "/v1/devices/big/readings?limit=10000"),
                                                 (":authority", collector.address)], end_stream=True)
                client.h2.ping(n.to_bytes(8, "big"))
                n += 1
                client.sock.settimeout(0.5)
                client.flush()
            except h2.exceptions.TooManyStreamsError:
                client.h2.ping(n.to_bytes(8, "big"))
                n += 1
                try:
                    client.flush()
                except TimeoutError:
                    pass
            except TimeoutError:
                pass  # the collector stopped reading
            except (BrokenPipeError, ConnectionResetError):
                closed = True
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        client.close()
    answered = metric(collector, "fleetwire_calls_total", 'protocol="query"') - calls_before
    refused = metric(collector, "fleetwire_errors_total", 'transport="http",code="503"')
    assert closed, f"still open after {elapsed:.1f} s"
    assert metric(collector, "fleetwire_timeouts_total", 'timeout="write"') == 1
    # Queries stop being run once 1 MiB of answers wait unread (after the kernel's socket buffers, a few MB on
    # loopback, took what they could): the rest of the requests get a short 503.
    assert refused > 0 and answered - refused <= 20, (answered, refused)
    probe.assert_healthy()
    rss.report(f"never-reading h2 client ({n} PINGs, {answered - refused:.0f} of {answered:.0f} queries run)")
    assert rss.growth < 128 * 1024, f"RSS grew {rss.growth} KiB"


def test_upload_left_open_and_half_a_message_are_answered_at_the_stream_idle_timeout(proto, start_collector):
    """An Upload that sends nothing after its HEADERS, one that sends half a message and a REST POST that sends
    half its body, on a connection kept busy by a fourth stream that sends a batch every 0.4 s: the three quiet
    streams are answered (gRPC UNAVAILABLE naming the idle time, REST 408) and reset after the 1.5 s stream idle
    timeout, and their buffers are freed; the busy one is acknowledged."""
    collector = start_collector("--stream-idle-timeout", "1500ms")
    batches = [simple_batch(proto.pb, seq, start_ms=1_732_190_000_000 + seq * 10_000)[0] for seq in range(1, 9)]
    half = grpc_frame(batches[0].SerializeToString())
    with RSSSampler(collector) as rss, HealthProbe(proto, collector) as probe:
        client = RawH2(collector)
        silent = client.h2.get_next_available_stream_id()
        client.h2.send_headers(silent, grpc_headers(collector, UPLOAD, "silent"))
        partial = client.h2.get_next_available_stream_id()
        client.h2.send_headers(partial, grpc_headers(collector, UPLOAD, "partial"))
        client.h2.send_data(partial, half[:len(half) // 2])
        rest = client.h2.get_next_available_stream_id()
        client.h2.send_headers(rest, [(":method", "POST"), (":scheme", "http"), (":authority", collector.address),
                                      (":path", "/v1/devices/rest-partial/readings"),
                                      ("content-type", "application/json")])
        client.h2.send_data(rest, b'{"seq": 1, "readings": [')
        busy = client.h2.get_next_available_stream_id()
        client.h2.send_headers(busy, grpc_headers(collector, UPLOAD, "busy"))
        client.flush()
        time.sleep(0.3)
        held = metric(collector, "fleetwire_buffered_request_bytes")
        for batch in batches:  # 8 × 0.4 s = 3.2 s: more than twice the stream idle timeout
            client.h2.send_data(busy, grpc_frame(batch.SerializeToString()))
            client.flush()
            client.read(timeout=0.4)
        client.h2.end_stream(busy)
        client.flush()
        client.read(until=lambda evs: any(isinstance(e, h2.events.StreamEnded) and e.stream_id == busy for e in evs))
        client.close()
    assert held == len(half) // 2 + len(b'{"seq": 1, "readings": ['), f"the partial requests were not counted: {held}"
    assert client.trailers(rest).get(":status") == "408", client.trailers(rest)
    for sid in (silent, partial):
        fields = client.trailers(sid)
        assert fields.get("grpc-status") == "14", (sid, fields)
        assert "no request data on the stream for 1500 ms" in fields.get("grpc-message", ""), fields
    assert client.trailers(busy).get("grpc-status") == "0", client.trailers(busy)
    assert [s for s, _ in db_batches(collector.db, "busy")] == list(range(1, 9))
    assert db_batches(collector.db, "partial") == [] and db_batches(collector.db, "silent") == []
    assert metric(collector, "fleetwire_timeouts_total", 'timeout="stream_idle"') == 3
    assert metric(collector, "fleetwire_buffered_request_bytes") == 0
    probe.assert_healthy()
    rss.report("idle streams")


def test_streams_beyond_the_concurrency_limit_are_refused(proto, start_collector):
    """150 Uploads opened at once on one connection (raw HEADERS frames: h2 itself would respect the limit): 100
    are accepted (max concurrent streams), the other 50 are refused with REFUSED_STREAM; the connection stays
    open and the healthy device is served."""
    import hpack
    import socket
    collector = start_collector()
    with HealthProbe(proto, collector) as probe:
        sock = socket.create_connection(("127.0.0.1", collector.port))
        encoder = hpack.Encoder()
        out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0)
        ids = list(range(1, 301, 2))
        for sid in ids:
            out += frame(1, 0x4, sid, encoder.encode(grpc_headers(collector, UPLOAD, "many")))  # END_HEADERS
        sock.sendall(out)
        frames = read_frames(sock, timeout=1.5)
        sock.close()
    refused = {sid for (kind, _, sid, payload) in frames if kind == 3 and int.from_bytes(payload, "big") == 7}
    assert refused == set(ids[100:]), sorted(refused)[:5]
    assert not [f for f in frames if f[0] == 7], "refusing streams is not a reason to close the connection"
    probe.assert_healthy()


def read_frames(sock, timeout: float) -> list:
    """Raw frames (type, flags, stream id, payload) read until `timeout` passes or the peer closes."""
    sock.settimeout(0.1)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        if not chunk:
            break
        data += chunk
    frames, offset = [], 0
    while offset + 9 <= len(data):
        length = int.from_bytes(data[offset:offset + 3], "big")
        kind, flags = data[offset + 3], data[offset + 4]
        sid = int.from_bytes(data[offset + 5:offset + 9], "big") & 0x7FFF_FFFF
        frames.append((kind, flags, sid, data[offset + 9:offset + 9 + length]))
        offset += 9 + length
    return frames


def test_partial_messages_are_bounded_per_connection_and_process_wide(proto, start_collector):
    """Streams that each send part of a 4 MiB message (the largest allowed): one connection may hold 4 MiB of
    partial messages (RESOURCE_EXHAUSTED beyond), all connections together 6 MiB here (UNAVAILABLE beyond); a reset
    frees a stream's share at once; small whole messages (the healthy device) are never buffered and keep being
    served."""
    collector = start_collector("--max-buffered-request-bytes", str(6 << 20))
    size = 4 << 20
    prefix = b"\x00" + size.to_bytes(4, "big")
    piece = b"\x00" * (1 << 20)
    with RSSSampler(collector) as rss, HealthProbe(proto, collector) as probe:
        first = RawH2(collector)
        a = first.h2.get_next_available_stream_id()
        first.h2.send_headers(a, grpc_headers(collector, UPLOAD, "big-a"))
        first.send_body(a, prefix + piece * 2)  # 2 MiB held
        b = first.h2.get_next_available_stream_id()
        first.h2.send_headers(b, grpc_headers(collector, UPLOAD, "big-b"))
        first.send_body(b, prefix + piece * 2)  # past 4 MiB on this connection
        first.read(timeout=2.0, until=lambda evs: first.trailers(b))
        assert first.trailers(b).get("grpc-status") == "8", first.trailers(b)  # RESOURCE_EXHAUSTED
        assert "on this connection would exceed 4194304 bytes" in first.trailers(b).get("grpc-message", "")
        assert metric(collector, "fleetwire_buffered_request_bytes") == 2 * (1 << 20) + 5

        second = RawH2(collector)
        c = second.h2.get_next_available_stream_id()
        second.h2.send_headers(c, grpc_headers(collector, UPLOAD, "big-c"))
        second.send_body(c, prefix + piece * 3)  # 3 MiB: within its own share; 5 MiB in all
        third = RawH2(collector)
        d = third.h2.get_next_available_stream_id()
        third.h2.send_headers(d, grpc_headers(collector, UPLOAD, "big-d"))
        third.send_body(d, prefix + piece * 2)  # past the process-wide 6 MiB
        third.read(timeout=2.0, until=lambda evs: third.trailers(d))
        assert third.trailers(d).get("grpc-status") == "14", third.trailers(d)  # UNAVAILABLE
        assert "on all connections would exceed 6291456 bytes; retry" in third.trailers(d).get("grpc-message", "")
        assert metric(collector, "fleetwire_buffered_request_bytes") <= 6 << 20

        first.h2.reset_stream(a)
        first.flush()
        second.h2.reset_stream(c)
        second.flush()
        time.sleep(0.3)
        assert metric(collector, "fleetwire_buffered_request_bytes") == 0, "a reset frees the stream's share"
        for client in (first, second, third):
            client.close()
    probe.assert_healthy()
    rss.report("partial messages at the limits")


def test_idle_h2_connections_get_goaway_at_the_idle_timeout(start_collector):
    collector = start_collector("--idle-timeout", "1s")
    client = RawH2(collector)
    assert client.wait_closed(timeout=5)
    goaway = client.goaway()
    assert goaway is not None and goaway.error_code == 0, client.events
    client.close()
    assert metric(collector, "fleetwire_timeouts_total", 'timeout="idle"') >= 1
