"""inrcodec.decode.model_io: a file's layers from its headers, and MODL (+ BLOB) chunks to integers and weights."""

from __future__ import annotations

import numpy as np
import pytest

from inrcodec.decode.init import init_arrays
from inrcodec.decode.model_io import build_layers, decode_model, model_weights
from inrcodec.fuzz.synthetic import model_chunks
from inrcodec.decode.weights import KIND_I, KIND_P, dequantize
from inrcodec.container.chunks import BlobChunk, LayerHeader, LayerSpec, ModelChunk, SequenceHeader
from inrcodec.errors import InrFormatError


def _header(arch_id: int, arch_params: tuple[int, ...]) -> SequenceHeader:
    return SequenceHeader(
        width=24, height=16, n_frames=4, fps_num=25, fps_den=1, chroma_format=0, bit_depth=8, color_range=0,
        color_primaries=2, transfer=2, matrix=2, chroma_siting=0, gop_size=2, gom_size=2, arch_id=arch_id,
        arch_params=arch_params, coder_id=1, seed=7)


GNERV = _header(1, (1, 4, 8, 6, 8, 4))
LAYERS = LayerHeader((LayerSpec(2, (8, 8, 1, 4, 4), 100, 3),))  # a nirvana residual layer: blob tensors


def _by_layer(chunks: list) -> list[tuple[ModelChunk, list[BlobChunk]]]:
    out: list = []
    for c in chunks:
        if isinstance(c, ModelChunk):
            out.append((c, []))
        else:
            out[-1][1].append(c)
    return out


class TestBuildLayers:
    def test_layers_follow_the_headers(self):
        base, residual = build_layers(GNERV, LAYERS, "cpu")
        assert (base.index, base.scale, base.seed, base.has_blob) == (0, 1.0, 7, False)
        assert (residual.index, residual.scale, residual.seed, residual.has_blob) == (1, 100.0, 3, True)
        assert residual.model.output_offset == 0.0 and base.model.output_offset != 0.0
        assert [len(x.theta_init) for x in (base, residual)] == [len(base.specs), len(residual.specs)]
        assert all(np.array_equal(a, b) for a, b in zip(base.theta_init, init_arrays(base.specs, 7)))

    def test_n_layers_keeps_the_first(self):
        assert [x.index for x in build_layers(GNERV, LAYERS, "cpu", 1)] == [0]


class TestDecodeModel:
    def test_i_and_p_models_of_every_layer_decode(self):
        layers = build_layers(GNERV, LAYERS, "cpu")
        chunks = _by_layer(model_chunks(GNERV, LAYERS, np.random.default_rng(3)))
        (i0, i0b), (i1, i1b), (p0, p0b), (p1, p1b) = chunks
        assert [int(c.kind) for c in (i0, i1, p0, p1)] == [KIND_I, KIND_I, KIND_P, KIND_P]
        for layer, (i, ib), (p, pb) in zip(layers, [(i0, i0b), (i1, i1b)], [(p0, p0b), (p1, p1b)]):
            qi = decode_model(layer, GNERV, i, ib)
            wi = model_weights(layer, qi, None, 0)
            assert all(np.array_equal(a, b) for a, b in zip(wi, dequantize(qi, None, layer.specs)))
            qp = decode_model(layer, GNERV, p, pb)
            wp = model_weights(layer, qp, wi, 1)
            assert [w.shape for w in wp] == [s.shape for s in layer.specs]
            assert all(w.dtype == np.float32 for w in wp)

    def test_p_model_without_predecessor_is_refused(self):
        layer = build_layers(GNERV, None, "cpu")[0]
        p, blobs = _by_layer(model_chunks(GNERV, None, np.random.default_rng(3)))[1]
        with pytest.raises(InrFormatError, match="P-model without a decoded predecessor"):
            model_weights(layer, decode_model(layer, GNERV, p, blobs), None, 1)

    def test_blob_layer_without_its_blob_is_refused(self):
        residual = build_layers(GNERV, LAYERS, "cpu")[1]
        chunk, _ = _by_layer(model_chunks(GNERV, LAYERS, np.random.default_rng(3)))[1]
        with pytest.raises(InrFormatError, match="0 residual BLOBs, the architecture needs 1"):
            decode_model(residual, GNERV, chunk, [])
