#!/usr/bin/env python3
"""Issue 29's target figures, for a quiet machine (too long to run beside other work):
``inrcodec enc CLIP --gop 30 --gom 2`` with --size 20k, --size 40k, --psnr 36 and --time 120, one after
the other, printing for each what was asked, what was reached, the rung chosen, the final lambdas and
the time (for --time: the command's wall time, process start to exit, against the budget).

    python tools/bench_targets.py [CLIP] [--targets size=20k,psnr=36,time=2m] [--preset medium] [--threads N]
        [--out DIR] [-- extra enc options]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_CLIP = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "carphone_qcif_60f.y4m"
TARGETS = "size=20k,size=40k,psnr=36,time=120"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip", nargs="?", default=str(DEFAULT_CLIP))
    ap.add_argument("--targets", default=TARGETS, help=f"comma-separated OPTION=VALUE [default: {TARGETS}]")
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--threads", type=int, default=None, help="--threads for enc [default: the encoder's]")
    ap.add_argument("--out", default=None, help="keep the .inr files here [default: a temporary folder]")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)  # after --: further enc options
    args = ap.parse_args(argv[:cut])
    args.extra = argv[cut + 1:]
    out = Path(args.out or tempfile.mkdtemp(prefix="bench_targets_"))
    out.mkdir(parents=True, exist_ok=True)
    extra = [a for a in args.extra if a != "--"]
    rows = []
    for item in args.targets.split(","):
        name, value = item.split("=", 1)
        flag = "--" + name.replace("_", "-")
        dst = out / f"{flag.strip('-')}{value}.inr"
        cmd = [sys.executable, "-m", "inrcodec.cli", "enc", args.clip, "-o", str(dst), "-y", "--gop", "30", "--gom",
               "2", flag, value, "--preset", args.preset, "--json", "--quiet", *extra]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            print(f"{flag} {value}: exit {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]}")
            rows.append({"asked": f"{flag} {value}", "exit": proc.returncode})
            continue
        s = json.loads(proc.stdout)
        if flag == "--time":
            budget = s["time"]["budget_s"]
            lo, hi = 0.85 * budget, 1.15 * budget
            print(f"--time {value}: {seconds:.1f} s wall for {budget:g} s ({100 * (seconds / budget - 1):+.1f} %, bar "
                  f"{lo:.0f}-{hi:.0f} s); {s['bpp']:.4f} bpp, PSNR-YUV {s['psnr_yuv']:.2f} dB; iterations "
                  + ", ".join(f"{g['kind']}{g['gop_index']} {g['iters']}" for g in s["gops"]), flush=True)
            rows.append({"asked": f"--time {value}", "wall_s": seconds, "budget_s": budget, "bpp": s["bpp"],
                         "psnr_yuv": s["psnr_yuv"], "gops": s["gops"]})
            continue
        t = s["target"]
        if "target_bytes" in t:
            reached = f"{s['file_bytes']} bytes for {t['target_bytes']} ({t['off_percent']:+.1f} %, bar +-10 %)"
        else:
            reached = f"PSNR-YUV {s['psnr_yuv']:.2f} dB for {t['target_psnr']:g} ({t['off_db']:+.2f} dB, bar +-0.3)"
        lams = ", ".join(f"{g['kind']}{g['gop_index']} {g['lam']:.0f}" for g in s["gops"])
        print(f"{t['asked']}: {reached}; {s['bpp']:.4f} bpp, PSNR-YUV {s['psnr_yuv']:.2f} dB, quality {t['quality']}, "
              f"lambda {lams}; {seconds:.0f} s", flush=True)
        rows.append({"asked": t["asked"], "target": t, "bpp": s["bpp"], "psnr_yuv": s["psnr_yuv"],
                     "seconds": seconds, "gops": s["gops"]})
    (out / "bench_targets.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {out / 'bench_targets.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
