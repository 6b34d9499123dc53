"""Shared clips and encodes for the end-to-end tests.

Encoding is the slow part (seconds per file on two cores), so each file is encoded once per session
and shared; every encode uses a tiny network and a few iterations on the CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pytest

from inrcodec.api import encode, open as open_inr
from inrcodec.io.video import open_video

import make_conformance as tool  # tools/, on the path through pyproject.toml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLE_48 = os.path.join(REPO, "samples", "carphone_48x32_8f.y4m")
SAMPLE_37 = os.path.join(REPO, "samples", "carphone_37x29_6f.y4m")
# Small and fast: a 3-layer network of 8 channels, 20 I- and 10 P-iterations. One torch thread: on a
# busy two-core machine two threads spin against each other (measured: 16 s instead of 0.2-2.5 s).
FAST = {"quality": 1, "channels": (8, 8, 8), "iters": 60, "p_iters": 10, "device": "cpu", "threads": 1}




def fast_encode(src, dst, **options):
    """``inrcodec.encode`` with FAST defaults, overridable per call."""
    return encode(src, dst, **{**FAST, **options})


def read_source(path) -> list[tuple[np.ndarray, ...]]:
    """Every frame of a source video."""
    with open_video(path) as video:
        return list(video)


def decode_all(path, backend: str = "auto") -> list[tuple[np.ndarray, ...]]:
    """Every frame of an .inr file, decoded in order (by ``backend``: inrcodec.decode.synthesis)."""
    with open_inr(path, backend=backend) as f:
        return [tuple(np.array(p) for p in frame) for frame in f]


def parse_y4m(data: bytes) -> tuple[dict[str, str], list[tuple[np.ndarray, ...]]]:
    """Header fields (by their letter) and frames of a YUV4MPEG2 byte string."""
    head, _, body = data.partition(b"\n")
    tokens = head.decode("ascii").split()
    if tokens[0] != "YUV4MPEG2":
        raise ValueError(f"not a y4m stream: {head[:20]!r}")
    fields = {t[0]: t[1:] for t in tokens[1:]}
    width, height = int(fields["W"]), int(fields["H"])
    ch, cw = (height, width) if fields.get("C", "420").startswith("444") else ((height + 1) // 2, (width + 1) // 2)
    sizes = [(height, width), (ch, cw), (ch, cw)]
    frame_bytes = sum(h * w for h, w in sizes)
    frames, pos = [], 0
    while pos < len(body):
        if body[pos:pos + 6] != b"FRAME\n":
            raise ValueError(f"no FRAME marker at byte {pos} of the y4m body")
        pos += 6
        chunk = body[pos:pos + frame_bytes]
        if len(chunk) != frame_bytes:
            raise ValueError("y4m ends inside a frame")
        planes, off = [], 0
        for h, w in sizes:
            planes.append(np.frombuffer(chunk, np.uint8, h * w, off).reshape(h, w))
            off += h * w
        frames.append(tuple(planes))
        pos += frame_bytes
    return fields, frames


def assert_frames_equal(actual, expected) -> None:
    """Same number of frames, and every plane identical."""
    assert len(actual) == len(expected)
    for i, (a, e) in enumerate(zip(actual, expected)):
        for name, pa, pe in zip("YUV", a, e):
            assert pa.shape == pe.shape, f"frame {i} plane {name}"
            assert np.array_equal(pa, pe), f"frame {i} plane {name} differs"


@dataclass
class Encoded:
    """An encoded file with its source and the encoder's summary."""

    src: str
    path: str
    summary: object


@pytest.fixture(scope="session")
def e2e_dir(tmp_path_factory):
    """One folder for the session's shared sources and encodes."""
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def carphone(e2e_dir):
    """The 48x32 sample, 8 frames, GOP 4, GOM 2: one GOM of an I- and a P-model."""
    path = str(e2e_dir / "carphone.inr")
    return Encoded(SAMPLE_48, path, fast_encode(SAMPLE_48, path, gop=4, gom=2))


@pytest.fixture(scope="session")
def carphone_gop2(e2e_dir):
    """The 48x32 sample, GOP 2, GOM 2: two GOMs of an I- and a P-model."""
    path = str(e2e_dir / "carphone_gop2.inr")
    return Encoded(SAMPLE_48, path, fast_encode(SAMPLE_48, path, gop=2, gom=2))


@pytest.fixture(scope="session")
def oddsize(e2e_dir):
    """The 37x29 sample, 6 frames, GOP 2, GOM 1: three GOMs of one I-model."""
    path = str(e2e_dir / "oddsize.inr")
    return Encoded(SAMPLE_37, path, fast_encode(SAMPLE_37, path, gop=2, gom=1))


@pytest.fixture(scope="session")
def chroma444(e2e_dir):
    """A synthetic 4:4:4 clip at 30000/1001 frames per second, GOP 3, GOM 2."""
    src = tool.write_clip(str(e2e_dir / "square444.y4m"), tool.synthetic_frames(24, 16, 6, "444"),
                          fps=(30000, 1001), chroma="444")
    path = str(e2e_dir / "square444.inr")
    return Encoded(src, path, fast_encode(src, path, gop=3, gom=2))


@pytest.fixture(scope="session")
def static(e2e_dir):
    """The first frame of the 48x32 sample repeated 8 times, GOP 4, GOM 2."""
    first = read_source(SAMPLE_48)[0]
    src = tool.write_clip(str(e2e_dir / "static.y4m"), [first] * 8)
    path = str(e2e_dir / "static.inr")
    # the I-model must be near convergence: with an under-trained I-model a P-model rightly spends
    # bits improving the same frames, which says nothing about prediction
    return Encoded(src, path, fast_encode(src, path, gop=4, gom=2, iters=300, p_iters=30))
