#!/usr/bin/env python3
"""Regenerates the fuzz seed corpora (Tests/Fuzz/corpus/<harness>/) from real traffic.

Starts the debug collector on a scratch database, puts a recording TCP proxy in front of it, and sends real
traffic through the proxy: two device-sim fleets (gRPC client streams, gRPC unary and REST JSON) and a few curl
and raw-socket requests for what the simulator never sends (chunked bodies, Expect: 100-continue, HTTP/1.0,
HEAD, pipelining, queries). The recorded bytes are cut into seeds:

  http1          each connection's request bytes and response bytes, cut at message boundaries (≤ 4 KiB)
  json           the REST ingest bodies
  grpc-deframer  the DATA payload of each HTTP/2 stream, both directions (framed gRPC messages)
  protobuf       each gRPC request message (Batch) and response message (Ack)

Every curl and raw-socket seed is kept; the fleets' seeds fill up to a few dozen per harness, spread over their
sizes. Run from the repository root after
`swift build`:  python3 Tests/Fuzz/capture_corpus.py
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "Python"))
from fwtest import Collector  # noqa: E402

SIM = ROOT / ".build" / "debug" / "device-sim"
CORPUS = ROOT / "Tests" / "Fuzz" / "corpus"
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
MAX_SEED = 4096
PER_HARNESS = {"http1": 32, "json": 24, "grpc-deframer": 24, "protobuf": 32}


class RecordingProxy:
    """Forwards every connection to the collector and keeps each direction's bytes."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections: list[dict[str, bytearray]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            record = {"up": bytearray(), "down": bytearray()}
            with self.lock:
                self.connections.append(record)
            threading.Thread(target=self._pump, args=(client, upstream, record["up"]), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, record["down"]), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, log: bytearray):
        try:
            while data := source.recv(65536):
                log.extend(data)
                sink.sendall(data)
        except OSError:
            pass
        for s in (sink, source):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.listener.close()


def h2_stream_data(data: bytes) -> dict[int, bytes]:
    """The DATA payloads of each stream in one direction of an h2c connection (padding removed)."""
    if data.startswith(H2_PREFACE):
        data = data[len(H2_PREFACE):]
    streams: dict[int, bytearray] = {}
    offset = 0
    while offset + 9 <= len(data):
        length = int.from_bytes(data[offset:offset + 3], "big")
        frame_type, flags = data[offset + 3], data[offset + 4]
        stream = int.from_bytes(data[offset + 5:offset + 9], "big") & 0x7FFF_FFFF
        payload = data[offset + 9:offset + 9 + length]
        offset += 9 + length
        if frame_type != 0 or len(payload) < length:
            continue
        if flags & 0x08:  # PADDED
            pad = payload[0]
            payload = payload[1:len(payload) - pad]
        streams.setdefault(stream, bytearray()).extend(payload)
    return {k: bytes(v) for k, v in streams.items() if v}


def grpc_messages(stream: bytes) -> list[bytes]:
    out, offset = [], 0
    while offset + 5 <= len(stream):
        length = int.from_bytes(stream[offset + 1:offset + 5], "big")
        out.append(stream[offset + 5:offset + 5 + length])
        offset += 5 + length
    return out


def http1_messages(data: bytes) -> list[tuple[bytes, bytes]]:
    """(whole message, body) for each message in one direction, framed by Content-Length or chunked coding."""
    out, offset = [], 0
    while offset < len(data):
        end = data.find(b"\r\n\r\n", offset)
        if end < 0:
            break
        head = data[offset:end + 4]
        fields = {}
        for line in head.split(b"\r\n")[1:]:
            if b":" in line:
                name, value = line.split(b":", 1)
                fields[name.strip().lower()] = value.strip()
        body_start = end + 4
        if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
            body, cursor = bytearray(), body_start
            while True:
                line_end = data.find(b"\r\n", cursor)
                size = int(data[cursor:line_end].split(b";")[0], 16)
                cursor = line_end + 2
                if size == 0:
                    cursor = data.find(b"\r\n\r\n", cursor - 2) + 4
                    break
                body += data[cursor:cursor + size]
                cursor += size + 2
            message_end = cursor
            body = bytes(body)
        else:
            length = int(fields.get(b"content-length", b"0"))
            if head.startswith(b"HTTP/1.1 1") or head.startswith(b"HEAD ") or head.startswith(b"HTTP/1.1 204"):
                length = 0
            message_end = body_start + length
            body = data[body_start:message_end]
        out.append((data[offset:message_end], body))
        offset = message_end
    return out


def pack(messages: list[bytes], limit: int = MAX_SEED) -> list[bytes]:
    """Consecutive messages of one connection grouped into seeds of at most `limit` bytes (a longer single
    message is cut), so seeds keep real pipelining and keep-alive sequences."""
    seeds, current = [], b""
    for message in messages:
        if current and len(current) + len(message) > limit:
            seeds.append(current)
            current = b""
        current += message
    if current:
        seeds.append(current)
    return [s[:limit] for s in seeds]


def spread(seeds: list[bytes], count: int) -> list[bytes]:
    """Distinct seeds, at most `count`, spread evenly over their sizes."""
    unique = sorted(set(s for s in seeds if s), key=lambda s: (len(s), s))
    if len(unique) <= count:
        return unique
    step = (len(unique) - 1) / (count - 1)
    return [unique[round(i * step)] for i in range(count)]


def extra_http_traffic(port: int, workdir: Path):
    """Requests the simulator never makes, sent by curl and a raw socket through the proxy."""
    base = f"http://127.0.0.1:{port}"
    body = b'{"seq": 1, "readings": [{"sensor": "temperature", "ts": 1732190000123, "value": 21.54}, ' \
           b'{"sensor": "humidity", "ts": 1732190000123, "value": -0.5e1}]}'
    (workdir / "body.json").write_bytes(body)
    json_type = ["-H", "Content-Type: application/json"]
    runs = [
        ["-X", "POST", *json_type, "-H", "Transfer-Encoding: chunked", "--data-binary", "@-",
         f"{base}/v1/devices/curl-chunked/readings"],
        ["-X", "POST", *json_type, "-H", "Expect: 100-continue", "--data-binary", f"@{workdir / 'body.json'}",
         f"{base}/v1/devices/curl-expect/readings"],
        ["-0", "-X", "POST", *json_type, "--data-binary", f"@{workdir / 'body.json'}",
         f"{base}/v1/devices/curl-http10/readings"],
        ["-I", f"{base}/healthz"],
        [f"{base}/v1/devices/curl-expect/readings?sensor=temperature&limit=5&order=desc"],
        [f"{base}/v1/devices/curl-expect/series?sensor=temperature&step=1m&agg=avg"],
        ["-H", "Accept: text/csv", f"{base}/v1/devices?limit=3"],
        [f"{base}/v1/bandwidth"],
        ["-X", "POST", *json_type, "--data-binary", '{"seq": 0, "readings": []}',
         f"{base}/v1/devices/curl-bad/readings"],
        ["-X", "PUT", f"{base}/v1/devices/curl-bad/readings"],
    ]
    for args in runs:
        subprocess.run(["curl", "-sS", "-o", "/dev/null", "--max-time", "10", *args], input=body, check=False)
    pipelined = (
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        b"POST /v1/devices/raw-1/readings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s"
        b"GET /v1/devices/raw-1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % (len(body), body))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(pipelined)
        while s.recv(65536):
            pass


def main() -> int:
    if not SIM.exists():
        print(f"{SIM} not found: run `swift build` first", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        collector = Collector(workdir / "t.db", workdir / "collector.log").start()
        proxy = RecordingProxy(collector.port)
        try:
            fleets = [
                ["--devices", "6", "--sensors", "temperature,humidity,pressure,battery", "--interval", "1s",
                 "--batch", "10s", "--duration", "120s", "--speedup", "60", "--seed", "7"],
                ["--devices", "6", "--sensors", "co2,vibration", "--interval", "250ms", "--batch", "5s",
                 "--duration", "40s", "--speedup", "20", "--stream-batches", "3", "--seed", "11"],
            ]
            for fleet in fleets:
                subprocess.run([str(SIM), "run", "--target", f"http://127.0.0.1:{proxy.port}", "--protocol", "mixed",
                                "--quiet", "--time-limit", "30s", *fleet], check=True, stdout=subprocess.DEVNULL)
            fleet_connections = len(proxy.connections)
            extra_http_traffic(proxy.port, workdir)
        finally:
            proxy.close()
            collector.stop()
        seeds: dict[str, list[bytes]] = {name: [] for name in PER_HARNESS}
        rare: dict[str, list[bytes]] = {name: [] for name in PER_HARNESS}  # kept whole: curl and raw traffic
        for index, record in enumerate(proxy.connections):
            kept = rare if index >= fleet_connections else seeds
            up, down = bytes(record["up"]), bytes(record["down"])
            if up.startswith(H2_PREFACE):
                for direction in (up, down):
                    for stream in h2_stream_data(direction).values():
                        kept["grpc-deframer"].extend(pack([stream]))
                        kept["protobuf"].extend(m for m in grpc_messages(stream) if len(m) <= MAX_SEED)
            else:
                requests = http1_messages(up)
                kept["http1"].extend(pack([m for m, _ in requests]))
                kept["http1"].extend(pack([m for m, _ in http1_messages(down)]))
                kept["json"].extend(b for m, b in requests if b.startswith(b"{") and len(b) <= MAX_SEED)
    for name, limit in PER_HARNESS.items():
        target = CORPUS / name
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        extra = sorted(set(rare[name]))
        chosen = extra + spread([s for s in seeds[name] if s not in extra], limit - len(extra))
        for seed in chosen:
            (target / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
        print(f"capture_corpus: {name}: {len(chosen)} seeds of {len(seeds[name]) + len(extra)} captured, "
              f"{sum(map(len, chosen))} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
