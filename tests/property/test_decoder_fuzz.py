"""Mutated golden conformance files through the whole decoder (``inrcodec dec`` / ``info`` paths).

The contract (issue: decoder hardening): any byte string either decodes or raises an InrError, in
bounded time; nothing else (IndexError, struct.error, a torch RuntimeError...) may escape.
Mutations are structure-aware (inrcodec/fuzz/mutate.py) so they reach past the CRCs.

Valid files with extreme headers (``inrcodec.fuzz.synthetic.extreme_file``: any legal frame size,
GOP length, layers and arch_params) either decode within bounded time and peak memory or are refused
from the header (issue 18 §2, spec/levels.md), under limits small enough to run here.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inrcodec.decode.decoder import InrFile
from inrcodec.decode.options import DecodeOptions
from inrcodec.fuzz.synthetic import FUZZ_LIMITS, extreme_file
from inrcodec.fuzz.mutate import MUTATIONS, chunk_spans, mutate
from inrcodec.errors import InrError, InrFormatError, InrUnsupportedError
from inrcodec.describe import describe

HERE = os.path.dirname(os.path.abspath(__file__))
STREAMS = sorted(glob.glob(os.path.join(HERE, "..", "conformance", "*", "stream.inr")))
ORIGINALS = {os.path.basename(os.path.dirname(p)): open(p, "rb").read() for p in STREAMS}
SPANS = {name: chunk_spans(data) for name, data in ORIGINALS.items()}
TIME_LIMIT_S = 20.0


def decode_everything(data: bytes) -> int:
    """What ``inrcodec info`` and ``inrcodec dec`` do with a file; returns the frames decoded."""
    describe(data)
    n = 0
    with InrFile(data) as f:
        for frame in f:
            assert all(isinstance(p, np.ndarray) for p in frame)
            n += 1
    return n


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_every_golden_file_decodes_unmutated():
    assert len(ORIGINALS) >= 5
    for name, data in ORIGINALS.items():
        assert decode_everything(data) > 0, name


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(ORIGINALS)), kind=st.sampled_from(MUTATIONS),
       a=st.integers(0, 2**20), b=st.integers(0, 2**20))
def test_mutated_files_decode_or_raise_an_inr_error(name, kind, a, b):
    data = mutate(ORIGINALS[name], SPANS[name], kind, a, b)
    start = time.monotonic()
    try:
        decode_everything(data)
    except InrError as err:
        assert "\n" not in str(err)  # the CLI prints it as one line
    assert time.monotonic() - start < TIME_LIMIT_S


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(ORIGINALS)), a=st.integers(0, 2**20))
def test_a_bit_flip_outside_the_crc_fixing_path_is_always_detected(name, a):
    data = ORIGINALS[name]
    spans = SPANS[name]
    offset, _, total = spans[a % len(spans)]
    i = offset + (a // len(spans)) % total
    bad = bytearray(data)
    bad[i] ^= 1 << (a % 8)
    with pytest.raises(InrError):
        decode_everything(bytes(bad))


BIT_DEPTH_OFFSET = 17  # in SHDR's payload (spec/bitstream.md §5.1)


def with_bit_depth(data: bytes, value: int, versions: tuple[int, int] | None = None) -> bytes:
    """``data`` with SHDR's bit_depth set to ``value`` (CRC recomputed) and, optionally, the preamble's
    (writer_version, min_reader_version) replaced."""
    offset, payload_at, total = chunk_spans(data)[0]
    out = bytearray(data)
    out[payload_at + BIT_DEPTH_OFFSET] = value
    out[offset + total - 4:offset + total] = zlib.crc32(bytes(out[offset + 4:offset + total - 4]),
                                                        zlib.crc32(bytes(out[offset:offset + 4]))).to_bytes(4, "big")
    if versions is not None:
        out[8:12] = versions[0].to_bytes(2, "big") + versions[1].to_bytes(2, "big")
    return bytes(out)


@pytest.mark.parametrize("name", ["DEPTH10_A", "ODDSIZE_A"])
def test_every_bit_depth_value_decodes_or_is_refused(name):
    """All 256 values of the header's bit_depth, under the file's own versions and under version 3:
    8, 10 and 12 decode to samples of that depth (the networks do not depend on it), the rest are
    unsupported; a depth above 8 in a file claiming older rules is a format error."""
    data = ORIGINALS[name]
    for value in range(256):
        for versions in (None, (3, 3)):
            mutated = with_bit_depth(data, value, versions)
            own = int.from_bytes(mutated[10:12], "big")
            if value in (8, 10, 12) and (value == 8 or own >= 3):
                with InrFile(mutated) as f:
                    frames = list(f)
                assert frames[0][0].dtype == (np.uint8 if value == 8 else np.uint16)
                assert max(int(p.max()) for f in frames for p in f) <= 2**value - 1
            else:
                error = InrFormatError if value in (10, 12) else InrUnsupportedError
                with pytest.raises(error, match="bit_depth"):
                    decode_everything(mutated)


EXTREME_TIME_LIMIT_S = 5.0  # per file, under FUZZ_LIMITS (measured: under 0.6 s, building it included)
EXTREME_RSS_LIMIT = 600 << 20  # peak growth over many files (measured: ~230 MB)


def first_and_last_frames(data: bytes) -> None:
    """What ``inrcodec info`` does, then the first frame and (a seek) the last one, under FUZZ_LIMITS."""
    describe(data, limits=FUZZ_LIMITS)
    with InrFile(data, DecodeOptions(limits=FUZZ_LIMITS)) as f:
        for n in (0, len(f) - 1):
            assert all(isinstance(p, np.ndarray) for p in f[n])


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_valid_files_with_extreme_headers_decode_or_are_refused_in_bounded_time(seed):
    data, expected = extreme_file(seed)
    start = time.monotonic()
    try:
        first_and_last_frames(data)
        error = None
    except InrError as err:
        error = err
    assert time.monotonic() - start < EXTREME_TIME_LIMIT_S
    if expected is None:
        assert error is None, error
    else:
        assert isinstance(error, expected) and "\n" not in str(error), error


def test_extreme_headers_cover_decoding_and_every_refusal():
    outcomes = {extreme_file(seed)[1] for seed in range(60)}
    assert outcomes == {None, InrUnsupportedError, InrFormatError}


PEAK = """
import json, resource, sys
import torch
from inrcodec.fuzz.synthetic import extreme_file
from inrcodec.errors import InrError
import test_decoder_fuzz as t
torch.set_num_threads(1)
hwm = lambda: int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1])  # KiB, this process only
before = hwm()
decoded = 0
for seed in range(int(sys.argv[1]), int(sys.argv[2])):
    data, expected = extreme_file(seed)
    try:
        t.first_and_last_frames(data)
        decoded += 1
    except InrError:
        pass
print(json.dumps({"decoded": decoded, "growth": (hwm() - before) * 1024}))
"""


@pytest.mark.slow
def test_peak_memory_over_extreme_headers_is_bounded():
    """The peak only grows, so one process over many files bounds the peak of every one of them. VmHWM,
    not ru_maxrss: a child's ru_maxrss starts at the parent's peak (Linux keeps it across fork and exec)."""
    path = os.pathsep.join([HERE, os.environ.get("PYTHONPATH", "")])  # this module, then the caller's
    out = subprocess.run([sys.executable, "-c", PEAK, "1000", "1150"], capture_output=True, text=True, timeout=300,
                         cwd=HERE, env={**os.environ, "PYTHONPATH": path})
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["decoded"] > 30 and result["growth"] < EXTREME_RSS_LIMIT, result
