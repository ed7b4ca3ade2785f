"""Helpers for the hostile-client tests: a raw HTTP/2 client on the `h2` package (frames the stock clients never
send), a healthy device that keeps calling while an attack runs, the collector's RSS sampled from /proc, and
/metrics parsed. Every wait here is bounded."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

from fwtest import CALL_TIMEOUT, CHANNEL_OPTIONS, Collector, simple_batch

PUSH = "/telemetry.v1.Telemetry/Push"
UPLOAD = "/telemetry.v1.Telemetry/Upload"
ENHANCE_YOUR_CALM = 11


def grpc_headers(collector: Collector, path: str, device: str):
    return [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", collector.address),
            ("content-type", "application/grpc"), ("te", "trailers"), ("device-id", device)]


def grpc_frame(message: bytes) -> bytes:
    return b"\x00" + len(message).to_bytes(4, "big") + message


# -- the collector process -----------------------------------------------------------------------------------


def rss_kib(collector: Collector) -> int:
    """VmRSS of the collector process in KiB."""
    with open(f"/proc/{collector.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS line")


def open_descriptors(collector: Collector) -> int:
    import os
    return len(os.listdir(f"/proc/{collector.proc.pid}/fd"))


class RSSSampler:
    """Samples the collector's RSS every 20 ms in a thread: `baseline`, `peak` and `growth` in KiB."""

    def __init__(self, collector: Collector):
        self.collector = collector
        self.baseline = rss_kib(collector)
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, rss_kib(self.collector))
            except (FileNotFoundError, ProcessLookupError):
                return
            self._stop.wait(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)

    @property
    def growth(self) -> int:
        return self.peak - self.baseline

    def report(self, attack: str) -> str:
        line = (f"{attack}: collector RSS {self.baseline / 1024:.1f} MiB before, peak {self.peak / 1024:.1f} MiB "
                f"(+{self.growth / 1024:.1f} MiB)")
        print(line)
        return line


METRICS_SOURCE = "127.0.0.9"  # /metrics is read from its own loopback IP: attacks fill 127.0.0.1's slots


def metrics(collector: Collector) -> dict:
    """/metrics as {name: {labels-text: value}} (labels-text like 'limit="total"', '' without labels)."""
    conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=CALL_TIMEOUT,
                                      source_address=(METRICS_SOURCE, 0))
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    out: dict = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
        if m:
            out.setdefault(m.group(1), {})[m.group(2) or ""] = float(m.group(3))
    return out


def metric(collector: Collector, name: str, labels: str = "") -> float:
    return metrics(collector).get(name, {}).get(labels, 0.0)


# -- a raw HTTP/2 client ---------------------------------------------------------------------------------------


class RawH2:
    """A prior-knowledge h2c connection driven frame by frame with the `h2` state machine (its own validation
    relaxed where an attack needs it), plus raw bytes for frames `h2` refuses to produce."""

    def __init__(self, collector: Collector, source: str | None = None, window: int | None = None,
                 receive_buffer: int | None = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        if source is not None:
            self.sock.bind((source, 0))
        self.sock.settimeout(CALL_TIMEOUT)
        self.sock.connect(("127.0.0.1", collector.port))
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8",
                                           validate_inbound_headers=False)
        self.h2 = h2.connection.H2Connection(config)
        self.h2.initiate_connection()
        if window is not None:
            self.h2.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
            self.h2.increment_flow_control_window(window - 65_535)
        self.flush()
        self.events: list = []
        self.closed = False

    def flush(self):
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def send_body(self, stream_id: int, data: bytes, timeout: float = CALL_TIMEOUT) -> int:
        """Sends `data` on a stream as fast as the collector's flow-control windows allow; stops early when the
        stream is closed (answered or reset). Returns the bytes sent."""
        sent = 0
        deadline = time.monotonic() + timeout
        while sent < len(data) and time.monotonic() < deadline:
            try:
                window = self.h2.local_flow_control_window(stream_id)
            except h2.exceptions.StreamClosedError:
                break
            n = min(window, self.h2.max_outbound_frame_size, len(data) - sent)
            if n <= 0:
                self.read(timeout=0.05)
                if self.closed:
                    break
                continue
            try:
                self.h2.send_data(stream_id, data[sent:sent + n])
            except h2.exceptions.StreamClosedError:
                break
            sent += n
            self.flush()
        return sent

    def send_raw(self, data: bytes):
        self.sock.sendall(data)

    def read(self, timeout: float = CALL_TIMEOUT, until=None) -> list:
        """Reads and answers frames until `until(events)` holds, EOF/reset, or `timeout`; returns all events."""
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline and not (until and until(self.events)):
            self.sock.settimeout(max(0.01, min(0.2, deadline - time.monotonic())))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                self.closed = True
                break
            if not data:
                self.closed = True
                break
            try:
                self.events += self.h2.receive_data(data)
            except h2.exceptions.ProtocolError as e:
                self.events.append(e)
            try:
                self.flush()
            except (ConnectionResetError, BrokenPipeError):
                self.closed = True
        return self.events

    def wait_closed(self, timeout: float = CALL_TIMEOUT) -> bool:
        self.read(timeout)
        return self.closed

    def goaway(self):
        return next((e for e in self.events if isinstance(e, h2.events.ConnectionTerminated)), None)

    def stream_events(self, stream_id: int) -> list:
        return [e for e in self.events if getattr(e, "stream_id", None) == stream_id]

    def trailers(self, stream_id: int) -> dict:
        """The response's header fields and trailers on a stream, merged."""
        fields = {}
        for e in self.stream_events(stream_id):
            if isinstance(e, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                fields.update(dict(e.headers))
        return fields

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def frame(frame_type: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    """One raw HTTP/2 frame."""
    return len(payload).to_bytes(3, "big") + bytes([frame_type, flags]) + stream_id.to_bytes(4, "big") + payload


def ping(n: int) -> bytes:
    return frame(6, 0, 0, n.to_bytes(8, "big"))


# -- a healthy device -------------------------------------------------------------------------------------------


@dataclass
class HealthProbe:
    """A well-behaved device that keeps sending while an attack runs: every 100 ms a Push on a fresh grpcio
    channel (a new connection each time) and a REST POST on a fresh HTTP/1.1 connection, each a new batch, each
    with a deadline of CALL_TIMEOUT. `source` binds the REST connections (and raw h2 Pushes instead of grpcio,
    which cannot bind) to another loopback IP, for attacks that exhaust 127.0.0.1's connection slots."""
    proto: object
    collector: Collector
    device: str = "healthy"
    source: str | None = None
    successes: int = 0
    failures: list = field(default_factory=list)
    seqs: list = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=3 * CALL_TIMEOUT)

    def _run(self):
        seq = 0
        while not self._stop.is_set():
            seq += 1
            try:
                self.push(seq)
                self.seqs.append(seq)
                seq += 1
                self.post(seq)
                self.seqs.append(seq)
                self.successes += 2
            except Exception as e:  # noqa: BLE001 - every failure is recorded and asserted on
                self.failures.append(f"seq {seq}: {type(e).__name__}: {e}")
            self._stop.wait(0.1)

    def push(self, seq: int):
        batch, _ = simple_batch(self.proto.pb, seq, start_ms=1_732_190_000_000 + seq * 10_000)
        if self.source is None:
            import grpc
            with grpc.insecure_channel(self.collector.address, options=CHANNEL_OPTIONS) as channel:
                ack = self.proto.grpc.TelemetryStub(channel).Push(batch, metadata=[("device-id", self.device)],
                                                                   timeout=CALL_TIMEOUT)
            assert ack.readings == 3, ack
            return
        client = RawH2(self.collector, source=self.source)
        try:
            sid = client.h2.get_next_available_stream_id()
            client.h2.send_headers(sid, grpc_headers(self.collector, PUSH, self.device))
            client.h2.send_data(sid, grpc_frame(batch.SerializeToString()), end_stream=True)
            client.flush()
            client.read(until=lambda evs: any(isinstance(e, h2.events.StreamEnded) and e.stream_id == sid
                                              for e in evs))
            assert client.trailers(sid).get("grpc-status") == "0", client.events
        finally:
            client.close()

    def post(self, seq: int):
        body = json.dumps({"seq": seq, "readings": [{"sensor": "t", "ts": 1_732_190_000_000 + seq * 10_000,
                                                     "value": 1.5}]})
        conn = http.client.HTTPConnection("127.0.0.1", self.collector.port, timeout=CALL_TIMEOUT,
                                          source_address=(self.source, 0) if self.source else None)
        try:
            conn.request("POST", f"/v1/devices/{self.device}-rest/readings", body=body,
                         headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            assert response.status == 200, (response.status, data)
        finally:
            conn.close()

    def assert_healthy(self, minimum: int = 2):
        """The device was served throughout: no call failed, and it got through at least `minimum` calls."""
        assert not self.failures, f"the healthy device failed during the attack: {self.failures[:5]}"
        assert self.successes >= minimum, f"the healthy device made only {self.successes} calls"
