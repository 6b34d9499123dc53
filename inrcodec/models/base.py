"""The architecture registry and what every architecture provides to the codec.

An architecture is rebuilt by the decoder from the sequence header alone (frame size, chroma
format, ``arch_id`` and its integer parameters), so everything that shapes the network must be
in ``arch_params``. Its coded tensors have a fixed wire order (spec/models.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..registry import Registry
from ..tensors import TensorSpec  # noqa: F401  (torch-free; re-exported for the architectures)

ARCHITECTURES: Registry[type["InrModel"]] = Registry("architecture")
OUTPUT_OFFSET = 0.5  # the heads predict samples on [0, 1] minus one half


@dataclass(frozen=True)
class ArchOption:
    """One architecture-specific encoder option; the CLI's ``enc`` and ``bench`` make ``--name-with-dashes``
    of it. ``kind`` "int" is one integer, "ints" a comma-separated list."""

    name: str
    kind: str
    help: str
    default: str = "by --quality"  # what None means, as the help shows it

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


# quality -> lambda on the 6:1:1 MSE, shared by the architectures that do not tune their own
LAMBDAS: dict[int, float] = {1: 100.0, 2: 150.0, 3: 200.0, 4: 300.0, 5: 450.0, 6: 700.0, 7: 1000.0, 8: 1500.0,
                             9: 2500.0}


class InrModel(nn.Module):
    """Base class: a network mapping a time position to the planes of one frame.

    A subclass registered in ARCHITECTURES owns its encoder settings: ``QUALITY`` (quality ->
    arch_params), ``LAMBDAS`` (quality -> lambda), ``OPTIONS`` (the overrides ``from_quality`` takes).
    """

    QUALITY: dict[int, tuple[int, ...]] = {}
    LAMBDAS: dict[int, float] = LAMBDAS
    OPTIONS: tuple[ArchOption, ...] = ()
    name: str = ""  # stamped by ARCHITECTURES.register
    wire_id: int | None = None

    # Adam's peak learning rate for fitting this architecture (an encoder choice, not in the file)
    learning_rate: float = 1e-2
    # added to every plane: samples on [0, 1] for a base layer; 0 for a residual layer, whose
    # planes are a scaled residual (spec/models.md §8)
    output_offset: float = OUTPUT_OFFSET

    def __init__(self, width: int, height: int, chroma: str) -> None:
        super().__init__()
        self.width = width
        self.height = height
        self.chroma = chroma

    @classmethod
    def from_quality(cls, quality: int, **overrides: Any) -> tuple[int, ...]:
        """The arch_params of ``quality`` with the given OPTIONS overridden (None: the ladder's);
        ValueError for an option this architecture does not have."""
        unknown = set(overrides) - {o.name for o in cls.OPTIONS}
        if unknown:
            raise ValueError(f"{', '.join(sorted(unknown))} is not an option of this architecture")
        given = {k: v for k, v in overrides.items() if v is not None}
        return tuple(int(p) for p in cls.apply_options(tuple(cls.QUALITY[quality]), **given))

    @classmethod
    def apply_options(cls, arch_params: tuple[int, ...], **overrides: Any) -> tuple[int, ...]:
        """arch_params with the given (non-None) OPTIONS applied."""
        return arch_params

    def tensor_specs(self) -> list[TensorSpec]:
        """The coded tensors in wire order."""
        raise NotImplementedError

    def arch_params(self) -> tuple[int, ...]:
        """The integers stored in the sequence header that rebuild this network."""
        raise NotImplementedError

    def macs_per_pixel(self) -> float:
        """Multiply-accumulates per luma pixel of one decoded frame."""
        raise NotImplementedError

    def forward(self, t: torch.Tensor) -> list[torch.Tensor]:  # pragma: no cover - abstract
        """Planes [Y, U, V] of the frames at time positions ``t`` (shape [B]), each [B, h, w]."""
        raise NotImplementedError

    # -- the heads every architecture ends with (spec/models.md §2 steps 4-5) --------------------

    def make_heads(self, channels: int) -> None:
        """Luma head (4 channels, PixelShuffled to full resolution) and chroma head (2 channels at
        half resolution for 4:2:0, 8 PixelShuffled for 4:4:4), both conv3x3 on ``channels``."""
        self.head_y = nn.Conv2d(channels, 4, 3, padding=1)
        self.head_c = nn.Conv2d(channels, 2 if self.chroma == "420" else 8, 3, padding=1)

    def heads(self, x: torch.Tensor) -> torch.Tensor:
        """Both heads on x as one convolution, their output channels stacked (luma first)."""
        return F.conv2d(x, torch.cat([self.head_y.weight, self.head_c.weight]),
                        torch.cat([self.head_y.bias, self.head_c.bias]), padding=1)

    def planes(self, heads: torch.Tensor) -> list[torch.Tensor]:
        """[B, 4 + k, h, w] head outputs (h, w: half the padded frame) -> cropped [Y, U, V] planes."""
        y = F.pixel_shuffle(heads[:, :4], 2)[:, 0, : self.height, : self.width] + self.output_offset
        c = heads[:, 4:]
        if self.chroma == "420":
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
