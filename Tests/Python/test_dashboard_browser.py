"""The dashboard in a real browser: headless Chromium (Debian's `chromium`) opens the page against a collector that
device-sim feeds, and the test reads the page's state through the DevTools protocol.

The page subscribes to `telemetry.v1.Telemetry/Watch` over gRPC-Web (a streamed `fetch`) and publishes what the
stream did as `window.fwLive` = {mode, messages, readings, devices, lastDevice, lastSeq, attempts, error}. The tests:
  * live: within a few seconds the mode is "live" and DeviceBatch messages from the simulator's devices arrived
    (then a screenshot: docs/dashboard.png when FW_UPDATE_SCREENSHOT=1, else in the test's temporary folder, so a
    test run leaves the repository as it was);
  * with `--auth on`, the page opened as `/?token=<admin token>` streams too (the token goes as a header);
  * fallback: where Watch is refused (a Trailers-Only UNIMPLEMENTED, or the request failing outright; made by the
    DevTools Fetch domain answering the page's Watch request, everything else reaches the collector) the mode is
    "polling", the page says why, keeps trying the stream, and still shows the collector's figures;
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

from fwtest import DEVICE_SIM_BIN, REPO_ROOT, AuthFiles, get_json

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


@pytest.fixture
def fleet(tmp_path):
    """fleet(collector, *flags) starts `device-sim run` (9 devices, mixed protocols; 30 simulated minutes ending
    now, at 20x, so every device sends a batch of 5 s of readings every 250 ms); stopped at the end of the test."""
    started = []

    def start(collector, *flags):
        assert DEVICE_SIM_BIN.exists(), f"{DEVICE_SIM_BIN} is missing: run `swift build` first"
        with open(tmp_path / f"fleet-{len(started)}.out", "wb") as out:
            proc = subprocess.Popen(
                [str(DEVICE_SIM_BIN), "run", "--target", collector.url, "--devices", "9", "--protocol", "mixed",
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


def is_live_with_readings(status: dict) -> bool:
    return status.get("mode") == "live" and status.get("messages", 0) > 0 and status.get("readings", 0) > 0


def check_streamed_from_the_fleet(browser: Browser, status: dict) -> None:
    assert status["lastDevice"].startswith("dev-"), status  # device-sim names its devices dev-00001, ...
    assert status["error"] is None, status
    # The DOM mirror says the same (what `chromium --dump-dom` would read).
    mirrored = json.loads(browser.evaluate("document.getElementById('fw-live-status').textContent"))
    assert mirrored["mode"] == "live" and mirrored["messages"] > 0, mirrored
    assert "live" in browser.evaluate("document.getElementById('mode').textContent")


def test_the_dashboard_streams_live_readings_over_grpc_web(start_collector, fleet, browser, tmp_path):
    collector = start_collector()
    fleet(collector)
    browser.open(collector.url + "/")
    status = browser.wait_for(is_live_with_readings, LIVE_TIMEOUT, "live readings over gRPC-Web")
    check_streamed_from_the_fleet(browser, status)
    # More keep coming on the same stream (one attempt), from several devices, and the open device's charts grow.
    later = browser.wait_for(lambda s: s["messages"] >= status["messages"] + 20 and s["devices"] >= 3, LIVE_TIMEOUT,
                             "more messages from several devices")
    assert later["attempts"] == 1 and later["mode"] == "live", later
    selected = browser.evaluate("state.view && state.view.device")
    assert selected and selected.startswith("dev-"), selected
    grown = browser.evaluate("state.view.readings")
    browser.wait_for(lambda s: browser.evaluate("state.view.readings") > grown, LIVE_TIMEOUT,
                     "the open device's readings growing from the stream")
    # The collector booked the page's stream as a watch row (the ledger sees the browser like any client).
    protocols = {row["protocol"] for row in get_json(collector, "/v1/bandwidth")["protocols"]}
    assert "watch" in protocols or any(p.startswith("grpc-web") for p in protocols), protocols
    # Let the history gain a few 10 s buckets and the panels settle, then take the screenshot.
    browser.pump(12)
    bars = browser.evaluate("document.querySelectorAll('#histChart svg g[opacity], #histChart svg g > rect, "
                            "#histChart svg g > g').length")
    assert bars > 0, "the bandwidth history draws no bars"
    png = browser.screenshot()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000, len(png)
    target = SCREENSHOT if os.environ.get("FW_UPDATE_SCREENSHOT") == "1" else tmp_path / "dashboard.png"
    target.write_bytes(png)


def test_with_auth_on_the_page_streams_with_the_token_from_its_address(start_collector, fleet, browser, tmp_path):
    auth = AuthFiles(tmp_path / "keys")
    collector = start_collector(*auth.args())
    fleet(collector, "--fleet-key-file", str(auth.fleet_key), "--admin-token-file", str(auth.admin_token_file))
    browser.open(f"{collector.url}/?token={auth.admin()}")
    status = browser.wait_for(is_live_with_readings, LIVE_TIMEOUT, "live readings with --auth on")
    check_streamed_from_the_fleet(browser, status)


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
