#!/usr/bin/env python3
"""Rows 1, 2, 4 and 9 of `make bench` alone (the ones the chunked store of issue 13 changes), into
bench/results/<date>-<host>-rows-1-2-4-9.json and .md. Usage: python3 bench/issue13_rows.py [--baseline-bin DIR]"""
import argparse
import datetime
import json
import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run as bench  # noqa: E402
import time_series  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(bench.ROOT, ".build", "release"))
    parser.add_argument("--baseline-bin")
    args = parser.parse_args()
    args.quick = False
    args = bench.with_run_settings(args)
    time_series.bench = bench
    started = time.time()
    res = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"), "machine": bench.machine()}
    try:
        bench.log("1. store limit")
        res["store_limit"] = bench.store_limit(args)
        bench.log("2. ingest at max rate")
        peak = {"rss": 0, "hwm": 0}
        res["ingest"] = [bench.ingest(args, p, d, peak) for d in (100, 1000) for p in bench.PROTOCOLS]
        bench.log("4. ack latency at 50 % and 80 % of the 100-device max rate")
        rates = {p: next(r["readings_per_s"] for r in res["ingest"] if r["protocol"] == p and r["devices"] == 100)
                 for p in bench.PROTOCOLS}
        res["steady"] = bench.steady_run(args, rates)
        res["time_series"] = time_series.run(args, res["store_limit"], args.baseline_bin)
    finally:
        bench.cleanup()
    res["duration_s"] = round(time.time() - started, 1)
    out = os.path.join(HERE, "results", f"{datetime.date.today().isoformat()}-{socket.gethostname()}-rows-1-2-4-9")
    with open(out + ".json", "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    with open(out + ".md", "w") as f:
        f.write(time_series.markdown(res["time_series"]))
    print(time_series.markdown(res["time_series"]))
    bench.log(f"wrote {out}.json and .md in {res['duration_s']:.0f} s")


if __name__ == "__main__":
    main()
