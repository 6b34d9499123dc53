"""The program's time operations (inrcodec.archs.program: fourier, sinusoid, lerp) in torch, one form shared
by the networks the encoder trains and the torch synthesis backend, so the two round alike."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def fourier(t: torch.Tensor, base: float, levels: int) -> torch.Tensor:
    """gnerv eq. 3: (sin(b^0 pi t), cos(b^0 pi t), ..., sin(b^(L-1) pi t), cos(...)); [B] -> [B, 2L]."""
    freqs = (base ** torch.arange(levels, dtype=torch.float32, device=t.device)) * math.pi
    ang = t[:, None] * freqs[None, :]
    return torch.stack([ang.sin(), ang.cos()], dim=-1).flatten(1)


def sinusoid(u: torch.Tensor, base: float, dim: int) -> torch.Tensor:
    """nirvana eq. 1: (sin(u / f^(2i/d)), cos(u / f^(2i/d))) interleaved, f = ``base``; [B] -> [B, dim]
    (an odd ``dim`` gets a final zero)."""
    i = torch.arange(dim // 2, dtype=torch.float32, device=u.device)
    ang = u[:, None] / base ** (2 * i[None, :] / dim)
    out = torch.stack([ang.sin(), ang.cos()], dim=-1).flatten(1)
    return F.pad(out, (0, dim - out.shape[1]))


def temporal_lerp(grid: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Linear interpolation in time of ``grid`` [T, ...] at positions ``t`` [B] in [0, 1): node k sits
    at (k + 1/2) / T, positions outside the first and last node take that node (spec/models.md §2c)."""
    n = grid.shape[0]
    p = (t * n - 0.5).clamp(0.0, float(n - 1))
    i0 = p.floor()
    f = (p - i0).view(-1, *([1] * (grid.dim() - 1)))
    i0 = i0.long()
    i1 = (i0 + 1).clamp(max=n - 1)
    return grid[i0] * (1 - f) + grid[i1] * f
