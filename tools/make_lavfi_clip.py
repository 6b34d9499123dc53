#!/usr/bin/env python3
"""Make a benchmark clip from an FFmpeg lavfi source graph, read through PyAV, as 8-bit 4:2:0 y4m.

The benchmark needs a second clip that is not carphone, and this machine holds no other footage, so
the second clip is generated: by default FFmpeg's ``mandelbrot`` source at 176x144 and 30 fps (a
zoom into the set, 60 frames: smooth gradients beside fine, moving detail, and scale motion rather
than carphone's translation). Any lavfi graph works (``testsrc2``, ``life``, a ``movie=...,zoompan``
pan over a photo). PyAV converts to yuv420p with swscale's defaults (BT.601, limited range).

    python tools/make_lavfi_clip.py out/mandelbrot_qcif_60f.y4m
    python tools/make_lavfi_clip.py out/testsrc2.y4m --graph "testsrc2=size=176x144:rate=30"
"""

from __future__ import annotations

import argparse
import os
import sys

import av

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from inrcodec.io.video import plane_array  # noqa: E402
from inrcodec.io.y4m import Y4MWriter  # noqa: E402

DEFAULT_GRAPH = "mandelbrot=size=176x144:rate=30"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--graph", default=DEFAULT_GRAPH, help=f"lavfi source graph [default: {DEFAULT_GRAPH}]")
    ap.add_argument("--frames", type=int, default=60)
    a = ap.parse_args()
    with av.open(a.graph, format="lavfi") as src:
        stream = src.streams.video[0]
        rate = stream.average_rate or stream.base_rate
        writer = None
        n = 0
        for frame in src.decode(stream):
            h, w = frame.height, frame.width
            planes = [plane_array(p) for p in frame.reformat(format="yuv420p").planes[:3]]
            if writer is None:
                writer = Y4MWriter(a.out, w, h, rate.numerator, rate.denominator, "420", overwrite=True)
            writer.write_frame(planes)
            n += 1
            if n == a.frames:
                break
        writer.close()
    print(f"{a.out}: {n} frames {w}x{h} at {rate} fps from {a.graph!r}")


if __name__ == "__main__":
    main()
