"""Step codes: the exact quantization steps a model body stores (spec/models.md, "Step code").

The decoder needs only this part of the quantizer, so it lives apart from the training-time
rounding in ``quantizer.py`` (which needs torch).
"""

from __future__ import annotations

import math

STEPS_PER_OCTAVE = 16
#: allowed step codes: step = (16 + s mod 16) * 2**(s // 16 - 4), from 2**-20 up to 2**4
MIN_STEP_CODE = -320
MAX_STEP_CODE = 64


def step_from_code(code: int) -> float:
    """The exact quantization step a step code stands for (spec/models.md, "Step code")."""
    if not MIN_STEP_CODE <= code <= MAX_STEP_CODE:
        raise ValueError(f"step code {code} outside [{MIN_STEP_CODE}, {MAX_STEP_CODE}]")
    octave, frac = divmod(code, STEPS_PER_OCTAVE)
    return math.ldexp(16 + frac, octave - 4)


def code_from_log2_step(log2_step: float) -> int:
    """The step code nearest (in log scale) to ``2**log2_step``, clamped to the allowed range."""
    # step(code) ~= 2**(code/16): (16+f)/16 * 2**(o) with f = code mod 16 is within 1/16 octave
    best = round(log2_step * STEPS_PER_OCTAVE)
    candidates = [c for c in (best - 1, best, best + 1) if MIN_STEP_CODE <= c <= MAX_STEP_CODE]
    if not candidates:
        return MIN_STEP_CODE if best < MIN_STEP_CODE else MAX_STEP_CODE
    return min(candidates, key=lambda c: abs(math.log2(step_from_code(c)) - log2_step))
