"""Quality and rate measures for reports and benchmarks, in numpy only (no torch).

Rate-distortion numbers must mean what published tables mean, so each measure follows one stated
convention:

* ``psnr_yuv``: per-plane PSNR from the mean squared error over the whole sequence (not the mean
  of per-frame PSNRs), and ``psnr_yuv = (6 * psnr_y + psnr_u + psnr_v) / 8`` as in the JVET
  common test conditions.
* ``psnr_rgb``: YUV -> RGB by the matrix the source declares (H.273 code 1 = BT.709, 9/10 = BT.2020,
  anything else, including 2 = unspecified, = BT.601), limited range unless the range is
  ``'full'`` (levels of H.273 at the sample depth: 16, 219, 128, 224 times 2^(D-8)); 4:2:0 chroma
  upsampled by pixel replication; RGB rounded to integers and clipped to 0..2^D-1 before the PSNR
  over the sequence.
* Peaks: every PSNR and SSIM is at the peak of the samples' depth, 2^D - 1 (255, 1023, 4095);
  ``sample_peak`` gives it.
* ``ssim``: Wang et al. 2004, 11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, over the
  positions where the window fits (no padding); planes need at least 11x11 samples.
* ``ms_ssim``: Wang et al. 2003, up to 5 scales with 2x2 average downsampling (an odd last row or
  column is dropped) and weights 0.0448, 0.2856, 0.3001, 0.2363, 0.1333, used as published (they
  sum to 1.0001). When a plane is too small for 5 scales (a scale needs 11x11 samples), only the
  scales that fit are used and their weights are renormalised to sum to 1. Negative
  contrast-structure terms are clipped to 0 so that the fractional powers stay real.
* ``bd_rate_result`` / ``bd_psnr_result``: Bjøntegaard deltas as JVET computes them: each curve is interpolated
  by a monotone piecewise cubic (PCHIP, Fritsch–Carlson), natural log of the rate against quality
  (or quality against log rate), and integrated exactly over the interval both curves cover; never
  extrapolated. Two points per curve give a straight line; four or more is the usual practice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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


def sample_peak(bit_depth: int) -> int:
    """Largest sample value at ``bit_depth`` bits: the peak of PSNR and SSIM (255, 1023, 4095)."""
    if not 1 <= bit_depth <= 16:
        raise ValueError(f"bit depth {bit_depth} outside 1..16")
    return (1 << bit_depth) - 1


def ycbcr_levels(color_range: str, bit_depth: int = 8) -> tuple[float, float, float, float]:
    """(luma black, luma span, chroma zero, chroma span) in samples of ``bit_depth`` bits (H.273):
    limited range 16, 219, 128, 224 times 2^(D-8); full range 0, 2^D-1, 2^(D-1), 2^D-1."""
    if color_range == "full":
        peak = sample_peak(bit_depth)
        return 0.0, float(peak), float(1 << (bit_depth - 1)), float(peak)
    if color_range in ("limited", "unknown"):
        k = 2.0 ** (bit_depth - 8)
        return 16.0 * k, 219.0 * k, 128.0 * k, 224.0 * k
    raise ValueError(f"unknown colour range {color_range!r}")


def psnr_from_mse(mse: float, peak: float = 255) -> float:
    """PSNR in dB of a mean squared error; inf when the error is zero."""
    return math.inf if mse == 0 else 10.0 * math.log10(peak * peak / mse)


def psnr(a, b, peak: float = 255) -> float:
    """PSNR in dB between two arrays of equal shape (inf when identical).

    >>> round(psnr(np.zeros((4, 4)), np.ones((4, 4))), 4)
    48.1308
    """
    a, b = _pair(a, b)
    return psnr_from_mse(float(np.mean((a - b) ** 2)), peak)


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


def psnr_yuv_from_sse(sse: Sequence[float], counts: Sequence[int], peak: float = 255) -> dict[str, float]:
    """psnr_y, psnr_u, psnr_v and 6:1:1 psnr_yuv from each plane's sum of squared errors and sample count.

    For code that accumulates errors as it goes (the encoder's summary) and must agree with ``psnr_yuv``.

    >>> round(psnr_yuv_from_sse([16.0, 4.0, 4.0], [16, 4, 4])["psnr_yuv"], 4)
    48.1308
    """
    if len(sse) != 3 or len(counts) != 3:
        raise ValueError(f"YUV has 3 planes, got {len(sse)} sums and {len(counts)} counts")
    if any(c <= 0 for c in counts):
        raise ValueError(f"sample counts must be positive, got {list(counts)}")
    y, u, v = (psnr_from_mse(s / c, peak) for s, c in zip(sse, counts))
    wy, wu, wv = PSNR_YUV_WEIGHTS
    return {"psnr_y": y, "psnr_u": u, "psnr_v": v, "psnr_yuv": (wy * y + wu * u + wv * v) / (wy + wu + wv)}


def psnr_yuv(frames_a: Iterable[Sequence], frames_b: Iterable[Sequence], peak: float = 255) -> dict[str, float]:
    """psnr_y, psnr_u, psnr_v (each from the sequence MSE) and their 6:1:1 average psnr_yuv."""
    sse, count = _sse_per_plane(frames_a, frames_b)
    if len(sse) != 3:
        raise ValueError(f"YUV frames have 3 planes, got {len(sse)}")
    return psnr_yuv_from_sse(sse, count, peak)


def kr_kb(matrix: int) -> tuple[float, float]:
    """Kr, Kb of the YUV -> RGB matrix of an H.273 MatrixCoefficients code (BT.601 for others)."""
    return _KR_KB.get(matrix, _KR_KB_BT601)


def yuv_to_rgb(planes: Sequence[np.ndarray], matrix: int = 6, color_range: str = "limited",
               bit_depth: int = 8) -> np.ndarray:
    """One YUV frame (4:2:0 or 4:4:4) of ``bit_depth`` bits as an (H, W, 3) RGB image of the same
    depth (uint8 for 8 bits, uint16 above)."""
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
    y0, ys, c0, cs = ycbcr_levels(color_range, bit_depth)
    yn, cb, cr = (y - y0) / ys, (u - c0) / cs, (v - c0) / cs
    kr, kb = kr_kb(matrix)
    kg = 1.0 - kr - kb
    r = yn + 2.0 * (1.0 - kr) * cr
    b = yn + 2.0 * (1.0 - kb) * cb
    g = (yn - kr * r - kb * b) / kg
    peak = sample_peak(bit_depth)
    rgb = np.stack([r, g, b], axis=-1) * peak
    return np.clip(np.rint(rgb), 0, peak).astype(np.uint8 if bit_depth <= 8 else np.uint16)


def psnr_rgb(
    frames_a: Iterable[Sequence], frames_b: Iterable[Sequence], matrix: int = 6, color_range: str = "limited",
    bit_depth: int = 8,
) -> float:
    """PSNR in dB over all R, G, B samples of the sequence after converting both sides to RGB
    (at the peak of ``bit_depth``)."""

    def convert(frame):
        return (yuv_to_rgb(frame, matrix, color_range, bit_depth),)

    sse, count = _sse_per_plane(frames_a, frames_b, convert)
    return psnr_from_mse(sse[0] / count[0], sample_peak(bit_depth))


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
    if n_scales < len(MS_SSIM_WEIGHTS):
        # The published five weights sum to 1.0001 and are used as they are; a subset is rescaled.
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


class Pchip:
    """Monotone piecewise cubic Hermite interpolant (Fritsch–Carlson) of points with increasing x.

    Slopes are zero where the data turn, a weighted harmonic mean of the neighbouring secants
    elsewhere, and a shape-preserving three-point estimate at the ends; with two points it is the
    straight line through them.

    >>> p = Pchip([0.0, 1.0, 2.0], [0.0, 1.0, 4.0])
    >>> float(p(1.0)), round(p.integral(0.0, 2.0), 6)
    (1.0, 2.666667)
    """

    def __init__(self, x, y) -> None:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if x.ndim != 1 or x.shape != y.shape or x.size < 2:
            raise ValueError(f"PCHIP needs two or more (x, y) points, got shapes {x.shape} and {y.shape}")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise ValueError("PCHIP points must be finite")
        h = np.diff(x)
        if np.any(h <= 0):
            raise ValueError(f"PCHIP x values must be strictly increasing, got {x.tolist()}")
        self.x, self.y, self._h = x, y, h
        self.slopes = self._slopes(h, np.diff(y) / h)
        # Integral of each whole interval, closed form of the Hermite cubic.
        whole = h * (y[:-1] + y[1:]) / 2 + h * h * (self.slopes[:-1] - self.slopes[1:]) / 12
        self._cumulative = np.concatenate([[0.0], np.cumsum(whole)])

    @staticmethod
    def _slopes(h: np.ndarray, delta: np.ndarray) -> np.ndarray:
        """Derivative at each point that keeps the interpolant monotone wherever the data are."""
        if delta.size == 1:
            return np.array([delta[0], delta[0]])
        d = np.zeros(delta.size + 1)
        w1 = 2 * h[1:] + h[:-1]
        w2 = h[1:] + 2 * h[:-1]
        same_sign = delta[:-1] * delta[1:] > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            harmonic = (w1 + w2) / (w1 / delta[:-1] + w2 / delta[1:])
        d[1:-1] = np.where(same_sign, harmonic, 0.0)
        d[0] = Pchip._end_slope(h[0], h[1], delta[0], delta[1])
        d[-1] = Pchip._end_slope(h[-1], h[-2], delta[-1], delta[-2])
        return d

    @staticmethod
    def _end_slope(h0: float, h1: float, delta0: float, delta1: float) -> float:
        """Three-point end slope, clipped so the end interval does not overshoot."""
        d = ((2 * h0 + h1) * delta0 - h0 * delta1) / (h0 + h1)
        if np.sign(d) != np.sign(delta0):
            return 0.0
        if np.sign(delta0) != np.sign(delta1) and abs(d) > abs(3 * delta0):
            return 3 * delta0
        return float(d)

    def _locate(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Interval index and position t in [0, 1] within it for each x inside the data range."""
        x = np.asarray(x, dtype=np.float64)
        if np.any(x < self.x[0]) or np.any(x > self.x[-1]):
            raise ValueError(f"PCHIP does not extrapolate: x outside [{self.x[0]}, {self.x[-1]}]")
        k = np.clip(np.searchsorted(self.x, x, side="right") - 1, 0, self.x.size - 2)
        return k, (x - self.x[k]) / self._h[k]

    def __call__(self, x) -> np.ndarray:
        """Interpolated value at x (scalar or array) inside the data range."""
        k, t = self._locate(x)
        h, y0, y1, d0, d1 = self._h[k], self.y[k], self.y[k + 1], self.slopes[k], self.slopes[k + 1]
        t2, t3 = t * t, t * t * t
        return (2 * t3 - 3 * t2 + 1) * y0 + (t3 - 2 * t2 + t) * h * d0 + (3 * t2 - 2 * t3) * y1 + (t3 - t2) * h * d1

    def _antiderivative(self, x: float) -> float:
        """Integral from the first point to x."""
        k, t = self._locate(x)
        k, t = int(k), float(t)
        h, y0, y1, d0, d1 = self._h[k], self.y[k], self.y[k + 1], self.slopes[k], self.slopes[k + 1]
        t2, t3, t4 = t * t, t ** 3, t ** 4
        # Antiderivatives over [0, t] of the four Hermite basis cubics, times dx = h dt.
        part = (y0 * (t4 / 2 - t3 + t) + h * d0 * (t4 / 4 - 2 * t3 / 3 + t2 / 2)
                + y1 * (t3 - t4 / 2) + h * d1 * (t4 / 4 - t3 / 3))
        return float(self._cumulative[k] + h * part)

    def integral(self, a: float, b: float) -> float:
        """Exact integral of the interpolant from a to b (both inside the data range)."""
        return self._antiderivative(b) - self._antiderivative(a)


@dataclass(frozen=True)
class BDResult:
    """A Bjøntegaard delta, or why there is none: ``value`` is None exactly when ``reason`` is set.

    ``low`` and ``high`` bound the common interval the delta averages over (quality for BD-rate,
    natural log of the rate for BD-PSNR); ``unit`` is ``'%'`` or ``'dB'``.
    """

    value: float | None
    unit: str
    low: float | None = None
    high: float | None = None
    reason: str | None = None

    def __str__(self) -> str:
        if self.value is None:
            return f"n/a ({self.reason})"
        return f"{self.value:+.2f} {self.unit}" if self.unit == "dB" else f"{self.value:+.2f}%"


def _rd_points(points, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Rates and qualities of one curve as float arrays, after checking them."""
    arr = np.asarray(list(points), dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name}: expected (rate, quality) pairs, got shape {arr.shape}")
    if arr.shape[0] < 2:
        raise ValueError(f"{name}: a Bjøntegaard delta needs at least 2 points per curve, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: rates and qualities must be finite")
    if np.any(arr[:, 0] <= 0):
        raise ValueError(f"{name}: rates must be positive (their logarithm is interpolated)")
    return arr[:, 0], arr[:, 1]


def _sorted_distinct(x: np.ndarray, y: np.ndarray, name: str, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Points sorted by x; two points with the same x leave the curve undefined, so they raise."""
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if np.any(np.diff(x) == 0):
        raise ValueError(f"{name}: two points share the same {what}; average or drop one")
    return x, y


def _bd_average(anchor_xy, test_xy, what: str) -> tuple[float | None, float, float, str | None]:
    """Mean of test(x) - anchor(x) over the x interval both cover, or a reason when they don't overlap."""
    (xa, ya), (xt, yt) = anchor_xy, test_xy
    low, high = max(xa[0], xt[0]), min(xa[-1], xt[-1])
    if not high > low:
        return None, low, high, (f"no overlap: anchor {what} [{xa[0]:.4g}, {xa[-1]:.4g}], "
                                 f"test {what} [{xt[0]:.4g}, {xt[-1]:.4g}]")
    diff = Pchip(xt, yt).integral(low, high) - Pchip(xa, ya).integral(low, high)
    return diff / (high - low), low, high, None


def bd_rate_result(anchor, test) -> BDResult:
    """Bjøntegaard delta rate in percent (negative: test needs fewer bits), with the reason when undefined.

    ``anchor`` and ``test`` are iterables of (rate, quality) pairs in any order, e.g. (bpp, PSNR-YUV).

    >>> print(bd_rate_result([(1, 30), (2, 40)], [(0.9, 30), (1.8, 40)]))
    -10.00%
    >>> print(bd_rate_result([(1, 30), (2, 33)], [(3, 35), (4, 38)]))
    n/a (no overlap: anchor quality [30, 33], test quality [35, 38])
    """
    ra, qa = _rd_points(anchor, "anchor")
    rt, qt = _rd_points(test, "test")
    curves = [_sorted_distinct(q, np.log(r), name, "quality") for q, r, name in ((qa, ra, "anchor"), (qt, rt, "test"))]
    mean_log_ratio, low, high, reason = _bd_average(curves[0], curves[1], "quality")
    value = None if mean_log_ratio is None else (math.exp(mean_log_ratio) - 1.0) * 100.0
    return BDResult(value, "%", low, high, reason)


def bd_psnr_result(anchor, test) -> BDResult:
    """Bjøntegaard delta quality in dB at equal rate (positive: test is better), with the reason when undefined.

    >>> print(bd_psnr_result([(1, 30), (2, 40)], [(1, 31), (2, 41)]))
    +1.00 dB
    """
    ra, qa = _rd_points(anchor, "anchor")
    rt, qt = _rd_points(test, "test")
    curves = [_sorted_distinct(np.log(r), q, name, "rate") for q, r, name in ((qa, ra, "anchor"), (qt, rt, "test"))]
    mean_diff, low, high, reason = _bd_average(curves[0], curves[1], "log rate")
    return BDResult(mean_diff, "dB", low, high, reason)

