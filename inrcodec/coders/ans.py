"""Asymmetric numeral systems with constriction's stack coder; the reversal ANS needs stays here.

ANS is last-in-first-out: the encoder pushes segments (and symbols) in reverse so that the
decoder pops them in stream order. The byte format is in spec/entropy-coding.md §2.
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

# The encoder starts from state 2^24 rather than constriction's empty state 0. From state 0,
# or any state below 2^24, a stream cut short decodes to a plausible message (with empty
# input, decoding only lowers such a state until it rests in [0, p0), where index-0 symbols
# are free); 2^24 is above every p0, so such a stream cannot end there (spec §2.4).
# Costs 24 bits per stream.
SENTINEL_STATE = 1 << 24
SENTINEL_WORDS = np.array([SENTINEL_STATE], dtype=np.uint32)


@CODERS.register("ans", wire_id=2)
class AnsCoder(StreamCoder):
    """constriction 0.5.0 AnsCoder, 32-bit words, 24-bit probabilities; decodes in stream order."""

    label = "ANS"
    end_problem = "does not end at its start state"

    def encode(self, segments: Sequence[tuple[np.ndarray, FreqTable]]) -> bytes:
        """Code every ``(symbols, table)`` segment into one ANS stream that decodes in the given order."""
        coded = [(symbol_indices(symbols, table), table) for symbols, table in segments]
        work = [(indices, table) for indices, table in coded if table.n_symbols > 1 and indices.size]
        if not work:
            return b""  # one-symbol tables and empty segments cost nothing (and need no sentinel)
        coder = constriction.stream.stack.AnsCoder(SENTINEL_WORDS)
        for indices, table in reversed(work):
            coder.encode_reverse(indices, categorical_model(table))
        return bytes_from_words(coder.get_compressed())

    def _open_decoder(self, words: np.ndarray):
        """constriction's AnsCoder over ``words`` (it rejects a stream ending in a zero word)."""
        return constriction.stream.stack.AnsCoder(words)

    def _ends_cleanly(self, decoder) -> bool:
        """Decoding a stream the encoder wrote returns the coder to the sentinel it started from."""
        return np.array_equal(decoder.get_compressed(), SENTINEL_WORDS)
