"""Named parameter tables for ``--preset`` and the layers (data, not code paths); each architecture
owns its ``--quality`` ladder."""

from __future__ import annotations

from dataclasses import dataclass

@dataclass(frozen=True)
class Preset:
    """A preset is time, not iterations: seconds of training per frame-pixel on the reference machine,
    turned into each model's iterations by the speed model (train/speed.py), so that every network
    size takes the time its preset promises; why these numbers: docs/encoder-notes.md."""

    us_per_frame_pixel: float  # microseconds of training per pixel of every frame, each layer
    p_share: float  # a P-model's iterations per I-model iteration (per frame of its GOP)


PRESET: dict[str, Preset] = {
    "fast": Preset(35.0, 0.5),
    "medium": Preset(350.0, 0.35),
    "slow": Preset(1400.0, 0.375),
}

# --optimizer: the weights' optimiser (train/optim.py builds them)
OPTIMIZERS = ("adam", "soap")

# a P-model starts next to a good solution: a smaller rate keeps its residuals sparse (docs/encoder-notes.md)
P_LR_FACTOR = 0.5

# --layers: a residual layer fits (source - layers below) times this (GNeRV §4.3; docs/encoder-notes.md)
RESIDUAL_SCALE = 100
# --layers without --layer-quality: each residual layer this many quality steps above the last
LAYER_QUALITY_STEP = 2
