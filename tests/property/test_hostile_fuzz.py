"""Fuzz targets for issue 32's second round of hostile inputs (beside test_decoder_fuzz.py's mutations).

Each property draws inputs of one kind the audit broke and states what must hold for all of them:

- item 3: any chunk between SHDR and the first payload chunk gets one answer from ``info``, ``dec``
  and ``extract``: the same error class, or all three accept the file;
- item 4: a thread count is taken exactly when it is 1..256, by the decoder and by its option check;
- item 5: a model is refused (InrUnsupportedError) exactly when one of its weights, worked out here
  from the integers alone (|symbol| x step), is above 64 (spec/models.md §4b); otherwise it renders;
- items 7 and 11: no file an image-sequence pattern reads can be the output; a missing folder named
  with a trailing slash is refused, never created as a file;
- item 8: numpy frames of any shape, dtype and rate are read or refused with a one-line InrInputError.
"""

from __future__ import annotations

import math
import os
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import make_conformance as mc  # the suite's chunk surgery, written from spec/ (tools/ is on pytest's path)
from inrcodec.api import extract
from inrcodec.container.chunks import ModelChunk, SequenceHeader
from inrcodec.container.writer import serialize
from inrcodec.decode.decoder import InrFile
from inrcodec.decode.model_io import plan_layers
from inrcodec.decode.options import MAX_THREADS, DecodeOptions, check_threads
from inrcodec.decode.weights import KIND_I, QuantizedModel, encode_body
from inrcodec.describe import describe
from inrcodec.errors import InrError, InrInputError, InrIOError, InrUnsupportedError
from inrcodec.io.arrays import ArraySource
from inrcodec.io.video import pattern_files
from inrcodec.outfile import check_output
from inrcodec.quant.steps import MAX_STEP_CODE, MIN_STEP_CODE, step_from_code

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = open(os.path.join(HERE, "..", "conformance", "ODDSIZE_A", "stream.inr"), "rb").read()
def fast(n: int) -> settings:
    """``n`` examples, no per-example deadline (decoding takes its time)."""
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(fn) -> str | None:
    """The InrError class ``fn`` raises, or None; anything else escapes and fails the test."""
    try:
        fn()
    except InrError as err:
        assert "\n" not in str(err)
        return type(err).__name__
    return None


# -- item 3: chunks between the headers and the payload --------------------------------------------

CODES = [b"SHDR", b"LHDR", b"GIDX", b"IEND", b"MODL", b"BLOB", b"disp", b"DISP", b"XXXX", b"note", b"targ"]


def with_chunk(code: bytes, payload: bytes, damage: bool) -> bytes:
    """ODDSIZE_A with one chunk right after SHDR (index rebuilt), its CRC damaged on request."""
    stand_in = b"QQQQ"  # the rebuild drops GIDX and IEND: place a stand-in, then rename it
    data = mc._rebuild(GOLDEN, mc._after_shdr([stand_in, payload]))
    data = data.replace(mc._frame(stand_in, payload), mc._frame(code, payload), 1)
    if damage:
        at = data.index(mc._frame(code, payload)) + len(mc._frame(code, payload)) - 1
        data = data[:at] + bytes([data[at] ^ 0x10]) + data[at + 1:]
    return data


@fast(60)
@given(code=st.one_of(st.sampled_from(CODES), st.binary(min_size=4, max_size=4)),
       payload=st.binary(max_size=24), damage=st.booleans())
def test_info_dec_and_extract_answer_alike_for_a_chunk_before_the_payload(code, payload, damage):
    data = with_chunk(code, payload, damage)
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "a.inr")
        with open(src, "wb") as f:
            f.write(data)
        info = outcome(lambda: describe(src))
        dec = outcome(lambda: InrFile(src, DecodeOptions(backend="numpy")).close())
        cut = outcome(lambda: extract(src, os.path.join(tmp, "b.inr"), 1))
    assert info == dec == cut, (code, payload, damage, info, dec, cut)


# -- item 4: thread counts -------------------------------------------------------------------------

@fast(60)
@given(threads=st.one_of(st.integers(-2**40, 2**40), st.sampled_from([0, 1, MAX_THREADS, MAX_THREADS + 1, 2**31])))
def test_threads_are_taken_exactly_within_1_to_256(threads):
    taken = 1 <= threads <= MAX_THREADS
    assert outcome(lambda: check_threads(threads)) == (None if taken else "InrInputError")
    opened = outcome(lambda: InrFile(GOLDEN, DecodeOptions(backend="numpy", threads=threads)).close())
    assert opened == (None if taken else "InrInputError")


# -- item 5: the weight range ----------------------------------------------------------------------

HEADER = SequenceHeader(width=16, height=16, n_frames=1, fps_num=25, fps_den=1, chroma_format=0, bit_depth=8,
                        color_range=0, color_primaries=2, transfer=2, matrix=2, chroma_siting=0, gop_size=1,
                        gom_size=1, arch_id=1, arch_params=(1, 2, 4, 4, 4), coder_id=1, seed=1)
SPECS = plan_layers(HEADER, None)[0].specs


@fast(40)
@given(data=st.data())
def test_a_model_renders_exactly_when_its_weights_are_within_64(data):
    codes, symbols, top = [], [], 0.0
    for spec in SPECS:
        code = data.draw(st.integers(MIN_STEP_CODE, MAX_STEP_CODE) | st.sampled_from([-64, 0, 16, 64]))
        max_abs = data.draw(st.sampled_from([0, 1, 3, 64, 65, 1024]) | st.integers(0, 32767))
        seed = data.draw(st.integers(0, 2**32 - 1))
        sym = np.random.default_rng(seed).integers(-max_abs, max_abs + 1, spec.shape, dtype=np.int32)
        codes.append(code)
        symbols.append(sym)
        if sym.size:
            top = max(top, float(np.abs(sym).max()) * step_from_code(code))  # exact: a float64 of a binary32 product
    body = encode_body(QuantizedModel(KIND_I, 0, codes, symbols), HEADER.coder_id, SPECS)
    file = serialize(HEADER, [ModelChunk(0, KIND_I, body)])
    with InrFile(file, DecodeOptions(backend="numpy")) as f:
        if top > 64:
            with pytest.raises(InrUnsupportedError, match=r"outside the ±64 a decoder renders"):
                f[0]
        else:
            y, u, v = f[0]
            assert y.shape == (16, 16) and u.shape == v.shape == (8, 8)


# -- items 7 and 11: outputs ------------------------------------------------------------------------

@fast(40)
@given(numbers=st.sets(st.integers(0, 12000), min_size=1, max_size=6), width=st.sampled_from(["", "03", "04", "6"]),
       stem=st.sampled_from(["f_", "frame", "a b-", ""]), ext=st.sampled_from([".ppm", ".png", ".tif"]))
def test_no_file_a_pattern_reads_can_be_the_output(numbers, width, stem, ext):
    with tempfile.TemporaryDirectory() as tmp:
        pattern = os.path.join(tmp, f"{stem}%{width}d{ext}")
        for n in numbers:
            with open(pattern % n, "wb") as f:
                f.write(b"frame")
        found = dict((n, p) for n, p in pattern_files(pattern))
        for n in numbers:
            assert os.path.samefile(found[n], pattern % n)
        inputs = (pattern, *found.values())
        for n in numbers:
            assert outcome(lambda: check_output(pattern % n, overwrite=True, inputs=inputs)) == "InrInputError"
        missing = os.path.join(tmp, "no_such_folder") + "/"
        assert outcome(lambda: check_output(missing, overwrite=True)) == "InrIOError"
        assert not os.path.exists(missing.rstrip("/"))


# -- item 8: numpy frames ---------------------------------------------------------------------------

DTYPES = [np.uint8, np.uint16, np.int16, np.float32, np.bool_]
dims = st.integers(0, 9)
shapes = st.lists(dims, min_size=0, max_size=4).map(tuple)
rates = st.one_of(st.integers(-3, 120), st.floats(allow_nan=True, allow_infinity=True),
                  st.sampled_from(["30000/1001", "x", "0/0", (30000, 1001), (1, 0), (), None]))


@fast(120)
@given(kind=st.sampled_from(["array", "planes"]), shape=shapes, planes=st.tuples(shapes, shapes, shapes),
       dtype=st.sampled_from(DTYPES), count=st.integers(0, 3), fps=rates, depth=st.sampled_from([None, 8, 10, 12, 9]))
def test_numpy_frames_are_read_or_refused_in_one_line(kind, shape, planes, dtype, count, fps, depth):
    if kind == "array":
        frames = np.zeros(shape, dtype)
    else:
        frames = [tuple(np.zeros(s, dtype) for s in planes)] * count

    def read():
        source = ArraySource(frames, fps=fps, bit_depth=depth)
        for y, u, v in source:
            assert y.ndim == u.ndim == v.ndim == 2 and min(y.shape) >= 1
        num, den = source.info.fps_num, source.info.fps_den
        assert num > 0 and den > 0 and math.isfinite(num / den)
    assert outcome(read) in (None, "InrInputError")
