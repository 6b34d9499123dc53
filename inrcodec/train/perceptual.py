"""Deep-feature distances from pretrained backbones the user supplies (POVI §5: an ensemble).

Nothing is downloaded: ``--perceptual-weights DIR`` names a folder holding torchvision-compatible
state dicts, ``alexnet.pth`` and/or ``vgg16.pth`` (``torchvision.models.alexnet(weights=...)
.state_dict()`` saved with ``torch.save``). The backbones are written here (torchvision has no CPU
build in this project's environment): the ``features`` part of each, whose layer layout (kernel
sizes, strides, pools) is fixed and whose channel counts are read from the state dict, so a small
locally built state dict of the same layout works too (the tests use one).

The distance is LPIPS's without its learned channel weights: at each tap (the ReLU after the
chosen convolutions) features are unit-normalised over channels, their squared difference is
summed over channels and averaged over positions; taps are summed, backbones averaged. Inputs are
RGB on [0, 1], mapped to [-1, 1] and standardised with LPIPS's shift and scale.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F

from ..errors import InrInputError

# LPIPS's input standardisation (its "ScalingLayer")
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)

# backbone -> layers of torchvision's `features`, in order: ("conv", index, stride, padding),
# ("relu", tap?) or ("pool", kernel, stride)
_LAYOUTS: dict[str, list[tuple]] = {
    "alexnet": [("conv", 0, 4, 2), ("relu", True), ("pool", 3, 2), ("conv", 3, 1, 2), ("relu", True), ("pool", 3, 2),
                ("conv", 6, 1, 1), ("relu", True), ("conv", 8, 1, 1), ("relu", True), ("conv", 10, 1, 1),
                ("relu", True)],
    "vgg16": [("conv", 0, 1, 1), ("relu", False), ("conv", 2, 1, 1), ("relu", True), ("pool", 2, 2),
              ("conv", 5, 1, 1), ("relu", False), ("conv", 7, 1, 1), ("relu", True), ("pool", 2, 2),
              ("conv", 10, 1, 1), ("relu", False), ("conv", 12, 1, 1), ("relu", False), ("conv", 14, 1, 1),
              ("relu", True), ("pool", 2, 2),
              ("conv", 17, 1, 1), ("relu", False), ("conv", 19, 1, 1), ("relu", False), ("conv", 21, 1, 1),
              ("relu", True), ("pool", 2, 2),
              ("conv", 24, 1, 1), ("relu", False), ("conv", 26, 1, 1), ("relu", False), ("conv", 28, 1, 1),
              ("relu", True)],
}
BACKBONE_FILES = {name: f"{name}.pth" for name in _LAYOUTS}
MISSING_WEIGHTS = ("--loss perceptual needs pretrained backbone weights, and nothing is downloaded: put "
                   "torchvision state dicts alexnet.pth and/or vgg16.pth in a folder and pass it as "
                   "--perceptual-weights DIR")


class Backbone:
    """One backbone's feature taps, its weights frozen."""

    def __init__(self, name: str, state: dict[str, torch.Tensor]) -> None:
        self.name = name
        self.params: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        for layer in _LAYOUTS[name]:
            if layer[0] == "conv":
                i = layer[1]
                try:
                    w, b = state[f"features.{i}.weight"], state[f"features.{i}.bias"]
                except KeyError as exc:
                    raise InrInputError(f"{name}.pth: no {exc.args[0]} (a torchvision {name} state dict is "
                                        "expected)") from None
                self.params[i] = (w.detach().float(), b.detach().float())

    def to(self, device: torch.device) -> "Backbone":
        self.params = {i: (w.to(device), b.to(device)) for i, (w, b) in self.params.items()}
        return self

    def taps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps at the taps of x [B, 3, h, w] (already standardised)."""
        out = []
        for layer in _LAYOUTS[self.name]:
            if layer[0] == "conv":
                w, b = self.params[layer[1]]
                x = F.conv2d(x, w, b, stride=layer[2], padding=layer[3])
            elif layer[0] == "relu":
                x = F.relu(x)
                if layer[1]:
                    out.append(x)
            else:
                if min(x.shape[-2:]) < layer[1]:
                    break  # a small frame runs out of resolution: the deeper taps are skipped
                x = F.max_pool2d(x, layer[1], layer[2])
        return out


def load_backbones(folder: str | os.PathLike | None, device: torch.device | str = "cpu") -> list[Backbone]:
    """Every backbone whose weights file is in ``folder``; InrInputError when there is none."""
    if folder is None or not os.path.isdir(folder):
        raise InrInputError(MISSING_WEIGHTS + ("" if folder is None else f" ({folder} is not a folder)"))
    found = []
    for name, file in BACKBONE_FILES.items():
        path = os.path.join(folder, file)
        if os.path.exists(path):
            try:
                state = torch.load(path, map_location="cpu", weights_only=True)
            except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's input problem
                raise InrInputError(f"{path}: not a readable torch state dict ({exc})") from None
            found.append(Backbone(name, state).to(torch.device(device)))
    if not found:
        raise InrInputError(MISSING_WEIGHTS + f" ({folder} holds neither alexnet.pth nor vgg16.pth)")
    return found


def _standardise(rgb: torch.Tensor) -> torch.Tensor:
    shift = torch.tensor(_SHIFT, device=rgb.device).view(1, 3, 1, 1)
    scale = torch.tensor(_SCALE, device=rgb.device).view(1, 3, 1, 1)
    return (rgb * 2 - 1 - shift) / scale


def feature_distance(backbones: list[Backbone], a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """LPIPS-style distance (uniform channel weights) of RGB batches on [0, 1], [B, 3, h, w]."""
    total = torch.zeros((), device=a.device)
    for net in backbones:
        for fa, fb in zip(net.taps(_standardise(a)), net.taps(_standardise(b))):
            na = fa / (fa.norm(dim=1, keepdim=True) + 1e-10)
            nb = fb / (fb.norm(dim=1, keepdim=True) + 1e-10)
            total = total + ((na - nb) ** 2).sum(dim=1).mean()
    return total / len(backbones)
