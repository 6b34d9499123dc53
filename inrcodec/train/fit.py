"""Fitting one network to one GOP with quantization in the loop and the rate in the loss.

nirvana §3.3 / uar-nvc §III-D: every coded tensor has a learned step; the forward pass sees
``ref + Q((w - ref) / step) * step`` where Q is additive uniform noise for most of training and
straight-through rounding at the end (with the steps snapped to the grid the file can carry, so
the last iterations train exactly the integers that get coded). The loss is
``bits / pixels + lambda * D`` with D the chosen loss (losses.py; by default the 6:1:1-weighted MSE
of the Y, Cb, Cr planes on [0, 1]).
For a P-model, ``ref`` is the interpolated initialisation theta'_k, so the rate term is the
rate of the residual (uar-nvc eq. 6-7).
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch.func import functional_call

from ..models.base import InrModel
from ..quant.entropy import segment_decay, segment_laplace_bits
from ..quant.quantizer import code_from_log2_step, quantize_noise, quantize_ste, step_from_code
from .losses import Loss, MSELoss
from ..decode.render import add_layer
from ..decode.weights import (BlobTag, KIND_I, KIND_P, MAX_ABS_SYMBOL, QuantizedModel, pack_symbol_blob,
                      side_info_bytes)

STREAM_PAD_BITS = 16  # a coded stream ends in a partly filled 32-bit word: half of one on average
DECAY_REFRESH = 8  # iterations between refits of the entropy model's per-tensor decay
# _Guard: Adam at the fastest rates sometimes falls off a cliff (docs/encoder-notes.md)
GUARD_CHECK = 10  # iterations between checks of the distortion
GUARD_SNAPSHOT = 250  # iterations between snapshots to roll back to
GUARD_JUMP = 8.0  # a distortion this many times its running mean is a fall
# --time: the clock starts after the first iterations (lazy initialisations, the optimiser's first
# preconditioners) and the count is first revised soon after, inside the warm-up
RETIME_FROM, RETIME_FIRST, RETIME_EVERY = 5, 25, 50


@dataclass
class FitConfig:
    """How long and how hard to fit one GOP."""

    iters: int
    lam: float
    lr: float = 1e-2
    step_lr: float = 2e-2
    batch: int = 6
    ste_fraction: float = 0.25
    frozen: tuple[str, ...] = ()  # tensors (names, or prefixes ending in ".") kept at their start
    # ``make_optimizer(views, lr)`` over per-tensor shaped views (SOAP); None: Adam on the flat vector
    make_optimizer: Callable[[list[torch.nn.Parameter], float], torch.optim.Optimizer] | None = None
    seed: int = 0
    progress: Callable[[int, int, dict], None] | None = None  # (iteration, iterations, values)
    loss: Loss | None = None  # the distortion (losses.py); None: the 6:1:1 MSE
    # encoding to a target (train/target.py): ``control(it, bits, dist)`` every ``control_every``
    # iterations returns lambda's factor from here on; None: lambda stays cfg.lam
    control: Callable[[int, float, float], float] | None = None
    control_every: int = 5
    # encoding in a time budget (train/timing.py): ``retime(n, seconds)`` at RETIME_FIRST, then every
    # RETIME_EVERY iterations, returns the fit's new iteration count from the seconds the ``n``
    # iterations since RETIME_FROM took; None: cfg.iters, fixed
    retime: Callable[[int, float], int] | None = None


@dataclass
class FitResult:
    """The integers to code and what training measured about them."""

    qmodel: QuantizedModel
    est_bits: float
    stats: dict = field(default_factory=dict)


def fit_gop(
    model: InrModel,
    planes: list[torch.Tensor],
    t_pos: torch.Tensor,
    start: list[np.ndarray],
    reference: list[np.ndarray] | None,
    start_step_codes: list[int] | None,
    cfg: FitConfig,
    offset: list[torch.Tensor] | None = None,
    scale: float = 1.0,
) -> FitResult:
    """Train ``model`` from weights ``start`` on ``planes`` ([T, h, w] each, in [0, 1]).

    A residual layer (spec/models.md §8) is trained through what the decoder will show: ``offset``
    (the layers below, before rounding) plus the model's planes divided by ``scale``.
    """
    loss_fn = cfg.loss if cfg.loss is not None else MSELoss()
    torch.manual_seed(cfg.seed)
    w = _FlatWeights(model.tensor_specs(), start, reference, start_step_codes, cfg.frozen, planes[0].device)
    snapped, n_rollbacks, n_iters = _train(model, w, planes, t_pos, cfg, loss_fn, offset, scale)
    qmodel, est_bits = _integers(w, snapped, KIND_I if reference is None else KIND_P)
    return FitResult(qmodel, est_bits, {"est_bits": est_bits, "rollbacks": n_rollbacks, "iters": n_iters})


class _FlatWeights:
    """Every coded tensor in one flat vector, and one learned log2 step per tensor.

    One vector means one optimiser update, one noise draw and one segment-wise rate per iteration
    instead of one of each per tensor: the nets are small, so per-op overhead bounds the speed."""

    def __init__(self, specs, start: list[np.ndarray], reference: list[np.ndarray] | None,
                 start_step_codes: list[int] | None, frozen: tuple[str, ...], device: torch.device) -> None:
        self.specs = specs
        self.sizes = sizes = [s.numel for s in specs]
        self.theta = torch.nn.Parameter(_flat(start).to(device))
        self.ref = torch.zeros_like(self.theta) if reference is None else _flat(reference).to(device)
        # each weight's tensor index: the segments of the per-tensor rate and steps
        self.seg = torch.repeat_interleave(torch.arange(len(specs)), torch.tensor(sizes)).to(device)
        self.counts = torch.tensor(sizes, dtype=torch.float32, device=device)
        self.free = None  # 1 for a weight that trains, 0 for one of a frozen tensor
        if frozen:
            keep = [not any(s.name == f or (f.endswith(".") and s.name.startswith(f)) for f in frozen) for s in specs]
            self.free = torch.tensor(keep, dtype=torch.float32, device=device)[self.seg]
        if start_step_codes is None:
            log2_steps = [math.log2(float(np.std(a))) - 5.0 if a.size > 1 and np.std(a) > 0 else -8.0 for a in start]
        else:
            log2_steps = [math.log2(step_from_code(c)) for c in start_step_codes]
        self.log2_step = torch.nn.Parameter(torch.tensor(log2_steps, dtype=torch.float32, device=device))

    def named(self, flat: torch.Tensor) -> dict:
        """The flat vector as the model's named tensors (views, for ``functional_call``)."""
        return {s.name: part.view(s.shape) for s, part in zip(self.specs, torch.split(flat, self.sizes))}

    def snap(self) -> list[int]:
        """The learned steps on the file's grid (``_snap``)."""
        return _snap(self.log2_step.detach().cpu().tolist(), self.theta.detach(), self.ref, self.sizes)


def _flat(arrays) -> torch.Tensor:
    return torch.from_numpy(np.concatenate([np.asarray(a, np.float32).ravel() for a in arrays]))


def _lr_scale(it: int, iters: int) -> float:
    """Learning-rate factor of iteration ``it``: a linear warm-up over the first 5 %, then a cosine to 2 %."""
    frac = it / max(1, iters - 1)
    return min(1.0, (it + 1) / max(1, iters // 20)) * (0.5 * (1 + math.cos(math.pi * frac)) * 0.98 + 0.02)


def _train(model: InrModel, w: _FlatWeights, planes: list[torch.Tensor], t_pos: torch.Tensor, cfg: FitConfig,
           loss_fn: Loss, offset: list[torch.Tensor] | None, scale: float) -> tuple[list[int] | None, int, int]:
    """The training loop: noise, then straight-through rounding on snapped steps for the last
    ``ste_fraction``; returns (the snapped step codes, None if never snapped; rollbacks; iterations run)."""
    device = planes[0].device
    lam = cfg.lam * loss_fn.lambda_scale
    n_frames = planes[0].shape[0]
    n_pixels = n_frames * planes[0].shape[1] * planes[0].shape[2]
    if cfg.make_optimizer is None:
        opt = torch.optim.Adam([{"params": [w.theta], "lr": cfg.lr}, {"params": [w.log2_step], "lr": cfg.step_lr}])
    else:
        opt = _ViewOptimizer(cfg.make_optimizer, w.theta, [s.shape for s in w.specs], cfg.lr, w.log2_step,
                             cfg.step_lr)
    iters = cfg.iters
    n_noise = iters - int(round(iters * cfg.ste_fraction))
    gen = torch.Generator().manual_seed(cfg.seed)
    order = torch.empty(0, dtype=torch.long)
    batch = min(cfg.batch, n_frames)
    snapped_steps: torch.Tensor | None = None
    snapped: list[int] | None = None
    guard = _Guard(w, opt)
    clock0 = 0.0
    it = -1
    while it + 1 < iters:
        it += 1
        if cfg.retime is not None:
            if it == RETIME_FROM:
                clock0 = time.perf_counter()
            elif it == RETIME_FIRST or it > RETIME_FIRST and (it - RETIME_FIRST) % RETIME_EVERY == 0:
                iters = max(it + 2, cfg.retime(it - RETIME_FROM, time.perf_counter() - clock0))
                if snapped is None:  # the straight-through phase keeps its share of the new count
                    n_noise = max(it + 1, iters - int(round(iters * cfg.ste_fraction)))
        use_ste = it >= n_noise
        if use_ste and snapped is None:
            snapped = w.snap()
            snapped_steps = torch.tensor([step_from_code(c) for c in snapped], device=device)
        lr_scale = _lr_scale(it, iters)
        opt.param_groups[0]["lr"] = cfg.lr * lr_scale * guard.lr_mult
        opt.param_groups[1]["lr"] = 0.0 if snapped is not None else cfg.step_lr * lr_scale * guard.lr_mult
        if order.numel() < batch:
            order = torch.cat([order, torch.randperm(n_frames, generator=gen)])
        idx, order = order[:batch].to(device), order[batch:]

        step = (2.0 ** w.log2_step if snapped_steps is None else snapped_steps)[w.seg]
        y = (w.theta - w.ref) / step
        yq = quantize_ste(y) if use_ste else quantize_noise(y)
        if it % DECAY_REFRESH == 0 or it == n_noise:
            decay = segment_decay(yq, w.seg, w.counts)
        bits = segment_laplace_bits(yq, w.seg, w.counts, decay)
        if w.free is not None:
            yq = yq * w.free  # no noise on frozen tensors: they are exactly their start
        pred = functional_call(model, w.named(w.ref + yq * step), (t_pos[idx],))
        if offset is not None:
            pred = add_layer([o[idx] for o in offset], pred, scale)
        dist = loss_fn(pred, [p[idx] for p in planes])
        loss = bits / n_pixels + lam * dist
        if cfg.control is not None and it % cfg.control_every == 0:  # for the iterations after this one
            lam = cfg.lam * loss_fn.lambda_scale * cfg.control(it, bits.item(), dist.item())
        if it % GUARD_CHECK == 0 and guard.rolled_back(dist.item(), it):
            continue
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if w.free is not None:
            w.theta.grad.mul_(w.free)  # the optimiser moves nothing whose gradient has always been zero
        opt.step()
        if cfg.progress is not None and (it % 10 == 0 or it == iters - 1):
            shown = {"psnr": -10 * math.log10(max(dist.item(), 1e-12))} if isinstance(loss_fn, MSELoss) \
                else {"dist": dist.item()}
            cfg.progress(it, iters, {"loss": loss.item(), **shown, "kbits": bits.item() / 1000})
    return snapped, guard.n_rollbacks, iters


class _Guard:
    """The divergence guard: a distortion jump by GUARD_JUMP restores the last snapshot at half the rate."""

    def __init__(self, w: _FlatWeights, opt) -> None:
        self.w, self.opt = w, opt
        self.lr_mult = 1.0
        self.dist_avg: float | None = None
        self.snapshot: tuple | None = None
        self.n_rollbacks = 0

    def rolled_back(self, d: float, it: int) -> bool:
        """Check iteration ``it``'s distortion ``d``; True when it rolled back (the step is skipped)."""
        w = self.w
        if self.snapshot is not None and (not math.isfinite(d) or d > GUARD_JUMP * self.dist_avg):
            w.theta.data.copy_(self.snapshot[0])
            w.log2_step.data.copy_(self.snapshot[1])
            self.opt.load_state_dict(copy.deepcopy(self.snapshot[2]))
            self.lr_mult *= 0.5
            self.n_rollbacks += 1
            return True
        self.dist_avg = d if self.dist_avg is None else 0.9 * self.dist_avg + 0.1 * d
        if it % GUARD_SNAPSHOT == 0 and d < 2 * self.dist_avg:
            self.snapshot = (w.theta.detach().clone(), w.log2_step.detach().clone(),
                             copy.deepcopy(self.opt.state_dict()))
        return False


def _integers(w: _FlatWeights, snapped: list[int] | None, kind: int) -> tuple[QuantizedModel, float]:
    """The trained weights rounded on the snapped steps, and their estimated bits."""
    if snapped is None:
        snapped = w.snap()
    steps = torch.tensor([step_from_code(c) for c in snapped], device=w.theta.device)[w.seg]
    symbols = []
    with torch.no_grad():
        for part, step, spec in zip(torch.split(w.theta - w.ref, w.sizes), torch.split(steps, w.sizes), w.specs):
            symbols.append(torch.round(part / step).to(torch.int32).cpu().numpy().reshape(spec.shape))
        # the training rate term, evaluated on the final integers
        q = torch.from_numpy(np.concatenate([s.ravel() for s in symbols]).astype(np.float32)).to(w.theta.device)
        est_bits = float(STREAM_PAD_BITS) + float(segment_laplace_bits(q, w.seg, w.counts))
    qmodel = QuantizedModel(kind, 0, snapped, symbols)
    if any(s.blob for s in w.specs):
        # blob tensors train like the others (the rate term stands in for their compressed size);
        # only their coding differs: their symbols go to the residual BLOB (spec/models.md §3b)
        qmodel.blob = pack_symbol_blob([q for q, s in zip(symbols, w.specs) if s.blob])
        qmodel.blob_tag = BlobTag.SYMBOLS
    est_bits += 8 * side_info_bytes(qmodel)
    return qmodel, est_bits


class _ViewOptimizer:
    """A per-tensor optimiser on shaped views that share the flat vector's storage, plus Adam for
    the steps, behind the two-group interface ``fit_gop`` drives (lr per group, state for rollback)."""

    def __init__(self, make, theta: torch.nn.Parameter, shapes, lr: float, steps: torch.nn.Parameter,
                 step_lr: float) -> None:
        self.theta = theta
        sizes = [math.prod(s) for s in shapes]
        self.views = [torch.nn.Parameter(part.view(shape)) for part, shape in
                      zip(torch.split(theta.data, sizes), shapes)]
        self.sizes = sizes
        self.inner = make(self.views, lr)
        self.steps = torch.optim.Adam([steps], lr=step_lr)
        self.param_groups = [{"lr": lr}, self.steps.param_groups[0]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.theta.grad = None
        self.steps.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        if self.theta.grad is not None:
            for view, g in zip(self.views, torch.split(self.theta.grad, self.sizes)):
                view.grad = g.view(view.shape)
            for group in self.inner.param_groups:
                group["lr"] = self.param_groups[0]["lr"]
            self.inner.step()
        self.steps.step()

    def state_dict(self) -> dict:
        return {"inner": self.inner.state_dict(), "steps": self.steps.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.inner.load_state_dict(state["inner"])
        self.steps.load_state_dict(state["steps"])


def _snap(log2_steps: list[float], theta: torch.Tensor, ref: torch.Tensor, sizes: list[int]) -> list[int]:
    """Put every learned step on the file's grid, coarsening any that would overflow a symbol."""
    codes = []
    with torch.no_grad():
        for l2, part in zip(log2_steps, torch.split(theta - ref, sizes)):
            code = code_from_log2_step(l2)
            peak = float(part.abs().max()) if part.numel() else 0.0
            while peak / step_from_code(code) > MAX_ABS_SYMBOL - 1:
                code += 1
            codes.append(code)
    return codes
