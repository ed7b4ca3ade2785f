"""Helpers for the end-to-end tests: the collector process, batches with their expected rows, an independent
SQLite reader, curl and plain-HTTP clients. Every wait here is bounded."""

from __future__ import annotations

import http.client
import json
import math
import re
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import chunks

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTOR_BIN = REPO_ROOT / ".build" / "debug" / "collector"
DEVICE_SIM_BIN = REPO_ROOT / ".build" / "debug" / "device-sim"
PROTO_ROOT = REPO_ROOT / "schema"
PROTO_FILE = Path("telemetry") / "v1" / "telemetry.proto"

START_TIMEOUT = 15.0  # seconds for the listening line to appear
STOP_TIMEOUT = 20.0  # seconds for a SIGTERM'd collector to exit (its own shutdown grace is 10 s)
CALL_TIMEOUT = 10.0  # seconds for any single RPC or HTTP request

LISTEN_RE = re.compile(r"collector listening on 127\.0\.0\.1:(\d+) \(database (.+), (\d+) loops\)")
STOPPING_RE = re.compile(r"collector stopping")
STOPPED_RE = re.compile(r"collector stopped: database closed \(.*\)")

# Options for every grpcio channel: never route through a proxy from the environment, and a subchannel pool of
# its own (grpcio otherwise shares connections between channels to the same address, even one just closed, so
# "separate channels" would not mean separate connections and per-connection counters would race).
CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0), ("grpc.use_local_subchannel_pool", 1)]


class Collector:
    """One `collector serve` process on port 0 with its log in a file.

    Authentication is off (`--auth off`) unless `extra_args` says `--auth on` (see test_auth.py and `AuthKeys`)."""

    def __init__(self, db: Path | str, log_path: Path, extra_args=(), loops: int = 2, port: int = 0,
                 log_through_pipe: bool = False):
        """`log_through_pipe`: the collector writes its log to a pipe that this process copies into `log_path`, so
        a file-size limit put on the collector (prlimit --fsize) does not apply to its log.

        `db` is a SQLite file, or a PostgreSQL URL (`postgresql://...`, kept as the string it is; the fleet key
        then lives beside the log)."""
        self.is_postgres = isinstance(db, str) and db.startswith(("postgresql://", "postgres://"))
        self.db = db if self.is_postgres else Path(db)
        self.log_path = Path(log_path)
        self.log_through_pipe = log_through_pipe
        extra = [str(a) for a in extra_args]
        if not any(a == "--auth" or a.startswith("--auth=") for a in extra):
            extra = ["--auth", "off", *extra]
        # The fleet key's folder also holds the TLS certificate and ticket key: the test's own, not the repo's data/.
        if not any(a == "--fleet-key-file" or a.startswith("--fleet-key-file=") for a in extra):
            key_directory = Path(log_path).parent if self.is_postgres else self.db.parent
            extra = ["--fleet-key-file", str(key_directory / "fleet.key"), *extra]
        self.args = [str(COLLECTOR_BIN), "serve", "--listen", f"127.0.0.1:{port}", "--db", str(self.db),
                     "--loops", str(loops), *extra]
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.returncode: int | None = None
        self._log_offset = 0

    # -- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> "Collector":
        """Starts the process and waits for its listening line, which the collector logs only once SIGINT and
        SIGTERM are handled (test_sigterm_right_after_listening_line_stops_the_collector checks that)."""
        if not COLLECTOR_BIN.exists():
            raise RuntimeError(f"{COLLECTOR_BIN} not found: run `swift build` in {REPO_ROOT} first")
        # A restart appends to the same log; only lines after this offset belong to this run.
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")
        try:
            if self.log_through_pipe:
                self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                             stderr=subprocess.STDOUT)
                threading.Thread(target=_copy_lines, args=(self.proc.stdout, self.log_path), daemon=True).start()
            else:
                self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()
        self.returncode = None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            match = LISTEN_RE.search(self.log())
            if match:
                self.port = int(match.group(1))
                if self.is_postgres:  # "PostgreSQL <the URL without its password>, collector <name>"
                    assert match.group(2).startswith("PostgreSQL postgresql://"), \
                        f"collector logged another database: {match.group(0)}"
                else:
                    assert match.group(2) == str(self.db), f"collector logged another database: {match.group(0)}"
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"collector exited with {self.proc.returncode} before listening:\n{self.log()}")
            time.sleep(0.002)
        self.kill()
        raise RuntimeError(f"collector did not log its listening line within {START_TIMEOUT} s:\n{self.log()}")

    def log(self) -> str:
        """This run's log so far."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_offset)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def terminate(self) -> None:
        """Sends SIGTERM (the start of a graceful stop) without waiting."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        """Waits for the exit; kills the process and fails when it does not exit in time."""
        assert self.proc is not None
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"collector did not exit within {timeout} s after SIGTERM:\n{self.log()}")
        return self.returncode

    def stop(self, timeout: float = STOP_TIMEOUT) -> str:
        """Graceful stop: SIGTERM, exit code 0, the stopping and stopped lines. Returns this run's log."""
        if self.running:
            self.terminate()
        code = self.wait(timeout)
        log = self.log()
        assert code == 0, f"collector exited with {code} after SIGTERM:\n{log}"
        assert STOPPING_RE.search(log), f"no 'collector stopping' line:\n{log}"
        assert STOPPED_RE.search(log), f"no 'collector stopped: database closed (...)' line:\n{log}"
        return log

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    # -- addresses ------------------------------------------------------------------------------------------

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _copy_lines(pipe, path: Path) -> None:
    """Appends every line read from `pipe` to `path` at once, until the pipe closes."""
    with open(path, "ab") as out:
        for line in iter(pipe.readline, b""):
            out.write(line)
            out.flush()
    pipe.close()


# -- batches ------------------------------------------------------------------------------------------------


def reading_value(mantissa: int, exponent: int) -> float:
    """mantissa x 10^exponent as the nearest double (Python's float() of the decimal string rounds correctly)."""
    return float(f"{mantissa}e{exponent}")


def device_batch_rows(message) -> list[tuple]:
    """The readings of one decoded DeviceBatch (a Watch message): [(device, sensor, ts, value, seq)], times and
    values rebuilt by the .proto's rules (an independent reading of them)."""
    rows = []
    for series in message.batch.series:
        ts, mantissa = series.start_ms, 0
        for i, delta in enumerate(series.mantissa_deltas):
            if i > 0:
                ts += series.interval_ms if series.interval_ms else series.time_deltas_ms[i - 1]
            mantissa += delta
            rows.append((message.device, series.sensor, ts, reading_value(mantissa, series.exponent),
                         message.batch.seq))
    return rows


def make_series(pb, sensor: str, exponent: int, timestamps, mantissas, regular: bool | None = None):
    """A delta-encoded Series for the given readings and the rows it must produce: [(sensor, ts, value)].

    `regular=None` picks interval_ms when the timestamps are evenly spaced (gap > 0), time deltas otherwise."""
    timestamps = list(timestamps)
    mantissas = list(mantissas)
    assert len(timestamps) == len(mantissas) and timestamps
    gaps = [b - a for a, b in zip(timestamps, timestamps[1:])]
    assert all(g >= 0 for g in gaps), "time deltas are unsigned"
    evenly = len(set(gaps)) <= 1 and (not gaps or gaps[0] > 0)
    if regular is None:
        regular = evenly and len(timestamps) > 1
    deltas = [mantissas[0]] + [b - a for a, b in zip(mantissas, mantissas[1:])]
    series = pb.Series(sensor=sensor, exponent=exponent, start_ms=timestamps[0], mantissa_deltas=deltas)
    if regular:
        assert evenly
        series.interval_ms = gaps[0] if gaps else 1
    else:
        series.time_deltas_ms.extend(gaps)
    rows = [(sensor, ts, reading_value(m, exponent)) for ts, m in zip(timestamps, mantissas)]
    return series, rows


def simple_batch(pb, seq: int, sensor: str = "temperature", start_ms: int = 1_732_190_000_000, count: int = 3,
                 exponent: int = -2, first: int = 2154):
    """A batch of one regular series; returns (batch, rows)."""
    ts = [start_ms + i * 1000 for i in range(count)]
    series, rows = make_series(pb, sensor, exponent, ts, [first + 7 * i for i in range(count)])
    return pb.Batch(seq=seq, series=[series]), rows


# -- the independent SQLite reader ---------------------------------------------------------------------------


def db_query(db: Path, sql: str, params=()) -> list[tuple]:
    """Runs a read-only query with Python's own sqlite3 module (a reader independent of the collector).

    Schema version 4 keeps readings compressed in `chunks`; a query that names `readings_view` (the view of
    version 3) gets it back as a TEMP view (device, sensor, ts, value) over the readings decoded by chunks.py, in
    the same read transaction as the query, so it sees one snapshot even while a collector writes."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5, isolation_level=None)
    try:
        if "readings_view" not in sql:
            return conn.execute(sql, params).fetchall()
        conn.execute("BEGIN")
        try:
            add_decoded_readings(conn)
            return conn.execute(sql, params).fetchall()
        finally:
            conn.execute("ROLLBACK")
    finally:
        conn.close()


CHUNK_COLUMNS = "series_id, start_ts, end_ts, count, value_min, value_max, value_sum, value_first, value_last, data"


def add_decoded_readings(conn: sqlite3.Connection) -> int:
    """Decodes every chunk of the database open on `conn` with chunks.py into TEMP tables and views; returns the
    number of readings.

    temp.decoded_readings (series_id, ts, value): one row per stored reading (`value` has no type affinity, so
        -0.0 keeps its sign; a REAL column would store it as the integer 0);
    temp.readings_view (device, sensor, ts, value): those readings with their device and sensor names.

    A blob that does not decode, or whose count or first/last timestamp differ from its row, is an AssertionError
    naming the chunk (the full comparison is `chunk_problems`)."""
    rows = []
    for series_id, start_ts, end_ts, count, *_, data in conn.execute(f"SELECT {CHUNK_COLUMNS} FROM main.chunks"):
        try:
            timestamps, values = chunks.decode(data)
        except ValueError as error:
            raise AssertionError(f"chunk (series {series_id}, start_ts {start_ts}) does not decode: {error}") from None
        assert len(timestamps) == count and timestamps and (timestamps[0], timestamps[-1]) == (start_ts, end_ts), (
            f"chunk (series {series_id}, start_ts {start_ts}): row says {count} readings from {start_ts} to {end_ts}, "
            f"its blob holds {len(timestamps)}" + (f" from {timestamps[0]} to {timestamps[-1]}" if timestamps else ""))
        rows.extend(zip([series_id] * count, timestamps, values))
    conn.execute("CREATE TEMP TABLE decoded_readings (series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value NOT NULL)")
    conn.executemany("INSERT INTO temp.decoded_readings VALUES (?, ?, ?)", rows)
    # Not unique (a reading stored twice must stay visible to the checks), but indexed like the chunks' key, so a
    # join on (series_id, ts range) is a range scan, as it was on version 3's readings table.
    conn.execute("CREATE INDEX temp.decoded_readings_by_series ON decoded_readings (series_id, ts)")
    conn.execute("CREATE TEMP VIEW readings_view (device, sensor, ts, value) AS "
                 "SELECT d.name, s.sensor, r.ts, r.value FROM temp.decoded_readings AS r "
                 "JOIN main.series AS s ON s.id = r.series_id JOIN main.devices AS d ON d.id = s.device_id")
    return len(rows)


def chunk_problems(conn: sqlite3.Connection) -> list[str]:
    """Everything wrong with the `chunks` table on `conn`, checked against the decoded blobs: [] when every blob
    decodes to `count` > 0 readings in strictly increasing ts order from `start_ts` to `end_ts`, value_min/max are
    the decoded extremes, value_first/last the first and last value (bit for bit, except that a REAL column reads
    -0.0 back as 0.0), value_sum the sum within rounding, and the chunks of each series do not overlap."""
    problems = []
    previous: tuple[int, int, int] | None = None  # (series_id, start_ts, end_ts) of the chunk before
    for (series_id, start_ts, end_ts, count, value_min, value_max, value_sum, value_first, value_last,
         data) in conn.execute(f"SELECT {CHUNK_COLUMNS} FROM main.chunks ORDER BY series_id, start_ts"):
        where = f"chunk (series {series_id}, start_ts {start_ts})"
        if previous is not None and previous[0] == series_id and previous[2] >= start_ts:
            problems.append(f"{where} overlaps the one starting at {previous[1]} and ending at {previous[2]}")
        previous = (series_id, start_ts, end_ts)
        try:
            timestamps, values = chunks.decode(data)
        except ValueError as error:
            problems.append(f"{where} does not decode: {error}")
            continue
        if count <= 0 or len(timestamps) != count:
            problems.append(f"{where}: count {count}, blob holds {len(timestamps)} readings")
        if not timestamps:
            continue
        if any(b <= a for a, b in zip(timestamps, timestamps[1:])):
            problems.append(f"{where}: timestamps not strictly increasing")
        if (timestamps[0], timestamps[-1]) != (start_ts, end_ts):
            problems.append(f"{where}: row spans {start_ts}..{end_ts}, blob {timestamps[0]}..{timestamps[-1]}")
        if any(math.isnan(v) for v in values):
            problems.append(f"{where}: blob holds NaN")
            continue
        if (value_min, value_max) != (min(values), max(values)):
            problems.append(f"{where}: row min/max {value_min!r}/{value_max!r}, blob {min(values)!r}/{max(values)!r}")
        for column, stored, decoded in (("value_first", value_first, values[0]),
                                        ("value_last", value_last, values[-1])):
            if not (chunks.value_bits(stored) == chunks.value_bits(decoded) or stored == decoded == 0):
                problems.append(f"{where}: {column} {stored!r}, blob {decoded!r}")
        if all(math.isfinite(v) for v in values):  # telemetry on a decimal grid always is
            try:
                exact, scale = math.fsum(values), math.fsum(abs(v) for v in values)
            except OverflowError:
                exact, scale = math.inf, math.inf
            if not (math.isclose(value_sum, exact, rel_tol=0, abs_tol=1e-12 * scale + 1e-300)
                    or (math.isinf(exact) and math.isinf(value_sum))):
                problems.append(f"{where}: value_sum {value_sum!r}, blob sums to {exact!r}")
    return problems


def db_readings(db: Path, device: str) -> list[tuple]:
    """[(sensor, ts, value)] stored for a device, ordered."""
    return db_query(db, "SELECT sensor, ts, value FROM readings_view WHERE device = ? ORDER BY sensor, ts",
                    (device,))


def db_batches(db: Path, device: str) -> list[tuple]:
    """[(seq, readings)] stored for a device, ordered by seq."""
    return db_query(db, "SELECT b.seq, b.readings FROM batches b JOIN devices d ON d.id = b.device_id "
                        "WHERE d.name = ? ORDER BY b.seq", (device,))


# -- HTTP clients --------------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    version: str
    headers: dict = field(default_factory=dict)
    body: bytes = b""

    def json(self):
        return json.loads(self.body)


def curl(collector: Collector, path: str, *args: str, data: str | bytes | None = None, http2: bool = False,
         timeout: float = CALL_TIMEOUT) -> Response:
    """Runs curl against the collector (`data`: the request body, sent from a file with --data-binary); returns
    the final response's status, HTTP version, headers and body.

    Over h2c, a request the collector refuses before reading its whole body (at the request headers, or at a body
    over the limit) is answered early and then reset with RST_STREAM(NO_ERROR), as RFC 9113 section 8.1 allows;
    curl 7.88 then at times exits 92 ("Stream error in the HTTP/2 framing layer") although the response is
    complete, more often under load. Such requests are sent without a body (HEADERS with END_STREAM) or with
    `nghttp` (see `nghttp_request`)."""
    with tempfile.TemporaryDirectory() as tmp:
        head, body = Path(tmp) / "head", Path(tmp) / "body"
        cmd = ["curl", "-sS", "--noproxy", "*", "--max-time", str(timeout), "-H", "Expect:",
               "-D", str(head), "-o", str(body), "-w", "%{http_code} %{http_version}"]
        if http2:
            cmd.append("--http2-prior-knowledge")
        if data is not None:
            request = Path(tmp) / "request"
            request.write_bytes(data.encode() if isinstance(data, str) else data)
            cmd += ["--data-binary", f"@{request}"]
        cmd += [*args, collector.url + path]
        done = subprocess.run(cmd, capture_output=True, timeout=timeout + 5)
        assert done.returncode == 0, f"curl failed ({done.returncode}): {done.stderr.decode()} {cmd}"
        status, version = done.stdout.decode().split()
        headers = {}
        blocks = head.read_bytes().decode("latin-1").split("\r\n\r\n")
        final = [b for b in blocks if b.strip()][-1]
        for line in final.split("\r\n")[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        return Response(int(status), version, headers, body.read_bytes())


def http_request(collector: Collector, method: str, path: str, body=None, headers=None,
                 conn: http.client.HTTPConnection | None = None) -> Response:
    """One HTTP/1.1 request with Python's http.client (on `conn` when given, keeping it alive)."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=CALL_TIMEOUT)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, "1.1", {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        if own:
            conn.close()


def get_json(collector: Collector, path: str):
    r = http_request(collector, "GET", path)
    assert r.status == 200, (path, r.status, r.body)
    return r.json()


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.05, message: str = "condition"):
    """Polls `predicate` until it returns a truthy value; fails after `timeout` seconds with the last value."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    assert value, f"{message() if callable(message) else message} not reached within {timeout} s"
    return value


def grpc_frame(message: bytes, compressed: bool = False) -> bytes:
    """One gRPC length-prefixed message."""
    return bytes([1 if compressed else 0]) + len(message).to_bytes(4, "big") + message


def grpc_curl(collector: Collector, path: str, body: bytes, headers=(), timeout: float = CALL_TIMEOUT) -> Response:
    """A raw gRPC request over h2c with curl; `headers` of the Response hold the response headers and trailers."""
    with tempfile.TemporaryDirectory() as tmp:
        head, out, data = Path(tmp) / "head", Path(tmp) / "body", Path(tmp) / "data"
        data.write_bytes(body)
        cmd = ["curl", "-sS", "--noproxy", "*", "--max-time", str(timeout), "--http2-prior-knowledge",
               "-D", str(head), "-o", str(out), "-w", "%{http_code} %{http_version}",
               "-H", "content-type: application/grpc", "-H", "te: trailers", "--data-binary", f"@{data}"]
        for h in headers:
            cmd += ["-H", h]
        cmd.append(collector.url + path)
        done = subprocess.run(cmd, capture_output=True, timeout=timeout + 5)
        assert done.returncode == 0, f"curl failed ({done.returncode}): {done.stderr.decode()} {cmd}"
        status, version = done.stdout.decode().split()
        return Response(int(status), version, parse_header_lines(head.read_text("latin-1")), out.read_bytes())


def nghttp_request(collector: Collector, path: str, body: bytes, headers=(), timeout: float = CALL_TIMEOUT):
    """A POST over h2c with nghttp (nghttp2-client), which takes an early answer plus RST_STREAM(NO_ERROR) in its
    stride; returns (status, response body)."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.write_bytes(body)
        cmd = ["nghttp", "-v", "-t", f"{int(timeout)}s", "-d", str(data)]
        for h in headers:
            cmd += ["-H", h]
        done = subprocess.run(cmd + [collector.url + path], capture_output=True, timeout=timeout + 5)
    out = done.stdout.decode("utf-8", "replace")
    statuses = re.findall(r"recv \(stream_id=\d+\) :status: (\d+)", out)
    assert statuses, f"nghttp got no response ({done.returncode}):\n{out[-2000:]}\n{done.stderr.decode()}"
    # nghttp -v prints the response body among its frame log: lines starting "[  0.002] ..." (the body can run
    # into the start of one: it need not end with a newline) and their indented continuation lines.
    body = []
    for line in out.splitlines(keepends=True):
        stamp = re.search(r"\[\s*\d+\.\d+\] ", line)
        if stamp:
            body.append(line[:stamp.start()])
        elif not line.startswith((" ", "\t")):
            body.append(line)
    return int(statuses[0]), "".join(body).encode()


def parse_header_lines(text: str) -> dict:
    """Header and trailer lines (every block curl dumped) as {lower-case name: value}."""
    fields = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("HTTP/"):
            name, value = line.split(":", 1)
            fields[name.strip().lower()] = value.strip()
    return fields


# -- authentication ------------------------------------------------------------------------------------------


def secret_bytes(content: bytes) -> bytes:
    """The secret in a key or token file, by the collector's rule: the content exactly, except that printable
    ASCII followed by one trailing "\\n" (or "\\r\\n") loses that newline."""
    if not content.endswith(b"\n"):
        return content
    body = content[:-1]
    if body.endswith(b"\r"):
        body = body[:-1]
    return body if body and all(0x20 <= b < 0x7F for b in body) else content


@dataclass
class AuthFiles:
    """Where a collector with `--auth on` keeps its fleet key and admin token (it creates them when missing)."""

    directory: Path

    @property
    def fleet_key(self) -> Path:
        return self.directory / "fleet.key"

    @property
    def admin_token_file(self) -> Path:
        return self.directory / "admin.token"

    def args(self, *more: str) -> list[str]:
        return ["--auth", "on", "--fleet-key-file", str(self.fleet_key), "--admin-token-file",
                str(self.admin_token_file), *more]

    def token(self, device: str) -> str:
        """The device's token, computed independently with Python's hmac."""
        import hashlib
        import hmac

        key = secret_bytes(self.fleet_key.read_bytes())
        return hmac.new(key, device.encode(), hashlib.sha256).hexdigest()

    def admin(self) -> str:
        return secret_bytes(self.admin_token_file.read_bytes()).decode()

    def device_headers(self, device: str) -> dict:
        return {"Authorization": f"Bearer {self.token(device)}"}

    def admin_headers(self) -> dict:
        return {"Authorization": f"Bearer {self.admin()}"}
