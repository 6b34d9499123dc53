"""gnerv's torch network, what the encoder trains (the architecture: inrcodec.archs.gnerv).

The decoder runs the architecture's program instead; tests/unit/test_synthesis.py holds the two together.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..archs.gnerv import PE_BASE, Gnerv
from .base import InrModel


def positional_encoding(t: torch.Tensor, levels: int) -> torch.Tensor:
    """gnerv eq. 3: (sin(b^0 pi t), cos(b^0 pi t), ..., sin(b^(L-1) pi t), cos(...)), b = 1.25."""
    freqs = (PE_BASE ** torch.arange(levels, dtype=torch.float32, device=t.device)) * math.pi
    ang = t[:, None] * freqs[None, :]
    return torch.stack([ang.sin(), ang.cos()], dim=-1).flatten(1)


class GNeRV(InrModel):
    """Embedding -> per block (instance norm, time shift, up-sampling conv, GELU) -> heads."""

    arch = Gnerv

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
        b = t.shape[0]
        z = F.gelu(self.time_fc(positional_encoding(t, self.pe_levels)))
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
        return self.planes(self.heads(x))
