"""NIRVANA-style patch-wise network (NIRVANA §3, docs/bibliography.md), the second architecture (``--model nirvana``).

The frame is cut into P x P patches (padded to the patch grid, cropped on output). A SIREN MLP maps
a patch centroid (x_p, y_p), normalised to [-1, 1] by the frame size, to a feature s_p; s_p is
replicated for every frame of the group (our GOP) and the sinusoidal embedding of the frame's
position in the group is added (nirvana eq. 1); the sum is reshaped to C0 x h0 x h0 and goes through
NeRV-style Conv-PixelShuffle blocks; heads as in ``gnerv`` give the luma patch (4 channels +
PixelShuffle) and the chroma patch at its native resolution. No part of the network depends on the
frame size, so any resolution is coded by the same architecture. Patches are run in batches of
``PATCH_BATCH`` when no gradient is needed, so decoding memory does not grow with the resolution.

arch_params = (patch, mlp_width, mlp_depth, C0, C1, ..., Cn): n up-sampling blocks take the
trunk from h0 = patch / 2^(n+1) to patch / 2, where the heads run.
"""

from __future__ import annotations


import torch
import torch.nn.functional as F
from torch import nn

from ..costs import NETWORK_COSTS, NIRVANA_PATCH_BATCH, nirvana_cost
from ..tensors import SIREN_W0, nirvana_tensors
from .base import ARCHITECTURES, ArchOption, InrModel, TensorSpec

PE_BASE = 10000.0
# The codec gives a network t = i / gop_size; the embedding reads u = TIME_SCALE * t, so frames of a
# group of up to 32 keep at least one unit apart (the paper's g is the frame index in the group).
TIME_SCALE = 32.0
PATCH_BATCH = NIRVANA_PATCH_BATCH


def group_embedding(g: torch.Tensor, dim: int) -> torch.Tensor:
    """nirvana eq. 1: (sin(g / f^(2i/d)), cos(g / f^(2i/d))) interleaved, f = 10000; [B] -> [B, dim]
    (an odd ``dim`` gets a final zero)."""
    i = torch.arange(dim // 2, dtype=torch.float32, device=g.device)
    ang = g[:, None] / PE_BASE ** (2 * i[None, :] / dim)
    out = torch.stack([ang.sin(), ang.cos()], dim=-1).flatten(1)
    return F.pad(out, (0, dim - out.shape[1]))


@ARCHITECTURES.register("nirvana", wire_id=NETWORK_COSTS.id_of("nirvana"))
class Nirvana(InrModel):
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

    @classmethod
    def apply_options(cls, arch_params: tuple[int, ...], patch_size=None, mlp_width=None, mlp_depth=None,
                      channels=None) -> tuple[int, ...]:
        """Each option replaces its field of (patch, mlp_width, mlp_depth, C0, ..., Cn)."""
        head = tuple(v if v is not None else a for v, a in zip((patch_size, mlp_width, mlp_depth), arch_params[:3]))
        return head + (tuple(channels) if channels is not None else arch_params[3:])

    # SIREN layers (w0 = 30) need a rate far below gnerv's, falling with the MLP's width (docs/encoder-notes.md)
    BASE_LEARNING_RATE = 1.5e-3
    BASE_WIDTH = 64

    def __init__(self, width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> None:
        # validation and the parameter cap, by arithmetic, before anything is allocated
        cost = nirvana_cost(width, height, chroma, tuple(arch_params))
        super().__init__(width, height, chroma)
        self._cost = cost
        self.patch, self.mlp_width, self.mlp_depth, *channels = (int(p) for p in arch_params)
        self.channels = channels
        self.n_blocks = len(channels) - 1
        self.h0 = self.patch // 2 ** (self.n_blocks + 1)
        self.feature = channels[0] * self.h0 * self.h0
        self.grid_h = -(-height // self.patch)
        self.grid_w = -(-width // self.patch)
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

    def tensor_specs(self) -> list[TensorSpec]:
        """The coded tensors in wire order: ``inrcodec.tensors.nirvana_tensors`` (what a decoder without torch reads)."""
        return nirvana_tensors(self.width, self.height, self.chroma, self.arch_params())

    def macs_per_pixel(self) -> float:
        """Per luma pixel: the MLP once per patch and group (amortised over the GOP's frames is not
        assumed: it is counted per frame), the conv blocks and heads per frame; the figure of
        ``inrcodec.costs.nirvana_cost``."""
        return self._cost.macs_per_pixel

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
