"""A fixed-width bit packer: no modelling at all, for debugging and as a baseline for the real coders.

Each symbol costs ceil(log2(table size)) bits whatever the counts say; the layout is in
spec/entropy-coding.md §4.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import InrFormatError, InrTruncatedError
from .base import CODERS, Coder, FreqTable, check_decode_segments, symbol_indices


def field_width(table: FreqTable) -> int:
    """Bits per symbol for ``table``: ceil(log2(n_symbols)), 0 for a one-symbol table."""
    return (table.n_symbols - 1).bit_length()


@CODERS.register("raw", wire_id=0)
class RawCoder(Coder):
    """Packs each ``symbol - offset`` in a fixed number of bits, MSB first, across all segments."""

    def encode(self, segments: Sequence[tuple[np.ndarray, FreqTable]]) -> bytes:
        """Pack every ``(symbols, table)`` segment, in order, into one zero-padded bit string."""
        planes = []
        for symbols, table in segments:
            indices = symbol_indices(symbols, table)
            width = field_width(table)
            bits = np.empty((indices.size, width), dtype=np.uint8)
            for column in range(width):
                bits[:, column] = (indices >> (width - 1 - column)) & 1
            planes.append(bits.reshape(-1))
        if not planes:
            return b""
        return np.packbits(np.concatenate(planes)).tobytes()

    def decode(self, data: bytes, segments: Sequence[tuple[int, FreqTable]]) -> list[np.ndarray]:
        """Unpack ``(count, table)`` segments; InrFormatError on wrong length, padding or values."""
        checked = check_decode_segments(segments)
        n_bits = sum(n * field_width(table) for n, table in checked)
        # Compare lengths before allocating anything sized by the caller's counts.
        expected_bytes = (n_bits + 7) // 8
        if len(data) < expected_bytes:
            raise InrTruncatedError(f"raw stream has {len(data)} bytes, needs {expected_bytes}")
        if len(data) > expected_bytes:
            raise InrFormatError(f"raw stream has {len(data)} bytes, expected {expected_bytes}")
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))
        if bits[n_bits:].any():
            raise InrFormatError("raw stream padding bits are not zero")
        decoded = []
        pos = 0
        for n, table in checked:
            width = field_width(table)
            fields = bits[pos : pos + n * width].reshape(n, width)
            pos += n * width
            values = np.zeros(n, dtype=np.int64)
            for column in range(width):
                values = (values << 1) | fields[:, column]
            if n and values.max() >= table.n_symbols:
                raise InrFormatError(
                    f"raw value {int(values.max())} outside a table of {table.n_symbols} symbols"
                )
            decoded.append(values + table.offset)
        return decoded
