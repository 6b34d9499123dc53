"""hinerv's torch network, what the encoder trains (the architecture: inrcodec.archs.hinerv).

The decoder runs the architecture's program instead; tests/unit/test_synthesis.py holds the two together.
"""

from __future__ import annotations


import torch
import torch.nn.functional as F
from torch import nn

from ..archs.hinerv import Hinerv
from .base import InrModel


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


class HiNeRV(InrModel):
    """Temporal grid -> (bilinear x2, + local grid, x (1 + scale) + shift, conv3x3, GELU) per stage -> heads."""

    arch = Hinerv

    def __init__(self, width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> None:
        Hinerv.cost(width, height, chroma, tuple(arch_params))  # validation and the cap before any allocation
        super().__init__(width, height, chroma)
        p = Hinerv.parse(arch_params)
        self.t0, self.levels, self.local_t, self.mod_t = p.t0, p.levels, p.local_t, p.mod_t
        self.channels = channels = list(p.channels)
        self.n_stages = len(channels) - 1
        self.grid_h, self.grid_w = p.grid_size(width, height)
        self.grids = nn.ParameterList(
            nn.Parameter(torch.zeros(self.t0 << level, channels[0], self.grid_h, self.grid_w))
            for level in range(self.levels))
        self.local = nn.ParameterList(
            nn.Parameter(torch.zeros(self.local_t, c, 2, 2)) for c in (channels[:-1] if self.local_t else []))
        self.mod = nn.ParameterList(
            nn.Parameter(torch.zeros(self.mod_t, 2 * c)) for c in (channels[:-1] if self.mod_t else []))
        self.convs = nn.ModuleList(
            nn.Conv2d(cin, cout, 3, padding=1) for cin, cout in zip(channels[:-1], channels[1:]))
        self.make_heads(channels[-1])

    def arch_params(self) -> tuple[int, ...]:
        """(t0, levels, local_t, mod_t, C0, ..., Cn)."""
        return (self.t0, self.levels, self.local_t, self.mod_t, *self.channels)

    def forward(self, t: torch.Tensor) -> list[torch.Tensor]:
        """Planes [Y, U, V] for time positions ``t`` in [0, 1), each [B, h, w], cropped."""
        x = temporal_lerp(self.grids[0], t)
        for grid in self.grids[1:]:
            x = x + temporal_lerp(grid, t)
        x = x.contiguous(memory_format=torch.channels_last)
        for j, conv in enumerate(self.convs):
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            if self.local_t:
                h, w = x.shape[-2] // 2, x.shape[-1] // 2
                x = x + temporal_lerp(self.local[j], t).repeat(1, 1, h, w)
            if self.mod_t:
                scale, shift = temporal_lerp(self.mod[j], t).chunk(2, dim=1)
                x = x * (1 + scale[:, :, None, None]) + shift[:, :, None, None]
            x = F.gelu(conv(x))
        return self.planes(self.heads(x))
