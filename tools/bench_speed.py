"""Seconds per training iteration, by architecture, quality and frame size: the measurements behind
the presets' time budgets (``SPEED`` in inrcodec/train/presets.py, docs/encoder-notes.md).

Each point fits one 30-frame GOP twice, with ``--iters`` K1 and K2, and reports
(t(K2) - t(K1)) / (K2 - K1) from the GOP's own fit time, so set-up, coding and evaluation cancel.
Larger sizes tile the clip (mirrored), so the content stays camera footage.

    python tools/bench_speed.py ../shared/data/carphone_qcif_60f.y4m --models gnerv --qualities 1,3,5,7,9
    python tools/bench_speed.py CLIP --models gnerv,hinerv,nirvana --qualities 5 --scales 0.5,1,2 --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

import numpy as np


def read_y4m_420(path: str, n: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The first ``n`` frames of an 8-bit 4:2:0 y4m as (Y, U, V) planes."""
    from inrcodec.io.video import open_video

    out = []
    with open_video(path, max_frames=n) as video:
        for f in video:
            out.append(tuple(np.asarray(p) for p in f))
    return out


def scaled(frames, scale: float):
    """Frames cropped (scale < 1) or mirror-tiled (scale > 1) to about ``scale`` times the width and height,
    even sizes."""
    h, w = frames[0][0].shape
    nh, nw = max(16, int(h * scale) // 2 * 2), max(16, int(w * scale) // 2 * 2)

    def fit(p, ph, pw):
        reps = (-(-ph // p.shape[0]), -(-pw // p.shape[1]))
        big = np.block([[p if (i + j) % 2 == 0 else p[:, ::-1] for j in range(reps[1])] for i in range(reps[0])])
        return np.ascontiguousarray(big[:ph, :pw])

    return [(fit(y, nh, nw), fit(u, nh // 2, nw // 2), fit(v, nh // 2, nw // 2)) for y, u, v in frames]


def fit_seconds(frames, model: str, quality: int, iters: int, threads: int | None) -> float:
    """The GOP's fit time at ``iters`` iterations."""
    import inrcodec

    with tempfile.TemporaryDirectory() as tmp:
        opts = dict(model=model, quality=quality, iters=iters, gop=len(frames), gom=1)
        if threads:
            opts["threads"] = threads
        s = inrcodec.encode(iter(frames), os.path.join(tmp, "s.inr"), fps=25, **opts)
    return s.gops[0].seconds


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clip", help="an 8-bit 4:2:0 y4m (at least 30 frames)")
    ap.add_argument("--models", default="gnerv")
    ap.add_argument("--qualities", default="5")
    ap.add_argument("--scales", default="1", help="frame sizes as factors of the clip's (crop or tile)")
    ap.add_argument("--iters", default="60,240", help="K1,K2")
    ap.add_argument("--threads", type=int, default=None, help="torch threads [default: the encoder's]")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    k1, k2 = (int(v) for v in args.iters.split(","))
    base = read_y4m_420(args.clip, 30)
    rows = []
    for scale in (float(s) for s in args.scales.split(",")):
        frames = scaled(base, scale)
        h, w = frames[0][0].shape
        for model in args.models.split(","):
            for q in (int(v) for v in args.qualities.split(",")):
                t1 = fit_seconds(frames, model, q, k1, args.threads)
                t2 = fit_seconds(frames, model, q, k2, args.threads)
                from inrcodec.train.speed import iteration_seconds  # the model the presets use
                from inrcodec.models import ARCHITECTURES

                cls = ARCHITECTURES.get(model)
                modelled = iteration_seconds(model, cls.from_quality(q), w, h)
                row = {"model": model, "quality": q, "width": w, "height": h,
                       "s_per_iter": (t2 - t1) / (k2 - k1), "modelled": modelled}
                rows.append(row)
                if not args.json:
                    print(f"{model:8s} q{q} {w}x{h}: {1000 * row['s_per_iter']:7.2f} ms/iteration "
                          f"(model {1000 * modelled:7.2f})", flush=True)
    if args.json:
        print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
