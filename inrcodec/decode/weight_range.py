"""The weights a decoder renders (spec/models.md §4b): every decoded weight finite and within ±64.

A legal model body can code weights up to 32767 x 16 = 524272 (max_abs and step code at their
limits, §3-§4), and a legacy binary32 BLOB any float, NaN and infinity included. Networks with such
weights reach the end of binary32's range, where each backend's rounding, overflow and NaN handling
decide the samples (issue 32: a gnerv whose instance-norm variance overflows in one backend and not
in another gives samples 255 apart). Trained networks stay far below the bound: the largest weight
of any stream the reference encoder made, at every quality and preset tried, is 5.2.

The check runs on the decoded binary32 weights (after §4, §6 and §3b), which every conforming
decoder computes bit for bit from the file's integers, so every decoder refuses the same models,
before it renders a frame of their GOP. numpy only: the player and ``info`` need no torch.
"""

from __future__ import annotations

import numpy as np

from ..archs import TensorSpec
from ..errors import InrUnsupportedError

#: the largest |weight| a decoder renders (spec/models.md §4b); a power of two, 12x the largest trained weight seen
MAX_WEIGHT = 64.0


def check_weight_range(specs: list[TensorSpec], weights: list[np.ndarray], gop_index: int, layer: int = 0) -> None:
    """InrUnsupportedError (exit 6) naming the first tensor of ``weights`` (one model, wire order)
    with a weight that is not finite or above MAX_WEIGHT in magnitude."""
    for spec, w in zip(specs, weights):
        if not w.size:
            continue
        hi, lo = float(w.max()), float(w.min())  # NaN anywhere makes max and min NaN
        if hi <= MAX_WEIGHT and lo >= -MAX_WEIGHT:
            continue
        where = f"GOP {gop_index}" + (f" layer {layer}" if layer else "")
        if not (np.isfinite(hi) and np.isfinite(lo)):
            what = "a weight that is not finite (NaN or infinity)"
        else:
            what = f"a weight of magnitude {max(hi, -lo):g}"
        raise InrUnsupportedError(f"{where}: {spec.name} holds {what}, outside the ±{MAX_WEIGHT:g} a decoder "
                                  f"renders (spec/models.md §4b)")
