"""Encoding to a target: a file size (``--size``, ``--bitrate``) or a quality (``--psnr``, ``--ms-ssim``).

How (docs/encoder-notes.md, "Encoding to a target"):

1. **Network size** (the file-wide ``arch_params``) from a prior: along the quality ladder carphone's
   medium encodes follow ``bpp = 0.1217 * (lambda / 300) ** 0.6`` and ``PSNR-YUV = 34.89 + 1.42 *
   log2(lambda / 300)``; the rung whose prior is nearest the target (in log bpp, or in dB) is taken.
2. **lambda inside each fit** (``LambdaControl``, a hook of ``fit.py``): every ``CONTROL_EVERY``
   iterations between ``CONTROL_START`` and ``CONTROL_STOP`` of the fit (for a distortion target between
   ``DIST_CONTROL_START`` and ``DIST_CONTROL_STOP``), log lambda moves by
   ``CONTROL_GAIN`` times the log ratio of the model's training rate (bits) to its target — or of the
   target to the training distortion. The fit thus lands on its target whatever its iteration count.
3. **Targets across models** (``allocate`` for GOMs, ``GomControl`` for the GOPs in one): a GOM gets the
   budget left after the GOMs known so far, in proportion to its GOPs' weights (I-model 1, P-model
   ``w_p``, times frames / GOP); inside a GOM each model gets what is left of the GOM's budget in the same
   proportion, so later models absorb earlier ones' error. ``w_p`` is learned from the models already
   coded so that I- and P-models end at one lambda (the RD-optimal split: bytes ~ lambda ** BETA). A
   distortion target is kept the same way on the clip's average error (MSE for --psnr, 1 - MS-SSIM-Y
   for --ms-ssim): every later GOP aims at the error the clip still allows.

Determinism: GOM ``k``'s target is a function of the reports of GOMs ``0 .. k - lag`` only (``lag`` is the
worker count, the GOMs that may still be in flight when job ``k`` is built), recomputed from the reports
every time, so a resumed encode (its reports come from the journal) and an uninterrupted one give
GOM ``k`` the same target, and the bytes do not depend on which worker finished first.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..errors import InrInputError

# the prior along the ladder (carphone 60 frames, GOP 30, GOM 2, medium, SOAP: the bench in docs/encoder-notes.md)
PRIOR_BPP, PRIOR_PSNR, PRIOR_LAMBDA = 0.1217, 34.89, 300.0
BETA = 0.6  # bytes ~ lambda ** BETA (the ladder's q2..q8 give 0.53..0.72)
DB_PER_OCTAVE = 1.42  # PSNR-YUV per doubling of lambda along the ladder
# a P-model's bytes against its GOM's I-model's at one lambda, before any is measured. Measured at fixed
# lambda (time presets, one thread): carphone 0.76 (q8) and 0.82 (lambda 590), the mandelbrot clip 0.88
# (lambda 450). 0.5 (the old prior) gave the I-model two thirds of a one-GOM budget, and the last P-model,
# which sheds bytes slowly as lambda falls, could not make up for it: --size 40k on mandelbrot +11.8 %
W_P_PRIOR = 0.8
# a model after the first of its GOM starts at the lambda its byte target asks for, predicted from the
# model before it (bytes ~ lambda ** BETA), within this factor of where that model ended
START_RANGE = 4.0
# --psnr: the decoded MSE per unit of the training distortion the controller holds, before any model is
# measured. The controller acts on the 15-85 % window; the last 15 % of the fit (small learning rate,
# exact rounding) lowers the error further: carphone's I-model ended at 2.20e-4 decoded for 2.71e-4
# held (0.81), which overshot --psnr 36 by 0.59 dB with a prior of 1 (docs/encoder-notes.md)
PSNR_RATIO_PRIOR = 0.8
# bytes of the file outside the models: preamble, SHDR, disp, GIDX, IEND, the targ chunk (§5.8: about
# 100 bytes with a size target), and per chunk its framing and index record (measured on gnerv files:
# 94 + 18 per MODL, before targ)
FILE_FIXED_BYTES, CHUNK_BYTES = 94 + 100, 18
MIN_MODEL_BYTES = 64  # a model below this is side information only: a target that leaves less is refused
# the controller inside each fit (fractions of the fit's iterations)
# CONTROL_SWING: a log-ratio error of 1 held over the whole window moves log lambda by this much, so a
# fit of any length can swing lambda across its range; each step's error is clipped to +-1
CONTROL_EVERY, CONTROL_START, CONTROL_STOP, CONTROL_SWING = 5, 0.15, 0.85, 3.0
# a distortion target is held later in the fit: early on the distortion is far above where the fit ends
# whatever lambda is, and a controller that acts then raises lambda too far (--psnr 36 on carphone: lambda
# 450 -> 836, 36.39 dB); from half-way the distortion is near its final level
DIST_CONTROL_START, DIST_CONTROL_STOP = 0.5, 0.9
LAMBDA_RANGE = 64.0  # the controller keeps lambda within this factor of where the fit started
KINDS = ("bytes", "psnr", "ms-ssim")

_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kKmM]?)\s*$")


def parse_amount(text: str, flag: str) -> float:
    """``"20k"`` -> 20000.0, ``"1.5M"`` -> 1500000.0 (k and M are 1000 and 1000000); InrInputError otherwise.

    >>> parse_amount("20k", "--size"), parse_amount("1.5M", "--bitrate"), parse_amount("900", "--size")
    (20000.0, 1500000.0, 900.0)
    """
    m = _AMOUNT.match(str(text))
    if not m or float(m.group(1)) <= 0:
        raise InrInputError(f"{flag} takes a positive number with an optional k or M, e.g. 20k or 1.5M (got {text!r})")
    return float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6}[m.group(2).lower()]


@dataclass(frozen=True)
class Target:
    """What an encode aims at (part of the plan, so of the resume fingerprint)."""

    kind: str  # "bytes", "psnr", "ms-ssim"
    value: float  # the file's bytes, or the PSNR-YUV in dB, or the mean MS-SSIM-Y
    asked: str  # as the user put it: "--size 20k", "--bitrate 500k", "--psnr 36"
    lag: int = 1  # GOM k's target uses the reports of GOMs 0..k-lag (the worker count)
    loss_ssim: bool = False  # the training distortion is of the SSIM family (its scale for --ms-ssim)

    @property
    def error(self) -> float:
        """A distortion target as the error it allows on average: MSE on [0, 1], or 1 - MS-SSIM."""
        return 10 ** (-self.value / 10) if self.kind == "psnr" else 1.0 - self.value


def prior_bpp(lam: float) -> float:
    return PRIOR_BPP * (lam / PRIOR_LAMBDA) ** BETA


def prior_psnr(lam: float) -> float:
    return PRIOR_PSNR + DB_PER_OCTAVE * math.log2(lam / PRIOR_LAMBDA)


def pick_quality(target: Target, lambdas: dict[int, float], model_bpp: float | None) -> int:
    """The ladder rung whose prior is nearest the target: in log bpp (``model_bpp``, the models' share of
    the file) for a size, in dB for a PSNR; for MS-SSIM by its error read as an MSE."""
    if target.kind == "bytes":
        return min(lambdas, key=lambda q: (abs(math.log(prior_bpp(lambdas[q]) / model_bpp)), q))
    db = target.value if target.kind == "psnr" else -10 * math.log10(max(1e-12, target.error) / 30)
    return min(lambdas, key=lambda q: (abs(prior_psnr(lambdas[q]) - db), q))


def model_budget(target: Target, n_gops: int) -> float:
    """Bytes left to the models of a file of ``n_gops`` GOPs once its fixed overhead is paid."""
    return target.value - FILE_FIXED_BYTES - CHUNK_BYTES * n_gops


# -- reports: what the allocation reads of each coded GOP (stats.GopReport) ------------------------------

def _gop_weight(kind: str, n_frames: int, gop_size: int, w_p: float) -> float:
    return (1.0 if kind == "I" else w_p) * n_frames / gop_size


def learn_w_p(reports) -> float:
    """A P-model's bytes against its I-model's at one lambda, from coded GOPs (``reports``: GopReports
    with bytes, lam, kind, in GOP order; a P's I is the last I before it): the geometric mean of
    ``(bytes_P / bytes_I) * (lam_I / lam_P) ** BETA``, per frame; W_P_PRIOR when there is no pair.

    >>> from types import SimpleNamespace as R
    >>> round(learn_w_p([R(kind="I", bytes=1000, lam=300.0, n_frames=30), R(kind="P", bytes=400, lam=300.0, n_frames=30)]), 3)
    0.4
    """
    logs, last_i = [], None
    for r in reports:
        if r.kind == "I":
            last_i = r
        elif last_i is not None and r.lam > 0 and last_i.lam > 0 and r.bytes > 0 and last_i.bytes > 0:
            ratio = (r.bytes / r.n_frames) / (last_i.bytes / last_i.n_frames) * (last_i.lam / r.lam) ** BETA
            logs.append(math.log(ratio))
    return math.exp(sum(logs) / len(logs)) if logs else W_P_PRIOR


def learn_ratio(reports, default: float) -> float:
    """What one unit of the controlled training value is worth measured (bytes * 8 / training bits, or
    measured error / training distortion), from the last report that has both; ``default`` without."""
    for r in reversed(list(reports)):
        if r.ctrl > 0 and (r.err > 0 if r.err else r.bytes > 0):
            return (r.err / r.ctrl) if r.err else (r.bytes * 8 / r.ctrl)
    return default


@dataclass(frozen=True)
class GomTarget:
    """One GOM's share of the target, shipped with its job."""

    kind: str
    amount: float  # bytes for its models, or the mean error its GOPs may have
    w_p: float  # P-model weight (learned so far)
    ratio: float  # measured per controlled unit (learned so far)
    lam: float = 0.0  # the lambda the last known model ended at (0: none; the plan's lambda)


def allocate(target: Target, header, reports, k: int) -> GomTarget:
    """GOM ``k``'s target from the reports of GOMs ``0 .. k - target.lag``; the GOMs between (in
    flight) count with what they were given, recomputed here the same way (GOM by GOM from 0)."""
    given: list[float] = []
    for j in range(k + 1):
        share = _allocate_one(target, header, reports, j, given)
        given.append(share.amount)
    return share


def _allocate_one(target: Target, header, reports, k: int, given: list[float]) -> GomTarget:
    known_goms = max(0, k - target.lag + 1)
    known_gops = {g for j in range(known_goms) for g in header.gops_of_gom(j)}
    known = sorted((r for r in reports if r.gop_index in known_gops and r.layer == 0), key=lambda r: r.gop_index)
    w_p = learn_w_p(known)
    default_ratio = 1.0 if target.kind == "bytes" else (
        PSNR_RATIO_PRIOR if target.kind == "psnr" else 1.0 if target.loss_ssim else 30.0)
    ratio = learn_ratio(known, default_ratio)
    flying = range(known_goms, k)  # given, not known

    def frames(j: int) -> int:
        return sum(header.gop_range(g)[1] for g in header.gops_of_gom(j))

    if target.kind == "bytes":
        left = model_budget(target, header.n_gops) - sum(r.bytes for r in known) - sum(given[j] for j in flying)
        rest = sum(_weight_of(header, j, w_p) for j in range(k, header.n_goms))
        amount = max(MIN_MODEL_BYTES * len(list(header.gops_of_gom(k))), left * _weight_of(header, k, w_p) / rest)
    else:
        spent = sum(r.err * r.n_frames for r in known) + sum(given[j] * frames(j) for j in flying)
        rest = header.n_frames - sum(r.n_frames for r in known) - sum(frames(j) for j in flying)
        amount = (target.error * header.n_frames - spent) / max(1, rest)
        amount = min(4 * target.error, max(target.error / 4, amount))
    return GomTarget(target.kind, amount, w_p, ratio, known[-1].lam if known else 0.0)


def _weight_of(header, j: int, w_p: float) -> float:
    return sum(_gop_weight("I" if g % header.gom_size == 0 else "P", header.gop_range(g)[1], header.gop_size, w_p)
               for g in header.gops_of_gom(j))


class GomControl:
    """The targets of one GOM's models, GOP after GOP, from what its models before spent."""

    def __init__(self, target: GomTarget, header, gom_index: int) -> None:
        self.t = target
        self.header = header
        self.gops = list(header.gops_of_gom(gom_index))
        self.done: list = []  # this GOM's reports so far
        self.w_p = target.w_p
        self.ratio = target.ratio

    def model_target(self, g: int) -> float:
        """GOP ``g``'s target in the controlled unit: training bits, or training distortion."""
        h = self.header
        if self.t.kind == "bytes":
            left = self.t.amount - sum(r.bytes for r in self.done)
            rest = [x for x in self.gops if x >= g]
            ws = [_gop_weight("I" if x % h.gom_size == 0 else "P", h.gop_range(x)[1], h.gop_size, self.w_p)
                  for x in rest]
            n_bytes = max(MIN_MODEL_BYTES, left * ws[0] / sum(ws))
            return n_bytes * 8 / self.ratio
        n_gom = sum(h.gop_range(x)[1] for x in self.gops)
        spent = sum(r.err * r.n_frames for r in self.done)
        rest = n_gom - sum(r.n_frames for r in self.done)
        err = min(4 * self.t.amount, max(self.t.amount / 4, (self.t.amount * n_gom - spent) / max(1, rest)))
        return err / self.ratio

    def start_lam(self, g: int, lam: float) -> float:
        """The lambda GOP ``g``'s model starts at (``lam``: where the model before it ended). For a byte
        target, after the GOM's first model (so ``g``'s is a P-model): the lambda at which, by the model
        before (its bytes per frame, times ``w_p`` after the I-model) and bytes ~ lambda ** BETA, the model
        would spend its share. A P-model started from its I-model sheds bytes slowly once trained
        (mandelbrot --size 40k: lambda 1108 -> 471 in the fit cut its bytes by a tenth), so it must start
        near its target, not be steered there."""
        if self.t.kind != "bytes" or not self.done:
            return lam
        prev = self.done[-1]
        if prev.bytes <= 0 or prev.lam <= 0:
            return lam
        per_frame = prev.bytes / prev.n_frames * (self.w_p if prev.kind == "I" else 1.0)
        want = self.model_target(g) * self.ratio / 8 / self.header.gop_range(g)[1]
        return prev.lam * max(1 / START_RANGE, min(START_RANGE, (want / per_frame) ** (1 / BETA)))

    def coded(self, report) -> None:
        """GOP coded: learn from it (its report has bytes, lam, ctrl and, for a quality target, err)."""
        self.done.append(report)
        if self.t.kind == "bytes":
            if report.ctrl > 0:
                self.ratio = report.bytes * 8 / report.ctrl
            if any(r.kind == "P" for r in self.done):
                self.w_p = learn_w_p(self.done)
        elif report.ctrl > 0 and report.err > 0:
            self.ratio = report.err / report.ctrl


class LambdaControl:
    """The hook ``fit.py`` calls every CONTROL_EVERY iterations: lambda follows a target of the
    training rate (``quantity`` "bits") or distortion ("dist"). Only computed values decide, so the
    fit stays deterministic; ``last`` is the controlled value last seen, ``factor`` lambda's move."""

    def __init__(self, quantity: str, target: float, iters: int) -> None:
        self.quantity, self.target = quantity, target
        start, stop = (CONTROL_START, CONTROL_STOP) if quantity == "bits" else (DIST_CONTROL_START, DIST_CONTROL_STOP)
        self.start, self.stop = int(iters * start), int(iters * stop)
        self.gain = CONTROL_SWING * CONTROL_EVERY / max(CONTROL_EVERY, self.stop - self.start)
        self.log_factor = 0.0
        self.last = 0.0
        self.ema: float | None = None

    @property
    def factor(self) -> float:
        return math.exp(self.log_factor)

    def __call__(self, it: int, bits: float, dist: float) -> float:
        """Iteration ``it``'s training bits and distortion in; lambda's factor out."""
        value = bits if self.quantity == "bits" else dist
        if not (math.isfinite(value) and value > 0):
            return self.factor
        self.ema = value if self.ema is None or self.quantity == "bits" else 0.7 * self.ema + 0.3 * value
        self.last = self.ema
        if self.start <= it < self.stop:
            err = math.log(self.target / self.ema) if self.quantity == "bits" else math.log(self.ema / self.target)
            step = self.gain * max(-1.0, min(1.0, err))
            self.log_factor = max(-math.log(LAMBDA_RANGE), min(math.log(LAMBDA_RANGE), self.log_factor + step))
        return self.factor
