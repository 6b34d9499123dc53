#!/usr/bin/env python3
"""Make 10- and 12-bit benchmark clips from an 8-bit 4:2:0 source (the high-bit-depth benchmark).

Two derivations, both exact integer arithmetic:

* ``upconvert``: every sample shifted left by depth - 8 (JVET's bit-depth conversion). Same picture,
  same information: the low bits are zero. It exercises the mechanics (reading, fitting and
  writing at 10 bits, peaks, the anchors' 10-bit profiles) on the clip the 8-bit figures use.
* ``boxsum``: each output sample is the *sum* of a 2x2 (10-bit) or 4x4 (12-bit) block of 8-bit
  samples, i.e. the block mean with its 2 or 4 fraction bits kept. The result is real camera
  content whose low bits carry real information (the noise and detail averaged over the block),
  at a half or a quarter of the size; no registry-installable package ships real 10-bit video,
  so this is the closest to a real 10-bit clip we can make here.

    python tools/make_highdepth.py upconvert ../shared/data/carphone_qcif_60f.y4m out/data/carphone_qcif_p10.y4m
    python tools/make_highdepth.py boxsum ../shared/data/carphone_qcif_60f.y4m out/data/carphone_88x72_p10.y4m
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from inrcodec.container.spec import ChromaFormat  # noqa: E402
from inrcodec.io.video import open_video  # noqa: E402
from inrcodec.io.y4m import Y4MWriter  # noqa: E402

BOX = {10: 2, 12: 4}  # depth -> block side whose sum of 8-bit samples fills exactly that many bits


def upconvert(frame, depth: int):
    """Each plane shifted left by depth - 8, as uint16."""
    return tuple(p.astype(np.uint16) << (depth - 8) for p in frame)


def box_sum(plane: np.ndarray, side: int) -> np.ndarray:
    """Sum of each side x side block (a trailing partial row or column of blocks is dropped)."""
    h, w = plane.shape[0] // side * side, plane.shape[1] // side * side
    blocks = plane[:h, :w].astype(np.uint32).reshape(h // side, side, w // side, side)
    return blocks.sum(axis=(1, 3)).astype(np.uint16)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("upconvert", "boxsum"))
    parser.add_argument("source", help="an 8-bit 4:2:0 video")
    parser.add_argument("out", help="the .y4m to write")
    parser.add_argument("--depth", type=int, choices=(10, 12), default=10)
    parser.add_argument("--frames", type=int, default=None)
    args = parser.parse_args(argv)
    with open_video(args.source, max_frames=args.frames) as src:
        info = src.info
        if info.bit_depth != 8 or info.chroma_format is not ChromaFormat.YUV420:
            parser.error(f"{args.source} is {info.bit_depth}-bit {info.chroma}; expected 8-bit 4:2:0")
        side = BOX[args.depth]
        if args.mode == "upconvert":
            width, height = info.width, info.height
        else:
            # 4:2:0 needs chroma blocks too: luma sizes that are whole chroma blocks
            width, height = info.width // (2 * side) * 2, info.height // (2 * side) * 2
        with Y4MWriter(args.out, width, height, info.fps_num, info.fps_den, "420", info.color_range,
                       info.chroma_siting, bit_depth=args.depth, overwrite=True) as out:
            for frame in src:
                if args.mode == "upconvert":
                    out.write_frame(upconvert(frame, args.depth))
                else:
                    y = box_sum(frame[0], side)[:height, :width]
                    u, v = (box_sum(p, side)[:height // 2, :width // 2] for p in frame[1:])
                    out.write_frame((y, u, v))
    print(f"{args.out}: {width}x{height} {args.depth}-bit 4:2:0, {info.n_frames} frames ({args.mode})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
