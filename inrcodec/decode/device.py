"""Which torch device a run uses: the decoder needs this too, so it lives outside the encoder."""

from __future__ import annotations

import torch

from ..errors import InrInputError


def pick_device(name: str) -> torch.device:
    """'auto' is CUDA when present, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InrInputError("--device cuda: no CUDA device is available")
    if name not in ("cpu", "cuda"):
        raise InrInputError(f"--device {name!r}: expected auto, cpu or cuda")
    return torch.device(name)
