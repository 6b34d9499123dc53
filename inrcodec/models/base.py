"""What every torch network the encoder trains provides: the architecture's definition lives in
``inrcodec.archs`` (torch-free); this is its trainable form, built from the same header fields.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import archs
from ..archs import ArchOption, chroma_channels, chroma_format  # noqa: F401  (ArchOption re-exported)
from ..archs.base import Architecture, ChromaFormat, TensorSpec  # noqa: F401  (TensorSpec re-exported)


class InrModel(nn.Module):
    """Base class: a network mapping a time position to the planes of one frame.

    ``Architecture.network_class`` stamps a subclass with its architecture (``arch``), name, wire id
    and encoder settings: ``QUALITY`` (quality -> arch_params), ``LAMBDAS``, ``OPTIONS``.
    """

    arch: type[Architecture] = Architecture
    QUALITY: dict[int, tuple[int, ...]] = {}
    LAMBDAS: dict[int, float] = {}
    OPTIONS: tuple[ArchOption, ...] = ()
    name: str = ""
    wire_id: int | None = None

    # Adam's peak learning rate for fitting this architecture (an encoder choice, not in the file)
    learning_rate: float = 1e-2
    output_offset: float = archs.output_offset(0)  # a residual layer's is set by inrcodec.decode.model_io

    def __init__(self, width: int, height: int, chroma: str) -> None:
        super().__init__()
        self.width = width
        self.height = height
        self.chroma = chroma

    @classmethod
    def from_quality(cls, quality: int, **overrides: Any) -> tuple[int, ...]:
        """The architecture's arch_params of ``quality`` with the given OPTIONS overridden."""
        return cls.arch.from_quality(quality, **overrides)

    def tensor_specs(self) -> list[TensorSpec]:
        """The coded tensors in wire order: the architecture's list, what a decoder without torch reads."""
        return self.arch.tensors(self.width, self.height, self.chroma, self.arch_params())

    def arch_params(self) -> tuple[int, ...]:
        """The integers stored in the sequence header that rebuild this network."""
        raise NotImplementedError

    def macs_per_pixel(self) -> float:
        """Multiply-accumulates per luma pixel of one decoded frame: the architecture's cost."""
        return self.arch.cost(self.width, self.height, self.chroma, self.arch_params()).macs_per_pixel

    def forward(self, t: torch.Tensor) -> list[torch.Tensor]:  # pragma: no cover - abstract
        """Planes [Y, U, V] of the frames at time positions ``t`` (shape [B]), each [B, h, w]."""
        raise NotImplementedError

    # -- the heads every architecture ends with (spec/models.md §2 steps 4-5) --------------------

    def make_heads(self, channels: int) -> None:
        """Luma head (4 channels, PixelShuffled to full resolution) and chroma head (2 channels at
        half resolution for 4:2:0, 8 PixelShuffled for 4:4:4), both conv3x3 on ``channels``."""
        self.head_y = nn.Conv2d(channels, 4, 3, padding=1)
        self.head_c = nn.Conv2d(channels, chroma_channels(self.chroma), 3, padding=1)

    def heads(self, x: torch.Tensor) -> torch.Tensor:
        """Both heads on x as one convolution, their output channels stacked (luma first)."""
        return F.conv2d(x, torch.cat([self.head_y.weight, self.head_c.weight]),
                        torch.cat([self.head_y.bias, self.head_c.bias]), padding=1)

    def planes(self, heads: torch.Tensor) -> list[torch.Tensor]:
        """[B, 4 + k, h, w] head outputs (h, w: half the padded frame) -> cropped [Y, U, V] planes."""
        y = F.pixel_shuffle(heads[:, :4], 2)[:, 0, : self.height, : self.width] + self.output_offset
        c = heads[:, 4:]
        if chroma_format(self.chroma) is ChromaFormat.YUV420:
            ch, cw = -(-self.height // 2), -(-self.width // 2)
        else:
            c = F.pixel_shuffle(c, 2)
            ch, cw = self.height, self.width
        return [y, c[:, 0, :ch, :cw] + self.output_offset, c[:, 1, :ch, :cw] + self.output_offset]

    def load_arrays(self, arrays: list[np.ndarray]) -> None:
        """Set every coded tensor from float32 arrays in wire order."""
        specs = self.tensor_specs()
        if len(arrays) != len(specs):
            raise ValueError(f"expected {len(specs)} tensors, got {len(arrays)}")
        params = dict(self.named_parameters())
        with torch.no_grad():
            for spec, arr in zip(specs, arrays):
                params[spec.name].copy_(torch.from_numpy(np.asarray(arr, np.float32).reshape(spec.shape)))

    def arrays(self) -> list[np.ndarray]:
        """Every coded tensor as a float32 array, in wire order."""
        params = dict(self.named_parameters())
        return [params[s.name].detach().cpu().numpy().astype(np.float32) for s in self.tensor_specs()]
