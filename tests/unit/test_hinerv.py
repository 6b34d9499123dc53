"""The hinerv architecture (spec/models.md §2c): its forward pass against a numpy implementation written
from the spec's text, its temporal interpolation, its initialisation and its options."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from inrcodec.decode.init import init_arrays
from inrcodec.models import ARCHITECTURES
from inrcodec.models.ops import temporal_lerp

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _lerp(grid: np.ndarray, t: float) -> np.ndarray:
    n = grid.shape[0]
    p = min(max(np.float32(t) * np.float32(n) - np.float32(0.5), 0.0), n - 1)
    i0 = int(math.floor(p))
    i1 = min(i0 + 1, n - 1)
    f = np.float32(p - i0)
    return grid[i0] * (np.float32(1) - f) + grid[i1] * f


def _up2(x: np.ndarray) -> np.ndarray:
    """Bilinear x2 with half-pixel centres and edge clamping, on [C, h, w]."""
    def axis(n):
        src = np.maximum(np.arange(2 * n) / 2 - 0.25, 0.0)
        i0 = np.floor(src).astype(int)
        return i0, np.minimum(i0 + 1, n - 1), src - i0
    y0, y1, wy = axis(x.shape[1])
    x0, x1, wx = axis(x.shape[2])
    rows = x[:, y0] * (1 - wy)[None, :, None] + x[:, y1] * wy[None, :, None]
    return rows[:, :, x0] * (1 - wx) + rows[:, :, x1] * wx


def _conv3(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    c, h, wd = x.shape
    pad = np.zeros((c, h + 2, wd + 2))
    pad[:, 1:-1, 1:-1] = x
    out = np.zeros((w.shape[0], h, wd)) + b[:, None, None]
    for dy in range(3):
        for dx in range(3):
            out += np.einsum("oi,ihw->ohw", w[:, :, dy, dx], pad[:, dy:dy + h, dx:dx + wd])
    return out


def _gelu(x):
    return x * 0.5 * (1 + _erf(x / math.sqrt(2)))


def _shuffle(x: np.ndarray) -> np.ndarray:
    """PixelShuffle by 2 on [4c, h, w]: channel c, position (2y+dy, 2x+dx) takes channel 4c + 2dy + dx."""
    c4, h, w = x.shape
    return x.reshape(c4 // 4, 2, 2, h, w).transpose(0, 3, 1, 4, 2).reshape(c4 // 4, 2 * h, 2 * w)


def spec_forward(model, t: float) -> list[np.ndarray]:
    """spec/models.md §2c, steps 1-3, in float64 on the model's weights."""
    p = {k: v.detach().double().numpy() for k, v in model.named_parameters()}
    x = sum(_lerp(p[f"grids.{level}"], t) for level in range(model.levels))
    for j in range(model.n_stages):
        x = _up2(x)
        if model.local_t:
            tile = _lerp(p[f"local.{j}"], t)
            x = x + np.tile(tile, (1, x.shape[1] // 2, x.shape[2] // 2))
        if model.mod_t:
            s, m = np.split(_lerp(p[f"mod.{j}"], t), 2)
            x = x * (1 + s[:, None, None]) + m[:, None, None]
        x = _gelu(_conv3(x, p[f"convs.{j}.weight"], p[f"convs.{j}.bias"]))
    y = _shuffle(_conv3(x, p["head_y.weight"], p["head_y.bias"]))[0, : model.height, : model.width] + 0.5
    c = _conv3(x, p["head_c.weight"], p["head_c.bias"])
    if model.chroma == "444":
        c = _shuffle(c)
        ch, cw = model.height, model.width
    else:
        ch, cw = -(-model.height // 2), -(-model.width // 2)
    return [y, c[0, :ch, :cw] + 0.5, c[1, :ch, :cw] + 0.5]


def _random_model(w, h, chroma, params, seed=3):
    model = ARCHITECTURES.get("hinerv")(w, h, chroma, params)
    rng = np.random.default_rng(seed)
    model.load_arrays([rng.uniform(-0.6, 0.6, s.shape).astype(np.float32) for s in model.tensor_specs()])
    return model


@pytest.mark.parametrize("w,h,chroma,params", [
    (37, 29, "420", (2, 2, 2, 3, 6, 8, 4)),
    (24, 16, "444", (1, 3, 0, 5, 4, 6, 5)),
    (19, 11, "420", (3, 1, 1, 0, 5, 4)),
])
@pytest.mark.parametrize("t", [0.0, 0.1, 0.5, 0.95])
def test_forward_is_the_specs_arithmetic(w, h, chroma, params, t):
    model = _random_model(w, h, chroma, params)
    with torch.no_grad():
        got = [p[0].double().numpy() for p in model(torch.tensor([t], dtype=torch.float32))]
    want = spec_forward(model, t)
    assert [g.shape for g in got] == [x.shape for x in want]
    for g, x in zip(got, want):
        np.testing.assert_allclose(g, x, atol=2e-4)


def test_lerp_takes_nodes_at_their_centres_blends_between_and_clamps_outside():
    grid = torch.tensor([[1.0], [3.0], [7.0], [15.0]])  # 4 nodes at t = 1/8, 3/8, 5/8, 7/8
    t = torch.tensor([0.0, 0.125, 0.25, 0.375, 0.5, 0.875, 0.99])
    got = temporal_lerp(grid, t)[:, 0].tolist()
    assert got == pytest.approx([1.0, 1.0, 2.0, 3.0, 5.0, 15.0, 15.0])
    assert temporal_lerp(grid[:1], t)[:, 0].tolist() == [1.0] * 7  # one node: static


def test_only_the_coarsest_level_is_drawn_and_the_finer_grids_start_at_zero():
    model = ARCHITECTURES.get("hinerv")(48, 32, "420", (2, 3, 2, 4, 6, 8, 4))
    specs = {s.name: s for s in model.tensor_specs()}
    assert specs["grids.0"].init_bound == 1.0 and specs["grids.0"].shape == (2, 6, 4, 6)
    assert [specs[f"grids.{level}"].shape[0] for level in range(3)] == [2, 4, 8]
    assert all(specs[n].init_bound == 0.0 for n in ("grids.1", "grids.2", "local.0", "local.1", "mod.0", "mod.1"))
    arrays = init_arrays(model.tensor_specs(), 7)
    model.load_arrays(arrays)
    with torch.no_grad():
        a, b = model(torch.tensor([0.1, 0.6]))[0]
    assert not torch.equal(a, b)  # grids.0's two nodes differ
    # one coarse node and zero finer grids: every frame is the same until training moves them
    static = ARCHITECTURES.get("hinerv")(48, 32, "420", (1, 3, 2, 4, 6, 8, 4))
    static.load_arrays(init_arrays(static.tensor_specs(), 7))
    with torch.no_grad():
        a, b = static(torch.tensor([0.1, 0.6]))[0]
    assert torch.equal(a, b)


def test_wire_order_lists_every_parameter_once():
    model = ARCHITECTURES.get("hinerv")(48, 32, "444", (1, 2, 2, 4, 6, 8, 4))
    names = [s.name for s in model.tensor_specs()]
    assert sorted(names) == sorted(n for n, _ in model.named_parameters())
    assert names[:4] == ["grids.0", "grids.1", "local.0", "mod.0"]


def test_options_replace_channels_and_grid_nodes():
    cls = ARCHITECTURES.get("hinerv")
    base = cls.from_quality(4)
    assert cls.from_quality(4, channels=(5, 6, 7)) == base[:4] + (5, 6, 7)
    assert cls.from_quality(4, grid_t=(3, 1)) == (3, 1) + base[2:]
    assert cls.from_quality(4, grid_t=(3, 1, 2, 8)) == (3, 1, 2, 8) + base[4:]
    with pytest.raises(ValueError, match="grid-t"):
        cls.from_quality(4, grid_t=(3,))


def test_every_quality_is_valid_and_grows():
    cls = ARCHITECTURES.get("hinerv")
    sizes = [sum(s.numel for s in cls(176, 144, "420", cls.from_quality(q)).tensor_specs()) for q in range(1, 10)]
    assert sizes == sorted(sizes) and len(set(sizes)) == 9
