"""Helpers for the PostgreSQL scale-out tests: a throwaway PostgreSQL server, psql as the independent reader, a copy
of a database's tables into SQLite (so the SQLite suite's checks run unchanged on what PostgreSQL stored) and a
round-robin TCP proxy standing in for an L4 load balancer in front of several collectors.

The server is started as Tests/PostgresTestSupport/TestPostgresServer.swift starts it: initdb into a fresh temporary
directory (chowned to `postgres` and run through `runuser -u postgres` when we are root: PostgreSQL refuses to run
as root), `trust` authentication for the superuser `fleetwire` (any password is accepted), pg_ctl on a free port
with TCP on 127.0.0.1 and the Unix socket in the same directory. Unlike the Swift suite's server, fsync stays on
unless asked otherwise: the kill-storm and stop/start tests rely on acknowledged commits being durable. The server
is stopped and its directory removed at the end, also when the test fails.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import socket
import sqlite3
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

PG_USER = "fleetwire"
PSQL_TIMEOUT = 60.0  # seconds for one psql call (reading every chunk of a database included)
CTL_TIMEOUT = 60  # seconds pg_ctl waits for the server to start or stop


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bin_directory() -> str | None:
    """The server binaries' directory (`pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin), or None."""
    candidates = []
    try:
        done = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10)
        if done.returncode == 0:
            candidates.append(done.stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        pass

    def version(path: str) -> int:
        name = Path(path).parent.name
        return int(name) if name.isdigit() else 0

    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    for directory in candidates:
        if all(os.access(os.path.join(directory, tool), os.X_OK) for tool in ("initdb", "pg_ctl", "createdb")):
            return directory
    return None


def _runuser() -> str | None:
    return next((p for p in ("/usr/sbin/runuser", "/sbin/runuser") if os.access(p, os.X_OK)), None)


def require_server_binaries() -> str:
    """The binaries' directory; skips the test (saying why) when a server cannot be run here."""
    directory = _bin_directory()
    if directory is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql to run these tests")
    if shutil.which("psql") is None:
        pytest.skip("psql (postgresql-client) not found")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run the server as")
        if _runuser() is None:
            pytest.skip("running as root and runuser is missing")
    return directory


class PostgresServer:
    """A throwaway PostgreSQL server: `with PostgresServer() as pg:` starts it, leaving stops it and removes it.

    `pause()` stops it (fast shutdown: sessions are ended, the data stays), `resume()` starts it again on the same
    directory and port."""

    def __init__(self, fsync: bool = True):
        self.bin = require_server_binaries()
        self.fsync = fsync
        self.directory: Path | None = None
        self.port: int | None = None
        self._run_as: list[str] = []
        self._databases = 0

    # -- lifecycle -----------------------------------------------------------------------------------------

    def __enter__(self) -> "PostgresServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> "PostgresServer":
        self.directory = Path(tempfile.mkdtemp(prefix="fleetwire-pgpy-"))
        try:
            if os.geteuid() == 0:
                account = pwd.getpwnam("postgres")
                os.chown(self.directory, account.pw_uid, account.pw_gid)
                self._run_as = [_runuser(), "-u", "postgres", "--"]
            done = self._tool("initdb", "-D", str(self.data), "-A", "trust", "-U", PG_USER, "--no-sync",
                              "-E", "UTF8", "--locale=C")
            if done.returncode != 0:
                raise RuntimeError(f"initdb failed:\n{done.stdout}")
            # Another process may take the port between the probe and pg_ctl: try a few.
            failure = None
            for _ in range(3):
                self.port = free_port()
                try:
                    self._start_server()
                    return self
                except RuntimeError as error:
                    failure = error
            raise failure
        except BaseException:
            self.close()
            raise

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log_path(self) -> Path:
        return self.directory / "server.log"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"

    def _tool(self, name: str, *args: str, timeout: float = CTL_TIMEOUT + 30) -> subprocess.CompletedProcess:
        """Runs one of the server's programs (as `postgres` when we are root), stdout and stderr together."""
        return subprocess.run([*self._run_as, os.path.join(self.bin, name), *args], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)

    def _start_server(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        if not self.fsync:
            options += " -c fsync=off"
        # pg_ctl's server inherits stdout/stderr: they go to its -l log, not to our pipe (else run() would wait
        # for the server to exit).
        done = self._tool("pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-o", options, "-w",
                          "-t", str(CTL_TIMEOUT), "start")
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed:\n{done.stdout}\nserver log:\n{self.log()}")

    def pause(self) -> None:
        """Stops the server (fast shutdown), keeping the data and the port for `resume()`."""
        done = self._tool("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", str(CTL_TIMEOUT), "stop")
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed:\n{done.stdout}\nserver log:\n{self.log()}")

    def resume(self) -> None:
        """Starts the server again on the same directory and port after `pause()`."""
        self._start_server()

    @property
    def running(self) -> bool:
        if self.directory is None:
            return False
        return self._tool("pg_ctl", "-D", str(self.data), "status", timeout=30).returncode == 0

    def close(self) -> None:
        """Stops the server at once (nothing here needs a clean shutdown) and removes its directory."""
        if self.directory is None:
            return
        if (self.data / "postmaster.pid").exists():
            try:
                self._tool("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop", timeout=60)
            except subprocess.TimeoutExpired:
                pass
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory = None

    # -- databases -----------------------------------------------------------------------------------------

    def url(self, db: str, password: str | None = None) -> str:
        auth = PG_USER if password is None else f"{PG_USER}:{password}"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{db}"

    def create_database(self, name: str | None = None) -> str:
        """Creates an empty database; returns its name."""
        if name is None:
            self._databases += 1
            name = f"fw_py_{os.getpid()}_{self._databases}"
        done = self._tool("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", PG_USER, name, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"createdb failed:\n{done.stdout}")
        return name

    def psql(self, db: str, sql: str) -> list[list[str | None]]:
        """Runs `sql` with psql over TCP; returns the rows, fields as text (None for NULL). Fails on any error."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PGCONNECT_TIMEOUT"] = "10"
        null = "\x01NULL\x01"
        done = subprocess.run(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-F", "\x1f", "-P", f"null={null}",
             "-h", "127.0.0.1", "-p", str(self.port), "-U", PG_USER, "-d", db, "-c", sql],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=PSQL_TIMEOUT)
        assert done.returncode == 0, f"psql failed ({done.returncode}) on {sql!r}:\n{done.stderr}"
        return [[None if f == null else f for f in line.split("\x1f")]
                for line in done.stdout.split("\n") if line != ""]

    def scalar(self, db: str, sql: str):
        rows = self.psql(db, sql)
        assert len(rows) == 1 and len(rows[0]) == 1, (sql, rows)
        return rows[0][0]


# -- PostgreSQL's tables as a SQLite database ------------------------------------------------------------------


def _float(text: str | None) -> float | None:
    # psql prints doubles with the shortest text that reads back to the same bits (extra_float_digits = 1, the
    # default since PostgreSQL 12), "Infinity", "-Infinity", "NaN" and "-0": Python's float() reads them all.
    return None if text is None else float(text)


def mirror_to_sqlite(pg: PostgresServer, db: str, path: Path) -> Path:
    """Copies devices, series, chunks and batches of PostgreSQL database `db` into a new SQLite file at `path`,
    shaped as schema/sqlite.sql shapes them (devices and series with integer ids, chunks' blobs as BLOBs, batches
    keyed by device_id, bandwidth's count columns), so fwtest's chunk decoding and test_crash's checks read it
    unchanged. Each table is read by its own psql call: copy once the writers are done."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript("""
            CREATE TABLE devices (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, first_seen_ms INTEGER,
                                  last_seen_ms INTEGER, readings INTEGER, batches INTEGER, last_seq INTEGER);
            CREATE TABLE series (id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL REFERENCES devices(id),
                                 sensor TEXT NOT NULL, exponent INTEGER, readings INTEGER, last_ts INTEGER,
                                 UNIQUE (device_id, sensor));
            CREATE TABLE chunks (series_id INTEGER NOT NULL REFERENCES series(id), start_ts INTEGER NOT NULL,
                                 end_ts INTEGER NOT NULL, count INTEGER NOT NULL, value_min REAL, value_max REAL,
                                 value_sum REAL, value_first REAL, value_last REAL, data BLOB NOT NULL,
                                 PRIMARY KEY (series_id, start_ts));
            CREATE TABLE batches (device_id INTEGER NOT NULL REFERENCES devices(id), seq INTEGER NOT NULL,
                                  committed_ms INTEGER NOT NULL, readings INTEGER NOT NULL, collector TEXT NOT NULL,
                                  PRIMARY KEY (device_id, seq));
            CREATE TABLE bandwidth (collector TEXT, protocol TEXT, device TEXT, readings INTEGER, batches INTEGER,
                                    duplicate_batches INTEGER);
            """)
        # Devices get their ids here; a batch or series row naming a device without a devices row is a problem of
        # its own (reported by the caller through missing_device_rows), and gets a devices row with NULL counters
        # here so the rows are not lost.
        names = [r[0] for r in pg.psql(db, "SELECT name FROM devices ORDER BY name")]
        device_rows = pg.psql(db, "SELECT name, first_seen_ms, last_seen_ms, readings, batches, last_seq "
                                  "FROM devices ORDER BY name")
        ids = {}
        for i, (name, first, last, readings, batches, last_seq) in enumerate(device_rows, start=1):
            ids[name] = i
            conn.execute("INSERT INTO devices VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (i, name, int(first), int(last), int(readings), int(batches), int(last_seq)))
        assert len(names) == len(ids)

        def device_id(name: str) -> int:
            if name not in ids:
                ids[name] = len(ids) + 1
                conn.execute("INSERT INTO devices (id, name) VALUES (?, ?)", (ids[name], name))
            return ids[name]

        for sid, device, sensor, exponent, readings, last_ts in pg.psql(
                db, "SELECT id, device, sensor, exponent, readings, last_ts FROM series ORDER BY id"):
            conn.execute("INSERT INTO series VALUES (?, ?, ?, ?, ?, ?)",
                         (int(sid), device_id(device), sensor, None if exponent is None else int(exponent),
                          int(readings), None if last_ts is None else int(last_ts)))
        for row in pg.psql(db, "SELECT series_id, start_ts, end_ts, count, value_min, value_max, value_sum, "
                               "value_first, value_last, encode(data, 'hex') FROM chunks ORDER BY series_id, start_ts"):
            sid, start, end, count, vmin, vmax, vsum, first, last, data = row
            conn.execute("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (int(sid), int(start), int(end), int(count), _float(vmin), _float(vmax), _float(vsum),
                          _float(first), _float(last), bytes.fromhex(data)))
        for device, seq, committed, readings, collector in pg.psql(
                db, "SELECT device, seq, committed_ms, readings, collector FROM batches"):
            conn.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?)",
                         (device_id(device), int(seq), int(committed), int(readings), collector))
        for row in pg.psql(db, "SELECT collector, protocol, device, readings, batches, duplicate_batches "
                               "FROM bandwidth"):
            conn.execute("INSERT INTO bandwidth VALUES (?, ?, ?, ?, ?, ?)",
                         (row[0], row[1], row[2], int(row[3]), int(row[4]), int(row[5])))
        conn.commit()
    finally:
        conn.close()
    return path


def missing_device_rows(pg: PostgresServer, db: str) -> list:
    """Devices named by a series or batches row but without a devices row (there should be none)."""
    return pg.psql(db, "SELECT DISTINCT x.device FROM (SELECT device FROM series UNION SELECT device FROM batches) x "
                       "LEFT JOIN devices d ON d.name = x.device WHERE d.name IS NULL ORDER BY 1 LIMIT 20")


# -- a round-robin TCP proxy ------------------------------------------------------------------------------------


class RoundRobinProxy:
    """An L4 load balancer in Python: listens on 127.0.0.1 (port 0 unless given) and forwards each accepted
    connection to the next backend in turn, copying bytes both ways (half-closes passed on) until both sides are
    done. A backend that refuses the connection (a killed replica) is skipped for the next one, as a balancer with
    passive health checks does; when every backend refuses, the client's connection is closed.

    `backends` is a list of (host, port) read at each connection, so it may be changed while running.
    `per_backend[i]` counts the connections forwarded to backend i."""

    def __init__(self, backends: list[tuple[str, int]], port: int = 0):
        self.backends = list(backends)
        self.per_backend = [0] * len(self.backends)
        self.refused = 0
        self._next = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._server = None
        self._tasks: set[asyncio.Task] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(port,), daemon=True, name="rr-proxy")
        self.port: int | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> "RoundRobinProxy":
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self, port: int) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", port, backlog=1024, reuse_address=True))
            self.port = self._server.sockets[0].getsockname()[1]
        except BaseException as error:  # noqa: BLE001 - handed to the starting thread
            self._error = error
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        # Closing: end every connection still open, then the loop.
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            self._loop.run_until_complete(asyncio.gather(*self._tasks, return_exceptions=True))
        self._loop.close()

    def _pick(self) -> list[int]:
        """The backends' indices in the order to try them for the next connection."""
        with self._lock:
            n = len(self.backends)
            first = self._next % n
            self._next += 1
        return [(first + k) % n for k in range(n)]

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            upstream = None
            for index in self._pick():
                host, port = self.backends[index]
                try:
                    upstream = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=5)
                except (OSError, asyncio.TimeoutError):
                    continue
                with self._lock:
                    self.per_backend[index] += 1
                break
            if upstream is None:
                with self._lock:
                    self.refused += 1
                return
            up_reader, up_writer = upstream
            try:
                await asyncio.gather(self._pump(client_reader, up_writer), self._pump(up_reader, client_writer))
            finally:
                up_writer.close()
        except asyncio.CancelledError:
            pass
        finally:
            client_writer.close()
            self._tasks.discard(task)

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copies until EOF (then half-closes the other side) or an error (then closes it)."""
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            # A reset on one side: reset the other (SO_LINGER 0) so its peer sees the failure, not a clean end.
            sock = writer.get_extra_info("socket")
            if sock is not None:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
            writer.close()

    def close(self) -> None:
        if not self._thread.is_alive():
            return

        def stop():
            if self._server is not None:
                self._server.close()
            self._loop.stop()

        self._loop.call_soon_threadsafe(stop)
        self._thread.join(timeout=10)


def wait_for(predicate, timeout: float, interval: float = 0.1, message="condition"):
    """Polls `predicate` until it returns a truthy value; returns it, or fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message() if callable(message) else message} not reached within {timeout} s")
        time.sleep(interval)
