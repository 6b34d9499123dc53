"""gnerv (wire id 1, spec/models.md §2): GNeRV's frame-wise network (docs/bibliography.md), the default.

A learned embedding shared by the GOP's frames goes through up-sampling blocks; time enters only by
distribution shift (instance-normalise, then scale and shift per channel by a small MLP of a
positional encoding of t). Luma and chroma heads run at half resolution, so the whole trunk does,
which keeps the decoder near a thousand MACs per pixel.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from . import ARCHITECTURES
from .base import (ArchOption, Architecture, NetworkCost, TensorSpec, check_cap, check_channels, check_size,
                   chroma_channels, heads_params, heads_tensors, layer, trunk_start)
from .program import Builder

PE_BASE = 1.25


@dataclass(frozen=True)
class GnervParams:
    """arch_params = (up_mode, pe_levels, time_dim, C0, ..., Cn): n up-sampling blocks.

    up_mode 0: conv3x3 (Cj -> 4·C(j+1)) then PixelShuffle₂; 1: bilinear ×2 then conv3x3 (Cj -> C(j+1)),
    the same MACs for a quarter of the parameters."""

    up_mode: int
    pe_levels: int
    time_dim: int
    channels: tuple[int, ...]

    @property
    def expand(self) -> int:
        """Conv output channels per block output channel."""
        return 4 if self.up_mode == 0 else 1

    def embedding_size(self, width: int, height: int) -> tuple[int, int]:
        """(h, w) of the embedding: the frame over 2^(n+1), rounded up."""
        return trunk_start(width, height, self.channels)


@functools.cache
def gnerv_network() -> type:
    """The torch network the encoder trains; defined on first use, so that a player without torch
    imports this module. The decoder runs ``Gnerv.build``'s program; tests/unit/test_synthesis.py
    holds the two together."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from ..models.base import InrModel
    from ..models.ops import fourier

    class GnervNetwork(InrModel):
        """Embedding -> per block (instance norm, time shift, up-sampling conv, GELU) -> heads."""

        def __init__(self, width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> None:
            Gnerv.cost(width, height, chroma, tuple(arch_params))  # validation and the cap before any allocation
            super().__init__(width, height, chroma)
            p = Gnerv.parse(arch_params)
            self.up_mode, self.pe_levels, self.time_dim, self.expand = p.up_mode, p.pe_levels, p.time_dim, p.expand
            self.channels = channels = list(p.channels)
            self.n_blocks = len(channels) - 1
            self.grid = 2 ** (self.n_blocks + 1)
            self.emb_h, self.emb_w = p.embedding_size(width, height)
            self.embedding = nn.Parameter(torch.zeros(1, channels[0], self.emb_h, self.emb_w))
            self.time_fc = nn.Linear(2 * self.pe_levels, self.time_dim)
            self.shift = nn.ModuleList(nn.Linear(self.time_dim, 2 * c) for c in channels[:-1])
            self.convs = nn.ModuleList(
                nn.Conv2d(cin, self.expand * cout, 3, padding=1) for cin, cout in zip(channels[:-1], channels[1:])
            )
            self.make_heads(channels[-1])

        def arch_params(self) -> tuple[int, ...]:
            """(up_mode, pe_levels, time_dim, C0, ..., Cn)."""
            return (self.up_mode, self.pe_levels, self.time_dim, *self.channels)

        def forward(self, t: torch.Tensor) -> list[torch.Tensor]:
            """Planes [Y, U, V] for time positions ``t`` in [0, 1), each [B, h, w], cropped."""
            return self.planes(self.heads(self.features(t)))

        def features(self, t: torch.Tensor) -> torch.Tensor:
            """The last block's output [B, Cn, h, w] at half the padded frame: what the heads read."""
            b = t.shape[0]
            z = F.gelu(self.time_fc(fourier(t, PE_BASE, self.pe_levels)))
            # channels-last: oneDNN's small-channel convolutions train faster on it (docs/encoder-notes.md)
            x = self.embedding.expand(b, -1, -1, -1).contiguous(memory_format=torch.channels_last)
            for shift, conv in zip(self.shift, self.convs):
                scale, bias = shift(z).chunk(2, dim=1)
                x = F.instance_norm(x) if x.shape[-1] * x.shape[-2] > 1 else x
                x = x * (1 + scale[:, :, None, None]) + bias[:, :, None, None]
                if self.up_mode == 0:
                    x = F.gelu(F.pixel_shuffle(conv(x), 2))
                else:
                    x = F.gelu(conv(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)))
            return x

    return GnervNetwork


@ARCHITECTURES.register("gnerv", wire_id=1)
class Gnerv(Architecture):
    """Embedding -> per block (instance norm, time shift, up-sampling conv, GELU) -> heads."""

    QUALITY = {
        1: (1, 16, 16, 16, 24, 16, 12),
        2: (1, 16, 16, 16, 24, 20, 12),
        3: (1, 16, 16, 20, 28, 20, 14),
        4: (1, 16, 16, 24, 32, 20, 14),
        5: (1, 16, 16, 24, 32, 24, 16),
        6: (1, 16, 16, 24, 40, 28, 16),
        7: (1, 16, 16, 32, 48, 32, 20),
        8: (1, 16, 16, 32, 56, 40, 24),
        9: (1, 16, 16, 40, 64, 48, 28),
    }
    OPTIONS = (ArchOption("channels", "ints", "override the network channels C0,C1,..., e.g. 16,24,16,12"),
               ArchOption("up_mode", "int", "up-sampling blocks: 0 conv + PixelShuffle, 1 bilinear + conv", "1"))
    network = gnerv_network

    @classmethod
    def apply_options(cls, arch_params, channels=None, up_mode=None):
        """--channels replaces C0..Cn after (up_mode, pe_levels, time_dim); --up-mode replaces up_mode."""
        out = tuple(arch_params) if channels is None else tuple(arch_params[:3]) + tuple(channels)
        return out if up_mode is None else (up_mode,) + out[1:]

    @classmethod
    def parse(cls, arch_params) -> GnervParams:
        if len(arch_params) < 5:
            raise ValueError("gnerv needs (up_mode, pe_levels, time_dim, C0, C1, ...) with at least one block")
        up_mode, pe_levels, time_dim, *channels = (int(p) for p in arch_params)
        if up_mode not in (0, 1):
            raise ValueError(f"gnerv up_mode must be 0 or 1, not {up_mode}")
        if not 1 <= pe_levels <= 64 or not 1 <= time_dim <= 1024:
            raise ValueError("gnerv pe_levels must be 1..64 and time_dim 1..1024")
        check_channels("gnerv", tuple(channels), 8)
        return GnervParams(up_mode, pe_levels, time_dim, tuple(channels))

    @classmethod
    def cost(cls, width, height, chroma, arch_params) -> NetworkCost:
        check_size(width, height)
        k = chroma_channels(chroma)
        p = cls.parse(arch_params)
        ch, d = p.channels, p.time_dim
        eh, ew = p.embedding_size(width, height)
        pairs = list(zip(ch[:-1], ch[1:]))
        params = (ch[0] * eh * ew + d * (2 * p.pe_levels + 1) + heads_params(ch[-1], k)
                  + sum((2 * a) * (d + 1) + p.expand * b * (9 * a + 1) for a, b in pairs))
        check_cap("gnerv", params)
        # a block's conv costs the same in mode 0 (input resolution, 4x outputs) and mode 1 (output resolution)
        area = eh * ew
        macs = 2 * p.pe_levels * d + sum(d * 2 * a for a, _ in pairs)
        activation = ch[0] * area
        for a, b in pairs:
            macs += 9 * a * 4 * b * area
            # normalised input; mode 0: conv output (4b at this size); mode 1: up-sampled input and output
            activation = max(activation, a * area, 4 * b * area, 4 * a * area if p.up_mode else 0)
            area *= 4
        macs += 9 * ch[-1] * (4 + k) * area
        activation = max(activation, ch[-1] * area, (4 + k) * area)
        return NetworkCost(params, macs, width * height, 4 * area, activation)

    @classmethod
    def tensors(cls, width, height, chroma, arch_params) -> list[TensorSpec]:
        """Embedding, time MLP, per block (shift, conv), luma head, chroma head."""
        cls.cost(width, height, chroma, arch_params)
        p = cls.parse(arch_params)
        ch, d = p.channels, p.time_dim
        out = [TensorSpec("embedding", (1, ch[0], *p.embedding_size(width, height)), 1.0)]
        out += layer("time_fc", (d, 2 * p.pe_levels))
        for j, (a, b) in enumerate(zip(ch[:-1], ch[1:])):
            out += layer(f"shift.{j}", (2 * a, d)) + layer(f"convs.{j}", (p.expand * b, a, 3, 3))
        return out + heads_tensors(ch[-1], chroma_channels(chroma))

    @classmethod
    def build(cls, b: Builder, width, height, k, p: GnervParams) -> str:
        z = b.gelu(b.linear(b.fourier(PE_BASE, p.pe_levels), "time_fc"))
        x = b.tensor("embedding")
        h, w = p.embedding_size(width, height)
        for j in range(len(p.channels) - 1):
            if h * w > 1:
                x = b.instance_norm(x)
            x = b.modulate(x, b.linear(z, f"shift.{j}"))
            if p.up_mode == 0:
                x = b.conv3x3(x, f"convs.{j}", shuffle=True, gelu=True)
            else:
                x = b.conv3x3(b.up2(x), f"convs.{j}", gelu=True)
            h, w = 2 * h, 2 * w
        return b.heads(x)
