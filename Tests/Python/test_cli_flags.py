"""`collector serve` flag values: a bad one stops the start with exit 2 and a message naming the flag; a good one
takes effect."""

from __future__ import annotations

import subprocess

import pytest

from fwtest import COLLECTOR_BIN, http_request


@pytest.mark.parametrize("flag, value", [
    ("--commit-window", "0ms"), ("--commit-window", "21ms"), ("--commit-window", "soon"),
    ("--header-timeout", "5ms"), ("--auth", "maybe"), ("--max-connections", "0"),
])
def test_a_bad_value_is_refused_naming_the_flag(tmp_path, flag, value):
    done = subprocess.run(
        [str(COLLECTOR_BIN), "serve", "--listen", "127.0.0.1:0", "--db", str(tmp_path / "t.db"), "--auth", "off",
         flag, value] if flag != "--auth" else
        [str(COLLECTOR_BIN), "serve", "--listen", "127.0.0.1:0", "--db", str(tmp_path / "t.db"), flag, value],
        capture_output=True, text=True, timeout=20)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert flag in done.stderr, done.stderr
    assert not (tmp_path / "t.db").exists(), "nothing is created before the flags are valid"


def test_a_short_commit_window_still_acknowledges_after_commit(start_collector):
    collector = start_collector("--commit-window", "1ms")
    r = http_request(collector, "POST", "/v1/devices/w-1/readings",
                     {"seq": 1, "readings": [{"sensor": "t", "ts": 1_732_190_000_000, "value": 1.5}]})
    assert r.status == 200, r.body
    assert r.json() == {"batches": 1, "readings": 1, "duplicate_batches": 0, "last_seq": 1}


# A PostgreSQL --db: its flags are checked before anything connects (the URL names a closed port, and the password
# in it must never be printed).
PG_URL = "postgresql://fleet:s3cret@127.0.0.1:1/telemetry"


@pytest.mark.parametrize("args, named", [
    (["--collector-name", "a b"], "--collector-name"),
    (["--collector-name", ""], "--collector-name"),
    (["--statement-timeout", "5ms"], "--statement-timeout"),
    (["--statement-timeout", "2h"], "--statement-timeout"),
    (["--retention", "90d"], "--retention"),
    (["--retention", "90d", "--rollup", "1h:2y"], "--retention"),
])
def test_a_bad_postgres_flag_is_refused_before_connecting(tmp_path, args, named):
    done = subprocess.run(
        [str(COLLECTOR_BIN), "serve", "--listen", "127.0.0.1:0", "--db", PG_URL, "--auth", "off", *args],
        capture_output=True, text=True, timeout=20, cwd=tmp_path)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert named in done.stderr, done.stderr
    assert "s3cret" not in done.stderr + done.stdout
    assert "PQconnectdb" not in done.stderr, "the flags are refused before any connection is tried"
    assert list(tmp_path.iterdir()) == [], "nothing is created before the flags are valid"


def test_devices_and_sql_on_an_unreachable_postgres_name_it_without_the_password(tmp_path):
    revoke = subprocess.run([str(COLLECTOR_BIN), "devices", "revoke", "dev-1", "--db", PG_URL],
                            capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert revoke.returncode == 1, (revoke.returncode, revoke.stderr)
    assert "postgresql://fleet:***@127.0.0.1:1/telemetry" in revoke.stderr, revoke.stderr
    assert "s3cret" not in revoke.stderr + revoke.stdout
    sql = subprocess.run([str(COLLECTOR_BIN), "sql", "--db", PG_URL, "SELECT 1"],
                         capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert sql.returncode == 2 and "psql" in sql.stderr, (sql.returncode, sql.stderr)
    assert "s3cret" not in sql.stderr + sql.stdout
