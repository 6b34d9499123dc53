"""A PSNR no network reaches in the budget, refused before the encode trains (issue 29).

``--psnr`` picks its rung from a prior fitted on carphone (train/target.py), and a clip much harder than
carphone cannot be told from it: ``--psnr 36`` on the mandelbrot clip trained for 704 s to reach 29.51 dB.
So before training, the largest rung's network is fitted to the first GOP twice, for an eighth and a quarter
of the iterations the budget gives it, at most ``PROBE_ITERS`` (each a whole short fit, quantised and
coded, with its own learning-rate schedule), and its reach in the budget is extrapolated: past the probe, PSNR gains at most what the probe's last doubling of
iterations gained, per doubling. Measured with q9 on the first 30 frames (``inrcodec enc CLIP --frames 30
--gop 30 -q 9 --iters N``, N = 100 .. 1600, docs/encoder-notes.md), the gain per doubling falls or holds
from 400 iterations on: carphone 2.0 then 1.3 dB, mandelbrot 1.0 then 1.0 dB. A target above that
ceiling plus ``PROBE_MARGIN_DB`` is refused, one line, exit 7; one below it trains as before.

The probe is the first GOP only: the target is the clip's average, and a harder later GOP is not seen
(the ceiling is then too high and the target is tried, as without a probe). MS-SSIM targets are not probed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..errors import InrInputError
from ..metrics import sample_peak
from .gom import GomJob, encode_gom
from .plan import EncodePlan, modelled_iteration_seconds
from .stats import psnr_yuv_from_sse

# the two short fits: an eighth and a quarter of the budget, at most 400 and 800 iterations (from 400 on the
# gain per doubling falls or holds; below, it may still rise: carphone 2.3, 2.7 dB from 100 to 400)
PROBE_ITERS = (400, 800)
PROBE_MIN = 10  # the fewest iterations of a probe fit
PROBE_MARGIN_DB = 0.5  # on top of the extrapolation


@dataclass(frozen=True)
class Ceiling:
    """What the probe measured and what it makes of it."""

    quality: int  # the rung probed: the largest
    iters: tuple[int, ...]  # the probe fits' iterations
    psnr: tuple[float, ...]  # PSNR-YUV of the first GOP after each
    budget_iters: int  # that rung's I-model's iterations in the plan's time
    db: float  # the highest PSNR-YUV the extrapolation allows, margin included

    def describe(self) -> str:
        fits = ", ".join(f"{p:.2f} dB at {n}" for p, n in zip(self.psnr, self.iters))
        return (f"q{self.quality} on the first GOP: {fits} iterations; at most {self.db:.1f} dB "
                f"in {self.budget_iters} iterations")


def probe_iters(budget_iters: int) -> tuple[int, ...]:
    """The probe fits' iterations for a budget of ``budget_iters``: 1/8 and 1/4 of it, capped by PROBE_ITERS.

    >>> probe_iters(10000), probe_iters(1000), probe_iters(8)
    ((400, 800), (125, 250), (10, 10))
    """
    return tuple(max(PROBE_MIN, min(cap, budget_iters * (k + 1) // 8)) for k, cap in enumerate(PROBE_ITERS))


def ceiling_db(psnr: tuple[float, ...], iters: tuple[int, ...], budget_iters: int) -> float:
    """The extrapolated reach: the last probe plus its last doubling's gain per doubling up to
    ``budget_iters``, plus the margin.

    >>> round(ceiling_db((29.5, 30.5), (400, 800), 6400), 2)  # three doublings past 800 at 1 dB each, + 0.5
    34.0
    >>> ceiling_db((30.0, 29.0), (400, 800), 6400)  # no gain: no more
    29.5
    """
    gain = max(0.0, psnr[-1] - psnr[-2])
    per_doubling = gain / math.log2(iters[-1] / iters[-2]) if iters[-1] > iters[-2] else 0.0
    doublings = max(0.0, math.log2(max(1, budget_iters) / iters[-1]))
    return psnr[-1] + per_doubling * doublings + PROBE_MARGIN_DB


def probe_ceiling(plan: EncodePlan, cls, model: str, frames: list, progress=None) -> Ceiling:
    """Fit ``cls``'s largest rung to ``frames`` (the first GOP) for each of probe_iters' counts and
    extrapolate to the iterations the plan's time gives that rung's I-model. ``progress``: the encoder's bar
    (label, done, total, values), shown as "probe"."""
    top = max(cls.QUALITY)
    h = plan.header
    header = replace(h, n_frames=len(frames), gom_size=1, arch_params=cls.from_quality(top))
    per_iter = modelled_iteration_seconds(header, model, plan.batch)
    budget = max(1, round(plan.gop_iters[0] * plan.iter_seconds / per_iter)) if per_iter > 0 else plan.gop_iters[0]
    iters = probe_iters(budget)
    psnr: list[float] = []
    total = sum(iters)

    def bar(done_before: int):
        return None if progress is None else (
            lambda _gom, _label, done, _iters, values: progress("probe", done_before + done, total, values))

    for k, n in enumerate(iters):
        probe = replace(plan, header=header, layers=None, lams=(cls.LAMBDAS[top],), gop_iters=(n,), target=None,
                        time_budget=None, iter_seconds=per_iter)
        stats = encode_gom(GomJob(probe, 0, frames), bar(sum(iters[:k]))).stats
        psnr.append(psnr_yuv_from_sse(stats.sse, stats.counts, sample_peak(h.bit_depth))["psnr_yuv"])
    return Ceiling(top, iters, tuple(psnr), budget, ceiling_db(tuple(psnr), iters, budget))


def check_reachable(plan: EncodePlan, cls, model: str, frames: list, progress=None) -> Ceiling:
    """InrInputError (exit 7) when the plan's --psnr target is above the probe's ceiling; the ceiling
    otherwise (the encoder calls it for a PSNR target only: it reads the first GOP ahead for it)."""
    t = plan.target
    ceiling = probe_ceiling(plan, cls, model, frames, progress)
    if t.value > ceiling.db:
        raise InrInputError(f"{t.asked} is out of reach for this video in this time: {ceiling.describe()} "
                            f"(ask for less, or a slower --preset or longer --time)")
    return ceiling
