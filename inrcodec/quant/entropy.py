"""Differentiable rate of quantized weights under the entropy model the coder really uses.

The coder models every tensor's integers with a discretised Laplace (two-sided geometric)
distribution whose one parameter is fitted per tensor (quant/tables.py builds the integer table).
Training needs the same quantity as a smooth function: the bits of ``y`` (scaled weights or
residuals, noisy or rounded) under a discretised Laplace whose scale is the maximum-likelihood
fit to the current values. Gradients flow through ``y`` and, because the scale follows the data,
the estimate matches the table the encoder will fit at the end (checked within 5 % by the tests).
"""

from __future__ import annotations

import math

import torch

LN2 = math.log(2.0)


def laplace_bits(y: torch.Tensor) -> torch.Tensor:
    """Bits of ``y`` under a discretised Laplace with ML-fitted decay, truncated at max |y| (one tensor).

    For integers k the two-sided geometric law p(k) ~ r^|k| is the discretised Laplace; its ML
    decay for mean absolute value m is r = (sqrt(1 + m^2) - 1) / m. For non-integer ``y``
    (noise training) the same formula is used with |y| in place of |k|.
    """
    flat = y.reshape(-1)
    seg = torch.zeros(flat.numel(), dtype=torch.long, device=y.device)
    return segment_laplace_bits(flat, seg, torch.tensor([float(flat.numel())], device=y.device))


def _truncated_ml_decay(mean_abs: torch.Tensor, peak: torch.Tensor, steps: int = 40) -> torch.Tensor:
    """ML decay r of the two-sided geometric law truncated to [-M, M]: solve E_r[|k|] = mean |k|.

    The truncated law is an exponential family in |k|, so maximum likelihood is moment matching;
    E_r[|k|] grows with r, so bisection (in binary64, no gradient: at the optimum the cost is
    stationary in r) finds it.
    """
    m = mean_abs.detach().double()
    big_m = peak.detach().double()
    lo = torch.zeros_like(m)
    hi = torch.ones_like(m)
    for _ in range(steps):
        r = 0.5 * (lo + hi)
        rm = r.pow(big_m)
        s1 = r * (1 - (big_m + 1) * rm + big_m * rm * r) / (1 - r) ** 2  # sum_{k=1..M} k r^k
        z = 1 + 2 * r * (1 - rm) / (1 - r)
        too_big = 2 * s1 / z > m
        hi = torch.where(too_big, r, hi)
        lo = torch.where(too_big, lo, r)
    return (0.5 * (lo + hi)).to(mean_abs.dtype)


def segment_decay(y: torch.Tensor, seg: torch.Tensor, counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per tensor of a flat vector: (ML decay of the truncated law, truncation point M), no gradient."""
    a = y.detach().abs()
    sums = torch.zeros_like(counts).index_add(0, seg, a)
    peak = torch.zeros_like(counts).scatter_reduce(0, seg, a, reduce="amax").round().clamp_min(1.0)
    return _truncated_ml_decay(sums / counts, peak).clamp(1e-9, 1 - 1e-7), peak


def segment_laplace_bits(y: torch.Tensor, seg: torch.Tensor, counts: torch.Tensor,
                         decay: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """``laplace_bits`` of every tensor of a flat vector at once: ``seg`` gives each element's tensor.

    Like the coder's table, the law is truncated at each tensor's largest magnitude M and its decay
    is the ML fit of the truncated law (the untruncated law overstates the peaked, nearly all-zero
    residuals of P-models by 10 % and more). ``decay`` may pass a recent ``segment_decay`` result:
    the parameters drift slowly, and the fit is a few milliseconds a call.
    """
    r, peak = segment_decay(y, seg, counts) if decay is None else decay
    sums = torch.zeros_like(counts).index_add(0, seg, y.abs())
    z = 1 + 2 * r * (1 - r.pow(peak)) / (1 - r)
    bits = counts * torch.log(z) - sums * torch.log(r)
    # an all-zero tensor is coded with no segment at all: it costs no stream bits
    return torch.where(sums > 0, bits, torch.zeros_like(bits)).sum() / LN2
