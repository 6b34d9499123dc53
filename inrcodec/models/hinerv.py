"""HiNeRV-style grid network (HiNeRV §3, docs/bibliography.md): capacity in learned feature grids.

HNeRV-like networks (``gnerv``) keep almost all their capacity in convolution weights, so every
coded parameter costs multiply-accumulates at every pixel. HiNeRV moves it into grids that are read
by interpolation: a *temporal multi-resolution grid* (levels of feature maps at the trunk's lowest
resolution, ``t0 * 2^l`` time nodes at level l, linearly interpolated in time and summed) is the
network's input, and each parameter-free bilinear x2 up-sampling stage adds features read from a
small *local grid* (a learned code for the position inside the 2x2 cell each input sample became,
with its own time nodes) before its convolution. GNeRV's distribution shift is kept, but its
scales and shifts are read from a small temporal grid per stage (``mod_t`` nodes) instead of an MLP:
time enters only through grids, and there is no normalisation. Heads as in ``gnerv`` (luma 4 channels + PixelShuffle at half resolution, chroma at
its native resolution), so the trunk runs at half resolution or below.

arch_params = (t0, levels, local_t, mod_t, C0, C1, ..., Cn): n stages take the trunk from 1/2^(n+1)
of the frame to 1/2, channels C0 -> C1 -> ... -> Cn; local_t = 0 leaves the local grids out, mod_t = 0
the modulation.
"""

from __future__ import annotations


import torch
import torch.nn.functional as F
from torch import nn

from ..costs import NETWORK_COSTS, hinerv_cost
from ..tensors import hinerv_tensors
from .base import ARCHITECTURES, ArchOption, InrModel, TensorSpec


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


@ARCHITECTURES.register("hinerv", wire_id=NETWORK_COSTS.id_of("hinerv"))
class HiNeRV(InrModel):
    """Temporal grid -> (bilinear x2, + local grid, x (1 + scale) + shift, conv3x3, GELU) per stage -> heads."""

    # one static and two temporal nodes, per-stage modulation over 16 time nodes, channels widened with
    # quality (measured against gnerv on carphone: docs/encoder-notes.md, "Grid architecture")
    QUALITY = {
        1: (1, 2, 0, 16, 6, 20, 16, 12),
        2: (1, 2, 0, 16, 6, 24, 20, 12),
        3: (1, 2, 0, 16, 8, 28, 20, 14),
        4: (1, 2, 0, 16, 8, 32, 24, 16),
        5: (1, 2, 0, 16, 10, 36, 28, 16),
        6: (1, 2, 0, 16, 12, 40, 32, 20),
        7: (1, 2, 0, 16, 14, 48, 36, 24),
        8: (1, 2, 0, 16, 16, 56, 44, 28),
        9: (1, 2, 0, 16, 20, 64, 52, 32),
    }
    OPTIONS = (ArchOption("channels", "ints", "override the network channels C0,C1,..., e.g. 16,24,20,14"),
               ArchOption("grid_t", "ints", "override the grids' time nodes: t0,levels[,local_t[,mod_t]], e.g. 1,2,0,16"))

    @classmethod
    def apply_options(cls, arch_params: tuple[int, ...], channels=None, grid_t=None) -> tuple[int, ...]:
        """--channels replaces C0..Cn; --grid-t replaces (t0, levels[, local_t[, mod_t]])."""
        out = tuple(arch_params)
        if channels is not None:
            out = out[:4] + tuple(channels)
        if grid_t is not None:
            grid_t = tuple(grid_t)
            if not 2 <= len(grid_t) <= 4:
                raise ValueError("--grid-t takes t0,levels[,local_t[,mod_t]]")
            out = grid_t + out[len(grid_t):]
        return out

    def __init__(self, width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> None:
        cost = hinerv_cost(width, height, chroma, tuple(arch_params))  # validation and cap first
        super().__init__(width, height, chroma)
        self._cost = cost
        self.t0, self.levels, self.local_t, self.mod_t, *channels = (int(p) for p in arch_params)
        self.channels = channels
        self.n_stages = len(channels) - 1
        scale = 2 ** (self.n_stages + 1)
        self.grid_h = -(-height // scale)
        self.grid_w = -(-width // scale)
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

    def tensor_specs(self) -> list[TensorSpec]:
        """The coded tensors in wire order: ``inrcodec.tensors.hinerv_tensors`` (what a decoder without torch reads)."""
        return hinerv_tensors(self.width, self.height, self.chroma, self.arch_params())

    def macs_per_pixel(self) -> float:
        """Multiply-accumulates per luma pixel (convolutions): ``inrcodec.costs.hinerv_cost``."""
        return self._cost.macs_per_pixel

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
