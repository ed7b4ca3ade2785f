"""The byte ledger against a packet capture: an oracle that is neither the collector nor the simulator.

tcpdump records every TCP segment on the loopback interface to and from the collector's port while a mixed fleet
(gRPC client streams, gRPC unary, REST JSON) runs, with curl over HTTP/1.1 and h2c, a refused request, gRPC Health
and reflection calls, a garbage connection, gRPC-Web calls written from the spec (test_grpc_web.py's clients: Push
over HTTP/1.1 in binary and text, two on one keep-alive connection, one over h2c, a refused one, a refused CORS
preflight) and three watchers (`device-sim watch`: one live from before the fleet, ended by the collector's
shutdown; one replaying everything after it, ended by SIGINT; and a gRPC-Web Watch over HTTP/1.1 from before the
fleet, streamed in chunks and ended by the shutdown with its trailer frame) beside it. The collector is
then stopped (it persists its counters at shutdown). The TCP payload bytes in the capture, per direction, must
equal the sums of `bytes_in` / `bytes_out` over every row of the persisted `bandwidth` table, to the byte, and the
TCP connections opened must equal the sum of `connections`; the watchers' bytes are in the `watch` rows.
Bytes are counted by TCP sequence numbers: loopback retransmits segments under load, and a retransmission is wire
traffic that no application-level count sees (found while writing this test: 9–45 bytes per run of this fleet).

Needs tcpdump (scripts/install-deps.sh installs it) and the right to capture (root or CAP_NET_RAW); skipped with
the reason otherwise.
"""

import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from fwtest import CHANNEL_OPTIONS, DEVICE_SIM_BIN, curl
from test_grpc_web import H1Watch, ack_of, batch_of, frame, h1_call, push_call, web_headers


def _start_capture(port: int, pcap: Path) -> subprocess.Popen:
    tcpdump = shutil.which("tcpdump")
    if tcpdump is None:
        pytest.skip("tcpdump is not installed (scripts/install-deps.sh test installs it)")
    # -U and --immediate-mode: write each packet as it comes (no block buffering to lose at the stop); -s 128:
    # headers are enough (lengths come from the IP header); -B: a large kernel buffer so nothing is dropped.
    proc = subprocess.Popen(
        [tcpdump, "-i", "lo", "-n", "-U", "--immediate-mode", "-s", "128", "-B", "32768", "-w", str(pcap),
         f"tcp port {port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    line = b""
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if b"listening on" in line:
            return proc
        if proc.poll() is not None:
            break
    proc.kill()
    pytest.skip(f"cannot capture on lo (needs root or CAP_NET_RAW): {line.decode(errors='replace').strip()}")


def _stop_capture(proc: subprocess.Popen) -> str:
    time.sleep(0.3)  # the last FINs and ACKs
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err.decode(errors="replace")


def _tcp_payload_by_direction(pcap: Path, port: int):
    """(bytes to the port, bytes from the port, connections opened to the port) from a pcap of Ethernet frames.

    Bytes are counted by TCP sequence numbers, not by summing segments, so a retransmitted segment (loopback does
    retransmit under load) counts once: per connection and direction, the highest sequence number a payload
    reached minus the initial one."""
    data = pcap.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    offset = 24
    start: dict[tuple, int] = {}  # (client port, direction) -> sequence number of the first payload byte
    end: dict[tuple, int] = {}  # (client port, direction) -> highest sequence number after a payload byte
    syns = 0
    while offset + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[offset:offset + 16])
        frame = data[offset + 16:offset + 16 + caplen]
        offset += 16 + caplen
        if len(frame) < 14 + 20 or struct.unpack("!H", frame[12:14])[0] != 0x0800:
            continue  # IPv4 only: the collector listens on 127.0.0.1
        ip = frame[14:]
        header = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        tcp = ip[header:]
        source, destination = struct.unpack("!HH", tcp[:4])
        sequence = struct.unpack("!I", tcp[4:8])[0]
        tcp_header = (tcp[12] >> 4) * 4
        flags = tcp[13]
        payload = total - header - tcp_header
        key = (source, "in") if destination == port else (destination, "out")
        if flags & 0x02:  # SYN: the first payload byte follows the initial sequence number
            start[key] = (sequence + 1) % 2**32
            end.setdefault(key, start[key])
            if destination == port and not flags & 0x10:
                syns += 1
        if payload > 0 and key in start:
            reached = (sequence + payload - start[key]) % 2**32
            end[key] = max(end[key], (start[key] + reached))
    counted = {key: end[key] - start[key] for key in start}
    to_port = sum(n for (_, direction), n in counted.items() if direction == "in")
    from_port = sum(n for (_, direction), n in counted.items() if direction == "out")
    return to_port, from_port, syns


def _grpc_web_calls(collector, proto) -> int:
    """gRPC-Web Pushes over HTTP/1.1 (binary, text, two on one keep-alive connection), one over h2c, a refused
    one and a refused CORS preflight; returns the readings they stored."""
    import http.client

    pb = proto.pb
    stored = 0
    for n, content_type in enumerate(("application/grpc-web+proto", "application/grpc-web-text")):
        batch, _ = batch_of(pb, 1, start=1_732_190_000_000 + n, count=20 + n)
        stored += ack_of(proto, push_call(collector, proto, f"pc-web-{n}", batch, content_type)).readings
    conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=10)
    try:
        for seq, content_type in ((2, "application/grpc-web"), (3, "application/grpc-web-text+proto")):
            batch, _ = batch_of(pb, seq, start=1_732_190_100_000 + seq * 100_000, count=30)
            stored += ack_of(proto, push_call(collector, proto, "pc-web-0", batch, content_type, conn=conn)).readings
    finally:
        conn.close()
    batch, _ = batch_of(pb, 1, count=7)
    stored += ack_of(proto, push_call(collector, proto, "pc-web-h2", batch, transport="h2")).readings
    refused = h1_call(collector, "Push", frame(b"grpc-status: 0\r\n", 0x80),
                      web_headers("application/grpc-web", "pc-web-0"))
    assert refused.trailers_only()[0] == 3
    preflight = curl(collector, "/telemetry.v1.Telemetry/Push", "-X", "OPTIONS",
                     "-H", "Origin: http://elsewhere.example", "-H", "Access-Control-Request-Method: POST")
    assert preflight.status == 403
    return stored


def test_the_ledger_equals_a_packet_capture_to_the_byte(start_collector, proto, tmp_path):
    collector = start_collector()
    pcap = tmp_path / "collector.pcap"
    capture = _start_capture(collector.port, pcap)
    watch_cmd = [str(DEVICE_SIM_BIN), "watch", "--target", f"http://127.0.0.1:{collector.port}"]
    live_out, live_err = tmp_path / "live.out", tmp_path / "live.err"
    replay_out, replay_err = tmp_path / "replay.out", tmp_path / "replay.err"
    with open(live_out, "wb") as out, open(live_err, "wb") as err:
        live = subprocess.Popen(watch_cmd, stdout=out, stderr=err)
    try:
        deadline = time.monotonic() + 10
        while "watching" not in live_err.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "watching" in live_err.read_text(), live_err.read_text()
        web_watch = H1Watch(collector, proto)
        fleet = subprocess.run(
            [str(DEVICE_SIM_BIN), "run", "--target", f"http://127.0.0.1:{collector.port}", "--devices", "12",
             "--protocol", "mixed", "--interval", "1s", "--batch", "10s", "--duration", "5m", "--max-rate",
             "--quiet"], capture_output=True, text=True, timeout=120)
        assert fleet.returncode == 0, fleet.stdout[-2000:] + fleet.stderr[-2000:]
        web_readings = _grpc_web_calls(collector, proto)
        assert web_readings == 20 + 21 + 30 + 30 + 7
        with open(replay_out, "wb") as out, open(replay_err, "wb") as err:
            replay = subprocess.Popen(watch_cmd + ["--since-ms", "1"], stdout=out, stderr=err)
        with sqlite3.connect(f"file:{collector.db}?mode=ro", uri=True) as db:
            stored = db.execute("SELECT SUM(readings) FROM devices").fetchone()[0]

        def lines(path):
            return len(path.read_text().splitlines())

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (lines(live_out) >= stored and lines(replay_out) >= stored):
            time.sleep(0.1)
        replay.send_signal(signal.SIGINT)
        assert replay.wait(timeout=10) == 0, replay_err.read_text()
        assert (lines(live_out), lines(replay_out)) == (stored, stored)
        assert len(web_watch.wait_for(stored)) == stored
        assert curl(collector, "/v1/bandwidth").status == 200
        assert curl(collector, "/v1/devices?limit=5", http2=True).status == 200
        refused = curl(collector, "/v1/devices/pc-1/readings", "-H", "Content-Type: text/plain", data="x")
        assert refused.status == 415
        with grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS) as channel:
            check = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
            assert check.status == health_pb2.HealthCheckResponse.SERVING
            assert "telemetry.v1.Telemetry" in ProtoReflectionDescriptorDatabase(channel).get_services()
        with socket.create_connection(("127.0.0.1", collector.port), timeout=5) as garbage:
            garbage.sendall(b"\x16\x03\x01 not a request\r\n\r\n")
            garbage.settimeout(5)
            while garbage.recv(4096):
                pass
        collector.stop()  # persists the counters; ends the live watcher with UNAVAILABLE
        assert live.wait(timeout=10) == 1
        assert "UNAVAILABLE" in live_err.read_text(), live_err.read_text()
        assert web_watch.wait_end()["grpc-status"] == "14"
        assert len(web_watch.rows) == stored
    finally:
        live.kill()
        if "web_watch" in locals():
            web_watch.close()
        report = _stop_capture(capture)
    assert re.search(r"^0 packets dropped by kernel", report, re.M), report
    captured_in, captured_out, opened = _tcp_payload_by_direction(pcap, collector.port)
    with sqlite3.connect(f"file:{collector.db}?mode=ro", uri=True) as db:
        ledger_in, ledger_out, connections = db.execute(
            "SELECT SUM(bytes_in), SUM(bytes_out), SUM(connections) FROM bandwidth").fetchone()
    assert captured_in > 100_000 and captured_out > 10_000, (captured_in, captured_out)
    assert (ledger_in, ledger_out) == (captured_in, captured_out)
    assert connections == opened
    with sqlite3.connect(f"file:{collector.db}?mode=ro", uri=True) as db:
        watch_calls, watch_out = db.execute(
            "SELECT SUM(calls), SUM(bytes_out) FROM bandwidth WHERE protocol = 'watch'").fetchone()
    assert watch_calls == 3 and watch_out > 10_000, (watch_calls, watch_out)
    with sqlite3.connect(f"file:{collector.db}?mode=ro", uri=True) as db:
        web = dict(((protocol, device), (calls, readings)) for protocol, device, calls, readings in db.execute(
            "SELECT protocol, device, SUM(calls), SUM(readings) FROM bandwidth WHERE protocol LIKE 'grpc-web%' "
            "GROUP BY protocol, device"))
    assert web.get(("grpc-web", "pc-web-0"), (0, 0))[1] == 20 + 30, web
    assert web.get(("grpc-web-text", "pc-web-1"), (0, 0))[1] == 21, web
    assert web.get(("grpc-web-text", "pc-web-0"), (0, 0))[1] == 30, web
    assert web.get(("grpc-web", "pc-web-h2"), (0, 0))[1] == 7, web
