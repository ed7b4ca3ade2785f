"""The chunk blob read independently: chunks.py decodes every golden vector the Swift codec wrote
(Tests/Fixtures/chunk-vectors.json, pinned by Tests/StoreTests/ChunkCodecVectorTests.swift) to the exact timestamps
and bit-identical values, refuses damaged blobs with ValueError, and fwtest's database helpers (readings_view over
decoded chunks, chunk_problems) work on a hand-built schema-v4 file. No collector is needed."""

from __future__ import annotations

import json
import math
import random
import sqlite3

import pytest

import chunks
from fwtest import REPO_ROOT, add_decoded_readings, chunk_problems, db_query, db_readings

VECTORS = json.loads((REPO_ROOT / "Tests" / "Fixtures" / "chunk-vectors.json").read_text())


def hex_bits(values) -> list[str]:
    return [f"{chunks.value_bits(v):016x}" for v in values]


def test_the_vectors_cover_every_mode():
    """The file still exercises what this suite relies on: both time modes and both value modes."""
    blobs = [bytes.fromhex(v["blob_hex"]) for v in VECTORS]
    assert len(VECTORS) >= 20 and len({v["name"] for v in VECTORS}) == len(VECTORS)
    assert any(v["timestamps"] == [] for v in VECTORS)
    assert any(len(v["timestamps"]) == 1 for v in VECTORS)
    assert any(ts < 0 for v in VECTORS for ts in v["timestamps"])
    assert any(b.startswith(b"\x01\x01") for b in blobs)  # one reading
    assert any(v["values_hex"].count("8000000000000000") for v in VECTORS)  # -0.0
    assert any("7ff0000000000000" in v["values_hex"] for v in VECTORS)  # +inf


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_every_vector_decodes_to_its_timestamps_and_value_bits(vector):
    timestamps, values = chunks.decode(bytes.fromhex(vector["blob_hex"]))
    assert timestamps == vector["timestamps"]
    assert hex_bits(values) == vector["values_hex"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_every_truncation_and_any_extra_byte_is_refused(vector):
    blob = bytes.fromhex(vector["blob_hex"])
    for cut in range(len(blob)):
        with pytest.raises(ValueError):
            chunks.decode(blob[:cut])
    with pytest.raises(ValueError, match="bytes after"):
        chunks.decode(blob + b"\x00")


@pytest.mark.parametrize("blob, message", [
    (b"", "ends at byte 0"),
    (b"\x02\x00", "unknown chunk version 2"),
    (b"\x01\xff\xff\xff\xff\x0f\x00\x00", "count 4294967295 larger"),
    (b"\x01" + b"\x80" * 9 + b"\x02", "does not fit 64 bits"),  # a tenth byte above 1
    (b"\x01\x02\x00\x02\x00\x00\x00\x00", "unknown time mode 2"),
    (b"\x01\x01\x00\x02", "unknown value mode 2"),
    (b"\x01\x01\x00\x00\x0e\x00", "exponent 7 out of range"),  # zigzag 14 = 7: coarser than 10^6
    (b"\x01\x01\x00\x00\x1f\x00", "exponent -16 out of range"),  # zigzag 31 = -16: finer than 10^-15
    (b"\x01\x02\x00\x00\x01\x01" + bytes(8) + b"\x80", "bad XOR control byte 0x80"),  # 8 leading zero bytes
    (b"\x01\x02\x00\x00\x01\x01" + bytes(8) + b"\x44", "bad XOR control byte 0x44"),  # 4 + 4: nothing between
    (b"\x01\x02\x00\x00\x01\x01" + bytes(8) + b"\x07", "ends at byte 15"),  # one byte promised, none there
    (b"\x01\x01\x00\x01" + bytes(7), "inside 8 bytes"),
])
def test_damaged_blobs_say_what_is_wrong(blob, message):
    with pytest.raises(ValueError, match=message):
        chunks.decode(blob)


def test_garbled_blobs_raise_value_error_or_decode_consistently():
    """Flipping any bit of a vector, or random bytes after a version byte, gives ValueError or a decoding whose
    lengths agree: never another exception."""
    rng = random.Random(20261206)
    garbled = []
    for vector in VECTORS:
        blob = bytes.fromhex(vector["blob_hex"])
        for bit in range(8, len(blob) * 8):
            flipped = bytearray(blob)
            flipped[bit // 8] ^= 1 << (bit % 8)
            garbled.append(bytes(flipped))
    garbled += [b"\x01" + rng.randbytes(rng.randrange(40)) for _ in range(3000)]
    refused = 0
    for blob in garbled:
        try:
            timestamps, values = chunks.decode(blob)
        except ValueError:
            refused += 1
            continue
        assert len(timestamps) == len(values) <= len(blob)
        assert all(-(1 << 63) <= ts < 1 << 63 for ts in timestamps)
    assert 0 < refused < len(garbled)


def test_grid_values_are_the_nearest_double_to_the_decimal():
    """DecimalGrid's fast path (one IEEE operation on exact operands) agrees with a correctly rounded parse of the
    decimal text, and the slow path is that parse: across the codec's exponents and mantissas of every size."""
    rng = random.Random(7)
    for exponent in chunks.EXPONENTS:
        for _ in range(400):
            mantissa = rng.choice([rng.randrange(-10**6, 10**6), rng.randrange(-(1 << 53), (1 << 53) + 1),
                                   rng.randrange(-(1 << 63), 1 << 63)])
            assert chunks.grid_value(mantissa, exponent) == float(f"{mantissa}e{exponent}"), (mantissa, exponent)
    assert chunks.grid_value(-(1 << 63), 0) == -9.223372036854775808e18


# -- fwtest's readers on a hand-built schema-v4 file -----------------------------------------------------------


def _chunk_row(series_id: int, timestamps, values, blob: bytes) -> tuple:
    return (series_id, timestamps[0], timestamps[-1], len(values), min(values), max(values), math.fsum(values),
            values[0], values[-1], blob)


@pytest.fixture
def vector_db(tmp_path):
    """A database with the contract schema and one series per finite, non-empty vector (devices dev-a and dev-b in
    turn), plus a second chunk after the first in series 1; returns (path, expected readings_view rows)."""
    db = tmp_path / "telemetry.db"
    conn = sqlite3.connect(db)
    conn.executescript((REPO_ROOT / "schema" / "sqlite.sql").read_text())
    conn.execute("INSERT INTO devices (id, name, first_seen_ms, last_seen_ms) VALUES (1, 'dev-a', 1, 2), "
                 "(2, 'dev-b', 1, 2)")
    expected = []
    usable = [v for v in VECTORS if v["timestamps"] and all(h[:3] not in ("7ff", "fff") for h in v["values_hex"])]
    for series_id, vector in enumerate(usable, start=1):
        device_id, sensor = 1 + series_id % 2, f"s{series_id:02}"
        blob = bytes.fromhex(vector["blob_hex"])
        timestamps, values = vector["timestamps"], chunks.decode(blob)[1]
        conn.execute("INSERT INTO series (id, device_id, sensor, readings) VALUES (?, ?, ?, ?)",
                     (series_id, device_id, sensor, len(values)))
        conn.execute("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     _chunk_row(series_id, timestamps, values, blob))
        expected += [(("dev-a", "dev-b")[device_id - 1], sensor, ts, v) for ts, v in zip(timestamps, values)]
    # Series 1 gets a second chunk right after its first: two readings, regular, on the 10^-2 grid.
    first_end = conn.execute("SELECT end_ts FROM chunks WHERE series_id = 1").fetchone()[0]
    blob = bytes([1, 2]) + _zigzag(first_end + 1) + bytes([0, 5, 0]) + _zigzag(-2) + _zigzag(2154) + _zigzag(1)
    assert chunks.decode(blob) == ([first_end + 1, first_end + 6], [21.54, 21.55])
    conn.execute("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 _chunk_row(1, [first_end + 1, first_end + 6], [21.54, 21.55], blob))
    expected += [("dev-b", "s01", first_end + 1, 21.54), ("dev-b", "s01", first_end + 6, 21.55)]
    conn.execute("UPDATE series SET readings = readings + 2 WHERE id = 1")
    # The counters of one batch per device holding all its readings, as the writer would leave them.
    for device_id, device in enumerate(("dev-a", "dev-b"), start=1):
        count = sum(r[0] == device for r in expected)
        conn.execute("UPDATE devices SET readings = ?, batches = 1, last_seq = 1 WHERE id = ?", (count, device_id))
        conn.execute("INSERT INTO batches VALUES (?, 1, 2, ?)", (device_id, count))
    conn.commit()
    conn.close()
    return db, expected


def _zigzag(value: int) -> bytes:
    """A signed varint, as the layout spells it (zigzag, then LEB128)."""
    raw = (value << 1) ^ (value >> 63)
    out = bytearray()
    while raw >= 0x80:
        out.append(raw & 0x7F | 0x80)
        raw >>= 7
    return bytes(out + bytes([raw]))


def _bits(rows):
    return [(*row[:-1], chunks.value_bits(row[-1])) for row in rows]


def test_readings_view_is_the_decoded_chunks(vector_db):
    db, expected = vector_db
    rows = db_query(db, "SELECT device, sensor, ts, value FROM readings_view ORDER BY device, sensor, ts")
    assert _bits(rows) == _bits(sorted(expected, key=lambda r: r[:3]))  # -0.0 keeps its sign
    assert db_query(db, "SELECT count(*) FROM readings_view WHERE device = ?", ("dev-a",)) == \
        [(sum(r[0] == "dev-a" for r in expected),)]
    assert _bits(db_readings(db, "dev-b")) == _bits(sorted((r[1:] for r in expected if r[0] == "dev-b")))
    # A query that does not name readings_view runs on the file as it is.
    assert db_query(db, "SELECT count(*) FROM sqlite_temp_master") == [(0,)]


def test_chunk_problems_accepts_consistent_chunks(vector_db):
    db, _ = vector_db
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert chunk_problems(conn) == []
    finally:
        conn.close()


def _overlapping_chunk(conn):
    """A one-reading chunk of series 2 at the last ts of its chunk: a valid blob in the wrong place."""
    end_ts = conn.execute("SELECT end_ts FROM chunks WHERE series_id = 2").fetchone()[0]
    blob = bytes([1, 1]) + _zigzag(end_ts) + bytes([0, 0, 0])  # exponent 0, mantissa 0
    conn.execute("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _chunk_row(2, [end_ts], [0.0], blob))


@pytest.mark.parametrize("damage, series, problem", [
    ("UPDATE chunks SET count = count + 1 WHERE series_id = 2", 2, "count"),
    ("UPDATE chunks SET value_max = value_max + 1 WHERE series_id = 2", 2, "min/max"),
    ("UPDATE chunks SET value_min = value_min - 1 WHERE series_id = 3", 3, "min/max"),
    ("UPDATE chunks SET value_first = value_last + 1 WHERE series_id = 3", 3, "value_first"),
    ("UPDATE chunks SET value_last = value_first + 1 WHERE series_id = 3", 3, "value_last"),
    ("UPDATE chunks SET value_sum = value_sum + 0.5 WHERE series_id = 3", 3, "value_sum"),
    ("UPDATE chunks SET end_ts = end_ts + 1 WHERE series_id = 2", 2, "row spans"),
    ("UPDATE chunks SET data = substr(data, 1, length(data) - 1) WHERE series_id = 2", 2, "does not decode"),
    (_overlapping_chunk, 2, "overlaps"),
], ids=["count", "max", "min", "first", "last", "sum", "end_ts", "truncated blob", "overlap"])
def test_chunk_problems_finds_each_inconsistency(vector_db, damage, series, problem):
    db, _ = vector_db
    conn = sqlite3.connect(db)
    try:
        if callable(damage):
            damage(conn)
        else:
            conn.execute(damage)
        conn.commit()
        problems = chunk_problems(conn)
        assert problems and all(f"(series {series}," in p for p in problems), problems
        assert any(problem in p for p in problems), problems
    finally:
        conn.close()


def test_the_crash_tests_database_checks_pass_on_a_consistent_file(vector_db):
    from test_crash import _check_acknowledged_batches_stored_once, _check_stored_batches_whole_and_counted

    db, expected = vector_db
    # The acknowledged-batch check sums values with a tolerance fit for telemetry, not for 5e24 - 5e24: drop the
    # chunks of huge values, and keep every counter equal to what is left.
    conn = sqlite3.connect(db)
    conn.executescript("""
        DELETE FROM chunks WHERE max(abs(value_min), abs(value_max)) > 1e12;
        UPDATE series SET readings = (SELECT coalesce(sum(count), 0) FROM chunks WHERE series_id = series.id);
        UPDATE devices SET readings = (SELECT sum(readings) FROM series WHERE device_id = devices.id);
        UPDATE batches SET readings = (SELECT readings FROM devices WHERE id = batches.device_id);
    """)
    left = set(conn.execute("SELECT DISTINCT sensor FROM series JOIN chunks ON series_id = id"))
    conn.close()
    expected = [r for r in expected if (r[1],) in left]
    _check_stored_batches_whole_and_counted(db)
    acked = {}
    for device in ("dev-a", "dev-b"):
        rows = [r for r in expected if r[0] == device]
        acked[(device, 1)] = (len(rows), min(r[2] for r in rows), max(r[2] for r in rows),
                              math.fsum(r[3] for r in rows))
    _check_acknowledged_batches_stored_once(db, acked)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE series SET readings = readings + 1 WHERE id = 2")
    conn.commit()
    conn.close()
    with pytest.raises(AssertionError, match="series whose counter differs"):
        _check_stored_batches_whole_and_counted(db)


def test_add_decoded_readings_refuses_a_chunk_that_disagrees_with_its_row(vector_db):
    db, _ = vector_db
    conn = sqlite3.connect(db)
    conn.execute("UPDATE chunks SET count = count + 1 WHERE series_id = 2")
    conn.commit()
    try:
        with pytest.raises(AssertionError, match="series 2"):
            add_decoded_readings(conn)
    finally:
        conn.close()
