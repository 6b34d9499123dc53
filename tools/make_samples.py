"""Regenerate the small real clips in samples/ from the carphone QCIF sequence, deterministically.

Tests and the README need real video small enough to encode in seconds; a crop of the speaker's face
area-downscaled by an integer factor keeps real texture and motion. The y4m clips come from integer
block means (identical bytes on every run); the mp4 is lossless libx264 (qp 0, one thread).

Usage: python tools/make_samples.py [--source /work/shared/data/carphone_qcif_60f.y4m] [--out samples]
"""

from __future__ import annotations

import argparse
import os
import sys
from fractions import Fraction

import av
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from inrcodec.io.video import open_video  # noqa: E402
from inrcodec.io.y4m import Y4MWriter  # noqa: E402

DEFAULT_SOURCE = "/work/shared/data/carphone_qcif_60f.y4m"
# Largest sample accepted in the repository (bytes).
MAX_SAMPLE_BYTES = 1_500_000


def area_downscale(plane: np.ndarray, factor: int) -> np.ndarray:
    """Mean of each factor x factor block, rounded half up with integer arithmetic."""
    h, w = plane.shape
    if h % factor or w % factor:
        raise ValueError(f"plane {w}x{h} is not a multiple of {factor}")
    blocks = plane.astype(np.int64).reshape(h // factor, factor, w // factor, factor).sum(axis=(1, 3))
    area = factor * factor
    return ((blocks + area // 2) // area).astype(np.uint8)


def crop_downscale(frame, x0: int, y0: int, out_w: int, out_h: int, factor: int):
    """Crop a 4:2:0 frame at even (x0, y0) and area-downscale it to out_w x out_h (odd sizes allowed)."""
    y, u, v = frame
    luma = area_downscale(y[y0 : y0 + out_h * factor, x0 : x0 + out_w * factor], factor)
    # Chroma of an odd-sized 4:2:0 frame has ceil(size / 2) samples; its last one covers one luma column.
    cw, ch = (out_w + 1) // 2, (out_h + 1) // 2
    cx, cy = x0 // 2, y0 // 2
    chroma = [area_downscale(p[cy : cy + ch * factor, cx : cx + cw * factor], factor) for p in (u, v)]
    return luma, chroma[0], chroma[1]


def write_y4m_clip(source: str, out: str, n_frames: int, x0: int, y0: int, w: int, h: int, factor: int) -> None:
    """Write the first n_frames of source, cropped and downscaled, as an FFmpeg-style y4m."""
    with open_video(source, max_frames=n_frames) as src:
        info = src.info
        with Y4MWriter(out, w, h, info.fps_num, info.fps_den, "420", info.color_range, info.chroma_siting,
                       overwrite=True) as wr:
            for frame in src:
                wr.write_frame(crop_downscale(frame, x0, y0, w, h, factor))


def write_mp4_clip(source: str, out: str, n_frames: int) -> None:
    """Write the first n_frames of source at full size as lossless (qp 0) H.264 in MP4."""
    with open_video(source, max_frames=n_frames) as src:
        info = src.info
        tmp = out + ".tmp"
        with av.open(tmp, "w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=Fraction(info.fps_num, info.fps_den))
            stream.width, stream.height, stream.pix_fmt = info.width, info.height, "yuv420p"
            # One thread and no wall-clock metadata keep the bytes identical from run to run.
            stream.codec_context.options = {"qp": "0", "preset": "medium", "threads": "1"}
            for i, planes in enumerate(src):
                frame = av.VideoFrame(info.width, info.height, "yuv420p")
                for plane, data in zip(frame.planes, planes):
                    rows = np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)
                    rows[: data.shape[0], : data.shape[1]] = data
                frame.pts = i
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        os.replace(tmp, out)


def main(argv: list[str] | None = None) -> int:
    """Write every sample and print what was written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=DEFAULT_SOURCE)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples"))
    args = parser.parse_args(argv)
    out = os.path.normpath(args.out)
    os.makedirs(out, exist_ok=True)
    jobs = [
        # 144x96 face-and-shoulders crop / 3 -> 48x32.
        ("carphone_48x32_8f.y4m", lambda p: write_y4m_clip(args.source, p, 8, 16, 16, 48, 32, 3)),
        ("carphone_qcif_16f.mp4", lambda p: write_mp4_clip(args.source, p, 16)),
        # 148x116 crop / 4 -> 37x29: an odd size whose chroma is 19x15.
        ("carphone_37x29_6f.y4m", lambda p: write_y4m_clip(args.source, p, 6, 14, 14, 37, 29, 4)),
    ]
    for name, job in jobs:
        path = os.path.join(out, name)
        job(path)
        size = os.path.getsize(path)
        if size > MAX_SAMPLE_BYTES:
            raise SystemExit(f"{path} is {size} bytes, over the {MAX_SAMPLE_BYTES}-byte limit")
        with open_video(path) as check:
            i = check.info
        print(f"wrote {path}: {i.width}x{i.height}, {i.n_frames} frames, {i.fps_num}/{i.fps_den} fps, {size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
