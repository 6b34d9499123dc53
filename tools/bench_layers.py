#!/usr/bin/env python3
"""Progressive layers against separately encoded files (GNeRV Table 3 style).

One ``--layers K`` encode is cut down with ``inrcodec extract`` to 1..K layers; each cut is decoded
and measured (bpp of the cut file, PSNR-YUV of its decoded frames, frame-loop decode fps). The
"respective" files are K single-layer encodes at the qualities the layers use (base, then each
residual layer's). Every encode and decode runs in its own process; the table gives the total
encode time and storage of both ways and the BD-rate of the progressive cuts against the
respective files.

    python tools/bench_layers.py ../shared/data/carphone_qcif_60f.y4m --quality 2 --layer-quality 4,6 \
        --gop 30 --gom 2 --iters 4000 --p-iters 1500 --threads 2 --out out/layers
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from inrcodec.api import extract  # noqa: E402
from inrcodec.bench.run import (  # noqa: E402
    decode_cmd, encode_cmd, quality_metrics, read_frames, run_child, timed_decode_cmd,
)
from inrcodec.metrics import bd_rate_result  # noqa: E402


def measure_file(inr: Path, source: list, info, args, stem: str) -> dict:
    """bpp, quality and decode speed of one .inr file."""
    y4m = inr.with_suffix(".y4m")
    dec = run_child(decode_cmd(inr, y4m), inr.parent / f"{stem}.dec", args.threads)
    loop = json.loads(run_child(timed_decode_cmd(inr, args.threads), inr.parent / f"{stem}.timed",
                                args.threads).stdout)
    decoded = read_frames(y4m)[1]
    y4m.unlink()
    n_pixels = info.width * info.height * len(source)
    return {"file_bytes": inr.stat().st_size, "bpp": inr.stat().st_size * 8 / n_pixels,
            **quality_metrics(source, decoded, info), "dec_seconds": dec.seconds,
            "decode_fps_no_startup": loop["frames"] / loop["seconds"]}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("clip", type=Path)
    p.add_argument("--quality", type=int, default=2, help="the base layer's quality")
    p.add_argument("--layer-quality", default="4,6", help="each residual layer's quality, comma-separated")
    p.add_argument("--gop", type=int, default=30)
    p.add_argument("--gom", type=int, default=2)
    p.add_argument("--preset", default="medium")
    p.add_argument("--iters", type=int, default=None)
    p.add_argument("--p-iters", type=int, default=None)
    p.add_argument("--frames", type=int, default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", type=Path, default=REPO / "out" / "layers")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    residual = [int(q) for q in args.layer_quality.split(",")]
    qualities = [args.quality, *residual]
    info, source = read_frames(args.clip, args.frames)

    full = args.out / "progressive.inr"
    cmd = encode_cmd(args.clip, full, args.quality, args) + ["--layers", str(len(qualities)),
                                                            "--layer-quality", args.layer_quality]
    print(f"progressive: encoding {len(qualities)} layers ...", file=sys.stderr, flush=True)
    enc = run_child(cmd, args.out / "progressive.enc", args.threads)
    progressive = []
    for k in range(1, len(qualities) + 1):
        cut = args.out / f"layers{k}.inr"
        extract(full, cut, k, overwrite=True)
        progressive.append({"layers": k, **measure_file(cut, source, info, args, f"layers{k}")})
    respective = []
    for q in qualities:
        print(f"respective: encoding quality {q} ...", file=sys.stderr, flush=True)
        inr = args.out / f"q{q}.inr"
        e = run_child(encode_cmd(args.clip, inr, q, args), args.out / f"q{q}.enc", args.threads)
        respective.append({"quality": q, "enc_seconds": e.seconds, **measure_file(inr, source, info, args, f"q{q}")})

    print(f"{'':>14} {'bpp':>7} {'PSNR-YUV':>8} {'loop fps':>8}")
    for r in progressive:
        print(f"{'layers 0..' + str(r['layers'] - 1):>14} {r['bpp']:>7.4f} {r['psnr_yuv']:>8.2f} "
              f"{r['decode_fps_no_startup']:>8.1f}")
    for r in respective:
        print(f"{'quality ' + str(r['quality']):>14} {r['bpp']:>7.4f} {r['psnr_yuv']:>8.2f} "
              f"{r['decode_fps_no_startup']:>8.1f}")
    totals = {
        "progressive": {"enc_seconds": enc.seconds, "storage_bytes": progressive[-1]["file_bytes"]},
        "respective": {"enc_seconds": sum(r["enc_seconds"] for r in respective),
                       "storage_bytes": sum(r["file_bytes"] for r in respective)},
    }
    bd = bd_rate_result([(r["bpp"], r["psnr_yuv"]) for r in respective],
                        [(r["bpp"], r["psnr_yuv"]) for r in progressive])
    for name, t in totals.items():
        print(f"{name}: encode {t['enc_seconds']:.0f} s, storage {t['storage_bytes']} bytes")
    print(f"BD-rate of the progressive cuts against the respective files (PSNR-YUV): {bd}")
    result = {"settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
              "progressive": progressive, "respective": respective, "totals": totals,
              "bd_rate_percent": bd.value, "bd_rate_reason": bd.reason}
    (args.out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out / 'results.json'}")


if __name__ == "__main__":
    main()
