"""Named parameter tables for ``--preset`` and the layers (data, not code paths); each architecture
owns its ``--quality`` ladder."""

from __future__ import annotations

# preset -> (I-model, P-model) iterations for a 30-frame GOP, scaled to shorter GOPs; why these
# numbers: docs/encoder-notes.md
PRESET: dict[str, tuple[int, int]] = {
    "fast": (2000, 1000),
    "medium": (20000, 7000),
    "slow": (80000, 30000),
}

# --optimizer: the weights' optimiser (train/optim.py builds them)
OPTIMIZERS = ("adam", "soap")

# a P-model starts next to a good solution: a smaller rate keeps its residuals sparse (docs/encoder-notes.md)
P_LR_FACTOR = 0.5

# --layers: a residual layer fits (source - layers below) times this (GNeRV §4.3; docs/encoder-notes.md)
RESIDUAL_SCALE = 100
# --layers without --layer-quality: each residual layer this many quality steps above the last
LAYER_QUALITY_STEP = 2
