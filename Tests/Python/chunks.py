"""An independent decoder of the chunk blob (`chunks.data`, schema version 4), written from the layout described at
the top of Sources/Store/ChunkCodec.swift, so the Python suite reads stored readings without the collector's code.

Layout (integers are LEB128 varints, at most 10 bytes; signed ones zigzag-encoded; all arithmetic on them is
64-bit two's complement, so a difference that overflows in the writer wraps back here):

    version 1 (one byte) · count n
    timestamps (when n > 0): first (signed), then when n > 1 a mode byte:
        0 regular: one gap (unsigned, read as a 64-bit pattern); reading i is at first + i * gap
        1 irregular: the first gap (signed), then n - 2 changes of the gap (signed)
    values (when n > 0): a mode byte:
        0 decimal: exponent e in -15..6 (signed), then n mantissa deltas (signed, the first from 0);
          value = mantissa x 10^e as the nearest double, computed exactly as DecimalGrid.value does (see grid_value)
        1 XOR: the first value's 8 bytes (big-endian IEEE 754 bits), then per value a control byte: 0x88 when the
          bits equal the previous ones, otherwise high nibble = leading zero bytes and low nibble = trailing zero
          bytes of (bits XOR previous bits) (their sum below 8), followed by the bytes between them
    nothing after the values.

Every malformed blob (wrong version, truncated, overlong varint, exponent out of range, unknown mode, bad control
byte, count larger than the blob, bytes left over) raises ValueError saying what and where.
"""

from __future__ import annotations

import struct

VERSION = 1
EXPONENTS = range(-15, 7)  # the decimal grids a chunk may use: 10^-15 ... 10^6

_MASK64 = (1 << 64) - 1
# 10^k for the fast path, k <= 22: each is an exact double (int -> float conversion is correctly rounded).
_POWERS_OF_TEN = [float(10**k) for k in range(23)]


def _wrap(value: int) -> int:
    """`value` reduced to a signed 64-bit integer, as Swift's wrapping `&+` / `&-` leave it."""
    value &= _MASK64
    return value - (1 << 64) if value >> 63 else value


def grid_value(mantissa: int, exponent: int) -> float:
    """mantissa x 10^exponent as the nearest double, by DecimalGrid.value's two paths, so the bits match Swift's.

    When |mantissa| <= 2^53 and |exponent| <= 22 both operands are exact doubles and one IEEE multiplication or
    division rounds correctly; otherwise the decimal text is parsed, which Python (like strtod) rounds correctly.
    The two paths give the same double wherever both apply; keeping both keeps the reasoning identical."""
    if abs(mantissa) <= 1 << 53 and -22 <= exponent <= 22:
        if exponent == 0:
            return float(mantissa)
        if exponent < 0:
            return float(mantissa) / _POWERS_OF_TEN[-exponent]
        return float(mantissa) * _POWERS_OF_TEN[exponent]
    return float(f"{mantissa}e{exponent}")


class _Reader:
    """Reads a blob front to back; every read checks the end."""

    def __init__(self, blob: bytes):
        self.blob = bytes(blob)
        self.offset = 0

    def byte(self) -> int:
        if self.offset >= len(self.blob):
            raise ValueError(f"chunk ends at byte {self.offset}")
        self.offset += 1
        return self.blob[self.offset - 1]

    def unsigned(self) -> int:
        start = self.offset
        value = 0
        for shift in range(0, 70, 7):
            b = self.byte()
            if shift == 63 and b > 1:
                raise ValueError(f"varint at byte {start} does not fit 64 bits")
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
        raise ValueError(f"varint at byte {start} longer than 10 bytes")

    def signed(self) -> int:
        raw = self.unsigned()
        return (raw >> 1) ^ -(raw & 1)  # zigzag: 0, -1, 1, -2, ... ; always within the signed 64-bit range

    def bits(self, count: int) -> bytes:
        if self.offset + count > len(self.blob):
            raise ValueError(f"chunk ends at byte {len(self.blob)}, inside {count} bytes from byte {self.offset}")
        self.offset += count
        return self.blob[self.offset - count:self.offset]


def decode(blob: bytes) -> tuple[list[int], list[float]]:
    """(timestamps, values) of a chunk blob; ValueError when the blob is damaged."""
    reader = _Reader(blob)
    version = reader.byte()
    if version != VERSION:
        raise ValueError(f"unknown chunk version {version}")
    count = reader.unsigned()
    # Every reading takes at least one byte, so a count beyond the blob's length is damage (and is refused before
    # anything is built for it).
    if count > len(reader.blob):
        raise ValueError(f"chunk count {count} larger than the blob ({len(reader.blob)} bytes)")
    timestamps = _decode_timestamps(reader, count) if count else []
    values = _decode_values(reader, count) if count else []
    if reader.offset != len(reader.blob):
        raise ValueError(f"{len(reader.blob) - reader.offset} bytes after the chunk's values "
                         f"(from byte {reader.offset})")
    return timestamps, values


def _decode_timestamps(reader: _Reader, count: int) -> list[int]:
    timestamps = [reader.signed()]
    if count == 1:
        return timestamps
    mode_at = reader.offset
    mode = reader.byte()
    if mode == 0:
        gap = _wrap(reader.unsigned())
        gaps = [gap] * (count - 1)
    elif mode == 1:
        gap = reader.signed()
        gaps = [gap]
        for _ in range(count - 2):
            gap = _wrap(gap + reader.signed())
            gaps.append(gap)
    else:
        raise ValueError(f"unknown time mode {mode} at byte {mode_at}")
    for gap in gaps:
        timestamps.append(_wrap(timestamps[-1] + gap))
    return timestamps


def _decode_values(reader: _Reader, count: int) -> list[float]:
    mode_at = reader.offset
    mode = reader.byte()
    if mode == 0:
        exponent = reader.signed()
        if exponent not in EXPONENTS:
            raise ValueError(f"chunk exponent {exponent} out of range (byte {mode_at + 1})")
        values = []
        mantissa = 0
        for _ in range(count):
            mantissa = _wrap(mantissa + reader.signed())
            values.append(grid_value(mantissa, exponent))
        return values
    if mode == 1:
        (bits,) = struct.unpack(">Q", reader.bits(8))
        words = [bits]
        for _ in range(count - 1):
            control_at = reader.offset
            control = reader.byte()
            if control != 0x88:
                leading, trailing = control >> 4, control & 0x0F
                if leading + trailing >= 8:
                    raise ValueError(f"bad XOR control byte 0x{control:02x} at byte {control_at}")
                middle = reader.bits(8 - leading - trailing)
                bits ^= int.from_bytes(middle, "big") << (8 * trailing)
            words.append(bits)
        return list(struct.unpack(f">{len(words)}d", struct.pack(f">{len(words)}Q", *words)))
    raise ValueError(f"unknown value mode {mode} at byte {mode_at}")


def value_bits(value: float) -> int:
    """The IEEE 754 bit pattern of a double, for bit-exact comparisons (0.0 and -0.0 differ; NaNs compare)."""
    return struct.unpack(">Q", struct.pack(">d", value))[0]
