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


def segment_laplace_bits(y: torch.Tensor, seg: torch.Tensor, counts: torch.Tensor, eps: float = 1e-9) -> torch.Tensor:
    """``laplace_bits`` of every tensor of a flat vector at once: ``seg`` gives each element's tensor.

    Like the coder's table, the law is truncated at each tensor's largest magnitude M:
    Z = 1 + 2 r (1 - r^M) / (1 - r) normalises it, which matters for the peaked, nearly all-zero
    residuals of P-models (the untruncated law overstates them by 10 % and more).
    """
    a = y.abs()
    sums = torch.zeros_like(counts).index_add(0, seg, a)
    peak = torch.zeros_like(counts).scatter_reduce(0, seg, a.detach(), reduce="amax").round().clamp_min(1.0)
    m = (sums / counts).clamp_min(eps)
    r = (((1 + m * m).sqrt() - 1) / m).clamp(eps, 1 - 1e-7)
    z = 1 + 2 * r * (1 - r.pow(peak)) / (1 - r)
    bits = counts * torch.log(z) - sums * torch.log(r)
    # an all-zero tensor is coded with no segment at all: it costs no stream bits
    return torch.where(sums > 0, bits, torch.zeros_like(bits)).sum() / LN2
