"""TLS on the collector's one port, with clients that are not ours: curl --cacert over HTTP/1.1 and HTTP/2 (ALPN),
grpcio with a secure channel, `openssl s_client` with a TLS 1.3 external PSK (identity = device id, key =
`collector token DEV --psk`), and Python's `ssl` module for session resumption (also across a restart, since the
ticket key lives in tls-ticket.key, and not after --rotate-ticket-key); TLS 1.2, the floor, is served and resumes too.

Every collector runs with `--auth on` and its fleet key, admin token, self-signed certificate and ticket key in
the test's own folder (see tlstest.py). The hostile cases, --plaintext deny and startup errors are in
test_tls_hostile.py; the ledger against a packet capture of TLS connections in test_tls_capture.py.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import stat
import subprocess
import time

import grpc
import pytest

from fwtest import CALL_TIMEOUT, CHANNEL_OPTIONS, COLLECTOR_BIN, DEVICE_SIM_BIN, db_batches, db_readings, simple_batch, wait_until
from tlstest import (JSON, T0, check_row_parts, curl_tls, device_rows, handshakes, http_request_bytes, rest_body,
                     s_client_psk, settled_totals, start_tls, tls_roundtrip)


# -- curl over TLS -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("http2", [False, True], ids=["http1.1", "http2"])
def test_curl_over_tls_ingests_and_queries(start_collector, tmp_path, http2):
    collector, keys = start_tls(start_collector, tmp_path)
    assert stat.S_IMODE(os.stat(keys.key).st_mode) == 0o600
    assert "created a self-signed TLS certificate" in collector.log() and str(keys.cert) in collector.log()
    sans = subprocess.run(["openssl", "x509", "-in", str(keys.cert), "-noout", "-ext", "subjectAltName"],
                          capture_output=True, text=True, timeout=10).stdout
    for name in ("DNS:localhost", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1", f"DNS:{socket.gethostname()}"):
        assert name in sans, sans
    key_type = subprocess.run(["openssl", "pkey", "-in", str(keys.key), "-noout", "-text"], capture_output=True,
                              text=True, timeout=10).stdout
    assert "prime256v1" in key_type or "P-256" in key_type, key_type
    device = "curl-h2" if http2 else "curl-h1"
    version = "2" if http2 else "1.1"
    body = json.dumps({"seq": 7, "readings": [{"sensor": "temperature", "ts": T0, "value": 21.54},
                                              {"sensor": "humidity", "ts": T0 + 1000, "value": 40.5}]})
    r = curl_tls(collector, keys, f"/v1/devices/{device}/readings", *JSON, "-H",
                 f"Authorization: Bearer {keys.token(device)}", data=body, http2=http2)
    assert (r.status, r.version) == (200, version), r.body
    assert r.json() == {"batches": 1, "readings": 2, "duplicate_batches": 0, "last_seq": 7}
    # Without the token, over TLS too: 401, nothing stored. (Sent without a body: curl 7.88 over HTTP/2 at times
    # fails an early answer followed by RST_STREAM(NO_ERROR), see fwtest.curl.)
    refused = curl_tls(collector, keys, "/v1/devices/curl-x/readings", "-X", "POST", *JSON, http2=http2)
    assert refused.status == 401, refused.body
    # The query with the admin token.
    q = curl_tls(collector, keys, f"/v1/devices/{device}/readings", "-H",
                 f"Authorization: Bearer {keys.admin()}", http2=http2)
    assert (q.status, q.version) == (200, version), q.body
    got = sorted((x["sensor"], x["ts"], x["value"]) for x in q.json()["readings"])
    assert got == [("humidity", T0 + 1000, 40.5), ("temperature", T0, 21.54)]
    assert db_readings(collector.db, device) == [("humidity", T0 + 1000, 40.5), ("temperature", T0, 21.54)]
    assert db_batches(collector.db, "curl-x") == []
    # The ledger: the device's TLS row splits exactly (when the TLS fields exist) and all rows add up.
    protocol = "rest-json-h2" if http2 else "rest-json"
    row = wait_until(lambda: device_rows(collector, keys, device).get(protocol), message=f"a {protocol} row")
    check_row_parts(row, tls=True)
    settled_totals(collector, keys)
    assert handshakes(collector, keys)["full"] >= 3


# -- grpcio with a secure channel ----------------------------------------------------------------------------------


def test_grpcio_secure_channel_push_and_upload(proto, start_collector, tmp_path):
    pb = proto.pb
    collector, keys = start_tls(start_collector, tmp_path)
    creds = grpc.ssl_channel_credentials(root_certificates=keys.cert.read_bytes())
    md = [("device-id", "g-1"), ("authorization", f"Bearer {keys.token('g-1')}")]
    with grpc.secure_channel(f"127.0.0.1:{collector.port}", creds, options=CHANNEL_OPTIONS) as ch:
        stub = proto.grpc.TelemetryStub(ch)
        ack = stub.Push(simple_batch(pb, 1)[0], metadata=md, timeout=CALL_TIMEOUT)
        assert (ack.batches, ack.readings) == (1, 3)
        first = wait_until(lambda: device_rows(collector, keys, "g-1").get("grpc-unary"), message="a grpc-unary row")
        ack = stub.Push(simple_batch(pb, 2, start_ms=T0 + 10_000)[0], metadata=md, timeout=CALL_TIMEOUT)
        assert ack.last_seq == 2
        grown = wait_until(lambda: (r := device_rows(collector, keys, "g-1").get("grpc-unary"))
                           and r["readings"] == 6 and r, message="the grpc-unary row growing")
        assert grown["bytes_in"] > first["bytes_in"] and grown["bytes_out"] > first["bytes_out"]

        batches = [simple_batch(pb, seq, start_ms=T0 + seq * 100_000)[0] for seq in range(3, 8)]
        ack = stub.Upload(iter(batches), metadata=md, timeout=CALL_TIMEOUT)
        assert (ack.batches, ack.readings, ack.last_seq) == (5, 15, 7)
        stream = wait_until(lambda: (r := device_rows(collector, keys, "g-1").get("grpc-stream"))
                            and r["readings"] == 15 and r, message="a grpc-stream row")
        ack = stub.Upload(iter([simple_batch(pb, 8, start_ms=T0 + 900_000)[0]]), metadata=md, timeout=CALL_TIMEOUT)
        assert ack.last_seq == 8
        grown = wait_until(lambda: (r := device_rows(collector, keys, "g-1").get("grpc-stream"))
                           and r["readings"] == 18 and r, message="the grpc-stream row growing")
        assert grown["bytes_in"] > stream["bytes_in"] and grown["bytes_out"] > stream["bytes_out"]

        # Another device's token on this channel: PERMISSION_DENIED, as over plaintext.
        with pytest.raises(grpc.RpcError) as info:
            stub.Push(simple_batch(pb, 1)[0], metadata=[("device-id", "g-2"),
                                                        ("authorization", f"Bearer {keys.token('g-1')}")],
                      timeout=CALL_TIMEOUT)
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert [b for b, _ in db_batches(collector.db, "g-1")] == list(range(1, 9))
    assert db_batches(collector.db, "g-2") == []
    for protocol, row in device_rows(collector, keys, "g-1").items():
        check_row_parts(row, tls=True)
    settled_totals(collector, keys)


# -- TLS 1.3 external PSK with openssl s_client --------------------------------------------------------------------


def psk_post(collector, keys, identity, device, seq, psk=None):
    request = http_request_bytes("POST", f"/v1/devices/{device}/readings", rest_body(seq).encode())
    return s_client_psk(collector, identity, psk or keys.psk(identity), request)


def test_psk_connection_needs_no_token_and_is_that_devices_only(start_collector, tmp_path):
    collector, keys = start_tls(start_collector, tmp_path)
    before = handshakes(collector, keys)
    code, r, err = psk_post(collector, keys, "psk-1", "psk-1", 1)
    assert r is not None and r.status == 200, (code, r, err)
    assert r.json() == {"batches": 1, "readings": 1, "duplicate_batches": 0, "last_seq": 1}
    assert db_batches(collector.db, "psk-1") == [(1, 1)]
    # The PSK connection of psk-1 writing for psk-2: 403 with a message; nothing stored.
    code, r, err = psk_post(collector, keys, "psk-1", "psk-2", 1)
    assert r is not None and r.status == 403, (code, r, err)
    message = r.json()["message"]
    assert "psk-1" in message and "psk-2" in message, message
    assert db_batches(collector.db, "psk-2") == []
    # A wrong PSK (another device's key): the handshake fails, no HTTP answer, nothing stored.
    code, r, err = psk_post(collector, keys, "psk-3", "psk-3", 1, psk=keys.psk("psk-4"))
    assert code != 0 and r is None, (code, r, err)
    assert db_batches(collector.db, "psk-3") == []
    # An identity that is not a device id is no external PSK (OpenSSL then tries it as a session ticket, which it
    # is not either): the handshake falls back to the certificate, and the connection proves no device: 401.
    code, r, err = psk_post(collector, keys, "not a device", "psk-3", 1, psk=keys.psk("psk-3"))
    assert r is not None and r.status == 401, (code, r, err)
    assert db_batches(collector.db, "psk-3") == []
    after = handshakes(collector, keys)
    assert after.get("psk", 0) - before.get("psk", 0) == 2, (before, after)
    assert after.get("failed", 0) - before.get("failed", 0) == 1, (before, after)
    # The failed handshake is booked under protocol "tls", device "".
    report = settled_totals(collector, keys)
    tls_rows = [p for p in report["protocols"] if p["protocol"] == "tls"]
    assert tls_rows and tls_rows[0]["connections"] == 1 and tls_rows[0]["bytes_in"] > 0, report
    rest = wait_until(lambda: device_rows(collector, keys, "psk-1").get("rest-json"), message="psk-1's row")
    check_row_parts(rest, tls=True)
    assert rest["connections"] == 1, rest
    # The refused request (403) is the protocol's overhead: in the rest-json protocol row, on no device's row.
    assert device_rows(collector, keys, "psk-2") == {}
    protocol = next(p for p in report["protocols"] if p["protocol"] == "rest-json")
    # Three connections: psk-1's, the 403 and the 401.
    assert (protocol["connections"], protocol["errors"]) == (3, 2), protocol


def test_a_revoked_device_cannot_complete_a_psk_handshake(start_collector, tmp_path):
    collector, keys = start_tls(start_collector, tmp_path)
    psk = keys.psk("rv-1")
    code, r, err = psk_post(collector, keys, "rv-1", "rv-1", 1, psk=psk)
    assert r is not None and r.status == 200, (code, r, err)
    done = subprocess.run([str(COLLECTOR_BIN), "devices", "revoke", "rv-1", "--db", str(collector.db)],
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    revoked_at = time.monotonic()
    seq = 1
    while True:
        seq += 1
        code, r, err = psk_post(collector, keys, "rv-1", "rv-1", seq, psk=psk)
        if r is None:
            break
        assert time.monotonic() - revoked_at < 3.5, "a revoked device still completes PSK handshakes"
        time.sleep(0.1)
    assert code != 0, err
    assert time.monotonic() - revoked_at < 3.5
    stored = [b for b, _ in db_batches(collector.db, "rv-1")]
    assert stored == list(range(1, seq)), stored  # none after the refusal
    # Another device is unaffected.
    code, r, err = psk_post(collector, keys, "rv-2", "rv-2", 1)
    assert r is not None and r.status == 200, (code, r, err)


# -- session resumption with Python's ssl module ---------------------------------------------------------------------


def test_session_resumption_also_across_restarts_and_not_after_rotation(start_collector, tmp_path):
    collector, keys = start_tls(start_collector, tmp_path)
    ctx = keys.client_context()
    session, reused, r = tls_roundtrip(collector, ctx)
    assert r is not None and r.status == 200 and not reused
    assert session is not None and session.has_ticket
    session2, reused, r = tls_roundtrip(collector, ctx, session=session)
    assert reused and r.status == 200
    counts = handshakes(collector, keys)
    assert counts.get("resumed", 0) == 1 and counts.get("full", 0) >= 1, counts

    # Restart on the same folder: the ticket key survives, a session from before still resumes.
    ticket_key = keys.ticket_key.read_bytes()
    collector.stop()
    collector = start_tls(start_collector, tmp_path, db=collector.db)[0]
    assert keys.ticket_key.read_bytes() == ticket_key
    session3, reused, r = tls_roundtrip(collector, ctx, session=session2)
    assert reused and r.status == 200
    assert handshakes(collector, keys).get("resumed", 0) == 1

    # Restart with --rotate-ticket-key: earlier tickets fall back to a full handshake.
    collector.stop()
    collector = start_tls(start_collector, tmp_path, "--rotate-ticket-key", db=collector.db)[0]
    assert keys.ticket_key.read_bytes() != ticket_key
    assert "session-ticket key rotated" in collector.log()
    session4, reused, r = tls_roundtrip(collector, ctx, session=session3)
    assert not reused and r.status == 200
    # ... and the new ticket resumes.
    _, reused, r = tls_roundtrip(collector, ctx, session=session4)
    assert reused and r.status == 200


def test_tls_1_2_is_served_and_resumes(start_collector, tmp_path):
    """TLS 1.2 is the floor, not refused: a 1.2-only client is served (HTTP/1.1 sniffed, no ALPN) and resumes."""
    collector, keys = start_tls(start_collector, tmp_path)
    ctx = keys.client_context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    session, reused, r = tls_roundtrip(collector, ctx)
    assert r is not None and r.status == 200 and not reused
    _, reused, r = tls_roundtrip(collector, ctx, session=session)
    assert reused and r.status == 200
    counts = handshakes(collector, keys)
    assert counts.get("resumed", 0) == 1 and counts.get("failed", 0) == 0, counts


def test_device_sim_runs_psk_and_token_devices_against_a_collector_that_refuses_plaintext(start_collector, tmp_path):
    """device-sim over TLS against `--plaintext deny`: its own calls (health, seq base, figures) go over TLS too,
    sleeping PSK devices resume nothing and send no token, and the cross-check (TLS bytes included) holds."""
    collector, keys = start_tls(start_collector, tmp_path, "--plaintext", "deny")
    for auth in ("token", "psk"):
        report_path = tmp_path / f"report-{auth}.json"
        done = subprocess.run(
            [str(DEVICE_SIM_BIN), "run", "--target", f"https://localhost:{collector.port}", "--ca", str(keys.cert),
             "--tls-auth", auth, "--connection", "per-batch", "--devices", "4", "--batch", "10s", "--duration", "40s",
             "--speedup", "200", "--fleet-key-file", str(keys.fleet_key), "--admin-token-file", str(keys.admin_token_file),
             "--quiet", "--json", str(report_path)],
            capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        report = json.loads(report_path.read_text())
        assert report["cross_check"]["consistent"], report["cross_check"]
        rows = {row["protocol"]: row for row in report["protocols"]}
        handshakes = sum(row["handshakes_psk" if auth == "psk" else "handshakes_full"] + row["handshakes_resumed"]
                         for row in rows.values())
        assert handshakes == sum(row["connections"] for row in rows.values()) > 4, rows
    # Plaintext devices are told what to do.
    done = subprocess.run(
        [str(DEVICE_SIM_BIN), "run", "--target", f"http://127.0.0.1:{collector.port}", "--devices", "1",
         "--duration", "10s", "--fleet-key-file", str(keys.fleet_key), "--admin-token-file", str(keys.admin_token_file),
         "--quiet"], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "426" in done.stderr and "https://" in done.stderr, done.stderr
