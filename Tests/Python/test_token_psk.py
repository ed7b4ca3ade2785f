"""`collector token DEVICE --psk`: the device's TLS pre-shared key, computed independently with Python's hmac.

PSK = HMAC-SHA256(fleet key, b"fleetwire tls-psk v1" + b"\\x00" + UTF-8 device id), printed as 64 lower-case hex
digits and nothing else; it is never the device's bearer token (HMAC-SHA256(fleet key, device id)). The key file is
written here (no collector runs): once as the 64 hex digits and a newline a collector creates, once as raw bytes,
read by the collector's rule (`fwtest.secret_bytes`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess

import pytest

from fwtest import COLLECTOR_BIN, AuthFiles, secret_bytes

DEVICES = ("dev-1", "a", "x.y:z-9_", "Z" * 128)


def python_psk(key: bytes, device: str) -> str:
    """The provisioning one-liner from Sources/Trust/DevicePSK.swift."""
    return hmac.new(key, b"fleetwire tls-psk v1\x00" + device.encode(), hashlib.sha256).hexdigest()


def collector_token(key_file, device: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(COLLECTOR_BIN), "token", device, *extra, "--fleet-key-file", str(key_file)],
                          capture_output=True, text=True, timeout=10)


@pytest.fixture(params=["hex-text", "raw-bytes"])
def auth(request, tmp_path) -> AuthFiles:
    """A fleet key file, mode 0600: 64 hex digits and a newline (as a collector creates it), or 32 raw bytes."""
    auth = AuthFiles(tmp_path / "keys")
    auth.directory.mkdir()
    secret = os.urandom(32)
    auth.fleet_key.write_bytes(secret.hex().encode() + b"\n" if request.param == "hex-text" else secret)
    auth.fleet_key.chmod(0o600)
    return auth


def test_collector_token_psk_equals_pythons_hmac_and_is_not_the_token(auth):
    key = secret_bytes(auth.fleet_key.read_bytes())
    for device in DEVICES:
        psk = collector_token(auth.fleet_key, device, "--psk")
        assert psk.returncode == 0, psk.stderr
        assert psk.stderr == ""
        assert psk.stdout == python_psk(key, device) + "\n"  # the PSK and nothing else
        token = collector_token(auth.fleet_key, device)
        assert token.returncode == 0, token.stderr
        assert token.stdout == auth.token(device) + "\n"
        assert psk.stdout != token.stdout
    # The flag may come before the device id too, and the PSK is the same on every run.
    again = subprocess.run([str(COLLECTOR_BIN), "token", "--psk", "dev-1", "--fleet-key-file", str(auth.fleet_key)],
                           capture_output=True, text=True, timeout=10)
    assert again.returncode == 0 and again.stdout == python_psk(key, "dev-1") + "\n"


def test_collector_token_psk_refuses_what_the_token_refuses(tmp_path):
    bad = collector_token(tmp_path / "no.key", "bad id", "--psk")
    assert bad.returncode == 2 and bad.stdout == "" and "invalid device id" in bad.stderr
    missing = collector_token(tmp_path / "no.key", "dev-1", "--psk")
    assert missing.returncode == 1 and missing.stdout == "" and "cannot read" in missing.stderr
    with_value = collector_token(tmp_path / "no.key", "dev-1", "--psk=yes")
    assert with_value.returncode == 2 and with_value.stdout == ""


def test_collector_token_help_mentions_psk():
    done = subprocess.run([str(COLLECTOR_BIN), "token", "--help"], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0
    assert "--psk" in done.stdout and "fleetwire tls-psk v1" in done.stdout
