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
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch.func import functional_call

from ..models.base import InrModel
from ..quant.entropy import segment_decay, segment_laplace_bits
from ..quant.quantizer import (code_from_log2_step, quantize_noise, quantize_soft_noise, quantize_ste,
                               step_from_code)
from .losses import Loss, MSELoss
from ..decode.render import add_layer
from ..decode.weights import (BlobTag, KIND_I, KIND_P, MAX_ABS_SYMBOL, QuantizedModel, pack_symbol_blob,
                      side_info_bytes)

STREAM_PAD_BITS = 16
DECAY_REFRESH = 8  # iterations between refits of the entropy model's per-tensor decay
# divergence guard: a distortion jump by GUARD_JUMP restores the last snapshot and halves the rate
# (Adam at the fastest rates sometimes falls off a cliff: docs/encoder-notes.md)
GUARD_CHECK = 10
GUARD_SNAPSHOT = 250
GUARD_JUMP = 8.0


@dataclass
class FitConfig:
    """How long and how hard to fit one GOP."""

    iters: int
    lam: float
    lr: float = 1e-2
    step_lr: float = 2e-2
    batch: int = 6
    ste_fraction: float = 0.25
    rate_warmup: float = 0.0  # fraction of iterations over which the rate weight ramps from 0 to 1
    float_fraction: float = 0.0  # leading fraction of iterations trained in float, no rate term (then noise, then STE)
    clip_norm: float | None = None  # clip the weights' gradient to this L2 norm (None: no clipping)
    # C3's soft rounding in the noise phase: (first, last) temperature 1/alpha, annealed geometrically
    # over the noise phase (None: plain additive noise)
    soft_round: tuple[float, float] | None = None
    # tensors kept exactly at their start (all symbols zero), by name or by a name prefix ending in
    # "." (a P-model that adjusts only some tensors; measured in docs/encoder-notes.md)
    frozen: tuple[str, ...] = ()
    # one learned step per output channel (dim 0) of every tensor of two or more dimensions instead
    # of one per tensor: a measurement knob (issue 20). The file carries one step per tensor, so the
    # result's qmodel holds each tensor's first channel's code and FitResult.channel_codes the rest;
    # the encoder never sets it.
    channel_steps: bool = False
    # the weights' optimiser, built over per-tensor shaped views of the flat weight vector as
    # ``make_optimizer(views, lr)`` (e.g. SOAP, which preconditions matrices); None: Adam on the flat
    # vector. A measurement hook (tools/recipe_sweep.py ``opt=``); the steps keep their Adam.
    make_optimizer: Callable[[list[torch.nn.Parameter], float], torch.optim.Optimizer] | None = None
    seed: int = 0
    progress: Callable[[int, dict], None] | None = None
    loss: Loss | None = None  # the distortion (losses.py); None: the 6:1:1 MSE


@dataclass
class FitResult:
    """The integers to code and what training measured about them."""

    qmodel: QuantizedModel
    est_bits: float
    stats: dict = field(default_factory=dict)
    # each tensor's trained residual theta - ref before rounding (what a post-training step search
    # re-rounds: train/refine.py)
    continuous: list[np.ndarray] = field(default_factory=list)
    channel_codes: list[list[int]] | None = None  # FitConfig.channel_steps: each tensor's per-channel codes


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
    lam = cfg.lam * loss_fn.lambda_scale
    device = planes[0].device
    torch.manual_seed(cfg.seed)
    specs = model.tensor_specs()
    sizes = [s.numel for s in specs]
    n_frames = planes[0].shape[0]
    n_pixels = n_frames * planes[0].shape[1] * planes[0].shape[2]

    # All coded tensors live in one flat vector: one Adam update, one noise draw and one
    # segment-wise rate per iteration instead of one of each per tensor (the nets are small,
    # so per-op overhead, not arithmetic, bounds the iterations per second).
    flat = lambda arrays: torch.from_numpy(np.concatenate([np.asarray(a, np.float32).ravel() for a in arrays]))
    theta = torch.nn.Parameter(flat(start).to(device))
    ref = torch.zeros_like(theta) if reference is None else flat(reference).to(device)
    seg = torch.repeat_interleave(torch.arange(len(specs)), torch.tensor(sizes)).to(device)
    counts = torch.tensor(sizes, dtype=torch.float32, device=device)
    free = None
    if cfg.frozen:
        keep = [not any(s.name == f or (f.endswith(".") and s.name.startswith(f)) for f in cfg.frozen) for s in specs]
        free = torch.tensor(keep, dtype=torch.float32, device=device)[seg]
    if start_step_codes is None:
        log2_steps = [math.log2(float(np.std(a))) - 5.0 if a.size > 1 and np.std(a) > 0 else -8.0 for a in start]
    else:
        log2_steps = [math.log2(step_from_code(c)) for c in start_step_codes]
    # step slots: one per tensor, or one per output channel (FitConfig.channel_steps)
    n_slots = [s.shape[0] if cfg.channel_steps and len(s.shape) >= 2 and not s.blob else 1 for s in specs]
    slot_sizes = [n // k for n, k in zip(sizes, n_slots)]
    slot_sizes = [size for size, k in zip(slot_sizes, n_slots) for _ in range(k)]
    slot_of = [t for t, k in enumerate(n_slots) for _ in range(k)]
    stepseg = torch.repeat_interleave(torch.arange(len(slot_sizes)), torch.tensor(slot_sizes)).to(device)
    log2_steps = [log2_steps[t] for t in slot_of]
    log2_step = torch.nn.Parameter(torch.tensor(log2_steps, dtype=torch.float32, device=device))

    if cfg.make_optimizer is None:
        opt = torch.optim.Adam([{"params": [theta], "lr": cfg.lr}, {"params": [log2_step], "lr": cfg.step_lr}])
    else:
        opt = _ViewOptimizer(cfg.make_optimizer, theta, [s.shape for s in specs], cfg.lr, log2_step, cfg.step_lr)
    n_noise = cfg.iters - int(round(cfg.iters * cfg.ste_fraction))
    n_float = min(int(round(cfg.iters * cfg.float_fraction)), n_noise)
    gen = torch.Generator().manual_seed(cfg.seed)
    order = torch.empty(0, dtype=torch.long)
    batch = min(cfg.batch, n_frames)
    snapped_steps: torch.Tensor | None = None
    snapped: list[int] | None = None
    lr_mult, dist_avg, snapshot, n_rollbacks = 1.0, None, None, 0

    def unflatten(w: torch.Tensor) -> dict:
        return {s.name: part.view(s.shape) for s, part in zip(specs, torch.split(w, sizes))}

    for it in range(cfg.iters):
        use_ste = it >= n_noise
        if n_float and it == n_float:
            # quantization starts: steps sized, as at the start, from the weights training reached
            with torch.no_grad():
                for k, part in enumerate(torch.split(theta - ref, sizes)):
                    if part.numel() > 1 and float(part.std()) > 0:
                        log2_step[[i for i, t in enumerate(slot_of) if t == k]] = math.log2(float(part.std())) - 5.0
        if use_ste and snapped is None:
            snapped = _snap(log2_step.detach().cpu().tolist(), theta.detach(), ref, slot_sizes)
            snapped_steps = torch.tensor([step_from_code(c) for c in snapped], device=device)
        frac = it / max(1, cfg.iters - 1)
        lr_scale = min(1.0, (it + 1) / max(1, cfg.iters // 20)) * (0.5 * (1 + math.cos(math.pi * frac)) * 0.98 + 0.02)
        opt.param_groups[0]["lr"] = cfg.lr * lr_scale * lr_mult
        opt.param_groups[1]["lr"] = 0.0 if snapped is not None else cfg.step_lr * lr_scale * lr_mult
        if order.numel() < batch:
            order = torch.cat([order, torch.randperm(n_frames, generator=gen)])
        idx, order = order[:batch].to(device), order[batch:]

        if it < n_float:
            w, bits = theta, torch.zeros((), device=device)
        else:
            step = (2.0 ** log2_step if snapped_steps is None else snapped_steps)[stepseg]
            y = (theta - ref) / step
            if use_ste:
                yq = quantize_ste(y)
            elif cfg.soft_round is not None:
                warm = (it - n_float) / max(1, n_noise - n_float)
                temp = cfg.soft_round[0] * (cfg.soft_round[1] / cfg.soft_round[0]) ** warm
                yq = quantize_soft_noise(y, 1.0 / temp)
            else:
                yq = quantize_noise(y)
            if it % DECAY_REFRESH == 0 or it == n_noise or it == n_float:
                decay = segment_decay(yq, seg, counts)
            bits = segment_laplace_bits(yq, seg, counts, decay)
            if free is not None:
                yq = yq * free  # no noise on frozen tensors: they are exactly their start
            w = ref + yq * step
        pred = functional_call(model, unflatten(w), (t_pos[idx],))
        if offset is not None:
            pred = add_layer([o[idx] for o in offset], pred, scale)
        dist = loss_fn(pred, [p[idx] for p in planes])
        ramp = 1.0 if cfg.rate_warmup <= 0 else min(1.0, max(0, it - n_float) / (cfg.rate_warmup * cfg.iters))
        loss = ramp * bits / n_pixels + lam * dist
        if it % GUARD_CHECK == 0:
            d = dist.item()
            if snapshot is not None and (not math.isfinite(d) or d > GUARD_JUMP * dist_avg):
                # back to the last healthy state, at half the learning rate
                theta.data.copy_(snapshot[0])
                log2_step.data.copy_(snapshot[1])
                opt.load_state_dict(copy.deepcopy(snapshot[2]))
                lr_mult *= 0.5
                n_rollbacks += 1
                continue
            dist_avg = d if dist_avg is None else 0.9 * dist_avg + 0.1 * d
            if it % GUARD_SNAPSHOT == 0 and d < 2 * dist_avg:
                snapshot = (theta.detach().clone(), log2_step.detach().clone(), copy.deepcopy(opt.state_dict()))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if free is not None:
            theta.grad.mul_(free)  # Adam moves nothing whose gradient has always been zero
        if cfg.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_([theta], cfg.clip_norm)
        opt.step()
        if cfg.progress is not None and (it % 10 == 0 or it == cfg.iters - 1):
            shown = {"psnr": -10 * math.log10(max(dist.item(), 1e-12))} if isinstance(loss_fn, MSELoss) \
                else {"dist": dist.item()}
            cfg.progress(it, {"loss": loss.item(), **shown, "kbits": bits.item() / 1000})

    if snapped is None:
        snapped = _snap(log2_step.detach().cpu().tolist(), theta.detach(), ref, slot_sizes)
    slot_steps = torch.tensor([step_from_code(c) for c in snapped], device=device)[stepseg]
    symbols, continuous = [], []
    with torch.no_grad():
        parts = torch.split(theta - ref, sizes)
        for part, step, spec in zip(parts, torch.split(slot_steps, sizes), specs):
            continuous.append(part.detach().cpu().numpy().reshape(spec.shape).copy())
            symbols.append(torch.round(part / step).to(torch.int32).cpu().numpy().reshape(spec.shape))
    channel_codes = None
    if cfg.channel_steps:
        channel_codes = [[c for c, t in zip(snapped, slot_of) if t == k] for k in range(len(specs))]
        snapped = [codes[0] for codes in channel_codes]
    with torch.no_grad():
        # the training rate term, evaluated on the final integers
        q = torch.from_numpy(np.concatenate([s.ravel() for s in symbols]).astype(np.float32)).to(device)
        est_bits = float(STREAM_PAD_BITS) + float(segment_laplace_bits(q, seg, counts))
    qmodel = QuantizedModel(KIND_I if reference is None else KIND_P, 0, snapped, symbols)
    if any(s.blob for s in specs):
        # blob tensors train like the others (the rate term stands in for their compressed size);
        # only their coding differs: their symbols go to the residual BLOB (spec/models.md §3b)
        qmodel.blob = pack_symbol_blob([q for q, s in zip(symbols, specs) if s.blob])
        qmodel.blob_tag = BlobTag.SYMBOLS
    est_bits += 8 * side_info_bytes(qmodel)
    return FitResult(qmodel, est_bits, {"est_bits": est_bits, "rollbacks": n_rollbacks}, continuous, channel_codes)


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
