"""Asymmetric numeral systems with constriction's stack coder; the reversal ANS needs stays here.

ANS is last-in-first-out: the encoder pushes segments (and symbols) in reverse so that the
decoder pops them in stream order. The byte format is in spec/entropy-coding.md §2.
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

# The encoder starts from state 2^24 rather than constriction's empty state 0. From state 0,
# or any state below 2^24, a stream cut short decodes to a plausible message (with empty
# input, decoding only lowers such a state until it rests in [0, p0), where index-0 symbols
# are free); 2^24 is above every p0, so such a stream cannot end there (spec §2.4).
# Costs 24 bits per stream.
SENTINEL_STATE = 1 << 24
SENTINEL_WORDS = np.array([SENTINEL_STATE], dtype=np.uint32)


@register_coder("ans", wire_id=2)
class AnsCoder(Coder):
    """constriction 0.5.0 AnsCoder, 32-bit words, 24-bit probabilities; decodes in stream order."""

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

    def decode(self, data: bytes, segments: Sequence[tuple[int, FreqTable]]) -> list[np.ndarray]:
        """Decode ``(count, table)`` segments from one ANS stream; InrFormatError if damaged."""
        checked = check_decode_segments(segments)
        words = words_from_bytes(data, self.name)
        if not any(n and table.n_symbols > 1 for n, table in checked):
            if words.size:
                raise InrFormatError(f"ANS stream has {len(data)} bytes but codes no symbols")
            return [np.full(n, table.offset, dtype=np.int64) for n, table in checked]
        decoded = []
        with LibraryErrorsAsFormatErrors("damaged ANS stream"):
            # Rejects a stream ending in a zero word, which no encoder writes.
            coder = constriction.stream.stack.AnsCoder(words)
            for n, table in checked:
                if table.n_symbols == 1 or n == 0:
                    decoded.append(np.full(n, table.offset, dtype=np.int64))
                    continue
                indices = coder.decode(categorical_model(table), n)
                decoded.append(indices.astype(np.int64) + table.offset)
            # Decoding a stream the encoder wrote returns the coder to the sentinel it started from.
            is_at_sentinel = np.array_equal(coder.get_compressed(), SENTINEL_WORDS)
        if not is_at_sentinel:
            raise InrFormatError("ANS stream does not end at its start state")
        # Decoding inverts encoding exactly, so a stream is valid iff it is the encoding of what
        # it decodes to; this catches damage the coder's own end check misses (spec §2.5).
        if self.encode([(symbols, table) for symbols, (_, table) in zip(decoded, checked)]) != data:
            raise InrFormatError("ANS stream is not the encoding of the symbols it decodes to")
        return decoded
