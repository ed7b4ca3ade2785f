"""gRPC-Web (grpc/grpc doc/PROTOCOL-WEB.md) end to end, with clients written here from the spec: raw sockets and
Python's http.client for HTTP/1.1, the `h2` library for h2c; messages encoded and decoded with the stubs generated
from schema/; Python's sqlite3 and the REST read API as the oracles for what was stored.

- Push in binary (`application/grpc-web`, `+proto`) and text (`application/grpc-web-text`, `+proto`, base64)
  modes, and `Accept: application/grpc-web-text` for a binary request: HTTP 200, the Ack as a 5-byte-prefixed
  message, then the trailer frame (flag 0x80, HTTP/1 header lines, lower-case names) with grpc-status 0; the
  readings stored and readable over REST; ledger rows `grpc-web` / `grpc-web-text` with the device.
- Watch (server streaming) over HTTP/1.1 (chunked) and h2c: live batches arrive as frames while pushes happen;
  the client closes; a watch whose grpc-timeout passes, or whose collector stops, ends with the trailer frame.
- Trailers-Only refusals (HTTP 200, grpc-status/grpc-message in the headers, empty body) for an unknown method, a
  missing device-id, Upload and Sync (UNIMPLEMENTED naming Push and REST), a wrong token with auth on, Watch
  without the admin token; bad input (not base64, a frame past the message limit, a trailer frame from the
  client, a truncated frame); nothing stored after any of them.
- Keep-alive (two Pushes on one HTTP/1.1 connection), `application/grpc` over HTTP/1.1 (415 JSON).
- CORS over HTTP/1.1 and h2c: preflights from an allowed and a refused origin, exposed headers on an actual
  response, and the default (no --cors-origin) refusing a foreign origin.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import socket
import threading
import time
import urllib.parse

import pytest

from fwtest import (CALL_TIMEOUT, AuthFiles, db_batches, db_readings, get_json, http_request, make_series,
                    device_batch_rows, wait_until)

T0 = 1_732_190_000_000
SERVICE = "/telemetry.v1.Telemetry/"
ORIGIN = "http://app.example:5173"
BINARY_TYPES = ("application/grpc-web", "application/grpc-web+proto")
TEXT_TYPES = ("application/grpc-web-text", "application/grpc-web-text+proto")

# grpc-status codes (PROTOCOL-HTTP2.md / statuscodes.md)
INVALID_ARGUMENT, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNIMPLEMENTED, UNAVAILABLE, UNAUTHENTICATED = \
    3, 4, 8, 12, 14, 16


# -- the gRPC-Web wire format, from the spec --------------------------------------------------------------------


def frame(message: bytes, flag: int = 0) -> bytes:
    """One length-prefixed message: a flag byte (MSB set: trailers), a 4-byte big-endian length, the bytes."""
    return bytes([flag]) + len(message).to_bytes(4, "big") + message


def decode_text(body: bytes) -> bytes:
    """A grpc-web-text body: base64, possibly several separately padded segments one after the other, so it is
    decoded quantum by quantum (4 characters each; padding may end any quantum)."""
    assert len(body) % 4 == 0, f"text body of {len(body)} characters is not whole base64 quanta: {body[:80]!r}"
    return b"".join(base64.b64decode(body[i:i + 4], validate=True) for i in range(0, len(body), 4))


def parse_trailer_block(block: bytes) -> dict:
    """The trailer frame's payload: `name: value\\r\\n` lines (HTTP/1 header format, no terminating blank line)."""
    text = block.decode("ascii")
    assert text.endswith("\r\n") and "\r\n\r\n" not in text, repr(text)
    fields = {}
    for line in text[:-2].split("\r\n"):
        name, sep, value = line.partition(":")
        assert sep and name == name.strip(), f"not a header line: {line!r}"
        assert name == name.lower(), f"trailer names are lower-case in gRPC-Web: {name!r}"
        fields[name] = value.strip()
    return fields


def split_frames(data: bytes):
    """([messages], trailers or None, the undecoded rest) of a stream of frames."""
    messages, trailers, at = [], None, 0
    while len(data) - at >= 5:
        flag, length = data[at], int.from_bytes(data[at + 1:at + 5], "big")
        if len(data) - at - 5 < length:
            break
        payload = data[at + 5:at + 5 + length]
        at += 5 + length
        assert trailers is None, "a frame after the trailer frame"
        if flag & 0x80:
            assert flag == 0x80, f"compressed trailers ({flag:#x}) were not asked for"
            trailers = parse_trailer_block(payload)
        else:
            assert flag == 0, f"compressed message ({flag:#x}) was not asked for"
            messages.append(payload)
    return messages, trailers, data[at:]


def parse_body(body: bytes, text: bool):
    """A whole response body: ([messages], trailers); the trailer frame must be there and last."""
    data = decode_text(body) if text else body
    messages, trailers, rest = split_frames(data)
    assert rest == b"", f"{len(rest)} bytes after the last whole frame: {rest[:40]!r}"
    assert trailers is not None, f"no trailer frame in {data[:200]!r}"
    return messages, trailers


def grpc_message(fields: dict) -> str:
    """grpc-message is percent-encoded (PROTOCOL-HTTP2.md)."""
    return urllib.parse.unquote(fields.get("grpc-message", ""), errors="strict")


# -- clients -----------------------------------------------------------------------------------------------------


class Reply:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes):
        self.status = status
        self.header_list = [(k.lower(), v) for k, v in headers]
        self.headers = dict(self.header_list)
        self.body = body

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.header_list if k == name]

    @property
    def text_mode(self) -> bool:
        return self.headers.get("content-type", "").startswith("application/grpc-web-text")

    def parsed(self):
        """([messages], trailers) of a gRPC-Web answer with a body."""
        assert self.status == 200, (self.status, self.headers, self.body[:300])
        return parse_body(self.body, self.text_mode)

    def trailers_only(self) -> tuple[int, str]:
        """(grpc-status, grpc-message) of a Trailers-Only answer: HTTP 200, the status in the headers, no body."""
        assert self.status == 200, (self.status, self.headers, self.body[:300])
        assert self.headers.get("content-type", "").startswith("application/grpc-web"), self.headers
        assert "grpc-status" in self.headers, (self.headers, self.body[:300])
        assert self.body == b"", f"a Trailers-Only answer with a body: {self.body[:200]!r}"
        return int(self.headers["grpc-status"]), grpc_message(self.headers)


def web_headers(content_type: str, device: str | None = None, extra: dict | None = None) -> dict:
    headers = {"Content-Type": content_type, "X-Grpc-Web": "1", "X-User-Agent": "grpc-web-python-test/1"}
    if device is not None:
        headers["device-id"] = device
    headers.update(extra or {})
    return headers


def encode_request(message: bytes, content_type: str) -> bytes:
    body = frame(message)
    return base64.b64encode(body) if content_type.startswith("application/grpc-web-text") else body


def h1_call(collector, method: str, body: bytes, headers: dict,
            conn: http.client.HTTPConnection | None = None) -> Reply:
    """One gRPC-Web call over HTTP/1.1 with http.client (on `conn` when given)."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=CALL_TIMEOUT)
    try:
        conn.request("POST", SERVICE + method, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        reply = Reply(r.status, r.getheaders(), data)
        reply.will_close = r.will_close
        return reply
    finally:
        if own:
            conn.close()


class H2Client:
    """A plain h2c connection with the `h2` library; one call at a time, or a stream read as it comes."""

    def __init__(self, port: int):
        import h2.config
        import h2.connection

        self.sock = socket.create_connection(("127.0.0.1", port), timeout=CALL_TIMEOUT)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.sock.sendall(self.conn.data_to_send())
        self.port = port
        self.buffer = b""
        self.goaway = None

    def start(self, method: str, path: str, headers: dict, body: bytes) -> int:
        stream = self.conn.get_next_available_stream_id()
        fields = [(":method", method), (":scheme", "http"), (":path", path), (":authority", f"127.0.0.1:{self.port}")]
        fields += [(k.lower(), v) for k, v in headers.items()]
        self.conn.send_headers(stream, fields, end_stream=not body)
        if body:
            self.conn.send_data(stream, body, end_stream=True)
        self.sock.sendall(self.conn.data_to_send())
        return stream

    def pump(self, on_event) -> bool:
        """Reads once and hands each event to `on_event`; False at EOF.

        Frames go to `h2` one at a time: once a GOAWAY has come (a graceful shutdown, RFC 9113 6.8: streams up to
        its last stream id still finish), `h2` refuses every further frame, so this client then reads the DATA
        frames of its streams itself (and sends WINDOW_UPDATEs for them)."""
        import h2.events

        data = self.sock.recv(65_536)
        if not data:
            return False
        self.buffer += data
        while len(self.buffer) >= 9:
            length = int.from_bytes(self.buffer[:3], "big")
            if len(self.buffer) < 9 + length:
                break
            raw, self.buffer = self.buffer[:9 + length], self.buffer[9 + length:]
            if not self.goaway:
                for event in self.conn.receive_data(raw):
                    if isinstance(event, h2.events.ConnectionTerminated):
                        self.goaway = event
                    if isinstance(event, h2.events.DataReceived):
                        self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    on_event(event)
                self.sock.sendall(self.conn.data_to_send())
                continue
            kind, flags, stream = raw[3], raw[4], int.from_bytes(raw[5:9], "big") & 0x7FFF_FFFF
            if kind == 0x0:  # DATA
                payload = raw[9:]
                if flags & 0x8:  # PADDED
                    payload = payload[1:len(payload) - payload[0]]
                if length:
                    update = (length).to_bytes(4, "big")
                    self.sock.sendall(b"\x00\x00\x04\x08\x00\x00\x00\x00\x00" + update
                                      + b"\x00\x00\x04\x08\x00" + stream.to_bytes(4, "big") + update)
                on_event(h2.events.DataReceived(stream_id=stream, data=payload, flow_controlled_length=length))
                if flags & 0x1:
                    on_event(h2.events.StreamEnded(stream_id=stream))
            elif kind == 0x1 and flags & 0x1:  # HEADERS ending a stream: trailers, which gRPC-Web never sends
                on_event(h2.events.TrailersReceived(stream_id=stream, headers=[("(after GOAWAY)", "not decoded")]))
            elif kind == 0x3:  # RST_STREAM
                on_event(h2.events.StreamReset(stream_id=stream, error_code=int.from_bytes(raw[9:13], "big")))
        return True

    def call(self, method: str, path: str, headers: dict, body: bytes = b"") -> Reply:
        import h2.events

        stream = self.start(method, path, headers, body)
        state = {"headers": None, "body": b"", "done": False, "trailers": None}

        def on_event(event):
            if getattr(event, "stream_id", None) != stream:
                return
            if isinstance(event, h2.events.ResponseReceived):
                state["headers"] = event.headers
            elif isinstance(event, h2.events.DataReceived):
                state["body"] += event.data
            elif isinstance(event, h2.events.TrailersReceived):
                state["trailers"] = event.headers
            elif isinstance(event, h2.events.StreamEnded):
                state["done"] = True
            elif isinstance(event, h2.events.StreamReset):
                raise AssertionError(f"stream reset with error code {event.error_code}")

        deadline = time.monotonic() + CALL_TIMEOUT
        while not state["done"] and time.monotonic() < deadline:
            assert self.pump(on_event), "the connection closed before the stream ended"
        assert state["done"], f"no end of stream within {CALL_TIMEOUT} s"
        # gRPC-Web carries its status in the body (or the headers): never in HTTP/2 trailers.
        assert state["trailers"] is None, f"HTTP/2 trailers in a gRPC-Web answer: {state['trailers']}"
        headers = [(k, v) for k, v in state["headers"] if k != ":status"]
        status = int(dict(state["headers"])[":status"])
        return Reply(status, headers, state["body"])

    def close(self):
        try:
            self.conn.close_connection()
            self.sock.sendall(self.conn.data_to_send())
        except OSError:
            pass
        self.sock.close()


def h2_call(collector, method: str, body: bytes, headers: dict) -> Reply:
    client = H2Client(collector.port)
    try:
        return client.call("POST", SERVICE + method, headers, body)
    finally:
        client.close()


def push_call(collector, proto, device: str, batch, content_type: str = "application/grpc-web+proto",
              transport: str = "h1", extra: dict | None = None, conn=None) -> Reply:
    body = encode_request(batch.SerializeToString(), content_type)
    headers = web_headers(content_type, device, extra)
    if transport == "h2":
        return h2_call(collector, "Push", body, headers)
    return h1_call(collector, "Push", body, headers, conn=conn)


def ack_of(proto, reply: Reply):
    """The Ack of a successful unary answer, decoded with the generated stubs; checks grpc-status 0."""
    messages, trailers = reply.parsed()
    assert trailers.get("grpc-status") == "0", trailers
    assert len(messages) == 1, f"{len(messages)} messages in a unary answer"
    ack = proto.pb.Ack()
    ack.ParseFromString(messages[0])
    return ack


def batch_of(pb, seq: int, sensor: str = "temperature", start: int = T0, count: int = 3, first: int = 2154):
    series, rows = make_series(pb, sensor, -2, [start + i * 1000 for i in range(count)],
                               [first + 7 * i for i in range(count)])
    return pb.Batch(seq=seq, series=[series]), rows


def rest_readings(collector, device: str, headers=None) -> list[tuple]:
    r = http_request(collector, "GET", f"/v1/devices/{device}/readings?limit=1000", headers=headers)
    assert r.status == 200, (r.status, r.body)
    return [(x["sensor"], x["ts"], x["value"]) for x in r.json()["readings"]]


def ledger_row(collector, device: str, protocol: str, headers=None):
    r = http_request(collector, "GET", f"/v1/bandwidth/devices?protocol={protocol}", headers=headers)
    assert r.status == 200, (r.status, r.body)
    return next((row for row in r.json()["devices"] if row["device"] == device), None)


def nothing_stored(collector, device: str):
    assert db_readings(collector.db, device) == [], f"readings stored for {device}"
    assert db_batches(collector.db, device) == [], f"batches stored for {device}"


# -- Push ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["h1", "h2"])
@pytest.mark.parametrize("content_type", BINARY_TYPES + TEXT_TYPES)
def test_push_is_acked_stored_and_counted(proto, collector, content_type, transport):
    pb = proto.pb
    text = content_type.startswith("application/grpc-web-text")
    device = f"web-{transport}-{'text' if text else 'bin'}-{len(content_type)}"
    batch, rows = batch_of(pb, 17)
    reply = push_call(collector, proto, device, batch, content_type, transport)
    assert reply.status == 200
    assert reply.headers["content-type"] == ("application/grpc-web-text+proto" if text
                                             else "application/grpc-web+proto")
    assert "grpc-status" not in reply.headers, "a successful call has its status in the trailer frame"
    if text:
        assert re.fullmatch(rb"[A-Za-z0-9+/=]*", reply.body), reply.body[:100]
    ack = ack_of(proto, reply)
    assert (ack.batches, ack.readings, ack.duplicate_batches, ack.last_seq) == (1, 3, 0, 17)
    # The Ack means committed: an independent reader and the REST read API see the readings now.
    assert db_readings(collector.db, device) == sorted(rows)
    assert rest_readings(collector, device) == rows
    # The same batch again is a duplicate.
    again = ack_of(proto, push_call(collector, proto, device, batch, content_type, transport))
    assert (again.batches, again.readings, again.duplicate_batches, again.last_seq) == (1, 0, 1, 17)
    protocol = "grpc-web-text" if text else "grpc-web"

    def counted():
        row = ledger_row(collector, device, protocol)
        return row if row and row["calls"] == 2 and row["readings"] == 3 and row["bytes_out"] > 0 else None

    row = wait_until(counted, message=f"a {protocol} ledger row for {device}")
    assert (row["batches"], row["duplicate_batches"], row["errors"]) == (2, 1, 0), row
    assert row["bytes_in"] > 2 * len(batch.SerializeToString()), row
    other = "grpc-web" if text else "grpc-web-text"
    assert ledger_row(collector, device, other) is None, f"{device} counted under {other} too"


def test_text_push_split_into_separately_padded_segments(proto, collector):
    """A text body may be several padded base64 segments (the spec's in-stream padding): here 1, 2 and the rest of
    the frame's bytes, each base64-encoded on its own."""
    pb = proto.pb
    batch, rows = batch_of(pb, 3, count=4)
    raw = frame(batch.SerializeToString())
    body = b"".join(base64.b64encode(part) for part in (raw[:1], raw[1:3], raw[3:]))
    assert body.count(b"=") >= 3
    reply = h1_call(collector, "Push", body, web_headers("application/grpc-web-text", "segments-1"))
    ack = ack_of(proto, reply)
    assert (ack.readings, ack.last_seq) == (4, 3)
    assert db_readings(collector.db, "segments-1") == sorted(rows)


@pytest.mark.parametrize("transport", ["h1", "h2"])
def test_accept_grpc_web_text_makes_a_binary_requests_answer_text(proto, collector, transport):
    batch, rows = batch_of(proto.pb, 5)
    reply = push_call(collector, proto, f"accept-{transport}", batch, "application/grpc-web", transport,
                      extra={"Accept": "application/grpc-web-text"})
    assert reply.headers["content-type"] == "application/grpc-web-text+proto"
    assert re.fullmatch(rb"[A-Za-z0-9+/=]+", reply.body), reply.body[:100]
    ack = ack_of(proto, reply)
    assert (ack.batches, ack.readings, ack.last_seq) == (1, 3, 5)
    assert db_readings(collector.db, f"accept-{transport}") == sorted(rows)


def test_two_pushes_on_one_keep_alive_connection(proto, collector):
    pb = proto.pb
    conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=CALL_TIMEOUT)
    try:
        conn.connect()
        local = conn.sock.getsockname()
        b1, r1 = batch_of(pb, 1, start=T0)
        b2, r2 = batch_of(pb, 2, start=T0 + 10_000)
        first = push_call(collector, proto, "keepalive-1", b1, "application/grpc-web", conn=conn)
        assert not first.will_close, first.headers
        second = push_call(collector, proto, "keepalive-1", b2, "application/grpc-web-text", conn=conn)
        assert conn.sock is not None and conn.sock.getsockname() == local, "http.client reconnected"
        assert (ack_of(proto, first).last_seq, ack_of(proto, second).last_seq) == (1, 2)
    finally:
        conn.close()
    assert db_readings(collector.db, "keepalive-1") == sorted(r1 + r2)
    # One connection, counted once (under the protocol of its first call).
    row = wait_until(lambda: ledger_row(collector, "keepalive-1", "grpc-web"), message="a grpc-web row")
    assert row["connections"] == 1, row


def test_native_grpc_content_type_over_http1_is_415_json(proto, collector):
    batch, _ = batch_of(proto.pb, 1)
    reply = h1_call(collector, "Push", frame(batch.SerializeToString()),
                    {"Content-Type": "application/grpc", "device-id": "native-1"})
    assert reply.status == 415, (reply.status, reply.body)
    assert reply.headers["content-type"].startswith("application/json")
    answer = json.loads(reply.body)
    assert answer["error"] == "unsupported_media_type" and "application/grpc-web" in answer["message"], answer
    nothing_stored(collector, "native-1")


# -- Trailers-Only refusals and bad input ------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["h1", "h2"])
@pytest.mark.parametrize("case", ["unknown-method", "no-device-id", "upload", "sync"])
def test_refusals_are_trailers_only(proto, collector, transport, case):
    pb = proto.pb
    device = f"refused-{case}-{transport}"
    batch, _ = batch_of(pb, 1)
    body = frame(batch.SerializeToString())
    method = {"unknown-method": "Nope", "upload": "Upload", "sync": "Sync"}.get(case, "Push")
    headers = web_headers("application/grpc-web", None if case == "no-device-id" else device)
    call = h2_call if transport == "h2" else h1_call
    status, message = call(collector, method, body, headers).trailers_only()
    if case == "unknown-method":
        assert status == UNIMPLEMENTED and "/telemetry.v1.Telemetry/Nope" in message, (status, message)
    elif case == "no-device-id":
        assert status == INVALID_ARGUMENT and "device-id" in message, (status, message)
    else:
        assert status == UNIMPLEMENTED, (status, message)
        assert f"/telemetry.v1.Telemetry/{method}" in message, message
        assert "Push" in message and "/v1/devices/" in message, f"should point to Push and REST: {message}"
    nothing_stored(collector, device)
    # The text mode's refusals are text too.
    reply = call(collector, method, base64.b64encode(body), {**headers, "Content-Type": "application/grpc-web-text"})
    assert reply.headers["content-type"] == "application/grpc-web-text+proto", reply.headers
    assert reply.trailers_only()[0] == status
    nothing_stored(collector, device)


@pytest.mark.parametrize("transport", ["h1", "h2"])
def test_grpc_message_is_percent_encoded(proto, collector, transport):
    """A '%' in the message (here from the request path) travels as %25 (PROTOCOL-HTTP2.md, Status-Message)."""
    body = frame(batch_of(proto.pb, 1)[0].SerializeToString())
    call = h2_call if transport == "h2" else h1_call
    reply = call(collector, "N%C3%B6pe", body, web_headers("application/grpc-web", "pct-1"))
    raw = reply.headers.get("grpc-message", "")
    assert re.fullmatch(r"[\x20-\x24\x26-\x7e]*(%[0-9A-F]{2}[\x20-\x24\x26-\x7e]*)*", raw), raw
    status, message = reply.trailers_only()
    assert status == UNIMPLEMENTED and "/telemetry.v1.Telemetry/N%C3%B6pe" in message, (status, message)
    status, message = push_call(collector, proto, "50%off", batch_of(proto.pb, 1)[0], transport=transport) \
        .trailers_only()
    assert status == INVALID_ARGUMENT and "device-id" in message, (status, message)
    nothing_stored(collector, "50%off")


def _bad_bodies(pb):
    batch, _ = batch_of(pb, 1)
    good = frame(batch.SerializeToString())
    return {
        # (body, text mode, grpc-status, a pattern the message must match)
        "not-base64": (base64.b64encode(good)[:8] + b"!!!!" + base64.b64encode(good)[12:], True,
                       INVALID_ARGUMENT, r"base64.*\b8\b"),
        "base64-not-whole-quanta": (base64.b64encode(good)[:-1], True, INVALID_ARGUMENT,
                                    r"base64.*byte %d\b" % (len(base64.b64encode(good)) - 1)),
        "length-past-limit": (b"\x00" + (4 * 1024 * 1024 + 1).to_bytes(4, "big") + b"\x08\x01", False,
                              RESOURCE_EXHAUSTED, r"\b4194305\b"),
        "length-past-limit-text": (base64.b64encode(b"\x00\x7f\xff\xff\xff" + b"\x08\x01\x00"), True,
                                   RESOURCE_EXHAUSTED, r"\b2147483647\b"),
        "trailer-flag": (frame(b"grpc-status: 0\r\n", 0x80), False, INVALID_ARGUMENT, r"trailer.*0x80|0x80.*trailer"),
        "trailer-after-message": (good + frame(b"grpc-status: 0\r\n", 0x80), False, INVALID_ARGUMENT,
                                  r"trailer.*0x80|0x80.*trailer"),
        "trailer-flag-text": (base64.b64encode(frame(b"", 0x80)), True, INVALID_ARGUMENT, r"trailer"),
        "truncated-frame": (good[:-3], False, INVALID_ARGUMENT, r"\b3 bytes missing|ended inside"),
        "truncated-prefix": (good[:3], False, INVALID_ARGUMENT, r"ended inside|missing"),
        "truncated-text": (base64.b64encode(good[:-5]), True, INVALID_ARGUMENT, r"\b5 bytes missing|ended inside"),
        "garbage-protobuf": (frame(b"\xff\xff\xff"), False, INVALID_ARGUMENT, r"varint.*byte 0"),
    }


@pytest.mark.parametrize("transport", ["h1", "h2"])
@pytest.mark.parametrize("case", ["not-base64", "base64-not-whole-quanta", "length-past-limit",
                                  "length-past-limit-text", "trailer-flag", "trailer-after-message",
                                  "trailer-flag-text", "truncated-frame", "truncated-prefix", "truncated-text",
                                  "garbage-protobuf"])
def test_bad_input_gets_its_status_and_a_message_naming_it(proto, collector, case, transport):
    body, text, want, pattern = _bad_bodies(proto.pb)[case]
    device = f"bad-{transport}-{case}"
    content_type = TEXT_TYPES[0] if text else BINARY_TYPES[0]
    call = h2_call if transport == "h2" else h1_call
    reply = call(collector, "Push", body, web_headers(content_type, device))
    if reply.body:  # refused after the response head: the status is in the trailer frame
        messages, trailers = reply.parsed()
        assert messages == []
        status, message = int(trailers["grpc-status"]), grpc_message(trailers)
    else:
        status, message = reply.trailers_only()
    assert status == want, (case, status, message)
    assert re.search(pattern, message, re.I), f"{case}: {message!r} does not match {pattern!r}"
    nothing_stored(collector, device)
    # The collector is fine afterwards.
    ok = push_call(collector, proto, device, batch_of(proto.pb, 2)[0], content_type, transport)
    assert ack_of(proto, ok).readings == 3
    # The ledger books the refused call as a call with an error, under the device and the request's encoding.
    protocol = "grpc-web-text" if text else "grpc-web"
    row = wait_until(lambda: (r := ledger_row(collector, device, protocol)) and r["readings"] == 3 and r,
                     message=f"the {protocol} row of {device}")
    assert (row["calls"], row["errors"]) == (2, 1), row


# -- authentication -----------------------------------------------------------------------------------------------


def test_auth_on_wrong_token_is_unauthenticated_and_closes_the_http1_connection(proto, start_collector, tmp_path):
    auth = AuthFiles(tmp_path / "keys")
    secured = start_collector(*auth.args())
    batch, rows = batch_of(proto.pb, 1)
    for content_type in ("application/grpc-web", "application/grpc-web-text"):
        for token in ("Bearer " + auth.token("other-device"), "Bearer nonsense", None):
            extra = {"Authorization": token} if token else {}
            body = encode_request(batch.SerializeToString(), content_type)
            head = web_headers(content_type, "secure-1", extra)
            # Raw socket: the refusal is Trailers-Only, and then the collector closes the connection.
            with socket.create_connection(("127.0.0.1", secured.port), timeout=CALL_TIMEOUT) as sock:
                lines = [f"POST {SERVICE}Push HTTP/1.1", "Host: collector", f"Content-Length: {len(body)}"]
                lines += [f"{k}: {v}" for k, v in head.items()]
                sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
                raw = b""
                while chunk := sock.recv(65_536):
                    raw += chunk
            head_text, _, rest = raw.partition(b"\r\n\r\n")
            status_line, *header_lines = head_text.decode("latin-1").split("\r\n")
            headers = [tuple(x.strip() for x in line.split(":", 1)) for line in header_lines]
            reply = Reply(int(status_line.split()[1]), headers, rest)
            assert reply.headers.get("connection", "").lower() == "close", reply.headers
            status, message = reply.trailers_only()
            assert status == UNAUTHENTICATED, (token, status, message)
            assert auth.admin() not in message and auth.token("secure-1") not in message
    # HTTP/2 too.
    reply = push_call(secured, proto, "secure-1", batch, transport="h2", extra={"Authorization": "Bearer nonsense"})
    assert reply.trailers_only()[0] == UNAUTHENTICATED
    nothing_stored(secured, "secure-1")
    # The device's own token works.
    good = push_call(secured, proto, "secure-1", batch, extra=auth.device_headers("secure-1"))
    assert ack_of(proto, good).readings == 3
    assert rest_readings(secured, "secure-1", headers=auth.admin_headers()) == rows


@pytest.mark.parametrize("transport", ["h1", "h2"])
def test_watch_needs_the_admin_token(proto, start_collector, tmp_path, transport):
    auth = AuthFiles(tmp_path / "keys")
    secured = start_collector(*auth.args())
    body = frame(proto.pb.WatchRequest().SerializeToString())
    call = h2_call if transport == "h2" else h1_call
    for extra in ({}, auth.device_headers("pump-1"), {"Authorization": "Bearer nonsense"}):
        reply = call(secured, "Watch", body, web_headers("application/grpc-web", extra=extra))
        status, message = reply.trailers_only()
        assert status == UNAUTHENTICATED, (extra, status, message)
        assert auth.admin() not in message
    watcher = (H1Watch if transport == "h1" else H2Watch)(secured, proto, extra=auth.admin_headers())
    try:
        batch, _ = batch_of(proto.pb, 1, count=1)
        assert ack_of(proto, push_call(secured, proto, "pump-1", batch,
                                       extra=auth.device_headers("pump-1"))).readings == 1
        got = watcher.wait_for(1)
        assert [(r[0], r[1], r[2]) for r in got] == [("pump-1", "temperature", T0)]
    finally:
        watcher.close()


# -- Watch ---------------------------------------------------------------------------------------------------------


def expand(pb, payload: bytes) -> list[tuple]:
    """The readings of one DeviceBatch message: [(device, sensor, ts, value, seq)]."""
    message = pb.DeviceBatch()
    message.ParseFromString(payload)
    return device_batch_rows(message)


class _Watch:
    """A gRPC-Web Watch read on its own thread: `messages` (DeviceBatch payloads) grow as frames arrive; `trailers`
    is set when the trailer frame comes; `ended` when the response body ends."""

    def __init__(self, collector, proto, content_type="application/grpc-web", extra=None, **request):
        self.pb = proto.pb
        self.text = content_type.startswith("application/grpc-web-text")
        self.body = encode_request(proto.pb.WatchRequest(**request).SerializeToString(), content_type)
        self.headers = web_headers(content_type, extra=extra)
        self.collector = collector
        self.data = b""  # the decoded body so far (text mode: decoded quantum by quantum)
        self._pending_text = b""
        self.messages: list[bytes] = []
        self.trailers = None
        self.ended = False
        self.error = None
        self.response_headers = None
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self._open()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.subscribed.wait(CALL_TIMEOUT), f"no response head within {CALL_TIMEOUT} s ({self.error})"
        assert self.error is None, self.error

    def _feed(self, data: bytes):
        if self.text:
            self._pending_text += data
            whole = len(self._pending_text) // 4 * 4
            data, self._pending_text = decode_text(self._pending_text[:whole]), self._pending_text[whole:]
        with self.lock:
            self.data += data
            self.messages, self.trailers, _ = split_frames(self.data)

    def _run(self):
        try:
            self._read()
        except Exception as error:  # noqa: BLE001 - reported by the test through `error`
            if not getattr(self, "closing", False):
                self.error = repr(error)
        finally:
            self.subscribed.set()

    @property
    def rows(self) -> list[tuple]:
        with self.lock:
            messages = list(self.messages)
        return [row for m in messages for row in expand(self.pb, m)]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple]:
        wait_until(lambda: len(self.rows) >= count or self.ended or self.error, timeout=timeout,
                   message=lambda: f"{count} watched readings (have {len(self.rows)}, error {self.error})")
        assert self.error is None, self.error
        return self.rows

    def wait_end(self, timeout: float = 10.0):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"the watch did not end within {timeout} s"
        assert self.error is None, self.error
        assert self.ended and self.trailers is not None, (self.ended, self.trailers)
        return self.trailers


class H1Watch(_Watch):
    """Over HTTP/1.1 on a raw socket: the response must be chunked; chunks are decoded here (RFC 9112 7.1)."""

    def _open(self):
        self.sock = socket.create_connection(("127.0.0.1", self.collector.port), timeout=30)
        lines = [f"POST {SERVICE}Watch HTTP/1.1", "Host: collector", f"Content-Length: {len(self.body)}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + self.body)
        self.closing = False
        self.chunk_sizes = []

    def _read(self):
        buffer = b""

        def more():
            nonlocal buffer
            data = self.sock.recv(65_536)
            if not data:
                raise EOFError("the connection closed inside the chunked body")
            buffer += data

        while b"\r\n\r\n" not in buffer:
            more()
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.response_headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
        self.subscribed.set()
        if "grpc-status" in self.response_headers:  # Trailers-Only
            self.ended = True
            return
        assert self.response_headers.get("transfer-encoding", "").lower() == "chunked", self.response_headers
        assert "content-length" not in self.response_headers
        while True:
            while b"\r\n" not in buffer:
                more()
            size_line, _, buffer = buffer.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            self.chunk_sizes.append(size)
            if size == 0:
                while not buffer.startswith(b"\r\n"):  # no trailer fields: the body ends with CRLF
                    assert len(buffer) < 2, f"trailer fields after the last chunk: {buffer[:100]!r}"
                    more()
                self.rest_after_body = buffer[2:]
                self.ended = True
                return
            while len(buffer) < size + 2:
                more()
            assert buffer[size:size + 2] == b"\r\n", "a chunk not followed by CRLF"
            self._feed(buffer[:size])
            buffer = buffer[size + 2:]

    def close(self):
        self.closing = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)


class H2Watch(_Watch):
    def _open(self):
        self.client = H2Client(self.collector.port)
        self.stream = self.client.start("POST", SERVICE + "Watch", self.headers, self.body)
        self.closing = False

    def _read(self):
        import h2.events

        def on_event(event):
            if getattr(event, "stream_id", None) != self.stream:
                return
            if isinstance(event, h2.events.ResponseReceived):
                self.response_headers = {k: v for k, v in event.headers}
                self.status = int(self.response_headers[":status"])
                self.subscribed.set()
                if "grpc-status" in self.response_headers and event.stream_ended:
                    self.ended = True
            elif isinstance(event, h2.events.DataReceived):
                self._feed(event.data)
            elif isinstance(event, h2.events.TrailersReceived):
                raise AssertionError(f"HTTP/2 trailers in a gRPC-Web answer: {event.headers}")
            elif isinstance(event, h2.events.StreamEnded):
                self.ended = True
            elif isinstance(event, h2.events.StreamReset):
                raise AssertionError(f"watch stream reset with error code {event.error_code}")

        self.client.sock.settimeout(30)
        while not self.ended:
            if not self.client.pump(on_event):
                raise EOFError("the connection closed before the watch ended")

    def cancel(self):
        """Ends the call from the client side: RST_STREAM(CANCEL) (a browser's AbortController)."""
        import h2.errors

        self.closing = True
        self.client.conn.reset_stream(self.stream, h2.errors.ErrorCodes.CANCEL)
        self.client.sock.sendall(self.client.conn.data_to_send())

    def close(self):
        self.closing = True
        try:
            self.client.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.client.sock.close()
        self.thread.join(5)


WATCHES = {"h1": H1Watch, "h2": H2Watch}


@pytest.mark.parametrize("content_type", ["application/grpc-web", "application/grpc-web-text"])
@pytest.mark.parametrize("transport", ["h1", "h2"])
def test_watch_streams_live_batches_while_pushes_happen(proto, collector, transport, content_type):
    pb = proto.pb
    text = content_type.endswith("-text")
    watcher = WATCHES[transport](collector, proto, content_type)
    try:
        assert watcher.status == 200
        assert watcher.response_headers["content-type"] == ("application/grpc-web-text+proto" if text
                                                            else "application/grpc-web+proto")
        assert "grpc-status" not in watcher.response_headers
        assert watcher.messages == []
        expected, seqs = [], []
        for seq in range(1, 6):
            for device, ctype in (("live-a", "application/grpc-web"), ("live-b", "application/grpc-web-text")):
                batch, rows = batch_of(pb, seq, start=T0 + seq * 10_000, count=seq)
                assert ack_of(proto, push_call(collector, proto, device, batch, ctype)).readings == seq
                expected += [(device, *row) for row in rows]
                seqs += [seq] * seq
            # Each batch arrives while the watch is open, before the next push: it is streamed, not buffered.
            watcher.wait_for(len(expected))
        # A duplicate sends nothing.
        again, _ = batch_of(pb, 5, start=T0 + 50_000, count=5)
        assert ack_of(proto, push_call(collector, proto, "live-a", again)).duplicate_batches == 1
        time.sleep(0.3)
        got = watcher.rows
        assert [(d, s, t, v) for d, s, t, v, _ in got] == expected
        assert [seq for *_, seq in got] == seqs
        assert len(watcher.messages) == 10, "one message per committed batch"
        assert watcher.trailers is None and not watcher.ended and watcher.error is None
        if transport == "h1":
            assert len(watcher.chunk_sizes) >= 10, watcher.chunk_sizes
    finally:
        watcher.close()
    # The client went away; the collector goes on: pushes are acked, another watch works.
    batch, _ = batch_of(pb, 9, start=T0 + 900_000, count=1)
    assert ack_of(proto, push_call(collector, proto, "live-a", batch)).readings == 1
    second = WATCHES[transport](collector, proto, devices=["live-b"])
    try:
        batch, _ = batch_of(pb, 9, start=T0 + 900_000, count=2)
        push_call(collector, proto, "live-a", batch_of(pb, 10, start=T0 + 990_000, count=1)[0])
        assert ack_of(proto, push_call(collector, proto, "live-b", batch)).readings == 2
        assert [r[:3] for r in second.wait_for(2)] == [("live-b", "temperature", T0 + 900_000),
                                                       ("live-b", "temperature", T0 + 901_000)]
        time.sleep(0.2)
        assert len(second.rows) == 2, "the devices filter let another device through"
    finally:
        second.close()

    def watch_row():
        rows = get_json(collector, "/v1/bandwidth").get("protocols", [])
        return next((r for r in rows if r.get("protocol") == "watch" and r.get("calls", 0) >= 2
                     and r.get("bytes_out", 0) > 0), None)

    wait_until(watch_row, message="the watchers counted in a `watch` row of /v1/bandwidth")


@pytest.mark.parametrize("transport", ["h1", "h2"])
def test_watch_ends_with_the_trailer_frame_when_its_timeout_passes(proto, collector, transport):
    watcher = WATCHES[transport](collector, proto, extra={"grpc-timeout": "800m"})
    try:
        batch, _ = batch_of(proto.pb, 1, count=2)
        ack_of(proto, push_call(collector, proto, "timed-1", batch))
        trailers = watcher.wait_end(timeout=10)
        assert trailers["grpc-status"] == str(DEADLINE_EXCEEDED), trailers
        assert [r[:3] for r in watcher.rows] == [("timed-1", "temperature", T0), ("timed-1", "temperature", T0 + 1000)]
        if transport == "h1":
            assert watcher.chunk_sizes[-1] == 0 and watcher.rest_after_body == b""
    finally:
        watcher.close()


def test_h1_watch_is_followed_by_a_request_on_the_same_connection(proto, collector):
    """A chunked Watch ends with its trailer frame and the last chunk; the connection stays usable."""
    watcher = H1Watch(collector, proto, extra={"grpc-timeout": "300m"})
    try:
        trailers = watcher.wait_end()
        assert trailers["grpc-status"] == str(DEADLINE_EXCEEDED)
        batch, rows = batch_of(proto.pb, 1)
        body = frame(batch.SerializeToString())
        lines = [f"POST {SERVICE}Push HTTP/1.1", "Host: collector", f"Content-Length: {len(body)}",
                 "Content-Type: application/grpc-web", "device-id: after-watch", "Connection: close"]
        watcher.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        raw = watcher.rest_after_body
        while chunk := watcher.sock.recv(65_536):
            raw += chunk
        head, _, payload = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        messages, trailers = parse_body(payload, text=False)
        assert trailers["grpc-status"] == "0" and len(messages) == 1
    finally:
        watcher.close()
    assert db_readings(collector.db, "after-watch") == sorted(rows)


@pytest.mark.parametrize("transport", ["h1", "h2"])
def test_watch_ends_with_unavailable_when_the_collector_stops(proto, collector, transport):
    watcher = WATCHES[transport](collector, proto)
    try:
        collector.terminate()
        trailers = watcher.wait_end(timeout=15)
        assert trailers["grpc-status"] == str(UNAVAILABLE), trailers
        collector.stop()
    finally:
        watcher.close()


def test_h2_watch_cancelled_by_the_client(proto, collector):
    """RST_STREAM(CANCEL) ends the call (what a browser's AbortController does); the collector goes on."""
    watcher = H2Watch(collector, proto)
    try:
        batch, _ = batch_of(proto.pb, 1, count=1)
        ack_of(proto, push_call(collector, proto, "cancel-1", batch))
        watcher.wait_for(1)
        watcher.cancel()
        time.sleep(0.2)
        ack = ack_of(proto, push_call(collector, proto, "cancel-1", batch_of(proto.pb, 2, start=T0 + 9000)[0],
                                      transport="h2"))
        assert ack.readings == 3
        time.sleep(0.2)
        assert len(watcher.rows) == 1, "batches sent on a cancelled stream"
    finally:
        watcher.close()


@pytest.mark.parametrize("transport", ["h1", "h2"])
def test_watch_bad_request_is_trailers_only_invalid_argument(proto, collector, transport):
    body = frame(proto.pb.WatchRequest(devices=["bad device!"]).SerializeToString())
    call = h2_call if transport == "h2" else h1_call
    status, message = call(collector, "Watch", body, web_headers("application/grpc-web")).trailers_only()
    assert status == INVALID_ARGUMENT and '"bad device!"' in message, (status, message)


# -- CORS ----------------------------------------------------------------------------------------------------------


def preflight(collector, origin: str, request_headers: str | None = "Content-Type, X-Grpc-Web, Device-Id",
              method: str = "POST", path: str = SERVICE + "Push", transport: str = "h1") -> Reply:
    """A browser's CORS preflight (OPTIONS with Origin and Access-Control-Request-Method)."""
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if request_headers is not None:
        headers["Access-Control-Request-Headers"] = request_headers
    if transport == "h2":
        client = H2Client(collector.port)
        try:
            return client.call("OPTIONS", path, headers)
        finally:
            client.close()
    conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=CALL_TIMEOUT)
    try:
        conn.request("OPTIONS", path, headers=headers)
        r = conn.getresponse()
        return Reply(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


def split_list(value: str) -> list[str]:
    return [x.strip() for x in value.split(",") if x.strip()]


@pytest.mark.parametrize("transport", ["h1", "h2"])
@pytest.mark.parametrize("cors", [ORIGIN, f"http://other.example,{ORIGIN}", "*"])
def test_preflight_from_an_allowed_origin(proto, start_collector, cors, transport):
    collector = start_collector("--cors-origin", cors)
    for path in (SERVICE + "Push", SERVICE + "Watch", "/v1/devices/d/readings"):
        reply = preflight(collector, ORIGIN, path=path, transport=transport)
        assert reply.status == 204, (path, reply.status, reply.body)
        assert reply.body == b""
        # Exactly one Access-Control-Allow-Origin (a browser refuses a preflight with two), naming the origin.
        assert reply.all("access-control-allow-origin") in ([ORIGIN], ["*"]), reply.header_list
        if reply.headers["access-control-allow-origin"] != "*":
            assert "origin" in [v.lower() for v in split_list(", ".join(reply.all("vary")))], reply.header_list
        methods = split_list(reply.headers["access-control-allow-methods"])
        assert {"POST", "OPTIONS"} <= set(methods) and set(methods) <= {"GET", "HEAD", "POST", "OPTIONS"}, methods
        assert split_list(reply.headers["access-control-allow-headers"]) == ["content-type", "x-grpc-web",
                                                                             "device-id"]
        assert int(reply.headers["access-control-max-age"]) > 0
    # Whatever headers the page asks for are echoed (grpc-web's own and ours), lower-cased.
    asked = "X-User-Agent, Authorization, grpc-timeout, Content-Type"
    reply = preflight(collector, ORIGIN, request_headers=asked, transport=transport)
    assert reply.status == 204
    assert split_list(reply.headers["access-control-allow-headers"]) == split_list(asked.lower())
    # A preflight for a simple request asks for no headers.
    reply = preflight(collector, ORIGIN, request_headers=None, transport=transport)
    assert reply.status == 204, reply.body
    assert reply.all("access-control-allow-origin") in ([ORIGIN], ["*"]), reply.header_list


@pytest.mark.parametrize("transport", ["h1", "h2"])
def test_actual_response_exposes_the_grpc_headers(proto, start_collector, transport):
    collector = start_collector("--cors-origin", ORIGIN)
    batch, rows = batch_of(proto.pb, 1)
    for content_type in ("application/grpc-web", "application/grpc-web-text"):
        reply = push_call(collector, proto, "cors-1", batch, content_type, transport, extra={"Origin": ORIGIN})
        assert reply.all("access-control-allow-origin") == [ORIGIN], reply.header_list
        exposed = [x.lower() for x in split_list(reply.headers["access-control-expose-headers"])]
        assert {"grpc-status", "grpc-message"} <= set(exposed), exposed
        ack_of(proto, reply)
    # A Trailers-Only refusal must expose its status too: it is all the page gets.
    reply = push_call(collector, proto, None, batch, transport=transport, extra={"Origin": ORIGIN})
    assert reply.trailers_only()[0] == INVALID_ARGUMENT
    assert reply.all("access-control-allow-origin") == [ORIGIN], reply.header_list
    exposed = [x.lower() for x in split_list(reply.headers["access-control-expose-headers"])]
    assert {"grpc-status", "grpc-message"} <= set(exposed), exposed
    # No Origin (not a browser's cross-origin call): no CORS headers.
    plain = push_call(collector, proto, "cors-1", batch, transport=transport)
    assert not [k for k, _ in plain.header_list if k.startswith("access-control-")], plain.header_list
    assert db_readings(collector.db, "cors-1") == sorted(rows)


@pytest.mark.parametrize("transport", ["h1", "h2"])
def test_preflight_from_a_refused_origin_is_403_naming_it(proto, start_collector, transport):
    collector = start_collector("--cors-origin", ORIGIN)
    for origin in ("http://evil.example", "http://app.example:5174", "https://app.example:5173"):
        reply = preflight(collector, origin, transport=transport)
        assert reply.status == 403, (origin, reply.status, reply.body)
        assert reply.headers["content-type"].startswith("application/json")
        message = reply.body.decode()
        assert origin in message and "--cors-origin" in message, message
        assert not reply.all("access-control-allow-origin"), reply.header_list


@pytest.mark.parametrize("transport", ["h1", "h2"])
def test_default_refuses_a_foreign_origins_preflight(proto, collector, transport):
    reply = preflight(collector, "http://evil.example", transport=transport)
    assert reply.status == 403, (reply.status, reply.body)
    assert "http://evil.example" in reply.body.decode() and "--cors-origin" in reply.body.decode()
    assert not reply.all("access-control-allow-origin"), reply.header_list
    # An actual call from that origin is not given CORS headers (the browser hides the answer from the page).
    batch, _ = batch_of(proto.pb, 1)
    reply = push_call(collector, proto, "foreign-1", batch, transport=transport,
                      extra={"Origin": "http://evil.example"})
    assert not reply.all("access-control-allow-origin"), reply.header_list
