"""Training-time quantization of weight tensors: step sizes on an exact grid, noise and rounding.

Steps are stored as a small signed integer code (see spec/models.md, "Step code") whose value is
exactly representable in binary32, so ``q * step`` is exact and identical on every platform.
During training a continuous log-step is learned; ``snap_step_code`` puts it on the grid before
the straight-through phase, so what the network trains on last is exactly what the decoder gets.
"""

from __future__ import annotations

import math

import torch

from .steps import MAX_STEP_CODE, MIN_STEP_CODE, STEPS_PER_OCTAVE, code_from_log2_step, step_from_code  # noqa: F401


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
