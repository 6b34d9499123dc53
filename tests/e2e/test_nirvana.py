"""--model nirvana through the codec: round trip at QCIF and an odd size, bit-exact weights, seeking,
and the conv layers' integers in a zstd/LZMA residual BLOB instead of the arithmetic-coded body."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inrcodec.api import open as open_inr
from inrcodec.metrics import psnr_yuv
from inrcodec.models import ARCHITECTURES

from .conftest import REPO, SAMPLE_37, assert_frames_equal, decode_all, fast_encode, read_source

QCIF = f"{REPO}/samples/carphone_qcif_16f.mp4"
NIRVANA = {"model": "nirvana", "quality": 1, "channels": None, "iters": 80, "p_iters": 20}


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    path = tmp_path_factory.mktemp("nirvana") / "odd.inr"
    return path, fast_encode(SAMPLE_37, path, gop=3, gom=2, **NIRVANA)


@pytest.fixture(scope="module")
def qcif(tmp_path_factory):
    path = tmp_path_factory.mktemp("nirvana") / "qcif.inr"
    return path, fast_encode(QCIF, path, gop=3, gom=2, frames=6, **NIRVANA)


@pytest.mark.parametrize("name", ["odd", "qcif"])
def test_round_trip_keeps_size_and_count_and_resembles_the_source(request, name):
    path, summary = request.getfixturevalue(name)
    frames = decode_all(path, backend="torch")  # the encoder measures the reference decoder's frames
    src = read_source(SAMPLE_37 if name == "odd" else QCIF)[: len(frames)]
    assert len(frames) == summary.n_frames == 6
    assert [p.shape for p in frames[0]] == [p.shape for p in src[0]]
    measured = psnr_yuv(src, frames)["psnr_yuv"]
    assert measured == pytest.approx(summary.psnr_yuv, abs=1e-6)
    assert measured > 15


def test_decoded_integer_weights_are_the_encoders(odd):
    path, summary = odd
    with open_inr(path) as f:
        assert ARCHITECTURES.name_of(f.header.arch_id) == "nirvana"
        decoded = [(gop, qm.digest()) for gom in range(f.header.n_goms) for gop, (qm,), _ in f.decode_gom(gom)]
    assert decoded == [(g.gop_index, g.digest) for g in summary.gops]


def test_seek_decodes_one_gom_and_matches_full_decode(odd):
    path, _ = odd
    full = decode_all(path)
    for n in (0, 4, 5):
        with open_inr(path) as f:
            frame = f[n]
            assert f.n_decoded_goms == 1
        assert_frames_equal([frame], [full[n]])


def test_patch_batches_give_the_same_frames_as_one_pass(monkeypatch):
    import inrcodec.archs.nirvana as nirvana
    model = ARCHITECTURES.get("nirvana")(200, 100, "420", (16, 16, 2, 8, 8, 8))
    t = torch.tensor([0.0, 0.5])
    with torch.no_grad():
        whole = model(t)
        monkeypatch.setattr(nirvana, "PATCH_BATCH", 7)
        batched = model(t)
    for a, b in zip(whole, batched):
        assert torch.equal(a, b)


@pytest.mark.parametrize("params", [(12, 16, 2, 8, 8), (32, 0, 2, 8, 8), (8, 16, 2, 8, 8, 8, 8), (32, 16, 2, 8)])
def test_invalid_params_are_refused(params):
    with pytest.raises(ValueError):
        ARCHITECTURES.get("nirvana")(64, 64, "420", params)


def test_any_resolution_same_parameter_count():
    n = {(w, h): sum(s.numel for s in ARCHITECTURES.get("nirvana")(w, h, "420", (32, 32, 2, 8, 8, 8)).tensor_specs())
         for w, h in [(37, 29), (176, 144), (1280, 720)]}
    assert len(set(n.values())) == 1
    assert np.isfinite(list(n.values())[0])


def test_conv_layers_travel_as_one_compressed_residual_blob_per_gop(odd):
    from inrcodec.decode.weights import BlobTag
    from inrcodec.coders.blob import BLOB_CODECS
    from inrcodec.container.chunks import BlobChunk, ModelChunk
    from inrcodec.container.reader import ContainerReader
    path, _ = odd
    with ContainerReader(str(path)) as r:
        chunks = [c for g in range(r.header.n_goms) for c in r.read_gom(g)]
        model = ARCHITECTURES.by_id(r.header.arch_id)(37, 29, "420", r.header.arch_params)
    n_blob = sum(s.numel for s in model.tensor_specs() if s.blob)
    assert n_blob > 0 and any(not s.blob for s in model.tensor_specs())
    blobs = [c for c in chunks if isinstance(c, BlobChunk)]
    assert [b.gop_index for b in blobs] == [c.gop_index for c in chunks if isinstance(c, ModelChunk)]
    for b in blobs:
        assert b.tag == BlobTag.SYMBOLS and b.raw_size == 2 * n_blob
        assert BLOB_CODECS.name_of(b.method) in ("zstd", "lzma") and len(b.data) < b.raw_size / 2


def test_pack_blob_round_trips_and_shuffles_byte_planes():
    from inrcodec.decode.weights import pack_blob, unpack_blob
    from inrcodec.models.base import TensorSpec
    a = np.array([[1.5, -2.0]], np.float32)
    b = np.array([3.25], np.float32)
    specs = [TensorSpec("a", (1, 2), 1.0, True), TensorSpec("x", (4,), 1.0), TensorSpec("b", (1,), 0.0, True)]
    raw = pack_blob([a, b])
    le = np.concatenate([a.ravel(), b]).astype("<f4").tobytes()
    assert raw == bytes(le[i] for k in range(4) for i in range(k, len(le), 4))
    out = unpack_blob(raw, specs)
    assert np.array_equal(out[0], a) and np.array_equal(out[1], b)
    with pytest.raises(Exception):
        unpack_blob(raw[:-1], specs)


def test_symbol_blob_is_zigzag_uint16_in_byte_planes_and_checks_max_abs():
    from inrcodec.decode.weights import pack_symbol_blob, unpack_symbol_blob
    from inrcodec.errors import InrFormatError
    from inrcodec.models.base import TensorSpec
    a = np.array([[0, -1], [1, 300]], np.int32)
    b = np.array([-300], np.int32)
    specs = [TensorSpec("a", (2, 2), 1.0, True), TensorSpec("x", (4,), 1.0), TensorSpec("b", (1,), 0.0, True)]
    raw = pack_symbol_blob([a, b])
    zz = [0, 1, 2, 600, 599]  # zig-zag: 0, -1, 1, 300, -300
    assert raw == bytes(v & 0xFF for v in zz) + bytes(v >> 8 for v in zz)
    out = unpack_symbol_blob(raw, specs, [300, 300])
    assert np.array_equal(out[0], a) and np.array_equal(out[1], b)
    with pytest.raises(InrFormatError, match="exceeds its max_abs"):
        unpack_symbol_blob(raw, specs, [300, 299])
    with pytest.raises(InrFormatError, match="bytes"):
        unpack_symbol_blob(raw[:-1], specs, [300, 300])


def test_p_model_conv_residuals_are_sparse_and_their_blob_small(odd):
    path, summary = odd
    with open_inr(path) as f:
        specs = f._layers[0].specs
        (_, (qm0,), _), (_, (qm1,), _) = list(f.decode_gom(0))
    conv = lambda qm: np.concatenate([q.ravel() for q, s in zip(qm.symbols, specs) if s.blob])
    assert np.mean(conv(qm0) != 0) > 0.5  # the I-model's conv weights are coded, not left at zero
    assert np.mean(conv(qm1) != 0) < 0.1  # the rate term keeps the P-model's residual sparse
    assert summary.gops[1].bytes < summary.gops[0].bytes / 4


def test_patch_and_mlp_options_reach_the_header(tmp_path):
    path = tmp_path / "opts.inr"
    fast_encode(SAMPLE_37, path, gop=3, gom=2, patch_size=16, mlp_width=24, mlp_depth=2, **NIRVANA)
    with open_inr(path) as f:
        assert f.header.arch_params[:3] == (16, 24, 2)
        assert len(list(f)) == 6
