"""GNeRV-style frame-wise network (GNeRV §3.1, docs/bibliography.md), the default architecture.

A learned global embedding, shared by every frame of a GOP, goes through Conv-PixelShuffle
up-sampling blocks; time enters only by distribution shift (instance-normalise the block input,
then scale and shift it per channel with values a small MLP computes from a positional encoding
of t). Heads fit what the viewer sees: luma at full resolution (4 channels + PixelShuffle at half
resolution), chroma at its native resolution (2 channels at half resolution for 4:2:0, 8 channels
+ PixelShuffle for 4:4:4). The whole trunk therefore runs at half resolution or below, which is
what keeps the decoder near a thousand MACs per pixel.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..costs import NETWORK_COSTS, gnerv_cost
from ..tensors import gnerv_tensors
from .base import ARCHITECTURES, ArchOption, InrModel, TensorSpec

PE_BASE = 1.25


def positional_encoding(t: torch.Tensor, levels: int) -> torch.Tensor:
    """gnerv eq. 3: (sin(b^0 pi t), cos(b^0 pi t), ..., sin(b^(L-1) pi t), cos(...)), b = 1.25."""
    freqs = (PE_BASE ** torch.arange(levels, dtype=torch.float32, device=t.device)) * math.pi
    ang = t[:, None] * freqs[None, :]
    return torch.stack([ang.sin(), ang.cos()], dim=-1).flatten(1)


@ARCHITECTURES.register("gnerv", wire_id=NETWORK_COSTS.id_of("gnerv"))
class GNeRV(InrModel):
    """arch_params = (up_mode, pe_levels, time_dim, C0, C1, ..., Cn): n = number of up-sampling blocks.

    up_mode 0: each block is conv3x3 (Cj -> 4*C(j+1)) then PixelShuffle(2), GNeRV's Conv-Up block.
    up_mode 1: bilinear x2 up-sampling then conv3x3 (Cj -> C(j+1)): the same MACs for a quarter of
    the parameters, i.e. four times the computation per coded bit (spec/models.md §2).
    """

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

    @classmethod
    def apply_options(cls, arch_params: tuple[int, ...], channels=None, up_mode=None) -> tuple[int, ...]:
        """--channels replaces C0..Cn after (up_mode, pe_levels, time_dim); --up-mode replaces up_mode."""
        out = tuple(arch_params) if channels is None else tuple(arch_params[:3]) + tuple(channels)
        return out if up_mode is None else (up_mode,) + out[1:]


    def __init__(self, width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> None:
        # validation and the parameter cap, by arithmetic, before anything is allocated
        cost = gnerv_cost(width, height, chroma, tuple(arch_params))
        super().__init__(width, height, chroma)
        self._cost = cost
        self.up_mode, self.pe_levels, self.time_dim, *channels = (int(p) for p in arch_params)
        self.channels = channels
        self.n_blocks = len(channels) - 1
        self.grid = 2 ** (self.n_blocks + 1)
        self.emb_h = -(-height // self.grid)
        self.emb_w = -(-width // self.grid)
        self.expand = 4 if self.up_mode == 0 else 1  # conv output channels per block output channel
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

    def tensor_specs(self) -> list[TensorSpec]:
        """The coded tensors in wire order: ``inrcodec.tensors.gnerv_tensors`` (what a decoder without torch reads)."""
        return gnerv_tensors(self.width, self.height, self.chroma, self.arch_params())

    def macs_per_pixel(self) -> float:
        """Multiply-accumulates per luma pixel (convolutions, time MLP amortised per frame): the
        figure of ``inrcodec.costs.gnerv_cost``."""
        return self._cost.macs_per_pixel

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
