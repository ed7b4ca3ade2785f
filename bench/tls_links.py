#!/usr/bin/env python3
"""Row 8 of `make bench`: what TLS and sleeping devices cost (issue #12).

8a. Links: the reference workload (100 devices × 4 sensors at 1 Hz, 10 s batches, 10 simulated minutes) for
    grpc-stream, grpc-unary and rest on each link: plaintext, TLS with full certificate handshakes, TLS resumed,
    TLS-PSK; devices keeping their connection or reconnecting for every batch (`--connection per-batch`). Bytes
    per reading both ways, TLS handshake and record bytes, segments, and the estimated link bytes per reading
    (socket bytes + 52 B per TCP segment). Every cell is one fresh collector and one device-sim run, and the
    simulator's byte counts must agree with the collector's.
8b. Ingest over TLS keep-alive at --max-rate against plaintext, per protocol: three alternating pairs, medians.
8c. Full TLS handshakes per second (h2load: one connection, one request each) on the same 2 cores.
8d. Resident memory per idle TLS connection (10,000 held after one REST batch each).

Standalone: python3 bench/tls_links.py [--bin .build/release] [--quick]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

bench = None  # bench/run.py, set by run.py or main()

PROTOCOLS = ["grpc-stream", "grpc-unary", "rest"]
COLLECTOR_NAME = {"grpc-stream": "grpc-stream", "grpc-unary": "grpc-unary", "rest": "rest-json"}
# (link name, device-sim flags, connection modes it is measured with)
LINKS = [
    ("plaintext", [], ["keep", "per-batch"]),
    ("TLS, certificate, full handshakes", ["--tls", "--tls-auth", "token", "--resumption", "off"], ["keep", "per-batch"]),
    ("TLS, resumed", ["--tls", "--tls-auth", "token", "--resumption", "on"], ["per-batch"]),
    ("TLS-PSK", ["--tls", "--tls-auth", "psk", "--resumption", "off"], ["keep", "per-batch"]),
]
TARGETS = {
    "tls_keep_stream_bpr": 5.0,
    "handshake_full_bytes": 1500,
    "handshake_resumed_bytes": 700,
    "handshake_psk_bytes": 600,
    "tls_ingest_pct_of_plaintext": 85.0,
    "full_handshakes_per_s": 2000,
    "idle_tls_bytes_per_connection": 32 * 1024,
    "idle_tls_rss_mib_10k": 350,
}


def link_cell(args, protocol, link, sim_flags, connection):
    """One fresh collector (authentication on: PSK and tokens need the fleet key) and one paced run."""
    collector = bench.Collector(args.collector, auth=True)
    try:
        target = collector.url
        extra = []
        if "--tls" in sim_flags:
            target = target.replace("http://", "https://")
            extra = ["--ca", collector.cert_file]
        sim_args = ["--target", target, "--devices", "100", "--protocol", protocol,
                    "--sensors", bench.REF_SENSORS, "--interval", "1s", "--batch", "10s", "--duration", "10m",
                    "--speedup", str(bench.WIRE_SPEEDUP), "--connection", connection, *sim_flags, *extra,
                    *collector.sim_auth]
        if protocol == "grpc-stream":
            # keep: one Upload for the 10 minutes (60 batches); per-batch: an Upload of one batch per connection.
            sim_args += ["--stream-batches", "60" if connection == "keep" else "1"]
        report, _, _ = bench.run_sim(args, sim_args)
        time.sleep(2.5)  # the counters' flush
        bandwidth = collector.get("/v1/bandwidth")
    finally:
        collector.stop()
    row = bench.proto_row(report, protocol)
    crow = bench.bandwidth_row(bandwidth, COLLECTOR_NAME[protocol]) or {}
    readings = crow.get("readings") or 0
    c_bytes = (crow.get("bytes_in") or 0) + (crow.get("bytes_out") or 0)
    sim_bytes = row["bytes_sent"] + row["bytes_received"]
    per = (lambda n: round(n / readings, 2) if readings else None)
    handshakes = (row.get("handshakes_full", 0) or 0) + (row.get("handshakes_resumed", 0) or 0) + \
        (row.get("handshakes_psk", 0) or 0)
    hs_bytes = (crow.get("tls_handshake_bytes_in") or 0) + (crow.get("tls_handshake_bytes_out") or 0)
    result = {
        "protocol": protocol, "link": link, "connection": connection, "readings": readings,
        "bytes_per_reading": per(c_bytes),
        "bytes_in_per_reading": per(crow.get("bytes_in") or 0), "bytes_out_per_reading": per(crow.get("bytes_out") or 0),
        "tls_handshake_bytes": hs_bytes,
        "tls_record_bytes": (crow.get("tls_record_bytes_in") or 0) + (crow.get("tls_record_bytes_out") or 0),
        "segments": (crow.get("segments_in") or 0) + (crow.get("segments_out") or 0),
        "estimated_link_bytes_per_reading": crow.get("estimated_link_bytes_per_reading"),
        "connections": crow.get("connections"),
        "handshakes": {k: row.get(f"handshakes_{k}") for k in ("full", "resumed", "psk")},
        "handshake_bytes_each": round(hs_bytes / handshakes) if handshakes else None,
        "agree": sim_bytes == c_bytes and row["readings_acked"] == readings,
        "errors": row["errors"],
    }
    bench.log(f"  {protocol:11} {link:34} {connection:9}: {result['bytes_per_reading']} B/reading, link ≈ "
              f"{result['estimated_link_bytes_per_reading']}, handshake {result['handshake_bytes_each']} B each, "
              f"agree {result['agree']}")
    return result


def links(args):
    return [link_cell(args, protocol, name, flags, connection)
            for name, flags, modes in LINKS for connection in modes for protocol in PROTOCOLS]


def tls_ingest(args, repeats=3):
    """Max-rate ingest, 100 devices, plaintext and TLS keep-alive alternating per protocol, `repeats` pairs; the
    row is each link's median (the machine is shared: one pair can land on a noisy moment)."""
    rows = []
    for protocol in PROTOCOLS:
        rates = {"plaintext": [], "TLS": []}
        errors = 0
        for _ in range(repeats):
            for link, flags in [("plaintext", []), ("TLS", ["--tls"])]:
                collector = bench.Collector(args.collector)
                try:
                    extra = ["--ca", collector.cert_file] if flags else []
                    target = collector.url.replace("http://", "https://") if flags else collector.url
                    sim_args = ["--target", target, "--devices", "100", "--protocol", protocol,
                                "--sensors", bench.REF_SENSORS, "--interval", "1s", "--batch", "10s",
                                "--duration", "1000h", "--max-rate", "--time-limit", args.ingest_time, *flags, *extra]
                    started = time.time()
                    report, _, _ = bench.run_sim(args, sim_args)
                    elapsed = time.time() - started
                finally:
                    collector.stop()
                row = bench.proto_row(report, protocol)
                rates[link].append(round(row["readings_acked"] / max(row.get("elapsed_s") or elapsed, 0.001)))
                errors += row["errors"]
        for link, values in rates.items():
            rows.append({"protocol": protocol, "link": link, "readings_per_s": statistics.median(values),
                         "runs": values, "errors": errors})
            bench.log(f"  ingest {protocol:11} {link:9}: median {statistics.median(values):,.0f} readings/s {values}")
    return rows


def handshake_rate(args, connections=2000):
    """h2load opens `connections` TLS connections (one request each) at up to 2,000 new connections per second
    and the row reports how many completed per second, and the collector's CPU time per handshake: h2load's own
    handshakes share the same 2 cores, so the CPU figure says what the collector alone could sustain."""
    collector = bench.Collector(args.collector)
    try:
        time.sleep(0.5)
        cpu_before = collector.cpu()
        command = ["h2load", f"https://127.0.0.1:{collector.port}/healthz", "-n", str(connections), "-c",
                   str(connections), "-t", "1", "--h1", "-r", "200", "--rate-period=100ms"]
        out = subprocess.run(command, capture_output=True, text=True, timeout=120).stdout
        cpu = collector.cpu() - cpu_before
    finally:
        collector.stop()
    finished = re.search(r"finished in ([\d.]+)(m?s)", out)
    seconds = float(finished.group(1)) / (1000 if finished.group(2) == "ms" else 1) if finished else None
    succeeded = re.search(r"(\d+) succeeded", out)
    done = int(succeeded.group(1)) if succeeded else 0
    per = cpu / done if done else None
    result = {"connections": connections, "succeeded": done, "seconds": seconds,
              "handshakes_per_s": round(done / seconds) if seconds else None,
              "collector_cpu_us_per_handshake": round(per * 1e6) if per else None,
              "collector_capacity_per_s_2_cores": round(2 / per) if per else None}
    bench.log(f"  full handshakes: {done} in {seconds} s = {result['handshakes_per_s']}/s; collector CPU "
              f"{result['collector_cpu_us_per_handshake']} µs each (capacity ≈ "
              f"{result['collector_capacity_per_s_2_cores']}/s on 2 cores)")
    return result


IDLE_TLS_HELPER = r'''
import socket, ssl, sys, resource
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
port, n, cafile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
context = ssl.create_default_context(cafile=cafile)
context.set_alpn_protocols(["http/1.1"])
body = b'{"seq":1,"readings":[]}'
held = []
for i in range(n):
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    s = context.wrap_socket(raw, server_hostname="127.0.0.1")
    s.sendall(b"POST /v1/devices/idle-%d/readings HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (i, len(body), body))
    reply = b""
    while b'"last_seq":1}' not in reply:
        chunk = s.recv(4096)
        if not chunk: sys.exit("closed at %d" % i)
        reply += chunk
    held.append(s)
print("ready", flush=True)
sys.stdin.readline()
'''


def idle_tls_memory(args, connections):
    collector = bench.Collector(args.collector)
    helper = None
    try:
        time.sleep(1.0)
        idle_rss, _ = collector.mem()
        helper = subprocess.Popen([sys.executable, "-c", IDLE_TLS_HELPER, str(collector.port), str(connections),
                                   collector.cert_file], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        bench._children.append(helper)
        line = helper.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError("idle TLS helper failed: " + line)
        time.sleep(1.0)
        held_rss, _ = collector.mem()
        helper.stdin.write("\n")
        helper.stdin.flush()
        helper.wait(timeout=60)
        bench._children.remove(helper)
    finally:
        if helper and helper.poll() is None:
            helper.kill()
            helper.wait()
        collector.stop()
    result = {"connections": connections, "idle_rss_mib": round(idle_rss / 2**20, 1),
              "rss_with_idle_tls_mib": round(held_rss / 2**20, 1),
              "bytes_per_connection": round((held_rss - idle_rss) / connections)}
    bench.log(f"  idle TLS: {connections} connections, {result['rss_with_idle_tls_mib']} MiB "
              f"({result['bytes_per_connection']} B each)")
    return result


def run(args):
    bench.log("8. links: TLS and sleeping devices")
    return {"links": links(args), "ingest": tls_ingest(args), "handshakes": handshake_rate(args),
            "idle_tls": idle_tls_memory(args, 1000 if args.quick else 10_000)}


def verdict(ok):
    return bench.verdict(ok)


def markdown(res):
    fmt = bench.fmt
    out = ["## 8. Links: TLS and sleeping devices (100 devices × 4 sensors at 1 s, 10 s batches, 10 simulated minutes)",
           "", "Authentication on (a token on every call, except over TLS-PSK where the connection is the credential). "
           "keep: a device keeps one connection (grpc-stream: one Upload of 60 batches); per-batch: a device connects, "
           "sends one batch, waits for the Ack and closes. Link estimate: socket bytes + 52 B per TCP segment.", "",
           "| protocol | link | connection | B/reading in + out | in / out | TLS handshake B (each) | TLS record B | "
           "segments | est. link B/reading | handshakes full/resumed/PSK | agree |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in res["links"]:
        h = r["handshakes"]
        out.append(f"| {r['protocol']} | {r['link']} | {r['connection']} | {fmt(r['bytes_per_reading'], 2)} | "
                   f"{fmt(r['bytes_in_per_reading'], 2)} / {fmt(r['bytes_out_per_reading'], 2)} | "
                   f"{fmt(r['tls_handshake_bytes'])} ({fmt(r['handshake_bytes_each'])}) | {fmt(r['tls_record_bytes'])} | "
                   f"{fmt(r['segments'])} | {fmt(r['estimated_link_bytes_per_reading'], 2)} | "
                   f"{fmt(h.get('full'))}/{fmt(h.get('resumed'))}/{fmt(h.get('psk'))} | {'yes' if r['agree'] else 'NO'} |")
    cell = {(r["protocol"], r["link"], r["connection"]): r for r in res["links"]}
    checks = []
    keep = cell.get(("grpc-stream", "TLS, certificate, full handshakes", "keep"))
    if keep:
        checks.append(("TLS kept-alive Upload, 10 s batches, B/reading", keep["bytes_per_reading"],
                       TARGETS["tls_keep_stream_bpr"]))
    for link, key, name in [("TLS, certificate, full handshakes", "handshake_full_bytes", "full handshake, P-256 certificate"),
                            ("TLS, resumed", "handshake_resumed_bytes", "resumed handshake"),
                            ("TLS-PSK", "handshake_psk_bytes", "PSK + ECDHE handshake")]:
        r = cell.get(("grpc-unary", link, "per-batch"))
        if r:
            checks.append((f"{name}, bytes both ways (grpc-unary per-batch, mean)", r["handshake_bytes_each"],
                           TARGETS[key]))
    out += ["", "| target | measured | target | verdict |", "|---|---|---|---|"]
    for name, got, target in checks:
        out.append(f"| {name} | {fmt(got, 2)} | ≤ {fmt(target)} | {verdict(got is not None and got <= target)} |")
    rates = {(r["protocol"], r["link"]): r["readings_per_s"] for r in res["ingest"]}
    for protocol in PROTOCOLS:
        plain, tls = rates.get((protocol, "plaintext")), rates.get((protocol, "TLS"))
        pct = 100 * tls / plain if plain and tls is not None else None
        out.append(f"| ingest over TLS keep-alive, {protocol} (medians of 3 alternating runs): {fmt(tls)} vs {fmt(plain)} "
                   f"readings/s plaintext | "
                   f"{fmt(pct, 1)} % | ≥ 85 % | {verdict(pct is not None and pct >= TARGETS['tls_ingest_pct_of_plaintext'])} |")
    h = res["handshakes"]
    out.append(f"| full TLS handshakes per second (h2load on the same 2 cores, {fmt(h['succeeded'])} connections) | "
               f"{fmt(h['handshakes_per_s'])} | ≥ 2,000 | "
               f"{verdict(h['handshakes_per_s'] is not None and h['handshakes_per_s'] >= TARGETS['full_handshakes_per_s'])} |")
    out.append(f"| collector CPU per full handshake (→ what 2 cores sustain for the collector alone) | "
               f"{fmt(h['collector_cpu_us_per_handshake'])} µs (→ {fmt(h['collector_capacity_per_s_2_cores'])}/s) | | |")
    m = res["idle_tls"]
    out.append(f"| resident memory per idle TLS connection ({fmt(m['connections'])} held: "
               f"{m['rss_with_idle_tls_mib']} MiB in all) | {fmt(m['bytes_per_connection'])} B | ≤ 32 KB | "
               f"{verdict(m['bytes_per_connection'] <= TARGETS['idle_tls_bytes_per_connection'])} |")
    out.append("")
    return out


def main():
    global bench
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run as bench_module
    bench = bench_module
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(bench.ROOT, ".build", "release"))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=["links", "ingest", "handshakes", "idle"])
    args = parser.parse_args()
    args.collector = os.path.join(args.bin, "collector")
    args.sim = os.path.join(args.bin, "device-sim")
    args.ingest_time = "5s" if args.quick else "20s"
    try:
        if args.only:
            result = {"links": links, "ingest": tls_ingest, "handshakes": handshake_rate,
                      "idle": lambda a: idle_tls_memory(a, 1000 if a.quick else 10_000)}[args.only](args)
            print(json.dumps(result, indent=2))
            return 0
        res = run(args)
        print("\n".join(markdown(res)))
    finally:
        bench.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
