"""The Connect protocol (connectrpc.com/docs/protocol) for unary Push, end to end, with independent clients: curl with
JSON bodies written here by hand (protobuf's canonical JSON mapping, both field spellings, 64-bit integers as
strings or numbers), protobuf bodies and JSON bodies made by the protoc-generated Python stubs (`SerializeToString`,
`json_format`), and Python's sqlite3 and the REST read API as the oracles for what was stored.

- `POST /telemetry.v1.Telemetry/Push` with `Content-Type: application/json` or `application/proto`: HTTP 200, the
  Ack in the request's codec (`{"batches":"1","readings":"3","lastSeq":"17"}` in JSON), the readings stored and
  readable over REST, a repeated batch counted as a duplicate, a ledger row `connect` with the device.
- Errors are HTTP statuses from the protocol's table with the JSON body `{"code","message"}`: an unknown JSON
  field (400 invalid_argument naming the field and its path), a wrong type (400 naming the path and the type), an
  undecodable protobuf body, a missing `device-id` (400), a wrong or missing token with `--auth on` (401
  unauthenticated), an unsupported Connect-Protocol-Version or Connect-Timeout-Ms (400); nothing is stored after
  any of them, and the collector takes a good Push afterwards. Upload, Sync, Watch and unknown methods are 501
  unimplemented naming what to use, a compressed body 501 naming its encoding, too many readings 400 naming the
  limit, an expired Connect-Timeout-Ms 504 deadline_exceeded; two Pushes share one keep-alive connection.
- A body over the HTTP/1.1 body limit is refused at the head as a Connect error (429 resource_exhausted).
"""

from __future__ import annotations

import http.client
import json
import time

import pytest

from fwtest import CALL_TIMEOUT, AuthFiles, curl, db_batches, db_readings, http_request, make_series, wait_until

T0 = 1_732_190_000_000
PUSH = "/telemetry.v1.Telemetry/Push"


def batch_of(pb, seq: int, sensor: str = "temperature", start: int = T0, count: int = 3, first: int = 2154):
    series, rows = make_series(pb, sensor, -2, [start + i * 1000 for i in range(count)],
                               [first + 7 * i for i in range(count)])
    return pb.Batch(seq=seq, series=[series]), rows


def rows_of(sensor: str, start: int, mantissas, exponent: int = -2, step: int = 1000):
    return [(sensor, start + i * step, float(f"{m}e{exponent}")) for i, m in enumerate(mantissas)]


def connect_push(collector, body: bytes | str, content_type: str = "application/json", device: str | None = None,
                 extra: dict | None = None):
    """A Connect unary Push with curl over HTTP/1.1; returns fwtest.Response."""
    headers = {"Content-Type": content_type, "Connect-Protocol-Version": "1"}
    if device is not None:
        headers["device-id"] = device
    headers.update(extra or {})
    args = []
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    return curl(collector, PUSH, *args, data=body)


def rest_readings(collector, device: str, headers=None) -> list[tuple]:
    r = http_request(collector, "GET", f"/v1/devices/{device}/readings?limit=1000", headers=headers)
    assert r.status == 200, (r.status, r.body)
    return [(x["sensor"], x["ts"], x["value"]) for x in r.json()["readings"]]


def nothing_stored(collector, device: str):
    assert db_readings(collector.db, device) == [], f"readings stored for {device}"
    assert db_batches(collector.db, device) == [], f"batches stored for {device}"


def connect_error(reply, http_status: int, code: str) -> str:
    """Checks a Connect error answer and returns its message."""
    assert reply.status == http_status, (reply.status, reply.body)
    assert reply.headers["content-type"].startswith("application/json"), reply.headers
    error = json.loads(reply.body)
    assert error["code"] == code, error
    assert set(error) <= {"code", "message", "details"}, error
    return error.get("message", "")


# -- Push ---------------------------------------------------------------------------------------------------------


def test_json_push_with_curl_is_acked_stored_and_readable(proto, collector):
    body = ('{"seq":"17","series":[{"sensor":"temperature","exponent":-2,"startMs":"1732190000000",'
            '"intervalMs":1000,"mantissaDeltas":["2154","7","-9"]}]}')
    reply = connect_push(collector, body, device="connect-json-1")
    assert reply.status == 200, (reply.status, reply.body)
    assert reply.headers["content-type"].startswith("application/json"), reply.headers
    assert json.loads(reply.body) == {"batches": "1", "readings": "3", "lastSeq": "17"}
    rows = rows_of("temperature", T0, [2154, 2161, 2152])
    # The Ack means committed: an independent reader and the REST read API see the readings now.
    assert db_readings(collector.db, "connect-json-1") == sorted(rows)
    assert rest_readings(collector, "connect-json-1") == rows
    # The same batch again is a duplicate, stored once.
    again = connect_push(collector, body, device="connect-json-1")
    assert json.loads(again.body) == {"batches": "1", "duplicateBatches": "1", "lastSeq": "17"}
    assert db_batches(collector.db, "connect-json-1") == [(17, 3)]


def test_json_push_in_every_spelling_the_mapping_allows(proto, collector):
    # .proto names, 64-bit as numbers, 32-bit as strings, whole numbers with exponents, null defaults, irregular
    # times, and deltas split between the list and packed_deltas ([7, -9] at 5 bits, base64 without padding).
    body = ('{"seq": 3e0, "series": [{"sensor": "humidity", "exponent": "-1", "start_ms": 1732190000000,'
            ' "ref": null, "mantissa_deltas": [500], "packed_deltas": "AgUuAg", "time_deltas_ms": ["250", 1.75e3]}]}')
    reply = connect_push(collector, body, "application/json; charset=utf-8", device="connect-json-2")
    assert reply.status == 200, (reply.status, reply.body)
    assert json.loads(reply.body) == {"batches": "1", "readings": "3", "lastSeq": "3"}
    rows = [("humidity", T0, 50.0), ("humidity", T0 + 250, 50.7), ("humidity", T0 + 2000, 49.8)]
    assert rest_readings(collector, "connect-json-2") == rows


def test_push_with_bodies_made_by_the_generated_stubs(proto, collector):
    from google.protobuf import json_format

    pb = proto.pb
    batch, rows = batch_of(pb, 5)
    reply = connect_push(collector, batch.SerializeToString(), "application/proto", device="connect-proto-1")
    assert reply.status == 200, (reply.status, reply.body)
    assert reply.headers["content-type"] == "application/proto", reply.headers
    ack = pb.Ack()
    ack.ParseFromString(reply.body)
    assert (ack.batches, ack.readings, ack.duplicate_batches, ack.last_seq) == (1, 3, 0, 5)
    assert rest_readings(collector, "connect-proto-1") == rows
    # protobuf's own JSON printer, and its parser for the answer.
    batch2, rows2 = batch_of(pb, 6, start=T0 + 10_000, first=-40)
    reply = connect_push(collector, json_format.MessageToJson(batch2), device="connect-proto-1")
    assert reply.status == 200, (reply.status, reply.body)
    ack = json_format.Parse(reply.body, pb.Ack())
    assert (ack.batches, ack.readings, ack.duplicate_batches, ack.last_seq) == (1, 3, 0, 6)
    assert rest_readings(collector, "connect-proto-1") == rows + rows2


def test_two_pushes_on_one_keep_alive_connection_in_both_codecs(proto, collector):
    pb = proto.pb
    b1, r1 = batch_of(pb, 1)
    b2, r2 = batch_of(pb, 2, start=T0 + 10_000)
    conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=CALL_TIMEOUT)
    try:
        conn.request("POST", PUSH, body=b1.SerializeToString(),
                     headers={"Content-Type": "application/proto", "device-id": "connect-keepalive"})
        first = conn.getresponse()
        first_body = first.read()
        assert first.status == 200 and not first.will_close, (first.status, first_body)
        local = conn.sock.getsockname()
        from google.protobuf import json_format
        conn.request("POST", PUSH, body=json_format.MessageToJson(b2),
                     headers={"Content-Type": "application/json", "device-id": "connect-keepalive"})
        second = conn.getresponse()
        second_body = second.read()
        assert second.status == 200, (second.status, second_body)
        assert conn.sock is not None and conn.sock.getsockname() == local, "http.client reconnected"
    finally:
        conn.close()
    ack = pb.Ack()
    ack.ParseFromString(first_body)
    assert ack.last_seq == 1
    assert json.loads(second_body) == {"batches": "1", "readings": "3", "lastSeq": "2"}
    assert rest_readings(collector, "connect-keepalive") == r1 + r2


def test_connect_pushes_are_booked_as_connect(proto, collector):
    batch, _ = batch_of(proto.pb, 1)
    assert connect_push(collector, batch.SerializeToString(), "application/proto", device="connect-ledger").status == 200

    def booked():
        r = http_request(collector, "GET", "/v1/bandwidth/devices?protocol=connect")
        assert r.status == 200, (r.status, r.body)
        row = next((x for x in r.json()["devices"] if x["device"] == "connect-ledger"), None)
        return row if row and row["readings"] == 3 and row["bytes_in"] > 0 and row["bytes_out"] > 0 else None

    row = wait_until(booked, message="a connect ledger row")
    assert row["errors"] == 0, row


# -- errors -------------------------------------------------------------------------------------------------------

GOOD_SERIES = '{"sensor":"t","intervalMs":1000,"startMs":"1732190000000","mantissaDeltas":["1"]}'

JSON_ERRORS = {
    # body, a pattern the message must contain
    "unknown-field": ('{"seq":"1","series":[' + GOOD_SERIES + ',{"sensor":"u","colour":"red"}]}',
                      "series[1].colour: unknown field"),
    "unknown-top-field": ('{"seq":"1","device":"x"}', "device: unknown field"),
    "wrong-type": ('{"seq":"1","series":[{"sensor":"t","startMs":[]}]}',
                   "series[0].startMs: expected an int64 (number or string), got an array"),
    "wrong-type-seq": ('{"seq":true}', "seq: expected a uint64 (number or string), got a boolean"),
    "fraction": ('{"seq":1.5}', "seq: expected a uint64 (number or string), got a number with a fractional part"),
    "out-of-range": ('{"seq":"1","series":[{"sensor":"t","intervalMs":4294967296}]}',
                     "series[0].intervalMs: number out of range"),
    "repeated-field": ('{"seq":"1","series":[{"sensor":"t","startMs":"1","start_ms":"2"}]}',
                       "series[0].start_ms: field given more than once"),
    "not-json": ('{"seq":', "invalid JSON"),
    "bad-base64": ('{"seq":"1","series":[{"sensor":"t","packedDeltas":"A*"}]}', "series[0].packedDeltas"),
    "seq-zero": ('{"seq":"0","series":[' + GOOD_SERIES + ']}', "seq must be at least 1"),
    "stream-context": ('{"seq":"1","series":[{"ref":1,"mantissaDeltas":["1"]}]}', "series[0].ref"),
}


@pytest.mark.parametrize("case", sorted(JSON_ERRORS))
def test_bad_json_is_400_invalid_argument_naming_the_problem(proto, collector, case):
    body, pattern = JSON_ERRORS[case]
    device = f"connect-bad-{case}"
    message = connect_error(connect_push(collector, body, device=device), 400, "invalid_argument")
    assert pattern in message, f"{case}: {message!r} does not contain {pattern!r}"
    nothing_stored(collector, device)
    # The collector is fine afterwards.
    good = '{"seq":"1","series":[' + GOOD_SERIES + ']}'
    assert connect_push(collector, good, device=device).status == 200


def test_undecodable_protobuf_is_400_invalid_argument(proto, collector):
    message = connect_error(connect_push(collector, b"\xff\xff\xff", "application/proto", device="connect-bad-pb"),
                            400, "invalid_argument")
    assert message, "the message should say what is wrong"
    nothing_stored(collector, "connect-bad-pb")


def test_missing_device_id_is_400_naming_it(proto, collector):
    batch, _ = batch_of(proto.pb, 1)
    for body, content_type in ((batch.SerializeToString(), "application/proto"),
                               ('{"seq":"1","series":[' + GOOD_SERIES + ']}', "application/json")):
        message = connect_error(connect_push(collector, body, content_type), 400, "invalid_argument")
        assert "device-id" in message, message
    assert db_batches(collector.db, "") == []


@pytest.mark.parametrize("header,value,pattern", [
    ("Connect-Protocol-Version", "2", "connect-protocol-version"),
    ("Connect-Timeout-Ms", "soon", "connect-timeout-ms"),
    ("Connect-Timeout-Ms", "12345678901", "connect-timeout-ms"),
])
def test_bad_connect_headers_are_400(proto, collector, header, value, pattern):
    batch, _ = batch_of(proto.pb, 1)
    device = f"connect-header-{header[-3:]}-{len(value)}"
    reply = connect_push(collector, batch.SerializeToString(), "application/proto", device=device,
                         extra={header: value})
    message = connect_error(reply, 400, "invalid_argument")
    assert pattern in message.lower() and value in message, message
    nothing_stored(collector, device)


def test_auth_on_wrong_or_missing_token_is_401_unauthenticated(proto, start_collector, tmp_path):
    auth = AuthFiles(tmp_path / "keys")
    secured = start_collector(*auth.args())
    batch, rows = batch_of(proto.pb, 1)
    for token in ("Bearer " + auth.token("other-device"), "Bearer nonsense", None):
        extra = {"Authorization": token} if token else {}
        for body, content_type in ((batch.SerializeToString(), "application/proto"),
                                   ('{"seq":"1","series":[' + GOOD_SERIES + ']}', "application/json")):
            reply = connect_push(secured, body, content_type, device="connect-secure", extra=extra)
            message = connect_error(reply, 401, "unauthenticated")
            assert auth.token("connect-secure") not in message and auth.admin() not in message
    nothing_stored(secured, "connect-secure")
    # The device's own token works.
    good = connect_push(secured, batch.SerializeToString(), "application/proto", device="connect-secure",
                        extra=auth.device_headers("connect-secure"))
    assert good.status == 200, (good.status, good.body)
    assert rest_readings(secured, "connect-secure", headers=auth.admin_headers()) == rows


@pytest.mark.parametrize("method,pattern", [
    ("Upload", "Push"),
    ("Sync", "Push"),
    ("Watch", "gRPC-Web"),
    ("Nope", "/telemetry.v1.Telemetry/Nope"),
])
def test_methods_connect_unary_cannot_carry_are_501_unimplemented(proto, collector, method, pattern):
    batch, _ = batch_of(proto.pb, 1)
    device = f"connect-method-{method}"
    reply = curl(collector, f"/telemetry.v1.Telemetry/{method}", "-H", "Content-Type: application/proto",
                 "-H", f"device-id: {device}", data=batch.SerializeToString())
    message = connect_error(reply, 501, "unimplemented")
    assert pattern in message, message
    nothing_stored(collector, device)


def test_compressed_bodies_are_501_naming_the_encoding(proto, collector):
    batch, _ = batch_of(proto.pb, 1)
    reply = connect_push(collector, batch.SerializeToString(), "application/proto", device="connect-gzip",
                         extra={"Content-Encoding": "gzip"})
    assert "gzip" in connect_error(reply, 501, "unimplemented")
    nothing_stored(collector, "connect-gzip")


def test_too_many_readings_is_400_naming_the_limit(proto, collector):
    body = json.dumps({"seq": "1", "series": [{"sensor": "t", "intervalMs": 1, "startMs": "1",
                                               "mantissaDeltas": ["1"] * 100_001}]})
    message = connect_error(connect_push(collector, body, device="connect-many"), 400, "invalid_argument")
    assert "series[0].mantissaDeltas: more than 100000 readings" in message, message
    nothing_stored(collector, "connect-many")


def test_an_expired_timeout_is_504_deadline_exceeded(proto, collector):
    batch, _ = batch_of(proto.pb, 1)
    reply = connect_push(collector, batch.SerializeToString(), "application/proto", device="connect-late",
                         extra={"Connect-Timeout-Ms": "0"})
    connect_error(reply, 504, "deadline_exceeded")


def test_a_body_over_the_limit_is_a_connect_error(proto, collector):
    """Refused at the head (the declared length is over --max-body-bytes), in Connect's form, naming the sizes."""
    body = json.dumps({"seq": "1", "series": [{"sensor": "t", "intervalMs": 1, "startMs": "1",
                                               "mantissaDeltas": ["1"] * 300_000}]})
    assert len(body) > 1 << 20
    reply = connect_push(collector, body, device="connect-huge")
    nothing_stored(collector, "connect-huge")
    message = connect_error(reply, 429, "resource_exhausted")
    assert "larger than the 1048576-byte body limit" in message, message


# -- Connect over HTTP/2 ------------------------------------------------------------------------------------------


def test_the_same_calls_over_h2c(proto, collector):
    """Connect over HTTP/2 (as a browser speaks it over TLS) is the same call: the Ack in the request's codec, the
    readings stored, errors with their HTTP status and JSON body, the ledger row `connect`."""
    pb = proto.pb
    batch, rows = batch_of(pb, 1)
    reply = curl(collector, PUSH, "-H", "Content-Type: application/proto", "-H", "device-id: connect-h2",
                 data=batch.SerializeToString(), http2=True)
    assert (reply.status, reply.version) == (200, "2"), (reply.status, reply.version, reply.body)
    assert reply.headers["content-type"] == "application/proto"
    ack = pb.Ack()
    ack.ParseFromString(reply.body)
    assert (ack.batches, ack.readings, ack.last_seq) == (1, 3, 1)
    batch2, rows2 = batch_of(pb, 2, start=T0 + 10_000)
    from google.protobuf import json_format
    reply = curl(collector, PUSH, "-H", "Content-Type: application/json", "-H", "device-id: connect-h2",
                 data=json_format.MessageToJson(batch2), http2=True)
    assert reply.status == 200 and json.loads(reply.body) == {"batches": "1", "readings": "3", "lastSeq": "2"}
    assert rest_readings(collector, "connect-h2") == rows + rows2
    reply = curl(collector, PUSH, "-H", "Content-Type: application/json", "-H", "device-id: connect-h2",
                 data='{"seq":"3","colour":"red"}', http2=True)
    assert "colour" in connect_error(reply, 400, "invalid_argument")
    reply = curl(collector, "/telemetry.v1.Telemetry/Sync", "-H", "Content-Type: application/json",
                 "-H", "device-id: connect-h2", http2=True)
    assert "Push" in connect_error(reply, 501, "unimplemented")
    assert rest_readings(collector, "connect-h2") == rows + rows2

    def booked():
        r = http_request(collector, "GET", "/v1/bandwidth/devices?protocol=connect")
        row = next((x for x in r.json()["devices"] if x["device"] == "connect-h2"), None)
        return row if row and row["readings"] == 6 else None
    row = wait_until(booked, message="the connect row of connect-h2")
    # The bad JSON body is the device's call; Sync, refused at its headers before any call, is the protocol's.
    assert (row["calls"], row["errors"]) == (3, 1), row


# -- Connect server streaming: Watch --------------------------------------------------------------------------------


def _envelope(flags: int, message: bytes) -> bytes:
    return bytes([flags]) + len(message).to_bytes(4, "big") + message


def _envelopes(body: bytes):
    out, offset = [], 0
    while offset + 5 <= len(body):
        length = int.from_bytes(body[offset + 1:offset + 5], "big")
        out.append((body[offset], body[offset + 5:offset + 5 + length]))
        offset += 5 + length
    return out


@pytest.mark.parametrize("codec", ["json", "proto"])
def test_watch_over_connect_streaming_sends_enveloped_device_batches(proto, collector, codec):
    """Watch with `application/connect+json` (or `+proto`) over HTTP/1.1: one envelope per committed batch of the
    followed device, in the request's codec, decoded here by protobuf's own JSON parser; the client's close ends it."""
    import socket
    import threading
    from google.protobuf import json_format

    pb = proto.pb
    request = pb.WatchRequest(devices=["connect-watch"])
    message = json_format.MessageToJson(request).encode() if codec == "json" else request.SerializeToString()
    body = _envelope(0, message)
    sock = socket.create_connection(("127.0.0.1", collector.port), timeout=CALL_TIMEOUT)
    sock.sendall(f"POST /telemetry.v1.Telemetry/Watch HTTP/1.1\r\nHost: x\r\n"
                 f"Content-Type: application/connect+{codec}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    received = bytearray()

    def read_until(pred):
        deadline = time.time() + CALL_TIMEOUT
        while not pred() and time.time() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received.extend(chunk)
        assert pred(), bytes(received)

    read_until(lambda: b"\r\n\r\n" in received)
    head, _, _ = bytes(received).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert f"content-type: application/connect+{codec}".encode() in head.lower(), head
    assert b"transfer-encoding: chunked" in head.lower(), head

    def body_so_far():
        data = bytes(received).partition(b"\r\n\r\n")[2]
        out = bytearray()
        while b"\r\n" in data:
            size_line, _, rest = data.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0 or len(rest) < size + 2:
                break
            out += rest[:size]
            data = rest[size + 2:]
        return bytes(out)

    pushed = []
    for seq in (1, 2):
        batch, _ = batch_of(pb, seq, start=T0 + seq * 10_000)
        assert connect_push(collector, batch.SerializeToString(), "application/proto", device="connect-watch").status == 200
        assert connect_push(collector, batch.SerializeToString(), "application/proto", device="other").status == 200
        pushed.append(batch)
    read_until(lambda: len(_envelopes(body_so_far())) >= 2)
    messages = []
    for flags, payload in _envelopes(body_so_far()):
        assert flags == 0
        if codec == "json":
            messages.append(json_format.Parse(payload, pb.DeviceBatch()))
        else:
            message = pb.DeviceBatch()
            message.ParseFromString(payload)
            messages.append(message)
    assert [m.device for m in messages] == ["connect-watch", "connect-watch"]
    assert [m.batch for m in messages] == pushed
    sock.close()


def test_watch_over_connect_streaming_errors_end_the_stream_in_its_last_envelope(proto, collector):
    body = _envelope(0, b'{"colour":1}')
    reply = curl(collector, "/telemetry.v1.Telemetry/Watch", "-H", "Content-Type: application/connect+json",
                 data=body)
    assert reply.status == 200 and reply.headers["content-type"] == "application/connect+json"
    (flags, payload), = _envelopes(reply.body)
    assert flags == 0x02
    error = json.loads(payload)["error"]
    assert error["code"] == "invalid_argument" and "colour: unknown field" in error["message"], error
    reply = curl(collector, PUSH, "-H", "Content-Type: application/connect+json", "-H", "device-id: d", data=body)
    (flags, payload), = _envelopes(reply.body)
    assert json.loads(payload)["error"]["code"] == "unimplemented"


def test_watch_over_connect_streaming_on_h2c(proto, collector):
    """The same Watch over HTTP/2 (curl, h2c prior knowledge): envelopes of the followed device's batches, and an
    early failure as HTTP 200 with the end-of-stream envelope alone."""
    import subprocess
    import tempfile
    from google.protobuf import json_format

    pb = proto.pb
    body = _envelope(0, json_format.MessageToJson(pb.WatchRequest(devices=["connect-watch-h2"])).encode())
    with tempfile.TemporaryDirectory() as tmp:
        request, head, output = f"{tmp}/request", f"{tmp}/head", f"{tmp}/output"
        with open(request, "wb") as f:
            f.write(body)

        def read(path):  # curl creates its files when it first writes them
            try:
                with open(path, "rb") as f:
                    return f.read()
            except FileNotFoundError:
                return b""

        watcher = subprocess.Popen(
            ["curl", "-sS", "--noproxy", "*", "--http2-prior-knowledge", "-N", "--max-time", "6",
             "-H", "Content-Type: application/connect+json", "--data-binary", f"@{request}", "-D", head,
             "-o", output, collector.url + "/telemetry.v1.Telemetry/Watch"])
        try:
            # The response head goes out once the watch is registered: push only then.
            wait_until(lambda: b"HTTP/2 200" in read(head), message="the watch's response head")
            batch, _ = batch_of(pb, 1)
            assert connect_push(collector, batch.SerializeToString(), "application/proto",
                                device="connect-watch-h2").status == 200
            wait_until(lambda: _envelopes(read(output)), message="the watched batch")
        finally:
            watcher.terminate()  # the watcher leaving is how a watch ends
            watcher.wait(timeout=CALL_TIMEOUT)
        (flags, payload), = _envelopes(read(output))
    assert flags == 0
    message = json_format.Parse(payload, pb.DeviceBatch())
    assert message.device == "connect-watch-h2" and message.batch == batch

    reply = curl(collector, "/telemetry.v1.Telemetry/Watch", "-H", "Content-Type: application/connect+json",
                 data=_envelope(0, b'{"sinceMs":[]}'), http2=True)
    assert (reply.status, reply.version) == (200, "2")
    (flags, payload), = _envelopes(reply.body)
    assert flags == 0x02 and json.loads(payload)["error"]["code"] == "invalid_argument", payload
