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
