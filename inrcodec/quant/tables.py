"""Integer frequency tables built from integer parameters: the decoder's only view of an entropy model.

Every number a decoder rebuilds here comes from integer arithmetic (spec/entropy-coding.md §5),
so encoder and decoder hold bit-identical tables on every platform. Floating point appears only
on the encoder side, to choose the parameter that the file then stores.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ..coders.base import FreqTable, fixed_point_pmf

HEAD = 1 << 20  # count of symbol 0 in a Laplace table
CODE_BITS = 16  # decay r = code / 2^16
MIN_CODE, MAX_CODE = 1, (1 << CODE_BITS) - 1
MAX_ABS_LIMIT = 1 << 15  # largest max_abs: a table of 2^16 + 1 symbols
_SEARCH_STEPS = (4096, 1024, 256, 64, 16, 4, 1)  # hill-climbing strides for fit_laplace_code
_FINAL_WINDOW = 8  # then every code this close: the floors make the cost slightly bumpy


def _checked_int(value: object, name: str, low: int, high: int) -> int:
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if not low <= number <= high:
        raise ValueError(f"{name} {number} outside {low}..{high}")
    return number


def laplace_magnitudes(code: int, max_abs: int) -> np.ndarray:
    """Counts for |k| = 0..max_abs: 2^20, then max(1, (previous * code) >> 16)."""
    code = _checked_int(code, "code", MIN_CODE, MAX_CODE)
    max_abs = _checked_int(max_abs, "max_abs", 0, MAX_ABS_LIMIT)
    # Plain Python ints: this loop runs up to 2^15 times per table, once per candidate in a fit.
    head = []
    count = HEAD
    while count > 1 and len(head) <= max_abs:
        head.append(count)
        count = max(1, (count * code) >> CODE_BITS)
    magnitudes = np.ones(max_abs + 1, dtype=np.int64)  # once 1, the recurrence stays 1
    magnitudes[: len(head)] = head
    return magnitudes


def laplace_table(code: int, max_abs: int) -> FreqTable:
    """The two-sided geometric table over k = -max_abs..max_abs with decay code / 2^16."""
    magnitudes = laplace_magnitudes(code, max_abs)
    return FreqTable(offset=-int(max_abs), counts=np.concatenate((magnitudes[:0:-1], magnitudes)))


def fit_laplace_code(symbols: np.ndarray, max_abs: int | None = None) -> int:
    """The code whose Laplace table over ±max_abs (default max |symbol|) codes ``symbols`` cheapest."""
    values = np.asarray(symbols)
    if values.dtype.kind not in "iu":
        raise ValueError(f"symbols must be integers, got dtype {values.dtype}")
    values = values.reshape(-1).astype(np.int64, copy=False)
    largest = int(np.abs(values).max()) if values.size else 0
    if max_abs is None:
        max_abs = largest
    max_abs = _checked_int(max_abs, "max_abs", 0, MAX_ABS_LIMIT)
    if largest > max_abs:
        raise ValueError(f"symbols reach |k| = {largest}, beyond max_abs {max_abs}")
    mean_abs = float(np.abs(values).mean()) if values.size else 0.0
    # Maximum-likelihood decay of an untruncated two-sided geometric: E|k| = 2r / (1 - r^2).
    decay = (math.sqrt(1.0 + mean_abs * mean_abs) - 1.0) / mean_abs if mean_abs > 0 else 0.0
    start = min(MAX_CODE, max(MIN_CODE, round(decay * (1 << CODE_BITS))))
    if max_abs == 0:
        return start  # a one-symbol table costs nothing whatever the code
    hist = np.bincount(values + max_abs, minlength=2 * max_abs + 1)
    used = np.flatnonzero(hist)
    weights = hist[used]

    def cost(code: int) -> float:
        pmf = fixed_point_pmf(laplace_table(code, max_abs))
        return float(np.dot(weights, -np.log2(pmf[used])))

    # The table's floors and truncation move the optimum slightly off the ML estimate, so
    # refine it: hill-climb on the exact coded cost with shrinking strides.
    best, best_cost = start, cost(start)
    for step in _SEARCH_STEPS:
        improved = True
        while improved:
            improved = False
            for candidate in (best - step, best + step):
                if MIN_CODE <= candidate <= MAX_CODE:
                    candidate_cost = cost(candidate)
                    if candidate_cost < best_cost:
                        best, best_cost = candidate, candidate_cost
                        improved = True
    window = range(max(MIN_CODE, best - _FINAL_WINDOW), min(MAX_CODE, best + _FINAL_WINDOW) + 1)
    return min(window, key=lambda code: (cost(code), code))
