"""Hostile TLS clients, `--plaintext deny`, and certificate files that cannot be used.

- A TLS 1.1-only ClientHello is refused with a protocol_version alert; garbage after a first byte 0x16 is closed.
- A ClientHello that stalls (or drips) is closed --tls-handshake-timeout after its first byte while another TLS
  client is served; `--max-tls-handshakes 2` closes a third concurrent handshake at once. /metrics counts each as
  failed, timed_out or refused_busy in fleetwire_tls_handshakes_total.
- Under `--plaintext deny` plaintext HTTP/1.1 gets 426 naming TLS, an h2c client GOAWAY(INADEQUATE_SECURITY) with a
  debug message, TLS still works, and fleetwire_plaintext_refused_total counts the refusals.
- A missing certificate file, a key that does not match the certificate, an expired certificate and one not valid
  yet stop `collector serve` at start with a message naming the file.
"""

from __future__ import annotations

import datetime
import http.client
import socket
import ssl
import subprocess
import time

import pytest

from fwtest import CALL_TIMEOUT, COLLECTOR_BIN, db_batches
from hostile import RawH2
from tlstest import (JSON, curl_tls, handshakes, metrics, rest_body, settled_totals, start_tls, wait_closed)

INADEQUATE_SECURITY = 12
PROTOCOL_VERSION_ALERT = 70



def client_hello() -> bytes:
    """A real TLS 1.3 ClientHello, as Python's ssl module writes it (memory BIOs, no socket)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ssl.create_default_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    hello = outgoing.read()
    assert hello[0] == 0x16 and len(hello) == 5 + int.from_bytes(hello[3:5], "big"), hello[:5]
    return hello


# Half a ClientHello: the record header and the first half of the message. The rest never comes.
PARTIAL_CLIENT_HELLO = client_hello()[:150]


def stalled(collector, data=PARTIAL_CLIENT_HELLO) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", collector.port), timeout=CALL_TIMEOUT)
    sock.sendall(data)
    return sock


def healthz_over_tls(collector, keys) -> int:
    return curl_tls(collector, keys, "/healthz").status


# -- versions and garbage ------------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_1_1_is_refused_with_an_alert_and_garbage_after_0x16_is_closed(start_collector, tmp_path):
    collector, keys = start_tls(start_collector, tmp_path)
    before = handshakes(collector, keys)

    # Python's ssl with TLS 1.1 only (security level 0, or OpenSSL 3 would not even offer it).
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = ssl.TLSVersion.TLSv1_1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection(("127.0.0.1", collector.port), timeout=CALL_TIMEOUT) as raw:
        with pytest.raises(ssl.SSLError) as info:
            ctx.wrap_socket(raw, server_hostname="localhost")
    assert "ALERT_PROTOCOL_VERSION" in str(info.value), info.value

    # openssl s_client -tls1_1 too: the alert arrives, the handshake fails.
    done = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{collector.port}", "-tls1_1",
                           "-cipher", "DEFAULT:@SECLEVEL=0"], input=b"", capture_output=True, timeout=CALL_TIMEOUT)
    assert done.returncode != 0
    assert "alert protocol version" in done.stderr.decode(errors="replace"), done.stderr

    # Garbage after a first byte 0x16 is closed at once (an alert first at most): a record version that is not
    # TLS, a whole record that is no handshake message, a record longer than TLS allows. (Garbage that reads as
    # the header of a record still incomplete, such as "\x16\x03\x01 n..." announcing 8,302 bytes, can only be
    # closed at the handshake deadline: see the stalled-handshake test.)
    for garbage in (b"\x16" + b"\xff" * 300, b"\x16\x03\x01\x00\x05" + b"\xff" * 5, b"\x16\x03\x01\xff\xff" + b"\x01" * 100):
        started = time.monotonic()
        with stalled(collector, garbage) as sock:
            closed, got = wait_closed(sock, 3.0)
        assert closed and time.monotonic() - started < 1.0, f"garbage {garbage[:8]!r} was not closed at once"
        assert got == b"" or got[0] == 0x15, got  # nothing, or an alert record

    assert healthz_over_tls(collector, keys) == 200
    after = handshakes(collector, keys)
    assert after["failed"] - before.get("failed", 0) == 5, (before, after)
    report = settled_totals(collector, keys)
    tls = next(p for p in report["protocols"] if p["protocol"] == "tls")
    assert tls["connections"] == 5 and tls["bytes_in"] > 0 and tls["bytes_out"] > 0, tls


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_the_alert_refusing_a_handshake_is_record_bytes(start_collector, tmp_path):
    collector, keys = start_tls(start_collector, tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection(("127.0.0.1", collector.port), timeout=CALL_TIMEOUT) as raw:
        with pytest.raises(ssl.SSLError):
            ctx.wrap_socket(raw, server_hostname="localhost")
    report = settled_totals(collector, keys)
    tls = next(p for p in report["protocols"] if p["protocol"] == "tls")
    assert tls["bytes_out"] == 7  # one alert record: 5-byte header, level, description
    assert tls["bytes_in"] == tls["tls_handshake_bytes_in"] + tls["tls_record_bytes_in"]
    assert (tls["tls_handshake_bytes_out"], tls["tls_record_bytes_out"]) == (0, 7), tls


# -- handshake deadline and cap -----------------------------------------------------------------------------------------


def test_a_stalled_or_dripping_client_hello_is_closed_at_the_deadline_while_others_are_served(start_collector,
                                                                                              tmp_path):
    collector, keys = start_tls(start_collector, tmp_path, "--tls-handshake-timeout", "1500ms")
    before = handshakes(collector, keys)
    started = time.monotonic()
    stall = stalled(collector)
    drip = stalled(collector, PARTIAL_CLIENT_HELLO[:1])
    # A record header announcing 8,302 bytes whose next byte is no ClientHello: refused at once, not at the deadline.
    garbage = stalled(collector, b"\x16\x03\x01 not a request\r\n\r\n")
    # Another client is served meanwhile (ingest over TLS, well within the deadline).
    r = curl_tls(collector, keys, "/v1/devices/meanwhile/readings", *JSON, "-H",
                 f"Authorization: Bearer {keys.token('meanwhile')}", data=rest_body(1))
    assert r.status == 200, r.body
    assert time.monotonic() - started < 1.2, "the other client was not served while the handshakes stalled"
    garbage_closed, _ = wait_closed(garbage, 1.0)
    assert garbage_closed and time.monotonic() - started < 1.3, "garbage after 0x16 waited for the handshake deadline"
    drip.settimeout(0.01)
    drip_closed_at = None
    for byte in PARTIAL_CLIENT_HELLO[1:]:
        try:
            drip.sendall(bytes([byte]))
            if drip.recv(1) == b"":
                drip_closed_at = time.monotonic()
                break
        except socket.timeout:
            pass
        except (BrokenPipeError, ConnectionResetError):
            drip_closed_at = time.monotonic()
            break
        if time.monotonic() - started > 5:
            break
        time.sleep(0.1)
    closed, _ = wait_closed(stall, 5.0)
    stall_closed_at = time.monotonic()
    if drip_closed_at is None:
        drip_closed, _ = wait_closed(drip, 5.0)
        assert drip_closed
        drip_closed_at = time.monotonic()
    for sock in (stall, drip, garbage):
        sock.close()
    assert closed
    assert 1.3 <= stall_closed_at - started <= 3.5, stall_closed_at - started
    assert 1.3 <= drip_closed_at - started <= 3.5, drip_closed_at - started
    assert db_batches(collector.db, "meanwhile") == [(1, 1)]
    after = handshakes(collector, keys)
    assert after["timed_out"] - before.get("timed_out", 0) == 2, (before, after)
    assert after["failed"] - before.get("failed", 0) == 1, (before, after)
    assert healthz_over_tls(collector, keys) == 200


def test_max_tls_handshakes_closes_the_one_beyond_at_once(start_collector, tmp_path):
    collector, keys = start_tls(start_collector, tmp_path, "--max-tls-handshakes", "2",
                                "--tls-handshake-timeout", "1s")
    before = handshakes(collector, keys)
    first, second = stalled(collector), stalled(collector)
    time.sleep(0.2)  # both are in their handshakes
    third = stalled(collector)
    started = time.monotonic()
    closed, got = wait_closed(third, 0.8)
    assert closed and got == b"", "the third handshake was not closed at once"
    assert time.monotonic() - started < 0.5
    third.close()
    # The first two are still open (until their deadline); then the slots are free again.
    first.settimeout(0.05)
    with pytest.raises(socket.timeout):
        first.recv(1)
    for sock in (first, second):
        assert wait_closed(sock, 3.0)[0]
        sock.close()
    assert healthz_over_tls(collector, keys) == 200
    after = handshakes(collector, keys)
    assert after["refused_busy"] - before.get("refused_busy", 0) == 1, (before, after)
    assert after["timed_out"] - before.get("timed_out", 0) == 2, (before, after)


# -- --plaintext deny -------------------------------------------------------------------------------------------------


def test_plaintext_deny_refuses_http1_and_h2c_and_serves_tls(start_collector, tmp_path):
    collector, keys = start_tls(start_collector, tmp_path, "--plaintext", "deny")
    conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=CALL_TIMEOUT)
    try:
        conn.request("POST", "/v1/devices/pt-1/readings", body=rest_body(1).encode(),
                     headers={"Content-Type": "application/json", **keys.device_headers("pt-1")})
        r = conn.getresponse()
        body = r.read()
    finally:
        conn.close()
    assert r.status == 426, (r.status, body)
    assert b"TLS" in body, body
    assert db_batches(collector.db, "pt-1") == []

    h2c = RawH2(collector)
    try:
        h2c.read(until=lambda events: h2c.goaway() is not None)
        goaway = h2c.goaway()
        assert goaway is not None, h2c.events
        assert goaway.error_code == INADEQUATE_SECURITY
        assert b"TLS" in (goaway.additional_data or b""), goaway
        assert h2c.wait_closed(5.0)
    finally:
        h2c.sock.close()

    r = curl_tls(collector, keys, "/v1/devices/pt-1/readings", *JSON, "-H",
                 f"Authorization: Bearer {keys.token('pt-1')}", data=rest_body(2), http2=True)
    assert r.status == 200, r.body
    assert db_batches(collector.db, "pt-1") == [(2, 1)]
    m = metrics(collector, keys, plaintext=False)
    assert m["fleetwire_plaintext_refused_total"][""] == 2, m.get("fleetwire_plaintext_refused_total")
    # The refused connections' bytes are booked too: the rows add up to the socket totals.
    report = settled_totals(collector, keys, plaintext=False)
    rows = {p["protocol"]: p for p in report["protocols"]}
    assert rows["rest-json"]["connections"] >= 1 and rows["rest-json-h2"]["connections"] >= 1, rows


# -- certificate files that cannot be used ---------------------------------------------------------------------------


def openssl_cert(folder, name: str):
    cert, key = folder / f"{name}-cert.pem", folder / f"{name}-key.pem"
    done = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                           "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost"],
                          capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return cert, key


def cryptography_cert(folder, name: str, not_before, not_after):
    x509 = pytest.importorskip("cryptography.x509", reason="Python's cryptography is needed for a dated certificate")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name_ = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    cert = (x509.CertificateBuilder().subject_name(name_).issuer_name(name_).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / f"{name}-cert.pem", folder / f"{name}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def serve_expecting_failure(tmp_path, cert, key) -> str:
    """Runs `collector serve` with the files; it must exit non-zero at start. Returns its output."""
    cmd = [str(COLLECTOR_BIN), "serve", "--listen", "127.0.0.1:0", "--db", str(tmp_path / "t.db"), "--auth", "on",
           "--fleet-key-file", str(tmp_path / "keys" / "fleet.key"), "--admin-token-file",
           str(tmp_path / "keys" / "admin.token"), "--tls-cert", str(cert)]
    if key is not None:
        cmd += ["--tls-key", str(key)]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"collector serve started with unusable certificate files {cert} / {key}:\n{out.decode()}")
    assert proc.returncode != 0, out.decode()
    assert "collector listening" not in out.decode()
    return out.decode()


def test_unusable_certificate_files_stop_the_start_naming_the_file(tmp_path):
    good_cert, good_key = openssl_cert(tmp_path, "a")
    other_cert, other_key = openssl_cert(tmp_path, "b")
    missing = tmp_path / "missing-cert.pem"
    out = serve_expecting_failure(tmp_path, missing, good_key)
    assert str(missing) in out, out
    missing_key = tmp_path / "missing-key.pem"
    out = serve_expecting_failure(tmp_path, good_cert, missing_key)
    assert str(missing_key) in out, out
    out = serve_expecting_failure(tmp_path, good_cert, other_key)
    assert str(other_key) in out and "mismatch" in out, out

    out = serve_expecting_failure(tmp_path, good_cert, None)
    assert "--tls-cert needs --tls-key" in out, out

    now = datetime.datetime.now(datetime.timezone.utc)
    expired_cert, expired_key = cryptography_cert(tmp_path, "expired", now - datetime.timedelta(days=30),
                                                  now - datetime.timedelta(days=1))
    out = serve_expecting_failure(tmp_path, expired_cert, expired_key)
    assert str(expired_cert) in out and "expired" in out, out
    future_cert, future_key = cryptography_cert(tmp_path, "future", now + datetime.timedelta(days=1),
                                                now + datetime.timedelta(days=30))
    out = serve_expecting_failure(tmp_path, future_cert, future_key)
    assert str(future_cert) in out and "not valid yet" in out, out
