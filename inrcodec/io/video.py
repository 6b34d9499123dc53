"""Read any video PyAV opens as 8-bit planar YUV numpy frames, with everything the encoder must know first.

The encoder needs the frame count, size, rate and colour description before it fits a single model,
and it works on 8-bit YUV 4:2:0 or 4:4:4 planes only. This module is the one place that turns a
container on disk into that: a :class:`VideoInfo` and an iterator of ``(Y, U, V)`` uint8 planes.

Pixel format policy:

* ``yuv420p`` and ``yuvj420p`` are read as ``'420'``; ``yuv444p`` and ``yuvj444p`` as ``'444'``
  (the ``j`` variants are full range); their samples reach the encoder untouched.
* Everything else is converted by PyAV's ``reformat`` (swscale) with one ``warnings.warn`` line
  naming the source and target format: RGB sources and other 4:4:4 sources to ``yuv444p``
  (RGB through the BT.601 limited-range matrix, reported as matrix 6), all others (``yuv422p``,
  ``nv12``, ``gray`` ...) to ``yuv420p``. The colour range is kept across the conversion.
* 10-bit and other high-bit-depth sources are converted to 8 bits the same way until
  high-bit-depth support lands; ``VideoInfo.bit_depth`` is therefore always 8.

Chroma siting is only reported for YUV4MPEG2 input (its ``C`` tag); PyAV does not expose the
siting of other containers, which read as ``'unknown'``.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator

import av
import numpy as np

from inrcodec.errors import InrFormatError, InrInputError

Frame = tuple[np.ndarray, np.ndarray, np.ndarray]

# Largest accepted width or height in pixels; larger values are corrupt headers, not videos.
MAX_DIMENSION = 16384
# Frame rate assumed when the container states none (frames per second).
DEFAULT_FPS = (25, 1)
# H.273 code point for "unspecified" (matrix, primaries, transfer).
UNSPECIFIED_CODE = 2

ALLOWED_CHROMA = ("420", "444")
ALLOWED_COLOR_RANGES = ("unknown", "limited", "full")
ALLOWED_CHROMA_SITINGS = ("unknown", "left", "center", "topleft")

_NATIVE_FORMATS = {"yuv420p": "420", "yuvj420p": "420", "yuv444p": "444", "yuvj444p": "444"}
_TARGET_FORMAT = {"420": "yuv420p", "444": "yuv444p"}
# YUV4MPEG2 colour-space tags and the chroma siting each one declares.
_Y4M_SITING = {b"420jpeg": "center", b"420": "center", b"420mpeg2": "left", b"420paldv": "topleft"}
# H.273 MatrixCoefficients 6 (BT.601 525) is what swscale uses for RGB -> YUV by default.
_RGB_MATRIX = 6


def _code_of(value: str, allowed: tuple[str, ...], what: str) -> int:
    """Return the position of ``value`` in ``allowed`` or raise naming the allowed values."""
    if value not in allowed:
        raise InrInputError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")
    return allowed.index(value)


def _from_code(code: int, allowed: tuple[str, ...], what: str) -> str:
    """Return ``allowed[code]`` or raise: a code read from a file outside the table is a format error."""
    if not isinstance(code, int) or not 0 <= code < len(allowed):
        raise InrFormatError(f"unknown {what} code {code!r}; expected 0..{len(allowed) - 1}")
    return allowed[code]


def chroma_code(chroma: str) -> int:
    """Header code of a chroma format: 0 = '420', 1 = '444'."""
    return _code_of(chroma, ALLOWED_CHROMA, "chroma format")


def chroma_from_code(code: int) -> str:
    """Chroma format of a header code (inverse of :func:`chroma_code`)."""
    return _from_code(code, ALLOWED_CHROMA, "chroma format")


def color_range_code(color_range: str) -> int:
    """Header code of a colour range: 0 unknown, 1 limited, 2 full."""
    return _code_of(color_range, ALLOWED_COLOR_RANGES, "colour range")


def color_range_from_code(code: int) -> str:
    """Colour range of a header code (inverse of :func:`color_range_code`)."""
    return _from_code(code, ALLOWED_COLOR_RANGES, "colour range")


def chroma_siting_code(siting: str) -> int:
    """Header code of a chroma siting: 0 unknown, 1 left, 2 center, 3 topleft."""
    return _code_of(siting, ALLOWED_CHROMA_SITINGS, "chroma siting")


def chroma_siting_from_code(code: int) -> str:
    """Chroma siting of a header code (inverse of :func:`chroma_siting_code`)."""
    return _from_code(code, ALLOWED_CHROMA_SITINGS, "chroma siting")


def chroma_shape(width: int, height: int, chroma: str) -> tuple[int, int]:
    """(height, width) of each chroma plane: rounded up halves for '420', full size for '444'."""
    if chroma == "420":
        return (height + 1) // 2, (width + 1) // 2
    if chroma == "444":
        return height, width
    raise InrInputError(f"unknown chroma format {chroma!r}; expected one of {', '.join(ALLOWED_CHROMA)}")


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
    color_primaries: int = UNSPECIFIED_CODE
    transfer: int = UNSPECIFIED_CODE
    matrix: int = UNSPECIFIED_CODE
    chroma_siting: str = "unknown"
    source_pix_fmt: str = "yuv420p"

    def __post_init__(self) -> None:
        # Fail at construction, so a bad value never reaches a header.
        chroma_code(self.chroma)
        color_range_code(self.color_range)
        chroma_siting_code(self.chroma_siting)

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
            "chroma": chroma_code(self.chroma),
            "color_range": color_range_code(self.color_range),
            "chroma_siting": chroma_siting_code(self.chroma_siting),
        }


def _plane_array(plane: av.video.plane.VideoPlane) -> np.ndarray:
    """Copy one 8-bit plane out of its padded buffer (``to_ndarray`` refuses odd widths)."""
    rows = np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)
    return rows[: plane.height, : plane.width].copy()


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
    """A video file opened for reading: ``.info`` plus iteration over ``(Y, U, V)`` uint8 frames."""

    def __init__(self, path: str | os.PathLike, *, max_frames: int | None = None) -> None:
        self.path = os.fspath(path)
        if max_frames is not None and max_frames < 1:
            raise InrInputError(f"max_frames must be at least 1, got {max_frames}")
        self._containers: list[av.container.InputContainer] = []
        container = self._open()
        try:
            self.info, self._conversion = self._probe(container, max_frames)
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
        """Build the VideoInfo and the reformat arguments (None when frames are native)."""
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
            chroma = _NATIVE_FORMATS[pix_fmt]
            color_range = ctx_range
        elif fmt.is_rgb:
            chroma = "444"
            color_range = "limited"
            matrix = _RGB_MATRIX
            conversion = {"format": "yuv444p", "dst_colorspace": "ITU601", "dst_color_range": "MPEG"}
        else:
            # Other YUV or gray layouts: 4:4:4 stays 4:4:4, the rest becomes 4:2:0.
            is_444 = len(fmt.components) >= 3 and fmt.chroma_width(width) == width and (
                fmt.chroma_height(height) == height
            )
            chroma = "444" if is_444 else "420"
            color_range = ctx_range
            # Tell swscale source and destination share a range, so it copies levels instead of rescaling.
            same_range = "JPEG" if color_range == "full" else "MPEG"
            conversion = {
                "format": _TARGET_FORMAT[chroma],
                "src_color_range": same_range,
                "dst_color_range": same_range,
            }

        n_frames = self._count_frames(container, stream, max_frames)
        if n_frames == 0:
            raise InrInputError(f"no frames in the video stream of {path}")
        fps_num, fps_den = _rate_of(stream)
        siting = "unknown"
        if chroma == "420" and conversion is None and container.format.name == "yuv4mpegpipe":
            siting = _y4m_siting(path)
        info = VideoInfo(
            width=width,
            height=height,
            n_frames=n_frames,
            fps_num=fps_num,
            fps_den=fps_den,
            chroma=chroma,
            bit_depth=8,
            color_range=color_range,
            color_primaries=int(ctx.color_primaries),
            transfer=int(ctx.color_trc),
            matrix=matrix,
            chroma_siting=siting,
            source_pix_fmt=pix_fmt,
        )
        return info, conversion

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
                        frame = frame.reformat(**self._conversion)
                    yield tuple(_plane_array(p) for p in frame.planes[:3])
                    n += 1
                    if n == info.n_frames:
                        return
            except av.FFmpegError as e:
                raise InrInputError(f"cannot decode frame {n} of {self.path}: {e}") from None
            raise InrInputError(f"{self.path} decoded to {n} frames, expected {info.n_frames}")
        finally:
            self._release(container)

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
    """Open a video for reading; frames are ``(Y, U, V)`` uint8 planes.

    >>> with open_video("samples/carphone_48x32_8f.y4m") as src:
    ...     (src.info.width, src.info.height, src.info.n_frames, src.info.chroma_shape)
    (48, 32, 8, (16, 24))
    """
    return VideoSource(path, max_frames=max_frames)
