"""The byte ledger against a packet capture, for TLS connections: curl over TLS (HTTP/1.1 and HTTP/2), grpcio with
a secure channel, `openssl s_client` with a TLS 1.3 PSK, Python's ssl module resuming a session, a failed PSK
handshake and a TLS 1.1 ClientHello refused with an alert. The TCP payload bytes tcpdump saw on loopback, per
direction and counted by sequence numbers (test_packet_capture.py), must equal the sums of bytes_in / bytes_out
over the persisted `bandwidth` table after the stop, to the byte; the connections opened must equal the sum of
`connections`. Before the stop, each TLS row's bytes are its TLS handshake + TLS record + header + framing +
payload bytes (when the rows carry those fields), and the per-protocol rows add up to the socket totals.

Needs tcpdump and the right to capture; skipped with the reason otherwise.
"""

from __future__ import annotations

import re
import socket
import sqlite3
import ssl
import subprocess

import grpc
import pytest

from fwtest import CALL_TIMEOUT, CHANNEL_OPTIONS, simple_batch, wait_until
from test_packet_capture import _start_capture, _stop_capture, _tcp_payload_by_direction
from tlstest import (JSON, T0, check_row_parts, curl_tls, device_rows, handshakes, http_request_bytes, rest_body,
                     s_client_psk, settled_totals, start_tls, tls_roundtrip)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_the_ledger_equals_a_packet_capture_of_tls_connections(proto, start_collector, tmp_path):
    collector, keys = start_tls(start_collector, tmp_path)
    pcap = tmp_path / "tls.pcap"
    capture = _start_capture(collector.port, pcap)
    try:
        for http2, device in ((False, "cap-h1"), (True, "cap-h2")):
            for seq in (1, 2):
                r = curl_tls(collector, keys, f"/v1/devices/{device}/readings", *JSON, "-H",
                             f"Authorization: Bearer {keys.token(device)}", data=rest_body(seq), http2=http2)
                assert r.status == 200, r.body
        assert curl_tls(collector, keys, "/v1/devices?limit=5", "-H", f"Authorization: Bearer {keys.admin()}",
                        http2=True).status == 200

        creds = grpc.ssl_channel_credentials(root_certificates=keys.cert.read_bytes())
        md = [("device-id", "cap-g"), ("authorization", f"Bearer {keys.token('cap-g')}")]
        with grpc.secure_channel(f"127.0.0.1:{collector.port}", creds, options=CHANNEL_OPTIONS) as ch:
            stub = proto.grpc.TelemetryStub(ch)
            assert stub.Push(simple_batch(proto.pb, 1)[0], metadata=md, timeout=CALL_TIMEOUT).batches == 1
            batches = [simple_batch(proto.pb, seq, start_ms=T0 + seq * 100_000)[0] for seq in range(2, 6)]
            assert stub.Upload(iter(batches), metadata=md, timeout=CALL_TIMEOUT).batches == 4

        request = http_request_bytes("POST", "/v1/devices/cap-psk/readings", rest_body(1).encode())
        code, r, err = s_client_psk(collector, "cap-psk", keys.psk("cap-psk"), request)
        assert r is not None and r.status == 200, (code, err)
        code, r, err = s_client_psk(collector, "cap-psk", keys.psk("someone-else"), request)
        assert r is None and code != 0  # a failed handshake, booked under "tls"

        ctx = keys.client_context()
        session, reused, r = tls_roundtrip(collector, ctx)
        assert r.status == 200 and not reused
        _, reused, r = tls_roundtrip(collector, ctx, session=session)
        assert r.status == 200 and reused

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        with socket.create_connection(("127.0.0.1", collector.port), timeout=CALL_TIMEOUT) as raw:
            try:
                ctx.wrap_socket(raw, server_hostname="localhost")
                raise AssertionError("a TLS 1.1 handshake succeeded")
            except ssl.SSLError:
                pass

        counts = handshakes(collector, keys)
        assert counts["psk"] == 1 and counts["resumed"] == 1 and counts["failed"] == 2, counts
        for device, protocol in (("cap-h1", "rest-json"), ("cap-h2", "rest-json-h2"), ("cap-g", "grpc-unary"),
                                 ("cap-g", "grpc-stream"), ("cap-psk", "rest-json")):
            row = wait_until(lambda: device_rows(collector, keys, device).get(protocol),
                             message=f"{device}'s {protocol} row")
            check_row_parts(row, tls=True)
        report = settled_totals(collector, keys)
        for row in report["protocols"]:
            # query: TLS and plaintext connections; tls: failed handshakes, booked whole as handshake bytes.
            check_row_parts(row, tls=None if row["protocol"] in ("query", "tls") else True)
        collector.stop()  # persists the counters
    finally:
        report = _stop_capture(capture)
    assert re.search(r"^0 packets dropped by kernel", report, re.M), report
    captured_in, captured_out, opened = _tcp_payload_by_direction(pcap, collector.port)
    with sqlite3.connect(f"file:{collector.db}?mode=ro", uri=True) as db:
        ledger_in, ledger_out, connections = db.execute(
            "SELECT SUM(bytes_in), SUM(bytes_out), SUM(connections) FROM bandwidth").fetchone()
        by_protocol = db.execute("SELECT protocol, SUM(bytes_in), SUM(bytes_out), SUM(connections) FROM bandwidth "
                                 "GROUP BY protocol").fetchall()
    assert captured_in > 5_000 and captured_out > 5_000, (captured_in, captured_out)
    print(f"\n  captured {captured_in} B in, {captured_out} B out, {opened} connections; ledger by protocol {by_protocol}")
    assert (ledger_in, ledger_out) == (captured_in, captured_out), by_protocol
    assert connections == opened, by_protocol
