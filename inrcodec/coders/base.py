"""The contract every entropy coder meets, the integer frequency table it codes with, and the registry.

A coder turns integer symbols plus an integer ``FreqTable`` into bytes and back. Several
segments (e.g. all weight tensors of one network, each with its own table) share one stream
so a model pays stream padding once. Coders are chosen by name on the command line and by
permanent wire id in a file (``CODERS``). Byte formats live in spec/entropy-coding.md.
"""

from __future__ import annotations

import operator
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence

import constriction
import numpy as np

from ..errors import InrFormatError
from ..registry import Registry

MAX_TABLE_SIZE = (1 << 16) + 1  # most symbols in one table: a Laplace table with max_abs 2^15
MAX_TABLE_TOTAL = 1 << 40  # largest sum of counts; keeps float64 sums of counts exact (< 2^53)
MAX_OFFSET = 1 << 62  # |offset| bound, so offset + table size never overflows int64
PRECISION_BITS = 24  # constriction 0.5.0's fixed-point precision for its default coders


@dataclass(frozen=True, eq=False)
class FreqTable:
    """Integer counts for the symbols ``offset .. offset + len(counts) - 1``; the decoder's model."""

    offset: int
    counts: np.ndarray

    def __post_init__(self) -> None:
        try:
            offset = operator.index(self.offset)
        except TypeError:
            raise ValueError(f"table offset must be an integer, got {self.offset!r}") from None
        if not -MAX_OFFSET <= offset <= MAX_OFFSET:
            raise ValueError(f"table offset {offset} outside ±2^62")
        counts = np.asarray(self.counts)
        if counts.ndim != 1:
            raise ValueError(f"table counts must be 1-D, got shape {counts.shape}")
        if counts.dtype.kind not in "iu":
            raise ValueError(f"table counts must be integers, got dtype {counts.dtype}")
        if not 1 <= counts.size <= MAX_TABLE_SIZE:
            raise ValueError(f"table size {counts.size} outside 1..{MAX_TABLE_SIZE}")
        if counts.min() < 1:
            raise ValueError("every table count must be >= 1")
        if counts.max() > MAX_TABLE_TOTAL or int(counts.sum(dtype=np.int64)) > MAX_TABLE_TOTAL:
            raise ValueError("table counts sum to more than 2^40")
        frozen = counts.astype(np.int64, copy=True)
        frozen.setflags(write=False)
        object.__setattr__(self, "offset", int(offset))
        object.__setattr__(self, "counts", frozen)

    @property
    def n_symbols(self) -> int:
        """How many symbols the table covers."""
        return int(self.counts.size)

    @property
    def max_symbol(self) -> int:
        """The largest symbol the table covers."""
        return self.offset + self.n_symbols - 1

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FreqTable):
            return NotImplemented
        return self.offset == other.offset and np.array_equal(self.counts, other.counts)

    __hash__ = None  # type: ignore[assignment]  # equal by value, holds an array: not hashable


def fixed_point_pmf(table: FreqTable) -> np.ndarray:
    """The integer probabilities (summing to 2^24) that the range and ANS coders use for ``table``."""
    n = table.n_symbols
    if n == 1:
        return np.array([1 << PRECISION_BITS], dtype=np.int64)
    # Mirrors constriction 0.5.0 `from_floating_point_probabilities_fast` (spec/entropy-coding.md
    # §3.2): every float64 step is exact or a single IEEE-rounded ×/÷, then truncation.
    scale = np.float64((1 << PRECISION_BITS) - n) / np.float64(int(table.counts.sum()))
    cumulative = np.concatenate(([0], np.cumsum(table.counts)[:-1])).astype(np.float64)
    left = np.trunc(cumulative * scale).astype(np.int64) + np.arange(n, dtype=np.int64)
    return np.diff(np.append(left, 1 << PRECISION_BITS))


def categorical_model(table: FreqTable):
    """The constriction model for a table of >= 2 symbols, built only from its integer counts."""
    # perfect=False: built with IEEE +, x, / and truncation only, so equal counts give equal tables on every platform
    return constriction.stream.model.Categorical(table.counts.astype(np.float64), perfect=False)


def symbol_indices(symbols: np.ndarray, table: FreqTable) -> np.ndarray:
    """``symbols - table.offset`` as int32 indices; ValueError if any symbol lies outside the table."""
    values = np.asarray(symbols)
    if values.dtype.kind not in "iu":
        raise ValueError(f"symbols must be integers, got dtype {values.dtype}")
    values = values.reshape(-1).astype(np.int64, copy=False)
    if values.size and (values.min() < table.offset or values.max() > table.max_symbol):
        raise ValueError(
            f"symbols span {values.min()}..{values.max()}, table covers "
            f"{table.offset}..{table.max_symbol}"
        )
    return (values - table.offset).astype(np.int32)


def estimate_bits(symbols: np.ndarray, table: FreqTable) -> float:
    """Ideal code length −Σ log2 p in bits under the exact probabilities the range and ANS coders use."""
    indices = symbol_indices(symbols, table)
    if table.n_symbols == 1 or indices.size == 0:
        return 0.0
    hist = np.bincount(indices, minlength=table.n_symbols)
    used = hist > 0
    pmf = fixed_point_pmf(table)
    return float(np.dot(hist[used], PRECISION_BITS - np.log2(pmf[used])))


def words_from_bytes(data: bytes, coder_name: str) -> np.ndarray:
    """Little-endian 4-byte words as native uint32; InrFormatError if the length is not a multiple of 4."""
    if len(data) % 4:
        raise InrFormatError(f"{coder_name} stream of {len(data)} bytes is not whole 32-bit words")
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)


def bytes_from_words(words: np.ndarray) -> bytes:
    """uint32 words as little-endian bytes (spec/entropy-coding.md §2.1)."""
    return np.asarray(words, dtype=np.uint32).astype("<u4").tobytes()


class LibraryErrorsAsFormatErrors:
    """Context manager: anything a coding library raises on bad data becomes InrFormatError."""

    # pyo3 reports Rust panics as PanicException, a BaseException; only interpreter exits pass.
    _PASS_THROUGH = (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None or isinstance(exc, self._PASS_THROUGH) or isinstance(exc, InrFormatError):
            return False
        raise InrFormatError(f"{self.what}: {type(exc).__name__}: {exc}") from exc


class Coder(ABC):
    """An entropy coder: integer symbol segments with their tables <-> one byte stream."""

    name: str = ""
    wire_id: int = -1

    @abstractmethod
    def encode(self, segments: Sequence[tuple[np.ndarray, FreqTable]]) -> bytes:
        """Code every ``(symbols, table)`` segment, in order, into one stream."""

    @abstractmethod
    def decode(self, data: bytes, segments: Sequence[tuple[int, FreqTable]]) -> list[np.ndarray]:
        """Decode ``(count, table)`` segments from ``data``: one int64 array per segment."""


CODERS: Registry[type[Coder]] = Registry("entropy coder")


def get_coder(name_or_id: str | int) -> Coder:
    """A coder instance by registry name or by permanent wire id."""
    if isinstance(name_or_id, str):
        return CODERS.get(name_or_id)()
    return CODERS.by_id(operator.index(name_or_id))()


def check_decode_segments(segments: Sequence[tuple[int, FreqTable]]) -> list[tuple[int, FreqTable]]:
    """Validate ``(count, table)`` pairs given to a decoder (caller misuse raises ValueError)."""
    checked = []
    for count, table in segments:
        n = operator.index(count)
        if n < 0:
            raise ValueError(f"segment symbol count {n} is negative")
        if not isinstance(table, FreqTable):
            raise ValueError(f"segment table must be a FreqTable, got {type(table).__name__}")
        checked.append((n, table))
    return checked


class StreamCoder(Coder):
    """A constriction stream coder: the decode loop and the checks every stream gets, shared.

    Subclasses open their library decoder over the words and say whether it ended where a
    stream the encoder wrote ends (range: exhausted; ANS: back at its start state).
    """

    label: str = ""  # how messages name the stream ("range", "ANS")
    end_problem: str = ""  # what a stream that does not end cleanly is told

    @abstractmethod
    def _open_decoder(self, words: np.ndarray):
        """The library decoder positioned at the start of ``words``."""

    @abstractmethod
    def _ends_cleanly(self, decoder) -> bool:
        """Whether ``decoder`` stopped exactly where an encoder-written stream ends."""

    def decode(self, data: bytes, segments: Sequence[tuple[int, FreqTable]]) -> list[np.ndarray]:
        """Decode ``(count, table)`` segments from one stream; InrFormatError if damaged."""
        checked = check_decode_segments(segments)
        words = words_from_bytes(data, self.name)
        if not any(n and table.n_symbols > 1 for n, table in checked):
            if words.size:
                raise InrFormatError(f"{self.label} stream has {len(data)} bytes but codes no symbols")
            return [np.full(n, table.offset, dtype=np.int64) for n, table in checked]
        decoded = []
        with LibraryErrorsAsFormatErrors(f"damaged {self.label} stream"):
            decoder = self._open_decoder(words)
            for n, table in checked:
                # a one-symbol table costs nothing and constriction cannot model it
                if table.n_symbols == 1 or n == 0:
                    decoded.append(np.full(n, table.offset, dtype=np.int64))
                    continue
                indices = decoder.decode(categorical_model(table), n)
                decoded.append(indices.astype(np.int64) + table.offset)
            ends_cleanly = self._ends_cleanly(decoder)
        if not ends_cleanly:
            raise InrFormatError(f"{self.label} stream {self.end_problem}")
        # Decoding inverts encoding exactly, so a stream is valid iff it is the encoding of what
        # it decodes to; this catches damage the coder's own end check misses (spec §2.5).
        if self.encode([(symbols, table) for symbols, (_, table) in zip(decoded, checked)]) != data:
            raise InrFormatError(f"{self.label} stream is not the encoding of the symbols it decodes to")
        return decoded

