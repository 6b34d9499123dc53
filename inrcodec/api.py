"""The Python API: the same powers as the command line.

>>> import inrcodec
>>> with inrcodec.open("tests/conformance/MULTIGOM_A/stream.inr") as f:
...     y, u, v = f[5]
...     len(f), y.shape, u.shape, y.dtype.name
(12, (24, 32), (12, 16), 'uint8')
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .decode.decoder import InrFile
from .decode.options import DecodeOptions
from .levels import Limits

if TYPE_CHECKING:
    from .train.encoder import EncodeSummary


def encode(src, dst: str | os.PathLike, progress=None, *, overwrite: bool = False, fps=None,
           bit_depth: int | None = None, started: float | None = None, **options: Any) -> EncodeSummary:
    """Encode ``src`` into the .inr file ``dst``; options as the CLI's (gop, gom, quality, ...); an
    existing ``dst`` is replaced only with ``overwrite``.

    ``src`` is a path (any video PyAV reads, an image-sequence pattern, ``"-"`` for standard input)
    or frames in memory: a ``[T, H, W]`` array of luma (coded with neutral chroma), a ``[T, H, W, 3]``
    uint8 RGB array (converted to YUV 4:4:4, BT.601), or an iterable of ``(Y, U, V)`` planes (4:2:0
    or 4:4:4 by the planes' shapes; uint8, or uint16 with ``bit_depth`` 10 or 12). ``fps`` (25 by
    default; a number, a Fraction or ``(num, den)``) is for frames only: a file has its own rate.
    With ``time="5m"``, the budget counts from ``started`` (``time.time()`` seconds; default: the call).

    >>> import numpy as np, tempfile, os
    >>> y = np.zeros((2, 32, 48), np.uint8); uv = np.full((2, 16, 24), 128, np.uint8)
    >>> dst = os.path.join(tempfile.mkdtemp(), "a.inr")
    >>> s = encode(zip(y, uv, uv), dst, fps=30, quality=1, channels=(8, 8, 8), iters=2, threads=1)
    >>> s.n_frames, s.width, s.height
    (2, 48, 32)
    """
    from .train.encoder import encode as _encode  # training code: never on the decode path
    from .train.options import EncodeOptions

    opts = EncodeOptions.build(**options)
    if not isinstance(src, (str, os.PathLike)):
        from .io.arrays import ArraySource

        src = ArraySource(src, fps=fps, bit_depth=bit_depth, max_frames=opts.frames)
    elif fps is not None or bit_depth is not None:
        from .errors import InrInputError

        raise InrInputError("fps and bit_depth are for frames given as arrays: a file has its own")
    return _encode(src, dst, opts, progress=progress, overwrite=overwrite, started=started)


def open(path: str | os.PathLike, *, salvage: bool = False, device: str = "cpu",  # noqa: A001
         layers: int | None = None, limits: Limits | None = None, backend: str = "auto",
         threads: int | None = None) -> InrFile:
    """Open an .inr file for reading: ``len(f)``, ``f[n]`` -> (Y, U, V), iteration, ``f.header``;
    ``layers``: decode the first k progressive layers only; ``limits``: the decoder limits (default:
    the level, spec/levels.md), e.g. ``Limits(max_pixels=1 << 28)`` raises one; ``backend``: what
    runs the networks (auto, ort, numpy, torch; ``device="cuda"`` needs torch). The keywords are
    the fields of ``DecodeOptions``, which the file keeps as ``f.options``."""
    return InrFile(path, DecodeOptions(backend=backend, device=device, threads=threads, layers=layers,
                                       limits=limits, salvage=salvage))


def extract(src: str | os.PathLike, dst: str | os.PathLike, layers: int, *,
            overwrite: bool = False) -> tuple[int, int]:
    """Write ``dst``: ``src`` cut down to its first ``layers`` layers (chunks copied byte for byte);
    returns (bytes written, bytes of ``src``); an existing ``dst`` is replaced only with ``overwrite``."""
    from .container.extract import extract_layers
    return extract_layers(src, dst, layers, overwrite=overwrite)


def decode_to_y4m(src: str | os.PathLike, dst: str | os.PathLike, options: DecodeOptions = DecodeOptions(), *,
                  start: int = 0, count: int | None = None, progress=None, overwrite: bool = False) -> str | None:
    """Decode frames start..start+count-1 of ``src`` to the y4m ``dst`` ('-': stdout) as ``options`` say;
    returns what the user should be told (the salvage note; a range that ran past the end), or None.

    An existing file ``dst`` is replaced only with ``overwrite``; devices and pipes are written through.
    """
    from .container.spec import ChromaSiting, ColorRange
    from .describe import display_labels, y4m_notes
    from .io.y4m import Y4MWriter

    with InrFile(src, options) as f:
        h = f.header
        frames = f.frames(start, count)  # validates start before the output is created
        total = (len(f) if count is None else min(len(f), start + count)) - start
        shown = display_labels(f.reader.display)
        with Y4MWriter(dst, h.width, h.height, h.fps_num, h.fps_den, f.chroma,
                       ColorRange.from_code(h.color_range).label, ChromaSiting.from_code(h.chroma_siting).label,
                       bit_depth=h.bit_depth, overwrite=overwrite, inputs=(src,),
                       sample_aspect=shown["sample_aspect"], field_order=shown["field_order"]) as out:
            for i, frame in enumerate(frames):
                out.write_frame(frame)
                if progress is not None:
                    progress("decode", i + 1, total, None)
        notes = [f.reader.salvage_note] if f.reader.salvage_note else []
        notes += y4m_notes(f.reader.display)
        if count is not None and start + count > len(f):
            notes.append(f"--frames {count} from frame {start} runs past the end of the file "
                         f"({len(f)} frames): wrote {total}")
        return "; ".join(notes) or None
