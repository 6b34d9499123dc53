"""Frames from numpy instead of a file: what ``inrcodec.encode(frames, dst, fps=...)`` reads.

The encoder needs the frame count, size and format before it fits anything, so an iterable is read
into memory first (a ``[T, ...]`` array is used as it is). Accepted, by shape:

* ``[T, H, W]`` uint8 or uint16: luma only; coded as 4:2:0 with neutral (mid-grey) chroma.
* ``[T, H, W, 3]`` uint8: RGB, converted to YUV 4:4:4 through the BT.601 limited-range matrix, as an
  RGB video file is (io.video).
* an iterable (or sequence) of ``(Y, U, V)`` planes: 4:2:0 when U and V are ``ceil(H/2) × ceil(W/2)``,
  4:4:4 when they are ``H × W``; uint8 is 8-bit, uint16 needs ``bit_depth`` 10 or 12.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from typing import Iterable, Iterator

import numpy as np

from inrcodec.container.spec import ChromaFormat
from inrcodec.errors import InrInputError
from inrcodec.io.video import DEFAULT_FPS, Frame, VideoInfo, check_dimensions

# Largest denominator a float rate is read with: 30000 / 1001 as a float comes back as 30000/1001.
_MAX_RATE_DENOMINATOR = 1001


def parse_rate(fps) -> tuple[int, int]:
    """A frame rate given as an int, float, Fraction, "30000/1001" or (num, den), as (num, den).

    >>> parse_rate(25), parse_rate(30000 / 1001), parse_rate((30000, 1001)), parse_rate("24000/1001")
    ((25, 1), (30000, 1001), (30000, 1001), (24000, 1001))
    """
    try:
        if isinstance(fps, tuple):
            rate = Fraction(int(fps[0]), int(fps[1]))
        elif isinstance(fps, float):
            rate = Fraction(fps).limit_denominator(_MAX_RATE_DENOMINATOR)
        else:
            rate = Fraction(fps)
    except (ValueError, TypeError, ZeroDivisionError, IndexError, OverflowError):  # OverflowError: inf
        raise InrInputError(f"fps must be a positive number, a fraction or (num, den), got {fps!r}") from None
    if rate <= 0:
        raise InrInputError(f"fps must be positive, got {fps!r}")
    return rate.numerator, rate.denominator


def _rgb_to_yuv444(rgb: np.ndarray) -> Frame:
    """One RGB frame to YUV 4:4:4 planes through swscale's BT.601 limited-range matrix (as io.video)."""
    import av

    from inrcodec.io.video import plane_array

    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    yuv = frame.reformat(format="yuv444p", dst_colorspace="ITU601", dst_color_range="MPEG", threads=1)
    return tuple(plane_array(p) for p in yuv.planes[:3])


class ArraySource:
    """Frames held in memory with the :class:`VideoInfo` the encoder needs; iterable like a VideoSource."""

    def __init__(self, frames, *, fps=None, bit_depth: int | None = None, max_frames: int | None = None) -> None:
        fps_num, fps_den = parse_rate(DEFAULT_FPS if fps is None else fps)
        self.name = "numpy frames"
        matrix, color_range = 2, "unknown"
        if isinstance(frames, np.ndarray):
            arr = frames if max_frames is None else frames[:max_frames]
            if arr.ndim == 3:
                self._kind, chroma = "gray", ChromaFormat.YUV420
                depth = _depth_of(arr.dtype, bit_depth)
            elif arr.ndim == 4 and arr.shape[-1] == 3:
                if arr.dtype != np.uint8:
                    raise InrInputError(f"RGB frames must be uint8, got {arr.dtype}")
                self._kind, chroma, depth, matrix, color_range = "rgb", ChromaFormat.YUV444, 8, 6, "limited"
            else:
                raise InrInputError(f"frames array must be [T, H, W] (luma) or [T, H, W, 3] (RGB), got shape "
                                    f"{arr.shape}; give (Y, U, V) planes as an iterable of tuples")
            self._frames = arr
            n, height, width = arr.shape[:3]
            if n:
                check_dimensions(width, height, "of numpy frames")
        else:
            try:
                planes = []
                for frame in frames:
                    planes.append(tuple(np.asarray(p) for p in frame))
                    if max_frames is not None and len(planes) >= max_frames:
                        break
            except TypeError:
                raise InrInputError(f"cannot read frames from a {type(frames).__name__}: give a path, an array "
                                    "or an iterable of (Y, U, V) planes") from None
            if not planes:
                raise InrInputError("no frames to encode")
            self._kind = "yuv"
            first = planes[0]
            if len(first) != 3:
                raise InrInputError(f"a frame is 3 planes (Y, U, V), got {len(first)}")
            for name, plane in zip("YUV", first):
                if plane.ndim != 2:
                    raise InrInputError(f"the {name} plane must be 2-D (rows, columns), got shape {plane.shape}")
            height, width = first[0].shape
            check_dimensions(width, height, "of numpy frames")
            if first[2].shape != first[1].shape:
                raise InrInputError(f"the V plane's shape {first[2].shape} differs from the U plane's "
                                    f"{first[1].shape}")
            chroma = _chroma_of(first, width, height)
            depth = _depth_of(first[0].dtype, bit_depth)
            for i, frame in enumerate(planes):
                shapes = [p.shape for p in frame]
                if len(frame) != 3 or shapes != [p.shape for p in first] or any(p.dtype != first[0].dtype
                                                                                for p in frame):
                    raise InrInputError(f"frame {i} differs from frame 0 in planes, shapes or sample type")
            self._frames = planes
            n = len(planes)
        if n == 0:
            raise InrInputError("no frames to encode")
        self.info = VideoInfo(width=width, height=height, n_frames=n, fps_num=fps_num, fps_den=fps_den,
                              chroma=chroma.label, bit_depth=depth, color_range=color_range, matrix=matrix,
                              source_pix_fmt=f"numpy {self._kind}")
        self._check_range()

    def _check_range(self) -> None:
        top = (1 << self.info.bit_depth) - 1
        peak = int(np.max(self._frames)) if self._kind != "yuv" else max(int(p.max()) for f in self._frames
                                                                          for p in f)
        if peak > top:
            raise InrInputError(f"sample {peak} is above {top}, the largest {self.info.bit_depth}-bit value")

    def __iter__(self) -> Iterator[Frame]:
        info = self.info
        dtype = np.uint8 if info.bit_depth == 8 else np.uint16
        ch, cw = info.chroma_shape
        for frame in self._frames:
            if self._kind == "gray":
                grey = np.full((ch, cw), 1 << (info.bit_depth - 1), dtype)
                yield np.ascontiguousarray(frame, dtype), grey, grey.copy()
            elif self._kind == "rgb":
                yield _rgb_to_yuv444(frame)
            else:
                yield tuple(np.ascontiguousarray(p, dtype) for p in frame)

    def fingerprint(self) -> str:
        """A digest of every sample: a --resume journal only continues the same frames."""
        h = hashlib.sha256()
        for frame in self._frames:
            for p in (frame if self._kind == "yuv" else (frame,)):
                h.update(np.ascontiguousarray(p).tobytes())
        return h.hexdigest()

    def close(self) -> None:
        """Nothing to release (for the VideoSource interface)."""

    def __enter__(self) -> "ArraySource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _depth_of(dtype: np.dtype, bit_depth: int | None) -> int:
    """8 for uint8 (``bit_depth`` must be None or 8); 10 or 12 (``bit_depth``, required) for uint16."""
    if dtype == np.uint8 and bit_depth in (None, 8):
        return 8
    if dtype == np.uint16 and bit_depth in (10, 12):
        return bit_depth
    if dtype == np.uint16:
        raise InrInputError(f"uint16 frames need bit_depth=10 or 12 (got {bit_depth!r})")
    raise InrInputError(f"frames must be uint8 (8-bit) or uint16 (bit_depth 10 or 12), got {dtype}"
                        + ("" if bit_depth is None else f" with bit_depth={bit_depth}"))


def _chroma_of(frame: Iterable[np.ndarray], width: int, height: int) -> ChromaFormat:
    """4:2:0 or 4:4:4 from the U and V planes' shape."""
    u_shape = frame[1].shape
    for chroma in ChromaFormat:
        if u_shape == chroma.chroma_shape(width, height):
            return chroma
    raise InrInputError(f"U plane of {u_shape} fits neither 4:2:0 ({(height + 1) // 2}, {(width + 1) // 2}) "
                        f"nor 4:4:4 ({height}, {width}) for a {height}x{width} Y plane")
