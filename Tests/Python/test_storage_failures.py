"""Storage failures: a full disk, a file-size limit and a read-only database.

While the storage fails, ingest answers REST 503 with Retry-After and gRPC UNAVAILABLE, with a message naming the
problem; no refused batch is stored and every acknowledged one is; reads keep working; /readyz answers 503 with the
reason; the log says it once, not once per refused request. When the storage works again, ingest recovers by itself
(no restart): the refused batches, re-sent, are stored once, /readyz is 200 and the log says so once. The database
passes PRAGMA integrity_check afterwards.

- A file-size limit (prlimit --fsize on the running collector, no root needed): every write fails with EFBIG, which
  SQLite reports as a disk I/O error; the collector ignores SIGXFSZ, so the kernel does not kill it.
- A full disk (a 4 MiB tmpfs filled up; needs root, skipped otherwise): SQLITE_FULL, then space is freed.
- A read-only database at start (a read-only remount of a tmpfs, or file and directory permissions as a non-root
  user: `setpriv` to nobody when run as root): the collector starts and serves reads, every write is refused with
  "database is read-only", and it writes again once the file can be written (it tries again at most once a second,
  when a write arrives).
"""

from __future__ import annotations

import contextlib
import errno
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import grpc
import pytest

from fwtest import (CALL_TIMEOUT, CHANNEL_OPTIONS, Collector, db_batches, db_query, get_json, http_request,
                    simple_batch, wait_until)

T0 = 1_732_190_000_000
LOG_WAIT = 6.0  # seconds for a log line: the collector looks at the storage's health every 2 s
RECOVERY_WAIT = 10.0  # seconds for ingest to work again once the storage does


# -- helpers --------------------------------------------------------------------------------------------------


def _body(seq: int, readings: int = 3) -> dict:
    return {"seq": seq, "readings": [{"sensor": "t", "ts": T0 + seq * 100_000 + i, "value": seq + i / 100}
                                     for i in range(readings)]}


def _post(collector: Collector, device: str, seq: int, readings: int = 3):
    return http_request(collector, "POST", f"/v1/devices/{device}/readings", body=_body(seq, readings))


def _push(proto, channel, device: str, seq: int):
    """A gRPC Push; returns the Ack or the RpcError."""
    batch, _ = simple_batch(proto.pb, seq, start_ms=T0 + seq * 100_000)
    try:
        return proto.grpc.TelemetryStub(channel).Push(batch, metadata=[("device-id", device)], timeout=CALL_TIMEOUT)
    except grpc.RpcError as e:
        return e


def _assert_refused(collector: Collector, proto, channel, device: str, seq: int, problem: str) -> None:
    """A REST post and a gRPC Push of a new batch are refused as unavailable, naming `problem`."""
    r = _post(collector, device, seq)
    assert r.status == 503, (r.status, r.body)
    assert r.headers.get("retry-after", "").isdigit(), r.headers
    assert r.json()["error"] == "unavailable", r.body
    assert problem in r.json()["message"], r.body
    answer = _push(proto, channel, device + "-grpc", seq)
    assert isinstance(answer, grpc.RpcError), f"a Push was acknowledged while the storage failed: {answer}"
    assert answer.code() == grpc.StatusCode.UNAVAILABLE and problem in answer.details(), \
        (answer.code(), answer.details())


def _assert_not_ready(collector: Collector, problem: str) -> None:
    r = http_request(collector, "GET", "/readyz")
    assert r.status == 503 and problem in r.json()["message"], (r.status, r.body)
    metrics = http_request(collector, "GET", "/metrics").body.decode()
    assert "\nfleetwire_store_failing 1\n" in metrics, metrics


def _flood(collector: Collector, device: str, seqs, problem: str) -> None:
    """Many refused requests over more than one health look (2 s): the log must still say it once."""
    deadline = time.monotonic() + 2.5
    for seq in seqs:
        r = _post(collector, device, seq)
        assert r.status == 503 and problem in r.json()["message"], (r.status, r.body)
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)


def _until_accepted(collector: Collector, proto, channel, device: str, seq: int) -> None:
    """Re-sends batch `seq` (REST, and over gRPC for device-grpc) until it is acknowledged, as a client would."""
    def accepted():
        r = _post(collector, device, seq)
        if r.status == 200:
            return r
        assert r.status == 503, (r.status, r.body)
        time.sleep(0.2)
        return None

    ack = wait_until(accepted, timeout=RECOVERY_WAIT, interval=0, message=f"{device} seq {seq} accepted").json()
    assert ack["batches"] == 1 and ack["duplicate_batches"] == 0, ack
    answer = wait_until(lambda: None if isinstance(a := _push(proto, channel, device + "-grpc", seq),
                                                   grpc.RpcError) else a,
                        timeout=RECOVERY_WAIT, message=f"{device}-grpc seq {seq} accepted")
    assert answer.batches == 1


def _log_lines(collector: Collector, fragment: str) -> list[str]:
    return [line for line in collector.log().splitlines() if fragment in line]


def _assert_logged_once_and_recovered(collector: Collector, problem: str) -> None:
    failing = wait_until(lambda: _log_lines(collector, "ERROR storage failing"), timeout=LOG_WAIT,
                         message=lambda: f"an ERROR line about the storage in\n{collector.log()}")
    assert len(failing) == 1 and problem in failing[0], collector.log()
    wait_until(lambda: _log_lines(collector, "NOTICE storage recovered"), timeout=LOG_WAIT,
               message=lambda: f"a recovery line in\n{collector.log()}")
    wait_until(lambda: http_request(collector, "GET", "/readyz").status == 200, timeout=LOG_WAIT,
               message="/readyz 200 after recovery")
    assert "\nfleetwire_store_failing 0\n" in http_request(collector, "GET", "/metrics").body.decode()
    # Nothing more was said about it: one failure line, one recovery line, no per-request or per-flush warnings.
    assert len(_log_lines(collector, "storage failing")) == 1, collector.log()
    assert len(_log_lines(collector, "storage recovered")) == 1, collector.log()
    assert not _log_lines(collector, "bandwidth counters"), collector.log()


def _seqs(db: Path, device: str) -> list[int]:
    return [seq for seq, _ in db_batches(db, device)]


def _assert_intact(db: Path) -> None:
    assert db_query(db, "PRAGMA integrity_check") == [("ok",)]
    assert db_query(db, "PRAGMA foreign_key_check") == []


@contextlib.contextmanager
def _running(collector: Collector):
    """Starts the collector; at the end stops it gracefully (exit 0 asserted) when it still runs, or kills it."""
    collector.start()
    try:
        yield collector
        if collector.running:
            collector.stop()
    finally:
        collector.kill()


@contextlib.contextmanager
def _tmpfs(path: Path, size: str):
    """A tmpfs of `size` mounted at `path`; skips the test when mounting is not permitted."""
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {done.stderr.strip()}")
    try:
        yield path
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _ingest_before(collector: Collector, proto, channel, device: str, seqs) -> None:
    for seq in seqs:
        r = _post(collector, device, seq)
        assert r.status == 200, (r.status, r.body)
        assert not isinstance(_push(proto, channel, device + "-grpc", seq), grpc.RpcError)


def _reads_work(collector: Collector, device: str, seqs) -> None:
    page = get_json(collector, f"/v1/devices/{device}/readings?limit=1000")
    assert len(page["readings"]) == 3 * len(seqs), page
    assert get_json(collector, f"/v1/devices/{device}")["batches"] == len(seqs)


# -- a file-size limit ----------------------------------------------------------------------------------------


def test_file_size_limit_refuses_ingest_keeps_reads_and_recovers(proto, tmp_path):
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        pytest.skip("prlimit (util-linux) is not installed")
    collector = Collector(tmp_path / "telemetry.db", tmp_path / "collector.log", log_through_pipe=True)
    with _running(collector), grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS) as channel:
        _ingest_before(collector, proto, channel, "fsz", [1, 2, 3])
        # No file may grow past 1 byte from now on (soft limit only: a non-root user can raise it again).
        subprocess.run([prlimit, f"--pid={collector.proc.pid}", "--fsize=1:unlimited"], check=True)
        problem = "disk I/O error"
        _assert_refused(collector, proto, channel, "fsz", 4, problem)
        _assert_not_ready(collector, problem)
        _reads_work(collector, "fsz", [1, 2, 3])
        _flood(collector, "fsz", range(100, 400), problem)
        wait_until(lambda: _log_lines(collector, "ERROR storage failing"), timeout=LOG_WAIT,
                   message=lambda: f"an ERROR line about the storage in\n{collector.log()}")
        assert collector.running, "the collector died under the file-size limit (SIGXFSZ not ignored?)"

        subprocess.run([prlimit, f"--pid={collector.proc.pid}", "--fsize=unlimited:unlimited"], check=True)
        _until_accepted(collector, proto, channel, "fsz", 4)
        _assert_logged_once_and_recovered(collector, problem)
    assert _seqs(collector.db, "fsz") == [1, 2, 3, 4]  # the flood's batches were refused: none is stored
    assert _seqs(collector.db, "fsz-grpc") == [1, 2, 3, 4]
    _assert_intact(collector.db)


# -- a full disk ----------------------------------------------------------------------------------------------


def _fill(directory: Path) -> Path:
    """Writes a file in `directory` until the file system is full."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as f:
        try:
            for _ in range(10_000):
                f.write(chunk)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
        else:
            raise AssertionError("the file system never filled up")
    return filler


def test_full_disk_refuses_ingest_keeps_reads_and_recovers_when_space_returns(proto, tmp_path):
    with _tmpfs(tmp_path / "disk", "4m") as disk:
        collector = Collector(disk / "telemetry.db", tmp_path / "collector.log")
        with _running(collector), grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS) as channel:
            _ingest_before(collector, proto, channel, "full", [1, 2, 3])
            filler = _fill(disk)
            # Space the WAL already holds can still take a commit or two: send bigger batches until one is refused.
            problem = "database or disk is full"
            acked, refused = [], None
            for seq in range(4, 200):
                r = _post(collector, "full", seq, readings=2000)
                if r.status == 200:
                    acked.append(seq)
                    continue
                assert r.status == 503 and problem in r.json()["message"], (r.status, r.body)
                refused = seq
                break
            assert refused is not None, "the full disk never refused a batch"
            _assert_refused(collector, proto, channel, "full", refused + 1, problem)
            _assert_not_ready(collector, problem)
            page = get_json(collector, "/v1/devices/full/readings?limit=10000")
            assert len(page["readings"]) == 9 + 2000 * len(acked)
            _flood(collector, "full", range(1000, 1300), problem)

            filler.unlink()
            _until_accepted(collector, proto, channel, "full", refused)
            _assert_logged_once_and_recovered(collector, problem)
        # Every acknowledged batch is stored; the refused ones only once re-sent and acknowledged.
        assert _seqs(collector.db, "full") == [1, 2, 3, *acked, refused]
        assert _seqs(collector.db, "full-grpc") == [1, 2, 3, refused]
        _assert_intact(collector.db)


# -- a read-only database -------------------------------------------------------------------------------------


def _nobody():
    """(uid, gid) of `nobody`, to run the collector as a user whom file permissions apply to."""
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


@pytest.mark.parametrize("how", ["read-only-mount", "file-permissions"])
def test_read_only_database_starts_serves_reads_refuses_ingest_and_recovers(proto, tmp_path, how):
    with contextlib.ExitStack() as stack:
        if how == "read-only-mount":
            directory = stack.enter_context(_tmpfs(tmp_path / "disk", "16m"))
            prefix = []

            def make_read_only():
                subprocess.run(["mount", "-o", "remount,ro", str(directory)], check=True)

            def make_writable():
                subprocess.run(["mount", "-o", "remount,rw", str(directory)], check=True)
        else:
            # Permissions bind everyone but root: as root, run the collector as nobody in a directory of its own.
            prefix = []
            directory = Path(tempfile.mkdtemp(prefix="fw-readonly-"))
            stack.callback(shutil.rmtree, directory, ignore_errors=True)
            if os.geteuid() == 0:
                setpriv = shutil.which("setpriv")
                if setpriv is None:
                    pytest.skip("running as root without setpriv: file permissions cannot be tested")
                uid, gid = _nobody()
                os.chmod(directory, 0o755)
                os.chown(directory, uid, gid)
                prefix = [setpriv, f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]
            db = directory / "telemetry.db"

            def make_read_only():
                os.chmod(db, 0o444)
                os.chmod(directory, 0o555)

            def make_writable():
                os.chmod(directory, 0o755)
                os.chmod(db, 0o644)

        db = directory / "telemetry.db"
        writer = Collector(db, tmp_path / "first.log")
        writer.args = prefix + writer.args
        with _running(writer), grpc.insecure_channel(writer.address, options=CHANNEL_OPTIONS) as channel:
            _ingest_before(writer, proto, channel, "ro", [1, 2])
        make_read_only()
        stack.callback(make_writable)  # lets the temporary directory be removed if the test fails

        collector = Collector(db, tmp_path / "collector.log")
        collector.args = prefix + collector.args
        with _running(collector), grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS) as channel:
            problem = "database is read-only"
            _reads_work(collector, "ro", [1, 2])
            _assert_refused(collector, proto, channel, "ro", 3, problem)
            _assert_not_ready(collector, problem)
            _flood(collector, "ro", range(100, 400), problem)
            wait_until(lambda: _log_lines(collector, "ERROR storage failing"), timeout=LOG_WAIT,
                       message=lambda: f"an ERROR line about the storage in\n{collector.log()}")

            make_writable()
            _until_accepted(collector, proto, channel, "ro", 3)
            _assert_logged_once_and_recovered(collector, problem)
        assert _seqs(db, "ro") == [1, 2, 3]
        assert _seqs(db, "ro-grpc") == [1, 2, 3]
        _assert_intact(db)
