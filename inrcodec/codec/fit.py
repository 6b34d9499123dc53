"""Fitting one network to one GOP with quantization in the loop and the rate in the loss.

nirvana §3.3 / uar-nvc §III-D: every coded tensor has a learned step; the forward pass sees
``ref + Q((w - ref) / step) * step`` where Q is additive uniform noise for most of training and
straight-through rounding at the end (with the steps snapped to the grid the file can carry, so
the last iterations train exactly the integers that get coded). The loss is
``bits / pixels + lambda * D`` with D the 6:1:1-weighted MSE of the Y, Cb, Cr planes on [0, 1].
For a P-model, ``ref`` is the interpolated initialisation theta'_k, so the rate term is the
rate of the residual (uar-nvc eq. 6-7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch.func import functional_call

from ..models.base import InrModel
from ..quant.entropy import laplace_bits
from ..quant.quantizer import code_from_log2_step, quantize_noise, quantize_ste, step_from_code
from .weights import KIND_I, KIND_P, MAX_ABS_SYMBOL, QuantizedModel, side_info_bytes

PLANE_WEIGHTS = (6.0, 1.0, 1.0)  # JVET common test conditions
STREAM_PAD_BITS = 16  # the coder's final 32-bit word is on average half padding


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
    seed: int = 0
    progress: Callable[[int, dict], None] | None = None


@dataclass
class FitResult:
    """The integers to code and what training measured about them."""

    qmodel: QuantizedModel
    est_bits: float
    stats: dict = field(default_factory=dict)


def weighted_mse(pred: list[torch.Tensor], target: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """6:1:1-weighted MSE over the three planes, and the per-plane MSEs."""
    mses = [torch.mean((p - t) ** 2) for p, t in zip(pred, target)]
    total = sum(w * m for w, m in zip(PLANE_WEIGHTS, mses)) / sum(PLANE_WEIGHTS)
    return total, mses


def fit_gop(
    model: InrModel,
    planes: list[torch.Tensor],
    t_pos: torch.Tensor,
    start: list[np.ndarray],
    reference: list[np.ndarray] | None,
    start_step_codes: list[int] | None,
    cfg: FitConfig,
) -> FitResult:
    """Train ``model`` from weights ``start`` on ``planes`` ([T, h, w] each, in [0, 1])."""
    device = planes[0].device
    torch.manual_seed(cfg.seed)
    specs = model.tensor_specs()
    names = [s.name for s in specs]
    n_frames = planes[0].shape[0]
    n_pixels = n_frames * planes[0].shape[1] * planes[0].shape[2]

    weights = [torch.nn.Parameter(torch.from_numpy(np.asarray(a, np.float32)).to(device)) for a in start]
    refs = [torch.zeros_like(w) if reference is None else torch.from_numpy(r).to(device)
            for w, r in zip(weights, reference or [None] * len(weights))]
    if start_step_codes is None:
        log2_steps = []
        for a in start:
            std = float(np.std(a)) if a.size > 1 else 0.0
            log2_steps.append(math.log2(std) - 5.0 if std > 0 else -8.0)
    else:
        log2_steps = [math.log2(step_from_code(c)) for c in start_step_codes]
    log2_step = torch.nn.Parameter(torch.tensor(log2_steps, dtype=torch.float32, device=device))

    opt = torch.optim.Adam([{"params": weights, "lr": cfg.lr}, {"params": [log2_step], "lr": cfg.step_lr}])
    n_ste = int(round(cfg.iters * cfg.ste_fraction))
    n_noise = cfg.iters - n_ste
    gen = torch.Generator().manual_seed(cfg.seed)
    order = torch.empty(0, dtype=torch.long)
    batch = min(cfg.batch, n_frames)
    snapped: list[int] | None = None
    stats: dict = {}

    def quantized(use_ste: bool) -> tuple[dict, torch.Tensor]:
        params, bits = {}, torch.zeros((), device=device)
        for i, (name, w, ref) in enumerate(zip(names, weights, refs)):
            step = 2.0 ** log2_step[i] if snapped is None else torch.tensor(step_from_code(snapped[i]), device=device)
            y = (w - ref) / step
            yq = quantize_ste(y) if use_ste else quantize_noise(y)
            params[name] = ref + yq * step
            bits = bits + laplace_bits(yq)
        return params, bits

    for it in range(cfg.iters):
        use_ste = it >= n_noise
        if use_ste and snapped is None:
            snapped = _snap(log2_step.detach().cpu().tolist(), weights, refs)
        frac = it / max(1, cfg.iters - 1)
        lr_scale = min(1.0, (it + 1) / max(1, cfg.iters // 20)) * (0.5 * (1 + math.cos(math.pi * frac)) * 0.98 + 0.02)
        opt.param_groups[0]["lr"] = cfg.lr * lr_scale
        opt.param_groups[1]["lr"] = 0.0 if snapped is not None else cfg.step_lr * lr_scale
        if order.numel() < batch:
            order = torch.cat([order, torch.randperm(n_frames, generator=gen)])
        idx, order = order[:batch], order[batch:]
        idx_dev = idx.to(device)
        params, bits = quantized(use_ste)
        pred = functional_call(model, params, (t_pos[idx_dev],))
        dist, mses = weighted_mse(pred, [p[idx_dev] for p in planes])
        bpp = bits / n_pixels
        ramp = 1.0 if cfg.rate_warmup <= 0 else min(1.0, it / (cfg.rate_warmup * cfg.iters))
        loss = ramp * bpp + cfg.lam * dist
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if cfg.progress is not None:
            psnr = -10 * math.log10(max(dist.item(), 1e-12))
            cfg.progress(it, {"loss": loss.item(), "psnr": psnr, "kbits": bits.item() / 1000})

    if snapped is None:
        snapped = _snap(log2_step.detach().cpu().tolist(), weights, refs)
    symbols = []
    est_bits = float(STREAM_PAD_BITS)
    with torch.no_grad():
        for i, (w, ref, spec) in enumerate(zip(weights, refs, specs)):
            q = torch.round((w - ref) / step_from_code(snapped[i])).to(torch.int32)
            symbols.append(q.cpu().numpy().reshape(spec.shape))
            if q.abs().max() > 0:
                est_bits += float(laplace_bits(q.float()))
    qmodel = QuantizedModel(KIND_I if reference is None else KIND_P, 0, snapped, symbols)
    est_bits += 8 * side_info_bytes(qmodel)
    stats["est_bits"] = est_bits
    return FitResult(qmodel, est_bits, stats)


def _snap(log2_steps: list[float], weights: list[torch.Tensor], refs: list[torch.Tensor]) -> list[int]:
    """Put every learned step on the file's grid, coarsening any that would overflow a symbol."""
    codes = []
    with torch.no_grad():
        for l2, w, ref in zip(log2_steps, weights, refs):
            code = code_from_log2_step(l2)
            peak = float((w - ref).abs().max()) if w.numel() else 0.0
            while peak / step_from_code(code) > MAX_ABS_SYMBOL - 1:
                code += 1
            codes.append(code)
    return codes
