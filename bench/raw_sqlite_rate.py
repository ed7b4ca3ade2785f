#!/usr/bin/env python3
# (A copy of the steering repository's machine-speed reference, kept here so `make bench` needs nothing outside this repo.)
# Machine-speed normaliser: raw SQLite insert rate of (series_id, ts, value) rows, in PK order per series,
# 4,000 series interleaved as a fleet's batches arrive (10 readings per series per batch), WAL, synchronous=NORMAL,
# 50,000 rows per transaction. Prints rows/s.
import sqlite3, time, os, sys, random
path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/raw.db"
for f in (path, path + "-wal", path + "-shm"):
    if os.path.exists(f): os.remove(f)
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=NORMAL")
db.execute("CREATE TABLE r (s INTEGER NOT NULL, ts INTEGER NOT NULL, v REAL NOT NULL, PRIMARY KEY (s, ts)) WITHOUT ROWID")
S, PER, ROUNDS = 4000, 10, 25
rows = []
t0 = 1_700_000_000_000
for rnd in range(ROUNDS):
    for s in range(S):
        base = t0 + rnd * PER * 1000
        rows.extend((s, base + i * 1000, 20.0 + (i % 7) * 0.01) for i in range(PER))
start = time.perf_counter()
for i in range(0, len(rows), 50_000):
    db.execute("BEGIN"); db.executemany("INSERT OR IGNORE INTO r VALUES (?,?,?)", rows[i:i + 50_000]); db.execute("COMMIT")
el = time.perf_counter() - start
print(f"raw sqlite: {len(rows)} rows in {el:.2f}s = {len(rows)/el:.0f} rows/s; file {os.path.getsize(path)/len(rows):.1f} B/row")
