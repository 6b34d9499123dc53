"""Issue 32 item 5: a decoder renders only models whose binary32 weights are finite and within ±64
(spec/models.md §4b), and refuses the rest before a frame of their GOP (InrUnsupportedError, exit 6).

The files are built here from integers (the codec's own body coder and container writer): the bound
is inclusive, P-models are checked on the weights they reach (θ′ + symbol·step), a legacy binary32
BLOB cannot smuggle a NaN in, and issue 32's stream (every step code 64, symbols ±32767: weights
up to 524 272) is refused on every backend.
"""

from __future__ import annotations

import functools
import subprocess
import sys

import numpy as np
import pytest

from inrcodec.api import open as open_inr
from inrcodec.coders.blob import BLOB_CODECS
from inrcodec.container.chunks import BlobChunk, ModelChunk, SequenceHeader
from inrcodec.container.writer import serialize
from inrcodec.decode.model_io import plan_layers
from inrcodec.decode.weight_range import MAX_WEIGHT
from inrcodec.decode.weights import KIND_I, KIND_P, BlobTag, QuantizedModel, encode_body, pack_blob
from inrcodec.errors import InrUnsupportedError
from inrcodec.fuzz.synthetic import synthetic_file

GNERV, NIRVANA, HINERV = 1, 2, 3


def header(arch_id: int, params: tuple, *, n_frames: int = 2, gop: int = 1, size: int = 16) -> SequenceHeader:
    return SequenceHeader(width=size, height=size, n_frames=n_frames, fps_num=25, fps_den=1, chroma_format=0,
                          bit_depth=8, color_range=0, color_primaries=2, transfer=2, matrix=2, chroma_siting=0,
                          gop_size=gop, gom_size=-(-n_frames // gop), arch_id=arch_id, arch_params=params,
                          coder_id=1, seed=1)


def gnerv_file(symbols_of_gop) -> bytes:
    """A gnerv file of one frame per GOP, one GOM; ``symbols_of_gop(g, specs)`` -> (step codes,
    symbols, eps_code) of GOP g's model."""
    h = header(GNERV, (1, 2, 4, 4, 4))
    specs = plan_layers(h, None)[0].specs
    chunks = []
    for g in range(h.n_frames):
        kind = KIND_I if g == 0 else KIND_P
        codes, symbols, eps = symbols_of_gop(g, specs)
        chunks.append(ModelChunk(g, kind, encode_body(QuantizedModel(kind, eps, codes, symbols), h.coder_id, specs)))
    return serialize(h, chunks)


def one_weight(value: int, tensor: int = 3):
    """GOP 0: every weight 0 but one of tensor ``tensor`` (step 1, symbol ``value``); later GOPs:
    P-models with ε = 0 and no residual (they keep GOP 0's weights)."""
    def symbols(g, specs):
        syms = [np.zeros(s.shape, np.int32) for s in specs]
        if g == 0:
            syms[tensor].flat[0] = value
        return [0] * len(specs), syms, 0
    return symbols


def decode_all(data: bytes, backend: str = "numpy") -> int:
    with open_inr(data, backend=backend) as f:
        return sum(1 for _ in f)


def test_the_bound_is_inclusive():
    assert MAX_WEIGHT == 64
    assert decode_all(gnerv_file(one_weight(64))) == 2
    assert decode_all(gnerv_file(one_weight(-64))) == 2
    with pytest.raises(InrUnsupportedError, match=r"^GOP 0: shift\.0\.weight holds a weight of magnitude 65, "
                                                  r"outside the ±64 a decoder renders \(spec/models\.md §4b\)$"):
        decode_all(gnerv_file(one_weight(-65)))


def test_a_p_model_is_checked_on_the_weights_it_reaches():
    """GOP 0's weight 60 is legal; GOP 1 (ε = 0, so θ′ = 60) adds 10: 70, refused at GOP 1 only."""
    def symbols(g, specs):
        syms = [np.zeros(s.shape, np.int32) for s in specs]
        syms[3].flat[0] = 60 if g == 0 else 10
        return [0] * len(specs), syms, 0
    data = gnerv_file(symbols)
    with open_inr(data, backend="numpy") as f:
        assert f[0][0].shape == (16, 16)
        with pytest.raises(InrUnsupportedError, match=r"^GOP 1: shift\.0\.weight holds a weight of magnitude 70"):
            f[1]


def test_a_legacy_float_blob_cannot_bring_a_nan():
    """Tag 1 carries binary32 residuals (models.md §3b): any float, NaN included, reaches the weights."""
    h = header(NIRVANA, (8, 4, 1, 2, 2), n_frames=1, size=8)
    specs = plan_layers(h, None)[0].specs
    body = encode_body(QuantizedModel(KIND_I, 0, [0] * len(specs), [np.zeros(s.shape, np.int32) for s in specs]),
                       h.coder_id, specs)
    residuals = [np.zeros(s.shape, np.float32) for s in specs if s.blob]
    stored = BLOB_CODECS.id_of("none")
    ok = serialize(h, [ModelChunk(0, KIND_I, body), BlobChunk(0, BlobTag.FLOAT, stored, 4 * sum(r.size for r in residuals),
                                                             pack_blob(residuals))])
    assert decode_all(ok) == 1
    residuals[0].flat[5] = np.nan
    bad = serialize(h, [ModelChunk(0, KIND_I, body), BlobChunk(0, BlobTag.FLOAT, stored, 4 * sum(r.size for r in residuals),
                                                              pack_blob(residuals))])
    with pytest.raises(InrUnsupportedError, match=r"^GOP 0: convs\.0\.weight holds a weight that is not finite"):
        decode_all(bad)


@functools.cache
def issue_stream() -> bytes:
    """Issue 32 item 5's stream: hinerv (1,1,0,0,16,16,16,16,16) at 32x32, 4 frames, step code 64
    (step 16) and random symbols up to ±32767 (built once: 5 s)."""
    h = header(HINERV, (1, 1, 0, 0, 16, 16, 16, 16, 16), n_frames=4, gop=4, size=32)
    return synthetic_file(h, None, np.random.default_rng(5), max_symbol=32767, step_code=64)


@pytest.mark.parametrize("backend", ["numpy", "ort", "torch"])
def test_issue_stream_is_refused_on_every_backend(backend):
    pytest.importorskip({"numpy": "numpy", "ort": "onnxruntime", "torch": "torch"}[backend])
    with pytest.raises(InrUnsupportedError, match=r"^GOP 0: grids\.0 holds a weight of magnitude \d+, outside"):
        decode_all(issue_stream(), backend)


def test_dec_refuses_it_in_one_line_exit_6(tmp_path):
    src = tmp_path / "extreme.inr"
    src.write_bytes(issue_stream())
    out = tmp_path / "out.y4m"
    run = subprocess.run([sys.executable, "-m", "inrcodec.cli", "dec", str(src), "-o", str(out), "--quiet"],
                         capture_output=True, text=True)
    assert run.returncode == 6
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("inrcodec: error: GOP 0: grids.0 holds a weight of magnitude")
    assert not out.exists()
