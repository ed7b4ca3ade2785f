"""Helpers for the TLS end-to-end tests (test_tls*.py): a collector with TLS and authentication on, whose
self-signed certificate, ticket key and fleet key live in the test's own folder; curl over TLS; `openssl s_client`
with a TLS 1.3 external PSK; Python's `ssl` module; /metrics and the bandwidth report read back. Every wait is
bounded."""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

from fwtest import CALL_TIMEOUT, COLLECTOR_BIN, AuthFiles, Collector, Response, parse_header_lines, wait_until

T0 = 1_732_190_000_000
JSON = ("-H", "Content-Type: application/json")


class TLSKeys(AuthFiles):
    """The fleet key, admin token, certificate, key and ticket key of one collector (all in `directory`)."""

    @property
    def cert(self) -> Path:
        return self.directory / "tls-cert.pem"

    @property
    def key(self) -> Path:
        return self.directory / "tls-key.pem"

    @property
    def ticket_key(self) -> Path:
        return self.directory / "tls-ticket.key"

    def psk(self, device: str) -> str:
        """The device's PSK as `collector token DEVICE --psk` prints it (hex)."""
        done = subprocess.run([str(COLLECTOR_BIN), "token", device, "--psk", "--fleet-key-file", str(self.fleet_key)],
                              capture_output=True, text=True, timeout=10)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def client_context(self) -> ssl.SSLContext:
        """A client context trusting only the collector's certificate."""
        ctx = ssl.create_default_context(cafile=str(self.cert))
        return ctx


def start_tls(start_collector, tmp_path: Path, *extra, db=None) -> tuple[Collector, TLSKeys]:
    """A collector with `--auth on` and TLS on (the default), keys in tmp_path/keys."""
    keys = TLSKeys(tmp_path / "keys")
    collector = start_collector(*keys.args(*[str(e) for e in extra]), db=db)
    return collector, keys


def rest_body(seq: int, value: float = 21.5, sensor: str = "temperature") -> str:
    return json.dumps({"seq": seq, "readings": [{"sensor": sensor, "ts": T0 + seq * 1000, "value": value}]})


# -- clients ---------------------------------------------------------------------------------------------------


def curl_tls(collector: Collector, keys: TLSKeys, path: str, *args: str, data: str | bytes | None = None,
             http2: bool = False, timeout: float = CALL_TIMEOUT, check: bool = True) -> Response:
    """curl over TLS trusting the collector's certificate (--cacert), HTTP/1.1 or HTTP/2 (ALPN)."""
    with tempfile.TemporaryDirectory() as tmp:
        head, body = Path(tmp) / "head", Path(tmp) / "body"
        cmd = ["curl", "-sS", "--noproxy", "*", "--max-time", str(timeout), "--cacert", str(keys.cert),
               "-H", "Expect:", "-D", str(head), "-o", str(body), "-w", "%{http_code} %{http_version}",
               "--http2" if http2 else "--http1.1"]
        if data is not None:
            request = Path(tmp) / "request"
            request.write_bytes(data.encode() if isinstance(data, str) else data)
            cmd += ["--data-binary", f"@{request}"]
        cmd += [*args, f"https://127.0.0.1:{collector.port}{path}"]
        done = subprocess.run(cmd, capture_output=True, timeout=timeout + 5)
        if check:
            assert done.returncode == 0, f"curl failed ({done.returncode}): {done.stderr.decode()} {cmd}"
        elif done.returncode != 0:
            return Response(0, "", {"curl-error": done.stderr.decode()}, b"")
        status, version = done.stdout.decode().split()
        return Response(int(status), version, parse_header_lines(head.read_text("latin-1")), body.read_bytes())


def http_request_bytes(method: str, path: str, body: bytes = b"", headers=()) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost", "Connection: close"]
    if body or method == "POST":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += list(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def parse_http_response(raw: bytes) -> Response | None:
    """The first HTTP/1.1 response in `raw`, or None when there is none."""
    if b"\r\n\r\n" not in raw:
        return None
    head, rest = raw.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    match = re.match(r"HTTP/1\.1 (\d{3})", lines[0])
    if not match:
        return None
    headers = {}
    for line in lines[1:]:
        name, value = line.split(":", 1)
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", len(rest)))
    return Response(int(match.group(1)), "1.1", headers, rest[:length])


def s_client_psk(collector: Collector, identity: str, psk_hex: str, request: bytes,
                 timeout: float = CALL_TIMEOUT) -> tuple[int, Response | None, str]:
    """`openssl s_client -tls1_3 -psk_identity ID -psk HEX -alpn http/1.1 -quiet` with `request` on stdin (with
    `Connection: close`, so the collector closes after answering); returns (exit code, response or None, stderr)."""
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{collector.port}", "-tls1_3", "-psk_identity", identity,
           "-psk", psk_hex, "-alpn", "http/1.1", "-quiet"]
    done = subprocess.run(cmd, input=request, capture_output=True, timeout=timeout)
    return done.returncode, parse_http_response(done.stdout), done.stderr.decode(errors="replace")


def https_connection(collector: Collector, keys: TLSKeys) -> http.client.HTTPSConnection:
    return http.client.HTTPSConnection("127.0.0.1", collector.port, timeout=CALL_TIMEOUT,
                                       context=keys.client_context())


def https_get(collector: Collector, keys: TLSKeys, path: str, headers=None) -> Response:
    conn = https_connection(collector, keys)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return Response(r.status, "1.1", {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def tls_roundtrip(collector: Collector, ctx: ssl.SSLContext, session=None, path="/healthz"):
    """One TLS connection with Python's ssl module (a session resumes only on the context it came from): a GET
    with Connection: close, read to EOF (so the TLS 1.3 ticket, sent after the handshake, is read too). Returns
    (session, session_reused, response)."""
    with socket.create_connection(("127.0.0.1", collector.port), timeout=CALL_TIMEOUT) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
            s.sendall(http_request_bytes("GET", path))
            data = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except ssl.SSLZeroReturnError:
                    break
                if not chunk:
                    break
                data += chunk
            return s.session, s.session_reused, parse_http_response(data)


# -- /metrics and the bandwidth report -------------------------------------------------------------------------


def metrics(collector: Collector, keys: TLSKeys, plaintext: bool = True) -> dict:
    """/metrics (admin token) as {name: {labels-text: value}}; read over plaintext or over TLS."""
    if plaintext:
        conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=CALL_TIMEOUT)
        try:
            conn.request("GET", "/metrics", headers=keys.admin_headers())
            r = conn.getresponse()
            status, text = r.status, r.read().decode()
        finally:
            conn.close()
    else:
        r = https_get(collector, keys, "/metrics", keys.admin_headers())
        status, text = r.status, r.body.decode()
    assert status == 200, text
    out: dict = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
        if m:
            out.setdefault(m.group(1), {})[m.group(2) or ""] = float(m.group(3))
    return out


def handshakes(collector: Collector, keys: TLSKeys, plaintext: bool = True) -> dict:
    """fleetwire_tls_handshakes_total by outcome."""
    family = metrics(collector, keys, plaintext).get("fleetwire_tls_handshakes_total", {})
    return {re.search(r'outcome="([^"]*)"', k).group(1): v for k, v in family.items()}


def admin_get(collector: Collector, keys: TLSKeys, path: str, plaintext: bool = True) -> dict:
    """GET over HTTP/1.1 (plaintext, or TLS) with the admin token."""
    if plaintext:
        conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=CALL_TIMEOUT)
    else:
        conn = https_connection(collector, keys)
    try:
        conn.request("GET", path, headers=keys.admin_headers())
        r = conn.getresponse()
        body = r.read()
    finally:
        conn.close()
    assert r.status == 200, (path, r.status, body)
    return json.loads(body)


TLS_PARTS = ("tls_handshake_bytes", "tls_record_bytes")
LINK_FIELDS = ("segments_in", "segments_out", "estimated_link_bytes")


def check_row_parts(row: dict, tls: bool | None) -> None:
    """bytes = [tls_handshake + tls_record +] header + framing + payload per direction, exactly, when the row has
    the TLS fields (added by another branch); without them the plaintext parts are at most the bytes.

    `tls`: the row's connections are TLS connections (None: some may be, some not). A connection's TLS bytes and segments are booked on the row
    it was opened for (its `connections` count), so a row without connections of its own (gRPC streams on a
    channel whose first call was unary) has its plaintext parts only."""
    if tls:
        tls = row["connections"] > 0
    for d in ("in", "out"):
        plain = row[f"header_bytes_{d}"] + row[f"framing_bytes_{d}"] + row[f"payload_bytes_{d}"]
        if f"tls_handshake_bytes_{d}" in row:
            tls_bytes = row[f"tls_handshake_bytes_{d}"] + row[f"tls_record_bytes_{d}"]
            assert tls_bytes + plain == row[f"bytes_{d}"], (d, row)
            if tls:
                assert row[f"tls_handshake_bytes_{d}"] > 0 and row[f"tls_record_bytes_{d}"] > 0, (d, row)
            elif tls is False:
                assert tls_bytes == 0, (d, row)
        else:
            assert plain <= row[f"bytes_{d}"], (d, row)
    if "segments_in" in row and row["connections"] > 0:
        assert row["segments_in"] > 0 and row["segments_out"] > 0, row
    if "estimated_link_bytes" in row and "segments_in" in row:
        segments = row["segments_in"] + row["segments_out"]
        assert row["estimated_link_bytes"] == row["bytes_in"] + row["bytes_out"] + 52 * segments, row


def settled_totals(collector: Collector, keys: TLSKeys, timeout: float = 5.0, plaintext: bool = True) -> dict:
    """/v1/bandwidth once the per-protocol rows add up to the socket totals in both directions (the GET being
    answered has its request counted and no bytes out yet, over TLS its handshake too); fails with the last report otherwise."""
    last = {}

    def poll():
        report = admin_get(collector, keys, "/v1/bandwidth", plaintext)
        last.clear()
        last.update(report)
        rows = report["protocols"]
        # Over TLS, the record carrying this very GET is booked only after its plaintext was handled (the report
        # is made while handling it): its overhead, 5 header + 1 inner type + 16 tag = 22 bytes, is missing.
        in_flight = 0 if plaintext else 22
        ok = (sum(r["bytes_in"] for r in rows) + in_flight == report["socket_bytes_in"]
              and sum(r["bytes_out"] for r in rows) == report["socket_bytes_out"])
        return report if ok else None

    return wait_until(poll, timeout=timeout, interval=0.1,
                      message=lambda: f"rows adding up to the socket totals (last: {last})")


def device_rows(collector: Collector, keys: TLSKeys, device: str) -> dict:
    """{protocol: row} of one device's bandwidth rows ({} when it has none yet)."""
    conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=CALL_TIMEOUT)
    try:
        conn.request("GET", f"/v1/bandwidth/devices/{device}", headers=keys.admin_headers())
        r = conn.getresponse()
        body = r.read()
    finally:
        conn.close()
    if r.status == 404:
        return {}
    assert r.status == 200, body
    return {row["protocol"]: row for row in json.loads(body)["protocols"]}


def wait_closed(sock: socket.socket, timeout: float) -> tuple[bool, bytes]:
    """Reads until EOF or reset within `timeout`; returns (closed, bytes received)."""
    deadline = time.monotonic() + timeout
    got = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except (ConnectionResetError, BrokenPipeError):
            return True, got
        if not chunk:
            return True, got
        got += chunk
    return False, got
