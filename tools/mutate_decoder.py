"""Mutation test of the conformance suite (issue 30): can the golden streams tell a wrong decoder?

Each mutation below is a plausible misreading of spec/models.md or spec/entropy-coding.md that an
independent implementer could make — a transposed tile, a swapped order of operations, an
off-by-one interpolation, another rounding, a wrong residual base, a wrong channel order — applied
to the reference numpy backend by patching one function (nothing is written to disk). The tool
decodes every golden stream with each mutation and judges the frames by spec/conformance.md's
rules 2 and 3 (MD5, or within ``max_abs_diff`` with at most 1 in 1000 samples differing).
A mutation is *caught* when at least one stream fails; the suite is sensitive enough when every
mutation is caught.

Usage: python tools/mutate_decoder.py [--only NAME ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
from dataclasses import replace
from typing import Callable
from unittest import mock

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from inrcodec.archs.program import Op  # noqa: E402
from inrcodec.decode import decoder as dec_mod  # noqa: E402
from inrcodec.decode import model_io, weights  # noqa: E402
from inrcodec.decode import numpy_render as nr  # noqa: E402

SUITE = os.path.join(REPO, "tests", "conformance")
F32 = np.float32

Patch = tuple[object, str, object]


# -- the misreadings ---------------------------------------------------------------------------

def _fourier_swapped(t, base, levels):
    out = nr.__dict__["_fourier_orig"](t, base, levels)
    return out.reshape(t.shape[0], levels, 2)[..., ::-1].reshape(t.shape[0], -1).copy()


def _fourier_no_pi(t, base, levels):
    c = np.array([base ** level for level in range(levels)], np.float64).astype(F32)
    ang = np.multiply(t[:, None], c[None, :], dtype=F32)
    return np.stack([nr._sin32(ang), nr._cos32(ang)], axis=-1).reshape(t.shape[0], -1)


def _fourier_from_one(t, base, levels):
    c = np.array([base ** (level + 1) for level in range(levels)], np.float64).astype(F32)
    ang = np.multiply(t[:, None], np.multiply(c, F32(math.pi), dtype=F32)[None, :], dtype=F32)
    return np.stack([nr._sin32(ang), nr._cos32(ang)], axis=-1).reshape(t.shape[0], -1)


def _sinusoid_variant(cos_first=False, half_exponent=False):
    def fn(t, scale, base, dim):
        i = np.arange(dim // 2, dtype=F32)
        expo = np.divide(i if half_exponent else F32(2) * i, F32(dim), dtype=F32)
        d = np.power(base, expo.astype(np.float64)).astype(F32)
        ang = np.divide(np.multiply(F32(scale), t, dtype=F32)[:, None], d[None, :], dtype=F32)
        out = np.zeros((t.shape[0], dim), F32)
        first, second = (nr._cos32, nr._sin32) if cos_first else (nr._sin32, nr._cos32)
        out[:, 0:2 * (dim // 2):2] = first(ang)
        out[:, 1:2 * (dim // 2):2] = second(ang)
        return out
    return fn


def _centroids_variant(swap_xy=False, no_half=False):
    def fn(grid_h, grid_w, patch, height, width):
        half = F32(0.0) if no_half else F32(0.5)
        ys = np.divide((np.arange(grid_h, dtype=F32) + half) * F32(patch), F32(height), dtype=F32)
        xs = np.divide((np.arange(grid_w, dtype=F32) + half) * F32(patch), F32(width), dtype=F32)
        yy, xx = np.meshgrid(ys * F32(2) - F32(1), xs * F32(2) - F32(1), indexing="ij")
        pair = [yy.ravel(), xx.ravel()] if swap_xy else [xx.ravel(), yy.ravel()]
        return np.stack(pair, axis=1).astype(F32)
    return fn


def _gelu_tanh(x):
    x = np.asarray(x, F32).astype(np.float64)
    return (0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))).astype(F32)


def _silu(x):
    x = np.asarray(x, F32).astype(np.float64)
    return (x / (1 + np.exp(-x))).astype(F32)


def _up2_align_corners(x):
    def along(a, axis):
        n = a.shape[axis]
        pos = np.linspace(0, n - 1, 2 * n) if n > 1 else np.zeros(2 * n)
        i0 = np.floor(pos).astype(int)
        i1 = np.minimum(i0 + 1, n - 1)
        w = (pos - i0).astype(F32)
        shape = [1] * a.ndim
        shape[axis] = -1
        w = w.reshape(shape)
        return (np.take(a, i0, axis) * (1 - w) + np.take(a, i1, axis) * w).astype(F32)
    return along(along(x, 2), 1)


def _up2_nearest(x):
    return np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)


def _up2_sep_zero(x, axis):
    out = nr._up2_sep(x, axis)
    n = x.shape[axis]
    first, last = [slice(None)] * x.ndim, [slice(None)] * x.ndim
    first[axis], last[axis] = slice(0, 1), slice(2 * n - 1, 2 * n)
    src_first, src_last = list(first), [slice(None)] * x.ndim
    src_last[axis] = slice(n - 1, n)
    out[tuple(first)] = np.multiply(x[tuple(src_first)], F32(0.75), dtype=F32)
    out[tuple(last)] = np.multiply(x[tuple(src_last)], F32(0.75), dtype=F32)
    return out


def _up2_zero_edges(x):
    return _up2_sep_zero(_up2_sep_zero(x, 2), 1)


def _instance_norm_variant(eps=1e-5, ddof=0):
    def fn(x):
        n, h, w, c = x.shape
        x64 = x.reshape(n, h * w, c).astype(np.float64)
        mean = x64.mean(axis=1)
        var = ((x64 - mean[:, None, :]) ** 2).sum(axis=1) / (h * w - ddof)
        alpha = (1.0 / np.sqrt(var + eps)).astype(F32)
        beta = -np.multiply(mean.astype(F32), alpha, dtype=F32)
        return (np.multiply(x, alpha[:, None, None, :], dtype=F32) + beta[:, None, None, :]).astype(F32)
    return fn


def _shift_no_one(x, s, m):
    return (np.multiply(x, s[:, None, None, :], dtype=F32) + m[:, None, None, :]).astype(F32)


def _shift_halves_swapped(x, s, m):
    return nr.__dict__["_shift_orig"](x, m, s)


def _lerp_variant(mode):
    def fn(grid, t):
        n = grid.shape[0]
        if mode == "no_half":
            p = np.multiply(t, F32(n), dtype=F32)
        elif mode == "corners":
            p = np.multiply(t, F32(n - 1), dtype=F32)
        else:
            p = np.subtract(np.multiply(t, F32(n), dtype=F32), F32(0.5), dtype=F32)
        p = np.clip(p, F32(0.0), F32(n - 1))
        i0f = np.floor(p)
        f = np.subtract(p, i0f, dtype=F32).reshape(-1, *([1] * (grid.ndim - 1)))
        if mode == "nearest":
            f = np.zeros_like(f)
        i0 = i0f.astype(np.int64)
        i1 = np.minimum(i0 + 1, n - 1)
        a = np.multiply(grid[i0], np.subtract(F32(1.0), f, dtype=F32), dtype=F32)
        a += np.multiply(grid[i1], f, dtype=F32)
        return a
    return fn


def _add_tiled_transposed(x, loc):
    return nr.__dict__["_add_tiled_orig"](x, np.ascontiguousarray(loc.transpose(0, 2, 1, 3)))


def _unpatch_column_major(x, grid_h, grid_w):
    n, h, w, k = x.shape
    b = n // (grid_h * grid_w)
    return x.reshape(b, grid_w, grid_h, h, w, k).transpose(0, 2, 3, 1, 4, 5).reshape(b, grid_h * h, grid_w * w, k)


def _pixel_shuffle_dx_first(y):
    n, h, w, c4 = y.shape
    c = c4 // 4
    return y.reshape(n, h, w, 2, 2, c).transpose(0, 1, 4, 2, 3, 5).reshape(n, 2 * h, 2 * w, c)


def _shuffle_order_channel_last(c_out):
    return np.array([dy * 2 * c_out + dx * c_out + c for dy in range(2) for dx in range(2) for c in range(c_out)])


def _conv_matrix_flipped(weight, bias, order=None):
    return nr.__dict__["_conv_matrix_orig"](np.ascontiguousarray(np.asarray(weight)[..., ::-1, ::-1]), bias, order)


def _conv_matrix_io_swapped(weight, bias, order=None):
    w = np.asarray(weight)
    if w.shape[0] == w.shape[1]:
        w = np.ascontiguousarray(w.transpose(1, 0, 2, 3))
    return nr.__dict__["_conv_matrix_orig"](w, bias, order)


def _linear_no_bias(x, weight, bias):
    return np.matmul(x, weight.T).astype(F32)


def _to_samples_variant(mode):
    def fn(x, bit_depth=8):
        peak = F32((1 << bit_depth) - 1)
        v = np.clip(np.nan_to_num(np.asarray(x, F32)), F32(0), F32(1))
        if mode == "peak_pow2":
            v = np.minimum(v * F32(1 << bit_depth), peak)
            v = np.rint(v)
        elif mode == "truncate":
            v = np.floor(v * peak)
        elif mode == "half_up":
            v = np.floor(v * peak + F32(0.5))
        return v.astype(np.uint8 if bit_depth <= 8 else np.uint16)
    return fn


def _add_layer_multiply(planes, residual, scale):
    s = F32(scale)
    return [np.add(a, np.multiply(b, s, dtype=F32), dtype=F32) for a, b in zip(planes, residual)]


def _planes_variant(mode):
    def fn(self, heads, row0=0):
        y, u, v = nr.NumpyNetwork.__dict__["_planes_orig"](self, heads, row0)
        if mode == "uv_swapped":
            return [y, v, u]
        if mode == "no_offset":
            off = self.output_offset
            return [np.subtract(p, off, dtype=F32) for p in (y, u, v)]
        if mode == "crop_bottom_right":
            full = nr._pixel_shuffle(heads[..., :4])[..., 0]
            y2 = full[:, full.shape[1] - y.shape[1]:, full.shape[2] - y.shape[2]:]
            return [np.add(y2, self.output_offset, dtype=F32), u, v]
        raise ValueError(mode)
    return fn


def _modulate_before_local(self, *args, **kwargs):
    """hinerv §2c step 2 read as: modulation, then the local grid (the issue's second misreading)."""
    nr.NumpyNetwork.__dict__["_init_orig"](self, *args, **kwargs)
    ops, out, pending = self._frame_ops, [], {}
    for op in ops:
        if op.kind == "add_tiled":
            pending[op.out] = op
            continue
        if op.kind == "modulate" and op.args[0] in pending:
            tiled = pending.pop(op.args[0])
            x, loc = tiled.args
            out.append(Op("modulate", tiled.out + "~m", (x, op.args[1]), dict(op.attrs)))
            out.append(Op("add_tiled", op.out, (tiled.out + "~m", loc), dict(tiled.attrs)))
            continue
        for name, tiled in list(pending.items()):  # an add_tiled with no modulation after it
            if name in op.args:
                out.append(tiled)
                del pending[name]
        out.append(op)
    self._frame_ops = out + list(pending.values())


def _batch_frames_variant(mode):
    def fn(self, gop_index, offset):
        first = offset - offset % self._batch
        self._cache = None
        self._load(gop_index)
        start, n = self.header.gop_range(gop_index)
        idx = np.arange(first, min(n, first + self._batch), dtype=np.float32)
        if mode == "gop_length":  # divide by the GOP's own length (a short last GOP)
            t_pos = np.divide(idx, np.float32(n), dtype=np.float32)
        elif mode == "centre":
            t_pos = np.divide(idx + np.float32(0.5), np.float32(self.header.gop_size), dtype=np.float32)
        elif mode == "last_is_one":
            t_pos = np.divide(idx, np.float32(max(1, self.header.gop_size - 1)), dtype=np.float32)
        else:
            raise ValueError(mode)
        frames = self._synth.render(t_pos, self.header.bit_depth)
        self._cache = (gop_index, first, frames)
        return first, frames
    return fn


def _step_toward_zero(code):
    octave = int(code / 16)
    frac = code - 16 * octave
    return math.ldexp(16 + frac, octave - 4)


def _p_reference_variant(mode):
    def fn(theta_init, previous, eps_code, keep=None):
        if mode == "eps_swapped":
            return model_io.__dict__["_p_reference_orig"](previous, theta_init, eps_code, keep)
        if mode == "previous_only":
            return [np.asarray(p, F32) for p in previous]
        if mode == "eps_255":
            eps, rest = F32(eps_code / 255.0), F32((255 - min(eps_code, 255)) / 255.0)
            mixed = [np.add(np.multiply(eps, a, dtype=F32), np.multiply(rest, b, dtype=F32), dtype=F32)
                     for a, b in zip(theta_init, previous)]
            return mixed if keep is None else [b if k else m for m, b, k in zip(mixed, previous, keep)]
        raise ValueError(mode)
    return fn


def _init_half_range(specs, seed):
    out = model_io.__dict__["_init_arrays_orig"](specs, seed)
    return [((a + F32(s.init_bound)) / F32(2)).astype(F32) if s.init_bound else a for a, s in zip(out, specs)]


def _symbols_interleaved(data, specs, bounds):
    u = np.frombuffer(data, "<u2").astype(np.int32)
    return weights._split(np.where(u % 2 == 0, u // 2, -(u + 1) // 2).astype(np.int32), specs)


def _symbols_zigzag_off(data, specs, bounds):
    u = weights._unshuffle(data, "<u2").astype(np.int32)
    return weights._split(np.where(u % 2 == 0, u // 2, -(u // 2)).astype(np.int32), specs)


def _keep(module, name):
    """Patches that also keep the original under ``_<name>_orig`` for a wrapper to call."""
    target = module.__dict__ if isinstance(module, type) else vars(module)
    return (module, f"_{name.strip('_')}_orig", target[name])


def patch(module, name, value, *extra) -> list[Patch]:
    return [_keep(module, name), (module, name, value), *extra]


MUTATIONS: dict[str, tuple[str, Callable[[], list[Patch]]]] = {
    "fourier_cos_first": ("gnerv §2 step 1: cos before sin in each pair", lambda: patch(nr, "_fourier", _fourier_swapped)),
    "fourier_no_pi": ("gnerv §2 step 1: frequencies base^l without π", lambda: [(nr, "_fourier", _fourier_no_pi)]),
    "fourier_from_l1": ("gnerv §2 step 1: levels l = 1 … L instead of 0 … L−1", lambda: [(nr, "_fourier", _fourier_from_one)]),
    "sinusoid_cos_first": ("nirvana §2b step 3: cos in even places", lambda: [(nr, "_sinusoid", _sinusoid_variant(cos_first=True))]),
    "sinusoid_exponent": ("nirvana §2b step 3: divisor base^(i/dim) instead of base^(2i/dim)",
                          lambda: [(nr, "_sinusoid", _sinusoid_variant(half_exponent=True))]),
    "centroids_yx": ("nirvana §2b step 1: centroids as (y, x)", lambda: [(nr, "_centroids", _centroids_variant(swap_xy=True))]),
    "centroids_corner": ("nirvana §2b step 1: patch corners instead of centres (no +½)",
                         lambda: [(nr, "_centroids", _centroids_variant(no_half=True))]),
    "gelu_tanh": ("§1b.5: GELU's tanh approximation", lambda: [(nr, "GELU_FMA", True), (nr, "gelu", _gelu_tanh)]),
    "gelu_silu": ("§1b.5: SiLU for GELU", lambda: [(nr, "GELU_FMA", True), (nr, "gelu", _silu)]),
    "linear_no_bias": ("§1b.2: Linear without its bias", lambda: [(nr, "_linear", _linear_no_bias)]),
    "up2_align_corners": ("§1b.6: bilinear ×2 with aligned corners", lambda: [(nr, "_up2", _up2_align_corners)]),
    "up2_nearest": ("§1b.6: nearest-neighbour ×2", lambda: [(nr, "_up2", _up2_nearest)]),
    "up2_rows_first": ("§1b.6: rows interpolated before columns",
                       lambda: [(nr, "_up2", lambda x: nr._up2_sep(nr._up2_sep(x, 1), 2))]),
    "up2_zero_edges": ("§1b.6: zero padding at the edges instead of clamping", lambda: [(nr, "_up2", _up2_zero_edges)]),
    "norm_eps_1e-3": ("§1b.7: instance norm ε = 1e-3", lambda: [(nr, "_instance_norm", _instance_norm_variant(eps=1e-3))]),
    "norm_unbiased": ("§1b.7: unbiased variance (n − 1)", lambda: [(nr, "_instance_norm", _instance_norm_variant(ddof=1))]),
    "shift_no_one": ("§1b.9: x·s + m instead of x·(1 + s) + m", lambda: [(nr, "_shift", _shift_no_one)]),
    "shift_halves_swapped": ("§1b.9 / §2c: (m, s) read in the other order", lambda: patch(nr, "_shift", _shift_halves_swapped)),
    "lerp_no_half": ("§2c lerp: p = t·N (nodes at k/N)", lambda: [(nr, "_lerp", _lerp_variant("no_half"))]),
    "lerp_corners": ("§2c lerp: p = t·(N − 1)", lambda: [(nr, "_lerp", _lerp_variant("corners"))]),
    "lerp_nearest": ("§2c lerp: the lower node only", lambda: [(nr, "_lerp", _lerp_variant("nearest"))]),
    "local_tile_transposed": ("§2c step 2: local grid tile (x mod 2, y mod 2)", lambda: patch(nr, "_add_tiled", _add_tiled_transposed)),
    "modulate_before_local": ("§2c step 2: modulation before the local grid",
                              lambda: patch(nr.NumpyNetwork, "__init__", _modulate_before_local)),
    "unpatch_column_major": ("nirvana §2b step 5: patches placed column by column", lambda: [(nr, "_unpatch", _unpatch_column_major)]),
    "pixel_shuffle_dx_dy": ("§1b.4: PixelShuffle channel 4c + 2dx + dy", lambda: [(nr, "_pixel_shuffle", _pixel_shuffle_dx_first)]),
    "shuffle_channel_major": ("§1b.4: PixelShuffle channel c + C·(2dy + dx)", lambda: [(nr, "_shuffle_order", _shuffle_order_channel_last)]),
    "conv_flipped": ("§1b.3: true convolution (kernel flipped) for cross-correlation", lambda: patch(nr, "_conv_matrix", _conv_matrix_flipped)),
    "conv_in_out_swapped": ("§1b.3: weight read [in, out, 3, 3]", lambda: patch(nr, "_conv_matrix", _conv_matrix_io_swapped)),
    "chroma_uv_swapped": ("§1b.8: head_c channels (V, U)", lambda: patch(nr.NumpyNetwork, "planes", _planes_variant("uv_swapped"))),
    "no_output_offset": ("§1b.8: the + 0.5 left out", lambda: patch(nr.NumpyNetwork, "planes", _planes_variant("no_offset"))),
    "crop_bottom_right": ("§1b.8: luma cropped from the bottom-right", lambda: patch(nr.NumpyNetwork, "planes", _planes_variant("crop_bottom_right"))),
    "round_peak_2^D": ("§7: v·2^D (clamped) instead of v·(2^D − 1)", lambda: [(nr, "to_samples", _to_samples_variant("peak_pow2"))]),
    "round_truncate": ("§7: truncation instead of rounding", lambda: [(nr, "to_samples", _to_samples_variant("truncate"))]),
    "round_half_up": ("§7: ties rounded up instead of to even", lambda: [(nr, "to_samples", _to_samples_variant("half_up"))]),
    "layer_times_scale": ("§8: residual × residual_scale instead of ÷", lambda: [(nr, "add_layer", _add_layer_multiply)]),
    "time_gop_length": ("§1b.1: t = i / (the GOP's own length)", lambda: [(dec_mod.InrFile, "_batch_frames", _batch_frames_variant("gop_length"))]),
    "time_centre": ("§1b.1: t = (i + ½) / gop_size", lambda: [(dec_mod.InrFile, "_batch_frames", _batch_frames_variant("centre"))]),
    "time_last_is_one": ("§1b.1: t = i / (gop_size − 1)", lambda: [(dec_mod.InrFile, "_batch_frames", _batch_frames_variant("last_is_one"))]),
    "step_toward_zero": ("§4: ⌊s/16⌋ and s mod 16 rounded toward zero", lambda: [(weights, "step_from_code", _step_toward_zero)]),
    "p_eps_swapped": ("§6: ε weighting the previous model instead of θ₀", lambda: patch(model_io, "p_reference", _p_reference_variant("eps_swapped"))),
    "p_base_previous": ("§6: P-model residual added to the previous model (no θ₀)", lambda: [(model_io, "p_reference", _p_reference_variant("previous_only"))]),
    "p_eps_over_255": ("§6: ε = eps_code / 255", lambda: [(model_io, "p_reference", _p_reference_variant("eps_255"))]),
    "theta0_half_range": ("§5: θ₀ uniform on [0, b) instead of (−b, b)", lambda: patch(model_io, "init_arrays", _init_half_range)),
    "blob_interleaved": ("§3b: tag-2 symbols read as interleaved uint16 (no byte planes)", lambda: [(weights, "unpack_symbol_blob", _symbols_interleaved)]),
    "blob_zigzag_off": ("§3b: odd u read as −u/2 (zig-zag off by one)", lambda: [(weights, "unpack_symbol_blob", _symbols_zigzag_off)]),
}


# Variants that change roundings only — an order of exact-in-real-arithmetic operations, or which
# way an exact tie goes — where spec/conformance.md's ±1 rule is meant to let decoders differ: run
# and reported, but a survivor among them is not a hole in the suite.
ROUNDING_ONLY = frozenset({"up2_rows_first", "round_half_up"})


@contextlib.contextmanager
def applied(patches: list[Patch]):
    with contextlib.ExitStack() as stack:
        for target, name, value in patches:
            stack.enter_context(mock.patch.object(target, name, value, create=True))
        yield


def judge(feature: str, suite: str = SUITE) -> dict:
    """Decode one golden stream with the numpy backend; how it compares with rules 2 and 3."""
    from inrcodec.api import open as open_inr
    from make_conformance import MAX_DIFFERING_SHARE, frame_md5

    folder = os.path.join(suite, feature)
    with open(os.path.join(folder, "expected.json")) as f:
        expected = json.load(f)
    ref = np.load(os.path.join(folder, expected["frame_planes"]))
    try:
        with open_inr(os.path.join(folder, "stream.inr"), backend="numpy") as f:
            frames = [tuple(np.asarray(p) for p in fr) for fr in f]
    except Exception as err:  # a misreading may crash: that fails the stream too
        return {"passed": False, "why": f"{type(err).__name__}: {str(err)[:80]}"}
    if len(frames) != expected["n_frames"]:
        return {"passed": False, "why": f"{len(frames)} frames"}
    differing = total = worst = 0
    exact = True
    for i, fr in enumerate(frames):
        if [list(p.shape) for p in fr] != expected["plane_shapes"]:
            return {"passed": False, "why": "plane shapes"}
        exact &= frame_md5(fr) == expected["frames"][i]["md5"]
        for name, p in zip("yuv", fr):
            d = np.abs(p.astype(np.int64) - ref[f"{i}_{name}"].astype(np.int64))
            differing += int((d > 0).sum())
            total += d.size
            worst = max(worst, int(d.max()))
    within = worst <= expected["max_abs_diff"] and differing <= MAX_DIFFERING_SHARE * total
    return {"passed": exact or within, "exact": exact, "max_diff": worst, "differing": differing, "samples": total,
            "why": "" if exact else f"max {worst}, {differing}/{total} differ"}


def run(names: list[str], features: list[str], suite: str = SUITE) -> dict:
    """{mutation: {feature: judgement}} for the named mutations ("" is the unmutated decoder)."""
    out = {}
    for name in names:
        patches = MUTATIONS[name][1]() if name else []
        with applied(patches):
            out[name] = {feature: judge(feature, suite) for feature in features}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="mutations to run (default: all)")
    parser.add_argument("--json", help="write the judgements to this file")
    args = parser.parse_args(argv)
    features = sorted(d for d in os.listdir(SUITE) if d.isupper())
    base = run([""], features)[""]
    broken = [f for f, j in base.items() if not j["passed"]]
    if broken:
        print(f"the unmutated decoder fails {broken}: fix that first")
        return 2
    names = args.only or list(MUTATIONS)
    results, survivors = {}, []
    for name in names:
        t0 = time.perf_counter()
        judged = run([name], features)[name]
        results[name] = judged
        caught = [f for f, j in judged.items() if not j["passed"]]
        near = [f"{f} ({j['why']})" for f, j in judged.items() if j["passed"] and not j.get("exact", False)]
        if not caught and name not in ROUNDING_ONLY:
            survivors.append(name)
        verdict = "caught" if caught else "rounding" if name in ROUNDING_ONLY else "SURVIVED"
        print(f"{verdict:8} {name:<24} {MUTATIONS[name][0]}\n"
              f"         by {', '.join(caught) or 'no stream'}"
              + (f"; passed within the rule: {', '.join(near)}" if near else "")
              + f"  [{time.perf_counter() - t0:.1f} s]", flush=True)
    counted = [n for n in names if n not in ROUNDING_ONLY]
    print(f"{len(counted) - len(survivors)} of {len(counted)} misreadings caught "
          f"({len([n for n in names if n in ROUNDING_ONLY])} rounding-only variants not counted)"
          + (f"; survived: {', '.join(survivors)}" if survivors else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0 if not survivors else 1


if __name__ == "__main__":
    sys.exit(main())
