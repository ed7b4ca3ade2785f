"""Connection limits and idle connections: one address taking its share and no more, the total limit protecting
the process (descriptors and memory) when thousands of idle connections arrive, and idle HTTP/1.1 and h2c
connections closed at the idle timeout so their slots come back. A healthy device keeps sending throughout (from
another loopback address where 127.0.0.1's slots are exhausted)."""

import socket
import time

from fwtest import wait_until
from hostile import HealthProbe, RSSSampler, metric, open_descriptors

H2_PREFACE_AND_SETTINGS = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])


def connect(collector, source="127.0.0.1"):
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", collector.port))
    return s


def closed_by_server(s, timeout: float = 5.0) -> bool:
    """True when the server closes the socket (EOF or reset) within `timeout`, having sent nothing."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def reaches_eof(s, timeout: float) -> bool:
    """Reads whatever the server sent; True when it then closed the connection (EOF or reset)."""
    s.settimeout(timeout)
    try:
        while s.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_one_address_gets_its_share_and_other_addresses_are_still_served(proto, start_collector):
    collector = start_collector("--max-connections-per-address", "20")
    held = [connect(collector) for _ in range(20)]
    try:
        # 21: /metrics is read on a connection of its own (from 127.0.0.9), which counts too.
        wait_until(lambda: metric(collector, "fleetwire_open_sockets") == 21, message="20 connections admitted")
        with RSSSampler(collector) as rss, HealthProbe(proto, collector, source="127.0.0.2") as probe:
            extra = [connect(collector) for _ in range(30)]
            assert all(closed_by_server(s) for s in extra), "a connection over the per-address limit stayed open"
            for s in extra:
                s.close()
            time.sleep(0.5)
        probe.assert_healthy()
        assert metric(collector, "fleetwire_connections_refused_total", 'limit="per_address"') == 30
        assert metric(collector, "fleetwire_connections_refused_total", 'limit="total"') == 0
        wait_until(lambda: "over --max-connections-per-address 20 (latest from 127.0.0.1)" in collector.log(),
                   timeout=5, message="the refusal log line")
        assert collector.log().count("refused connections:") == 1, "the refusal log is throttled"
        # Slots come back when connections close.
        for s in held[:5]:
            s.close()
        wait_until(lambda: metric(collector, "fleetwire_open_sockets") == 16, message="closed slots released")
        fresh = connect(collector)
        fresh.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        fresh.settimeout(5)
        assert fresh.recv(100).startswith(b"HTTP/1.1 200"), "a new connection from 127.0.0.1 is served again"
        fresh.close()
        rss.report("per-address limit")
    finally:
        for s in held:
            s.close()


def test_total_limit_protects_the_process_from_thousands_of_idle_connections(proto, start_collector):
    """3,000 idle h2c connections (preface and SETTINGS, then nothing) against --max-connections 2000: 2,000 are
    held, 1,000 refused at accept; the collector's descriptors and memory stay bounded; at the 3 s idle timeout
    all are closed (GOAWAY first) and a healthy device is served again."""
    collector = start_collector("--max-connections", "2000", "--max-connections-per-address", "5000",
                                "--idle-timeout", "3s")
    descriptors_before = open_descriptors(collector)
    socks = []
    with RSSSampler(collector) as rss:
        for i in range(3000):
            s = connect(collector)
            s.sendall(H2_PREFACE_AND_SETTINGS)
            socks.append(s)
        # While every slot is taken even /metrics is refused: watch the process and the clients instead.
        refused = sum(closed_by_server(s, timeout=0.001) for s in socks)
        held_descriptors = open_descriptors(collector) - descriptors_before
        held_rss = rss.peak
        # Every slot is idle until the idle timeout frees it.
        wait_until(lambda: open_descriptors(collector) <= descriptors_before, timeout=15,
                   message="idle connections closed")
    assert refused == 1000, f"{refused} connections were closed at once, expected the 1,000 over the limit"
    assert held_descriptors <= 2000, held_descriptors
    closed = sum(reaches_eof(s, timeout=0.5) for s in socks)
    for s in socks:
        s.close()
    assert closed == 3000, f"{3000 - closed} connections still open after the idle timeout"
    with HealthProbe(proto, collector) as probe:
        time.sleep(0.5)
    probe.assert_healthy()
    assert metric(collector, "fleetwire_connections_refused_total", 'limit="total"') == 1000
    assert metric(collector, "fleetwire_timeouts_total", 'timeout="idle"') == 2000
    line = rss.report("2,000 idle h2c connections held (1,000 refused)")
    print(f"{line}; {(held_rss - rss.baseline) * 1024 / 2000:.0f} bytes per held connection")
    assert rss.growth < 64 * 1024


def test_idle_http1_keep_alive_and_h2c_connections_are_closed_at_the_idle_timeout(start_collector):
    collector = start_collector("--idle-timeout", "1s")
    http1 = connect(collector)
    http1.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert http1.recv(1000).startswith(b"HTTP/1.1 200")
    h2c = connect(collector)
    h2c.sendall(H2_PREFACE_AND_SETTINGS)
    started = time.monotonic()
    assert closed_by_server(http1, timeout=5), "the idle keep-alive connection stayed open"
    h2c.settimeout(5)
    data = b""
    while True:
        chunk = h2c.recv(4096)
        if not chunk:
            break
        data += chunk
    elapsed = time.monotonic() - started
    for s in (http1, h2c):
        s.close()
    assert b"idle timeout" in data, "no GOAWAY with the idle timeout's debug text before the h2c close"
    assert elapsed >= 0.9, elapsed
    assert metric(collector, "fleetwire_timeouts_total", 'timeout="idle"') == 2
