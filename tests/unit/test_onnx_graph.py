"""The ort backend's graphs (inrcodec.decode.onnx_graph): the hand-written protobuf, and each
architecture's planes against numpy_render's on random weights (torch-free: no torch needed)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from inrcodec.archs import ARCHITECTURES
from inrcodec.decode import numpy_render as nr
from inrcodec.decode import onnx_graph as og

ort = pytest.importorskip("onnxruntime")

CASES = [
    ("gnerv", (1, 16, 16, 8, 12, 8, 6)),
    ("gnerv", (0, 8, 12, 6, 8, 6)),
    ("gnerv", (1, 4, 8, 6, 5)),
    ("hinerv", (1, 2, 2, 4, 6, 8, 6, 5)),  # local and modulation grids
    ("hinerv", (2, 1, 0, 0, 6, 8, 5)),
    ("hinerv", (3, 3, 0, 5, 4, 6)),
    ("nirvana", (16, 24, 2, 6, 8, 6)),
    ("nirvana", (8, 16, 1, 3, 4)),
    ("nirvana", (8, 16, 2, 3, 4, 5)),
]


def _random_weights(arch, width, height, chroma, params, rng) -> list[np.ndarray]:
    """Each tensor uniform within its init bound (biases and zero-initialised grids ±0.1)."""
    return [rng.uniform(-(s.init_bound or 0.1), s.init_bound or 0.1, s.shape).astype(np.float32)
            for s in ARCHITECTURES.get(arch).tensors(width, height, chroma, params)]


def ort_network(arch, width, height, chroma, params, layer=0) -> og.OrtNetwork:
    return og.OrtNetwork(ARCHITECTURES.get(arch), width, height, chroma, params, 0.5 if layer == 0 else 0.0,
                         og.session_options(1))


class TestProtobuf:
    def test_varints(self):
        assert og._varint(0) == b"\x00" and og._varint(300) == b"\xac\x02"
        assert og._varint(-1) == b"\xff" * 9 + b"\x01"  # int64 -1: ten bytes

    def test_the_onnx_package_reads_the_model(self):
        onnx = pytest.importorskip("onnx")  # not a dependency: a check where it happens to be installed
        params = (0, 8, 12, 6, 8, 6)
        net = ort_network("gnerv", 37, 29, "420", params)
        net.load_arrays(_random_weights("gnerv", 37, 29, "420", params, np.random.default_rng(1)))
        model = onnx.load_from_string(net.graph())
        onnx.checker.check_model(model)
        assert model.opset_import[0].version == og.OPSET
        assert "convs.0.weight" in [i.name for i in model.graph.input]


@pytest.mark.parametrize("chroma", ["420", "444"])
@pytest.mark.parametrize("arch,params", CASES)
@pytest.mark.parametrize("size", [(37, 29), (5, 3)])
def test_planes_match_numpy_render(arch, params, chroma, size):
    width, height = size
    rng = np.random.default_rng(zlib.crc32(repr((arch, params, chroma, size)).encode()))
    weights = _random_weights(arch, width, height, chroma, params, rng)
    t = np.divide(np.arange(6, dtype=np.float32), np.float32(7), dtype=np.float32)
    for layer in (0, 1):
        ref = nr.build(arch, width, height, chroma, params, weights, layer)(t)
        net = ort_network(arch, width, height, chroma, params, layer)
        net.load_arrays(weights)
        for got, want in zip(net(t), ref):
            assert got.dtype == np.float32 and got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)


def test_one_session_serves_every_gop():
    """New weights, same session: the planes follow the weights loaded last."""
    arch, params = "gnerv", (1, 16, 16, 8, 12, 8, 6)
    net = ort_network(arch, 24, 20, "420", params)
    session = None
    t = np.array([0.0, 0.5], np.float32)
    for seed in (1, 2):
        weights = _random_weights(arch, 24, 20, "420", params, np.random.default_rng(seed))
        net.load_arrays(weights)
        session = session or net.session
        for got, want in zip(net(t), nr.build(arch, 24, 20, "420", params, weights)(t)):
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)
    assert net.session is session
