"""Slow and hostile HTTP/1.1 clients: slowloris on the head and on the body, and a client that pipelines requests
without ever reading the responses. Each attack runs against a collector with short timeouts while a healthy device
keeps sending (HealthProbe); each checks the attacker is cut off, the device is served throughout, nothing of the
attacker is stored, and the collector's memory stays bounded (the RSS printed is recorded in the README)."""

import socket
import threading
import time

from fwtest import db_batches
from hostile import HealthProbe, RSSSampler, metric

TRICKLE_HEAD = b"POST /v1/devices/loris/readings HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"


def trickle(sock, data: bytes, every: float, stop: threading.Event) -> int:
    """Sends `data` one byte every `every` seconds until done, closed, or `stop`; returns bytes sent."""
    sent = 0
    for byte in data:
        if stop.is_set():
            break
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            break
        sent += 1
        stop.wait(every)
    return sent


def read_response(sock, timeout: float) -> bytes:
    """Everything the server sends until it closes (or `timeout`)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return data


def test_slowloris_head_gets_408_at_a_total_deadline_from_the_connection_opening(proto, start_collector):
    """Headers trickled one byte every 0.2 s (the whole head would take 16 s): 408 when the 2 s header deadline,
    counted from the connection's opening, passes; bytes arriving meanwhile do not extend it. The first byte waits
    1.2 s, so a deadline restarted by the first byte (the old behaviour) would answer at 3.2 s."""
    collector = start_collector("--header-timeout", "2s")
    stop = threading.Event()
    with RSSSampler(collector) as rss, HealthProbe(proto, collector) as probe:
        sock = socket.create_connection(("127.0.0.1", collector.port))
        opened = time.monotonic()
        time.sleep(1.2)
        sender = threading.Thread(target=trickle, args=(sock, TRICKLE_HEAD, 0.2, stop), daemon=True)
        sender.start()
        response = read_response(sock, timeout=10)
        answered = time.monotonic() - opened
        stop.set()
        sender.join(5)
        sock.close()
    assert response.startswith(b"HTTP/1.1 408 "), response[:200]
    assert b"no complete request head within 2000 ms" in response, response
    assert answered < 3.0, f"408 after {answered:.2f} s: the deadline was not counted from the opening"
    probe.assert_healthy()
    assert metric(collector, "fleetwire_timeouts_total", 'timeout="header"') == 1
    rss.report("slowloris head")


def test_three_hundred_slowloris_connections_all_get_408_and_cost_bounded_memory(proto, start_collector):
    collector = start_collector("--header-timeout", "1s")
    stop = threading.Event()
    socks = []
    with RSSSampler(collector) as rss, HealthProbe(proto, collector) as probe:
        for _ in range(300):
            s = socket.create_connection(("127.0.0.1", collector.port))
            s.sendall(b"GET /v1/devices HTTP/1.1\r\nHost: x\r\n")  # a head that never ends
            socks.append(s)
        responses = [read_response(s, timeout=10) for s in socks]
        stop.set()
    for s in socks:
        s.close()
    assert all(r.startswith(b"HTTP/1.1 408 ") for r in responses), [r[:40] for r in responses if r[:12] != b"HTTP/1.1 408"][:3]
    probe.assert_healthy()
    assert metric(collector, "fleetwire_timeouts_total", 'timeout="header"') == 300
    rss.report("300 slowloris connections")
    assert rss.growth < 64 * 1024, f"RSS grew {rss.growth} KiB for 300 stalled heads"


def test_slowloris_body_gets_408_at_the_request_deadline_and_nothing_is_stored(proto, start_collector):
    """A complete head announcing 600 body bytes, then the body one byte every 0.2 s (it would take 2 minutes):
    408 naming the body once the 1 s request deadline passes; nothing of it is stored."""
    collector = start_collector("--request-timeout", "1s")
    body = b'{"seq": 1, "readings": [' + b'{"sensor": "t", "ts": 1732190000000, "value": 1.0}, ' * 10 + b"]}"
    head = TRICKLE_HEAD + b"Content-Length: %d\r\n\r\n" % len(body)
    stop = threading.Event()
    with RSSSampler(collector) as rss, HealthProbe(proto, collector) as probe:
        sock = socket.create_connection(("127.0.0.1", collector.port))
        sock.sendall(head)
        started = time.monotonic()
        sender = threading.Thread(target=trickle, args=(sock, body, 0.2, stop), daemon=True)
        sender.start()
        response = read_response(sock, timeout=10)
        answered = time.monotonic() - started
        stop.set()
        sender.join(5)
        sock.close()
    assert response.startswith(b"HTTP/1.1 408 "), response[:200]
    assert b"request body not complete within 1000 ms" in response, response
    assert answered < len(body) * 0.2 / 2, "answered only after most of the body had trickled in"
    assert db_batches(collector.db, "loris") == []
    assert metric(collector, "fleetwire_timeouts_total", 'timeout="request"') == 1
    assert metric(collector, "fleetwire_buffered_request_bytes") == 0, "the partial body was released"
    probe.assert_healthy()
    rss.report("slowloris body")


def test_a_slow_but_steady_body_within_the_deadline_is_stored(start_collector):
    """The body deadline is not an idle timeout: a body sent in pieces 0.2 s apart within the 3 s deadline is
    accepted (the other side of the slowloris tests)."""
    collector = start_collector("--request-timeout", "3s")
    body = b'{"seq": 1, "readings": [{"sensor": "t", "ts": 1732190000000, "value": 1.0}]}'
    sock = socket.create_connection(("127.0.0.1", collector.port))
    sock.sendall(b"POST /v1/devices/steady/readings HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
    for i in range(0, len(body), 16):
        sock.sendall(body[i:i + 16])
        time.sleep(0.2)
    response = read_response(sock, timeout=10)
    sock.close()
    assert response.startswith(b"HTTP/1.1 200 "), response[:300]
    assert db_batches(collector.db, "steady") == [(1, 1)]


def test_pipelining_without_reading_the_responses_is_paused_then_closed_by_the_write_timeout(proto, start_collector):
    """A client pipelines requests for a 0.6 MB response and never reads: the collector answers one at a time, stops
    reading once a response waits unread (the rest of the requests stay in the kernel's buffers, not ours), and
    closes the connection when no byte has been taken for the 1 s write timeout. RSS stays bounded."""
    import http.client
    import json
    collector = start_collector("--write-timeout", "1s")
    # A device with 10,000 readings: each GET of its readings answers about 0.6 MB of JSON.
    rows = [{"sensor": "t", "ts": 1_732_190_000_000 + i, "value": i * 0.5} for i in range(10_000)]
    conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=10)
    conn.request("POST", "/v1/devices/big/readings", body=json.dumps({"seq": 1, "readings": rows}),
                 headers={"Content-Type": "application/json"})
    assert conn.getresponse().status == 200
    conn.close()
    calls_before = metric(collector, "fleetwire_calls_total", 'protocol="query"')
    request = b"GET /v1/devices/big/readings?limit=10000 HTTP/1.1\r\nHost: t\r\n\r\n"
    with RSSSampler(collector) as rss, HealthProbe(proto, collector) as probe:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", collector.port))
        sock.settimeout(0.5)
        sent = 0
        started = time.monotonic()
        closed = False
        while not closed and time.monotonic() - started < 20:
            try:
                sock.sendall(request * 500)
                sent += 500
            except socket.timeout:
                pass  # both sides' kernel buffers are full: the collector stopped reading
            except (BrokenPipeError, ConnectionResetError):
                closed = True
        elapsed = time.monotonic() - started
        sock.close()
    answered = metric(collector, "fleetwire_calls_total", 'protocol="query"') - calls_before
    assert closed, f"still open after {elapsed:.1f} s and about {sent} requests sent"
    # The kernel's socket buffers (a few MB on loopback) take a handful of responses before ours holds one.
    assert answered <= 20, f"the collector kept reading and answered {answered} of the pipelined requests"
    assert metric(collector, "fleetwire_timeouts_total", 'timeout="write"') == 1
    probe.assert_healthy()
    rss.report(f"never-reading HTTP/1.1 client ({sent} pipelined requests sent, {answered:.0f} answered)")
    assert rss.growth < 64 * 1024, f"RSS grew {rss.growth} KiB"


def test_bodies_being_read_share_the_request_buffer_budget(proto, start_collector):
    """With 64 KiB for partially received requests, two clients each halfway through a 60 KB body: the second one
    to pass the budget gets 503 with Retry-After at once (instead of being buffered), the first completes normally
    once it sends the rest, and the budget is empty afterwards."""
    collector = start_collector("--max-buffered-request-bytes", str(64 << 10))
    rows = ", ".join('{"sensor": "t", "ts": %d, "value": 1.0}' % (1_732_190_000_000 + i) for i in range(1200))
    body = ('{"seq": 1, "readings": [%s]}' % rows).encode()
    assert 50_000 < len(body) < 64 << 10
    head = b"POST /v1/devices/%s/readings HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" \
           b"Content-Length: %d\r\nConnection: close\r\n\r\n"
    with HealthProbe(proto, collector) as probe:
        first = socket.create_connection(("127.0.0.1", collector.port))
        first.sendall(head % (b"budget-1", len(body)) + body[:40_000])
        time.sleep(0.3)
        assert metric(collector, "fleetwire_buffered_request_bytes") == 40_000
        second = socket.create_connection(("127.0.0.1", collector.port))
        second.sendall(head % (b"budget-2", len(body)) + body[:40_000])
        refused = read_response(second, timeout=5)
        second.close()
        first.sendall(body[40_000:])
        accepted = read_response(first, timeout=5)
        first.close()
    assert refused.startswith(b"HTTP/1.1 503 "), refused[:200]
    assert b"retry-after: 1" in refused.lower() and b"would exceed 65536 bytes" in refused, refused
    assert accepted.startswith(b"HTTP/1.1 200 "), accepted[:200]
    assert db_batches(collector.db, "budget-1") == [(1, 1200)] and db_batches(collector.db, "budget-2") == []
    assert metric(collector, "fleetwire_buffered_request_bytes") == 0
    probe.assert_healthy()
