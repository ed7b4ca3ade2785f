#!/usr/bin/env python3
"""Fleetwire benchmark suite (issue #6): `make bench` runs this after a release build.

Writes bench/results/<date>-<host>.json and .md and prints the markdown table. Standard library only.
Every process it starts is stopped and every temporary file removed on exit (normal, error or signal).

  python3 bench/run.py [--bin .build/release] [--out bench/results] [--quick]
  python3 bench/run.py --wire-only --batch 10s --sensors a,b,c --devices N      (bench/compare.sh)
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTOCOLS = ["grpc-stream", "grpc-unary", "rest"]
COLLECTOR_NAME = {"grpc-stream": "grpc-stream", "grpc-unary": "grpc-unary", "rest": "rest-json", "grpc-sync": "grpc-sync",
                  "grpc-web": "grpc-web", "grpc-web-text": "grpc-web-text", "connect": "connect"}
# Rows 2-4 keep the batch encoding they were defined with (issue #6): every batch in full, varint deltas. Row 10
# (bench/streams.py) measures stream context and packed deltas, the simulator's defaults since issue #14.
FULL_BATCHES = ["--stream-context", "off", "--packing", "off"]
REF_SENSORS = "temperature,humidity,pressure,battery"
# Wire rows run paced, not at --max-rate: bytes per reading do not depend on speed, but a fleet sending as fast as
# it can with long Uploads (600 one-second batches, acknowledged only at the stream's end) overruns the store
# queue and measures retransmissions instead. 200× is 80,000 readings/s for 100 devices × 4 sensors.
WIRE_SPEEDUP = 200
CLK_TCK = os.sysconf("SC_CLK_TCK")

TARGETS = {
    "ingest_grpc_stream_pct": 80.0,  # >= 80 % of the store limit
    "ingest_grpc_unary_pct_of_stream": 90.0,  # within 10 % of grpc-stream's rate
    "ingest_rest_pct": 60.0,  # >= 60 %
    "wire_grpc_stream_10s": 4.35,
    "wire_grpc_stream_60s": 1.70,
    "wire_grpc_unary": 6.3,
    "ack_p99_ms_at_80pct": 25.0,  # the collector's group-commit window (--commit-window, default 20 ms) + 5 ms
    "idle_rss_mib_10k": 64.0,
}

_children = []
_tmpdir = tempfile.mkdtemp(prefix="fleetwire-bench-")


def log(message):
    print(message, file=sys.stderr, flush=True)


def cleanup():
    for proc in list(_children):
        if proc.poll() is None:
            try:
                proc.terminate()
                proc.wait(timeout=10)
            except Exception:
                proc.kill()
                proc.wait()
    _children.clear()
    shutil.rmtree(_tmpdir, ignore_errors=True)


def _on_signal(signum, _frame):
    cleanup()
    sys.exit(128 + signum)


# --------------------------------------------------------------------------------------------- processes


def proc_stat(pid):
    """(utime+stime seconds) of a live process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_mem(pid):
    """(VmRSS, VmHWM) in bytes."""
    rss = hwm = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) * 1024
    return rss, hwm


class Collector:
    def __init__(self, binary, auth=False, extra_args=(), db=None):
        """`db`: a PostgreSQL URL (row 12); by default a fresh SQLite file in the run's temporary directory, whose
        name also places the key, token and log files."""
        self.db = tempfile.mktemp(prefix="db-", suffix=".sqlite", dir=_tmpdir)
        self.db_arg = db or self.db
        self.errpath = self.db + ".log"
        self.err = open(self.errpath, "w+")
        # Authentication off by default: the targets are the protocols' own costs; the auth rows of table 3 measure
        # what a token adds (the collector creates the key and the admin token beside the database).
        self.key_file, self.admin_file = self.db + ".fleet.key", self.db + ".admin.token"
        self.sim_auth = ["--fleet-key-file", self.key_file, "--admin-token-file", self.admin_file] if auth else []
        # The key file's folder (the run's temporary directory) also holds the self-signed TLS certificate and
        # the session-ticket key, with authentication off too.
        auth_args = (["--fleet-key-file", self.key_file, "--admin-token-file", self.admin_file] if auth
                     else ["--auth", "off", "--fleet-key-file", self.key_file])
        self.proc = subprocess.Popen(
            # Every benchmark client (up to 10,000 idle connections) comes from 127.0.0.1: lift the per-address
            # connection limit (default 1,024) to the total.
            [binary, "serve", "--listen", "127.0.0.1:0", "--db", self.db_arg, *auth_args,
             "--max-connections-per-address", "16384", *extra_args],
            stdout=subprocess.DEVNULL, stderr=self.err)
        _children.append(self.proc)
        self.port = None
        deadline = time.time() + 20
        while time.time() < deadline:
            with open(self.errpath) as f:
                m = re.search(r"collector listening on [^\s]*:(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                raise RuntimeError("collector exited: " + open(self.errpath).read())
            time.sleep(0.02)
        if self.port is None:
            raise RuntimeError("collector did not report its port")
        self.url = f"http://127.0.0.1:{self.port}"
        self.cert_file = os.path.join(os.path.dirname(self.key_file), "tls-cert.pem")

    def get(self, path):
        return json.loads(self.text(path))

    def text(self, path):
        request = urllib.request.Request(self.url + path)
        if self.sim_auth:
            with open(self.admin_file) as f:
                request.add_header("Authorization", "Bearer " + f.read().strip())
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.read().decode()

    def cpu(self):
        return proc_stat(self.proc.pid)

    def mem(self):
        return proc_mem(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc in _children:
            _children.remove(self.proc)
        self.err.close()
        for suffix in ["", "-wal", "-shm", ".log", ".fleet.key", ".admin.token"]:
            try:
                os.remove(self.db + suffix)
            except FileNotFoundError:
                pass


class RSSSampler:
    """Samples a pid's VmRSS while waiting for another process."""

    def __init__(self, pid):
        self.pid, self.peak = pid, 0

    def sample(self):
        try:
            rss, _ = proc_mem(self.pid)
            self.peak = max(self.peak, rss)
        except FileNotFoundError:
            pass


def run_sim(args, sim_args, sampler=None):
    """Runs device-sim, returns (report dict, sim max RSS bytes, wall seconds)."""
    report_path = tempfile.mktemp(prefix="sim-", suffix=".json", dir=_tmpdir)
    cmd = [args.sim, "run", *sim_args, "--json", report_path, "--quiet"]
    start = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _children.append(proc)
    rusage = None
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            break
        if sampler:
            sampler.sample()
        time.sleep(0.1)
    _children.remove(proc)
    wall = time.time() - start
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if not os.path.exists(report_path):
        raise RuntimeError(f"device-sim failed ({proc.returncode}): {' '.join(cmd)}\n{stderr[-2000:]}")
    with open(report_path) as f:
        report = json.load(f)
    os.remove(report_path)
    if proc.returncode != 0:
        log(f"  note: device-sim exited {proc.returncode}: {stderr.strip()[-300:]}")
    return report, rusage.ru_maxrss * 1024, wall


def proto_row(report, protocol):
    for row in report["protocols"]:
        if row["protocol"] == protocol:
            return row
    return report["total"]


def bandwidth_row(bandwidth, name):
    rows = bandwidth.get("protocols", bandwidth)
    if isinstance(rows, dict):
        rows = [dict(v, protocol=k) for k, v in rows.items()]
    for row in rows:
        if isinstance(row, dict) and row.get("protocol") == name:
            return row
    return None


# --------------------------------------------------------------------------------------------- the rows


def store_limit(args):
    """Row 1 in two arrival orders: round-robin (devices in id order, the ceiling the targets use) and shuffled
    (a new permutation every round, as a fleet's batches arrive; neighbours in a transaction share fewer pages)."""
    out = []
    for order in ("round-robin", "shuffled"):
        for devices in args.store_devices:
            proc = subprocess.run(
                [args.store_bench, "--devices", str(devices), "--readings", str(args.store_readings),
                 "--sensors", "4", "--per-series", "10", "--order", order, "--dir", _tmpdir],
                capture_output=True, text=True, timeout=300)
            if proc.returncode != 0:
                raise RuntimeError("store-bench failed: " + proc.stdout + proc.stderr)
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            log(f"  store limit, {devices} devices, {order}: {row['readings_per_s']:,} readings/s ({row['seconds']} s)")
            out.append(row)
    return out


def ingest(args, protocol, devices, peak, encoding=FULL_BATCHES):
    collector = Collector(args.collector)
    try:
        cpu0 = collector.cpu()
        sampler = RSSSampler(collector.proc.pid)
        report, sim_rss, wall = run_sim(args, [
            "--target", collector.url, "--devices", str(devices), "--protocol", protocol,
            "--sensors", REF_SENSORS, "--interval", "1s", "--batch", "10s", "--duration", "3650d",
            "--max-rate", "--time-limit", args.ingest_time, *encoding], sampler)
        cpu = collector.cpu() - cpu0
        sampler.sample()
        _, hwm = collector.mem()
        peak["rss"] = max(peak["rss"], sampler.peak)
        peak["hwm"] = max(peak["hwm"], hwm)
    finally:
        collector.stop()
    row = proto_row(report, protocol)
    elapsed = report["run"]["elapsed_ms"] / 1000
    acked = row["readings_acked"]
    result = {
        "protocol": protocol, "devices": devices, "readings_acked": acked, "elapsed_s": round(elapsed, 2),
        "readings_per_s": round(acked / elapsed), "errors": row["errors"], "batches_retried": row["batches_retried"],
        "latency_p50_ms": row.get("latency_p50_ms"), "latency_p99_ms": row.get("latency_p99_ms"),
        "collector_cpu_s": round(cpu, 2),
        "collector_cpu_s_per_m_readings": round(cpu / (acked / 1e6), 3) if acked else None,
        "collector_peak_rss_mib": round(sampler.peak / 2**20, 1), "collector_vmhwm_mib": round(hwm / 2**20, 1),
        "sim_max_rss_mib": round(sim_rss / 2**20, 1), "sim_rss_kib_per_device": round(sim_rss / 1024 / devices, 1),
    }
    log(f"  ingest {protocol:11} {devices:5} devices: {result['readings_per_s']:,} readings/s, "
        f"CPU {result['collector_cpu_s_per_m_readings']} s/M, collector peak RSS {result['collector_peak_rss_mib']} MiB")
    return result


def wire(args, protocol, batch, sensors, devices, stream_batches=None, sim_minutes=10, auth=False,
         encoding=FULL_BATCHES):
    collector = Collector(args.collector, auth=auth)
    try:
        extra = (["--stream-batches", str(stream_batches)] if stream_batches else []) + list(encoding)
        report, _, _ = run_sim(args, [
            "--target", collector.url, "--devices", str(devices), "--protocol", protocol, "--sensors", sensors,
            "--interval", "1s", "--batch", batch, "--duration", f"{sim_minutes}m", "--speedup", str(WIRE_SPEEDUP), *extra,
            *collector.sim_auth])
        bandwidth = collector.get("/v1/bandwidth")
    finally:
        collector.stop()
    row = proto_row(report, protocol)
    sim_bytes = row["bytes_sent"] + row["bytes_received"]
    sim_bpr = sim_bytes / row["readings_acked"] if row["readings_acked"] else None
    crow = bandwidth_row(bandwidth, COLLECTOR_NAME[protocol]) or {}
    c_bytes = (crow.get("bytes_in") or 0) + (crow.get("bytes_out") or 0)
    c_readings = crow.get("readings") or 0
    c_bpr = crow.get("bytes_per_reading")
    if c_bpr is None and c_readings:
        c_bpr = c_bytes / c_readings
    cross = report.get("cross_check") or {}
    result = {
        "protocol": protocol, "batch": batch, "stream_batches": stream_batches, "devices": devices, "auth": auth,
        "encoding": " ".join(encoding),
        "sensors": sensors, "readings": row["readings_acked"],
        "sim_bytes_sent": row["bytes_sent"], "sim_bytes_received": row["bytes_received"],
        "sim_bytes_per_reading": round(sim_bpr, 3) if sim_bpr else None,
        "collector_bytes_in": crow.get("bytes_in"), "collector_bytes_out": crow.get("bytes_out"),
        "collector_readings": c_readings, "collector_bytes_per_reading": round(c_bpr, 3) if c_bpr else None,
        "agree": (sim_bytes == c_bytes and row["readings_acked"] == c_readings),
        "sim_cross_check_consistent": cross.get("consistent"),
        "batches_retried": row["batches_retried"], "errors": row["errors"], "errors_by_kind": row.get("errors_by_kind"),
    }
    sb = f" stream-batches {stream_batches}" if stream_batches else ""
    log(f"  wire {protocol:11} batch {batch:>4}{sb}: sim {result['sim_bytes_per_reading']} B/reading, "
        f"collector {result['collector_bytes_per_reading']}, agree={result['agree']}, "
        f"retried {result['batches_retried']}, errors {result['errors']}")
    return result


def histogram_from_metrics(text, name):
    """[(upper bound ms, cumulative count)] of a Prometheus histogram in /metrics text."""
    out = []
    for m in re.finditer(r'^%s_bucket\{le="([^"]+)"\} (\d+)$' % re.escape(name), text, re.M):
        bound = float("inf") if m.group(1) == "+Inf" else float(m.group(1)) * 1000
        out.append((bound, int(m.group(2))))
    return out


def histogram_percentile(before, after, q):
    """Upper bound (ms) of the bucket holding quantile q of the observations between two snapshots."""
    counts = [(bound, a - b) for (bound, a), (_, b) in zip(after, before)]
    total = counts[-1][1] if counts else 0
    if total == 0:
        return None
    for bound, cumulative in counts:
        if cumulative >= q * total:
            return bound
    return None


class Timeline:
    """VmRSS of a pid, sampled at most every `every` seconds while `run_sim` waits."""

    def __init__(self, pid, every=1.0):
        self.pid, self.every, self.samples, self.last, self.peak = pid, every, [], 0.0, 0

    def sample(self):
        now = time.time()
        if now - self.last < self.every:
            return
        self.last = now
        try:
            rss, _ = proc_mem(self.pid)
        except FileNotFoundError:
            return
        self.peak = max(self.peak, rss)
        self.samples.append((now, rss))


def steady_run(args, rates):
    """Rows 4 and 5's steady run: one collector, six paced segments back to back (each protocol at 50 % and then
    80 % of its 100-device max rate), `latency_time` seconds each. Ack latency per segment from the simulator and
    from the collector's batch latency histogram; collector RSS sampled every second across the whole run."""
    collector = Collector(args.collector)
    timeline = Timeline(collector.proc.pid)
    segments = []
    started = time.time()
    try:
        for load, fraction in (("50%", 0.5), ("80%", 0.8)):
            for protocol in PROTOCOLS:
                segments.append(latency_segment(args, collector, timeline, protocol, rates[protocol] * fraction, load))
    finally:
        collector.stop()
    samples = [(t - started, rss) for t, rss in timeline.samples]
    minute = [rss for t, rss in samples if t >= 60]
    return {
        "segments": segments,
        "duration_s": round(time.time() - started, 1),
        "rss_mib_at_1_min": round(minute[0] / 2**20, 1) if minute else None,
        "rss_mib_at_end": round(samples[-1][1] / 2**20, 1) if samples else None,
        "rss_mib_peak": round(timeline.peak / 2**20, 1),
        "rss_mib_timeline": [(round(t), round(rss / 2**20, 1)) for t, rss in samples[::10]],
    }


def latency_segment(args, collector, timeline, protocol, target_rate, load, encoding=FULL_BATCHES):
    devices, sensors, interval_s = 100, 4, 1.0
    speedup = max(1.0, target_rate * interval_s / (devices * sensors))
    real_s = args.latency_time
    before = histogram_from_metrics(collector.text("/metrics"), "fleetwire_store_batch_latency_seconds")
    rss_start = proc_mem(collector.proc.pid)[0]
    report, _, _ = run_sim(args, [
        "--target", collector.url, "--devices", str(devices), "--protocol", protocol, "--sensors", REF_SENSORS,
        "--interval", "1s", "--batch", "10s", "--duration", f"{int(speedup * (real_s + 5))}s",
        "--speedup", f"{speedup:.3f}", "--time-limit", f"{real_s}s", *encoding], timeline)
    after = histogram_from_metrics(collector.text("/metrics"), "fleetwire_store_batch_latency_seconds")
    rss_end = proc_mem(collector.proc.pid)[0]
    row = proto_row(report, protocol)
    elapsed = report["run"]["elapsed_ms"] / 1000
    result = {
        "protocol": protocol, "load": load, "target_readings_per_s": round(target_rate), "speedup": round(speedup, 3),
        "achieved_readings_per_s": round(row["readings_acked"] / elapsed), "p50_ms": row.get("latency_p50_ms"),
        "p99_ms": row.get("latency_p99_ms"), "p999_ms": row.get("latency_p999_ms"), "errors": row["errors"],
        "store_p50_ms_at_most": histogram_percentile(before, after, 0.50),
        "store_p99_ms_at_most": histogram_percentile(before, after, 0.99),
        "store_p999_ms_at_most": histogram_percentile(before, after, 0.999),
        "rss_mib_start": round(rss_start / 2**20, 1), "rss_mib_end": round(rss_end / 2**20, 1),
    }
    log(f"  latency {protocol:11} at {load}: target {result['target_readings_per_s']:,}/s achieved "
        f"{result['achieved_readings_per_s']:,}/s p50 {result['p50_ms']} p99 {result['p99_ms']} p99.9 "
        f"{result['p999_ms']} ms; store p99 ≤ {result['store_p99_ms_at_most']} ms; RSS {result['rss_mib_end']} MiB")
    return result


IDLE_HELPER = r'''
# Holds N idle device connections: argv = port, N, mode. mode "mix": even ones HTTP/1.1 after one REST batch, odd
# ones h2c after the preface and SETTINGS; "h1", "h2": all of one kind; "h2push": h2c after one gRPC Push call.
import socket, struct, sys, resource
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
port, n, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]; held = []
body = b'{"seq":1,"readings":[]}'
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])

def frame(kind, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload

def literal(name, value):  # HPACK literal without indexing, new name
    return bytes([0, len(name)]) + name + bytes([len(value)]) + value

def rest(s, i):
    s.sendall(b"POST /v1/devices/idle-%d/readings HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (i, len(body), body))
    reply = b""
    while b'"last_seq":1}' not in reply:
        chunk = s.recv(4096)
        if not chunk: sys.exit("closed at %d" % i)
        reply += chunk

def push(s, i):
    block = b"".join(literal(k, v) for k, v in [
        (b":method", b"POST"), (b":scheme", b"http"), (b":path", b"/telemetry.v1.Telemetry/Push"),
        (b":authority", b"bench"), (b"content-type", b"application/grpc"), (b"te", b"trailers"),
        (b"device-id", b"idle-%d" % i)])
    message = bytes([0x08, 0x01])  # Batch { seq: 1 }
    s.sendall(PREFACE + frame(1, 0x4, 1, block) + frame(0, 0x1, 1, b"\0" + struct.pack(">I", len(message)) + message))
    buffer = b""
    while True:
        chunk = s.recv(65536)
        if not chunk: sys.exit("closed at %d" % i)
        buffer += chunk
        while len(buffer) >= 9:
            length = int.from_bytes(buffer[:3], "big")
            if len(buffer) < 9 + length: break
            kind, flags, stream = buffer[3], buffer[4], int.from_bytes(buffer[5:9], "big") & 0x7FFFFFFF
            buffer = buffer[9 + length:]
            if stream == 1 and (kind == 3 or (kind == 1 and flags & 0x1)):
                return

for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    kind = mode if mode != "mix" else ("h1" if i % 2 == 0 else "h2")
    if kind == "h1": rest(s, i)
    elif kind == "h2": s.sendall(PREFACE)
    else: push(s, i)
    held.append(s)
print("ready", flush=True)
sys.stdin.readline()
'''


def idle_memory(args, mode="mix", connections=None):
    connections = connections or args.idle_conns
    collector = Collector(args.collector)
    helper = None
    try:
        time.sleep(1.0)
        idle_rss, _ = collector.mem()
        fds_before = len(os.listdir(f"/proc/{collector.proc.pid}/fd"))
        helper = subprocess.Popen([sys.executable, "-c", IDLE_HELPER, str(collector.port), str(connections), mode],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        _children.append(helper)
        line = helper.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError("idle helper failed: " + line)
        # Wait (bounded) until the collector holds them all: its open file descriptors, since /metrics
        # open_connections does not count h2c connections that never opened a stream.
        deadline = time.time() + 15
        open_conns = None
        while time.time() < deadline:
            open_conns = len(os.listdir(f"/proc/{collector.proc.pid}/fd")) - fds_before
            if open_conns >= connections:
                break
            time.sleep(0.2)
        time.sleep(0.5)
        held_rss, hwm = collector.mem()
        helper.stdin.write("\n")
        helper.stdin.flush()
        helper.wait(timeout=30)
        _children.remove(helper)
    finally:
        if helper and helper.poll() is None:
            helper.kill()
            helper.wait()
        collector.stop()
    result = {"mode": mode, "idle_rss_mib": round(idle_rss / 2**20, 1), "connections": connections,
              "open_connections_seen": open_conns, "rss_with_idle_conns_mib": round(held_rss / 2**20, 1),
              "growth_mib": round((held_rss - idle_rss) / 2**20, 1),
              "bytes_per_connection": round((held_rss - idle_rss) / connections)}
    log(f"  memory ({mode}): idle {result['idle_rss_mib']} MiB, with {connections} idle connections "
        f"{result['rss_with_idle_conns_mib']} MiB (collector holds {open_conns} more descriptors)")
    return result


# --------------------------------------------------------------------------------------------- report


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.strip().splitlines()[0]
    except Exception:
        swift = "unknown"
    mem = 0
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) * 1024
    return {"host": socket.gethostname(), "cores": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "memory_gib": round(mem / 2**30, 1), "swift": swift, "load_avg_at_start": os.getloadavg()}


def verdict(ok):
    return "met" if ok else "**MISSED**"


def fmt(n, digits=0):
    if n is None:
        return "–"
    return f"{n:,.{digits}f}"


def wire_table(rows, title_batch=True):
    """The wire rows, each with its ratio to grpc-stream on the same batch size (the Upload that stays open
    longest, the reference: one per 10 simulated minutes)."""
    base = {}
    for r in rows:
        if r["protocol"] == "grpc-stream" and r["collector_bytes_per_reading"] and not r.get("auth"):
            best = base.get(r["batch"])
            if best is None or (r["stream_batches"] or 0) > (best["stream_batches"] or 0):
                base[r["batch"]] = r
    lines = ["| protocol | batch | stream-batches | device token | readings | sim B/reading | collector B/reading | "
             "× grpc-stream | agree | batches retried / errors |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ref = base.get(r["batch"])
        ratio = (r["collector_bytes_per_reading"] / ref["collector_bytes_per_reading"]
                 if ref and r["collector_bytes_per_reading"] else None)
        r["ratio_to_grpc_stream"] = round(ratio, 2) if ratio else None
        lines.append(f"| {r['protocol']} | {r['batch']} | {r['stream_batches'] or '–'} | "
                     f"{'yes' if r.get('auth') else 'no'} | {fmt(r['readings'])} | "
                     f"{fmt(r['sim_bytes_per_reading'], 2)} | {fmt(r['collector_bytes_per_reading'], 2)} | "
                     f"{fmt(ratio, 2)}× | {'yes' if r['agree'] else 'NO'} | {fmt(r['batches_retried'])} / "
                     f"{fmt(r['errors'])} |")
    return lines


def markdown(res):
    m = res["machine"]
    out = [f"# Fleetwire benchmark, {res['date']} on {m['host']}", "",
           f"Machine: {m['cores']} cores, {m['cpu_model']}, {m['memory_gib']} GiB, Linux {m['kernel']}, {m['swift']}; "
           f"load average at start {', '.join(f'{x:.2f}' for x in m['load_avg_at_start'])} (shared machine). "
           f"`make bench` took {res.get('duration_s', 0):.0f} s.", ""]
    store = res["store_limit"]
    limit = {r["devices"]: r["readings_per_s"] for r in store if r.get("order", "round-robin") == "round-robin"}
    shuffled = {r["devices"]: r["readings_per_s"] for r in store if r.get("order") == "shuffled"}
    out += ["## 1. Store limit (writer alone, pre-built batches of 4 sensors × 10 readings, no network)", "",
            "Each round has every device's next batch once. Round-robin keeps devices in id order (neighbours in a "
            "transaction share pages of the devices, series and batches tables): that is the ceiling the ingest "
            "targets use. Shuffled draws a new order every round, as a real fleet's batches arrive.", "",
            "| devices | order | readings | seconds | readings/s | commits |", "|---|---|---|---|---|---|"]
    for r in store:
        out.append(f"| {r['devices']} | {r.get('order', 'round-robin')} | {fmt(r['readings'])} | {r['seconds']} | "
                   f"{fmt(r['readings_per_s'])} | {fmt(r['commits'])} |")
    stream_rate = {r["devices"]: r["readings_per_s"] for r in res["ingest"] if r["protocol"] == "grpc-stream"}
    out += ["", f"## 2. Ingest at --max-rate ({res['params']['ingest_time']} real time, 4 sensors, 10 readings per "
                "sensor per batch, fresh database per run) and 6. collector CPU", "",
            "Targets: grpc-stream ≥ 80 % of the store limit; grpc-unary within 10 % of grpc-stream (≥ 90 % of its "
            "rate with the same devices); rest ≥ 60 % of the store limit.", "",
            "| protocol | devices | readings/s acked | % of store limit | % of shuffled-order limit | target | verdict | "
            "collector CPU s per M readings | collector peak RSS MiB | ack p50 / p99 ms | errors |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in res["ingest"]:
        rate, devices = r["readings_per_s"], r["devices"]
        pct = 100 * rate / limit[devices] if limit.get(devices) else None
        pct_shuffled = 100 * rate / shuffled[devices] if shuffled.get(devices) else None
        r["pct_of_store_limit"] = round(pct, 1) if pct is not None else None
        r["pct_of_shuffled_store_limit"] = round(pct_shuffled, 1) if pct_shuffled is not None else None
        if r["protocol"] == "grpc-unary":
            of_stream = 100 * rate / stream_rate[devices] if stream_rate.get(devices) else None
            r["pct_of_grpc_stream"] = round(of_stream, 1) if of_stream is not None else None
            target = f"≥ 90 % of grpc-stream ({fmt(of_stream, 1)} %)"
            ok = of_stream is not None and of_stream >= TARGETS["ingest_grpc_unary_pct_of_stream"]
        else:
            key = "ingest_grpc_stream_pct" if r["protocol"] == "grpc-stream" else "ingest_rest_pct"
            target = f"≥ {TARGETS[key]:.0f} %"
            ok = pct is not None and pct >= TARGETS[key]
        out.append(f"| {r['protocol']} | {devices} | {fmt(rate)} | {fmt(pct, 1)} % | {fmt(pct_shuffled, 1)} % | "
                   f"{target} | {verdict(ok)} | {fmt(r['collector_cpu_s_per_m_readings'], 2)} | "
                   f"{fmt(r['collector_peak_rss_mib'], 1)} | {fmt(r['latency_p50_ms'], 2)} / "
                   f"{fmt(r['latency_p99_ms'], 1)} | {r['errors']} |")
    out += ["", "## 3. Wire bytes per reading (100 devices × temperature, humidity, pressure, battery at 1 s, "
                f"10 simulated minutes at {WIRE_SPEEDUP}×; fresh collector per run; bytes in + out)", ""]
    out += wire_table(res["wire"])
    w = {(r["protocol"], r["batch"], r["stream_batches"]): r for r in res["wire"] if not r.get("auth")}
    checks = []
    s10 = w.get(("grpc-stream", "10s", 60))
    s60 = w.get(("grpc-stream", "60s", 10))
    u10 = w.get(("grpc-unary", "10s", None))
    if s10:
        checks.append(("grpc-stream, 10 s batches, 1 Upload per 10 min", s10["collector_bytes_per_reading"],
                       TARGETS["wire_grpc_stream_10s"]))
    if s60:
        checks.append(("grpc-stream, 60 s batches, 1 Upload per 10 min", s60["collector_bytes_per_reading"],
                       TARGETS["wire_grpc_stream_60s"]))
    if u10:
        checks.append(("grpc-unary, 10 s batches", u10["collector_bytes_per_reading"], TARGETS["wire_grpc_unary"]))
    out += ["", "| wire target | measured B/reading | target | verdict |", "|---|---|---|---|"]
    for name, got, target in checks:
        out.append(f"| {name} | {fmt(got, 2)} | ≤ {target} | {verdict(got is not None and got <= target)} |")
    steady = res.get("steady", {})
    out += ["", "## 4. Ack latency, paced (100 devices × 4 sensors at 1 s, 10 s batches; speedup = rate / 400)", "",
            f"One collector runs the six segments back to back ({res['params']['latency_time_s']} s each, "
            f"{steady.get('duration_s', 0):.0f} s in all): the steady run of row 5. \"sim\" is what the devices "
            "measured, send to ack; \"store\" is the collector's batch latency histogram (queued → committed), "
            "given as the upper bound of the bucket holding the percentile.", "",
            "| protocol | load | target readings/s | achieved readings/s | sim p50 ms | sim p99 ms | sim p99.9 ms | "
            "store p50 ms | store p99 ms | store p99.9 ms | p99 target | verdict |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in res["latency"]:
        target = f"≤ {TARGETS['ack_p99_ms_at_80pct']:.0f} ms" if r["load"] == "80%" else ""
        v = verdict(r["p99_ms"] is not None and r["p99_ms"] <= TARGETS["ack_p99_ms_at_80pct"]) if r["load"] == "80%" else ""
        out.append(f"| {r['protocol']} | {r['load']} | {fmt(r['target_readings_per_s'])} | "
                   f"{fmt(r['achieved_readings_per_s'])} | {fmt(r['p50_ms'], 2)} | {fmt(r['p99_ms'], 2)} | "
                   f"{fmt(r['p999_ms'], 2)} | ≤ {fmt(r.get('store_p50_ms_at_most'), 1)} | "
                   f"≤ {fmt(r.get('store_p99_ms_at_most'), 1)} | ≤ {fmt(r.get('store_p999_ms_at_most'), 1)} | "
                   f"{target} | {v} |")
    mem = res["memory"]
    peak = res["peak_memory"]
    ok = mem["rss_with_idle_conns_mib"] <= TARGETS["idle_rss_mib_10k"]
    out += ["", "## 5. Memory", "", "| what | measured | target | verdict |", "|---|---|---|---|",
            f"| collector RSS idle, after start | {mem['idle_rss_mib']} MiB | | |",
            f"| collector RSS with {fmt(mem['connections'])} idle connections (half HTTP/1.1 after one REST batch, "
            f"half h2c after the preface) | {mem['rss_with_idle_conns_mib']} MiB (+{mem['growth_mib']} MiB, "
            f"{fmt(mem['bytes_per_connection'])} B/connection) | ≤ 64 MiB | {verdict(ok)} |"]
    kinds = {"h1": "HTTP/1.1 after one REST batch", "h2": "h2c after the preface and SETTINGS",
             "h2push": "h2c after one gRPC Push"}
    for r in res.get("memory_per_kind", []):
        out.append(f"| resident bytes per idle connection, {kinds[r['mode']]} ({fmt(r['connections'])} held) | "
                   f"{fmt(r['bytes_per_connection'])} B | | |")
    if steady:
        segments = steady["segments"]
        growth = [s["rss_mib_end"] - s["rss_mib_start"] for s in segments]
        out += [f"| collector RSS over the {steady['duration_s']:.0f} s steady run: at 1 min / at the end / peak | "
                f"{fmt(steady['rss_mib_at_1_min'], 1)} / {fmt(steady['rss_mib_at_end'], 1)} / "
                f"{fmt(steady['rss_mib_peak'], 1)} MiB | no growth | "
                f"{verdict(steady['rss_mib_at_end'] is not None and steady['rss_mib_at_1_min'] is not None and steady['rss_mib_at_end'] <= steady['rss_mib_at_1_min'] * 1.05)} |",
                "| change within each segment (start → end), MiB | "
                + ", ".join(f"{s['protocol']} {s['load']} {g:+.1f}" for s, g in zip(segments, growth)) + " | | |"]
    out.append(f"| collector peak RSS at full ingest (max over row 2 runs; VmHWM) | {peak['rss_mib']} MiB "
               f"(VmHWM {peak['hwm_mib']} MiB) | | |")
    for r in res["ingest"]:
        out.append(f"| simulator max RSS, {r['protocol']} × {r['devices']} devices | {r['sim_max_rss_mib']} MiB = "
                   f"{r['sim_rss_kib_per_device']} KiB/device | | |")
    out.append("")
    if "query_stall" in res:
        import query_stall
        query_stall.bench = sys.modules[__name__]
        out += query_stall.markdown(res["query_stall"])
    if "links" in res:
        import tls_links
        tls_links.bench = sys.modules[__name__]
        out += tls_links.markdown(res["links"])
    if "time_series" in res:
        import time_series
        time_series.bench = sys.modules[__name__]
        out += time_series.markdown(res["time_series"])
    if "streams" in res:
        import streams
        streams.bench = sys.modules[__name__]
        out += streams.markdown(res["streams"])
    if "browsers" in res:
        import browsers
        browsers.bench = sys.modules[__name__]
        out += browsers.markdown(res["browsers"])
    if "postgres" in res:
        import postgres
        postgres.bench = sys.modules[__name__]
        out += postgres.markdown(res["postgres"])
    return "\n".join(out)


# --------------------------------------------------------------------------------------------- main


def with_run_settings(args):
    """The binaries under `args.bin` and the run lengths (shorter with `args.quick`), shared by every entry point."""
    args.collector = os.path.join(args.bin, "collector")
    args.sim = os.path.join(args.bin, "device-sim")
    args.store_bench = os.path.join(args.bin, "store-bench")
    args.store_devices = [100, 1000]
    args.store_readings = 200_000 if args.quick else 1_000_000
    args.ingest_time = "5s" if args.quick else "20s"
    args.latency_time = 8 if args.quick else 50
    args.idle_conns = 1000 if args.quick else 10_000
    return args


def row_arguments(add_arguments=None):
    """The command line of a row run on its own: --bin, --quick, --out (and the row's own), with the run settings."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    if add_arguments:
        add_arguments(parser)
    return with_run_settings(parser.parse_args())


def standalone_row(row, key, run, markdown, args, suffix=""):
    """Runs one row on its own (`python3 bench/<row>.py`): `run(args)` under `key`, then writes
    bench/results/<date>-<host>-row-<row><suffix>[-quick].json and .md and prints the markdown."""
    started = time.time()
    try:
        res = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "machine": machine(), key: run(args)}
    finally:
        cleanup()
    res["duration_s"] = round(time.time() - started, 1)
    md = "\n".join([f"# Fleetwire row {row}, {res['date']}", ""] + markdown(res[key]))
    stem = (f"{datetime.date.today().isoformat()}-{socket.gethostname()}-row-{row}{suffix}"
            + ("-quick" if args.quick else ""))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, stem + ".json"), "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    with open(os.path.join(args.out, stem + ".md"), "w") as f:
        f.write(md + "\n")
    print(md)
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    parser.add_argument("--quick", action="store_true", help="short runs, to try the harness")
    parser.add_argument("--wire-only", action="store_true", help="only the wire table (bench/compare.sh)")
    parser.add_argument("--batch", default="10s")
    parser.add_argument("--sensors", default=REF_SENSORS)
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--baseline-bin", help="release binaries of the build before chunks (row 9's comparison)")
    args = with_run_settings(parser.parse_args())
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    try:
        if args.wire_only:
            return compare(args)
        return full(args)
    finally:
        cleanup()


def batch_seconds(text):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", text)
    if not m:
        raise SystemExit(f"--batch: expected e.g. 10s, got {text}")
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def compare(args):
    per_stream = max(1, round(args.minutes * 60 / batch_seconds(args.batch)))
    rows = []
    for protocol, sb in [("grpc-stream", per_stream), ("grpc-stream", 6), ("grpc-unary", None), ("rest", None)]:
        rows.append(wire(args, protocol, args.batch, args.sensors, args.devices, sb, args.minutes))
    print(f"\n{args.devices} devices × {args.sensors} at 1 s, {args.batch} batches, {args.minutes} simulated minutes "
          f"(grpc-stream: {per_stream} batches per Upload = 1 per {args.minutes} min, and the default 6)\n")
    print("\n".join(wire_table(rows)))
    return 0 if all(r["agree"] for r in rows) else 1


def full(args):
    started = time.time()
    res = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"), "machine": machine(),
           "params": {"quick": args.quick, "store_readings": args.store_readings, "ingest_time": args.ingest_time,
                      "latency_time_s": args.latency_time, "idle_connections": args.idle_conns},
           "targets": TARGETS}
    log(f"machine: {res['machine']['cores']} cores, {res['machine']['cpu_model']}")
    log("1. store limit")
    res["store_limit"] = store_limit(args)
    log("2. ingest at max rate (and 6. CPU)")
    peak = {"rss": 0, "hwm": 0}
    res["ingest"] = [ingest(args, p, d, peak) for d in (100, 1000) for p in PROTOCOLS]
    res["peak_memory"] = {"rss_mib": round(peak["rss"] / 2**20, 1), "hwm_mib": round(peak["hwm"] / 2**20, 1)}
    log("3. wire bytes per reading")
    res["wire"] = []
    for batch, per_stream in [("10s", 60), ("1s", 600), ("60s", 10)]:
        res["wire"].append(wire(args, "grpc-stream", batch, REF_SENSORS, 100, per_stream))
        res["wire"].append(wire(args, "grpc-stream", batch, REF_SENSORS, 100, 6))
        res["wire"].append(wire(args, "grpc-unary", batch, REF_SENSORS, 100))
        res["wire"].append(wire(args, "rest", batch, REF_SENSORS, 100))
    # What authentication costs: the same 10 s rows with a device token on every call (nghttp2 never indexes
    # `authorization`, so each gRPC call carries it whole).
    for protocol, per_stream in [("grpc-stream", 60), ("grpc-stream", 6), ("grpc-unary", None), ("rest", None)]:
        res["wire"].append(wire(args, protocol, "10s", REF_SENSORS, 100, per_stream, auth=True))
    log("4. ack latency at 50 % and 80 % of the 100-device max rate, in one steady run (and 5. its memory)")
    rates = {p: next(r["readings_per_s"] for r in res["ingest"] if r["protocol"] == p and r["devices"] == 100)
             for p in PROTOCOLS}
    res["steady"] = steady_run(args, rates)
    res["latency"] = res["steady"]["segments"]
    log("7. ack latency beside heavy queries")
    import query_stall
    query_stall.bench = sys.modules[__name__]
    res["query_stall"] = query_stall.query_stall(args, args.latency_time)
    import tls_links
    tls_links.bench = sys.modules[__name__]
    res["links"] = tls_links.run(args)
    import time_series
    time_series.bench = sys.modules[__name__]
    res["time_series"] = time_series.run(args, res["store_limit"], args.baseline_bin)
    import streams
    streams.bench = sys.modules[__name__]
    res["streams"] = streams.run(args)
    import browsers
    browsers.bench = sys.modules[__name__]
    res["browsers"] = browsers.run(args)
    import postgres
    postgres.bench = sys.modules[__name__]
    res["postgres"] = postgres.run(args)
    log("5. memory with idle connections")
    res["memory"] = idle_memory(args)
    per = 500 if args.quick else 2000
    res["memory_per_kind"] = [idle_memory(args, mode, per) for mode in ("h1", "h2", "h2push")]
    res["duration_s"] = round(time.time() - started, 1)
    md = markdown(res)
    os.makedirs(args.out, exist_ok=True)
    stem = f"{datetime.date.today().isoformat()}-{socket.gethostname()}" + ("-quick" if args.quick else "")
    with open(os.path.join(args.out, stem + ".json"), "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    with open(os.path.join(args.out, stem + ".md"), "w") as f:
        f.write(md)
    print(md)
    log(f"wrote {os.path.join(args.out, stem + '.json')} and .md in {res['duration_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
