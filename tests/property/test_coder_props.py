"""Property tests for every registered entropy coder: random tables and segments round-trip, and
damaged streams raise only InrFormatError (or decode to in-table symbols) without hanging."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inrcodec.coders import CODERS, FreqTable, get_coder
from inrcodec.errors import InrFormatError

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def tables(draw) -> FreqTable:
    """Tables of 1..300 symbols (sometimes a few thousand), counts up to 2^27, any offset."""
    n = draw(st.one_of(st.integers(1, 300), st.just(1), st.integers(2, 3), st.integers(1000, 5000)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    top = draw(st.sampled_from([2, 100, 1 << 20, 1 << 27]))  # 5000 * 2^27 < 2^40
    counts = rng.integers(1, top, n, endpoint=True)
    offset = draw(st.integers(-(10**6), 10**6))
    return FreqTable(offset, counts)


@st.composite
def segment_lists(draw) -> list[tuple[np.ndarray, FreqTable]]:
    """0..5 segments, each 0..400 symbols, drawn from the table's own distribution or uniformly."""
    segments = []
    for _ in range(draw(st.integers(0, 5))):
        table = draw(tables())
        n = draw(st.one_of(st.just(0), st.integers(1, 400)))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        if draw(st.booleans()):
            p = table.counts / table.counts.sum()
            indices = rng.choice(table.n_symbols, size=n, p=p)
        else:
            indices = rng.integers(0, table.n_symbols, n)
        segments.append((indices.astype(np.int64) + table.offset, table))
    return segments


def check_damaged_decode(name: str, data: bytes, segments) -> None:
    """Decoding ``data`` either raises InrFormatError or returns in-table int64 arrays of the right sizes."""
    shapes = [(symbols.size, table) for symbols, table in segments]
    try:
        decoded = get_coder(name).decode(data, shapes)
    except InrFormatError:
        return
    assert len(decoded) == len(shapes)
    for out, (n, table) in zip(decoded, shapes):
        assert out.dtype == np.int64 and out.shape == (n,)
        if n:
            assert table.offset <= out.min() and out.max() <= table.max_symbol


@pytest.mark.parametrize("name", CODERS.names())
class TestCoderProperties:
    @SETTINGS
    @given(segments=segment_lists())
    def test_round_trip(self, name, segments):
        coder = get_coder(name)
        data = coder.encode(segments)
        assert coder.encode(segments) == data
        decoded = coder.decode(data, [(symbols.size, table) for symbols, table in segments])
        assert len(decoded) == len(segments)
        for out, (symbols, _) in zip(decoded, segments):
            assert out.dtype == np.int64
            assert np.array_equal(out, symbols)

    @SETTINGS
    @given(segments=segment_lists(), cut=st.integers(0, 10**6))
    def test_truncated(self, name, segments, cut):
        data = get_coder(name).encode(segments)
        if data:
            check_damaged_decode(name, data[: cut % len(data)], segments)

    @SETTINGS
    @given(segments=segment_lists(), where=st.integers(0, 10**6), flip=st.integers(1, 255))
    def test_flipped_byte(self, name, segments, where, flip):
        data = bytearray(get_coder(name).encode(segments))
        if data:
            data[where % len(data)] ^= flip
            check_damaged_decode(name, bytes(data), segments)

    @SETTINGS
    @given(segments=segment_lists(), garbage=st.binary(max_size=400))
    def test_random_garbage(self, name, segments, garbage):
        check_damaged_decode(name, garbage, segments)
