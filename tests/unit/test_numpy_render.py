"""The torch-free synthesis path (inrcodec.decode.numpy_render, issue 21 §2) against the golden
streams of tests/conformance and against the torch models' forward."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib

import numpy as np
import pytest
import torch

from inrcodec.api import open as open_inr
from inrcodec.container.chunks import layer_specs
from inrcodec.decode import numpy_render as nr
from inrcodec.decode.render import add_layer as torch_add_layer
from inrcodec.decode.render import to_samples as torch_to_samples
from inrcodec.models import ARCHITECTURES

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFORMANCE = os.path.join(REPO, "tests", "conformance")
FEATURES = sorted(d for d in os.listdir(CONFORMANCE) if d.isupper() and os.path.isdir(os.path.join(CONFORMANCE, d)))


def numpy_frames(path: str) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Every frame of the file, weights from the decoder's own machinery, frames from numpy_render."""
    out = []
    with open_inr(path) as f:
        h = f.header
        specs = layer_specs(h, f.reader.layers)[:f.n_layers]
        nets = [nr.build(ls.arch_id, h.width, h.height, f.chroma, ls.arch_params, layer=k)
                for k, ls in enumerate(specs)]
        for gom in range(h.n_goms):
            for g, _qms, weights in f.decode_gom(gom):
                for net, w in zip(nets, weights):
                    net.load_arrays(w)
                _, n = h.gop_range(g)
                t = np.divide(np.arange(n, dtype=np.float32), np.float32(h.gop_size), dtype=np.float32)
                planes = nr.render_layers([(net, float(ls.residual_scale)) for net, ls in zip(nets, specs)],
                                          t, h.bit_depth)
                out += [tuple(p[i] for p in planes) for i in range(n)]
    return out


@pytest.mark.parametrize("feature", FEATURES)
def test_golden_streams_within_one(feature):
    folder = os.path.join(CONFORMANCE, feature)
    with open(os.path.join(folder, "expected.json")) as fh:
        expected = json.load(fh)
    frames = numpy_frames(os.path.join(folder, "stream.inr"))
    assert len(frames) == expected["n_frames"] == len(expected["frames"])
    exact = 0
    worst = 0
    with np.load(os.path.join(folder, expected["frame_planes"])) as ref:
        for record, planes in zip(expected["frames"], frames):
            i = record["index"]
            assert [list(p.shape) for p in planes] == expected["plane_shapes"], f"frame {i}"
            same = True
            for name, plane in zip("yuv", planes):
                r = ref[f"{i}_{name}"]
                assert plane.dtype == r.dtype, f"frame {i} plane {name}"
                diff = int(np.abs(plane.astype(np.int32) - r.astype(np.int32)).max())
                worst = max(worst, diff)
                same = same and diff == 0
                assert diff <= 1, f"frame {i} plane {name}: max abs diff {diff}"
            exact += same
    print(f"{feature}: {exact}/{len(frames)} frames bit-exact, max abs diff {worst}")


# -- against the torch models' forward ----------------------------------------------------------

CASES = [
    ("gnerv", (1, 16, 16, 8, 12, 8, 6)),
    ("gnerv", (0, 8, 12, 6, 8, 6)),
    ("gnerv", (1, 4, 8, 6, 5)),
    ("hinerv", (1, 2, 2, 4, 6, 8, 6, 5)),
    ("hinerv", (2, 1, 0, 0, 6, 8, 5)),
    ("hinerv", (3, 3, 0, 5, 4, 6)),
    ("nirvana", (16, 24, 2, 6, 8, 6)),
    ("nirvana", (8, 16, 1, 3, 4)),  # one block, h0 = 2
    ("nirvana", (16, 8, 3, 5, 6, 4)),
    ("nirvana", (8, 16, 2, 3, 4, 5)),  # h0 = 1, F = 3: odd, the last embedding value is 0
]


def _random_weights(model, rng) -> list[np.ndarray]:
    """Weights on the scale of trained ones: each tensor uniform within its init bound (biases ±0.1)."""
    out = []
    for spec in model.tensor_specs():
        bound = spec.init_bound if spec.init_bound else 0.1
        out.append(rng.uniform(-bound, bound, spec.shape).astype(np.float32))
    return out


@pytest.mark.parametrize("chroma", ["420", "444"])
@pytest.mark.parametrize("arch,params", CASES)
@pytest.mark.parametrize("size", [(37, 29), (5, 3)])
def test_forward_matches_torch(arch, params, chroma, size):
    width, height = size
    rng = np.random.default_rng(zlib.crc32(repr((arch, params, chroma, size)).encode()))
    model = ARCHITECTURES.get(arch)(width, height, chroma, params).eval()
    weights = _random_weights(model, rng)
    model.load_arrays(weights)
    t = np.divide(np.arange(6, dtype=np.float32), np.float32(7), dtype=np.float32)
    with torch.no_grad():
        ref = [p.numpy() for p in model(torch.from_numpy(t))]
    got = nr.build(arch, width, height, chroma, params, weights)(t)
    for g, r in zip(got, ref):
        assert g.dtype == np.float32 and g.shape == r.shape
        np.testing.assert_allclose(g, r, rtol=0, atol=1e-4)
    # a residual layer: no output offset
    res = nr.build(arch, width, height, chroma, params, weights, layer=1)(t)
    model.output_offset = 0.0
    with torch.no_grad():
        ref = [p.numpy() for p in model(torch.from_numpy(t))]
    for g, r in zip(res, ref):
        np.testing.assert_allclose(g, r, rtol=0, atol=1e-4)


def test_forward_by_wire_id_and_frame_independence():
    """A wire id names the architecture; a frame's planes do not depend on its batch."""
    params = (1, 16, 16, 8, 12, 8, 6)
    model = ARCHITECTURES.get("gnerv")(24, 20, "420", params)
    weights = _random_weights(model, np.random.default_rng(3))
    t = np.array([0.0, 0.25, 0.5, 0.75], np.float32)
    net = nr.build(ARCHITECTURES.get("gnerv").wire_id, 24, 20, "420", params, weights)
    whole = net(t)
    for i in range(4):
        one = net(t[i:i + 1])
        for a, b in zip(whole, one):
            np.testing.assert_allclose(a[i], b[0], rtol=0, atol=1e-6)


def test_invalid_arch_params_and_weights_are_refused():
    with pytest.raises(ValueError):
        nr.build("gnerv", 16, 16, "420", (2, 16, 16, 8, 8))  # up_mode 2
    net = nr.build("hinerv", 16, 16, "420", (1, 1, 0, 0, 4, 4))
    with pytest.raises(ValueError):
        net.load_arrays([np.zeros(3, np.float32)])
    with pytest.raises(RuntimeError):
        net(np.zeros(1, np.float32))


def test_large_conv_is_built_in_blocks(monkeypatch):
    """The im2col buffer is bounded: a tiny budget (blocks of rows) gives the same numbers."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 7, 9, 3)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    wmat, bias = nr._conv_matrix(w, b)
    whole = nr._conv3x3(x, wmat, bias)
    monkeypatch.setattr(nr, "COLS_BUDGET", 9 * 3 * 9 * 2)  # two rows at a time
    np.testing.assert_array_equal(nr._conv3x3(x, wmat, bias), whole)
    five = np.concatenate([x, x[:1] * 2, x * 3])
    monkeypatch.setattr(nr, "COLS_BUDGET", 1 << 22)
    whole5 = nr._conv3x3(five, wmat, bias)
    monkeypatch.setattr(nr, "COLS_BUDGET", 2 * 7 * 9 * 9 * 3)  # two frames at a time
    np.testing.assert_array_equal(nr._conv3x3(five, wmat, bias), whole5)
    ref = torch.nn.functional.conv2d(torch.from_numpy(x.transpose(0, 3, 1, 2)), torch.from_numpy(w),
                                     torch.from_numpy(b), padding=1).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(whole, ref, rtol=0, atol=1e-4)


@pytest.mark.parametrize("arch,params", [CASES[0], CASES[3], CASES[6]])
def test_threaded_blocks_and_gelu_modes(monkeypatch, arch, params):
    """The convs' blocks on threads give the same numbers; the binary32 GELU stays close to the FMA one."""
    width, height = 70, 52
    model = ARCHITECTURES.get(arch)(width, height, "420", params)
    weights = _random_weights(model, np.random.default_rng(7))
    t = np.array([0.0, 0.3, 0.6], np.float32)
    monkeypatch.setattr(nr, "COLS_BUDGET", 5000)  # many blocks
    one = nr.build(arch, width, height, "420", params, weights)(t)
    monkeypatch.setattr(nr, "CONV_THREADS", 3)
    for a, b in zip(nr.build(arch, width, height, "420", params, weights)(t), one):
        np.testing.assert_array_equal(a, b)
    monkeypatch.setattr(nr, "GELU_FMA", not nr.GELU_FMA)
    for a, b in zip(nr.build(arch, width, height, "420", params, weights)(t), one):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


def test_fast_gelu_is_close_to_exact_erf(monkeypatch):
    import math
    monkeypatch.setattr(nr, "GELU_FMA", False)
    x = np.concatenate([np.linspace(-12, 12, 40001, dtype=np.float32), np.array([0.0, -0.0, 1e-30, -1e-30], np.float32)])
    exact = np.array([float(v) * 0.5 * (1 + math.erf(float(v) / math.sqrt(2))) for v in x])
    got = nr._gelu_inplace(x.copy(), [np.empty(x.size, np.float32) for _ in range(3)])
    assert np.abs(got - exact).max() <= 2e-6
    assert np.abs(got - nr.gelu(x)).max() <= 1e-6


@pytest.mark.parametrize("bit_depth", [8, 10, 12])
def test_to_samples_and_add_layer_match_render(bit_depth):
    rng = np.random.default_rng(bit_depth)
    peak = (1 << bit_depth) - 1
    # half-way values between codes (round half to even), the clamp, and random values
    ties = (np.arange(0, peak) + 0.5).astype(np.float32) / np.float32(peak)
    v = np.concatenate([ties, rng.uniform(-0.2, 1.2, 5000).astype(np.float32),
                        np.array([0.0, 1.0, -0.0, 1e-9, 1 - 1e-7], np.float32)])
    got = nr.to_samples(v, bit_depth)
    ref = torch_to_samples(torch.from_numpy(v), bit_depth)
    assert got.dtype == ref.dtype
    np.testing.assert_array_equal(got, ref)
    a = [rng.uniform(0, 1, (2, 3, 4)).astype(np.float32) for _ in range(3)]
    r = [rng.uniform(-1, 1, (2, 3, 4)).astype(np.float32) for _ in range(3)]
    for scale in (1.0, 3.0, 16.0, 1000.0):
        for g, e in zip(nr.add_layer(a, r, scale),
                        torch_add_layer([torch.from_numpy(x) for x in a], [torch.from_numpy(x) for x in r], scale)):
            np.testing.assert_array_equal(g, e.numpy())


def test_gelu_is_close_to_exact_erf():
    import math
    x = np.linspace(-9, 9, 20001, dtype=np.float32)
    exact = np.array([float(v) * 0.5 * (1 + math.erf(float(v) / math.sqrt(2))) for v in x])
    assert np.abs(nr.gelu(x) - exact).max() <= 2e-6


def test_imports_without_torch():
    code = ("import sys; sys.modules['torch'] = None; import inrcodec.decode.numpy_render as m; "
            "assert not any(k == 'torch' or k.startswith('torch.') for k, v in sys.modules.items() if v is not None); "
            "print(m.ARCHITECTURES.names())")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['gnerv', 'hinerv', 'nirvana']"
