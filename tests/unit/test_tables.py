"""Unit tests for inrcodec/quant/tables.py: the integer Laplace table and its fitted parameter."""

from __future__ import annotations

import time

import numpy as np
import pytest

from inrcodec.coders import FreqTable, estimate_bits
from inrcodec.quant.tables import (
    HEAD,
    MAX_ABS_LIMIT,
    MAX_CODE,
    fit_laplace_code,
    laplace_magnitudes,
    laplace_table,
)


def laplacian_symbols(n: int, scale: float, seed: int = 7) -> np.ndarray:
    return np.rint(np.random.default_rng(seed).laplace(0.0, scale, n)).astype(np.int64)


class TestLaplaceTable:
    # Expected integers worked out by hand from counts[k] = max(1, (counts[k-1] * code) >> 16):
    #   code 30000: 2^20 -> 2^20*30000/2^16 = 480000 exactly -> 14_400_000_000 >> 16 = 219726
    #               -> 6_591_780_000 >> 16 = 100582
    #   code 1:     2^20 -> 2^20 >> 16 = 16 -> 16 >> 16 = 0, floored to 1
    #   code 65535: 2^20 - 16 = 1048560 -> (1048560 * 65536 - 1048560) >> 16 = 1048544
    @pytest.mark.parametrize(
        "code, max_abs, expected",
        [
            (30000, 3, [100582, 219726, 480000, 1048576, 480000, 219726, 100582]),
            (1, 3, [1, 1, 16, 1048576, 16, 1, 1]),
            (65535, 2, [1048544, 1048560, 1048576, 1048560, 1048544]),
            (12345, 0, [1048576]),
        ],
    )
    def test_hand_computed_counts(self, code, max_abs, expected):
        table = laplace_table(code, max_abs)
        assert table.offset == -max_abs
        assert table.counts.tolist() == expected

    def test_half_decay_halves_until_one(self):
        magnitudes = laplace_magnitudes(1 << 15, 24)
        assert magnitudes.tolist() == [1 << (20 - k) for k in range(21)] + [1, 1, 1, 1]

    @pytest.mark.parametrize("code", [1, 2, 100, 30000, 47000, 65534, MAX_CODE])
    @pytest.mark.parametrize("max_abs", [0, 1, 7, 300])
    def test_symmetric_positive_non_increasing(self, code, max_abs):
        table = laplace_table(code, max_abs)
        counts = table.counts
        assert counts.size == 2 * max_abs + 1
        assert np.array_equal(counts, counts[::-1])
        assert counts.min() >= 1
        assert counts[max_abs] == HEAD
        assert np.all(np.diff(counts[max_abs:]) <= 0)

    def test_largest_table_is_valid(self):
        table = laplace_table(MAX_CODE, MAX_ABS_LIMIT)
        assert table.n_symbols == 2 * MAX_ABS_LIMIT + 1
        assert int(table.counts.sum()) < 1 << 40

    @pytest.mark.parametrize(
        "code, max_abs", [(0, 3), (MAX_CODE + 1, 3), (5, -1), (5, MAX_ABS_LIMIT + 1), (2.5, 3), (5, "3")]
    )
    def test_rejects_bad_parameters(self, code, max_abs):
        with pytest.raises(ValueError):
            laplace_table(code, max_abs)


class TestFitLaplaceCode:
    def test_all_zero_symbols(self):
        code = fit_laplace_code(np.zeros(1000, dtype=np.int64))
        assert 1 <= code <= MAX_CODE
        assert estimate_bits(np.zeros(1000, dtype=np.int64), laplace_table(code, 0)) == 0.0

    def test_empty_symbols(self):
        assert 1 <= fit_laplace_code(np.array([], dtype=np.int64)) <= MAX_CODE

    @pytest.mark.parametrize("scale", [0.3, 1.0, 3.0, 20.0])
    def test_no_nearby_or_grid_code_is_cheaper(self, scale):
        # The floors in the recurrence make the cost slightly bumpy in the code; a hill climb may
        # miss a neighbour by ~1e-6 of the total, which the tolerance allows.
        symbols = laplacian_symbols(20000, scale)
        max_abs = int(np.abs(symbols).max())
        best = fit_laplace_code(symbols)
        best_bits = estimate_bits(symbols, laplace_table(best, max_abs))
        candidates = list(range(max(1, best - 20), min(MAX_CODE, best + 20) + 1))
        candidates += list(range(1, MAX_CODE + 1, 1021))
        for code in candidates:
            assert estimate_bits(symbols, laplace_table(code, max_abs)) >= best_bits * (1 - 1e-5)

    def test_wider_max_abs(self):
        symbols = laplacian_symbols(5000, 2.0)
        code = fit_laplace_code(symbols, max_abs=200)
        assert estimate_bits(symbols, laplace_table(code, 200)) < 5000 * 4

    def test_rejects_symbols_beyond_max_abs(self):
        with pytest.raises(ValueError):
            fit_laplace_code(np.array([0, 9]), max_abs=8)

    def test_rejects_float_symbols(self):
        with pytest.raises(ValueError):
            fit_laplace_code(np.array([0.5, 1.0]))

    def test_million_symbols_fit_fast(self):
        symbols = laplacian_symbols(1_000_000, 3.0)
        start = time.perf_counter()
        fit_laplace_code(symbols)
        assert time.perf_counter() - start < 0.5


def test_laplace_table_is_a_freq_table_with_a_cost():
    symbols = laplacian_symbols(1000, 2.0)
    table = laplace_table(40000, int(np.abs(symbols).max()))
    assert isinstance(table, FreqTable)
    assert estimate_bits(symbols, table) > 0
