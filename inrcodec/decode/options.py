"""How a file is decoded: one frozen object, built where the user speaks (``dec``, ``inrcodec.open``)
and handed whole to the decoder, so that no layer re-forwards the settings one by one.

Standard library and ``inrcodec.errors`` only: the command line imports it before knowing whether torch
is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import InrInputError

if TYPE_CHECKING:
    from ..levels import Limits

# 1..256: the most CPU threads any command (dec, enc, bench) takes. Fixed rather than taken from this
# machine's cores, so that a command (enc's --threads is part of its bytes and of --resume's check)
# accepted on one machine is accepted on every other; above the cores, threads only oversubscribe
# (64 ort threads on 2 cores: 0.6 -> 2.9 s) and thousands hang or crash onnxruntime (issue 32).
MAX_THREADS = 256


def check_threads(threads: int | None) -> None:
    """InrInputError (exit 7) for a --threads outside 1..MAX_THREADS; None means the default."""
    if threads is not None and not 1 <= threads <= MAX_THREADS:
        raise InrInputError(f"--threads must be 1..{MAX_THREADS} (got {threads})")


@dataclass(frozen=True)
class DecodeOptions:
    """Every decoder setting; the defaults decode every layer of an intact file on the CPU.

    >>> DecodeOptions(backend="numpy", layers=1)
    DecodeOptions(backend='numpy', device='cpu', threads=None, layers=1, limits=None, salvage=False)
    """

    backend: str = "auto"  # what runs the networks: auto, ort, numpy, torch (inrcodec.decode.synthesis)
    device: str = "cpu"  # auto, cpu, cuda; cuda runs the torch backend
    threads: int | None = None  # CPU threads of the ort backend; None: the cores this process may use
    layers: int | None = None  # decode the first k progressive layers; None: all the file has
    limits: Limits | None = None  # the decoder limits (spec/levels.md); None: the level
    salvage: bool = False  # decode the complete GOMs of a damaged or cut file instead of refusing it
