#!/usr/bin/env python3
"""The torch-free frame loop (inrcodec.decode.numpy_render) against the torch models (issue 21 §3).

For each architecture × frame size × quality: random weights on the scale of trained ones (each
tensor uniform within its init bound, biases ±0.1; a forward pass's time does not depend on the
values), loaded into both the numpy network and the torch model; frames rendered in batches of
``RENDER_BATCH`` (as the decoder does), a warm-up batch first, best of ``--repeat`` runs.

    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 python tools/bench_numpy_render.py --threads 2
    python tools/bench_numpy_render.py --threads 2 --conv-threads 2   # blocks on 2 threads, BLAS on 1
    python tools/bench_numpy_render.py --archs gnerv --sizes 1280x720 --qualities 2,4,6 --repeat 3

``--threads`` sets torch's intra-op threads; numpy's BLAS (OpenBLAS in the wheels) reads
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS at import, so the script sets both to ``--threads`` before
importing numpy unless they are already set (to 1 with ``--conv-threads`` > 1: numpy_render then runs
a conv's blocks of rows on that many threads, the elementwise work included, and a multi-threaded
BLAS under them would oversubscribe the cores). Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def _int_from_argv(flag: str, default: int) -> int:
    for i, a in enumerate(sys.argv):
        if a == flag and i + 1 < len(sys.argv):
            return int(sys.argv[i + 1])
        if a.startswith(flag + "="):
            return int(a.split("=", 1)[1])
    return default


# numpy's BLAS reads its thread count at import: single-threaded BLAS when the convs' blocks run on threads
_T = str(_int_from_argv("--threads", 2))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1" if _int_from_argv("--conv-threads", 1) > 1 else _T)
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _T)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from inrcodec.decode import numpy_render as nr  # noqa: E402
from inrcodec.decode.render import RENDER_BATCH  # noqa: E402
from inrcodec.models import ARCHITECTURES  # noqa: E402


def random_weights(model, rng) -> list[np.ndarray]:
    out = []
    for spec in model.tensor_specs():
        bound = spec.init_bound if spec.init_bound else 0.1
        out.append(rng.uniform(-bound, bound, spec.shape).astype(np.float32))
    return out


def best_fps(fn, t_batches: list[np.ndarray], repeat: int, min_s: float) -> float:
    """Frames per second of ``fn`` over the batches, best of ``repeat`` passes (each ≥ ``min_s``)."""
    fn(t_batches[0])  # warm-up
    best = 0.0
    for _ in range(repeat):
        frames, t0 = 0, time.perf_counter()
        while True:
            for t in t_batches:
                fn(t)
                frames += t.shape[0]
            dt = time.perf_counter() - t0
            if dt >= min_s:
                break
        best = max(best, frames / dt)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="176x144,640x360,1280x720")
    ap.add_argument("--archs", default="gnerv,hinerv,nirvana")
    ap.add_argument("--qualities", default="4")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--frames", type=int, default=8, help="frames per pass (default 8: two batches)")
    ap.add_argument("--min-seconds", type=float, default=0.3, help="each pass runs at least this long")
    ap.add_argument("--no-torch", action="store_true", help="numpy only")
    ap.add_argument("--conv-threads", type=int, default=1,
                    help="numpy_render.CONV_THREADS (threads over a conv's blocks; BLAS then single-threaded)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    nr.CONV_THREADS = args.conv_threads
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    qualities = [int(q) for q in args.qualities.split(",")]
    t_all = np.divide(np.arange(args.frames, dtype=np.float32), np.float32(args.frames), dtype=np.float32)
    batches = [t_all[i:i + RENDER_BATCH] for i in range(0, args.frames, RENDER_BATCH)]
    print(f"threads {args.threads}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
          f"conv threads {args.conv_threads}, batch {RENDER_BATCH}, numpy {np.__version__}, torch {torch.__version__}")
    print(f"{'arch':8} {'size':>9} {'q':>2} {'numpy fps':>10} {'torch fps':>10} {'ratio':>6}")
    for arch in args.archs.split(","):
        cls = ARCHITECTURES.get(arch)
        for (w, h) in sizes:
            for q in qualities:
                params = cls.from_quality(q)
                model = cls(w, h, "420", params).eval()
                weights = random_weights(model, np.random.default_rng(q))
                model.load_arrays(weights)
                net = nr.build(arch, w, h, "420", params, weights)
                np_fps = best_fps(net, batches, args.repeat, args.min_seconds)
                if args.no_torch:
                    th_fps = float("nan")
                else:
                    tb = [torch.from_numpy(t) for t in batches]
                    with torch.no_grad():
                        th_fps = best_fps(model, tb, args.repeat, args.min_seconds)
                print(f"{arch:8} {w:>4}x{h:<4} {q:>2} {np_fps:10.1f} {th_fps:10.1f} {np_fps / th_fps:6.2f}",
                      flush=True)


if __name__ == "__main__":
    main()
