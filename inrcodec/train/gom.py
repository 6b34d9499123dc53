"""Encoding one Group of Models: the unit of random access, of resuming and of parallel encoding.

A GOM depends on nothing outside itself (uar-nvc §III-B): its I-model starts from the file's
seeded initialisation, each P-model from the decoded previous model of the same GOM, and every
fit is seeded by its GOP index. ``encode_gom`` therefore gives the same bytes in whichever process,
order or machine it runs, as long as the torch thread count and the device kind are the same.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..coders.blob import BLOB_CODECS, compress_best
from ..container.chunks import BlobChunk, ModelChunk
from ..container.spec import ColorRange
from ..metrics import SSIM_WINDOW, ms_ssim, psnr_yuv_from_sse, sample_peak, ssim, yuv_to_rgb
from .fit import FitConfig, fit_gop
from .optim import make_optimizer
from ..decode.init import eps_code_from_mse, p_reference
from .losses import PerceptualLoss, build_loss
from ..decode.model_io import Layer, build_layers, decode_model, model_weights
from ..decode.weight_range import check_weight_range
from .plan import EncodePlan
from .presets import P_LR_FACTOR
from ..decode.render import add_layer, planes_to_tensors, render_planes, samples_to_unit, to_samples
from .stats import GopReport, QualityStats
from .target import CONTROL_EVERY, GomControl, GomTarget, LambdaControl
from .timing import GomClock
from ..decode.weights import KIND_I, KIND_P, encode_body

# progress(gom_index, label, iteration done, iterations, values)
GomProgress = Callable[[int, str, int, int, dict], None]


@dataclass
class GomJob:
    """One GOM to encode: the plan, the GOM's index and its frames (picklable: frames travel with it)."""

    plan: EncodePlan
    gom_index: int
    frames: list  # the GOM's frames, each (Y, U, V) planes (uint8, or uint16 above 8 bits)
    target: GomTarget | None = None  # encoding to a target: this GOM's share (train/target.py)
    clock: GomClock | None = None  # encoding in a time budget: this GOM's end (train/timing.py)


@dataclass
class GomResult:
    """The GOM's chunks in file order, and its quality statistics."""

    gom_index: int
    chunks: list  # per GOP, per layer: its ModelChunk, then its BlobChunk if its architecture has blob tensors
    stats: QualityStats

    @property
    def reports(self) -> list[GopReport]:
        return self.stats.reports


@dataclass
class _Layer(Layer):
    """One layer as the encoder fits it: the decoder's network, its lambda and its GOM-long state."""

    lam: float = 0.0
    prev: tuple | None = None  # (decoded weights, step codes) of the previous GOP


def deterministic_cuda() -> None:
    """Same options, same GPU, same bytes: cuDNN/cuBLAS and scatter-adds in their deterministic modes.

    Atomic float adds (cuDNN weight gradients, index_add) sum in a different order each run; the
    deterministic kernels fix the order. Bytes still differ between GPU models and from the CPU.
    Called in every process that encodes a GOM: worker processes do not inherit torch's flags
    (seen on an H200: --workers 2 and 1 differed before the workers called it).
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.use_deterministic_algorithms(True, warn_only=True)


def encode_gom(job: GomJob, progress: GomProgress | None = None) -> GomResult:
    """Fit and code every GOP of one GOM, closed loop (each P-model predicts from the decoded
    previous one of its layer); within a GOP, each residual layer fits what the layers before it
    left (gnerv §3.2). GOP after GOP, so memory holds one GOP's frames whatever the layer count."""
    plan = job.plan
    h = plan.header
    device = torch.device(plan.device_of(job.gom_index))
    if device.type == "cuda":
        deterministic_cuda()
    layers = [_Layer(b.index, b.model, b.specs, b.seed, b.scale, lam)
              for b, lam in zip(build_layers(h, plan.layers, device), plan.lams)]
    result = GomResult(job.gom_index, [], QualityStats(len(layers)))
    stats = result.stats
    color_range = ColorRange.from_code(h.color_range).label
    depth, peak = h.bit_depth, float(sample_peak(h.bit_depth))
    loss = build_loss(plan.loss, str(device))
    judge = loss if isinstance(loss, PerceptualLoss) else (
        build_loss(plan.judge, str(device)) if plan.judge is not None else None)
    first_frame = h.gop_range(h.gops_of_gom(job.gom_index)[0])[0]
    prev_frames = None
    control = GomControl(job.target, h, job.gom_index) if job.target is not None else None
    if control is not None and job.target.lam > 0:
        layers[0].lam = job.target.lam  # start where the last model known to this GOM ended
    for j, g in enumerate(h.gops_of_gom(job.gom_index)):
        first, n = h.gop_range(g)
        frames = job.frames[first - first_frame:first - first_frame + n]
        # P-models of every layer interpolate by the same factor, from how much the luma changed
        eps_code = 0 if j == 0 else eps_code_from_mse(_luma_mse(frames, prev_frames, peak))
        target = planes_to_tensors(frames, device, depth)
        src = [np.stack([f[p] for f in frames]).astype(np.float64) for p in range(3)]
        recon: list[torch.Tensor] = []  # what the decoder has before its one rounding
        for layer in layers:
            out = _encode_model(job, layer, j, g, eps_code, target, recon, result, progress, loss, control)
            recon = out if layer.index == 0 else add_layer(recon, out, float(layer.scale))
            final = [to_samples(p, depth) for p in recon]
            gop_sse = [float(np.sum((final[p].astype(np.float64) - src[p]) ** 2)) for p in range(3)]
            for p in range(3):
                stats.layer_sse[layer.index][p] += gop_sse[p]
        ms_ssim_before = stats.ssim_sums[1]
        for p in range(3):
            stats.counts[p] += src[p].size
        if judge is not None:
            with torch.no_grad():
                rec = [samples_to_unit(x, device, depth) for x in final]
                for i in range(n):
                    stats.deep_sum += float(judge.deep([p[i:i + 1] for p in rec], [p[i:i + 1] for p in target]))
        for i, f in enumerate(frames):
            if min(h.width, h.height) >= SSIM_WINDOW:
                stats.ssim_sums[0] += ssim(f[0], final[0][i], peak)
                stats.ssim_sums[1] += ms_ssim(f[0], final[0][i], peak)
            rgb_src = yuv_to_rgb(f, h.matrix, color_range, depth).astype(np.float64)
            rgb_dec = yuv_to_rgb([final[p][i] for p in range(3)], h.matrix, color_range, depth)
            stats.sse_rgb[0] += float(np.sum((rgb_dec - rgb_src) ** 2))
            stats.sse_rgb[1] += rgb_src.size
        if control is not None:
            report = result.reports[-1]
            if control.t.kind == "psnr":
                psnr = psnr_yuv_from_sse(gop_sse, [src[p].size for p in range(3)], peak)["psnr_yuv"]
                report.err = 10 ** (-min(psnr, 100.0) / 10)
            elif control.t.kind == "ms-ssim":
                report.err = max(1e-6, 1.0 - (stats.ssim_sums[1] - ms_ssim_before) / n)
            control.coded(report)
            layers[0].lam = report.lam  # the next model starts where this one ended
        prev_frames = frames
    stats.sse = stats.layer_sse[-1].copy()
    return result


def _luma_mse(frames: list, prev_frames: list, peak: float = 255.0) -> float:
    """Mean squared luma difference, on [0, 1] samples, of a GOP's frames and the previous GOP's."""
    m = min(len(frames), len(prev_frames))
    return float(np.mean([np.mean((a[0].astype(np.float64) - b[0]) ** 2)
                          for a, b in zip(frames[:m], prev_frames[:m])])) / peak**2


def _encode_model(job: GomJob, layer: _Layer, j: int, g: int, eps_code: int, target: list, recon: list,
                  result: GomResult, progress: GomProgress | None, loss,
                  control: GomControl | None = None) -> list[torch.Tensor]:
    """Fit and code layer ``layer``'s model of GOP ``g`` (the GOM's ``j``-th; a P-model interpolates
    by ``eps_code``); its chunks go to ``result``; returns its decoded float planes (a scaled
    residual for layers >= 1)."""
    plan = job.plan
    h = plan.header
    model, specs = layer.model, layer.specs
    n = target[0].shape[0]
    device = target[0].device
    t0 = time.perf_counter()
    scale = float(layer.scale)
    t_pos = torch.arange(n, dtype=torch.float32, device=device) / h.gop_size
    if j == 0:
        kind, start, ref, steps0 = KIND_I, layer.theta_init, None, None
    else:
        prev_decoded, steps0 = layer.prev
        kind = KIND_P
        ref = start = p_reference(layer.theta_init, prev_decoded, eps_code)
    iters = plan.gop_iters[g]
    cb = None
    if progress is not None:
        label = f"GOP {g + 1}/{h.n_gops} {'IP'[kind]}" + (f" layer {layer.index}" if layer.index else "")
        cb = _fit_progress(progress, job.gom_index, label)
    lr = model.learning_rate * (1.0 if kind == KIND_I else P_LR_FACTOR)
    cfg = FitConfig(iters=iters, lam=layer.lam, batch=plan.batch, lr=lr,
                    make_optimizer=make_optimizer(plan.optimizer),
                    seed=(layer.seed * 1_000_003 + g) % 2**63, progress=cb, loss=loss)
    if job.clock is not None:  # --time: the count follows the clock, from this model's share of the GOM's time
        cfg.retime = job.clock.retimer(j * plan.n_layers + layer.index)
    lam_control = None
    if control is not None and layer.index == 0:
        layer.lam = cfg.lam = control.start_lam(g, layer.lam)
        aim = control.model_target(g)
        lam_control = LambdaControl("bits" if control.t.kind == "bytes" else "dist", aim, iters)
        cfg.control, cfg.control_every = lam_control, CONTROL_EVERY
    # layer 0 fits the source; layer k the scaled residual of layers 0..k-1 (gnerv §3.2), trained
    # through what the decoder shows: the layers below plus its planes / scale, against the source
    fit = fit_gop(model, target, t_pos, start, ref, steps0, cfg,
                  offset=recon if layer.index > 0 else None, scale=scale)
    fit.qmodel.kind, fit.qmodel.eps_code = kind, eps_code
    chunk = ModelChunk(gop_index=g, kind=kind, body=encode_body(fit.qmodel, h.coder_id, specs), layer=layer.index)
    blobs = [blob_chunk(g, fit.qmodel.blob_tag, fit.qmodel.blob)] if fit.qmodel.blob else []
    result.chunks += [chunk, *blobs]
    n_bytes = len(chunk.body) + sum(len(b.data) for b in blobs)
    decoded_q = decode_model(layer, h, chunk, blobs)  # closed loop, through the decoder's code
    if decoded_q.digest() != fit.qmodel.digest():
        raise RuntimeError(f"GOP {g} layer {layer.index}: the model body does not decode to what was coded")
    decoded = model_weights(layer, decoded_q, None if kind == KIND_I else layer.prev[0], g)
    # a model no decoder renders (spec/models.md §4b) is refused here, not written (a diverged fit)
    check_weight_range(specs, decoded, g, layer.index)
    model.load_arrays(decoded)
    lam_end = layer.lam * (lam_control.factor if lam_control is not None else 1.0)
    result.reports.append(GopReport(g, "IP"[kind], n, n_bytes, fit.est_bits, eps_code,
                                    decoded_q.digest(), time.perf_counter() - t0, layer.index, lam_end,
                                    *((lam_control.target, lam_control.last) if lam_control else ()),
                                    iters=fit.stats["iters"]))
    layer.prev = (decoded, decoded_q.step_codes)
    return render_planes(model, t_pos)


def blob_chunk(gop_index: int, tag: int, raw: bytes) -> BlobChunk:
    """The GOP's residual blob, compressed by whichever of zstd and LZMA is smaller (nirvana §4.1)."""
    name, data = compress_best(raw)
    return BlobChunk(gop_index, tag, BLOB_CODECS.id_of(name), len(raw), data)


def _fit_progress(progress: GomProgress, gom_index: int, label: str):
    return lambda it, iters, d: progress(gom_index, label, it + 1, iters, d)
