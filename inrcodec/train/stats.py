"""Running quality statistics of an encode: what a GOM adds, what the journal keeps, what the
summary reports. A new metric is one field here."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from ..metrics import psnr_from_mse, psnr_yuv_from_sse


@dataclass
class GopReport:
    """What one fitted GOP (of one layer) cost and achieved."""

    gop_index: int
    kind: str
    n_frames: int
    bytes: int
    est_bits: float
    eps_code: int
    digest: str
    seconds: float
    layer: int = 0
    lam: float = 0.0  # the lambda the fit ended at (a target's controller moves it)
    target: float = 0.0  # with --size/--psnr/...: the fit's target (training bits or distortion), else 0
    ctrl: float = 0.0  # the controlled training value last seen (train/target.py learns from it)
    err: float = 0.0  # with --psnr/--ms-ssim: the GOP's measured error (MSE on [0, 1], 1 - MS-SSIM-Y)
    iters: int = 0  # training iterations the fit ran (with --time: what the clock allowed)


# the running sums and their shapes (layer_sse: one row per layer)
_SUMS = {"sse": (3,), "counts": (3,), "sse_rgb": (2,), "ssim_sums": (2,)}


@dataclass
class QualityStats:
    """Sums over frames: Y/U/V squared errors of the top layer and of each layer, sample counts,
    RGB squared error and sample count, luma SSIM and MS-SSIM, the LPIPS-style distance; and the
    per-GOP reports."""

    n_layers: int = 1
    sse: np.ndarray = field(default_factory=lambda: np.zeros(3))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(3))
    sse_rgb: np.ndarray = field(default_factory=lambda: np.zeros(2))
    ssim_sums: np.ndarray = field(default_factory=lambda: np.zeros(2))
    layer_sse: np.ndarray | None = None  # [n_layers, 3]
    deep_sum: float = 0.0
    reports: list[GopReport] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.layer_sse is None:
            self.layer_sse = np.zeros((self.n_layers, 3))

    def add(self, other: "QualityStats") -> None:
        """Add another GOM's sums and append its reports."""
        for key in (*_SUMS, "layer_sse"):
            setattr(self, key, getattr(self, key) + getattr(other, key))
        self.deep_sum += other.deep_sum
        self.reports.extend(other.reports)

    def to_json(self) -> dict:
        """The journal's view (plain lists and numbers)."""
        return {**{k: getattr(self, k).tolist() for k in (*_SUMS, "layer_sse")}, "deep_sum": self.deep_sum,
                "reports": [asdict(r) for r in self.reports]}

    @classmethod
    def from_json(cls, state: dict, n_layers: int) -> "QualityStats":
        """Stats from a journal line, checked like file data: ValueError (or KeyError, TypeError)
        for anything an encoder did not write."""
        sums = {}
        for key, shape in {**_SUMS, "layer_sse": (n_layers, 3)}.items():
            a = np.array(state[key], dtype=np.float64)
            if a.shape != shape or not np.all(np.isfinite(a)) or np.any(a < 0):
                raise ValueError(f"{key} is not {shape} non-negative numbers")
            sums[key] = a
        deep_sum = float(state["deep_sum"])
        if not math.isfinite(deep_sum):
            raise ValueError("deep_sum is not finite")
        if not isinstance(state["reports"], list):
            raise ValueError("reports is not a list")
        reports = [GopReport(**r) for r in state["reports"]]
        kinds = {"int": int, "str": str, "float": (int, float)}  # GopReport's annotations
        if any(not isinstance(getattr(r, f.name), kinds[f.type]) or isinstance(getattr(r, f.name), bool)
               for r in reports for f in fields(GopReport)):
            raise ValueError("a report has a field of the wrong type")
        return cls(n_layers, deep_sum=deep_sum, reports=reports, **sums)

    def summary(self, peak: int, n_frames: int, ssim: bool, deep: bool) -> dict:
        """The summary's quality fields: PSNRs at ``peak``, mean SSIMs (``ssim``: the frame holds
        an SSIM window), the mean deep distance (``deep``: it was measured), per-layer figures."""
        layered = self.n_layers > 1
        return {
            **psnr_yuv_from_sse(self.sse, self.counts, peak),
            "psnr_rgb": psnr_from_mse(self.sse_rgb[0] / self.sse_rgb[1], peak),
            **({"ssim_y": self.ssim_sums[0] / n_frames, "ms_ssim_y": self.ssim_sums[1] / n_frames} if ssim else {}),
            "deep_distance": self.deep_sum / n_frames if deep else None,
            "layer_psnr_yuv": [psnr_yuv_from_sse(s, self.counts, peak)["psnr_yuv"] for s in self.layer_sse]
            if layered else [],
            "layer_bytes": [sum(r.bytes for r in self.reports if r.layer == k) for k in range(self.n_layers)]
            if layered else [],
        }
