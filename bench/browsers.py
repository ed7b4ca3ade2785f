#!/usr/bin/env python3
"""Row 11 of `make bench`: the browser-friendly forms of gRPC (issue #15).

11a. Wire bytes per reading on the reference workload (100 devices × 4 sensors at 1 Hz, 10 s batches, one call per
     batch, 10 simulated minutes): grpc-unary (HTTP/2); grpc-web, grpc-web-text, Connect with application/proto and
     with application/json, each over HTTP/2 (as a browser speaks to a TLS server: the targets compare these with
     grpc-unary on the same transport) and over HTTP/1.1 (a browser on plaintext, or a device's simple HTTP stack);
     REST JSON (HTTP/1.1); each on a fresh collector. The collector's ledger is the measure; the simulator's socket
     count must agree.
11b. Ingest at --max-rate, 100 devices, three alternating rounds (medians): grpc-web and connect (proto) against
     REST JSON, all three over HTTP/1.1 keep-alive.

Standalone: python3 bench/browsers.py [--bin .build/release] [--quick]
"""
import os
import statistics
import sys

bench = None  # bench/run.py, set by run.py or main()

TARGETS = {
    "grpc_web_vs_unary": 1.15,
    "grpc_web_text_vs_unary": 1.5,
    "connect_proto_vs_unary": 1.0,
    "ingest_vs_rest": 0.90,
}
# (sim --protocol, row name, extra sim flags)
WEB_FORMS = [
    ("grpc-web", "grpc-web", []),
    ("grpc-web-text", "grpc-web-text", []),
    ("connect", "connect+proto", ["--connect-codec", "proto"]),
    ("connect", "connect+json", ["--connect-codec", "json"]),
]
WIRE_FORMS = ([("grpc-unary", "grpc-unary", "HTTP/2", [])]
              + [(p, n, "HTTP/2", f + ["--web-http", "2"]) for p, n, f in WEB_FORMS]
              + [(p, n, "HTTP/1.1", f + ["--web-http", "1.1"]) for p, n, f in WEB_FORMS]
              + [("rest", "rest-json", "HTTP/1.1", [])])
INGEST_FORMS = [("rest", "rest-json", []), ("grpc-web", "grpc-web", ["--web-http", "1.1"]),
                ("connect", "connect+proto", ["--connect-codec", "proto", "--web-http", "1.1"])]


def wire_rows(args):
    rows = []
    for protocol, name, http, flags in WIRE_FORMS:
        row = bench.wire(args, protocol, "10s", bench.REF_SENSORS, 100, encoding=flags)
        row["form"] = name
        row["http"] = http
        rows.append(row)
    return rows


def ingest_rounds(args, rounds=3):
    peak = {"rss": 0, "hwm": 0}
    runs = {name: [] for _, name, _ in INGEST_FORMS}
    for _ in range(rounds):
        for protocol, name, flags in INGEST_FORMS:
            runs[name].append(bench.ingest(args, protocol, 100, peak, encoding=flags))
    medians = {name: statistics.median(r["readings_per_s"] for r in rs) for name, rs in runs.items()}
    bench.log("  ingest medians: " + ", ".join(f"{n} {m:,.0f}/s" for n, m in medians.items()))
    return {"runs": runs, "medians": medians}


def run(args):
    bench.log("11. gRPC-Web and Connect")
    return {"wire": wire_rows(args), "ingest": ingest_rounds(args, 2 if args.quick else 3)}


def verdict(ok):
    return "met" if ok else "missed"


def markdown(res):
    fmt = bench.fmt
    out = ["", "## 11. gRPC-Web and Connect (issue #15)", "",
           "Reference workload: 100 devices × temperature, humidity, pressure, battery at 1 s, one call per 10 s "
           f"batch, 10 simulated minutes at {bench.WIRE_SPEEDUP}×, each form on a fresh collector, plaintext (h2c "
           "with prior knowledge for HTTP/2, keep-alive for HTTP/1.1); protobuf bodies with packed deltas (the "
           "simulator's default).",
           "", "| form | HTTP | readings | B/reading (collector) | B/reading (sim) | ÷ grpc-unary | agree | "
           "retried / errors |", "|---|---|---|---|---|---|---|---|"]
    w = {(r["form"], r["http"]): r["collector_bytes_per_reading"] for r in res["wire"]}
    unary = w.get(("grpc-unary", "HTTP/2"))
    for r in res["wire"]:
        ratio = r["collector_bytes_per_reading"] / unary if unary and r["collector_bytes_per_reading"] else None
        out.append(f"| {r['form']} | {r['http']} | {fmt(r['readings'])} | {fmt(r['collector_bytes_per_reading'], 2)} | "
                   f"{fmt(r['sim_bytes_per_reading'], 2)} | {fmt(ratio, 2)}× | {'yes' if r['agree'] else 'NO'} | "
                   f"{fmt(r['batches_retried'])} / {fmt(r['errors'])} |")

    def ratio(name, http):
        return w[(name, http)] / unary if unary and w.get((name, http)) else None
    out += ["", "| wire target (÷ grpc-unary) | over HTTP/2 (judged) | over HTTP/1.1 | target | verdict |",
            "|---|---|---|---|---|"]
    for name, key in (("grpc-web", "grpc_web_vs_unary"), ("grpc-web-text", "grpc_web_text_vs_unary"),
                      ("connect+proto", "connect_proto_vs_unary")):
        got = ratio(name, "HTTP/2")
        out.append(f"| {name} | {fmt(got, 2)}× | {fmt(ratio(name, 'HTTP/1.1'), 2)}× | ≤ {TARGETS[key]}× | "
                   f"{verdict(got is not None and got <= TARGETS[key])} |")
    rest = w.get(("rest-json", "HTTP/1.1"))
    if rest:
        out.append(f"| connect+json beside rest-json ({fmt(rest, 2)} B/reading) | "
                   f"{fmt(w.get(('connect+json', 'HTTP/2')), 2)} B/reading | "
                   f"{fmt(w.get(('connect+json', 'HTTP/1.1')), 2)} B/reading | reported | |")
    ing = res["ingest"]
    rest = ing["medians"]["rest-json"]
    out += ["", f"Ingest at --max-rate, 100 devices, HTTP/1.1 keep-alive, {len(ing['runs']['rest-json'])} alternating "
            "rounds:", "", "| form | readings/s per run | median | ÷ rest-json | collector CPU s per M readings "
            "(median) | target | verdict |", "|---|---|---|---|---|---|---|"]
    for name, rs in ing["runs"].items():
        r = ing["medians"][name] / rest if rest else None
        judged = name != "rest-json"
        cpu = statistics.median(x["collector_cpu_s_per_m_readings"] or 0 for x in rs)
        out.append(f"| {name} | {', '.join(fmt(x['readings_per_s']) for x in rs)} | {fmt(ing['medians'][name])} | "
                   f"{fmt(r, 2)}× | {fmt(cpu, 2)} | {'≥ 0.90×' if judged else ''} | "
                   f"{verdict(r is not None and r >= TARGETS['ingest_vs_rest']) if judged else ''} |")
    return out


def main():
    global bench
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run as bench
    return bench.standalone_row(11, "browsers", run, markdown, bench.row_arguments())


if __name__ == "__main__":
    sys.exit(main())
