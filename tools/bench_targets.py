#!/usr/bin/env python3
"""Issue 29's target figures, for a quiet machine (too long to run beside other work):
``inrcodec enc CLIP --gop 30 --gom 2`` with --size 20k, --size 40k and --psnr 36, one after the
other, printing for each what was asked, what was reached, the rung chosen, the final lambdas and the time.

    python tools/bench_targets.py [CLIP] [--preset medium] [--threads 2] [--out DIR] [-- extra enc options]
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
TARGETS = (("--size", "20k"), ("--size", "40k"), ("--psnr", "36"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip", nargs="?", default=str(DEFAULT_CLIP))
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="keep the .inr files here [default: a temporary folder]")
    ap.add_argument("extra", nargs=argparse.REMAINDER, help="after --: further enc options")
    args = ap.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="bench_targets_"))
    out.mkdir(parents=True, exist_ok=True)
    extra = [a for a in args.extra if a != "--"]
    rows = []
    for flag, value in TARGETS:
        dst = out / f"{flag.strip('-')}{value}.inr"
        cmd = [sys.executable, "-m", "inrcodec.cli", "enc", args.clip, "-o", str(dst), "-y", "--gop", "30", "--gom",
               "2", flag, value, "--preset", args.preset, "--threads", str(args.threads), "--json", "--quiet", *extra]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            print(f"{flag} {value}: exit {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]}")
            rows.append({"asked": f"{flag} {value}", "exit": proc.returncode})
            continue
        s = json.loads(proc.stdout)
        t = s["target"]
        if "target_bytes" in t:
            reached = f"{s['file_bytes']} bytes for {t['target_bytes']} ({t['off_percent']:+.1f} %, bar +-10 %)"
        else:
            reached = f"PSNR-YUV {s['psnr_yuv']:.2f} dB for {t['target_psnr']:g} ({t['off_db']:+.2f} dB, bar +-0.3)"
        lams = ", ".join(f"{g['kind']}{g['gop_index']} {g['lam']:.0f}" for g in s["gops"])
        print(f"{t['asked']}: {reached}; {s['bpp']:.4f} bpp, PSNR-YUV {s['psnr_yuv']:.2f} dB, quality {t['quality']}, "
              f"lambda {lams}; {seconds:.0f} s")
        rows.append({"asked": t["asked"], "target": t, "bpp": s["bpp"], "psnr_yuv": s["psnr_yuv"],
                     "seconds": seconds, "gops": s["gops"]})
    (out / "bench_targets.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {out / 'bench_targets.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
