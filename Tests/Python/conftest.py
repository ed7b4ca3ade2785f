"""End-to-end tests of the collector with independent clients.

The collector under test is the real binary (`.build/debug/collector`; run `swift build` first), started on port 0
with a fresh temporary database per test and stopped with SIGTERM (exit code 0 and its stopping/stopped log lines
are asserted). The clients are not ours: the stock grpcio client with stubs generated at session start from
`schema/telemetry/v1/telemetry.proto` by `python3 -m grpc_tools.protoc` into a temporary directory (nothing
generated lands in the repository), curl over HTTP/1.1 and h2c, Python's http.client, and Python's own `sqlite3`
module reading the database file, with chunks.py decoding the compressed readings (checked against the golden
vectors in Tests/Fixtures/chunk-vectors.json by test_chunk_codec.py, which needs no build).

Run from the repository root:  python3 -m pytest -q Tests/Python    (about 30 s on 2 cores)

Every call has a timeout, every process wait is bounded, collectors still running at the end of a test are
stopped (or killed), and a session watchdog kills everything if the whole run hangs.
"""

from __future__ import annotations

import faulthandler
import importlib
import os
import subprocess
import sys
import threading
from types import SimpleNamespace

import pytest

import fwtest
from fwtest import COLLECTOR_BIN, PROTO_FILE, PROTO_ROOT, REPO_ROOT, Collector

SESSION_WATCHDOG_SECONDS = 900  # a hang detector: the whole suite takes about 3 minutes on 2 cores

_all_collectors: list[Collector] = []


def _kill_everything() -> None:
    for c in _all_collectors:
        c.kill()


# Test modules that read files only and never start a collector: they run without a build.
COLLECTOR_FREE_MODULES = {"test_chunk_codec.py"}


def pytest_collection_finish(session):
    if COLLECTOR_BIN.exists():
        return
    if any(item.path.name not in COLLECTOR_FREE_MODULES for item in session.items):
        pytest.exit(f"{COLLECTOR_BIN} is missing: run `swift build` in {REPO_ROOT} first", returncode=2)


def pytest_sessionstart(session):
    def watchdog():
        sys.stderr.write(f"\nsession watchdog: the test run exceeded {SESSION_WATCHDOG_SECONDS} s; "
                         "dumping threads and killing collectors\n")
        faulthandler.dump_traceback(all_threads=True)
        _kill_everything()
        os._exit(3)

    timer = threading.Timer(SESSION_WATCHDOG_SECONDS, watchdog)
    timer.daemon = True
    timer.start()
    session.config._fw_watchdog = timer


def pytest_sessionfinish(session, exitstatus):
    _kill_everything()
    timer = getattr(session.config, "_fw_watchdog", None)
    if timer is not None:
        timer.cancel()


@pytest.fixture(scope="session")
def proto(tmp_path_factory):
    """Python stubs generated from the wire contract: `proto.pb` (messages) and `proto.grpc` (TelemetryStub)."""
    out = tmp_path_factory.mktemp("stubs")
    done = subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_ROOT}", f"--python_out={out}",
         f"--grpc_python_out={out}", str(PROTO_FILE)],
        cwd=PROTO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"protoc failed:\n{done.stdout}\n{done.stderr}"
    sys.path.insert(0, str(out))
    try:
        pb = importlib.import_module("telemetry.v1.telemetry_pb2")
        pb_grpc = importlib.import_module("telemetry.v1.telemetry_pb2_grpc")
    finally:
        sys.path.remove(str(out))
    assert pb.__file__.startswith(str(out)), f"imported stubs from {pb.__file__}, not the generated ones"
    return SimpleNamespace(pb=pb, grpc=pb_grpc)


@pytest.fixture
def start_collector(tmp_path):
    """start_collector(*extra_flags, db=None) starts a collector (fresh database unless `db` is given) and returns
    it once it listens and catches SIGTERM.

    At the end of the test every collector it started and that is still running is stopped with SIGTERM, and exit
    code 0 plus the stopping/stopped log lines are asserted; anything left is killed."""
    started: list[Collector] = []

    def start(*extra_args, db=None) -> Collector:
        n = len(started)
        collector = Collector(db or tmp_path / "telemetry.db", tmp_path / f"collector-{n}.log", extra_args)
        started.append(collector)
        _all_collectors.append(collector)
        return collector.start()

    yield start
    try:
        for collector in started:
            if collector.running:
                collector.stop()
    finally:
        for collector in started:
            collector.kill()
            _all_collectors.remove(collector)


@pytest.fixture
def collector(start_collector) -> Collector:
    """A collector with default flags and a fresh database."""
    return start_collector()


@pytest.fixture
def channel(collector):
    import grpc

    ch = grpc.insecure_channel(collector.address, options=fwtest.CHANNEL_OPTIONS)
    yield ch
    ch.close()


@pytest.fixture
def stub(proto, channel):
    return proto.grpc.TelemetryStub(channel)
