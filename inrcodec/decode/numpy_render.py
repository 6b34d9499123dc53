"""A synthesis path that needs no torch: every architecture's forward pass in numpy (issue 21 §2).

The decoder renders frames with the torch models of ``inrcodec.models``; this module computes the
same planes from the same float32 weights (in wire order, as ``weights.dequantize`` /
``model_io.model_weights`` produce them) with numpy alone, from the normative definitions of
spec/models.md (§1b operations, §2 gnerv, §2b nirvana, §2c hinerv, §7 output, §8 layers). Nothing
here, nor anything it imports, imports torch.

Numerics. Where the spec fixes each binary32 rounding (time encodings, distribution shift, temporal
interpolation, offsets, layers, output) this module computes exactly those values. Where it leaves
rounding open (sums of products, instance-norm statistics, sin/cos/exp/erf, bilinear Up₂) it
follows what the reference decoder (torch on CPU) does as closely as is cheap, so that most frames
come out bit-exact and every sample stays within the ±1 of spec/conformance.md:

- GELU is ATen's vectorised CPU kernel: erf by Abramowitz–Stegun 7.1.26 (absolute error ≤ 1.5e-7)
  evaluated in binary32 with fused multiply-adds (emulated here in binary64: the product of two
  binary32 values is exact there), the exponential correctly rounded;
  GELU(x) = fl32(fl32(x·½) · fl32(1 + erf(fl32(x·fl32(1/√2))))). It matches that kernel on ~99 % of
  inputs and within 2 ulp on all; torch's default GELU on x86 goes through oneDNN instead, whose
  own erf approximation agrees with neither on about a third of inputs (1–2 ulp, more in the
  negative tail, where GELU is tiny).
- sin, cos, exp and powers are computed in binary64 and rounded once to binary32.
- Up₂ is the spec's separable binary32 evaluation (columns, then rows). The reference's
  channels-last kernel sums four products with the exact weights instead (partly fused); that form,
  added left to right in binary32, is kept behind ``UP2_SEPARABLE = False``. Neither reproduces
  the reference's roundings (each matches it on ~55–60 % of random samples, within 2 ulp); on the
  golden streams the separable order gives 101 of 102 frames bit-exact, the four products 100.
- Instance normalisation: statistics in binary64, then x·α + β in binary32 with α = fl32(1/√(σ²+ε)),
  β = −fl32(fl32(μ)·α).
- conv3×3 (channels-last throughout, frames batched, in cache-sized blocks of rows): frames at least
  16 wide as three binary32 matrix products (BLAS, one per tap row, K = 3·I, on contiguous shifted
  slices of a 3× copy of the padded input) summed in binary32; narrower ones as im2col and one
  product. Bias and GELU are applied to each block while it is in cache. PixelShuffle is folded
  into the column order of the conv's weights (GELU commutes with it).
- The convolutions' GELU (``GELU_FMA = False``, the default) is the same formula in plain binary32
  operations (one more rounding where ATen fuses), in place: a few times faster than the FMA
  emulation of ``gelu`` and, on the golden streams, as many frames bit-exact (101 of 102).
- Bilinear Up₂ with strided slices (the weights are ¼ and ¾): the same roundings as the indexed form.

Speed (issue 21 §3, tools/bench_numpy_render.py). numpy's BLAS is the wheels' OpenBLAS, threaded
by OPENBLAS_NUM_THREADS (read at import; no runtime knob without threadpoolctl), while numpy's
elementwise work is single-threaded. ``CONV_THREADS = k`` runs each conv's blocks of rows (copies,
products, bias, GELU) on k threads; set OPENBLAS_NUM_THREADS=1 with it, or the two oversubscribe
the cores. On 2 cores that is 1.2–1.5× faster; gnerv at 720p then matches torch, the rest reach
0.4–0.8 of it (more below 360p, where per-call overheads dominate).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..costs import NETWORK_COSTS, NIRVANA_PATCH_BATCH
from .batch import RENDER_BATCH

__all__ = ["ARCHITECTURES", "NumpyNetwork", "RENDER_BATCH", "add_layer", "build", "forward", "gelu",
           "render_layers", "tensor_shapes", "to_samples"]

F32 = np.float32
OUTPUT_OFFSET = F32(0.5)  # spec/models.md §1b.8 (inrcodec.models.base.OUTPUT_OFFSET)
# im2col buffers above this many float32 elements are built a block of rows at a time
COLS_BUDGET = 1 << 19
CONV_TAPS_MIN_WIDTH = 16  # narrower frames: im2col (the taps' padded width would waste too much)
CONV_THREADS = 1  # threads over a conv's blocks of rows (each BLAS call then best single-threaded)
_POOL = None
GELU_FMA = False  # GELU with ATen's FMA roundings (emulated in binary64); False: plain binary32, faster
UP2_SEPARABLE = True  # spec/models.md §1b.6's separable binary32 order; False: four products, torch-like

ARCHITECTURES: dict[str, type["NumpyNetwork"]] = {}


def _register(name: str):
    def deco(cls):
        cls.name = name
        ARCHITECTURES[name] = cls
        return cls
    return deco


# -- §1b shared operations (channels-last: maps are [N, h, w, C]) -----------------------------------

# torch's Vectorized<float>::erf (ATen/cpu/vec): Abramowitz–Stegun 7.1.26 in binary32, with FMAs
_ERF_P = float(F32(0.3275911))
_ERF_A = [float(F32(v)) for v in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)]
_SQRT1_2 = F32(math.sqrt(0.5))
_ERF_P32 = F32(_ERF_P)
_ERF_A32 = [F32(v) for v in _ERF_A]
_ONE, _HALF = F32(1.0), F32(0.5)
_EXP_CLAMP = F32(80.0)


def _fma32(a: np.ndarray, b, c) -> np.ndarray:
    """fl32(a·b + c) for binary32 a, b, c: a·b is exact in binary64, so one binary64 addition and a
    rounding to binary32 give the fused multiply-add (double rounding can differ in rare ties)."""
    return (np.asarray(a, np.float64) * b + c).astype(F32)


def _erf(u: np.ndarray) -> np.ndarray:
    """erf of binary32 ``u`` as torch's CPU kernel computes it (absolute error ≤ 1.5e-7)."""
    a = np.abs(u)
    t = np.divide(F32(1.0), _fma32(a, _ERF_P, 1.0), dtype=F32)
    t64 = t.astype(np.float64)
    r = _fma32(t64, _ERF_A[0], _ERF_A[1])
    for coef in _ERF_A[2:]:
        r = _fma32(r, t64, coef)
    sq = np.multiply(u, u, dtype=F32).astype(np.float64)
    e = np.exp(-sq).astype(F32)  # torch: Sleef expf (≤ 1 ulp); here correctly rounded in practice
    tmp6 = np.multiply(-e, t, dtype=F32)
    out = _fma32(tmp6, r.astype(np.float64), 1.0)
    return np.copysign(out, u)


def gelu(x: np.ndarray) -> np.ndarray:
    """§1b.5 GELU, x·½·(1 + erf(x/√2)), in binary32 as the reference computes it."""
    x = np.asarray(x, F32)
    e = _erf(np.multiply(x, _SQRT1_2, dtype=F32))
    half = np.multiply(x, F32(0.5), dtype=F32)
    e += F32(1.0)
    return np.multiply(half, e, dtype=F32)


def _sin32(x: np.ndarray) -> np.ndarray:
    return np.sin(np.asarray(x, np.float64)).astype(F32)


def _cos32(x: np.ndarray) -> np.ndarray:
    return np.cos(np.asarray(x, np.float64)).astype(F32)


def _linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """§1b.2: x [N, in] -> [N, out]."""
    return np.add(np.matmul(x, weight.T), bias, dtype=F32)


def _conv_matrix(weight: np.ndarray, bias: np.ndarray, order: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """conv3×3 weight [O, I, 3, 3] -> [9·I, O] matching the (dy, dx, channel) columns of ``_conv3x3``;
    ``order`` permutes the output channels."""
    w = np.ascontiguousarray(np.asarray(weight, F32).transpose(2, 3, 1, 0).reshape(-1, weight.shape[0]))
    b = np.asarray(bias, F32)
    if order is not None:
        w, b = np.ascontiguousarray(w[:, order]), b[order]
    return w, b


def _shuffle_order(c_out: int) -> np.ndarray:
    """Output channel order (dy, dx, c) for a conv of 4·c_out channels followed by PixelShuffle₂
    (channel 4c + 2dy + dx goes to (2y + dy, 2x + dx) of channel c, §1b.4)."""
    return np.array([4 * c + 2 * dy + dx for dy in range(2) for dx in range(2) for c in range(c_out)])


def _gelu_inplace(x: np.ndarray, scratch: list[np.ndarray]) -> np.ndarray:
    """GELU of the binary32 block ``x`` in place, the erf-based form of ``gelu`` evaluated in binary32.

    ``GELU_FMA`` (default): the very roundings of ``gelu`` (ATen's kernel, FMAs emulated in binary64).
    Otherwise the same Abramowitz–Stegun formula in plain binary32 operations (each FMA rounded twice,
    within 1–2 ulp of it), a few times faster. ``scratch``: three flat binary32 buffers of ≥ x.size."""
    if GELU_FMA:
        x[...] = gelu(x)
        return x
    n = x.size
    u, a, r = (b[:n].reshape(x.shape) for b in scratch)
    np.multiply(x, _SQRT1_2, out=u)
    np.abs(u, out=a)
    np.multiply(a, _ERF_P32, out=a)
    a += _ONE
    t = np.divide(_ONE, a, out=a)
    np.multiply(t, _ERF_A32[0], out=r)
    for coef in _ERF_A32[1:-1]:
        r += coef
        r *= t
    r += _ERF_A32[-1]
    r *= t  # r·t, the A–S polynomial in t
    e = np.square(u, out=t)
    # exp(−80) ≈ 1.8e-35 already leaves 1 − e·r = 1: the clamp keeps subnormals (slow) out
    np.minimum(e, _EXP_CLAMP, out=e)
    np.negative(e, out=e)
    np.exp(e, out=e)
    e *= r
    np.subtract(_ONE, e, out=e)
    np.copysign(e, u, out=e)
    e += _ONE
    x *= _HALF
    x *= e
    return x


def _blocks(n: int, h: int, per_row: int) -> list[tuple[int, int, int, int]]:
    """(frame0, frame1, row0, row1) blocks whose im2col columns stay within ``COLS_BUDGET`` elements:
    whole frames when one fits, else rows of one frame."""
    if h * per_row <= COLS_BUDGET:
        frames = max(1, COLS_BUDGET // (h * per_row))
        return [(i, min(n, i + frames), 0, h) for i in range(0, n, frames)]
    rows = max(1, COLS_BUDGET // per_row)
    return [(i, i + 1, r, min(h, r + rows)) for i in range(n) for r in range(0, h, rows)]


def _conv3x3(x: np.ndarray, wmat: np.ndarray, bias: np.ndarray, act: bool = False) -> np.ndarray:
    """§1b.3, zero padding 1: x [N, h, w, I] -> [N, h, w, O], in blocks of rows sized to stay in cache
    (the output block gets its bias and, with ``act``, GELU while still in cache).

    Frames at least ``CONV_TAPS_MIN_WIDTH`` wide: the padded frames as one flat [pixels, I] array,
    outputs computed on the padded width (two discarded columns a row); the three horizontal taps of
    each pixel (3·I consecutive values) copied once, and one matrix product per tap row dy on a
    contiguous shifted slice of that copy (3× the input, where im2col writes 9×), summed in binary32.
    Narrower frames (nirvana's patches): im2col, one product with K = 9·I."""
    n, h, w, c = x.shape
    o = wmat.shape[1]
    hp, wp = h + 2, w + 2
    taps = w >= CONV_TAPS_MIN_WIDTH
    flat = np.zeros(n * hp * wp * c + 2 * c, F32)  # +2 pixels: the last row's taps read past the end
    xp = flat[:n * hp * wp * c].reshape(n, hp, wp, c)
    xp[:, 1:-1, 1:-1] = x
    out = np.empty((n, h, w, o), F32)
    blocks = _blocks(n, h, (wp * 3 * c) if taps else (w * 9 * c))
    f0, f1, r0, r1 = blocks[0]
    most = (f1 - f0) * (r1 - r0) * w if not taps else ((f1 - f0 - 1) * hp * wp + (r1 - r0 + 2) * wp)

    def run(part):
        buf = np.empty(most * (3 if taps else 9) * c, F32)
        scratch = [np.empty(most * o, F32) for _ in range(4 if act else 1)]  # [0]: result, [1:]: GELU's
        for blk in part:
            _conv_block(blk, taps, xp, flat, out, wmat, bias, act, buf, scratch)

    workers = min(CONV_THREADS, len(blocks))
    if workers > 1:
        list(_pool(workers).map(run, [blocks[i::workers] for i in range(workers)]))
    else:
        run(blocks)
    return out


def _pool(workers: int):
    global _POOL
    if _POOL is None or _POOL._max_workers < workers:
        from concurrent.futures import ThreadPoolExecutor
        _POOL = ThreadPoolExecutor(workers)
    return _POOL


def _conv_block(blk, taps, xp, flat, out, wmat, bias, act, buf, scratch) -> None:
    """One block of ``_conv3x3``'s rows."""
    f0, f1, r0, r1 = blk
    n, hp, wp, c = xp.shape
    h, w, o = hp - 2, wp - 2, wmat.shape[1]
    if True:
        nb, rb = f1 - f0, r1 - r0
        if not taps:
            cols = buf[:nb * rb * w * 9 * c].reshape(nb, rb, w, 3, 3 * c)
            for dy in range(3):
                # the three taps of a row, (dx, channel), are 3·c consecutive values of the padded row
                src = xp[f0:f1, r0 + dy:r1 + dy]
                cols[:, :, :, dy, :] = as_strided(src, (nb, rb, w, 3 * c), src.strides[:2] + (c * 4, 4))
            dst = out[f0:f1, r0:r1].reshape(-1, o)
            np.matmul(cols.reshape(-1, 9 * c), wmat, out=dst)
            dst += bias
            if act:
                _gelu_inplace(dst, scratch[1:])
            return
        start = (f0 * hp + r0) * wp  # padded pixel of the block's first output (its top-left tap)
        m = (nb - 1) * hp * wp + rb * wp  # outputs on the padded grid
        z = buf[:(m + 2 * wp) * 3 * c].reshape(m + 2 * wp, 3 * c)
        np.copyto(z, as_strided(flat[start * c:], z.shape, (c * 4, 4)))
        res = scratch[0][:m * o].reshape(m, o)
        np.matmul(z[:m], wmat[:3 * c], out=res)
        tmp = np.matmul(z[wp:wp + m], wmat[3 * c:6 * c])
        res += tmp
        np.matmul(z[2 * wp:2 * wp + m], wmat[6 * c:], out=tmp)
        res += tmp
        res += bias
        if act:
            _gelu_inplace(res, scratch[1:])
        for i in range(nb):
            out[f0 + i, r0:r1] = res[i * hp * wp:i * hp * wp + rb * wp].reshape(rb, wp, o)[:, :w]


def _pixel_shuffle(y: np.ndarray) -> np.ndarray:
    """[N, h, w, 4·C] in (dy, dx, c) channel order -> [N, 2h, 2w, C]."""
    n, h, w, c4 = y.shape
    c = c4 // 4
    return y.reshape(n, h, w, 2, 2, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, 2 * h, 2 * w, c)


def _up2_axis(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """§1b.6 along one axis of n samples: (i0, i1, w) of each output index 0 … 2n−1."""
    o = np.arange(2 * n)
    s = np.maximum(0.0, (o + 0.5) / 2 - 0.5)
    i0 = np.minimum(np.floor(s).astype(np.int64), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    return i0, i1, (s - i0).astype(F32)


def _up2_sep(x: np.ndarray, axis: int) -> np.ndarray:
    """§1b.6 along ``axis`` (1: rows, 2: columns) by strided slices, fl32(fl32(x[i0]·(1−w)) + fl32(x[i1]·w))
    with the weights of ``_up2_axis``: output 2i (i ≥ 1) is x[i−1]·¼ + x[i]·¾, output 2i+1 (i ≤ n−2)
    x[i]·¾ + x[i+1]·¼, output 0 x[0]·1 + x[min(1, n−1)]·0, output 2n−1 x[n−1]·¼ + x[n−1]·¾."""
    n = x.shape[axis]
    shape = list(x.shape)
    shape[axis] = 2 * n
    out = np.empty(shape, F32)
    tmp = np.empty(x.shape, F32)

    def sl(a, start, stop=None, step=1):
        idx = [slice(None)] * a.ndim
        idx[axis] = slice(start, stop, step)
        return a[tuple(idx)]

    q, tq = F32(0.25), F32(0.75)
    np.multiply(x, tq, out=tmp)  # x·¾, both neighbours' share
    if n > 1:
        even, odd = sl(out, 2, None, 2), sl(out, 1, 2 * n - 2, 2)
        np.multiply(sl(x, 0, n - 1), q, out=even)
        even += sl(tmp, 1)
        np.multiply(sl(x, 1), q, out=odd)
        np.add(sl(tmp, 0, n - 1), odd, out=odd)
    last = sl(out, 2 * n - 1, 2 * n)
    np.multiply(sl(x, n - 1, n), q, out=last)
    last += sl(tmp, n - 1, n)
    first = sl(out, 0, 1)
    np.multiply(sl(x, 0, 1), _ONE, out=first)
    first += np.multiply(sl(x, min(1, n - 1), min(2, n)), F32(0.0))
    return out


def _up2(x: np.ndarray) -> np.ndarray:
    """§1b.6 bilinear ×2 (half-pixel centres, edges clamped): [N, h, w, C] -> [N, 2h, 2w, C]."""
    n, h, w, c = x.shape
    r0, r1, wr = _up2_axis(h)
    c0, c1, wc = _up2_axis(w)
    if UP2_SEPARABLE:
        return _up2_sep(_up2_sep(x, 2), 1)
    # the reference's channels-last kernel: four products with the exact weights, added left to right
    wr0, wr1 = (1 - wr.astype(np.float64)), wr.astype(np.float64)
    wc0, wc1 = (1 - wc.astype(np.float64)), wc.astype(np.float64)
    rows0, rows1 = x[:, r0], x[:, r1]
    out = np.multiply(rows0[:, :, c0], (wr0[:, None] * wc0[None, :]).astype(F32)[:, :, None], dtype=F32)
    out += np.multiply(rows0[:, :, c1], (wr0[:, None] * wc1[None, :]).astype(F32)[:, :, None], dtype=F32)
    out += np.multiply(rows1[:, :, c0], (wr1[:, None] * wc0[None, :]).astype(F32)[:, :, None], dtype=F32)
    out += np.multiply(rows1[:, :, c1], (wr1[:, None] * wc1[None, :]).astype(F32)[:, :, None], dtype=F32)
    return out


def _instance_norm(x: np.ndarray) -> np.ndarray:
    """§1b.7 over each frame's channel (h·w > 1), ε = 1e-5, no affine."""
    n, h, w, c = x.shape
    x64 = x.reshape(n, h * w, c).astype(np.float64)
    mean = x64.mean(axis=1)
    var = ((x64 - mean[:, None, :]) ** 2).mean(axis=1)
    alpha = (1.0 / np.sqrt(var + 1e-5)).astype(F32)
    beta = -np.multiply(mean.astype(F32), alpha, dtype=F32)
    out = np.multiply(x, alpha[:, None, None, :], dtype=F32)
    out += beta[:, None, None, :]
    return out


def _shift(x: np.ndarray, s: np.ndarray, m: np.ndarray) -> np.ndarray:
    """§1b.9 distribution shift by per-frame, per-channel s, m [N, C]: fl32(fl32(x·fl32(1+s)) + m)."""
    one_s = np.add(F32(1.0), s, dtype=F32)
    out = np.multiply(x, one_s[:, None, None, :], dtype=F32)
    out += m[:, None, None, :]
    return out


# -- networks -------------------------------------------------------------------------------------

class NumpyNetwork:
    """One architecture's network without torch: ``load_arrays(weights)`` then ``net(t)``.

    ``t``: float32 time positions [B] (§1b.1, i / gop_size); returns [Y, U, V] float32 planes, each
    [B, h, w], before the decoder's rounding. ``output_offset`` 0 for a residual layer (§8)."""

    name = ""

    def __init__(self, width: int, height: int, chroma: str, arch_params: tuple[int, ...],
                 output_offset: float = 0.5) -> None:
        # validation and the parameter cap, by arithmetic, as the torch classes do
        self.cost = NETWORK_COSTS.get(self.name)(width, height, chroma, tuple(int(p) for p in arch_params))
        self.width, self.height, self.chroma = width, height, chroma
        self.arch_params = tuple(int(p) for p in arch_params)
        self.k = 2 if chroma == "420" else 8
        self.output_offset = F32(output_offset)
        self._w: dict[str, np.ndarray] | None = None

    def tensor_shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        """(name, shape) of every coded tensor in wire order (the torch model's ``tensor_specs``)."""
        raise NotImplementedError

    def _heads_shapes(self, c: int) -> list[tuple[str, tuple[int, ...]]]:
        return [("head_y.weight", (4, c, 3, 3)), ("head_y.bias", (4,)),
                ("head_c.weight", (self.k, c, 3, 3)), ("head_c.bias", (self.k,))]

    def load_arrays(self, arrays: list[np.ndarray]) -> None:
        """Take the float32 weights in wire order (any shape with the right element count)."""
        shapes = self.tensor_shapes()
        if len(arrays) != len(shapes):
            raise ValueError(f"expected {len(shapes)} tensors, got {len(arrays)}")
        w = {}
        for (name, shape), arr in zip(shapes, arrays):
            a = np.asarray(arr, F32)
            if a.size != math.prod(shape):
                raise ValueError(f"{name}: {a.size} values, the network needs {math.prod(shape)}")
            w[name] = a.reshape(shape)
        self._w = w
        self._prepare(w)
        hw = np.concatenate([w["head_y.weight"], w["head_c.weight"]])
        hb = np.concatenate([w["head_y.bias"], w["head_c.bias"]])
        self._heads = _conv_matrix(hw, hb)

    def _prepare(self, w: dict[str, np.ndarray]) -> None:
        """Precompute what every call needs from the weights."""

    def __call__(self, t: np.ndarray) -> list[np.ndarray]:
        if self._w is None:
            raise RuntimeError("load_arrays first")
        t = np.asarray(t, F32).reshape(-1)
        return self._planes(_conv3x3(self._trunk(t), *self._heads))

    def _trunk(self, t: np.ndarray) -> np.ndarray:
        """The last map x [B, h, w, Cn] the heads run on."""
        raise NotImplementedError

    def _planes(self, heads: np.ndarray) -> list[np.ndarray]:
        """§1b.8: [B, h, w, 4 + k] head outputs -> cropped [Y, U, V] with the output offset."""
        hh, ww = self.height, self.width
        y = _pixel_shuffle(heads[..., :4])[..., 0][:, :hh, :ww]
        c = heads[..., 4:]
        if self.chroma == "420":
            ch, cw = -(-hh // 2), -(-ww // 2)
            u, v = c[:, :ch, :cw, 0], c[:, :ch, :cw, 1]
        else:
            # channels 0-3 (Cb) and 4-7 (Cr), each PixelShuffled: reorder to (dy, dx, plane)
            c = _pixel_shuffle(c[..., _shuffle_order(2)])
            u, v = c[:, :hh, :ww, 0], c[:, :hh, :ww, 1]
        off = self.output_offset
        return [np.add(p, off, dtype=F32) for p in (y, u, v)]


@_register("gnerv")
class Gnerv(NumpyNetwork):
    """spec/models.md §2: arch_params = (up_mode, pe_levels, time_dim, C0, ..., Cn)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.up_mode, self.pe_levels, self.time_dim, *ch = self.arch_params
        self.channels = ch
        self.n_blocks = len(ch) - 1
        grid = 2 ** (self.n_blocks + 1)
        self.eh, self.ew = -(-self.height // grid), -(-self.width // grid)
        # f_l = fl32(fl32(1.25^l) · fl32(π)) (§2 step 1)
        c = np.array([1.25 ** l for l in range(self.pe_levels)], np.float64).astype(F32)
        self.freqs = np.multiply(c, F32(math.pi), dtype=F32)

    def tensor_shapes(self):
        ch, e = self.channels, 4 if self.up_mode == 0 else 1
        out = [("embedding", (1, ch[0], self.eh, self.ew)),
               ("time_fc.weight", (self.time_dim, 2 * self.pe_levels)), ("time_fc.bias", (self.time_dim,))]
        for j in range(self.n_blocks):
            out += [(f"shift.{j}.weight", (2 * ch[j], self.time_dim)), (f"shift.{j}.bias", (2 * ch[j],)),
                    (f"convs.{j}.weight", (e * ch[j + 1], ch[j], 3, 3)), (f"convs.{j}.bias", (e * ch[j + 1],))]
        return out + self._heads_shapes(ch[-1])

    def _prepare(self, w):
        emb = np.ascontiguousarray(w["embedding"].transpose(0, 2, 3, 1))  # [1, eh, ew, C0]
        self._emb = _instance_norm(emb) if self.eh * self.ew > 1 else emb  # the same for every frame
        self._convs = []
        for j in range(self.n_blocks):
            order = _shuffle_order(self.channels[j + 1]) if self.up_mode == 0 else None
            self._convs.append(_conv_matrix(w[f"convs.{j}.weight"], w[f"convs.{j}.bias"], order))

    def _trunk(self, t):
        w = self._w
        ang = np.multiply(t[:, None], self.freqs[None, :], dtype=F32)
        gamma = np.stack([_sin32(ang), _cos32(ang)], axis=-1).reshape(t.shape[0], -1)
        z = gelu(_linear(gamma, w["time_fc.weight"], w["time_fc.bias"]))
        x = self._emb
        for j in range(self.n_blocks):
            sm = _linear(z, w[f"shift.{j}.weight"], w[f"shift.{j}.bias"])
            cj = self.channels[j]
            if j > 0 and x.shape[1] * x.shape[2] > 1:
                x = _instance_norm(x)
            x = _shift(x, sm[:, :cj], sm[:, cj:])
            if self.up_mode == 0:
                x = _pixel_shuffle(_conv3x3(x, *self._convs[j], act=True))  # GELU commutes with the shuffle
            else:
                x = _conv3x3(_up2(x), *self._convs[j], act=True)
        return x


def _lerp(grid: np.ndarray, t: np.ndarray) -> np.ndarray:
    """§2c temporal interpolation of grid [N, ...] at t [B], every operation in binary32."""
    n = grid.shape[0]
    p = np.subtract(np.multiply(t, F32(n), dtype=F32), F32(0.5), dtype=F32)
    p = np.clip(p, F32(0.0), F32(n - 1))
    i0f = np.floor(p)
    f = np.subtract(p, i0f, dtype=F32).reshape(-1, *([1] * (grid.ndim - 1)))
    i0 = i0f.astype(np.int64)
    i1 = np.minimum(i0 + 1, n - 1)
    a = np.multiply(grid[i0], np.subtract(F32(1.0), f, dtype=F32), dtype=F32)
    a += np.multiply(grid[i1], f, dtype=F32)
    return a


@_register("hinerv")
class Hinerv(NumpyNetwork):
    """spec/models.md §2c: arch_params = (t0, levels, local_t, mod_t, C0, ..., Cn)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.t0, self.levels, self.local_t, self.mod_t, *ch = self.arch_params
        self.channels = ch
        self.n_stages = len(ch) - 1
        grid = 2 ** (self.n_stages + 1)
        self.eh, self.ew = -(-self.height // grid), -(-self.width // grid)

    def tensor_shapes(self):
        ch = self.channels
        out = [(f"grids.{l}", (self.t0 << l, ch[0], self.eh, self.ew)) for l in range(self.levels)]
        for j in range(self.n_stages):
            if self.local_t:
                out.append((f"local.{j}", (self.local_t, ch[j], 2, 2)))
            if self.mod_t:
                out.append((f"mod.{j}", (self.mod_t, 2 * ch[j])))
            out += [(f"convs.{j}.weight", (ch[j + 1], ch[j], 3, 3)), (f"convs.{j}.bias", (ch[j + 1],))]
        return out + self._heads_shapes(ch[-1])

    def _prepare(self, w):
        self._grids = [np.ascontiguousarray(w[f"grids.{l}"].transpose(0, 2, 3, 1)) for l in range(self.levels)]
        self._local = [np.ascontiguousarray(w[f"local.{j}"].transpose(0, 2, 3, 1))  # [lt, 2, 2, Cj]
                       for j in range(self.n_stages)] if self.local_t else []
        self._convs = [_conv_matrix(w[f"convs.{j}.weight"], w[f"convs.{j}.bias"]) for j in range(self.n_stages)]

    def _trunk(self, t):
        x = _lerp(self._grids[0], t)
        for g in self._grids[1:]:
            x = np.add(x, _lerp(g, t), dtype=F32)
        for j in range(self.n_stages):
            x = _up2(x)
            cj = self.channels[j]
            if self.local_t:
                b, h2, w2, _ = x.shape
                loc = _lerp(self._local[j], t)  # [B, 2, 2, Cj]
                x = np.add(x.reshape(b, h2 // 2, 2, w2 // 2, 2, cj), loc[:, None, :, None, :, :],
                           dtype=F32).reshape(b, h2, w2, cj)
            if self.mod_t:
                sm = _lerp(self._w[f"mod.{j}"], t)
                x = _shift(x, sm[:, :cj], sm[:, cj:])
            x = _conv3x3(x, *self._convs[j], act=True)
        return x


@_register("nirvana")
class Nirvana(NumpyNetwork):
    """spec/models.md §2b: arch_params = (P, M, L, C0, ..., Cn); patches run independently."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.patch, self.mlp_width, self.mlp_depth, *ch = self.arch_params
        self.channels = ch
        self.n_blocks = len(ch) - 1
        self.h0 = self.patch // 2 ** (self.n_blocks + 1)
        self.feature = ch[0] * self.h0 * self.h0
        self.gh, self.gw = -(-self.height // self.patch), -(-self.width // self.patch)
        # §2b step 1: centroids, binary32
        ys = np.divide((np.arange(self.gh, dtype=F32) + F32(0.5)) * F32(self.patch), F32(self.height), dtype=F32)
        xs = np.divide((np.arange(self.gw, dtype=F32) + F32(0.5)) * F32(self.patch), F32(self.width), dtype=F32)
        ys, xs = ys * F32(2) - F32(1), xs * F32(2) - F32(1)
        yy, xx = np.meshgrid(ys, xs, indexing="ij")
        self.centroids = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(F32)
        # §2b step 3: d_k = 10000^fl32(2k/F), rounded to binary32
        kk = np.arange(self.feature // 2, dtype=F32)
        e = np.divide(F32(2) * kk, F32(self.feature), dtype=F32)
        self.divisors = np.power(10000.0, e.astype(np.float64)).astype(F32)

    def tensor_shapes(self):
        ch, m = self.channels, self.mlp_width
        out = []
        for j in range(self.mlp_depth):
            out += [(f"mlp.{j}.weight", (m, 2 if j == 0 else m)), (f"mlp.{j}.bias", (m,))]
        out += [("to_feature.weight", (self.feature, m)), ("to_feature.bias", (self.feature,))]
        for j in range(self.n_blocks):
            out += [(f"convs.{j}.weight", (4 * ch[j + 1], ch[j], 3, 3)), (f"convs.{j}.bias", (4 * ch[j + 1],))]
        return out + self._heads_shapes(ch[-1])

    def _prepare(self, w):
        s = self.centroids
        for j in range(self.mlp_depth):
            s = _sin32(np.multiply(F32(30.0), _linear(s, w[f"mlp.{j}.weight"], w[f"mlp.{j}.bias"]), dtype=F32))
        self._s = _linear(s, w["to_feature.weight"], w["to_feature.bias"])  # [patches, F], frame-independent
        self._convs = [_conv_matrix(w[f"convs.{j}.weight"], w[f"convs.{j}.bias"], _shuffle_order(self.channels[j + 1]))
                       for j in range(self.n_blocks)]

    def _embedding(self, t: np.ndarray) -> np.ndarray:
        """nirvana eq. 1 at u = 32·t: [B, F]."""
        u = np.multiply(F32(32.0), t, dtype=F32)
        ang = np.divide(u[:, None], self.divisors[None, :], dtype=F32)
        out = np.zeros((t.shape[0], self.feature), F32)
        half = self.feature // 2
        out[:, 0:2 * half:2] = _sin32(ang)
        out[:, 1:2 * half:2] = _cos32(ang)
        return out

    def __call__(self, t: np.ndarray) -> list[np.ndarray]:
        if self._w is None:
            raise RuntimeError("load_arrays first")
        t = np.asarray(t, F32).reshape(-1)
        b, n_p, half = t.shape[0], self._s.shape[0], self.patch // 2
        feats = np.add(self._s[None, :, :], self._embedding(t)[:, None, :], dtype=F32).reshape(-1, self.feature)
        c0, h0 = self.channels[0], self.h0
        out = np.empty((b * n_p, half, half, 4 + self.k), F32)
        for i in range(0, feats.shape[0], NIRVANA_PATCH_BATCH):  # bounded memory at any frame size
            x = feats[i:i + NIRVANA_PATCH_BATCH].reshape(-1, c0, h0, h0).transpose(0, 2, 3, 1)
            for wmat, bias in self._convs:
                x = _pixel_shuffle(_conv3x3(x, wmat, bias, act=True))
            out[i:i + NIRVANA_PATCH_BATCH] = _conv3x3(x, *self._heads)
        # [B·patches, half, half, K] -> [B, gh·half, gw·half, K], patch (r, c) at rows r·half …
        out = out.reshape(b, self.gh, self.gw, half, half, -1).transpose(0, 1, 3, 2, 4, 5)
        return self._planes(out.reshape(b, self.gh * half, self.gw * half, -1))


# -- entry points -----------------------------------------------------------------------------------

def build(arch: str | int, width: int, height: int, chroma: str, arch_params: tuple[int, ...],
          weights: list[np.ndarray] | None = None, output_offset: float = 0.5) -> NumpyNetwork:
    """The numpy network of architecture ``arch`` (a name, or a wire id), with ``weights`` loaded if given.
    ValueError for invalid arch_params (inrcodec.costs), InrInputError / InrUnsupportedError for an
    unknown architecture."""
    if isinstance(arch, int):
        name = NETWORK_COSTS.name_of(arch)
    else:
        NETWORK_COSTS.get(arch)  # InrInputError naming the known architectures
        name = arch
    if name not in ARCHITECTURES:
        raise ValueError(f"architecture {name!r} has no numpy implementation")
    net = ARCHITECTURES[name](width, height, chroma, tuple(arch_params), output_offset)
    if weights is not None:
        net.load_arrays(weights)
    return net


def tensor_shapes(arch: str, width: int, height: int, chroma: str, arch_params: tuple[int, ...]
                  ) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of the architecture's coded tensors in wire order."""
    return build(arch, width, height, chroma, arch_params).tensor_shapes()


def forward(arch: str, width: int, height: int, chroma: str, arch_params: tuple[int, ...],
            weights: list[np.ndarray], t: np.ndarray, output_offset: float = 0.5) -> list[np.ndarray]:
    """Planes [Y, U, V] (float32 [B, h, w], before rounding) of the frames at time positions ``t``."""
    return build(arch, width, height, chroma, arch_params, weights, output_offset)(t)


def add_layer(planes: list[np.ndarray], residual: list[np.ndarray], scale: float) -> list[np.ndarray]:
    """spec/models.md §8: planes + residual / residual_scale, one binary32 division and addition."""
    s = F32(scale)
    return [np.add(a, np.divide(b, s, dtype=F32), dtype=F32) for a, b in zip(planes, residual)]


def to_samples(x: np.ndarray, bit_depth: int = 8) -> np.ndarray:
    """spec/models.md §7, the decoder's one rounding: round_half_even(clamp(v, 0, 1) · (2^D − 1)) in
    binary32; uint8 at 8 bits, uint16 above (render.to_samples). NaN gives 0."""
    if not 1 <= bit_depth <= 16:
        raise ValueError(f"bit depth {bit_depth} outside 1..16")
    peak = F32((1 << bit_depth) - 1)
    v = np.fmax(np.asarray(x, F32), F32(0.0))  # fmax: NaN -> 0, in the same pass as the lower clamp
    np.minimum(v, F32(1.0), out=v)
    np.multiply(v, peak, out=v)
    np.rint(v, out=v)
    return v.astype(np.uint8 if bit_depth <= 8 else np.uint16)


def render_layers(layers: list[tuple[NumpyNetwork, float]], t_pos: np.ndarray, bit_depth: int = 8,
                  batch: int = RENDER_BATCH) -> list[np.ndarray]:
    """Y, U, V samples [T, h, w] of the frames at ``t_pos`` (render.render_layers without torch): the
    base layer's planes plus each residual layer's planes / its scale, in layer order, then the one
    rounding; ``batch`` frames per network call. The residual layers' networks must have been built
    with ``output_offset=0``."""
    t_pos = np.asarray(t_pos, F32).reshape(-1)
    outs: list[list[np.ndarray]] = [[], [], []]
    for i in range(0, t_pos.shape[0], batch):
        t = t_pos[i:i + batch]
        planes = layers[0][0](t)
        for net, scale in layers[1:]:
            planes = add_layer(planes, net(t), scale)
        for p, plane in enumerate(planes):
            outs[p].append(to_samples(plane, bit_depth))
    return [np.concatenate(o) for o in outs]
