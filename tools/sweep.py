#!/usr/bin/env python3
"""Encode one clip with many option sets at once and tabulate bpp / PSNR / seconds.

For tuning presets: each configuration is a JSON object of ``inrcodec.encode`` options (e.g.
``{"quality": 4, "lam": 200, "iters": 27000}``); they run in parallel worker processes (several
share one GPU well, since these small networks leave it mostly idle), each writing one JSON line
to ``--out``. Example:

    python tools/sweep.py clip.y4m configs.json --workers 8 --out sweep.jsonl --set gop=30 --set gom=2
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time


def run_one(args: tuple[str, dict, str]) -> dict:
    src, options, out_dir = args
    from inrcodec.api import encode
    dst = tempfile.mktemp(suffix=".inr", dir=out_dir)
    t0 = time.perf_counter()
    try:
        summary = encode(src, dst, **options)
    except Exception as exc:  # a sweep reports failures and goes on
        return {"options": options, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        if os.path.exists(dst):
            os.unlink(dst)
    d = summary.to_dict()
    gops = d.pop("gops")
    i_bytes = sum(g["bytes"] for g in gops if g["kind"] == "I")
    p_bytes = sum(g["bytes"] for g in gops if g["kind"] == "P")
    return {"options": options, "bpp": d["bpp"], "psnr_yuv": d["psnr_yuv"], "psnr_y": d["psnr_y"],
            "bytes": d["file_bytes"], "i_bytes": i_bytes, "p_bytes": p_bytes,
            "macs_per_pixel": d["macs_per_pixel"], "seconds": time.perf_counter() - t0}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src")
    p.add_argument("configs", help="JSON file: a list of option objects")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--out", required=True, help="JSON-lines results file (appended)")
    p.add_argument("--set", dest="common", action="append", default=[],
                   help="key=value option shared by every configuration (value parsed as JSON if it can be)")
    a = p.parse_args()
    common = {}
    for kv in a.common:
        key, _, value = kv.partition("=")
        try:
            common[key] = json.loads(value)
        except json.JSONDecodeError:
            common[key] = value
    with open(a.configs) as f:
        configs = [{**common, **c} for c in json.load(f)]
    out_dir = os.path.dirname(os.path.abspath(a.out))
    jobs = [(a.src, c, out_dir) for c in configs]
    with mp.get_context("spawn").Pool(a.workers) as pool, open(a.out, "a") as out:
        for res in pool.imap_unordered(run_one, jobs):
            out.write(json.dumps(res) + "\n")
            out.flush()
            if "error" in res:
                print(f"FAILED {res['options']}: {res['error']}", file=sys.stderr)
            else:
                print(f"{res['bpp']:.4f} bpp {res['psnr_yuv']:.2f} dB P/I {res['p_bytes'] / max(1, res['i_bytes']):.2f} "
                      f"{res['seconds']:.0f} s  {json.dumps({k: v for k, v in res['options'].items() if k not in common})}",
                      file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
