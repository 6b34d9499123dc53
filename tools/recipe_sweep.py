#!/usr/bin/env python3
"""Training-recipe changes, each alone, on one GOP: real bytes of the coded model, PSNR of its decode.

One I-model is fitted to the first GOP of a clip with the encoder's own ``fit_gop`` under each
``FitConfig`` variant, then coded (``encode_body``: the bytes a file would hold) and decoded back
through the decoder's arithmetic (``decode_body``, ``dequantize``, one rounding to samples), so
every figure is measured on what a decoder would show. Each variant runs at two or more lambdas,
and the table gives its PSNR-YUV at the baseline's rate (interpolated on its own RD points, in
log-rate), which is how "dB at equal rate" is meant. Example, carphone GOP 0 at q4:

    python tools/recipe_sweep.py ../shared/data/carphone_qcif_60f.y4m --quality 4 --iters 3000 \\
        --lams 200,450 --variants baseline,ste=0.4,opt=adam

``opt=soap`` or ``opt=adan`` trains the weights with that optimiser (per-tensor, pytorch-optimizer).
A variant may also change the network: ``model=hinerv`` (its --quality ladder) or ``arch=2:2:2:16:24:20:14``
(arch_params, colon-separated), alone or with the knobs (``model=hinerv+lr=0.005``). The float
phase, gradient clipping, soft rounding, per-channel steps and post-training refinement it once
measured left the code; their results are in docs/encoder-notes.md.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
import torch

from inrcodec.coders.blob import compress_best
from inrcodec.decode.init import init_arrays
from inrcodec.decode.render import planes_to_tensors, render_planes, to_samples
from inrcodec.decode.weights import attach_blob, decode_body, dequantize, encode_body
from inrcodec.io.video import open_video
from inrcodec.metrics import psnr_yuv_from_sse, sample_peak
from inrcodec.models import ARCHITECTURES
from inrcodec.train import optim
from inrcodec.train.fit import FitConfig, fit_gop

KNOBS = {"ste": ("ste_fraction", float), "lr": ("lr", float), "batch": ("batch", int)}


def parse_variant(text: str) -> dict:
    """``baseline`` or ``knob=value[+knob=value...]`` -> FitConfig overrides."""
    if text == "baseline":
        return {}
    out = {}
    for part in text.split("+"):
        key, _, value = part.partition("=")
        if key == "opt":  # the weights' optimiser: soap or adan (pytorch-optimizer, measurement only)
            out["make_optimizer"] = make_optimizer(value)
            continue
        if key in ("model", "arch"):  # another architecture, or other arch_params (colon-separated)
            out[key] = value if key == "model" else tuple(int(v) for v in value.split(":"))
            continue
        field, kind = KNOBS[key]
        out[field] = kind(value)
    return out


def make_optimizer(name: str):
    """``FitConfig.make_optimizer`` for ``opt=NAME``: the encoder's (``--optimizer``), or Adan from
    pytorch-optimizer (measured only), with weight decay off as Adam has it."""
    if name == "adan":
        import pytorch_optimizer
        return lambda views, lr: pytorch_optimizer.Adan(views, lr=lr, weight_decay=0.0)
    return optim.make_optimizer(name)


def run(frames, model_name: str, quality: int, lam: float, iters: int, overrides: dict, seed: int) -> dict:
    """Fit, code and decode one I-model; bytes, bpp and PSNR-YUV of its decoded frames."""
    overrides = dict(overrides)
    cls = ARCHITECTURES.get(overrides.pop("model", model_name))
    h, w = frames[0][0].shape
    model = cls(w, h, "420", overrides.pop("arch", None) or cls.from_quality(quality))
    specs = model.tensor_specs()
    start = init_arrays(specs, seed)
    target = planes_to_tensors(frames, torch.device("cpu"))
    n = len(frames)
    t_pos = torch.arange(n, dtype=torch.float32) / n
    cfg = FitConfig(iters=iters, lam=lam, **{"lr": model.learning_rate, "batch": 2, "seed": seed, **overrides})
    t0 = time.perf_counter()
    fit = fit_gop(model, target, t_pos, start, None, None, cfg)
    seconds = time.perf_counter() - t0
    n_bytes, psnr, _ = code_and_measure(model, fit.qmodel, None, frames, t_pos)
    return {"bytes": n_bytes, "bpp": 8 * n_bytes / (n * h * w), "psnr": psnr,
            "seconds": seconds, "macs": model.macs_per_pixel()}


def code_and_measure(model, qmodel, reference, frames, t_pos) -> tuple[int, float, list[np.ndarray]]:
    """Code ``qmodel`` as a file would (range-coded body, its blob compressed), decode it back through the
    decoder's functions (``reference``: a P-model's), render ``frames``' positions with ``model``:
    (bytes, PSNR-YUV of the decoded frames, the decoded weights, which ``model`` now holds)."""
    specs = model.tensor_specs()
    body = encode_body(qmodel, 1, specs)  # range coder, as the encoder's default
    decoded = decode_body(body, specs, qmodel.kind, 1)
    n_bytes = len(body)
    if qmodel.blob:
        n_bytes += len(compress_best(qmodel.blob)[1])
        attach_blob(decoded, specs, qmodel.blob_tag, qmodel.blob)
    weights = dequantize(decoded, reference, specs)
    model.load_arrays(weights)
    planes = [to_samples(p) for p in render_planes(model, t_pos)]
    sse = [float(np.sum((planes[p].astype(np.float64) - np.stack([f[p] for f in frames])) ** 2)) for p in range(3)]
    counts = [planes[p].size for p in range(3)]
    return n_bytes, psnr_yuv_from_sse(sse, counts, sample_peak(8))["psnr_yuv"], weights


def at_rate(points: list[tuple[float, float]], bpp: float) -> float:
    """PSNR at ``bpp`` by linear interpolation in (log bpp, PSNR) on a variant's points (extrapolated
    from the two nearest at either end)."""
    pts = sorted(points)
    xs = [math.log(b) for b, _ in pts]
    x = math.log(bpp)
    k = 1
    while k < len(pts) - 1 and xs[k] < x:
        k += 1
    (x0, (_, y0)), (x1, (_, y1)) = (xs[k - 1], pts[k - 1]), (xs[k], pts[k])
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0) if x1 != x0 else y0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip")
    ap.add_argument("--model", default="gnerv")
    ap.add_argument("--quality", type=int, default=4)
    ap.add_argument("--gop", type=int, default=30, help="frames of the GOP fitted (the clip's first)")
    ap.add_argument("--iters", type=int, default=3000)
    ap.add_argument("--lams", default="200,450", help="comma-separated lambdas (two or more)")
    ap.add_argument("--variants", default="baseline,opt=adam")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    with open_video(a.clip, max_frames=a.gop) as video:
        frames = list(video)
    lams = [float(v) for v in a.lams.split(",")]
    results: dict[str, list[dict]] = {}
    for variant in a.variants.split(","):
        overrides = parse_variant(variant)
        for lam in lams:
            r = run(frames, a.model, a.quality, lam, a.iters, overrides, a.seed)
            results.setdefault(variant, []).append({"lam": lam, **r})
            print(f"{variant:<24} lambda {lam:>7g}: {r['bytes']:>6} B {r['bpp']:.4f} bpp {r['psnr']:.2f} dB "
                  f"({r['seconds']:.0f} s, {r['macs']:.0f} MAC/px)", file=sys.stderr, flush=True)
    base = results.get("baseline") or next(iter(results.values()))
    print(f"\n{a.model} q{a.quality}, {len(frames)} frames, {a.iters} iterations, lambdas {a.lams}\n")
    print("| change | points (bpp / dB) | dB at the baseline's rates | vs baseline |")
    print("|---|---|---|--:|")
    for variant, rows in results.items():
        pts = [(r["bpp"], r["psnr"]) for r in rows]
        mine = [at_rate(pts, b["bpp"]) for b in base]
        gain = np.mean([m - b["psnr"] for m, b in zip(mine, base)])
        print(f"| {variant} | {', '.join(f'{b:.4f} / {p:.2f}' for b, p in pts)} | "
              f"{', '.join(f'{m:.2f}' for m in mine)} | {gain:+.2f} dB |")


if __name__ == "__main__":
    main()
