"""Range coding with constriction's queue coder: segments are coded and decoded in the same order.

Range coding is first-in-first-out, so a stream can be decoded as it is read; the byte format
is in spec/entropy-coding.md §2.
"""

from __future__ import annotations

from typing import Sequence

import constriction
import numpy as np

from ..errors import InrFormatError
from .base import (
    Coder,
    FreqTable,
    LibraryErrorsAsFormatErrors,
    bytes_from_words,
    categorical_model,
    check_decode_segments,
    register_coder,
    symbol_indices,
    words_from_bytes,
)


@register_coder("range", wire_id=1)
class RangeCoder(Coder):
    """constriction 0.5.0 RangeEncoder/RangeDecoder, 32-bit words, 24-bit probabilities."""

    def encode(self, segments: Sequence[tuple[np.ndarray, FreqTable]]) -> bytes:
        """Code every ``(symbols, table)`` segment, in order, into one range-coded stream."""
        coded = [(symbol_indices(symbols, table), table) for symbols, table in segments]
        encoder = constriction.stream.queue.RangeEncoder()
        for indices, table in coded:
            # A one-symbol table costs nothing and constriction cannot model it.
            if table.n_symbols > 1 and indices.size:
                encoder.encode(indices, categorical_model(table))
        return bytes_from_words(encoder.get_compressed())

    def decode(self, data: bytes, segments: Sequence[tuple[int, FreqTable]]) -> list[np.ndarray]:
        """Decode ``(count, table)`` segments from one range-coded stream; InrFormatError if damaged."""
        checked = check_decode_segments(segments)
        words = words_from_bytes(data, self.name)
        if not any(n and table.n_symbols > 1 for n, table in checked):
            if words.size:
                raise InrFormatError(f"range stream has {len(data)} bytes but codes no symbols")
            return [np.full(n, table.offset, dtype=np.int64) for n, table in checked]
        decoded = []
        with LibraryErrorsAsFormatErrors("damaged range stream"):
            decoder = constriction.stream.queue.RangeDecoder(words)
            for n, table in checked:
                if table.n_symbols == 1 or n == 0:
                    decoded.append(np.full(n, table.offset, dtype=np.int64))
                    continue
                indices = decoder.decode(categorical_model(table), n)
                decoded.append(indices.astype(np.int64) + table.offset)
            # A stream the encoder wrote is used up exactly; anything else is damage.
            is_exhausted = decoder.maybe_exhausted()
        if not is_exhausted:
            raise InrFormatError("range stream has data left after its last symbol")
        # Decoding inverts encoding exactly, so a stream is valid iff it is the encoding of what
        # it decodes to; this catches damage the coder's own end check misses (spec §2.5).
        if self.encode([(symbols, table) for symbols, (_, table) in zip(decoded, checked)]) != data:
            raise InrFormatError("range stream is not the encoding of the symbols it decodes to")
        return decoded
