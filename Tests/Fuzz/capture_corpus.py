#!/usr/bin/env python3
"""Regenerates the fuzz seed corpora (Tests/Fuzz/corpus/<harness>/) from real traffic.

Starts the debug collector on a scratch database, puts a recording TCP proxy in front of it, and sends real
traffic through the proxy: two device-sim fleets (gRPC client streams, gRPC unary and REST JSON) and a few curl
and raw-socket requests for what the simulator never sends (chunked bodies, Expect: 100-continue, HTTP/1.0,
HEAD, pipelining, queries). The recorded bytes are cut into seeds:

  http1          each connection's request bytes and response bytes, cut at message boundaries (≤ 4 KiB)
  json           the REST ingest bodies
  grpc-deframer  the DATA payload of each HTTP/2 stream, both directions (framed gRPC messages)
  protobuf       each gRPC request message (Batch) and response message (Ack); the first two Batches of each
                 client stream as one stream seed (varint length of the first, then both: the layout
                 Tests/Fuzz/protobuf/StreamContextFuzzer.swift reads); crafted seeds for packed_deltas and ref
                 (`capture_corpus.py --crafted` writes only those, into the corpus as it is)

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
PER_HARNESS = {"http1": 32, "json": 24, "grpc-deframer": 24, "protobuf": 56}


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


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63) if value < 0 else value << 1


def field(number: int, wire_type: int, value: bytes | int) -> bytes:
    tag = varint(number << 3 | wire_type)
    return tag + (varint(value) if wire_type == 0 else varint(len(value)) + value)


def packed_run(deltas: list[int], width: int | None = None) -> bytes:
    """`packed_deltas` as telemetry.proto lays it out: varint n, width byte, n zigzag values LSB first, 0-padded."""
    values = [zigzag(d) & (1 << 64) - 1 for d in deltas]
    if width is None:
        width = max((v.bit_length() for v in values), default=0)
    bits = sum(v << (i * width) for i, v in enumerate(values))
    return varint(len(values)) + bytes([width]) + bits.to_bytes((len(values) * width + 7) // 8, "little")


def series(sensor: str = "", exponent: int = 0, start: int = 0, interval: int = 0, deltas: list[int] = (),
           gaps: list[int] = (), ref: int = 0, packed: list[bytes] = ()) -> bytes:
    """A Series message; `packed` gives each occurrence of field 8, in order."""
    body = field(1, 2, sensor.encode()) if sensor else b""
    body += field(2, 0, zigzag(exponent)) if exponent else b""
    body += field(3, 0, start & (1 << 64) - 1) if start else b""
    body += field(4, 0, interval) if interval else b""
    body += field(5, 2, b"".join(varint(zigzag(d) & (1 << 64) - 1) for d in deltas)) if deltas else b""
    body += field(6, 2, b"".join(varint(g) for g in gaps)) if gaps else b""
    body += field(7, 0, ref) if ref else b""
    return body + b"".join(field(8, 2, run) for run in packed)


def batch(seq: int, *series_messages: bytes) -> bytes:
    return (field(1, 0, seq) if seq else b"") + b"".join(field(2, 2, s) for s in series_messages)


def crafted_protobuf_seeds() -> list[bytes]:
    """Seeds for what the fleets seldom or never send: packed runs at the edges of their layout, repeated and
    empty `packed_deltas`, `ref`, and stream pairs (varint length of the first message, then both messages, the
    layout StreamContextFuzzer.swift reads) that continue entries by position and by ref, redefine one, and break
    the context rules."""
    t0 = 1_765_000_000_000
    temp = series("temperature", -2, t0, 1000, [2150], packed=[packed_run([1, -2, 0, 3, -1])])
    seeds = [
        batch(1, temp),
        batch(2, series("pressure", -1, t0, 1000, packed=[packed_run([10132, 0, 0, 1])])),  # all deltas packed
        batch(3, series("flag", 0, t0, 500, [1], packed=[packed_run([0] * 9)])),  # width 0
        batch(4, series("x", 0, t0, 0, [0], [1, 2, 3], packed=[packed_run([2**63 - 1, -2**63, -1])])),  # width 64
        batch(5, series("a", 0, t0, 10, [5], packed=[packed_run([1, 1], width=5)])),  # wider than needed
        batch(6, series("a", 0, t0, 10, [5], packed=[b"\x03\x02", packed_run([1, -1])])),  # malformed, then valid
        batch(7, series("a", 0, t0, 10, [5], packed=[packed_run([1, -1]), b""])),  # valid, then empty
        batch(8, series("a", 0, t0, 10, [5], packed=[b"\x01\x41" + bytes(9)])),  # width 65
        batch(9, series("a", 0, t0, 10, [5], packed=[b"\x03\x02\x79"])),  # nonzero padding
        field(1, 0, 10) + field(2, 2, field(8, 2, packed_run([7, 1])) + field(1, 2, b"b") + field(5, 2, b"\x02")
                                + field(4, 0, 5) + field(3, 0, t0)),  # field 8 before field 5
        batch(11, series("a", 0, t0, 10, [5], ref=0) + field(7, 0, 0)),  # ref 0 stated
        batch(12, series("a", 0, t0, 10, [5], ref=2)),  # ref outside a stream
    ]
    first = batch(100, series("temperature", -2, t0, 1000, [2150, 1, -1]),
                  series("humidity", -1, t0, 1000, [455, 0, 2]),
                  series("door", 0, t0, 0, [1, -1, 1], [700, 1300]))
    followers = [
        batch(0, series(deltas=[1, 0, -1]), series(deltas=[-2], packed=[packed_run([0, 1])])),  # by position
        batch(0, series(ref=2, deltas=[3, 1]), series(ref=1, deltas=[0], packed=[packed_run([1, 1, 1])])),  # by ref
        batch(101, series(ref=3, start=t0 + 5000, deltas=[0, 1], gaps=[250]),
              series("temperature", -3, t0 + 3000, 500, [21490, 5])),  # irregular, then redefined
        batch(0, series(interval=2000, deltas=[4, 4])),  # a new interval
        batch(0, series(ref=4, deltas=[1])),  # an entry never defined
        batch(0, series(exponent=1, deltas=[1])),  # an exponent on a continuation
        batch(0, series("humidity", 0, t0, 1000, [1], ref=1)),  # both sensor and ref
    ]
    seeds += [varint(len(first)) + first + follower for follower in followers]
    empty_entry = batch(1, series("idle", 0, t0, 1000))  # a definition with no reading: no start to continue
    seeds.append(varint(len(empty_entry)) + empty_entry + batch(0, series(deltas=[1])))
    return seeds


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
    if sys.argv[1:] == ["--crafted"]:
        # Only the crafted protobuf seeds, added to the corpus as it is (no collector, no fleets).
        for seed in crafted_protobuf_seeds():
            (CORPUS / "protobuf" / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
        print(f"capture_corpus: protobuf: {len(crafted_protobuf_seeds())} crafted seeds written")
        return 0
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
        # Kept whole: curl and raw traffic, and the crafted protobuf seeds.
        rare: dict[str, list[bytes]] = {name: [] for name in PER_HARNESS}
        rare["protobuf"].extend(crafted_protobuf_seeds())
        stream_pairs: list[bytes] = []
        for index, record in enumerate(proxy.connections):
            kept = rare if index >= fleet_connections else seeds
            up, down = bytes(record["up"]), bytes(record["down"])
            if up.startswith(H2_PREFACE):
                for direction in (up, down):
                    for stream in h2_stream_data(direction).values():
                        kept["grpc-deframer"].extend(pack([stream]))
                        messages = grpc_messages(stream)
                        kept["protobuf"].extend(m for m in messages if len(m) <= MAX_SEED)
                        if direction is up and len(messages) >= 2:
                            pair = varint(len(messages[0])) + messages[0] + messages[1]
                            stream_pairs.extend([pair] if len(pair) <= MAX_SEED else [])
            else:
                requests = http1_messages(up)
                kept["http1"].extend(pack([m for m, _ in requests]))
                kept["http1"].extend(pack([m for m, _ in http1_messages(down)]))
                kept["json"].extend(b for m, b in requests if b.startswith(b"{") and len(b) <= MAX_SEED)
        rare["protobuf"].extend(spread(stream_pairs, 12))
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
