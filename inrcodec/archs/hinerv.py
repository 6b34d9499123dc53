"""hinerv (wire id 3, spec/models.md §2c): HiNeRV's grid network (docs/bibliography.md).

gnerv keeps its capacity in convolution weights, so every coded parameter costs MACs at every pixel;
HiNeRV moves it into grids read by interpolation. A temporal multi-resolution grid (levels of feature
maps at the trunk's lowest resolution, t0·2^l time nodes at level l, interpolated in time and summed)
is the input; each bilinear ×2 stage adds a small local grid (a learned code for the position in the
2×2 cell, with its own time nodes), is scaled and shifted by a temporal grid (``mod_t`` nodes), then
convolved. Time enters only through grids; no normalisation.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from . import ARCHITECTURES
from .base import (ArchOption, Architecture, NetworkCost, TensorSpec, check_cap, check_channels, check_size,
                   chroma_channels, heads_params, heads_tensors, layer, trunk_start)
from .program import Builder


@dataclass(frozen=True)
class HinervParams:
    """arch_params = (t0, levels, local_t, mod_t, C0, ..., Cn): n stages from 1/2^(n+1) of the frame to
    1/2; local_t = 0 leaves the local grids out, mod_t = 0 the modulation."""

    t0: int
    levels: int
    local_t: int
    mod_t: int
    channels: tuple[int, ...]

    def grid_size(self, width: int, height: int) -> tuple[int, int]:
        """(h, w) of the temporal grid: the frame over 2^(n+1), rounded up."""
        return trunk_start(width, height, self.channels)


@functools.cache
def hinerv_network() -> type:
    """The torch network the encoder trains; defined on first use, so that a player without torch
    imports this module. The decoder runs ``Hinerv.build``'s program; tests/unit/test_synthesis.py
    holds the two together."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from ..models.base import InrModel
    from ..models.ops import temporal_lerp

    class HinervNetwork(InrModel):
        """Temporal grid -> (bilinear x2, + local grid, x (1 + scale) + shift, conv3x3, GELU) per stage -> heads."""

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

    return HinervNetwork


@ARCHITECTURES.register("hinerv", wire_id=3)
class Hinerv(Architecture):
    """Temporal grid -> (bilinear ×2, + local grid, x (1 + scale) + shift, conv3x3, GELU) per stage -> heads."""

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
               ArchOption("grid_t", "ints",
                          "override the grids' time nodes: t0,levels[,local_t[,mod_t]], e.g. 1,2,0,16"))
    network = hinerv_network

    @classmethod
    def apply_options(cls, arch_params, channels=None, grid_t=None):
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

    @classmethod
    def parse(cls, arch_params) -> HinervParams:
        if len(arch_params) < 6:
            raise ValueError("hinerv needs (t0, levels, local_t, mod_t, C0, C1, ...) with at least one stage")
        t0, levels, local_t, mod_t, *channels = (int(p) for p in arch_params)
        if not 1 <= t0 <= 256 or not 1 <= levels <= 4 or not 0 <= local_t <= 256 or not 0 <= mod_t <= 256:
            raise ValueError("hinerv t0 must be 1..256, levels 1..4, local_t and mod_t 0..256")
        check_channels("hinerv", tuple(channels), 8)
        return HinervParams(t0, levels, local_t, mod_t, tuple(channels))

    @classmethod
    def cost(cls, width, height, chroma, arch_params) -> NetworkCost:
        """MACs count the convolutions, as for the other architectures; the grids' interpolations are a
        few operations per feature and are not counted (spec/levels.md §3)."""
        check_size(width, height)
        k = chroma_channels(chroma)
        p = cls.parse(arch_params)
        ch = p.channels
        eh, ew = p.grid_size(width, height)
        area = eh * ew
        pairs = list(zip(ch[:-1], ch[1:]))
        nodes = sum(p.t0 << level for level in range(p.levels))
        params = (nodes * ch[0] * area + (4 * p.local_t + 2 * p.mod_t) * sum(a for a, _ in pairs)
                  + sum(b * (9 * a + 1) for a, b in pairs) + heads_params(ch[-1], k))
        check_cap("hinerv", params)
        macs, activation = 0, ch[0] * area
        for a, b in pairs:
            area *= 4
            macs += 9 * a * b * area
            activation = max(activation, a * area, b * area)
        macs += 9 * ch[-1] * (4 + k) * area
        activation = max(activation, (4 + k) * area)
        return NetworkCost(params, macs, width * height, 4 * area, activation)

    @classmethod
    def tensors(cls, width, height, chroma, arch_params) -> list[TensorSpec]:
        """Grid levels (coarse to fine), per stage (local grid, modulation grid, conv), heads. The
        coarsest level starts uniform in [-1, 1] (gnerv's embedding); the other grids start at zero."""
        cls.cost(width, height, chroma, arch_params)
        p = cls.parse(arch_params)
        ch = p.channels
        eh, ew = p.grid_size(width, height)
        out = [TensorSpec(f"grids.{level}", (p.t0 << level, ch[0], eh, ew), 1.0 if level == 0 else 0.0)
               for level in range(p.levels)]
        for j, (a, b) in enumerate(zip(ch[:-1], ch[1:])):
            if p.local_t:
                out.append(TensorSpec(f"local.{j}", (p.local_t, a, 2, 2), 0.0))
            if p.mod_t:
                out.append(TensorSpec(f"mod.{j}", (p.mod_t, 2 * a), 0.0))
            out += layer(f"convs.{j}", (b, a, 3, 3))
        return out + heads_tensors(ch[-1], chroma_channels(chroma))

    @classmethod
    def build(cls, b: Builder, width, height, k, p: HinervParams) -> str:
        x = b.lerp("grids.0", is_map=True)
        for level in range(1, p.levels):
            x = b.add(x, b.lerp(f"grids.{level}", is_map=True))
        for j in range(len(p.channels) - 1):
            x = b.up2(x)
            if p.local_t:
                x = b.add_tiled(x, b.lerp(f"local.{j}", is_map=True))
            if p.mod_t:
                x = b.modulate(x, b.lerp(f"mod.{j}", is_map=False))
            x = b.conv3x3(x, f"convs.{j}", gelu=True)
        return b.heads(x)
