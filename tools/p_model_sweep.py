#!/usr/bin/env python3
"""P-model variants on one GOM: the same I-model, then each variant's P-model, real bytes and decoded PSNR.

An I-model is fitted to GOP 0 of a clip with the encoder's ``fit_gop``; each variant then fits the
P-model of GOP 1 from the encoder's reference (the interpolation initialisation, spec/models.md §6)
and is coded (``encode_body``) and decoded back. The figures are the P-model's bytes and PSNR-YUV
and the two-GOP file's bpp and mean PSNR, so a variant can be read against the RD slope. Variants
(``+`` combines): ``base``; ``freeze=convs.:head_y.`` (tensors or name prefixes whose residual stays
zero); ``shift=N`` (start the P steps N codes coarser); ``lr=X``; ``lam=X``; ``eps=N`` (interpolation
code instead of the encoder's). Example, carphone:

    python tools/p_model_sweep.py ../shared/data/carphone_qcif_60f.y4m --iters 3000 --p-iters 1000 \\
        --variants base,lam=150,freeze=convs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from inrcodec.decode.init import eps_code_from_mse, init_arrays, p_reference
from inrcodec.decode.render import planes_to_tensors
from inrcodec.decode.weights import KIND_P
from inrcodec.io.video import open_video
from inrcodec.models import ARCHITECTURES
from inrcodec.train.fit import FitConfig, fit_gop
from inrcodec.train.presets import P_LR_FACTOR
from recipe_sweep import code_and_measure  # tools/: the same coding and measuring as the I-model sweep


def parse_variant(text: str) -> dict:
    """``base`` or ``key=value[+key=value...]`` -> {"fit": FitConfig overrides, "shift": int, "eps": int|None}."""
    out: dict = {"fit": {}, "shift": 0, "eps": None}
    if text == "base":
        return out
    for part in text.split("+"):
        key, _, value = part.partition("=")
        if key == "freeze":
            out["fit"]["frozen"] = tuple(value.split(":"))
        elif key in ("lr", "lam"):
            out["fit"][key] = float(value)
        elif key in ("shift", "eps"):
            out[key] = int(value)
        else:
            raise KeyError(f"unknown P-model variant key {key!r}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip")
    ap.add_argument("--model", default="gnerv")
    ap.add_argument("--quality", type=int, default=4)
    ap.add_argument("--gop", type=int, default=30)
    ap.add_argument("--iters", type=int, default=3000)
    ap.add_argument("--p-iters", type=int, default=1000)
    ap.add_argument("--variants", default="base")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    with open_video(a.clip, max_frames=2 * a.gop) as video:
        frames = list(video)
    if len(frames) < 2 * a.gop:
        raise SystemExit(f"p_model_sweep: the clip has {len(frames)} frames, two GOPs need {2 * a.gop}")
    h, w = frames[0][0].shape
    cls = ARCHITECTURES.get(a.model)
    model = cls(w, h, "420", cls.from_quality(a.quality))
    specs = model.tensor_specs()
    lam = cls.LAMBDAS[a.quality]
    t_pos = torch.arange(a.gop, dtype=torch.float32) / a.gop
    n_pixels = 2 * a.gop * h * w

    g0, g1 = frames[:a.gop], frames[a.gop:2 * a.gop]
    init = init_arrays(specs, 1)
    fit = fit_gop(model, planes_to_tensors(g0, torch.device("cpu")), t_pos, init, None, None,
                  FitConfig(iters=a.iters, lam=lam, lr=model.learning_rate, batch=2, seed=1))
    i_bytes, i_psnr, i_weights = code_and_measure(model, fit.qmodel, None, g0, t_pos)
    print(f"I-model: {i_bytes} B, {i_psnr:.2f} dB")
    mse = float(np.mean([np.mean((x[0].astype(np.float64) - y[0]) ** 2) for x, y in zip(g1, g0)])) / 255 ** 2
    print("| P variant | P bytes / dB | file bpp / mean dB | seconds |")
    print("|---|---|---|--:|")
    for text in a.variants.split(","):
        v = parse_variant(text)
        eps = eps_code_from_mse(mse) if v["eps"] is None else v["eps"]
        ref = p_reference(init, i_weights, eps)
        cfg = FitConfig(**{"iters": a.p_iters, "lam": lam, "lr": model.learning_rate * P_LR_FACTOR, "batch": 2,
                           "seed": 2, **v["fit"]})
        t0 = time.perf_counter()
        p = fit_gop(model, planes_to_tensors(g1, torch.device("cpu")), t_pos, ref, ref,
                    [c + v["shift"] for c in fit.qmodel.step_codes], cfg)
        p.qmodel.kind, p.qmodel.eps_code = KIND_P, eps
        p_bytes, p_psnr, _ = code_and_measure(model, p.qmodel, ref, g1, t_pos)
        total = i_bytes + p_bytes
        print(f"| {text} | {p_bytes} / {p_psnr:.2f} | {8 * total / n_pixels:.4f} / {(i_psnr + p_psnr) / 2:.2f} | "
              f"{time.perf_counter() - t0:.0f} |", flush=True)


if __name__ == "__main__":
    main()
