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


# -- up2 then conv3x3 folded into one low-resolution convolution (issue 31) -----------------------------


def _up2_reference(x: np.ndarray) -> np.ndarray:
    """§1b.6 in float64: bilinear ×2, half-pixel centres, clamped edges, on axes 2 and 3 of x."""
    for axis in (2, 3):
        n = x.shape[axis]
        prev = np.take(x, np.maximum(np.arange(n) - 1, 0), axis=axis)
        nxt = np.take(x, np.minimum(np.arange(n) + 1, n - 1), axis=axis)
        even, odd = 0.25 * prev + 0.75 * x, 0.75 * x + 0.25 * nxt
        x = np.stack([even, odd], axis=axis + 1).reshape(*x.shape[:axis], 2 * n, *x.shape[axis + 1:])
    return x


def _conv3x3_reference(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """§1b.3 in float64, zero padding 1."""
    n, _, h, w = x.shape
    p = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, weight.shape[0], h, w)) + bias[None, :, None, None]
    for ky in range(3):
        for kx in range(3):
            out += np.einsum("oi,nihw->nohw", weight[:, :, ky, kx], p[:, :, ky:ky + h, kx:kx + w])
    return out


def _up2_conv_session(h: int, w: int, cin: int, weight: np.ndarray, bias: np.ndarray):
    """The ort graph of conv3x3(up2(x)) for x [N, cin, h, w], and its weights as OrtNetwork feeds them."""
    ops = [og.Op("up2", "u", ("x",)), og.Op("conv3x3", "y", ("u",), {"prefix": "c", "shuffle": False, "gelu": False})]
    net = og.OrtNetwork.__new__(og.OrtNetwork)  # only _conv_feed
    net._w = {"c.weight": weight, "c.bias": bias}
    inputs = {"x": ("N", cin, h, w)}
    fold = og.up2_folds(ops, inputs, {"y"}, min_area=1)
    feed = net._conv_feed(ops, fold)
    model = og.graph_model(ops, inputs, {k: a.shape for k, a in feed.items()}, ["y"], fold=fold)
    return ort.InferenceSession(model, og.session_options(1), providers=["CPUExecutionProvider"]), feed, model


@pytest.mark.parametrize("h,w", [(1, 1), (1, 6), (5, 1), (2, 2), (2, 3), (3, 2), (3, 3), (4, 7), (9, 5)])
def test_folded_up2_conv_is_resize_then_conv(h, w):
    """The fold, its border rows and columns included, computes conv3x3(up2(x)) to float rounding, for
    every map size (one sample thin: Resize as before) and a batch of frames (here from 4 samples)."""
    rng = np.random.default_rng(h * 100 + w)
    cin, cout = 5, 3
    weight = rng.uniform(-1, 1, (cout, cin, 3, 3)).astype(np.float32)
    bias = rng.uniform(-1, 1, cout).astype(np.float32)
    x = rng.uniform(-2, 2, (2, cin, h, w)).astype(np.float32)
    want = _conv3x3_reference(_up2_reference(x.astype(np.float64)), weight.astype(np.float64),
                              bias.astype(np.float64))
    session, feed, model = _up2_conv_session(h, w, cin, weight, bias)
    got = session.run(None, {"x": x, **feed})[0].transpose(0, 3, 1, 2)  # the graph's outputs are channels-last
    assert got.shape == (2, cout, 2 * h, 2 * w)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    assert (b"Resize" in model) == (min(h, w) == 1)  # the fold where the map allows it, Resize otherwise


def test_fold_is_exact_sums_of_the_coded_weights():
    """Each folded tap is the float64 sum of the conv's taps times the ¼/¾ blends, rounded once: the
    middle place's phase (0, 0) tap (0, 0) is (¾w[0,0] + ¼w[1,0])·¾ + ... (rows and columns alike)."""
    rng = np.random.default_rng(5)
    weight = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    folded = og.fold_up2_conv(weight)
    assert set(folded) == {(r, c) for r in og.UP2_PLACES for c in og.UP2_PLACES}
    w = weight.astype(np.float64)
    row = 0.75 * w[:, :, 0] + 0.25 * w[:, :, 1]  # up-sampled row 2i-1 is ¾x[i-1] + ¼x[i]; row 2i, ¼x[i-1] + ...
    want = 0.75 * row[:, :, 0] + 0.25 * row[:, :, 1]
    np.testing.assert_array_equal(folded["middle", "middle"][0::4, :, 0, 0], want.astype(np.float32))
    # the first row of x: the zero padding drops tap ky = 0 of phase py = 0 and the clamp folds x[-1] into x[0]
    assert not folded["first", "middle"][0::4, :, 0, :].any()
    assert folded["middle", "middle"][0::4, :, 0, :].any()


def test_pixel_shuffle_is_depth_to_space_exactly():
    """The ConvTranspose form of §1b.4 moves every value unchanged, as DepthToSpace (CRD) does."""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((2, 12, 5, 7)) * np.exp(rng.uniform(-40, 40, (2, 12, 5, 7)))).astype(np.float32)
    g = og.Graph("t")
    g.output(g.pixel_shuffle(g.input("x", ("N", 12, 5, 7)), 12), ("N", 3, 10, 14))
    got = ort.InferenceSession(g.model(), og.session_options(1), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    want = x.reshape(2, 3, 2, 2, 5, 7).transpose(0, 1, 4, 2, 5, 3).reshape(2, 3, 10, 14)
    np.testing.assert_array_equal(got, want)


def test_the_fold_is_kept_for_maps_where_it_pays():
    """gnerv q5 folds its blocks from UP2_FOLD_AREA input samples: at 1280x720 the last two of three
    (inputs 45x80, 90x160, 180x320), at carphone's size none (its graph is the unfolded one)."""
    params = ARCHITECTURES.get("gnerv").QUALITY[5]
    for (width, height), folded in (((1280, 720), 2), ((176, 144), 0)):
        net = ort_network("gnerv", width, height, "420", params)
        net._make_session = lambda: None
        net.load_arrays(_random_weights("gnerv", width, height, "420", params, np.random.default_rng(0)))
        assert len(net._fold) == folded
        assert sum(k.endswith(".up2.bias") for k in net._weights) == folded
        assert net.graph().count(b"Resize") == 3 - folded


def test_folded_network_matches_numpy_render():
    """A whole gnerv network whose last block is folded (its input 72x128 at 512x288) gives numpy_render's
    planes, as the golden streams (too small to fold) do unfolded."""
    arch, params, width, height = "gnerv", (1, 16, 16, 8, 12, 8, 6), 512, 288
    weights = _random_weights(arch, width, height, "420", params, np.random.default_rng(7))
    net = ort_network(arch, width, height, "420", params)
    net.load_arrays(weights)
    assert len(net._fold) == 1
    t = np.array([0.0, 0.4], np.float32)
    for got, want in zip(net(t), nr.build(arch, width, height, "420", params, weights)(t)):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)
