"""Read any video PyAV opens as 8-, 10- or 12-bit planar YUV numpy frames, with what the encoder must know first.

The encoder needs the frame count, size, rate, bit depth and colour description before it fits a
single model, and it works on YUV 4:2:0 or 4:4:4 planes of 8, 10 or 12 bits only. This module is the
one place that turns a container on disk into that: a :class:`VideoInfo` and an iterator of
``(Y, U, V)`` planes, ``uint8`` for 8-bit video and native-endian ``uint16`` holding
``0 .. 2**bit_depth - 1`` (not shifted to the high bits) for 10 and 12 bits.

Pixel format policy:

* Native, samples untouched: ``yuv420p`` and ``yuvj420p`` (4:2:0), ``yuv444p`` and
  ``yuvj444p`` (4:4:4) at 8 bits (the ``j`` variants are full range); ``yuv420p10le``,
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

What the container carries beside the samples is read once, when the source is opened: the
stream is decoded through to count the frames that really decode (a container's frame count is a
hint: a cut MP4 with an edit list decodes fewer), its frames' timestamps show a variable rate, and
the first frame gives the chroma siting, sample aspect ratio, field order and rotation. PyAV 18.1
exposes neither a frame's chroma location nor its field order, so they are read from FFmpeg's
``showinfo`` filter (``cl:left``, ``i:T``); a YUV4MPEG2 file's own ``C`` tag decides its siting.
Where a stream says nothing about siting, FFmpeg's decoders of H.264, HEVC and MPEG-2 report
*left* for 4:2:0 and that is kept; other unspecified sitings stay ``'unknown'`` (written back as
y4m ``C420jpeg``, as FFmpeg does). A source that is resampled to 4:2:0 (4:2:2, 4:1:1 ...) gets
``'unknown'``.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator

import av
import numpy as np

from inrcodec.container.spec import (ALLOWED_BIT_DEPTHS, H273_UNSPECIFIED, MAX_DIMENSION, ChromaFormat, ChromaSiting,
                                     ColorRange, FieldOrder, Timing)
from inrcodec.errors import InrDetail, InrInputError, InrNotice

Frame = tuple[np.ndarray, np.ndarray, np.ndarray]

# Frame rate assumed when the container states none (frames per second).
DEFAULT_FPS = (25, 1)

_420, _444 = ChromaFormat.YUV420, ChromaFormat.YUV444
# Formats read as they are: pix_fmt -> (chroma, bit depth). Byte order comes from av.VideoFormat.
_NATIVE_FORMATS = {
    "yuv420p": (_420, 8), "yuvj420p": (_420, 8), "yuv444p": (_444, 8), "yuvj444p": (_444, 8),
    "yuv420p10le": (_420, 10), "yuv420p10be": (_420, 10), "yuv444p10le": (_444, 10), "yuv444p10be": (_444, 10),
    "yuv420p12le": (_420, 12), "yuv420p12be": (_420, 12), "yuv444p12le": (_444, 12), "yuv444p12be": (_444, 12),
}
# What other formats are converted to, by (chroma, bit depth); always little-endian.
_TARGET_FORMAT = {
    (_420, 8): "yuv420p", (_444, 8): "yuv444p",
    (_420, 10): "yuv420p10le", (_444, 10): "yuv444p10le",
    (_420, 12): "yuv420p12le", (_444, 12): "yuv444p12le",
}
# YUV4MPEG2 colour-space tags and the chroma siting each one declares.
_Y4M_SITING = {b"420jpeg": "center", b"420": "center", b"420mpeg2": "left", b"420paldv": "topleft"}
# FFmpeg's chroma location names (showinfo's cl:) that SHDR can store.
_SITING_NAMES = {"left": "left", "center": "center", "topleft": "topleft"}
# Siting of 4:2:0 when the stream leaves it unspecified and FFmpeg's decoder does too.
_CODEC_SITING = {"h264": "left", "hevc": "left", "mpeg2video": "left", "mpeg1video": "center", "mjpeg": "center"}
# Frame durations that differ by more than this fraction of the median make a rate variable.
_VFR_TOLERANCE = 0.01
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


def _chroma_of(pix_fmt: str) -> str | None:
    """The J:a:b digits of a YUV pixel format's subsampling ("422", "420", "411" ...), None for RGB or gray."""
    fmt = av.VideoFormat(pix_fmt)
    if fmt.is_rgb or sum(not c.is_alpha for c in fmt.components) < 3:
        return None
    w, h = 4, 2
    cw, ch = fmt.chroma_width(w), fmt.chroma_height(h)
    return f"4{cw}{cw if ch == h else 0}"


def _target_depth(fmt: av.VideoFormat) -> int:
    """Bit depth a converted frame keeps: the widest colour component rounded up to 8, 10 or 12 (at most 12)."""
    bits = max((c.bits for c in fmt.components if not c.is_alpha), default=8)
    if bits <= 8:
        return 8
    return 10 if bits <= 10 else 12


def chroma_shape(width: int, height: int, chroma: str) -> tuple[int, int]:
    """(height, width) of each chroma plane of a ``chroma`` label: rounded up halves for 4:2:0, full size for 4:4:4."""
    return ChromaFormat.from_label(chroma).chroma_shape(width, height)


@dataclass(frozen=True)
class VideoInfo:
    """What the encoder must know about a source before reading its first frame."""

    width: int
    height: int
    n_frames: int
    fps_num: int
    fps_den: int
    chroma: str = ChromaFormat.YUV420.label  # a ChromaFormat label; chroma_format is the member
    bit_depth: int = 8
    color_range: str = "unknown"
    color_primaries: int = H273_UNSPECIFIED
    transfer: int = H273_UNSPECIFIED
    matrix: int = H273_UNSPECIFIED
    chroma_siting: str = "unknown"
    source_pix_fmt: str = "yuv420p"
    sample_aspect: tuple[int, int] = (0, 0)  # (0, 0): unknown
    field_order: str = FieldOrder.PROGRESSIVE.label  # a FieldOrder label: "progressive", "tff" or "bff"
    rotation: int = 0  # degrees counterclockwise a player turns the picture by, 0..359
    is_retimed: bool = False  # the source's frame durations varied; frames are stored at fps
    dropped_streams: tuple[str, ...] = ()  # other streams of the source ("audio", "subtitle" ...)

    def __post_init__(self) -> None:
        # Fail at construction, so a bad value never reaches a header.
        ChromaFormat.from_label(self.chroma)
        sample_dtype(self.bit_depth)
        ColorRange.from_label(self.color_range)
        ChromaSiting.from_label(self.chroma_siting)
        FieldOrder.from_label(self.field_order)

    @property
    def fps(self) -> Fraction:
        """Frame rate as an exact fraction."""
        return Fraction(self.fps_num, self.fps_den)

    @property
    def chroma_format(self) -> ChromaFormat:
        """The chroma format as the container's enumeration."""
        return ChromaFormat.from_label(self.chroma)

    @property
    def chroma_shape(self) -> tuple[int, int]:
        """(height, width) of the U and V planes."""
        return self.chroma_format.chroma_shape(self.width, self.height)

    def to_header_codes(self) -> dict[str, int]:
        """The small integer codes the container stores for chroma, colour range and siting."""
        return {
            "chroma": int(self.chroma_format),
            "color_range": int(ColorRange.from_label(self.color_range)),
            "chroma_siting": int(ChromaSiting.from_label(self.chroma_siting)),
        }

    def display_info(self):
        """The container's disp chunk (spec/bitstream.md §5.7) for this source."""
        from inrcodec.container.chunks import DisplayInfo

        return DisplayInfo(sar_num=self.sample_aspect[0], sar_den=self.sample_aspect[1], rotation=self.rotation,
                           field_order=int(FieldOrder.from_label(self.field_order)),
                           timing=int(Timing.RETIMED if self.is_retimed else Timing.CONSTANT))


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


def check_dimensions(width: int, height: int, source: str) -> None:
    """Refuse a frame size the container cannot hold (an empty one included); ``source`` says whose."""
    if not (0 < width <= MAX_DIMENSION and 0 < height <= MAX_DIMENSION):
        raise InrInputError(f"unsupported dimensions {width}x{height} {source} (1..{MAX_DIMENSION})")


def _y4m_header(path: str) -> bytes:
    """The first line of a (YUV4MPEG2) file, its newline included, at most 4 KiB; OSError if unreadable."""
    with open(path, "rb") as f:
        return f.readline(4096)


def _y4m_siting(path: str) -> str:
    """Chroma siting declared by a YUV4MPEG2 header's ``C`` tag ('center' when it has none)."""
    for token in _y4m_header(path).split():
        if token.startswith(b"C"):
            return _Y4M_SITING.get(token[1:], "unknown")
    # No C tag means 4:2:0 with JPEG (centre) siting by the YUV4MPEG2 convention.
    return "center"


_DESCRIBE_SOURCES: contextvars.ContextVar[bool] = contextvars.ContextVar("describe_sources", default=False)


@contextlib.contextmanager
def describing_sources():
    """Within it, opening a source also warns an InrDetail describing what was read (``enc -v``)."""
    token = _DESCRIBE_SOURCES.set(True)
    try:
        yield
    finally:
        _DESCRIBE_SOURCES.reset(token)


def is_pattern(path: str) -> bool:
    """True for an image-sequence pattern FFmpeg's image2 demuxer expands (``frame_%03d.png``)."""
    return re.search(r"%0?\d*d", os.path.basename(path)) is not None


def _pattern_regex(pattern: str) -> re.Pattern:
    """The file names an image-sequence pattern's basename matches; group 1 of each is the number
    (``%d``, ``%0Nd`` at least N digits, ``%Nd`` space-padded, ``%%`` a percent sign)."""
    parts, number = [], False
    for token in re.split(r"(%%|%0?\d*d)", pattern):
        if token == "%%":
            parts.append("%")
        elif re.fullmatch(r"%0?\d*d", token):
            digits = re.fullmatch(r"%0(\d+)d", token)
            body = rf"\d{{{int(digits.group(1))},}}" if digits else r" *\d+"
            parts.append(body if number else f"({body})")
            number = True
        else:
            parts.append(re.escape(token))
    return re.compile("".join(parts))


def pattern_files(path: str | os.PathLike) -> list[tuple[int, str]]:
    """The files an image-sequence pattern can read, as (number, path) sorted by number: every file
    beside it whose name the pattern matches ([] for a path that is not a pattern)."""
    path = os.fspath(path)
    if not is_pattern(path):
        return []
    folder, base = os.path.split(path)
    regex = _pattern_regex(base)
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return []
    found = [(int(m.group(1)), os.path.join(folder, n)) for n in names if (m := regex.fullmatch(n))]
    return sorted(found)


def _open_container(path: str, name: str | None = None) -> av.container.InputContainer:
    """Open ``path`` with PyAV, turning every failure into a one-line InrInputError (``name``: how to call it)."""
    name = name or path
    if not is_pattern(path):
        if not os.path.exists(path):
            raise InrInputError(f"input not found: {name}")
        if not os.path.isfile(path):
            raise InrInputError(f"input is not a regular file: {name}")
    try:
        return av.open(path, "r")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or (str(e).splitlines() or [type(e).__name__])[0]
        # FFmpeg names a bad y4m header by an errno ("Device or resource busy" for W0): say what is wrong
        reason = _y4m_header_problem(path) or reason
        if is_pattern(path):
            reason += " (an image sequence: does its first file exist?)"
        raise InrInputError(f"cannot read {name} as a media file: {reason}") from None


def _y4m_header_problem(path: str) -> str | None:
    """What is wrong with the size in a YUV4MPEG2 file's header (None: not y4m, or the size is fine)."""
    try:
        line = _y4m_header(path).split(b"\n", 1)[0]
    except OSError:
        return None
    tokens = line.split(b" ")
    if tokens[0] != b"YUV4MPEG2":
        return None
    for key, what in ((b"W", "width"), (b"H", "height")):
        values = [t[1:] for t in tokens[1:] if t[:1] == key]
        if not values:
            return f"its YUV4MPEG2 header has no {key.decode()} ({what})"
        text = values[0].decode("ascii", "replace")
        if not (text.isdigit() and 0 < int(text) <= MAX_DIMENSION):
            return f"its YUV4MPEG2 header has {key.decode()}{text}: the {what} must be 1..{MAX_DIMENSION}"
    return None


def _sequence_gap(pattern: str, n_frames: int) -> str | None:
    """A note when files matching an image-sequence pattern lie past the first gap, where FFmpeg's
    image2 demuxer stops (it starts at the first of numbers 0..4 that exists); None otherwise."""
    numbers = [number for number, _ in pattern_files(pattern)]
    starts = [number for number in numbers if number <= 4]
    if not starts:
        return None
    stop = starts[0] + n_frames  # the first number not read
    later = [number for number in numbers if number > stop]
    if not later:
        return None
    gap = pattern % stop
    why = "is missing" if not os.path.exists(gap) else "cannot be read"
    return (f"the image sequence {pattern} stops after {n_frames} frames: {os.path.basename(gap)} {why}; "
            f"{len(later)} later file{'s' if len(later) > 1 else ''} from {os.path.basename(pattern % later[0])} "
            f"on {'are' if len(later) > 1 else 'is'} not encoded")


def _y4m_partial_frame(path: str, name: str, pix_fmt: str, width: int, height: int, n_frames: int) -> str | None:
    """A note when a y4m file ends inside the frame after its ``n_frames`` complete ones; None when
    it does not (or when its frame headers carry parameters, so that their length is not known)."""
    try:
        fmt = av.VideoFormat(pix_fmt, width, height)
        planes = {c.plane: c.width * c.height * ((c.bits + 7) // 8) for c in fmt.components}
        header = len(_y4m_header(path))
        size = os.path.getsize(path)
    except (OSError, ValueError):
        return None
    frame_bytes = sum(planes.values())
    per_frame = len(b"FRAME\n") + frame_bytes
    whole, rest = divmod(size - header, per_frame)
    if whole != n_frames or rest == 0:
        return None
    got = max(rest - len(b"FRAME\n"), 0)
    return (f"{name} ends inside frame {n_frames} ({got} of its {frame_bytes} bytes): "
            f"that partial frame is not encoded, the {n_frames} complete ones are")


# the most bytes of standard input spooled (sources are read twice: probed, then decoded, and a
# pipe cannot be rewound); more is refused in one line, so an endless stream cannot fill the disk
MAX_STDIN_BYTES = 8 << 30
STDIN_LIMIT_ENV = "INRCODEC_STDIN_LIMIT"  # overrides MAX_STDIN_BYTES (bytes)
_Y4M_BYTES_PER_PIXEL = {"mono": 1.0, "420": 1.5, "422": 2.0, "444": 3.0}


def _y4m_frame_bytes(header: bytes) -> int | None:
    """Bytes of one frame's samples for a YUV4MPEG2 stream header line; None if it cannot tell."""
    tags = {t[:1]: t[1:] for t in header.split()[1:] if t}
    try:
        w, h = int(tags[b"W"]), int(tags[b"H"])
    except (KeyError, ValueError):
        return None
    c = tags.get(b"C", b"420jpeg").decode(errors="replace")
    depth = 2 if re.search(r"p(9|1[0-6])$", c) else 1
    kind = next((k for k in ("mono", "420", "422", "444") if c.startswith(k)), None)
    if kind is None or w < 1 or h < 1:
        return None
    if kind == "420":
        return depth * (w * h + 2 * ((w + 1) // 2) * ((h + 1) // 2))
    if kind == "422":
        return depth * (w * h + 2 * ((w + 1) // 2) * h)
    return depth * int(w * h * _Y4M_BYTES_PER_PIXEL[kind])


def _copy_y4m_frames(src, dst, max_frames: int, limit: int) -> bool:
    """Copy a YUV4MPEG2 stream's header and its first ``max_frames`` frames; False (nothing
    consumed beyond the first line) when it is not one whose frame size is known."""
    first = src.readline(1 << 16)
    dst.write(first)
    size = _y4m_frame_bytes(first) if first.startswith(b"YUV4MPEG2 ") and first.endswith(b"\n") else None
    if size is None:
        return False
    for _ in range(max_frames):
        line = src.readline(1 << 16)  # FRAME, perhaps with parameters
        if not line:
            break
        dst.write(line)
        left = size
        while left:
            block = src.read(min(left, 1 << 20))
            if not block:
                return True
            dst.write(block)
            left -= len(block)
        if dst.tell() > limit:
            raise _TooLong()
    return True


class _TooLong(Exception):
    pass


def _spool_stdin(max_frames: int | None = None) -> str:
    """Copy standard input to a temporary file (sources are read twice: probe, then frames); its
    path. A y4m stream is read only up to ``max_frames`` frames (enc --frames: an endless pipe is
    not drained); any stream beyond MAX_STDIN_BYTES is refused."""
    stdin = getattr(sys.stdin, "buffer", None)
    if stdin is None:
        raise InrInputError("cannot read the input from standard input: it is closed")
    limit = int(os.environ.get(STDIN_LIMIT_ENV) or MAX_STDIN_BYTES)
    fd, path = tempfile.mkstemp(prefix="inrcodec-stdin-")
    try:
        with os.fdopen(fd, "wb") as f:
            if max_frames is None or not _copy_y4m_frames(stdin, f, max_frames, limit):
                while block := stdin.read(1 << 20):
                    f.write(block)
                    if f.tell() > limit:
                        raise _TooLong()
    except _TooLong:
        os.unlink(path)
        raise InrInputError(f"standard input holds more than {limit} bytes, the most read from a pipe "
                            f"(a y4m stream with --frames is read only that far; else give a file, "
                            f"or raise {STDIN_LIMIT_ENV})") from None
    except OSError as err:
        os.unlink(path)
        raise InrInputError(f"cannot read the input from standard input: {err.strerror or err}") from None
    except BaseException:
        os.unlink(path)
        raise
    if os.path.getsize(path) == 0:
        os.unlink(path)
        raise InrInputError("standard input is empty: nothing to encode")
    return path


def _frame_properties(stream, frame) -> dict[str, str]:
    """What FFmpeg's showinfo filter says of ``frame`` that PyAV does not expose: ``cl`` (chroma
    location), ``i`` (P, T or B: progressive, top or bottom field first); {} if it cannot tell."""
    import av.logging

    previous = av.logging.get_level()
    try:
        graph = av.filter.Graph()
        src = graph.add_buffer(template=stream)
        show, sink = graph.add("showinfo"), graph.add("buffersink")
        src.link_to(show)
        show.link_to(sink)
        graph.configure()
        av.logging.set_level(av.logging.VERBOSE)
        with av.logging.Capture() as logs:
            graph.push(frame)
            graph.pull()
    except (av.FFmpegError, ValueError, TypeError):
        return {}
    finally:
        av.logging.set_level(previous)
    text = " ".join(line for level, name, line in logs if name == "showinfo")
    return dict(re.findall(r"\b(cl|i):(\w+)", text))


def _is_variable_rate(stamps: list[int]) -> bool:
    """True when the durations between sorted presentation timestamps differ (beyond rounding)."""
    stamps = sorted(set(stamps))
    steps = [b - a for a, b in zip(stamps, stamps[1:])]
    if len(steps) < 2:
        return False
    mid = sorted(steps)[len(steps) // 2]
    return max(steps) - min(steps) > max(1, _VFR_TOLERANCE * mid)


class VideoSource:
    """A video file opened for reading: ``.info`` plus iteration over ``(Y, U, V)`` frames.

    Planes are uint8 for 8-bit video and native-endian uint16 for 10 and 12 bits (see :func:`sample_dtype`).
    """

    def __init__(self, path: str | os.PathLike, *, max_frames: int | None = None) -> None:
        self.path = os.fspath(path)
        self.name = self.path
        self._spooled: str | None = None
        self._cut_note: str | None = None  # frames the source holds that are not read (issue 32)
        if max_frames is not None and max_frames < 1:
            raise InrInputError(f"max_frames must be at least 1, got {max_frames}")
        self._containers: list[av.container.InputContainer] = []
        if self.path == "-":
            self.name = "standard input"
            self.path = self._spooled = _spool_stdin(max_frames)
        try:
            container = self._open()
            self.info, self._conversion, self._plane_dtype = self._probe(container, max_frames)
        except BaseException:
            self.close()
            raise
        # The probe consumed the demuxer; decoding reopens, so drop this one now.
        self._release(container)
        for note in self.notes():
            warnings.warn(InrNotice(note), stacklevel=3)
        if _DESCRIBE_SOURCES.get():
            warnings.warn(InrDetail(self.description()), stacklevel=3)

    def fingerprint(self) -> str:
        """A digest of the source's bytes (for standard input, whose path says nothing of its content)."""
        import hashlib

        h = hashlib.sha256()
        with open(self.path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    def description(self) -> str:
        """One line on what was read from the source (``enc --verbose``)."""
        i = self.info
        sar = "unknown" if i.sample_aspect == (0, 0) else "{}:{}".format(*i.sample_aspect)
        return (f"{self.name}: {i.source_pix_fmt} {i.width}x{i.height}, {i.n_frames} frames at {float(i.fps):.6g} fps, "
                f"chroma siting {i.chroma_siting}, range {i.color_range}, primaries/transfer/matrix "
                f"{i.color_primaries}/{i.transfer}/{i.matrix}, sample aspect {sar}, rotation {i.rotation}, "
                f"field order {i.field_order}")

    def notes(self) -> list[str]:
        """What the encoder changes or leaves out of this source, one plain sentence each."""
        info, out = self.info, []
        if self._conversion is not None:
            source = _chroma_of(info.source_pix_fmt)
            why = ""
            if source is not None and source != info.chroma_format.label:
                why = f" ({source[0]}:{source[1]}:{source[2]} is not carried)"
            out.append(f"converting {info.source_pix_fmt} to {self._conversion['format']}{why}")
        if info.is_retimed:
            out.append(f"the source's frame durations vary; its {info.n_frames} frames are re-timed to a "
                       f"constant {float(info.fps):.6g} fps")
        if info.dropped_streams:
            out.append(f"{' and '.join(info.dropped_streams)} not carried: only the first video stream is encoded")
        if self._cut_note:
            out.append(self._cut_note)
        return out

    def _open(self) -> av.container.InputContainer:
        """Open a fresh container on the source and remember it for close()."""
        container = _open_container(self.path, self.name)
        self._containers.append(container)
        return container

    def _release(self, container: av.container.InputContainer) -> None:
        """Close one container opened by _open(); a second release (close() then a late generator) is a no-op."""
        if container in self._containers:
            container.close()
            self._containers.remove(container)

    def _probe(self, container: av.container.InputContainer, max_frames: int | None):
        """Build the VideoInfo, the reformat arguments (None when frames are native) and the planes' sample type."""
        path = self.name
        if not container.streams.video:
            raise InrInputError(f"no video stream in {path}")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        width, height = ctx.width, ctx.height
        check_dimensions(width, height, f"in {path}")
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
            chroma, bit_depth = ChromaFormat.YUV444, _target_depth(fmt)
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
            chroma = ChromaFormat.YUV444 if is_444 else ChromaFormat.YUV420
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

        n_frames, props, rotation, is_retimed = self._scan(container, stream, max_frames)
        if n_frames == 0:
            raise InrInputError(f"no frames in the video stream of {self.name}")
        if max_frames is None or n_frames < max_frames:  # with --frames, the rest is left out on purpose
            if is_pattern(self.path):
                self._cut_note = _sequence_gap(self.path, n_frames)
            elif container.format.name == "yuv4mpegpipe":
                self._cut_note = _y4m_partial_frame(self.path, self.name, pix_fmt, width, height, n_frames)
        fps_num, fps_den = _rate_of(stream)
        siting = "unknown"
        is_420_source = fmt.chroma_width(width) < width and fmt.chroma_height(height) < height and (
            2 * fmt.chroma_width(width) >= width)
        if chroma is ChromaFormat.YUV420 and is_420_source:
            if container.format.name == "yuv4mpegpipe" and bit_depth == 8 and conversion is None:
                siting = _y4m_siting(self.path)
            elif props.get("cl") in _SITING_NAMES:
                siting = _SITING_NAMES[props["cl"]]
            elif props.get("cl", "unspecified") == "unspecified":
                siting = _CODEC_SITING.get(ctx.name, "unknown")
        sar = stream.sample_aspect_ratio or ctx.sample_aspect_ratio
        sample_aspect = (sar.numerator, sar.denominator) if sar and sar.numerator > 0 else (0, 0)
        dropped = tuple(sorted({s.type for s in container.streams if s.type not in ("video", "data", "attachment")}
                               | ({"video"} if len(container.streams.video) > 1 else set())))
        info = VideoInfo(
            width=width,
            height=height,
            n_frames=n_frames,
            fps_num=fps_num,
            fps_den=fps_den,
            chroma=chroma.label,
            bit_depth=bit_depth,
            color_range=color_range,
            color_primaries=int(ctx.color_primaries),
            transfer=int(ctx.color_trc),
            matrix=matrix,
            chroma_siting=siting,
            source_pix_fmt=pix_fmt,
            sample_aspect=sample_aspect,
            field_order=FieldOrder.from_letter(props.get("i", "p")).label,
            rotation=rotation,
            is_retimed=is_retimed,
            dropped_streams=tuple(f"{kind} streams" if kind != "video" else "other video streams"
                                  for kind in dropped),
        )
        # Converted frames are little-endian by construction (_TARGET_FORMAT); native ones say their order.
        plane_dtype = sample_dtype(bit_depth)
        if bit_depth > 8:
            is_big = conversion is None and fmt.is_big_endian
            plane_dtype = np.dtype(">u2" if is_big else "<u2")
        return info, conversion, plane_dtype

    def _scan(self, container, stream, max_frames: int | None):
        """Decode the stream once: (frames that decode, up to ``max_frames``; the first frame's
        showinfo properties; its rotation; whether the frame durations vary). A container's own
        frame count is only a hint (an MP4 cut with an edit list decodes fewer frames)."""
        n, props, rotation, stamps = 0, {}, 0, []
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                if n == 0:
                    props = _frame_properties(stream, frame)
                    rotation = int(round(frame.rotation or 0)) % 360
                if frame.pts is not None:
                    stamps.append(frame.pts)
                n += 1
                if max_frames is not None and n >= max_frames:
                    break
        except av.FFmpegError as e:
            if n == 0:
                raise InrInputError(f"cannot decode {self.name}: {e}") from None
            # frames after a damaged one are not encoded: the count says what decodes
        return n, props, rotation, _is_variable_rate(stamps)

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
                            f"frame {n} of {self.name} is {frame.width}x{frame.height}, "
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
                raise InrInputError(f"cannot decode frame {n} of {self.name}: {e}") from None
            raise InrInputError(f"{self.name} decoded to {n} frames, expected {info.n_frames}")
        finally:
            self._release(container)

    def _check_range(self, planes: Frame, n: int) -> None:
        """Refuse samples above 2**bit_depth - 1: 16-bit words of a 10- or 12-bit file may hold anything."""
        top = (1 << self.info.bit_depth) - 1
        for name, plane in zip("YUV", planes):
            peak = int(plane.max())
            if peak > top:
                raise InrInputError(
                    f"frame {n} of {self.name}: plane {name} has sample {peak}, above {top}, "
                    f"the largest {self.info.bit_depth}-bit value"
                )

    def read(self, start: int, count: int) -> list[Frame]:
        """Frames ``[start, start + count)``, decoding from the first frame."""
        if start < 0 or count < 0 or start + count > self.info.n_frames:
            raise InrInputError(
                f"frames [{start}, {start + count}) outside 0..{self.info.n_frames} of {self.name}"
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
        """Close every container this source still holds (and remove the copy of standard input)."""
        for container in list(self._containers):
            self._release(container)
        if self._spooled is not None:
            try:
                os.unlink(self._spooled)
            except OSError:
                pass
            self._spooled = None

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
