"""Read any video PyAV opens as 8-, 10- or 12-bit planar YUV numpy frames, with what the encoder must know first.

The encoder needs the frame count, size, rate, bit depth and colour description before it fits a
single model, and it works on YUV 4:2:0 or 4:4:4 planes of 8, 10 or 12 bits only. This module is the
one place that turns a container on disk into that: a :class:`VideoInfo` and an iterator of
``(Y, U, V)`` planes, ``uint8`` for 8-bit video and native-endian ``uint16`` holding
``0 .. 2**bit_depth - 1`` (not shifted to the high bits) for 10 and 12 bits.

Pixel format policy:

* Native, samples untouched: ``yuv420p`` and ``yuvj420p`` (``'420'``), ``yuv444p`` and
  ``yuvj444p`` (``'444'``) at 8 bits (the ``j`` variants are full range); ``yuv420p10le``,
  ``yuv420p10be``, ``yuv444p10le``, ``yuv444p10be`` at 10 bits and ``yuv420p12le``,
  ``yuv420p12be``, ``yuv444p12le``, ``yuv444p12be`` at 12 bits (big-endian planes are byte-swapped
  on reading, nothing else). A 10- or 12-bit sample above ``2**bit_depth - 1`` is refused.
* Everything else is converted by PyAV's ``reformat`` (swscale) with one ``warnings.warn`` line
  naming the source and target format. The depth of the widest colour component picks the target
  depth: up to 8 bits gives 8, 9 or 10 bits gives 10, 11 bits and more gives 12 (swscale rounds
  14- and 16-bit sources down). RGB sources and other 4:4:4 sources go to 4:4:4 (``yuv444p``,
  ``yuv444p10le``, ``yuv444p12le``; RGB through the BT.601 limited-range matrix, reported as matrix
  6), all others (``yuv422p``, ``nv12``, ``p010le``, ``gray10le`` ...) to 4:2:0 (``yuv420p``,
  ``yuv420p10le``, ``yuv420p12le``). The colour range is kept across the conversion.

Chroma siting is only reported for 8-bit 4:2:0 YUV4MPEG2 input (its ``C`` tag); PyAV does not
expose the siting of other containers, which read as ``'unknown'``.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator

import av
import numpy as np

from inrcodec.container.spec import (ALLOWED_BIT_DEPTHS, H273_UNSPECIFIED, MAX_DIMENSION, ChromaFormat, ChromaSiting,
                                     ColorRange)
from inrcodec.errors import InrInputError

Frame = tuple[np.ndarray, np.ndarray, np.ndarray]

# Frame rate assumed when the container states none (frames per second).
DEFAULT_FPS = (25, 1)

# Formats read as they are: pix_fmt -> (chroma, bit depth). Byte order comes from av.VideoFormat.
_NATIVE_FORMATS = {
    "yuv420p": ("420", 8), "yuvj420p": ("420", 8), "yuv444p": ("444", 8), "yuvj444p": ("444", 8),
    "yuv420p10le": ("420", 10), "yuv420p10be": ("420", 10), "yuv444p10le": ("444", 10), "yuv444p10be": ("444", 10),
    "yuv420p12le": ("420", 12), "yuv420p12be": ("420", 12), "yuv444p12le": ("444", 12), "yuv444p12be": ("444", 12),
}
# What other formats are converted to, by (chroma, bit depth); always little-endian.
_TARGET_FORMAT = {
    ("420", 8): "yuv420p", ("444", 8): "yuv444p",
    ("420", 10): "yuv420p10le", ("444", 10): "yuv444p10le",
    ("420", 12): "yuv420p12le", ("444", 12): "yuv444p12le",
}
# YUV4MPEG2 colour-space tags and the chroma siting each one declares.
_Y4M_SITING = {b"420jpeg": "center", b"420": "center", b"420mpeg2": "left", b"420paldv": "topleft"}
# H.273 MatrixCoefficients 6 (BT.601 525) is what swscale uses for RGB -> YUV by default.
_RGB_MATRIX = 6


def sample_dtype(bit_depth: int) -> np.dtype:
    """numpy dtype of a plane at ``bit_depth`` bits: uint8 for 8, native-endian uint16 for 10 and 12."""
    if isinstance(bit_depth, bool) or not isinstance(bit_depth, (int, np.integer)) or (
        bit_depth not in ALLOWED_BIT_DEPTHS
    ):
        raise InrInputError(
            f"unsupported bit depth {bit_depth!r}; expected one of {', '.join(map(str, ALLOWED_BIT_DEPTHS))}"
        )
    return np.dtype(np.uint8) if bit_depth == 8 else np.dtype(np.uint16)


def _target_depth(fmt: av.VideoFormat) -> int:
    """Bit depth a converted frame keeps: the widest colour component rounded up to 8, 10 or 12 (at most 12)."""
    bits = max((c.bits for c in fmt.components if not c.is_alpha), default=8)
    if bits <= 8:
        return 8
    return 10 if bits <= 10 else 12


def chroma_shape(width: int, height: int, chroma: str) -> tuple[int, int]:
    """(height, width) of each chroma plane: rounded up halves for '420', full size for '444'."""
    return ChromaFormat.from_label(chroma).chroma_shape(width, height)


@dataclass(frozen=True)
class VideoInfo:
    """What the encoder must know about a source before reading its first frame."""

    width: int
    height: int
    n_frames: int
    fps_num: int
    fps_den: int
    chroma: str = "420"
    bit_depth: int = 8
    color_range: str = "unknown"
    color_primaries: int = H273_UNSPECIFIED
    transfer: int = H273_UNSPECIFIED
    matrix: int = H273_UNSPECIFIED
    chroma_siting: str = "unknown"
    source_pix_fmt: str = "yuv420p"

    def __post_init__(self) -> None:
        # Fail at construction, so a bad value never reaches a header.
        ChromaFormat.from_label(self.chroma)
        sample_dtype(self.bit_depth)
        ColorRange.from_label(self.color_range)
        ChromaSiting.from_label(self.chroma_siting)

    @property
    def fps(self) -> Fraction:
        """Frame rate as an exact fraction."""
        return Fraction(self.fps_num, self.fps_den)

    @property
    def chroma_shape(self) -> tuple[int, int]:
        """(height, width) of the U and V planes."""
        return chroma_shape(self.width, self.height, self.chroma)

    def to_header_codes(self) -> dict[str, int]:
        """The small integer codes the container stores for chroma, colour range and siting."""
        return {
            "chroma": int(ChromaFormat.from_label(self.chroma)),
            "color_range": int(ColorRange.from_label(self.color_range)),
            "chroma_siting": int(ChromaSiting.from_label(self.chroma_siting)),
        }


def plane_array(plane: av.video.plane.VideoPlane, dtype: np.dtype | type = np.uint8) -> np.ndarray:
    """Copy one plane of ``dtype`` samples (uint8, '<u2' or '>u2') out of its padded buffer, native-endian.

    ``to_ndarray`` refuses odd widths, so rows are cut from the buffer by ``line_size`` (bytes per row).
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "u" or dtype.itemsize not in (1, 2):
        raise ValueError(f"plane sample type must be uint8 or 16-bit unsigned, got {dtype}")
    if plane.line_size % dtype.itemsize:
        raise ValueError(f"plane row of {plane.line_size} bytes is not a whole number of {dtype} samples")
    stride = plane.line_size // dtype.itemsize
    rows = np.frombuffer(plane, dtype=dtype, count=plane.height * stride).reshape(plane.height, stride)
    # astype copies (the buffer belongs to the frame) and swaps big-endian samples into native order.
    return rows[:, : plane.width].astype(dtype.newbyteorder("="))


def _rate_of(stream: av.video.stream.VideoStream) -> tuple[int, int]:
    """First usable rate among average, guessed and base rate, else 25/1."""
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate is not None and rate.numerator > 0 and rate.denominator > 0:
            return rate.numerator, rate.denominator
    return DEFAULT_FPS


def _y4m_siting(path: str) -> str:
    """Chroma siting declared by a YUV4MPEG2 header's ``C`` tag ('center' when it has none)."""
    with open(path, "rb") as f:
        header = f.readline(1024)
    for token in header.split():
        if token.startswith(b"C"):
            return _Y4M_SITING.get(token[1:], "unknown")
    # No C tag means 4:2:0 with JPEG (centre) siting by the YUV4MPEG2 convention.
    return "center"


def _open_container(path: str) -> av.container.InputContainer:
    """Open ``path`` with PyAV, turning every failure into a one-line InrInputError."""
    if not os.path.exists(path):
        raise InrInputError(f"input not found: {path}")
    if not os.path.isfile(path):
        raise InrInputError(f"input is not a regular file: {path}")
    try:
        return av.open(path, "r")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or (str(e).splitlines() or [type(e).__name__])[0]
        raise InrInputError(f"cannot read {path} as a media file: {reason}") from None


class VideoSource:
    """A video file opened for reading: ``.info`` plus iteration over ``(Y, U, V)`` frames.

    Planes are uint8 for 8-bit video and native-endian uint16 for 10 and 12 bits (see :func:`sample_dtype`).
    """

    def __init__(self, path: str | os.PathLike, *, max_frames: int | None = None) -> None:
        self.path = os.fspath(path)
        if max_frames is not None and max_frames < 1:
            raise InrInputError(f"max_frames must be at least 1, got {max_frames}")
        self._containers: list[av.container.InputContainer] = []
        container = self._open()
        try:
            self.info, self._conversion, self._plane_dtype = self._probe(container, max_frames)
        except BaseException:
            self.close()
            raise
        # The probe consumed the demuxer; decoding reopens, so drop this one now.
        self._release(container)
        if self._conversion is not None:
            warnings.warn(
                f"{self.path}: converting {self.info.source_pix_fmt} to {self._conversion['format']}",
                stacklevel=3,
            )

    def _open(self) -> av.container.InputContainer:
        """Open a fresh container on the source and remember it for close()."""
        container = _open_container(self.path)
        self._containers.append(container)
        return container

    def _release(self, container: av.container.InputContainer) -> None:
        """Close one container opened by _open(); a second release (close() then a late generator) is a no-op."""
        if container in self._containers:
            container.close()
            self._containers.remove(container)

    def _probe(self, container: av.container.InputContainer, max_frames: int | None):
        """Build the VideoInfo, the reformat arguments (None when frames are native) and the planes' sample type."""
        path = self.path
        if not container.streams.video:
            raise InrInputError(f"no video stream in {path}")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        width, height = ctx.width, ctx.height
        if not (0 < width <= MAX_DIMENSION and 0 < height <= MAX_DIMENSION):
            raise InrInputError(f"unsupported dimensions {width}x{height} in {path} (1..{MAX_DIMENSION})")
        pix_fmt = ctx.pix_fmt
        if pix_fmt is None:
            raise InrInputError(f"unknown pixel format in {path}")
        fmt = av.VideoFormat(pix_fmt)

        ctx_range = {1: "limited", 2: "full"}.get(int(ctx.color_range), "unknown")
        if pix_fmt.startswith("yuvj"):
            ctx_range = "full"
        matrix = int(ctx.colorspace)
        conversion = None
        if pix_fmt in _NATIVE_FORMATS:
            chroma, bit_depth = _NATIVE_FORMATS[pix_fmt]
            color_range = ctx_range
        elif fmt.is_rgb:
            chroma, bit_depth = "444", _target_depth(fmt)
            color_range = "limited"
            matrix = _RGB_MATRIX
            conversion = {
                "format": _TARGET_FORMAT[chroma, bit_depth],
                "dst_colorspace": "ITU601",
                "dst_color_range": "MPEG",
            }
        else:
            # Other YUV or gray layouts: 4:4:4 stays 4:4:4, the rest becomes 4:2:0.
            is_444 = len(fmt.components) >= 3 and fmt.chroma_width(width) == width and (
                fmt.chroma_height(height) == height
            )
            chroma = "444" if is_444 else "420"
            bit_depth = _target_depth(fmt)
            color_range = ctx_range
            # one range on both sides copies levels; gray is full range whatever it says (docs/decoder-notes.md)
            gray = sum(not c.is_alpha for c in fmt.components) == 1
            same_range = "JPEG" if color_range == "full" or gray else "MPEG"
            conversion = {
                "format": _TARGET_FORMAT[chroma, bit_depth],
                "src_color_range": same_range,
                "dst_color_range": same_range,
            }

        n_frames = self._count_frames(container, stream, max_frames)
        if n_frames == 0:
            raise InrInputError(f"no frames in the video stream of {path}")
        fps_num, fps_den = _rate_of(stream)
        siting = "unknown"
        if chroma == "420" and bit_depth == 8 and conversion is None and container.format.name == "yuv4mpegpipe":
            siting = _y4m_siting(path)
        info = VideoInfo(
            width=width,
            height=height,
            n_frames=n_frames,
            fps_num=fps_num,
            fps_den=fps_den,
            chroma=chroma,
            bit_depth=bit_depth,
            color_range=color_range,
            color_primaries=int(ctx.color_primaries),
            transfer=int(ctx.color_trc),
            matrix=matrix,
            chroma_siting=siting,
            source_pix_fmt=pix_fmt,
        )
        # Converted frames are little-endian by construction (_TARGET_FORMAT); native ones say their order.
        plane_dtype = sample_dtype(bit_depth)
        if bit_depth > 8:
            is_big = conversion is None and fmt.is_big_endian
            plane_dtype = np.dtype(">u2" if is_big else "<u2")
        return info, conversion, plane_dtype

    def _count_frames(self, container, stream, max_frames: int | None) -> int:
        """Frames in the stream: the container's count for MP4/MOV, else demuxed packets (no decoding)."""
        # MOV/MP4 sample tables give an exact count; other containers' counts are estimates or absent.
        if stream.frames > 0 and "mp4" in container.format.name.split(","):
            n = stream.frames
        else:
            n = 0
            try:
                for packet in container.demux(stream):
                    # The demuxer ends with an empty flush packet that holds no frame.
                    if packet.size > 0:
                        n += 1
                        if max_frames is not None and n >= max_frames:
                            break
            except av.FFmpegError as e:
                raise InrInputError(f"cannot demux {self.path}: {e}") from None
        return n if max_frames is None else min(n, max_frames)

    def __iter__(self) -> Iterator[Frame]:
        """Decode the first ``info.n_frames`` frames from the start."""
        return self._frames()

    def _frames(self) -> Iterator[Frame]:
        """Generator behind __iter__: its own container, closed when done or abandoned."""
        info = self.info
        container = self._open()
        try:
            stream = container.streams.video[0]
            n = 0
            try:
                for frame in container.decode(stream):
                    if frame.width != info.width or frame.height != info.height:
                        raise InrInputError(
                            f"frame {n} of {self.path} is {frame.width}x{frame.height}, "
                            f"stream is {info.width}x{info.height} (size changes are unsupported)"
                        )
                    if self._conversion is not None:
                        # one swscale thread: threaded 10-bit conversions were wrong (docs/decoder-notes.md)
                        frame = frame.reformat(threads=1, **self._conversion)
                    planes = tuple(plane_array(p, self._plane_dtype) for p in frame.planes[:3])
                    if info.bit_depth > 8:
                        self._check_range(planes, n)
                    yield planes
                    n += 1
                    if n == info.n_frames:
                        return
            except av.FFmpegError as e:
                raise InrInputError(f"cannot decode frame {n} of {self.path}: {e}") from None
            raise InrInputError(f"{self.path} decoded to {n} frames, expected {info.n_frames}")
        finally:
            self._release(container)

    def _check_range(self, planes: Frame, n: int) -> None:
        """Refuse samples above 2**bit_depth - 1: 16-bit words of a 10- or 12-bit file may hold anything."""
        top = (1 << self.info.bit_depth) - 1
        for name, plane in zip("YUV", planes):
            peak = int(plane.max())
            if peak > top:
                raise InrInputError(
                    f"frame {n} of {self.path}: plane {name} has sample {peak}, above {top}, "
                    f"the largest {self.info.bit_depth}-bit value"
                )

    def read(self, start: int, count: int) -> list[Frame]:
        """Frames ``[start, start + count)``, decoding from the first frame."""
        if start < 0 or count < 0 or start + count > self.info.n_frames:
            raise InrInputError(
                f"frames [{start}, {start + count}) outside 0..{self.info.n_frames} of {self.path}"
            )
        out: list[Frame] = []
        if count == 0:
            return out
        frames = self._frames()
        try:
            for i, frame in enumerate(frames):
                if i >= start:
                    out.append(frame)
                    if len(out) == count:
                        break
        finally:
            frames.close()
        return out

    def close(self) -> None:
        """Close every container this source still holds."""
        for container in list(self._containers):
            self._release(container)

    def __enter__(self) -> "VideoSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_video(path: str | os.PathLike, *, max_frames: int | None = None) -> VideoSource:
    """Open a video for reading; frames are ``(Y, U, V)`` planes of ``sample_dtype(info.bit_depth)``.

    >>> with open_video("samples/carphone_48x32_8f.y4m") as src:
    ...     (src.info.width, src.info.height, src.info.n_frames, src.info.chroma_shape)
    (48, 32, 8, (16, 24))
    """
    return VideoSource(path, max_frames=max_frames)
