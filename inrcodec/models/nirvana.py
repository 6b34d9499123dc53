"""nirvana's torch network, what the encoder trains (the architecture: inrcodec.archs.nirvana).

The decoder runs the architecture's program instead; tests/unit/test_synthesis.py holds the two together.
Patches run in batches of ``PATCH_BATCH`` when no gradient is needed, so memory does not grow with
the resolution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..archs.nirvana import PE_BASE, SIREN_W0, TIME_SCALE, Nirvana as NirvanaArch
from ..archs.program import PATCH_BATCH
from .base import InrModel


def group_embedding(g: torch.Tensor, dim: int) -> torch.Tensor:
    """nirvana eq. 1: (sin(g / f^(2i/d)), cos(g / f^(2i/d))) interleaved, f = 10000; [B] -> [B, dim]
    (an odd ``dim`` gets a final zero)."""
    i = torch.arange(dim // 2, dtype=torch.float32, device=g.device)
    ang = g[:, None] / PE_BASE ** (2 * i[None, :] / dim)
    out = torch.stack([ang.sin(), ang.cos()], dim=-1).flatten(1)
    return F.pad(out, (0, dim - out.shape[1]))


class Nirvana(InrModel):
    """Patch centroid -> SIREN MLP -> + frame-in-group embedding -> conv blocks -> patch planes."""

    arch = NirvanaArch

    # SIREN layers (w0 = 30) need a rate far below gnerv's, falling with the MLP's width (docs/encoder-notes.md)
    BASE_LEARNING_RATE = 1.5e-3
    BASE_WIDTH = 64

    def __init__(self, width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> None:
        NirvanaArch.cost(width, height, chroma, tuple(arch_params))  # validation and the cap before any allocation
        super().__init__(width, height, chroma)
        p = NirvanaArch.parse(arch_params)
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
        feats = (s[None, :, :] + group_embedding(TIME_SCALE * t, self.feature)[:, None, :]).reshape(-1, self.feature)
        if torch.is_grad_enabled():
            out = self._patches(feats)
        else:  # bounded memory at any resolution
            out = torch.cat([self._patches(feats[i:i + PATCH_BATCH]) for i in range(0, feats.shape[0], PATCH_BATCH)])
        half = self.patch // 2
        k = out.shape[1]
        # [B*P, k, half, half] -> [B, k, grid_h*half, grid_w*half]
        out = out.view(b, self.grid_h, self.grid_w, k, half, half).permute(0, 3, 1, 4, 2, 5)
        out = out.reshape(b, k, self.grid_h * half, self.grid_w * half)
        return self.planes(out)
