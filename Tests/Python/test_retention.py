"""--retention and --rollup end to end: a real collector deletes expired readings in the background, the read API's
totals drop by exactly what was deleted, hourly series keep the deleted hours through the rollup, and `collector
sql` reads what remains. Bad values are refused at start."""

from __future__ import annotations

import math
import subprocess
import time

import pytest

from fwtest import COLLECTOR_BIN, get_json, http_request, wait_until

HOUR = 3_600_000


def post(collector, device, seq, readings):
    r = http_request(collector, "POST", f"/v1/devices/{device}/readings",
                     {"seq": seq, "readings": [{"sensor": "t", "ts": ts, "value": v} for ts, v in readings]})
    assert r.status == 200, r.body
    return r.json()


def test_retention_deletes_old_chunks_and_rollups_keep_their_hours(start_collector, tmp_path):
    collector = start_collector("--retention", "1d", "--rollup", "1h:30d")
    now = int(time.time() * 1000)
    old_start = (now - 3 * 86_400_000) // HOUR * HOUR
    old = [(old_start + i * 60_000, round(math.sin(i / 7) * 20, 2)) for i in range(180)]  # 3 h, one a minute
    recent = [(now - 600_000 + i * 10_000, float(i)) for i in range(30)]
    for seq, start in enumerate(range(0, len(old), 30), start=1):
        post(collector, "ret-1", seq, old[start:start + 30])
    post(collector, "ret-1", 100, recent)
    # The first sweep runs within seconds of the start (then every minute).
    wait_until(lambda: get_json(collector, "/v1/devices/ret-1")["readings"] == 30, timeout=20,
               message="retention deleted the old readings")
    device = get_json(collector, "/v1/devices/ret-1")
    assert device["batches"] == 7, "batches stay counted: they were stored"
    page = get_json(collector, "/v1/devices/ret-1/readings?limit=1000")
    assert [r["ts"] for r in page["readings"]] == [ts for ts, _ in recent]
    # Hourly buckets over everything: the three deleted hours come back from the rollup, exactly.
    series = get_json(collector, f"/v1/devices/ret-1/series?sensor=t&step=1h&agg=max&from={old_start}&to={now + 1}")
    buckets = series["buckets"] if isinstance(series, dict) else series
    by_start = {b["start"] if "start" in b else b["start_ms"]: b for b in buckets}
    for hour in range(3):
        values = [v for ts, v in old if (ts - old_start) // HOUR == hour]
        bucket = by_start[old_start + hour * HOUR]
        assert bucket["count"] == len(values) == 60
        assert bucket["value"] == max(values)
    # A step that does not divide into the rollup's sees only what is stored.
    half = get_json(collector, f"/v1/devices/ret-1/series?sensor=t&step=30m&agg=count&from={old_start}&to={now + 1}")
    half_buckets = half["buckets"] if isinstance(half, dict) else half
    assert sum(b["count"] for b in half_buckets) == 30
    metrics = http_request(collector, "GET", "/metrics").body.decode()
    assert "fleetwire_store_readings_expired_total 180" in metrics
    # Plain SQL over the chunks agrees.
    done = subprocess.run([str(COLLECTOR_BIN), "sql", "--db", str(collector.db),
                           "SELECT count(*), min(ts) FROM readings WHERE device = 'ret-1'"],
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["30", str(recent[0][0])]


@pytest.mark.parametrize("args, needle", [
    (["--retention", "30m"], "--retention"),
    (["--retention", "soon"], "--retention"),
    (["--rollup", "1h:2y"], "--rollup needs --retention"),
    (["--retention", "90d", "--rollup", "1h"], "--rollup"),
    (["--retention", "90d", "--rollup", "1h:30d"], "--rollup"),
    (["--retention", "90d", "--rollup", "500ms:2y"], "--rollup"),
])
def test_bad_retention_flags_are_refused_naming_the_flag(tmp_path, args, needle):
    done = subprocess.run(
        [str(COLLECTOR_BIN), "serve", "--listen", "127.0.0.1:0", "--db", str(tmp_path / "t.db"), "--auth", "off",
         *args], capture_output=True, text=True, timeout=20)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert needle in done.stderr, done.stderr
    assert not (tmp_path / "t.db").exists()
