#!/usr/bin/env python3
"""A side-by-side PNG of one frame's crop: the source and any number of decoded versions.

    python tools/crop_compare.py SOURCE.y4m DECODED_A.y4m DECODED_B.y4m --labels source,mse,ms-ssim \
        --frame 30 --box 40,20,96,96 --zoom 3 -o docs/carphone-loss-crop.png

The crop is taken from the RGB conversion of each frame (inrcodec.metrics.yuv_to_rgb, the header's
matrix and range) and enlarged by pixel replication, so no resampling filter blurs the comparison.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inrcodec.io.video import open_video  # noqa: E402
from inrcodec.metrics import sample_peak, yuv_to_rgb  # noqa: E402


def frame_rgb(path: str, index: int) -> np.ndarray:
    """Frame ``index`` of a video as an (H, W, 3) uint8 RGB array (10/12-bit video scaled to 8 bits for display)."""
    with open_video(path, max_frames=index + 1) as video:
        info = video.info
        frames = list(video)
    if index >= len(frames):
        raise SystemExit(f"crop_compare: {path} has {len(frames)} frames, no frame {index}")
    rgb = yuv_to_rgb(frames[index], info.matrix, info.color_range, info.bit_depth)
    if info.bit_depth == 8:
        return rgb
    return np.rint(rgb * (255.0 / sample_peak(info.bit_depth))).astype(np.uint8)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("videos", nargs="+", help="the source first, then decoded versions")
    p.add_argument("--labels", default=None, help="comma-separated titles, one per video")
    p.add_argument("--frame", type=int, default=0)
    p.add_argument("--box", default=None, help="x,y,width,height of the crop (default: the whole frame)")
    p.add_argument("--zoom", type=int, default=3, help="pixel replication factor")
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args(argv)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = a.labels.split(",") if a.labels else [Path(v).stem for v in a.videos]
    if len(labels) != len(a.videos):
        raise SystemExit("crop_compare: one label per video")
    crops = []
    for path in a.videos:
        rgb = frame_rgb(path, a.frame)
        if a.box:
            x, y, w, h = (int(v) for v in a.box.split(","))
            rgb = rgb[y:y + h, x:x + w]
        crops.append(np.repeat(np.repeat(rgb, a.zoom, axis=0), a.zoom, axis=1))
    fig, axes = plt.subplots(1, len(crops), figsize=(3.2 * len(crops), 3.6))
    for ax, crop, label in zip(np.atleast_1d(axes), crops, labels):
        ax.imshow(crop, interpolation="nearest")
        ax.set_title(label, fontsize=10)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(a.output, dpi=100)
    print(f"wrote {a.output}")


if __name__ == "__main__":
    main()
