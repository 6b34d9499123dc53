"""Training-time quantization of weight tensors: step sizes on an exact grid, noise and rounding.

Steps are stored as a small signed integer code (see spec/models.md, "Step code") whose value is
exactly representable in binary32, so ``q * step`` is exact and identical on every platform.
During training a continuous log-step is learned; ``snap_step_code`` puts it on the grid before
the straight-through phase, so what the network trains on last is exactly what the decoder gets.
"""

from __future__ import annotations

import torch

from .steps import MAX_STEP_CODE, MIN_STEP_CODE, STEPS_PER_OCTAVE, code_from_log2_step, step_from_code  # noqa: F401


def quantize_noise(x: torch.Tensor) -> torch.Tensor:
    """Additive uniform noise in [-0.5, 0.5): the differentiable stand-in for rounding."""
    return x + (torch.rand_like(x) - 0.5)


def quantize_ste(x: torch.Tensor) -> torch.Tensor:
    """Rounding in the forward pass, identity gradient in the backward pass."""
    return x + (torch.round(x) - x).detach()
