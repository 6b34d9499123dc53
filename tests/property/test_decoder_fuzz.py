"""Mutated golden conformance files through the whole decoder (``inrcodec dec`` / ``info`` paths).

The contract (issue: decoder hardening): any byte string either decodes or raises an InrError, in
bounded time; nothing else (IndexError, struct.error, a torch RuntimeError...) may escape.
Mutations are structure-aware (inrcodec/container/mutate.py) so they reach past the CRCs.
"""

from __future__ import annotations

import glob
import os
import time

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inrcodec.codec.decoder import InrFile
from inrcodec.container.mutate import MUTATIONS, chunk_spans, mutate
from inrcodec.errors import InrError
from inrcodec.inspect import describe

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
