"""Frames <-> tensors, and running a network to D-bit planes (shared by encoder and decoder).

Networks see samples normalised to [0, 1] whatever the depth (sample / (2^D - 1)); the decoder's one
rounding maps back to D bits (spec/models.md §7). Frames are uint8 arrays at 8 bits and uint16
arrays holding 0..2^D-1 at 10 and 12 bits (inrcodec.io.video).
"""

from __future__ import annotations

import numpy as np
import torch

from ..metrics import sample_peak
from ..models.base import InrModel
from .batch import ACTIVATION_BUDGET, RENDER_BATCH, render_batch  # noqa: F401  (torch-free; re-exported)


def samples_to_unit(samples: np.ndarray, device: torch.device | str, bit_depth: int = 8) -> torch.Tensor:
    """Samples of ``bit_depth`` bits as a float tensor on [0, 1] (sample / (2^D - 1))."""
    return torch.from_numpy(np.asarray(samples, np.float32)).to(device=device) / float(sample_peak(bit_depth))


def planes_to_tensors(frames: list[tuple[np.ndarray, ...]], device: torch.device,
                      bit_depth: int = 8) -> list[torch.Tensor]:
    """Stack frames' Y, U, V planes into three [T, h, w] float tensors on [0, 1] (sample / peak)."""
    return [samples_to_unit(np.stack([f[p] for f in frames]), device, bit_depth) for p in range(3)]


def add_layer(planes: list[torch.Tensor], residual: list[torch.Tensor], scale: float) -> list[torch.Tensor]:
    """spec/models.md §8: the planes so far plus a residual layer's planes divided by its scale."""
    return [a + b / scale for a, b in zip(planes, residual)]


def to_samples(x: torch.Tensor, bit_depth: int = 8) -> np.ndarray:
    """The one rounding of the decoder: clamp to [0, 1], scale by 2^D - 1 (binary32, correctly
    rounded), round half to even; uint8 at 8 bits, uint16 above."""
    peak = float(sample_peak(bit_depth))
    samples = torch.round(x.clamp(0.0, 1.0) * peak)
    if bit_depth <= 8:
        return samples.to(torch.uint8).cpu().numpy()
    return samples.to(torch.int32).cpu().numpy().astype(np.uint16)


@torch.no_grad()
def render_planes(model: InrModel, t_pos: torch.Tensor) -> list[torch.Tensor]:
    """Y, U, V float planes [T, h, w] of the frames at ``t_pos``, before the decoder's rounding."""
    outs: list[list[torch.Tensor]] = [[], [], []]
    for i in range(0, t_pos.shape[0], RENDER_BATCH):
        for p, plane in enumerate(model(t_pos[i:i + RENDER_BATCH])):
            outs[p].append(plane)
    return [torch.cat(o) for o in outs]


@torch.no_grad()
def render_layers(layers: list[tuple[InrModel, float]], t_pos: torch.Tensor, bit_depth: int = 8,
                  batch: int = RENDER_BATCH) -> list[np.ndarray]:
    """Y, U, V sample arrays [T, h, w] of the frames at ``t_pos`` (spec/models.md §7-8): the base
    layer's planes plus each residual layer's planes divided by its scale, in layer order, then the
    one rounding; ``batch`` frames per network call (``render_batch``). One layer: [(model, 1.0)]."""
    outs: list[list[np.ndarray]] = [[], [], []]
    for i in range(0, t_pos.shape[0], batch):
        t = t_pos[i:i + batch]
        results = [model(t) for model, _ in layers]
        planes = results[0]
        for (_, scale), out in zip(layers[1:], results[1:]):
            planes = add_layer(planes, out, scale)
        for p, plane in enumerate(planes):
            outs[p].append(to_samples(plane, bit_depth))
    return [np.concatenate(o) for o in outs]
