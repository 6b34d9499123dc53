"""Quality and rate measures for reports and benchmarks, in numpy only (no torch).

Rate-distortion numbers must mean what published tables mean, so each measure follows one stated
convention:

* ``psnr_yuv``: per-plane PSNR from the mean squared error over the whole sequence (not the mean
  of per-frame PSNRs), and ``psnr_yuv = (6 * psnr_y + psnr_u + psnr_v) / 8`` as in the JVET
  common test conditions.
* ``psnr_rgb``: YUV -> RGB by the matrix the source declares (H.273 code 1 = BT.709, 9/10 = BT.2020,
  anything else 8-bit YUV here, including 2 = unspecified, = BT.601), limited range unless the range
  is ``'full'``; 4:2:0 chroma upsampled by pixel replication; RGB rounded to integers and clipped to
  0..255 before the PSNR over the sequence.
* ``ssim``: Wang et al. 2004, 11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, over the
  positions where the window fits (no padding); planes need at least 11x11 samples.
* ``ms_ssim``: Wang et al. 2003, up to 5 scales with 2x2 average downsampling (an odd last row or
  column is dropped) and weights 0.0448, 0.2856, 0.3001, 0.2363, 0.1333. When a plane is too small
  for 5 scales (a scale needs 11x11 samples), only the scales that fit are used and their weights
  are renormalised to sum to 1. Negative contrast-structure terms are clipped to 0 so that the
  fractional powers stay real.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

# SSIM constants (Wang et al. 2004): window side in samples, Gaussian sigma in samples, K1, K2.
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
# MS-SSIM weights from fine to coarse (Wang et al. 2003).
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
# Luma weight of YUV PSNR against one for each chroma plane (JVET CTC).
PSNR_YUV_WEIGHTS = (6, 1, 1)
# Kr, Kb of the YUV -> RGB matrices by H.273 MatrixCoefficients code; other codes use BT.601.
_KR_KB = {1: (0.2126, 0.0722), 9: (0.2627, 0.0593), 10: (0.2627, 0.0593)}
_KR_KB_BT601 = (0.299, 0.114)


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays as float64, after checking they have the same shape."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        raise ValueError("cannot measure empty arrays")
    return a, b


def _psnr_from_mse(mse: float, peak: float) -> float:
    """PSNR in dB of a mean squared error; inf when the error is zero."""
    return math.inf if mse == 0 else 10.0 * math.log10(peak * peak / mse)


def psnr(a, b, peak: float = 255) -> float:
    """PSNR in dB between two arrays of equal shape (inf when identical).

    >>> round(psnr(np.zeros((4, 4)), np.ones((4, 4))), 4)
    48.1308
    """
    a, b = _pair(a, b)
    return _psnr_from_mse(float(np.mean((a - b) ** 2)), peak)


def _sse_per_plane(frames_a: Iterable[Sequence], frames_b: Iterable[Sequence], convert=None):
    """Sum of squared errors and sample count per plane over a sequence of frame pairs."""
    sse: list[float] | None = None
    count: list[int] | None = None
    n = 0
    missing = object()
    iter_b = iter(frames_b)
    for fa in frames_a:
        fb = next(iter_b, missing)
        if fb is missing:
            raise ValueError(f"second sequence ends after {n} frames")
        if convert is not None:
            fa, fb = convert(fa), convert(fb)
        if len(fa) != len(fb):
            raise ValueError(f"frame {n}: {len(fa)} planes vs {len(fb)}")
        if sse is None:
            sse, count = [0.0] * len(fa), [0] * len(fa)
        for i, (pa, pb) in enumerate(zip(fa, fb)):
            pa, pb = _pair(pa, pb)
            sse[i] += float(np.sum((pa - pb) ** 2))
            count[i] += pa.size
        n += 1
    if next(iter_b, missing) is not missing:
        raise ValueError(f"first sequence ends after {n} frames")
    if sse is None:
        raise ValueError("cannot measure empty sequences")
    return sse, count


def psnr_yuv(frames_a: Iterable[Sequence], frames_b: Iterable[Sequence], peak: float = 255) -> dict[str, float]:
    """psnr_y, psnr_u, psnr_v (each from the sequence MSE) and their 6:1:1 average psnr_yuv."""
    sse, count = _sse_per_plane(frames_a, frames_b)
    if len(sse) != 3:
        raise ValueError(f"YUV frames have 3 planes, got {len(sse)}")
    y, u, v = (_psnr_from_mse(s / c, peak) for s, c in zip(sse, count))
    wy, wu, wv = PSNR_YUV_WEIGHTS
    return {"psnr_y": y, "psnr_u": u, "psnr_v": v, "psnr_yuv": (wy * y + wu * u + wv * v) / (wy + wu + wv)}


def yuv_to_rgb(planes: Sequence[np.ndarray], matrix: int = 6, color_range: str = "limited") -> np.ndarray:
    """One 8-bit YUV frame (4:2:0 or 4:4:4) as an (H, W, 3) uint8 RGB image."""
    y, u, v = (np.asarray(p, dtype=np.float64) for p in planes)
    h, w = y.shape
    if u.shape != v.shape:
        raise ValueError(f"U and V shapes differ: {u.shape} vs {v.shape}")
    if u.shape == ((h + 1) // 2, (w + 1) // 2) and u.shape != y.shape:
        # Pixel replication, cropped back for odd sizes.
        u = np.repeat(np.repeat(u, 2, axis=0), 2, axis=1)[:h, :w]
        v = np.repeat(np.repeat(v, 2, axis=0), 2, axis=1)[:h, :w]
    elif u.shape != y.shape:
        raise ValueError(f"chroma shape {u.shape} is neither 4:2:0 nor 4:4:4 for luma {y.shape}")
    if color_range == "full":
        yn, cb, cr = y / 255.0, (u - 128.0) / 255.0, (v - 128.0) / 255.0
    elif color_range in ("limited", "unknown"):
        yn, cb, cr = (y - 16.0) / 219.0, (u - 128.0) / 224.0, (v - 128.0) / 224.0
    else:
        raise ValueError(f"unknown colour range {color_range!r}")
    kr, kb = _KR_KB.get(matrix, _KR_KB_BT601)
    kg = 1.0 - kr - kb
    r = yn + 2.0 * (1.0 - kr) * cr
    b = yn + 2.0 * (1.0 - kb) * cb
    g = (yn - kr * r - kb * b) / kg
    rgb = np.stack([r, g, b], axis=-1) * 255.0
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def psnr_rgb(
    frames_a: Iterable[Sequence], frames_b: Iterable[Sequence], matrix: int = 6, color_range: str = "limited"
) -> float:
    """PSNR in dB over all R, G, B samples of the sequence after converting both sides to RGB."""

    def convert(frame):
        return (yuv_to_rgb(frame, matrix, color_range),)

    sse, count = _sse_per_plane(frames_a, frames_b, convert)
    return _psnr_from_mse(sse[0] / count[0], 255)


def _gaussian_window() -> np.ndarray:
    """The normalised 1-D Gaussian whose outer product is the SSIM window."""
    x = np.arange(SSIM_WINDOW, dtype=np.float64) - (SSIM_WINDOW - 1) / 2
    g = np.exp(-(x * x) / (2 * SSIM_SIGMA * SSIM_SIGMA))
    return g / g.sum()


def _filter_valid(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable 2-D filtering with ``g`` over the positions where the window fits."""
    rows = np.lib.stride_tricks.sliding_window_view(x, g.size, axis=1) @ g
    return np.lib.stride_tricks.sliding_window_view(rows, g.size, axis=0) @ g


def _ssim_terms(a: np.ndarray, b: np.ndarray, peak: float) -> tuple[float, float]:
    """Mean SSIM and mean contrast-structure term of two float planes."""
    if min(a.shape) < SSIM_WINDOW or a.ndim != 2:
        raise ValueError(f"SSIM needs 2-D planes of at least {SSIM_WINDOW}x{SSIM_WINDOW}, got {a.shape}")
    g = _gaussian_window()
    c1 = (SSIM_K1 * peak) ** 2
    c2 = (SSIM_K2 * peak) ** 2
    mu_a, mu_b = _filter_valid(a, g), _filter_valid(b, g)
    var_a = _filter_valid(a * a, g) - mu_a * mu_a
    var_b = _filter_valid(b * b, g) - mu_b * mu_b
    cov = _filter_valid(a * b, g) - mu_a * mu_b
    cs = (2 * cov + c2) / (var_a + var_b + c2)
    luminance = (2 * mu_a * mu_b + c1) / (mu_a * mu_a + mu_b * mu_b + c1)
    return float(np.mean(luminance * cs)), float(np.mean(cs))


def ssim(a, b, peak: float = 255) -> float:
    """Mean SSIM of two planes (11x11 Gaussian window, sigma 1.5; 1.0 when identical).

    >>> ssim(np.full((11, 11), 7), np.full((11, 11), 7))
    1.0
    """
    a, b = _pair(a, b)
    return _ssim_terms(a, b, peak)[0]


def _downsample(x: np.ndarray) -> np.ndarray:
    """2x2 average, dropping an odd last row or column."""
    h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
    x = x[:h, :w]
    return (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2]) / 4.0


def ms_ssim(a, b, peak: float = 255) -> float:
    """Multi-scale SSIM of two planes (up to 5 scales, weights renormalised when fewer fit)."""
    a, b = _pair(a, b)
    if a.ndim != 2 or min(a.shape) < SSIM_WINDOW:
        raise ValueError(f"MS-SSIM needs 2-D planes of at least {SSIM_WINDOW}x{SSIM_WINDOW}, got {a.shape}")
    n_scales = 1
    while n_scales < len(MS_SSIM_WEIGHTS) and min(a.shape) // 2**n_scales >= SSIM_WINDOW:
        n_scales += 1
    weights = np.array(MS_SSIM_WEIGHTS[:n_scales])
    weights /= weights.sum()
    result = 1.0
    for scale, weight in enumerate(weights):
        s, cs = _ssim_terms(a, b, peak)
        if scale == n_scales - 1:
            result *= max(s, 0.0) ** weight
        else:
            result *= max(cs, 0.0) ** weight
            a, b = _downsample(a), _downsample(b)
    return float(result)


def bpp(n_bytes: int, width: int, height: int, n_frames: int) -> float:
    """Bits per pixel: 8 * n_bytes / (width * height * n_frames).

    >>> bpp(176 * 144 // 8, 176, 144, 1)
    1.0
    """
    if width <= 0 or height <= 0 or n_frames <= 0:
        raise ValueError(f"bpp needs positive size and frame count, got {width}x{height}x{n_frames}")
    if n_bytes < 0:
        raise ValueError(f"byte count must be non-negative, got {n_bytes}")
    return 8.0 * n_bytes / (width * height * n_frames)
