"""Range coding with constriction's queue coder: segments are coded and decoded in the same order.

Range coding is first-in-first-out, so a stream can be decoded as it is read; the byte format
is in spec/entropy-coding.md §2.
"""

from __future__ import annotations

from typing import Sequence

import constriction
import numpy as np

from .base import (
    CODERS,
    FreqTable,
    StreamCoder,
    bytes_from_words,
    categorical_model,
    symbol_indices,
)


@CODERS.register("range", wire_id=1)
class RangeCoder(StreamCoder):
    """constriction 0.5.0 RangeEncoder/RangeDecoder, 32-bit words, 24-bit probabilities."""

    label = "range"
    end_problem = "has data left after its last symbol"

    def encode(self, segments: Sequence[tuple[np.ndarray, FreqTable]]) -> bytes:
        """Code every ``(symbols, table)`` segment, in order, into one range-coded stream."""
        coded = [(symbol_indices(symbols, table), table) for symbols, table in segments]
        encoder = constriction.stream.queue.RangeEncoder()
        for indices, table in coded:
            # A one-symbol table costs nothing and constriction cannot model it.
            if table.n_symbols > 1 and indices.size:
                encoder.encode(indices, categorical_model(table))
        return bytes_from_words(encoder.get_compressed())

    def _open_decoder(self, words: np.ndarray):
        """constriction's RangeDecoder over ``words``."""
        return constriction.stream.queue.RangeDecoder(words)

    def _ends_cleanly(self, decoder) -> bool:
        """A stream the encoder wrote is used up exactly; anything else is damage."""
        return decoder.maybe_exhausted()
