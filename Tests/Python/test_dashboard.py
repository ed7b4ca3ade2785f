"""The dashboard at GET /: one self-contained HTML page whose every API request answers JSON.

The page declares the API templates it requests in `<script id="fw-api" type="application/json">` and sends every
REST request through one `api()` helper, so the templates are the complete list of what it asks for; its one other
`fetch(` is the live stream, a gRPC-Web POST of /telemetry.v1.Telemetry/Watch (test_dashboard_browser.py runs it).
Each template is filled the way the page fills it (a real device and sensor, a `from` time, numeric or suffixed
steps, the table's sort keys) and must answer 200 with JSON. The one exception is /v1/bandwidth/history: it is being
added on main in parallel with this page, so today it may answer 404 (`not_found`); the page shows "no history
yet" then, and this test accepts that 404 for that template only."""

import json
import re
import shutil
import subprocess

import pytest

from fwtest import curl, get_json, http_request

T0 = 1_732_190_000_000
DEVICES = ["dash-a", "dash-b"]
# Templates allowed to answer 404 today, and why: see the module docstring.
NOT_YET_SERVED = {"history"}


def ingest(collector):
    for d, device in enumerate(DEVICES):
        for seq in range(1, 4):
            readings = [{"sensor": sensor, "ts": T0 + seq * 10_000 + i * 1000, "value": 20 + d + i * 0.25 + k}
                        for k, sensor in enumerate(["humidity", "temperature"]) for i in range(10)]
            r = http_request(collector, "POST", f"/v1/devices/{device}/readings",
                             body={"seq": seq, "readings": readings})
            assert r.status == 200, r.body


def page(collector):
    r = http_request(collector, "GET", "/")
    assert r.status == 200, r.body[:500]
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["cache-control"] == "no-cache"
    return r.body.decode("utf-8")


def declared_api(html):
    match = re.search(r'<script id="fw-api" type="application/json">(.*?)</script>', html, re.S)
    assert match, "the page declares no fw-api block"
    return json.loads(match.group(1))


def test_root_serves_the_dashboard_page(collector):
    ingest(collector)
    html = page(collector)
    assert html.startswith("<!doctype html>")
    assert "<title>Fleetwire collector</title>" in html
    # HEAD: same status and type, no body; other methods: 405 naming GET and HEAD.
    head = http_request(collector, "HEAD", "/")
    assert (head.status, head.headers["content-type"], head.body) == (200, "text/html; charset=utf-8", b"")
    post = http_request(collector, "POST", "/", body=b"x", headers={"Content-Type": "text/plain"})
    assert post.status == 405 and post.json()["error"] == "method_not_allowed"
    assert post.headers["allow"].replace(" ", "") == "GET,HEAD"
    # Over h2c too (the same router serves both transports).
    h2 = curl(collector, "/", http2=True)
    assert (h2.status, h2.version, h2.headers["content-type"]) == (200, "2", "text/html; charset=utf-8")
    assert h2.body.decode() == html


def test_page_is_self_contained(collector):
    html = page(collector)
    assert not re.search(r"https?://", html), "the page names an absolute URL"
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I), "the page loads a script"
    # The one <link> is an empty inline icon, so browsers do not ask for /favicon.ico.
    assert re.findall(r"<link\b[^>]*>", html, re.I) == ['<link rel="icon" href="data:,">']
    assert not re.search(r"@import|url\(", html, re.I), "the page's CSS loads something"
    assert not re.search(r"<(img|iframe|object|embed)\b", html, re.I)
    # All REST requests go through the one helper over the declared templates; the one other fetch is the Watch
    # stream over gRPC-Web, to its one path.
    fetches = re.findall(r"\bfetch\((\w+)", html)
    assert sorted(fetches) == ["WATCH_METHOD", "path"], fetches
    assert re.findall(r'const WATCH_METHOD = "([^"]*)"', html) == ["/telemetry.v1.Telemetry/Watch"]
    assert "XMLHttpRequest" not in html and "EventSource" not in html and "WebSocket" not in html


def fill(template, params):
    """Fills a template as the page's api() does: path parameters percent-encoded, empty query parameters left
    out."""
    path, _, query = template.partition("?")
    path = re.sub(r"\{(\w+)\}", lambda m: params[m.group(1)], path)
    pairs = []
    for kv in filter(None, query.split("&")):
        name, value = kv.split("=", 1)
        value = re.sub(r"\{(\w+)\}", lambda m: str(params.get(m.group(1), "")), value)
        if value != "":
            pairs.append(f"{name}={value}")
    return path + ("?" + "&".join(pairs) if pairs else "")


def test_every_api_request_of_the_page_answers_json(collector):
    ingest(collector)
    api = declared_api(page(collector))
    assert set(api) == {"health", "bandwidth", "history", "bandwidthDevices", "device", "series"}
    device = DEVICES[0]
    detail = get_json(collector, f"/v1/devices/{device}")
    latest = max(s["latest"]["ts"] for s in detail["sensors"])
    # The parameter sets the page uses: the table's server-side sort keys (and none, for the protocol column),
    # sparkline and device-view series (integer ms steps), the history's "10s" step.
    variants = {
        "bandwidthDevices": [{"sort": k, "order": o, "limit": 5000}
                             for k in ["device", "bytes_per_reading", "bytes_in", "bytes_out", "readings"]
                             for o in ["asc", "desc"]] + [{}],
        "series": [{"device": device, "sensor": s, "from": latest - w, "step": step}
                   for s in ["temperature", "humidity"] for w, step in [(900_000, 10_000), (86_400_000, 720_000)]],
        "device": [{"device": device}],
        "history": [{"step": "10s", "from": T0}],
    }
    checked = []
    for name, template in api.items():
        for params in variants.get(name, [{}]):
            path = fill(template, params)
            r = http_request(collector, "GET", path)
            if r.status == 404 and name in NOT_YET_SERVED:
                assert r.json()["error"] == "not_found", (path, r.body)
                checked.append((path, 404))
                continue
            assert r.status == 200, (path, r.status, r.body)
            assert r.headers["content-type"].startswith("application/json"), (path, r.headers)
            body = r.json()
            checked.append((path, 200))
            if name == "series":
                assert body["buckets"], (path, body)
            if name == "bandwidthDevices":
                assert {row["device"] for row in body["devices"]} >= set(DEVICES), (path, body)
    assert len(checked) == sum(len(variants.get(n, [{}])) for n in api)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_page_script_parses(collector, tmp_path):
    """The inline script is valid JavaScript (node --check), so a typo cannot ship a blank dashboard."""
    html = page(collector)
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(scripts) == 1
    source = tmp_path / "dashboard.js"
    source.write_text(scripts[0])
    done = subprocess.run(["node", "--check", str(source)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
