"""The dashboard in a real browser: headless Chromium (Debian's `chromium`) opens the page against a collector that
device-sim feeds, and the test reads the page's state through the DevTools protocol.

The page subscribes to `telemetry.v1.Telemetry/Watch` over gRPC-Web (a streamed `fetch`) and publishes what the
stream did as `window.fwLive` = {mode, watching, messages, readings, devices, lastDevice, lastSeq, attempts,
error}. The tests:
  * live: within a few seconds the mode is "live" and DeviceBatch messages from the simulator's devices arrived
    (from every device, whichever protocol it sends with: two per protocol, gRPC-Web and Connect included); the
    open device's charts grow from the stream; the bandwidth chart's buckets are the collector's history; every
    protocol has its row and style (then a screenshot: docs/dashboard.png when FW_UPDATE_SCREENSHOT=1, else in the
    test's temporary folder, so a test run leaves the repository as it was);
  * with `--auth on`, the page opened as `/?token=<admin token>` streams too (the token goes as a header);
  * when the stream ends (the collector stops) the page polls, and streams again once the collector is back;
  * fallback: where Watch is refused (a Trailers-Only UNIMPLEMENTED, or the request failing outright; made by the
    DevTools Fetch domain answering the page's Watch request, everything else reaches the collector) the mode is
    "polling", the page says why, keeps trying the stream, and still shows the collector's figures; a browser
    without ReadableStream polls from the start;
  * a fleet too busy to watch whole (RESOURCE_EXHAUSTED, made by the Fetch domain too): the page follows the open
    device only, and the device opened next once clicked;
  * the page's own protobuf and gRPC-Web decoders, run in the browser, against messages made by the protobuf
    library from schema/ (packed_deltas bit-packed here, independently, from the .proto's comment) and frames
    split at every byte.
Chromium runs with --no-sandbox (CI runs as root). The DevTools port is read from DevToolsActivePort in the
profile folder; the client is `websocket-client` (PyPI). Skipped, saying so, only when no chromium is installed."""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import websocket  # PyPI websocket-client (scripts/install-deps.sh test)

from fwtest import DEVICE_SIM_BIN, REPO_ROOT, AuthFiles, Collector, get_json, http_request

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium found on PATH (scripts/install-deps.sh test installs Debian's chromium)")

BROWSER_START_TIMEOUT = 30.0
LIVE_TIMEOUT = 10.0  # "within a few seconds": the page subscribes at load, the fleet sends every 250 ms
SCREENSHOT = REPO_ROOT / "docs" / "dashboard.png"
VIEWPORT = (1440, 1000)


class Browser:
    """One headless Chromium with one page, driven over the DevTools protocol (one websocket to the page)."""

    def __init__(self, tmp_path: Path):
        self.profile = tmp_path / "chromium-profile"
        self.profile.mkdir()
        self.log_path = tmp_path / "chromium.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
                 "--disable-background-networking", "--no-proxy-server", "--remote-debugging-port=0",
                 f"--user-data-dir={self.profile}", f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        self.next_id = 0
        self.handlers = {}  # DevTools event name -> function(params)
        self.ws = None
        try:
            port = self._devtools_port()
            self.ws = websocket.create_connection(self._page_socket(port), timeout=10, suppress_origin=True)
        except BaseException:
            self.close()
            raise

    def _devtools_port(self) -> int:
        active = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + BROWSER_START_TIMEOUT
        while time.monotonic() < deadline:
            if active.exists():
                lines = active.read_text().split()
                if lines and lines[0].isdigit():
                    return int(lines[0])
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.05)
        raise RuntimeError(f"chromium wrote no DevToolsActivePort within {BROWSER_START_TIMEOUT} s:\n{self.log()}")

    @staticmethod
    def _page_socket(port: int) -> str:
        deadline = time.monotonic() + BROWSER_START_TIMEOUT
        while True:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", "/json/list")
                targets = json.loads(conn.getresponse().read())
            finally:
                conn.close()
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
            assert time.monotonic() < deadline, f"chromium has no page target: {targets}"
            time.sleep(0.05)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    # -- the protocol ------------------------------------------------------------------------------------------

    def send(self, method: str, **params) -> int:
        """Sends a command without waiting for its answer (event handlers use this); returns its id."""
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        return self.next_id

    def _dispatch(self, message: dict) -> None:
        handler = self.handlers.get(message.get("method"))
        if handler:
            handler(message.get("params", {}))

    def call(self, method: str, timeout: float = 15.0, **params) -> dict:
        """Sends a command and returns its result, handling the events that arrive meanwhile."""
        wanted = self.send(method, **params)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"DevTools {method} not answered within {timeout} s"
            self.ws.settimeout(remaining)
            message = json.loads(self.ws.recv())
            if message.get("id") == wanted:
                assert "error" not in message, f"DevTools {method}: {message['error']}"
                return message.get("result", {})
            self._dispatch(message)

    def pump(self, seconds: float) -> None:
        """Handles events for `seconds`."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            self.ws.settimeout(remaining)
            try:
                self._dispatch(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                return

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise AssertionError(f"page threw: {details.get('exception', {}).get('description') or details}")
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=VIEWPORT[0], height=VIEWPORT[1], deviceScaleFactor=1,
                  mobile=False)
        self.call("Page.navigate", url=url)

    def live_status(self) -> dict:
        """window.fwLive, and the same object as the page mirrors it into the DOM."""
        status = self.evaluate("window.fwLive ? JSON.stringify(window.fwLive) : null")
        return json.loads(status) if status else {}

    def wait_for(self, predicate, timeout: float, what: str) -> dict:
        """Polls live_status() until `predicate` holds; fails with the last status and the browser's log."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.live_status()
            if predicate(status):
                return status
            if time.monotonic() > deadline:
                what = what() if callable(what) else what
                raise AssertionError(f"{what} not reached within {timeout} s; fwLive = {status}\n{self.log()}")
            self.pump(0.1)

    def screenshot(self) -> bytes:
        return base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])

    def close(self) -> None:
        if self.ws is not None:
            try:
                self.send("Browser.close")
            except Exception:
                pass
            self.ws.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


@pytest.fixture
def browser(tmp_path):
    b = Browser(tmp_path)
    yield b
    b.close()


FLEET_PROTOCOLS = ["grpc-stream", "grpc-unary", "grpc-sync", "rest", "grpc-web", "grpc-web-text", "connect"]


@pytest.fixture
def fleet(tmp_path):
    """fleet(collector, *flags) starts `device-sim run` (14 devices, two per protocol, the browser-friendly ones
    included; 30 simulated minutes ending now, at 20x, so every device sends a batch of 5 s of readings every
    250 ms); stopped at the end of the test."""
    started = []

    def start(collector, *flags):
        assert DEVICE_SIM_BIN.exists(), f"{DEVICE_SIM_BIN} is missing: run `swift build` first"
        with open(tmp_path / f"fleet-{len(started)}.out", "wb") as out:
            proc = subprocess.Popen(
                [str(DEVICE_SIM_BIN), "run", "--target", collector.url, "--devices", str(2 * len(FLEET_PROTOCOLS)),
                 "--protocol", ",".join(FLEET_PROTOCOLS),
                 "--interval", "1s", "--batch", "5s", "--duration", "30m", "--speedup", "20", "--time-limit", "120s",
                 "--quiet", *flags], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    for proc in started:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def is_live_from(browser: Browser, *names: str):
    """Whether the page is live and has read DeviceBatch messages with readings from devices with each of these
    names or name prefixes (device-sim names its devices dev-00001, …)."""
    def check(status: dict) -> bool:
        if not (status.get("mode") == "live" and status.get("messages", 0) > 0 and status.get("readings", 0) > 0):
            return False
        seen = browser.evaluate("[...liveDevices]")
        return all(any(d.startswith(name) for d in seen) for name in names)
    return check


def check_streamed_from_the_fleet(browser: Browser, status: dict) -> None:
    assert status["error"] is None and status["attempts"] == 1, status
    assert status["lastDevice"].startswith("dev-"), status
    # The DOM mirror says the same (what `chromium --dump-dom` would read).
    mirrored = json.loads(browser.evaluate("document.getElementById('fw-live-status').textContent"))
    assert mirrored["mode"] == "live" and mirrored["messages"] > 0, mirrored
    assert "live" in browser.evaluate("document.getElementById('mode').textContent")


def test_the_dashboard_streams_live_readings_over_grpc_web(start_collector, fleet, browser, tmp_path):
    collector = start_collector()
    fleet(collector)
    browser.open(collector.url + "/")
    status = browser.wait_for(is_live_from(browser, "dev-"), LIVE_TIMEOUT, "live readings over gRPC-Web")
    check_streamed_from_the_fleet(browser, status)
    # More keep coming on the same stream (one attempt), from every device of the fleet (whatever it sends with),
    # and the open device's charts grow.
    devices = 2 * len(FLEET_PROTOCOLS)
    later = browser.wait_for(lambda s: s["messages"] >= status["messages"] + 20 and s["devices"] == devices,
                             LIVE_TIMEOUT, f"more messages, from all {devices} devices")
    assert later["attempts"] == 1 and later["mode"] == "live", later
    # The table's first device opens (at load, or once readings stream when the table was empty then).
    browser.wait_for(lambda s: (browser.evaluate("state.view && state.view.device") or "").startswith("dev-"),
                     LIVE_TIMEOUT, lambda: "a device open (" + browser.evaluate(
                         "JSON.stringify({ selected: state.selected, rows: state.rows.length, busy, tableBusy, "
                         "hint: document.getElementById('devHint').textContent })") + ")")
    grown = browser.evaluate("state.view.readings")
    browser.wait_for(lambda s: browser.evaluate("state.view.readings") > grown, LIVE_TIMEOUT,
                     "the open device's readings growing from the stream")
    # The collector booked the page's stream as a watch row (the ledger sees the browser like any client).
    protocols = {row["protocol"] for row in get_json(collector, "/v1/bandwidth")["protocols"]}
    assert "watch" in protocols, protocols
    # Let the history gain a few 10 s buckets and the panels settle, then take the screenshot (for docs/, a minute
    # of them).
    browser.pump(60 if os.environ.get("FW_UPDATE_SCREENSHOT") == "1" else 15)
    check_history_matches_the_collector(browser, collector)
    # The bytes-per-reading panel has a row per protocol of the fleet, each named in text and in its own style:
    # grpc-web solid black, grpc-web-text black striped (a dashed stroke), connect yellow (Okabe–Ito).
    panel = browser.evaluate("document.getElementById('bprChart').innerHTML")
    for name in ("grpc-stream", "grpc-unary", "grpc-sync", "rest-json", "grpc-web", "grpc-web-text", "connect"):
        assert f">{name}</text>" in panel, (name, panel[:3000])
    assert 'fill="#000000"' in panel and 'stroke="#000000" stroke-dasharray="3 2"' in panel, panel[:3000]
    assert 'fill="#F0E442"' in panel, panel[:3000]
    png = browser.screenshot()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000, len(png)
    target = SCREENSHOT if os.environ.get("FW_UPDATE_SCREENSHOT") == "1" else tmp_path / "dashboard.png"
    target.write_bytes(png)


def check_history_matches_the_collector(browser: Browser, collector) -> None:
    """The bandwidth chart's buckets (read whole once, then only the newest ones again) are the collector's: every
    bucket complete and persisted when the page last read holds the same rate per protocol as a fresh full read."""
    deadline = time.monotonic() + 20  # the collector's first bucket settles 15 s after it starts at the latest
    while True:
        kept = browser.evaluate("JSON.stringify({ until: state.history.readUntil, step: state.history.stepMs, "
                                "buckets: [...state.history.buckets].map(([t, m]) => [t, Object.fromEntries(m)]) })")
        kept = json.loads(kept)
        page = {start: rates for start, rates in kept["buckets"]}
        step = kept["step"]
        settled = kept["until"] - step - 5_000  # its bucket ended 5 s before the read; bytes persist every 2 s
        full = get_json(collector, f"/v1/bandwidth/history?step={step}&from={kept['until'] - 30 * 60_000}")
        collector_rates = {}
        for b in full["buckets"]:
            if b["bytes_in"] + b["bytes_out"]:
                rate = (b["bytes_in"] + b["bytes_out"]) * 1000 / step
                collector_rates.setdefault(b["start"], {})[b["protocol"]] = rate
        compared = [start for start in collector_rates if start <= settled]
        if compared or time.monotonic() > deadline:
            break
        browser.pump(1)
    assert compared, (settled, sorted(collector_rates))
    for start in compared:
        assert page.get(start) == collector_rates[start], (start, page.get(start), collector_rates[start])
    bars = browser.evaluate("document.querySelectorAll('#histChart svg > g:not(.grid):not(.axis)').length")
    assert bars >= len(compared), (bars, compared)


def test_with_auth_on_the_page_streams_with_the_token_from_its_address(start_collector, fleet, browser, tmp_path):
    auth = AuthFiles(tmp_path / "keys")
    collector = start_collector(*auth.args())
    fleet(collector, "--fleet-key-file", str(auth.fleet_key), "--admin-token-file", str(auth.admin_token_file))
    browser.open(f"{collector.url}/?token={auth.admin()}")
    status = browser.wait_for(is_live_from(browser, "dev-"), LIVE_TIMEOUT, "live readings with --auth on")
    check_streamed_from_the_fleet(browser, status)


def post_reading(collector, device: str, seq: int) -> None:
    r = http_request(collector, "POST", f"/v1/devices/{device}/readings",
                     body={"seq": seq, "readings": [{"sensor": "temperature", "ts": int(time.time() * 1000) + seq,
                                                     "value": 20 + seq / 4}]})
    assert r.status == 200, r.body


def test_when_the_stream_ends_the_page_polls_and_then_streams_again(start_collector, browser, tmp_path):
    """A real end of the stream: the collector stops (the page falls back to polling, saying why) and comes back on
    the same port (the page's next try, after its backoff, streams again)."""
    collector = start_collector()
    browser.open(collector.url + "/")
    browser.wait_for(lambda s: s.get("mode") == "live", LIVE_TIMEOUT, "live")
    post_reading(collector, "dash-restart", 1)
    browser.wait_for(lambda s: s["messages"] == 1 and s["lastDevice"] == "dash-restart", LIVE_TIMEOUT,
                     "the posted batch streamed")
    collector.stop()
    status = browser.wait_for(lambda s: s["mode"] == "polling", LIVE_TIMEOUT, "polling once the collector stopped")
    assert status["error"], status
    again = Collector(collector.db, tmp_path / "collector-again.log", ["--auth", "off"], port=collector.port)
    try:
        again.start()
        # Backoff: 1 s after the first failure, doubling while the collector was away.
        browser.wait_for(lambda s: s["mode"] == "live" and s["attempts"] >= 2, 20, "live again")
        post_reading(again, "dash-restart", 2)
        status = browser.wait_for(lambda s: s["messages"] == 2, LIVE_TIMEOUT, "a batch streamed after reconnecting")
        assert status["error"] is None and status["lastSeq"] == "2", status
    finally:
        again.stop()


def refuse_watch(browser: Browser, how: str) -> list:
    """Answers the page's Watch requests in the browser (DevTools Fetch domain) as a collector that refuses Watch
    would; every other request goes through to the collector. Returns the list of refused requests, growing."""
    refused = []

    def paused(params):
        refused.append(params["request"]["url"])
        if how == "unimplemented":  # Trailers-Only: HTTP 200, the status in the headers, no body
            browser.send("Fetch.fulfillRequest", requestId=params["requestId"], responseCode=200,
                         responseHeaders=[{"name": "content-type", "value": "application/grpc-web+proto"},
                                          {"name": "grpc-status", "value": "12"},
                                          {"name": "grpc-message", "value": "Watch%20is%20not%20served%20here"}],
                         body="")
        else:
            browser.send("Fetch.failRequest", requestId=params["requestId"], errorReason="ConnectionRefused")

    browser.handlers["Fetch.requestPaused"] = paused
    browser.call("Fetch.enable",
                 patterns=[{"urlPattern": "*/telemetry.v1.Telemetry/Watch*", "requestStage": "Request"}])
    return refused


def test_a_browser_without_readable_streams_polls(start_collector, fleet, browser):
    """Without ReadableStream (removed before the page's script runs) the page does not try the stream at all."""
    collector = start_collector()
    fleet(collector)
    browser.call("Page.enable")
    browser.call("Page.addScriptToEvaluateOnNewDocument", source="delete window.ReadableStream;")
    browser.open(collector.url + "/")
    status = browser.wait_for(lambda s: s.get("mode") == "polling", LIVE_TIMEOUT, "polling")
    assert status["error"] == "this browser cannot read a streamed response" and status["attempts"] == 0, status
    browser.wait_for(lambda s: browser.evaluate(
        "document.querySelectorAll('#rows tr').length > 0 "
        "&& /every 5 s/.test(document.getElementById('updated').textContent)"), LIVE_TIMEOUT,
        "the device table filled by polling")
    assert json.loads(browser.evaluate("document.getElementById('fw-live-status').textContent"))["mode"] == "polling"


def test_a_fleet_too_busy_to_watch_whole_is_followed_one_device_at_a_time(start_collector, fleet, browser):
    """The collector ends a watcher that falls behind with RESOURCE_EXHAUSTED; the page then follows the open
    device only (the first Watch answered so here, through the DevTools Fetch domain; the next ones reach the
    collector), and opening another device restarts the stream for it."""
    collector = start_collector()
    fleet(collector)
    answered = []

    def paused(params):
        answered.append(params["request"].get("postData"))
        if len(answered) == 1:
            browser.send("Fetch.fulfillRequest", requestId=params["requestId"], responseCode=200, body="",
                         responseHeaders=[{"name": "content-type", "value": "application/grpc-web+proto"},
                                          {"name": "grpc-status", "value": "8"},
                                          {"name": "grpc-message", "value": "watcher%20fell%20behind"}])
        else:
            browser.send("Fetch.continueRequest", requestId=params["requestId"])

    browser.handlers["Fetch.requestPaused"] = paused
    browser.call("Fetch.enable",
                 patterns=[{"urlPattern": "*/telemetry.v1.Telemetry/Watch*", "requestStage": "Request"}])
    browser.open(collector.url + "/")

    def following(device_test):
        def check(s):
            return (s.get("mode") == "live" and device_test(s.get("watching") or "") and s.get("messages", 0) > 0
                    and s.get("lastDevice") == s["watching"])
        return check

    status = browser.wait_for(following(lambda d: d.startswith("dev-")), 15, "live, following the open device")
    first = status["watching"]
    assert browser.evaluate("state.selected") == first, status
    assert browser.evaluate("[...liveDevices]") == [first], "a message from a device not followed"
    other = "dev-00002" if first != "dev-00002" else "dev-00003"
    browser.evaluate(f"document.querySelector('#rows tr[data-device=\"{other}\"]').click()")
    status = browser.wait_for(following(lambda d: d == other), LIVE_TIMEOUT, f"following {other}")
    assert sorted(browser.evaluate("[...liveDevices]")) == sorted([first, other]), status
    assert status["error"] is None and len(answered) >= 3, (status, len(answered))


@pytest.mark.parametrize("how", ["unimplemented", "connection-refused"])
def test_where_watch_is_refused_the_page_polls(start_collector, fleet, browser, how):
    collector = start_collector()
    fleet(collector)
    refused = refuse_watch(browser, how)
    browser.open(collector.url + "/")
    status = browser.wait_for(lambda s: s.get("mode") == "polling" and s.get("attempts", 0) >= 2, LIVE_TIMEOUT,
                              "polling, and a second try of the stream")
    assert len(refused) >= 2 and status["messages"] == 0, (refused, status)
    if how == "unimplemented":
        assert "grpc-status 12 UNIMPLEMENTED: Watch is not served here" in status["error"], status
    else:
        assert status["error"], status
    assert "polling" in browser.evaluate("document.getElementById('mode').textContent")
    # Polling still shows the collector's figures: the tiles count the fleet's readings.
    browser.wait_for(lambda s: browser.evaluate(
        "[...document.querySelectorAll('#tiles .tile')].some(t => t.textContent.startsWith('Readings stored') "
        "&& /[1-9]/.test(t.querySelector('.v').textContent))"), LIVE_TIMEOUT, "the readings tile filled by polling")


# -- the page's decoders, run in the browser -------------------------------------------------------------------


def pack_deltas(deltas: list[int], width: int) -> bytes:
    """packed_deltas from the .proto's comment, written here independently of the page and the collector: a varint
    n, one byte w, then n zigzag-encoded deltas of w bits each, least significant bit first."""
    def varint(n):
        out = bytearray()
        while n >= 0x80:
            out.append(n & 0x7F | 0x80)
            n >>= 7
        out.append(n)
        return bytes(out)

    run = 0
    for i, d in enumerate(deltas):
        z = (d << 1) ^ (d >> 63) if d < 0 else d << 1
        z &= (1 << 64) - 1
        assert z < (1 << width) or width == 64, (d, width)
        run |= z << (i * width)
    return varint(len(deltas)) + bytes([width]) + run.to_bytes((len(deltas) * width + 7) // 8, "little")


def page_bytes(data: bytes) -> str:
    """A JavaScript expression for `data` as a Uint8Array."""
    return f'Uint8Array.from(atob("{base64.b64encode(data).decode()}"), c => c.charCodeAt(0))'


def test_the_pages_decoders_read_what_protobuf_writes(start_collector, browser, proto):
    pb = proto.pb
    collector = start_collector()
    browser.open(collector.url + "/")
    browser.wait_for(lambda s: s.get("mode") in ("live", "polling"), LIVE_TIMEOUT, "the page running")

    # Series that cover the .proto's rules: a regular one (interval), an irregular one (time deltas), one whose
    # deltas continue in packed_deltas (a width of 5, then 0: all zero), 64-bit mantissas and a positive exponent.
    start = 1_764_000_000_123
    cases = []  # (Series, [(ts, mantissa)])

    def add(series, timestamps, mantissas):
        cases.append((series, list(zip(timestamps, mantissas))))

    add(pb.Series(sensor="temperature", exponent=-2, start_ms=start, interval_ms=1000,
                  mantissa_deltas=[2154, 7, -3, 0, -12]),
        [start + i * 1000 for i in range(5)], [2154, 2161, 2158, 2158, 2146])
    add(pb.Series(sensor="humidity", exponent=-1, start_ms=start + 5, time_deltas_ms=[0, 250, 4_000_000_000],
                  mantissa_deltas=[-505, 1, 1, -2]),
        [start + 5, start + 5, start + 255, start + 4_000_000_255], [-505, -504, -503, -505])
    packed = [3, -4, 15, -16, 0, 1, -1]
    add(pb.Series(sensor="battery", exponent=-3, start_ms=start, interval_ms=60_000, mantissa_deltas=[3900, -1],
                  packed_deltas=pack_deltas(packed, 5)),
        [start + i * 60_000 for i in range(9)], [3900, 3899, 3902, 3898, 3913, 3897, 3897, 3898, 3897])
    add(pb.Series(sensor="co2", exponent=3, start_ms=start, interval_ms=10, mantissa_deltas=[1],
                  packed_deltas=pack_deltas([0, 0, 0], 0)),
        [start + i * 10 for i in range(4)], [1, 1, 1, 1])
    big = 2**61 + 12345
    add(pb.Series(sensor="counter", exponent=-6, start_ms=start, interval_ms=1, mantissa_deltas=[big, -2 * big]),
        [start, start + 1], [big, -big])
    message = pb.DeviceBatch(device="dev-00042", batch=pb.Batch(seq=2**40 + 7, series=[c[0] for c in cases]))
    data = message.SerializeToString() + b"\x78\x01"  # an unknown field 15 at the end, to be skipped
    decoded = browser.evaluate(
        f"(() => {{ const m = decodeDeviceBatch({page_bytes(data)}); "
        "return { device: m.device, seq: String(m.batch.seq), "
        "series: m.batch.series.map(s => ({ sensor: s.sensor, readings: seriesReadings(s) })) }; })()")
    assert decoded["device"] == "dev-00042" and decoded["seq"] == str(2**40 + 7), decoded
    for (series, expected), got in zip(cases, decoded["series"], strict=True):
        want = [[ts, float(f"{m}e{series.exponent}")] for ts, m in expected]
        assert got == {"sensor": series.sensor, "readings": want}, (series.sensor, got, want)

    # The page's WatchRequest is one protobuf reads back.
    request = browser.evaluate("Array.from(encodeWatchRequest({ devices: ['dev-1', 'dév-2'], sensors: ['co2'], "
                               "sinceMs: 1764000000123 }))")
    parsed = pb.WatchRequest.FromString(bytes(request))
    assert (list(parsed.devices), list(parsed.sensors), parsed.since_ms) == (["dev-1", "dév-2"], ["co2"],
                                                                            1_764_000_000_123)
    assert browser.evaluate("encodeWatchRequest().length") == 0

    # gRPC-Web frames split anywhere: every two-piece split and one byte at a time give the same frames.
    trailer = b"grpc-status: 0\r\ngrpc-message: all%20done\r\n"
    stream = (bytes([0]) + len(data).to_bytes(4, "big") + data + b"\x00\x00\x00\x00\x00"
              + bytes([0x80]) + len(trailer).to_bytes(4, "big") + trailer)
    result = browser.evaluate(f"""(() => {{
        const bytes = {page_bytes(stream)}, show = fs => JSON.stringify(fs.map(f => [f.flag, Array.from(f.payload)]));
        const whole = new GRPCWebDeframer().push(bytes), bad = [];
        for (let cut = 0; cut <= bytes.length; cut++) {{
          const d = new GRPCWebDeframer(), got = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
          if (show(got) !== show(whole) || d.pending) bad.push(cut);
        }}
        const d = new GRPCWebDeframer(), single = [];
        for (let i = 0; i < bytes.length; i++) single.push(...d.push(bytes.subarray(i, i + 1)));
        const ends = new GRPCWebDeframer(); ends.push(bytes.subarray(0, 7));
        return {{ flags: whole.map(f => f.flag), sizes: whole.map(f => f.payload.length), bad,
                  single: show(single) === show(whole), pendingMidFrame: ends.pending,
                  trailers: parseTrailers(whole[2].payload),
                  error: grpcError("12", "Watch%20is%20off").message }};
    }})()""")
    assert result["flags"] == [0, 0, 0x80] and result["sizes"] == [len(data), 0, len(trailer)], result
    assert result["bad"] == [] and result["single"] and result["pendingMidFrame"] == 7, result
    assert result["trailers"] == {"grpc-status": "0", "grpc-message": "all%20done"}, result
    assert result["error"] == "grpc-status 12 UNIMPLEMENTED: Watch is off", result

    # Streamed readings join the open device's card: each folded into its bucket's mean (buckets at multiples of the
    # step since the epoch), those at or before the card's latest reading skipped.
    folded = browser.evaluate("""(() => {
        state.selected = "t-dev";
        state.view = { device: "t-dev", step: 10000, windowMs: 3600e3, readings: 1, batches: 1, lastSeenMs: 0,
          sensors: [{ sensor: "temp", latest: { ts: 1000, value: 1 }, readings: 1, knownUntil: 1000,
                      buckets: new Map([[0, { value: 1, count: 1 }]]) }] };
        const added = appendToDevice("t-dev", "temp", [[500, 9], [1000, 9], [2000, 3], [12000, 5]])
          + appendToDevice("t-dev", "co2", [[19999, 400]]) + appendToDevice("other", "temp", [[5000, 7]]);
        const v = state.view, at = (s, t) => v.sensors.find(x => x.sensor === s).buckets.get(t);
        return { added, readings: v.readings, sensors: v.sensors.map(s => s.sensor), b0: at("temp", 0),
                 b1: at("temp", 10000), co2: at("co2", 10000), latest: v.sensors[1].latest };
    })()""")
    assert folded == {"added": 3, "readings": 4, "sensors": ["co2", "temp"], "b0": {"value": 2, "count": 2},
                      "b1": {"value": 5, "count": 1}, "co2": {"value": 400, "count": 1},
                      "latest": {"ts": 12000, "value": 5}}, folded

    # What the page refuses, with a message naming the problem.
    def refusal(expression):
        return browser.evaluate(
            f"(() => {{ try {{ {expression}; return null; }} catch (e) {{ return e.message; }} }})()")

    assert "take 4 bytes, not 3" in refusal(f"unpackDeltas({page_bytes(pack_deltas([1, 2, 3, 4, 5], 6)[:-1])})")
    assert "width 65 over 64" in refusal(f"unpackDeltas({page_bytes(bytes([1, 65, 0]))})")
    assert "unused high bits" in refusal(f"unpackDeltas({page_bytes(bytes([1, 4, 0xF1]))})")
    assert "over the page's" in refusal(f"new GRPCWebDeframer(100).push({page_bytes(bytes([0, 0, 0, 0, 101]))})")
    assert "length 2 past the end" in refusal(f"decodeDeviceBatch({page_bytes(bytes([0x12, 0x02, 0x08]))})")
    assert "varint cut short" in refusal(f"decodeDeviceBatch({page_bytes(bytes([0x12, 0x01, 0x08]))})")
    no_sensor = pb.Series(ref=1, mantissa_deltas=[1]).SerializeToString()
    assert "without its sensor name" in refusal(f"seriesReadings(decodeSeries({page_bytes(no_sensor)}))")
    gaps = pb.Series(sensor="t", start_ms=1, time_deltas_ms=[5], mantissa_deltas=[1, 2, 3]).SerializeToString()
    assert "3 readings with interval 0 ms and 1 time deltas" in refusal(
        f"seriesReadings(decodeSeries({page_bytes(gaps)}))")
