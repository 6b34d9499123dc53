"""Write decoded frames as YUV4MPEG2, byte for byte as FFmpeg's ``yuv4mpegpipe`` muxer writes them.

The decoder's output must be comparable with ``cmp`` against ``ffmpeg -i x -f yuv4mpegpipe``, so the
stream header repeats FFmpeg's field order (libavformat/yuv4mpegenc.c, checked against the muxer in
PyAV 18.1): ``YUV4MPEG2 W.. H.. F..:.. Ip A..:.. C<tag> XYSCSS=<TAG>[ XCOLORRANGE=FULL|LIMITED]``.
10- and 12-bit video uses FFmpeg's tags (``C420p10 XYSCSS=420P10``, ``C444p12 XYSCSS=444P12`` ...),
which have no chroma-siting variants, and little-endian 16-bit samples, as FFmpeg writes its
``yuv420p10le`` ... ``yuv444p12le`` (its muxer refuses those unless ``strict`` is -1 or lower;
its demuxer reads them without it).
A path output is opened by ``inrcodec.outfile``: a file is written to a temporary file beside it
and renamed onto it only by ``close()``, so a failed decode never leaves a partial file under the
output name; devices, pipes and ``-`` (stdout) are written straight through.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import BinaryIO, Sequence

import numpy as np

from inrcodec.container.spec import (ALLOWED_BIT_DEPTHS, MAX_DIMENSION, ChromaFormat, ChromaSiting, ColorRange,
                                     FieldOrder)
from inrcodec.outfile import OutputFile, open_output, wrap_stream

FRAME_MAGIC = b"FRAME\n"
# The C tag and XYSCSS value FFmpeg writes for each 4:2:0 chroma siting; unknown and centre share 420jpeg.
_TAG_420 = {
    "unknown": "C420jpeg XYSCSS=420JPEG",
    "center": "C420jpeg XYSCSS=420JPEG",
    "left": "C420mpeg2 XYSCSS=420MPEG2",
    "topleft": "C420paldv XYSCSS=420PALDV",
}
_RANGE_FIELD = {"unknown": "", "limited": " XCOLORRANGE=LIMITED", "full": " XCOLORRANGE=FULL"}


def y4m_header(
    width: int,
    height: int,
    fps_num: int,
    fps_den: int,
    chroma: str,
    color_range: str = "unknown",
    chroma_siting: str = "unknown",
    sample_aspect: tuple[int, int] | None = None,
    bit_depth: int = 8,
    field_order: str = FieldOrder.PROGRESSIVE.label,
) -> bytes:
    """The YUV4MPEG2 stream header line, newline included.

    >>> y4m_header(176, 144, 25, 1, "420")
    b'YUV4MPEG2 W176 H144 F25:1 Ip A0:0 C420jpeg XYSCSS=420JPEG\\n'
    >>> y4m_header(37, 29, 25, 1, "444", "limited", bit_depth=12)
    b'YUV4MPEG2 W37 H29 F25:1 Ip A0:0 C444p12 XYSCSS=444P12 XCOLORRANGE=LIMITED\\n'
    >>> y4m_header(720, 576, 25, 1, "420", chroma_siting="left", sample_aspect=(16, 15), field_order="tff")
    b'YUV4MPEG2 W720 H576 F25:1 It A16:15 C420mpeg2 XYSCSS=420MPEG2\\n'
    """
    if not (0 < width <= MAX_DIMENSION and 0 < height <= MAX_DIMENSION):
        raise ValueError(f"y4m size {width}x{height} outside 1..{MAX_DIMENSION}")
    if fps_num <= 0 or fps_den <= 0:
        raise ValueError(f"y4m frame rate {fps_num}:{fps_den} must be positive")
    if chroma not in ChromaFormat.labels():
        raise ValueError(f"y4m chroma {chroma!r} not one of {', '.join(ChromaFormat.labels())}")
    chroma_format = ChromaFormat.from_label(chroma)
    if color_range not in ColorRange.labels():
        raise ValueError(f"y4m colour range {color_range!r} not one of {', '.join(ColorRange.labels())}")
    if chroma_siting not in ChromaSiting.labels():
        raise ValueError(f"y4m chroma siting {chroma_siting!r} not one of {', '.join(ChromaSiting.labels())}")
    if isinstance(bit_depth, bool) or not isinstance(bit_depth, (int, np.integer)) or (
        bit_depth not in ALLOWED_BIT_DEPTHS
    ):
        raise ValueError(f"y4m bit depth {bit_depth!r} not one of {', '.join(map(str, ALLOWED_BIT_DEPTHS))}")
    if field_order not in FieldOrder.labels():
        raise ValueError(f"y4m field order {field_order!r} not one of {', '.join(FieldOrder.labels())}")
    # FFmpeg reduces the rate (av_reduce) before printing it.
    rate = Fraction(fps_num, fps_den)
    if sample_aspect is None or sample_aspect[0] <= 0 or sample_aspect[1] <= 0:
        aspect = "0:0"
    else:
        aspect = f"{sample_aspect[0]}:{sample_aspect[1]}"
    if bit_depth > 8:
        # FFmpeg writes one tag per format above 8 bits, whatever the siting.
        tag = f"C{chroma}p{bit_depth} XYSCSS={chroma}P{bit_depth}"
    elif chroma_format is ChromaFormat.YUV420:
        tag = _TAG_420[chroma_siting]
    else:
        tag = "C444 XYSCSS=444"
    interlacing = FieldOrder.from_label(field_order).letter
    line = (
        f"YUV4MPEG2 W{width} H{height} F{rate.numerator}:{rate.denominator} I{interlacing} A{aspect} "
        f"{tag}{_RANGE_FIELD[color_range]}\n"
    )
    return line.encode("ascii")


class Y4MWriter:
    """Writes frames of ``(Y, U, V)`` planes to a path, ``'-'`` (stdout) or a binary file object.

    Planes are uint8 at 8 bits and uint16 holding ``0 .. 2**bit_depth - 1`` at 10 and 12 bits.

    >>> import io, numpy as np
    >>> out = io.BytesIO()
    >>> with Y4MWriter(out, 2, 2, 25, 1, "420") as w:
    ...     w.write_frame((np.zeros((2, 2), np.uint8), np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.uint8)))
    >>> out.getvalue()[:60]
    b'YUV4MPEG2 W2 H2 F25:1 Ip A0:0 C420jpeg XYSCSS=420JPEG\\nFRAME\\n'
    >>> len(out.getvalue())  # header, FRAME line, 4 + 1 + 1 samples
    66
    """

    def __init__(
        self,
        target: str | os.PathLike | BinaryIO,
        width: int,
        height: int,
        fps_num: int,
        fps_den: int,
        chroma: str,
        color_range: str = "unknown",
        chroma_siting: str = "unknown",
        bit_depth: int = 8,
        *,
        overwrite: bool = False,
        inputs: Sequence = (),
        sample_aspect: tuple[int, int] | None = None,
        field_order: str = FieldOrder.PROGRESSIVE.label,
    ) -> None:
        """``overwrite`` replaces an existing file; ``inputs``: paths the output must not be;
        ``sample_aspect`` and ``field_order`` go to the A and I tags."""
        header = y4m_header(width, height, fps_num, fps_den, chroma, color_range, chroma_siting, sample_aspect,
                            bit_depth=bit_depth, field_order=field_order)
        self.width, self.height, self.chroma, self.bit_depth = width, height, chroma, bit_depth
        # Samples go to the file as uint8, or as little-endian 16-bit words above 8 bits.
        self._file_dtype = np.dtype(np.uint8) if bit_depth == 8 else np.dtype("<u2")
        self._max_sample = (1 << bit_depth) - 1
        self.n_frames = 0
        self._shapes = ((height, width),) + (ChromaFormat.from_label(chroma).chroma_shape(width, height),) * 2
        self._closed = False
        if isinstance(target, (str, os.PathLike)):
            self._out: OutputFile = open_output(target, overwrite=overwrite, inputs=inputs)
        else:
            self._out = wrap_stream(target, getattr(target, "name", "<stream>"))
        self._name = self._out.name
        self._write(header)

    def _write(self, data: bytes) -> None:
        """Write bytes; a failure removes the temporary file (InrIOError, or BrokenPipeError for a
        reader that went away)."""
        try:
            self._out.write(data)
        except BaseException:
            self.abort()
            raise

    def write_frame(self, planes: Sequence[np.ndarray]) -> None:
        """Append one frame: ``FRAME\\n`` then the Y, U and V planes."""
        if self._closed:
            raise ValueError(f"write to closed Y4MWriter for {self._name}")
        if len(planes) != 3:
            raise ValueError(f"a frame has 3 planes (Y, U, V), got {len(planes)}")
        parts = [FRAME_MAGIC]
        want = "uint8" if self.bit_depth == 8 else "uint16"
        for name, plane, shape in zip("YUV", planes, self._shapes):
            # Either byte order of uint16 is accepted; the file gets little-endian words.
            is_right_type = isinstance(plane, np.ndarray) and plane.dtype.kind == "u" and (
                plane.dtype.itemsize == self._file_dtype.itemsize
            )
            if not is_right_type:
                raise TypeError(
                    f"plane {name} must be a {want} numpy array at {self.bit_depth} bits, "
                    f"got {getattr(plane, 'dtype', type(plane))}"
                )
            if plane.shape != shape:
                raise ValueError(f"plane {name} has shape {plane.shape}, expected {shape} (rows, columns)")
            if self.bit_depth > 8:
                peak = int(plane.max())
                if peak > self._max_sample:
                    raise ValueError(
                        f"plane {name} has sample {peak}, above {self._max_sample}, "
                        f"the largest {self.bit_depth}-bit value"
                    )
            parts.append(np.ascontiguousarray(plane, dtype=self._file_dtype).tobytes())
        self._write(b"".join(parts))
        self.n_frames += 1

    def close(self) -> None:
        """Flush; for a file, sync the temporary file and rename it onto the output name."""
        if self._closed:
            return
        self._closed = True
        self._out.close()

    def abort(self) -> None:
        """Stop writing; for a file, remove the temporary file so nothing appears under the output name."""
        if self._closed:
            return
        self._closed = True
        self._out.abort()

    def __enter__(self) -> "Y4MWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
