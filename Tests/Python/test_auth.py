"""Authentication and authorization end to end, with clients that are not ours (grpcio, curl, nghttp, http.client)
against a collector started with `--auth on`, and every token computed independently with Python's hmac.

- A device writes only its own telemetry: its token stores; no token, a malformed or a wrong one is 401 /
  UNAUTHENTICATED; another device's real token is 403 / PERMISSION_DENIED; nothing refused is stored.
- Revocation through `collector devices revoke` while the collector runs is refused within about 3 s (the
  collector rereads the deny list every second), also on an Upload stream that was already open; restore
  accepts the device again.
- Reads and the dashboard need the admin token (the dashboard also as `?token=`); /healthz and /readyz are open;
  /metrics needs it unless `--metrics-auth none`.
- `collector token` prints what Python's hmac computes; created key files are mode 0600.
- Refused requests are answered from their head (a huge body is never read) and their bytes are still counted.
- No token appears in the log, in any error body, or in any grpc-message.
"""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import threading
import time

import grpc
import pytest

from fwtest import (CALL_TIMEOUT, CHANNEL_OPTIONS, COLLECTOR_BIN, AuthFiles, curl, db_batches, db_query,
                    http_request, nghttp_request, simple_batch, wait_until)

T0 = 1_732_190_000_000
WRONG_TOKEN = "0123456789abcdef" * 4  # well-formed, nobody's


@pytest.fixture
def auth(tmp_path) -> AuthFiles:
    return AuthFiles(tmp_path / "keys")


@pytest.fixture
def secured(start_collector, auth):
    """A collector with authentication on; it creates the key and token files on start."""
    return start_collector(*auth.args())


@pytest.fixture
def secured_stub(proto, secured):
    channel = grpc.insecure_channel(secured.address, options=CHANNEL_OPTIONS)
    yield proto.grpc.TelemetryStub(channel)
    channel.close()


def rest_batch(seq: int, value: float = 21.5) -> dict:
    return {"seq": seq, "readings": [{"sensor": "temperature", "ts": T0 + seq * 1000, "value": value}]}


def post(collector, device, seq, headers=None):
    return http_request(collector, "POST", f"/v1/devices/{device}/readings", rest_batch(seq), headers=headers)


def grpc_md(device, token=None):
    md = [("device-id", device)]
    if token is not None:
        md.append(("authorization", f"Bearer {token}"))
    return md


def grpc_error(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value


# -- provisioning ------------------------------------------------------------------------------------------------


def test_created_key_files_are_private_and_collector_token_equals_pythons_hmac(secured, auth):
    for path in (auth.fleet_key, auth.admin_token_file):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
        content = path.read_bytes()
        assert re.fullmatch(rb"[0-9a-f]{64}\n", content), "64 hex digits and a newline"
    assert f"created fleet key at {auth.fleet_key}" in secured.log()
    assert f"created admin token at {auth.admin_token_file}" in secured.log()
    for device in ("dev-1", "a", "x.y:z-9_", "Z" * 128):
        done = subprocess.run([str(COLLECTOR_BIN), "token", device, "--fleet-key-file", str(auth.fleet_key)],
                              capture_output=True, text=True, timeout=10)
        assert done.returncode == 0, done.stderr
        assert done.stdout == auth.token(device) + "\n"  # the token and nothing else
    bad = subprocess.run([str(COLLECTOR_BIN), "token", "bad id", "--fleet-key-file", str(auth.fleet_key)],
                         capture_output=True, text=True, timeout=10)
    assert bad.returncode == 2 and bad.stdout == ""
    assert "invalid device id" in bad.stderr
    missing = subprocess.run([str(COLLECTOR_BIN), "token", "dev-1", "--fleet-key-file", str(auth.directory / "no")],
                             capture_output=True, text=True, timeout=10)
    assert missing.returncode == 1 and "cannot read" in missing.stderr


def test_an_existing_key_file_is_used_as_it_is_and_a_short_one_is_refused(start_collector, tmp_path):
    auth = AuthFiles(tmp_path / "own")
    auth.directory.mkdir()
    auth.fleet_key.write_bytes(b"my own fleet key, long enough\r\n")
    auth.admin_token_file.write_text("my-own-admin-token-0001\n")
    os.chmod(auth.fleet_key, 0o644)  # too open: used, with a warning naming the file
    collector = start_collector(*auth.args())
    assert auth.token("dev-1") == __import__("hmac").new(b"my own fleet key, long enough", b"dev-1",
                                                         "sha256").hexdigest()
    assert post(collector, "dev-1", 1, auth.device_headers("dev-1")).status == 200
    log = collector.log()
    assert re.search(rf"WARN fleet key: {re.escape(str(auth.fleet_key))} can be read or written by group", log), log
    assert "my own fleet key" not in log and "my-own-admin-token" not in log
    collector.stop()
    auth.fleet_key.write_text("short\n")
    done = subprocess.run([str(COLLECTOR_BIN), "serve", "--listen", "127.0.0.1:0", "--db", str(tmp_path / "x.db"),
                           *auth.args()], capture_output=True, text=True, timeout=20)
    assert done.returncode == 2
    assert f"--fleet-key-file {auth.fleet_key}: the fleet key has 5 bytes; at least 16 are needed" in done.stderr


def test_auth_off_logs_a_loud_warning(start_collector):
    collector = start_collector("--auth", "off")
    assert "WARN WARNING: authentication is OFF: any client can write as any device and read all telemetry" \
        in collector.log()


# -- REST ingest ------------------------------------------------------------------------------------------------


def test_rest_device_writes_only_its_own_telemetry(secured, auth):
    assert post(secured, "dev-a", 1, auth.device_headers("dev-a")).status == 200
    refusals = {
        "missing": (None, 401),
        "malformed": ({"Authorization": "Bearer not-a-token"}, 401),
        "other scheme": ({"Authorization": f"Basic {auth.token('dev-b')}"}, 401),
        "wrong": ({"Authorization": f"Bearer {WRONG_TOKEN}"}, 401),
        "a as b": (auth.device_headers("dev-a"), 403),
        "admin": (auth.admin_headers(), 403),
    }
    for name, (headers, status) in refusals.items():
        r = post(secured, "dev-b", 1, headers)
        assert r.status == status, (name, r.status, r.body)
        body = r.json()
        assert body["error"] == ("unauthenticated" if status == 401 else "forbidden"), name
        if status == 401:
            assert r.headers["www-authenticate"].startswith("Bearer"), name
        assert r.headers.get("connection") == "close", "a refused request with a body is answered at its head"
    assert "another device" in post(secured, "dev-b", 1, auth.device_headers("dev-a")).json()["message"]
    assert db_batches(secured.db, "dev-b") == []
    assert db_batches(secured.db, "dev-a") == [(1, 1)]
    assert post(secured, "dev-b", 1, auth.device_headers("dev-b")).status == 200


def test_a_stolen_token_of_a_device_already_in_the_store_is_recognised_after_a_restart(start_collector, auth,
                                                                                     tmp_path):
    collector = start_collector(*auth.args())
    assert post(collector, "dev-old", 1, auth.device_headers("dev-old")).status == 200
    collector.stop()
    # A new run knows dev-old's token from the store (no request of dev-old in this run).
    again = start_collector(*auth.args(), db=collector.db)
    r = post(again, "dev-new", 1, auth.device_headers("dev-old"))
    assert r.status == 403 and "another device" in r.json()["message"], r.body


def test_rest_over_h2c_is_checked_at_the_headers(secured, auth):
    body = b'{"seq":1,"readings":[{"sensor":"t","ts":1732190000000,"value":1}]}'
    status, answer = nghttp_request(secured, "/v1/devices/h2-dev/readings", body,
                                    headers=["content-type: application/json"])
    assert status == 401 and b"unauthenticated" in answer
    status, answer = nghttp_request(secured, "/v1/devices/h2-dev/readings", body,
                                    headers=["content-type: application/json",
                                             f"authorization: Bearer {auth.token('other')}"])
    assert status == 401, answer  # 'other' never authenticated and is not in the store: nobody's token
    status, answer = nghttp_request(secured, "/v1/devices/h2-dev/readings", body,
                                    headers=["content-type: application/json",
                                             f"authorization: Bearer {auth.token('h2-dev')}"])
    assert status == 200, answer
    assert db_batches(secured.db, "h2-dev") == [(1, 1)]
    r = curl(secured, "/v1/devices", http2=True)
    assert (r.status, r.version) == (401, "2")
    r = curl(secured, "/v1/devices", "-H", f"Authorization: Bearer {auth.admin()}", http2=True)
    assert (r.status, r.version) == (200, "2")


def test_an_unauthenticated_huge_body_is_refused_at_the_head_without_being_read(secured):
    """A body of 1,000,000 bytes announced (just under the 1 MiB limit) and 4 KiB of it sent: the 401 comes at once,
    and the collector closes; the client never has to send (nor the collector buffer) the rest."""
    with socket.create_connection(("127.0.0.1", secured.port), timeout=CALL_TIMEOUT) as s:
        s.sendall(b"POST /v1/devices/dev-x/readings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 1000000\r\n\r\n" + b"{" * 4096)
        received = b""
        while b"\r\n\r\n" not in received or not received.endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            received += chunk
    assert received.startswith(b"HTTP/1.1 401 "), received[:200]
    assert b"connection: close" in received.lower()


# -- gRPC ingest ------------------------------------------------------------------------------------------------


def test_grpc_device_writes_only_its_own_telemetry(proto, secured_stub, secured, auth):
    pb = proto.pb
    batch, _ = simple_batch(pb, 1)
    ack = secured_stub.Push(batch, metadata=grpc_md("g-a", auth.token("g-a")), timeout=CALL_TIMEOUT)
    assert (ack.batches, ack.last_seq) == (1, 1)
    cases = {
        "missing": (grpc_md("g-b"), grpc.StatusCode.UNAUTHENTICATED),
        "malformed": ([("device-id", "g-b"), ("authorization", "Bearer 123")], grpc.StatusCode.UNAUTHENTICATED),
        "wrong": (grpc_md("g-b", WRONG_TOKEN), grpc.StatusCode.UNAUTHENTICATED),
        "a as b": (grpc_md("g-b", auth.token("g-a")), grpc.StatusCode.PERMISSION_DENIED),
        "admin": (grpc_md("g-b", auth.admin()), grpc.StatusCode.PERMISSION_DENIED),
    }
    for name, (metadata, code) in cases.items():
        error = grpc_error(lambda: secured_stub.Push(batch, metadata=metadata, timeout=CALL_TIMEOUT))
        assert error.code() == code, (name, error.code(), error.details())
        # Upload too: refused at its headers, before any message is read.
        error = grpc_error(lambda: secured_stub.Upload(iter([batch, batch]), metadata=metadata, timeout=CALL_TIMEOUT))
        assert error.code() == code, (name, error.code(), error.details())
    assert db_batches(secured.db, "g-b") == []
    ack = secured_stub.Upload(iter([simple_batch(pb, s)[0] for s in (1, 2)]),
                              metadata=grpc_md("g-b", auth.token("g-b")), timeout=CALL_TIMEOUT)
    assert (ack.batches, ack.last_seq) == (2, 2)


def test_refused_calls_store_nothing_and_their_bytes_are_counted(proto, secured_stub, secured, auth):
    pb = proto.pb
    batch, _ = simple_batch(pb, 1)
    for _ in range(3):
        grpc_error(lambda: secured_stub.Push(batch, metadata=grpc_md("c-b", WRONG_TOKEN), timeout=CALL_TIMEOUT))
        assert post(secured, "c-b", 1, {"Authorization": f"Bearer {WRONG_TOKEN}"}).status == 401
    admin = auth.admin_headers()

    def settled():
        bandwidth = http_request(secured, "GET", "/v1/bandwidth", headers=admin).json()
        rows = {p["protocol"]: p for p in bandwidth["protocols"]}
        total_in = sum(p["bytes_in"] for p in bandwidth["protocols"])
        return bandwidth if (rows.get("grpc-unary", {}).get("errors") == 3 and rows.get("rest-json", {}).get("errors")
                             == 3 and total_in == bandwidth["socket_bytes_in"]) else None

    bandwidth = wait_until(settled, message="refused calls counted")
    rows = {p["protocol"]: p for p in bandwidth["protocols"]}
    assert rows["grpc-unary"]["bytes_in"] > 0 and rows["rest-json"]["bytes_in"] > 0
    assert rows["grpc-unary"]["readings"] == 0 and rows["rest-json"]["readings"] == 0
    # Booked to the protocols' overhead rows, never to the device they claimed to be.
    devices = http_request(secured, "GET", "/v1/bandwidth/devices", headers=admin).json()["devices"]
    assert not [d for d in devices if d["device"] == "c-b"]
    assert db_batches(secured.db, "c-b") == []
    metrics = http_request(secured, "GET", "/metrics", headers=admin).body.decode()
    assert 'fleetwire_errors_total{transport="grpc",code="UNAUTHENTICATED"} 3' in metrics
    assert 'fleetwire_errors_total{transport="http",code="401"}' in metrics


# -- revocation ------------------------------------------------------------------------------------------------


def devices_cli(*args):
    return subprocess.run([str(COLLECTOR_BIN), "devices", *args], capture_output=True, text=True, timeout=20)


def test_revoke_and_restore_while_the_collector_runs(proto, secured_stub, secured, auth):
    pb = proto.pb
    md = grpc_md("r-1", auth.token("r-1"))
    assert secured_stub.Push(simple_batch(pb, 1)[0], metadata=md, timeout=CALL_TIMEOUT).batches == 1
    done = devices_cli("revoke", "r-1", "r-2", "--db", str(secured.db))
    assert done.returncode == 0 and "revoked 2 device(s)" in done.stdout, done.stderr
    revoked_at = time.monotonic()

    def refused():
        try:
            secured_stub.Push(simple_batch(pb, 2)[0], metadata=md, timeout=CALL_TIMEOUT)
            return None
        except grpc.RpcError as error:
            return error

    error = wait_until(refused, timeout=3.5, interval=0.1, message="revocation in effect")
    assert time.monotonic() - revoked_at < 3.5
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED and error.details() == "device r-1 is revoked"
    r = post(secured, "r-1", 3, auth.device_headers("r-1"))
    assert r.status == 403 and r.json()["message"] == "device r-1 is revoked"
    # A wrong token is still a 401: revocation is not revealed to whoever cannot authenticate.
    assert post(secured, "r-1", 3, {"Authorization": f"Bearer {WRONG_TOKEN}"}).status == 401
    listed = devices_cli("revoked", "--db", str(secured.db))
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["r-1", "r-2"]
    # Seq 2 may have been stored by a probe before the revocation took effect; seq 3 came after it.
    assert [seq for seq, _ in db_batches(secured.db, "r-1")] in ([1], [1, 2])

    assert devices_cli("restore", "r-1", "--db", str(secured.db)).returncode == 0
    wait_until(lambda: post(secured, "r-1", 4, auth.device_headers("r-1")).status == 200, timeout=3.5,
               interval=0.1, message="restore in effect")
    assert [seq for seq, _ in db_batches(secured.db, "r-1")] in ([1, 4], [1, 2, 4])
    assert "deny list changed: 2 devices revoked" in secured.log()


def test_an_open_upload_stream_is_refused_at_its_next_message_after_revocation(proto, secured, auth):
    pb = proto.pb
    md = grpc_md("s-1", auth.token("s-1"))
    release = threading.Event()

    def batches():
        yield simple_batch(pb, 1)[0]
        release.wait(timeout=20)
        yield simple_batch(pb, 2, start_ms=T0 + 60_000)[0]

    channel = grpc.insecure_channel(secured.address, options=CHANNEL_OPTIONS)
    stub = proto.grpc.TelemetryStub(channel)
    future = stub.Upload.future(batches(), metadata=md, timeout=30)
    try:
        wait_until(lambda: db_batches(secured.db, "s-1") == [(1, 3)], message="batch 1 committed")
        assert devices_cli("revoke", "s-1", "--db", str(secured.db)).returncode == 0
        # The collector has reread the deny list once a new call of s-1 is refused.
        other = proto.grpc.TelemetryStub(channel)
        wait_until(lambda: _push_refused(other, pb, md), timeout=3.5, interval=0.1, message="revocation in effect")
        release.set()
        with pytest.raises(grpc.RpcError) as info:
            future.result(timeout=CALL_TIMEOUT)
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert info.value.details() == "device s-1 is revoked"
        # Batch 2 came after the revocation: not stored (seq 9 is the probe's, stored before it took effect).
        assert 2 not in [seq for seq, _ in db_batches(secured.db, "s-1")]
        assert db_batches(secured.db, "s-1")[0] == (1, 3)
    finally:
        release.set()
        channel.close()


def _push_refused(stub, pb, md) -> bool:
    try:
        stub.Push(simple_batch(pb, 9)[0], metadata=md, timeout=CALL_TIMEOUT)
        return False
    except grpc.RpcError as error:
        return error.code() == grpc.StatusCode.PERMISSION_DENIED


def test_devices_cli_errors():
    done = devices_cli("revoke", "--db", "/nonexistent/telemetry.db", "dev-1")
    assert done.returncode == 1 and "no database file there" in done.stderr
    done = devices_cli("revoke", "bad id", "--db", "/nonexistent/telemetry.db")
    assert done.returncode == 2 and "invalid device id" in done.stderr
    done = devices_cli("frobnicate")
    assert done.returncode == 2 and "unknown devices command" in done.stderr
    for command in ("revoke", "restore", "revoked"):
        helped = devices_cli(command, "--help")
        assert helped.returncode == 0 and "--db PATH" in helped.stdout
    usage = subprocess.run([str(COLLECTOR_BIN), "help"], capture_output=True, text=True, timeout=10).stdout
    assert "token" in usage and "devices" in usage


# -- reads ------------------------------------------------------------------------------------------------------


READS = ["/v1/devices", "/v1/devices/dev-a", "/v1/devices/dev-a/readings", "/v1/devices/dev-a/series?sensor=temperature",
         "/v1/bandwidth", "/v1/bandwidth/devices", "/v1/bandwidth/devices/dev-a", "/v1/bandwidth/history", "/"]


def test_reads_need_the_admin_token(secured, auth):
    assert post(secured, "dev-a", 1, auth.device_headers("dev-a")).status == 200
    for path in READS:
        for headers in (None, auth.device_headers("dev-a"), {"Authorization": "Bearer wrong-admin-token"}):
            r = http_request(secured, "GET", path, headers=headers)
            assert r.status == 401, (path, headers, r.status)
            assert r.json()["error"] == "unauthenticated" and r.headers["www-authenticate"].startswith("Bearer")
        r = http_request(secured, "GET", path, headers=auth.admin_headers())
        assert r.status == 200, (path, r.body[:200])
        r = http_request(secured, "HEAD", path)
        assert r.status == 401, path
    for path in ("/healthz", "/readyz"):
        assert http_request(secured, "GET", path).status == 200, path
    assert http_request(secured, "GET", "/metrics").status == 401
    assert http_request(secured, "GET", "/metrics", headers=auth.admin_headers()).status == 200


def test_a_refused_read_keeps_the_connection_alive(secured, auth):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", secured.port, timeout=CALL_TIMEOUT)
    try:
        assert http_request(secured, "GET", "/v1/devices", conn=conn).status == 401
        assert http_request(secured, "GET", "/v1/devices", headers=auth.admin_headers(), conn=conn).status == 200
    finally:
        conn.close()


def test_metrics_can_be_open(start_collector, auth):
    collector = start_collector(*auth.args("--metrics-auth", "none"))
    r = http_request(collector, "GET", "/metrics")
    assert r.status == 200 and "fleetwire_" in r.body.decode()
    assert http_request(collector, "GET", "/v1/bandwidth").status == 401


def test_dashboard_takes_the_token_in_its_address_and_sends_it_as_a_header(secured, auth):
    r = http_request(secured, "GET", "/?token=" + auth.admin())
    assert r.status == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["referrer-policy"] == "no-referrer"
    html = r.body.decode()
    # Two requests carry it, both as a header: the read API's `api()` and the Watch stream over gRPC-Web.
    assert html.count("fetch(") == 2
    assert 'headers["Authorization"] = "Bearer " + TOKEN' in html
    assert 'headers["authorization"] = "Bearer " + TOKEN' in html
    assert "token" not in re.search(r'<script id="fw-api" type="application/json">(.*?)</script>', html, re.S)[1]
    assert http_request(secured, "GET", "/?token=wrong-admin-token").status == 401
    assert http_request(secured, "GET", "/?token=").status == 401


# -- secrecy ----------------------------------------------------------------------------------------------------


def test_no_token_appears_in_the_log_or_in_any_error(proto, start_collector, auth):
    collector = start_collector(*auth.args())  # verbose: info lines (ended calls) are logged too
    pb = proto.pb
    channel = grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS)
    stub = proto.grpc.TelemetryStub(channel)
    texts = []
    try:
        assert post(collector, "leak-a", 1, auth.device_headers("leak-a")).status == 200
        stub.Push(simple_batch(pb, 1)[0], metadata=grpc_md("leak-g", auth.token("leak-g")), timeout=CALL_TIMEOUT)
        presented = [auth.token("leak-a"), auth.token("leak-g"), WRONG_TOKEN, auth.admin(), auth.token("leak-b")]
        for token in presented:
            for device in ("leak-b", "leak-a"):
                r = post(collector, device, 2, {"Authorization": f"Bearer {token}"})
                texts.append(r.body.decode() + str(r.headers))
                r = http_request(collector, "GET", "/v1/devices", headers={"Authorization": f"Bearer {token}"})
                texts.append(r.body.decode() + str(r.headers))
                try:
                    stub.Push(simple_batch(pb, 2)[0], metadata=grpc_md(device, token), timeout=CALL_TIMEOUT)
                except grpc.RpcError as error:
                    texts.append(f"{error.code()} {error.details()} {error.trailing_metadata()}")
        devices_cli("revoke", "leak-g", "--db", str(collector.db))
        wait_until(lambda: _push_refused(stub, pb, grpc_md("leak-g", auth.token("leak-g"))), timeout=3.5,
                   message="revocation in effect")
        texts.append(f"{grpc_error(lambda: stub.Push(simple_batch(pb, 3)[0], metadata=grpc_md('leak-g', auth.token('leak-g')), timeout=CALL_TIMEOUT)).details()}")
    finally:
        channel.close()
    log = collector.stop()
    assert len(texts) >= 25
    secrets = presented + [auth.fleet_key.read_text().strip()]
    for secret in secrets:
        assert secret not in log, "a token in the collector log"
        for text in texts:
            assert secret not in text, f"a token in an error: {text[:300]}"


# -- the OpenAPI contract ---------------------------------------------------------------------------------------


def test_auth_responses_match_the_openapi_document(secured, auth):
    """Every operation's declared `security` is what the collector enforces, and its 401/403 answers match the
    documented status, headers and body schema (checked with test_openapi's validator)."""
    from test_openapi import SPEC, check_response

    assert post(secured, "dev-1", 1, auth.device_headers("dev-1")).status == 200
    example = {"device": "dev-1"}
    checked = 0
    for template, item in SPEC["paths"].items():
        path = template.format(**example)
        for method, op in item.items():
            if method == "parameters":
                continue
            schemes = {name for requirement in op.get("security", SPEC["security"]) for name in requirement}
            optional = {} in op.get("security", SPEC["security"])
            if method == "post":
                r = post(secured, "dev-2", 1)  # no token
                assert r.status == 401 and schemes == {"deviceToken"}, (template, r.status)
                check_response("POST", template, r)
                r = post(secured, "dev-2", 1, auth.device_headers("dev-1"))  # dev-1's token as dev-2
                assert r.status == 403
                check_response("POST", template, r)
                r = post(secured, "dev-2", 1, auth.admin_headers())
                assert r.status == 403
                check_response("POST", template, r)
                checked += 3
                continue
            query = "?sensor=temperature" if template.endswith("/series") else ""
            r = http_request(secured, "GET", path + query)
            if not schemes:
                assert r.status == 200, (template, r.status)  # open
                continue
            assert "adminToken" in schemes, template
            # /metrics declares the admin token as optional: this collector runs with --metrics-auth admin.
            assert r.status == 401, (template, r.status, optional)
            check_response("GET", template, r)
            r = http_request(secured, "GET", path + query, headers=auth.admin_headers())
            assert r.status == 200, (template, r.status, r.body[:200])
            checked += 2
    assert checked == 23  # 3 ingest refusals + 10 admin-only reads × (refused, allowed)


def test_schemathesis_pass_with_the_admin_token(start_collector, auth, tmp_path):
    """A short bounded fuzz pass against a collector with authentication on, every request carrying the admin
    token: reads are served, ingest is refused with the documented 403, and nothing is undocumented."""
    import sys

    from test_openapi import FUZZ_CHECKS, SPEC_PATH

    collector = start_collector(*auth.args())
    cmd = [sys.executable, "-m", "schemathesis.cli", "run", str(SPEC_PATH), "--url", collector.url,
           "--checks", FUZZ_CHECKS, "--max-examples", "5", "--seed", "20261122", "--workers", "1",
           "--request-timeout", "5", "--max-response-time", "3", "--max-time", "10",
           "--generation-database", "none", "--no-color", "--warnings", "off", "--phases", "examples,coverage",
           "-H", f"Authorization: Bearer {auth.admin()}"]
    env = {**os.environ, "NO_PROXY": "*", "no_proxy": "*"}
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    output = done.stdout + done.stderr
    assert collector.running, f"collector died during the fuzz pass:\n{output[-3000:]}"
    assert done.returncode == 0, f"schemathesis found problems (exit {done.returncode}):\n{output[-6000:]}"
    assert "passed" in output and " 0 generated" not in output, output[-2000:]
    assert auth.admin() not in collector.log()
    # Ingest was refused every time (the admin token cannot write): nothing stored.
    assert db_query(collector.db, "SELECT count(*) FROM batches") == [(0,)]
