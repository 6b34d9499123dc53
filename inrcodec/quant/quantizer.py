"""Training-time quantization of weight tensors: step sizes on an exact grid, noise and rounding.

Steps are stored as a small signed integer code (see spec/models.md, "Step code") whose value is
exactly representable in binary32, so ``q * step`` is exact and identical on every platform.
During training a continuous log-step is learned; ``snap_step_code`` puts it on the grid before
the straight-through phase, so what the network trains on last is exactly what the decoder gets.
"""

from __future__ import annotations

import math

import torch

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


def quantize_noise(x: torch.Tensor) -> torch.Tensor:
    """Additive uniform noise in [-0.5, 0.5): the differentiable stand-in for rounding."""
    return x + (torch.rand_like(x) - 0.5)


def quantize_ste(x: torch.Tensor) -> torch.Tensor:
    """Rounding in the forward pass, identity gradient in the backward pass."""
    return x + (torch.round(x) - x).detach()


def soft_round(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """A differentiable rounding (Agustsson & Theis 2020, as C3 uses it): x at alpha -> 0, round(x)
    as alpha grows; ``floor(x) + 1/2 + tanh(alpha (r - 1/2)) / (2 tanh(alpha / 2))``, r = x - floor(x)."""
    base = torch.floor(x) + 0.5
    return base + torch.tanh(alpha * (x - base)) / (2 * math.tanh(alpha / 2))


def quantize_soft_noise(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """C3's training quantizer: soft-round, add uniform noise, soft-round again (both at ``alpha``)."""
    return soft_round(soft_round(x, alpha) + (torch.rand_like(x) - 0.5), alpha)
