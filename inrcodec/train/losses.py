"""Training distortions (``--loss``): what the encoder minimises beside the rate.

Every loss compares the network's Y, U, V planes with the source's, samples on [0, 1], plane by
plane, and weights the planes 6:1:1 as PSNR-YUV does (JVET common test conditions). The SSIM
family treats each plane as a grey image at its own resolution (chroma at 4:2:0 size), with the
11x11 Gaussian window of ``inrcodec.metrics`` and the same scale rule for MS-SSIM: as many of the
five scales as the plane's shorter side allows (each needs >= 11 samples), weights renormalised.

A loss's ``lambda_scale`` brings its distortion to MSE's units near our operating points, so that
one ``--quality`` (one lambda) lands at a similar rate whichever loss is chosen.

``--loss NAME[:key=value,...]`` sets a loss's weights, e.g. ``l1-ssim:l1=0.5,ssim=0.5``.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import InrInputError
from ..metrics import MS_SSIM_WEIGHTS, SSIM_K1, SSIM_K2, SSIM_SIGMA, SSIM_WINDOW, kr_kb, sample_peak, ycbcr_levels
from ..registry import Registry
from .perceptual import feature_distance

PLANE_WEIGHTS = (6.0, 1.0, 1.0)


class Loss(ABC):
    """A differentiable distortion of predicted against target planes; 0 when they are equal."""

    lambda_scale: float = 1.0
    defaults: dict[str, float] = {}

    def __init__(self, context: dict | None = None, **weights: float) -> None:
        self.context = context or {}
        unknown = set(weights) - set(self.defaults)
        if unknown:
            known = ", ".join(self.defaults) or "none"
            raise InrInputError(f"--loss {self.name}: unknown weight {', '.join(sorted(unknown))} (known: {known})")
        self.weights = {**self.defaults, **weights}

    name = "loss"  # stamped by LOSSES.register

    @abstractmethod
    def plane(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Distortion of one plane, [B, h, w] each."""

    def __call__(self, pred: list[torch.Tensor], target: list[torch.Tensor]) -> torch.Tensor:
        """The 6:1:1-weighted distortion over the three planes."""
        total = sum(w * self.plane(p, t) for w, p, t in zip(PLANE_WEIGHTS, pred, target))
        return total / sum(PLANE_WEIGHTS)

    def check_size(self, shapes: list[tuple[int, int]]) -> None:
        """Raise InrInputError if a plane is too small for this loss."""


LOSSES: Registry[type[Loss]] = Registry("loss")


@LOSSES.register("mse")
class MSELoss(Loss):
    """Mean squared error (PSNR's distortion): the default."""


    def plane(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.mean((pred - target) ** 2)


@LOSSES.register("l1")
class L1Loss(Loss):
    """Mean absolute error."""

    # L1 near 33 dB is ~0.015 against an MSE of ~0.0005
    lambda_scale = 0.03

    def plane(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.mean(torch.abs(pred - target))


def _window(device: torch.device) -> torch.Tensor:
    x = torch.arange(SSIM_WINDOW, dtype=torch.float32, device=device) - (SSIM_WINDOW - 1) / 2
    g = torch.exp(-(x * x) / (2 * SSIM_SIGMA * SSIM_SIGMA))
    return g / g.sum()


def _blur(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filter over the positions where the window fits ("valid"), x [B, 1, h, w]."""
    x = F.conv2d(x, g.view(1, 1, 1, -1))
    return F.conv2d(x, g.view(1, 1, -1, 1))


def ssim_terms(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean SSIM and mean contrast-structure term of [B, h, w] planes on [0, 1] (peak 1)."""
    g = _window(a.device)
    a, b = a[:, None], b[:, None]
    c1, c2 = SSIM_K1**2, SSIM_K2**2
    mu_a, mu_b = _blur(a, g), _blur(b, g)
    var_a = _blur(a * a, g) - mu_a * mu_a
    var_b = _blur(b * b, g) - mu_b * mu_b
    cov = _blur(a * b, g) - mu_a * mu_b
    cs = (2 * cov + c2) / (var_a + var_b + c2)
    lum = (2 * mu_a * mu_b + c1) / (mu_a * mu_a + mu_b * mu_b + c1)
    return torch.mean(lum * cs), torch.mean(cs)


def ms_ssim_torch(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """MS-SSIM of [B, h, w] planes on [0, 1], as ``inrcodec.metrics.ms_ssim`` computes it."""
    n_scales = 1
    while n_scales < len(MS_SSIM_WEIGHTS) and min(a.shape[-2:]) // 2**n_scales >= SSIM_WINDOW:
        n_scales += 1
    weights = torch.tensor(MS_SSIM_WEIGHTS[:n_scales], dtype=torch.float32)
    if n_scales < len(MS_SSIM_WEIGHTS):
        weights = weights / weights.sum()
    result = torch.ones((), device=a.device)
    for scale in range(n_scales):
        s, cs = ssim_terms(a, b)
        term = s if scale == n_scales - 1 else cs
        # clamped off zero: a negative term has no real power, and the gradient of x**w at 0 is infinite
        result = result * torch.clamp(term, min=1e-6) ** float(weights[scale])
        if scale < n_scales - 1:
            h, w = a.shape[-2] // 2 * 2, a.shape[-1] // 2 * 2
            a = F.avg_pool2d(a[:, None, :h, :w], 2)[:, 0]
            b = F.avg_pool2d(b[:, None, :h, :w], 2)[:, 0]
    return result


class _SSIMFamily(Loss):
    def check_size(self, shapes: list[tuple[int, int]]) -> None:
        small = [s for s in shapes if min(s) < SSIM_WINDOW]
        if small:
            raise InrInputError(f"--loss {self.name} needs every plane at least {SSIM_WINDOW}x{SSIM_WINDOW} "
                                f"(chroma included); this video has {small[0][1]}x{small[0][0]}")


@LOSSES.register("l1-ssim")
class L1SSIMLoss(_SSIMFamily):
    """GNeRV's 0.7 * L1 + 0.3 * (1 - SSIM)."""

    defaults = {"l1": 0.7, "ssim": 0.3}
    lambda_scale = 0.03

    def plane(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        l1 = torch.mean(torch.abs(pred - target))
        return self.weights["l1"] * l1 + self.weights["ssim"] * (1 - ssim_terms(pred, target)[0])


@LOSSES.register("ms-ssim")
class MSSSIMLoss(_SSIMFamily):
    """0.84 * (1 - MS-SSIM) + 0.16 * L1 (Zhao et al.'s mix): perceptual, needs no pretrained
    weights (the recommended perceptual default). The L1 share matters: SSIM's windows barely see
    the outermost 5 samples of a plane, and pure 1 - MS-SSIM on carphone left a coloured seam along
    the frame's edges (q2, 8000 iterations); ``ms-ssim:l1=0`` is the pure form."""

    defaults = {"msssim": 0.84, "l1": 0.16}
    # 1 - MS-SSIM near our operating points (~0.98) is ~0.02, as is L1, against an MSE of ~0.0005;
    # carphone q2 at 0.025 (pure form) landed at 0.071 bpp against mse's 0.076
    lambda_scale = 0.025

    def plane(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        l1 = torch.mean(torch.abs(pred - target))
        return self.weights["msssim"] * (1 - ms_ssim_torch(pred, target)) + self.weights["l1"] * l1


@LOSSES.register("perceptual")
class PerceptualLoss(Loss):
    """6:1:1 MSE plus an LPIPS-style deep-feature distance on RGB, averaged over the pretrained
    backbones found in ``--perceptual-weights DIR`` (POVI §5's ensemble; perceptual.py)."""

    defaults = {"mse": 1.0, "deep": 0.005}

    def __init__(self, context: dict | None = None, **weights: float) -> None:
        super().__init__(context, **weights)
        from .perceptual import load_backbones
        ctx = self.context
        self.backbones = load_backbones(ctx.get("perceptual_weights"), ctx.get("device", "cpu"))
        self.kr, self.kb = kr_kb(ctx.get("matrix", 2))
        # Y'CbCr levels as fractions of the peak, so planes on [0, 1] convert at any depth
        depth = ctx.get("bit_depth", 8)
        self.levels = [v / sample_peak(depth) for v in ycbcr_levels(ctx.get("color_range") or "unknown", depth)]

    plane = MSELoss.plane

    def rgb(self, planes: list[torch.Tensor]) -> torch.Tensor:
        """[B, 3, h, w] RGB on [0, 1] of Y, U, V planes on [0, 1] (chroma replicated for 4:2:0),
        as inrcodec.metrics.yuv_to_rgb converts (without its rounding)."""
        y, u, v = planes
        h, w = y.shape[-2:]
        if u.shape[-2:] != y.shape[-2:]:
            u = u.repeat_interleave(2, -2).repeat_interleave(2, -1)[..., :h, :w]
            v = v.repeat_interleave(2, -2).repeat_interleave(2, -1)[..., :h, :w]
        y0, ys, c0, cs = self.levels
        yn, cb, cr = (y - y0) / ys, (u - c0) / cs, (v - c0) / cs
        r = yn + 2 * (1 - self.kr) * cr
        b = yn + 2 * (1 - self.kb) * cb
        g = (yn - self.kr * r - self.kb * b) / (1 - self.kr - self.kb)
        return torch.stack([r, g, b], dim=1).clamp(0, 1)

    def deep(self, pred: list[torch.Tensor], target: list[torch.Tensor]) -> torch.Tensor:
        """The LPIPS-style distance of Y, U, V planes [B, h, w] on [0, 1] (also the reported metric)."""
        return feature_distance(self.backbones, self.rgb(pred), self.rgb(target))

    def __call__(self, pred: list[torch.Tensor], target: list[torch.Tensor]) -> torch.Tensor:
        mse = super().__call__(pred, target)
        return self.weights["mse"] * mse + self.weights["deep"] * self.deep(pred, target)


def parse_loss(spec: str) -> tuple[type[Loss], dict[str, float]]:
    """The loss class and weights of ``NAME[:key=value,...]``; InrInputError naming what is wrong."""
    name, _, rest = spec.partition(":")
    try:
        cls = LOSSES.get(name)
    except Exception as exc:  # the registry's message lists the known names
        raise InrInputError(f"--loss: {exc}") from None
    weights = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        try:  # "key" alone leaves value empty, which float() refuses too
            weights[key.strip()] = float(value)
        except ValueError:
            raise InrInputError(f"--loss {name}: expected key=number, got {item!r}") from None
    unknown = set(weights) - set(cls.defaults)
    if unknown:
        known = ", ".join(cls.defaults) or "none"
        raise InrInputError(f"--loss {name}: unknown weight {', '.join(sorted(unknown))} (known: {known})")
    return cls, weights


def make_loss(spec: str, **context) -> Loss:
    """A loss from ``NAME[:key=value,...]``; ``context`` (matrix, color_range, bit_depth,
    perceptual_weights, device) is what a loss on RGB or deep features needs. InrInputError
    naming what is wrong."""
    cls, weights = parse_loss(spec)
    return cls(context, **weights)


@dataclass(frozen=True)
class LossSpec:
    """A loss as an encode plan holds it: the ``--loss`` text and the context it needs."""

    spec: str = "mse"
    perceptual_weights: str | None = None  # --perceptual-weights
    matrix: int = 2
    color_range: str | None = None
    bit_depth: int = 8


@functools.lru_cache(maxsize=8)
def build_loss(spec: LossSpec, device: str = "cpu") -> Loss:
    """The loss of ``spec`` on ``device``, built once per process (a perceptual loss loads backbones)."""
    return make_loss(spec.spec, perceptual_weights=spec.perceptual_weights, matrix=spec.matrix,
                     color_range=spec.color_range, bit_depth=spec.bit_depth, device=torch.device(device))
