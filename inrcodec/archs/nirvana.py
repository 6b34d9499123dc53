"""nirvana (wire id 2, spec/models.md §2b): NIRVANA's patch-wise network (docs/bibliography.md).

The frame is cut into P×P patches (padded to the patch grid, cropped on output). A SIREN MLP maps a
patch centroid, normalised to [-1, 1] by the frame size, to a feature; each frame adds the
sinusoidal embedding of its position in the GOP (nirvana eq. 1); the sum, reshaped to C0×h0×h0,
goes through Conv-PixelShuffle blocks and the heads give the patch's planes. Nothing depends on the
frame size, so any resolution is coded by the same network.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from . import ARCHITECTURES
from .base import (ArchOption, Architecture, NetworkCost, TensorSpec, check_cap, check_channels, check_size,
                   chroma_channels, heads_params, heads_tensors, layer)
from .program import PATCH_BATCH, Builder

SIREN_W0 = 30.0  # the SIREN layers' frequency
PE_BASE = 10000.0
# The codec gives a network t = i / gop_size; the embedding reads u = TIME_SCALE · t, so frames of a
# group of up to 32 keep at least one unit apart (the paper's g is the frame index in the group).
TIME_SCALE = 32.0


@dataclass(frozen=True)
class NirvanaParams:
    """arch_params = (patch, mlp_width, mlp_depth, C0, ..., Cn): n blocks take the trunk from
    h0 = patch / 2^(n+1) to patch / 2, where the heads run."""

    patch: int
    mlp_width: int
    mlp_depth: int
    channels: tuple[int, ...]

    @property
    def h0(self) -> int:
        return self.patch // 2 ** len(self.channels)

    @property
    def feature(self) -> int:
        """The MLP's output: C0·h0·h0."""
        return self.channels[0] * self.h0 * self.h0

    def grid(self, width: int, height: int) -> tuple[int, int]:
        """(rows, columns) of patches."""
        return -(-height // self.patch), -(-width // self.patch)


@functools.cache
def nirvana_network() -> type:
    """The torch network the encoder trains; defined on first use, so that a player without torch
    imports this module. The decoder runs ``Nirvana.build``'s program; tests/unit/test_synthesis.py
    holds the two together. Patches run in batches of ``PATCH_BATCH`` when no gradient is needed, so
    memory does not grow with the resolution."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from ..models.base import InrModel
    from ..models.ops import sinusoid

    class NirvanaNetwork(InrModel):
        """Patch centroid -> SIREN MLP -> + frame-in-group embedding -> conv blocks -> patch planes."""

        # SIREN layers (w0 = 30) need a rate far below gnerv's, falling with the MLP's width (docs/encoder-notes.md)
        BASE_LEARNING_RATE = 1.5e-3
        BASE_WIDTH = 64

        def __init__(self, width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> None:
            Nirvana.cost(width, height, chroma, tuple(arch_params))  # validation and the cap before any allocation
            super().__init__(width, height, chroma)
            p = Nirvana.parse(arch_params)
            self.patch, self.mlp_width, self.mlp_depth = p.patch, p.mlp_width, p.mlp_depth
            self.h0, self.feature = p.h0, p.feature
            self.channels = channels = list(p.channels)
            self.n_blocks = len(channels) - 1
            self.grid_h, self.grid_w = p.grid(width, height)
            widths = [2] + [self.mlp_width] * self.mlp_depth
            self.mlp = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
            self.to_feature = nn.Linear(self.mlp_width, self.feature)
            self.convs = nn.ModuleList(nn.Conv2d(a, 4 * b, 3, padding=1) for a, b in zip(channels[:-1], channels[1:]))
            self.make_heads(channels[-1])

        @property
        def learning_rate(self) -> float:
            """1.5e-3 up to a 64-wide MLP, then inversely proportional to the width."""
            return self.BASE_LEARNING_RATE * min(1.0, self.BASE_WIDTH / self.mlp_width)

        def arch_params(self) -> tuple[int, ...]:
            return (self.patch, self.mlp_width, self.mlp_depth, *self.channels)

        def centroids(self, device: torch.device) -> torch.Tensor:
            """[grid_h * grid_w, 2] patch centres (x, y) in [-1, 1] of the frame, row-major."""
            ys = (torch.arange(self.grid_h, dtype=torch.float32, device=device) + 0.5) * self.patch / self.height
            xs = (torch.arange(self.grid_w, dtype=torch.float32, device=device) + 0.5) * self.patch / self.width
            yy, xx = torch.meshgrid(2 * ys - 1, 2 * xs - 1, indexing="ij")
            return torch.stack([xx.flatten(), yy.flatten()], dim=1)

        def _patches(self, feats: torch.Tensor) -> torch.Tensor:
            """[N, feature] -> [N, 4 + k, patch/2, patch/2] head outputs."""
            x = feats.view(-1, self.channels[0], self.h0, self.h0)
            for conv in self.convs:
                x = F.gelu(F.pixel_shuffle(conv(x), 2))
            return self.heads(x)

        def forward(self, t: torch.Tensor) -> list[torch.Tensor]:
            """Planes [Y, U, V] of the frames at time positions ``t`` (frame / gop_size), each [B, h, w]."""
            b = t.shape[0]
            s = self.centroids(t.device)
            for lin in self.mlp:
                s = torch.sin(SIREN_W0 * lin(s))
            s = self.to_feature(s)  # [P, feature]
            e = sinusoid(TIME_SCALE * t, PE_BASE, self.feature)
            feats = (s[None, :, :] + e[:, None, :]).reshape(-1, self.feature)
            if torch.is_grad_enabled():
                out = self._patches(feats)
            else:  # bounded memory at any resolution
                out = torch.cat([self._patches(feats[i:i + PATCH_BATCH])
                                 for i in range(0, feats.shape[0], PATCH_BATCH)])
            half = self.patch // 2
            k = out.shape[1]
            # [B*P, k, half, half] -> [B, k, grid_h*half, grid_w*half]
            out = out.view(b, self.grid_h, self.grid_w, k, half, half).permute(0, 3, 1, 4, 2, 5)
            out = out.reshape(b, k, self.grid_h * half, self.grid_w * half)
            return self.planes(out)

    return NirvanaNetwork


@ARCHITECTURES.register("nirvana", wire_id=2)
class Nirvana(Architecture):
    """Patch centroid -> SIREN MLP -> + frame-in-group embedding -> conv blocks -> patch planes."""

    # a first, untuned ladder: 32x32 patches as in the paper, MLP and trunk widened with quality
    QUALITY = {
        1: (32, 32, 2, 8, 12, 8),
        2: (32, 48, 2, 8, 16, 12),
        3: (32, 48, 3, 12, 16, 12),
        4: (32, 64, 3, 16, 16, 12),
        5: (32, 64, 3, 16, 20, 16),
        6: (32, 96, 3, 16, 24, 16),
        7: (32, 128, 3, 20, 28, 20),
        8: (32, 128, 4, 24, 32, 24),
        9: (32, 192, 4, 32, 40, 28),
    }
    OPTIONS = (
        ArchOption("patch_size", "int", "patch side, 8..128, a power of two", "32"),
        ArchOption("mlp_width", "int", "SIREN MLP width"),
        ArchOption("mlp_depth", "int", "SIREN MLP layers"),
        ArchOption("channels", "ints", "override the trunk channels C0,C1,..., e.g. 16,16,12"),
    )
    network = nirvana_network

    @classmethod
    def apply_options(cls, arch_params, patch_size=None, mlp_width=None, mlp_depth=None, channels=None):
        """Each option replaces its field of (patch, mlp_width, mlp_depth, C0, ..., Cn)."""
        head = tuple(v if v is not None else a for v, a in zip((patch_size, mlp_width, mlp_depth), arch_params[:3]))
        return head + (tuple(channels) if channels is not None else tuple(arch_params[3:]))

    @classmethod
    def parse(cls, arch_params) -> NirvanaParams:
        if len(arch_params) < 5:
            raise ValueError("nirvana needs (patch, mlp_width, mlp_depth, C0, C1, ...) with at least one block")
        patch, mlp_width, mlp_depth, *channels = (int(p) for p in arch_params)
        if patch not in (8, 16, 32, 64, 128) or patch < 2 ** len(channels):
            raise ValueError(f"nirvana patch must be 8..128, a power of two >= 2^(blocks+1), not {patch}")
        if not 1 <= mlp_width <= 2048 or not 1 <= mlp_depth <= 16:
            raise ValueError("nirvana mlp_width must be 1..2048 and mlp_depth 1..16")
        check_channels("nirvana", tuple(channels), 6)
        return NirvanaParams(patch, mlp_width, mlp_depth, tuple(channels))

    @classmethod
    def cost(cls, width, height, chroma, arch_params) -> NetworkCost:
        """The MLP counted every frame (a batch shares it), the conv blocks and heads per patch."""
        check_size(width, height)
        k = chroma_channels(chroma)
        p = cls.parse(arch_params)
        ch, m, h0 = p.channels, p.mlp_width, p.h0
        pairs = list(zip(ch[:-1], ch[1:]))
        mlp_weights = 2 * m + (p.mlp_depth - 1) * m * m + p.feature * m
        params = (mlp_weights + p.mlp_depth * m + p.feature + heads_params(ch[-1], k)
                  + sum(4 * b * (9 * a + 1) for a, b in pairs))
        check_cap("nirvana", params)
        gh, gw = p.grid(width, height)
        patches, half = gh * gw, p.patch // 2
        convs, h, per_patch = 0, h0, 0
        for a, b in pairs:
            convs += 9 * a * 4 * b * h * h
            per_patch = max(per_patch, a * h * h, 4 * b * h * h)
            h *= 2
        convs += 9 * ch[-1] * (4 + k) * h * h
        per_patch = max(per_patch, ch[-1] * h * h, (4 + k) * h * h)
        activation = max(patches * m, patches * p.feature, min(patches, PATCH_BATCH) * per_patch,
                         patches * (4 + k) * half * half)
        return NetworkCost(params, patches * (mlp_weights + convs), width * height, patches * p.patch ** 2, activation)

    @classmethod
    def tensors(cls, width, height, chroma, arch_params) -> list[TensorSpec]:
        """MLP layers, to_feature, conv blocks, heads (the convs and heads travel in the BLOB)."""
        cls.cost(width, height, chroma, arch_params)
        p = cls.parse(arch_params)
        ch, m = p.channels, p.mlp_width
        out: list[TensorSpec] = []
        for j in range(p.mlp_depth):
            fan_in = 2 if j == 0 else m
            # SIREN initialisation: first layer U(-1/n, 1/n), later ones U(-sqrt(6/n)/w0, sqrt(6/n)/w0)
            out += layer(f"mlp.{j}", (m, fan_in), 1.0 / fan_in if j == 0 else math.sqrt(6.0 / fan_in) / SIREN_W0)
        out += layer("to_feature", (p.feature, m))
        for j, (a, b) in enumerate(zip(ch[:-1], ch[1:])):
            out += layer(f"convs.{j}", (4 * b, a, 3, 3), blob=True)
        return out + heads_tensors(ch[-1], chroma_channels(chroma), blob=True)

    @classmethod
    def build(cls, b: Builder, width, height, k, p: NirvanaParams) -> str:
        gh, gw = p.grid(width, height)
        s = b.centroids(gh, gw, p.patch, height, width)
        for j in range(p.mlp_depth):
            s = b.sine(b.linear(s, f"mlp.{j}"), SIREN_W0)
        s = b.linear(s, "to_feature")
        x = b.patches(s, b.sinusoid(TIME_SCALE, PE_BASE, p.feature), p.channels[0], p.h0)
        for j in range(len(p.channels) - 1):
            x = b.conv3x3(x, f"convs.{j}", shuffle=True, gelu=True)
        return b.unpatch(b.heads(x), gh, gw)
