#!/usr/bin/env python3
"""Wall time of one encode with 1 worker against N workers, threads per worker set so that the
total equals the cores (each run in its own process; prints a table and writes JSON).

    python tools/bench_parallel.py ../shared/data/carphone_qcif_60f.y4m --workers 1,2 --cores 2 \
        --gop 15 --gom 1 --preset fast --quality 4

Arguments it does not know go to ``inrcodec enc`` as they are.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def run(src: str, dst: str, workers: int, threads: int, extra: list[str], ray: bool) -> dict:
    cmd = [sys.executable, "-m", "inrcodec.cli", "enc", src, "-o", dst, "-y", "--workers", str(workers),
           "--threads", str(threads), "--quiet", "--json", *extra]
    if ray:
        cmd.append("--ray")
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"encode failed ({done.returncode}): {done.stderr.strip()}")
    summary = json.loads(done.stdout)
    return {"workers": workers, "threads": threads, "ray": ray, "wall_s": wall, "bpp": summary["bpp"],
            "psnr_yuv": summary["psnr_yuv"], "bytes": summary["file_bytes"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src")
    p.add_argument("--workers", default="1,2", help="worker counts to compare, comma-separated")
    p.add_argument("--cores", type=int, default=os.cpu_count(), help="threads per worker = cores / workers")
    p.add_argument("--ray", action="store_true", help="also run each worker count as local Ray tasks")
    p.add_argument("--out", default="out/parallel", help="folder for the .inr files and results.json")
    a, extra = p.parse_known_args()
    os.makedirs(a.out, exist_ok=True)
    rows = []
    for ray in ([False, True] if a.ray else [False]):
        for n in (int(w) for w in a.workers.split(",")):
            threads = max(1, a.cores // n)
            dst = os.path.join(a.out, f"w{n}t{threads}{'-ray' if ray else ''}.inr")
            rows.append(run(a.src, dst, n, threads, extra, ray))
            r = rows[-1]
            print(f"workers {n} x {threads} threads{' (ray)' if ray else ''}: {r['wall_s']:.1f} s, "
                  f"{r['bpp']:.4f} bpp, {r['psnr_yuv']:.2f} dB, speed-up x{rows[0]['wall_s'] / r['wall_s']:.2f}",
                  flush=True)
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"src": a.src, "extra": extra, "cores": a.cores, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
