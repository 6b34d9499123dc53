#!/usr/bin/env python3
"""Decode speed per synthesis backend (issue 21): process fps, frame-loop fps and start to first frame.

For each architecture × quality × frame size, a real .inr file of random weights is written
(``inrcodec.fuzz.synthetic.synthetic_file``: every model coded and P-models predicted as in an
encode; a decoder's speed does not depend on the values), then for each backend:

- process fps: frames / wall time of a fresh ``inrcodec dec FILE -o /dev/null`` (start-up included);
- loop fps: frames / seconds of the frame loop inside one process (``for frame in inrcodec.open(FILE)``,
  the weights of every GOP decoded on the way; opening the file, where the ort session is made, excluded);
- first frame: wall time of a fresh ``inrcodec dec FILE --frames 1 -o /dev/null`` (process start to the
  first frame written), best of ``--repeat``.

    python tools/bench_decode.py --threads 2 --out out/bench_decode            # the README's table
    python tools/bench_decode.py --archs gnerv --qualities 4 --sizes 176x144 --backends ort,torch

Each process gets ``--threads`` threads (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, ``dec --threads``; torch
reads OMP_NUM_THREADS). Run it on a quiet machine: it prints the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LOOP = r"""
import sys, time
import inrcodec
path, backend, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
if backend == "torch":
    import torch
    torch.set_num_threads(threads)
t0 = time.perf_counter()
f = inrcodec.open(path, backend=backend, threads=threads)
t1 = time.perf_counter()
n = sum(1 for _ in f)
t2 = time.perf_counter()
print(n, t1 - t0, t2 - t1)
"""


def _env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    return env


def _dec_command() -> list[str]:
    exe = shutil.which("inrcodec")
    return [exe] if exe else [sys.executable, "-m", "inrcodec.cli"]


def make_file(arch: str, quality: int, width: int, height: int, n_frames: int, gop: int, path: str) -> None:
    """A valid file of random weights: ``n_frames`` frames in GOPs of ``gop``, GOMs of two GOPs."""
    import numpy as np

    from inrcodec.archs import ARCHITECTURES
    from inrcodec.container.chunks import SequenceHeader
    from inrcodec.fuzz.synthetic import synthetic_file

    params = ARCHITECTURES.get(arch).QUALITY[quality]  # the encoder's ladder, torch-free
    header = SequenceHeader(width=width, height=height, n_frames=n_frames, fps_num=25, fps_den=1, chroma_format=0,
                            bit_depth=8, color_range=0, color_primaries=2, transfer=2, matrix=2, chroma_siting=0,
                            gop_size=gop, gom_size=2, arch_id=ARCHITECTURES.id_of(arch), arch_params=params,
                            coder_id=1, seed=1)
    Path(path).write_bytes(synthetic_file(header, None, np.random.default_rng(quality)))


def measure(path: str, backend: str, threads: int, n_frames: int, repeat: int) -> dict:
    """process fps, loop fps, first-frame seconds, session (open) seconds of one file on one backend."""
    env = _env(threads)
    dec = _dec_command() + ["dec", path, "-o", os.devnull, "-y", "--quiet", "--backend", backend,
                            "--threads", str(threads)]
    first, whole, loop, opened = [], [], [], []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(dec + ["--frames", "1"], check=True, env=env)
        first.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run(dec, check=True, env=env)
        whole.append(time.perf_counter() - t)
        out = subprocess.run([sys.executable, "-c", LOOP, path, backend, str(threads)], check=True, env=env,
                             capture_output=True, text=True).stdout.split()
        assert int(out[0]) == n_frames
        opened.append(float(out[1]))
        loop.append(float(out[2]))
    return {"process_fps": n_frames / min(whole), "loop_fps": n_frames / min(loop), "first_frame_s": min(first),
            "open_s": min(opened)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--archs", default="gnerv,hinerv,nirvana")
    ap.add_argument("--qualities", default="2,4")
    ap.add_argument("--sizes", default="176x144,640x360,1280x720")
    ap.add_argument("--backends", default="ort,numpy,torch")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--frames", default="60,30,12", help="frames per size (in --sizes order)")
    ap.add_argument("--gop", type=int, default=30, help="frames per GOP (at most the frame count)")
    ap.add_argument("--repeat", type=int, default=1, help="best of this many runs")
    ap.add_argument("--out", default=None, help="write results.json and table.md here")
    a = ap.parse_args(argv)
    sizes = [tuple(int(v) for v in s.split("x")) for s in a.sizes.split(",")]
    frames = [int(v) for v in a.frames.split(",")]
    frames += [frames[-1]] * (len(sizes) - len(frames))
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for arch in a.archs.split(","):
            for q in (int(v) for v in a.qualities.split(",")):
                for (w, h), n in zip(sizes, frames):
                    path = os.path.join(tmp, f"{arch}_q{q}_{w}x{h}.inr")
                    make_file(arch, q, w, h, n, min(a.gop, n), path)
                    for backend in a.backends.split(","):
                        r = measure(path, backend, a.threads, n, a.repeat)
                        row = {"arch": arch, "quality": q, "size": f"{w}x{h}", "frames": n, "backend": backend, **r}
                        rows.append(row)
                        print(f"{arch} q{q} {w}x{h} {backend}: process {r['process_fps']:.1f} fps, "
                              f"loop {r['loop_fps']:.1f} fps, first frame {r['first_frame_s']:.3f} s, "
                              f"open {r['open_s']:.3f} s", flush=True)
    load_after = os.getloadavg()[0]
    print(f"load average after: {load_after:.2f}")
    table = format_table(rows)
    print(table)
    if a.out:
        out = Path(a.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps({"threads": a.threads, "rows": rows}, indent=2))
        (out / "table.md").write_text(table + "\n")


def format_table(rows: list[dict]) -> str:
    """Markdown: one row per architecture, quality and backend; process / loop fps per size, first frame."""
    sizes = list(dict.fromkeys(r["size"] for r in rows))
    head = ("| model | q | backend | " + " | ".join(f"{s} fps (process / loop)" for s in sizes)
            + f" | first frame s ({sizes[0]}) |")
    lines = [head, "|---|--:|---|" + "--:|" * (len(sizes) + 1)]
    keys = list(dict.fromkeys((r["arch"], r["quality"], r["backend"]) for r in rows))
    for arch, q, backend in keys:
        cells = []
        first = ""
        for s in sizes:
            r = next((r for r in rows if (r["arch"], r["quality"], r["backend"], r["size"]) == (arch, q, backend, s)),
                     None)
            cells.append("—" if r is None else f"{r['process_fps']:.0f} / {r['loop_fps']:.0f}"
                         if r["loop_fps"] >= 20 else f"{r['process_fps']:.1f} / {r['loop_fps']:.1f}")
            if r is not None and s == sizes[0]:
                first = f"{r['first_frame_s']:.2f}"
        lines.append(f"| {arch} | {q} | {backend} | " + " | ".join(cells) + f" | {first} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
