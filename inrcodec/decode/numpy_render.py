"""The numpy synthesis backend: runs an architecture's program (inrcodec.archs.program) with numpy alone.

It is the torch-free reference, and ``onnx_graph`` runs its cheap per-frame parts too. Each
operation follows spec/models.md §1b; where the spec leaves a rounding open it follows the torch
reference as closely as is cheap (docs/decoder-notes.md, "The numpy backend's numerics"), so that
samples stay within the ±1 of spec/conformance.md. Maps are channels-last, [N, h, w, C].
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..archs import ARCHITECTURES, Architecture, chroma_format, output_offset
from ..archs.program import MAP_KINDS, PATCH_BATCH, Op, Program, sections
from ..container.chunks import LayerHeader, SequenceHeader, layer_specs
from ..container.spec import ChromaFormat
from .bands import MapBands, band_starts, map_rows
from .batch import RENDER_BATCH

__all__ = ["NumpyNetwork", "NumpySynthesis", "add_layer", "build", "gelu", "render_layers", "to_samples"]

F32 = np.float32
# im2col buffers above this many float32 elements are built a block of rows at a time
COLS_BUDGET = 1 << 19
CONV_TAPS_MIN_WIDTH = 16  # narrower frames: im2col (the taps' padded width would waste too much)
CONV_THREADS = 1  # threads over a conv's blocks of rows (each BLAS call then best single-threaded)
_POOL = None
GELU_FMA = False  # True: the convolutions' GELU with ATen's FMA roundings (emulated in binary64), slower


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
    """sin of binary32 ``x``, a binary32 result; in binary64 a block at a time (correctly rounded in
    practice, as torch's), so that no binary64 copy of a large tensor is ever made (issue 32)."""
    return _by_blocks(np.sin, x)


def _cos32(x: np.ndarray) -> np.ndarray:
    return _by_blocks(np.cos, x)


_BLOCK = 1 << 16  # values per binary64 temporary of _sin32 / _cos32


def _by_blocks(fn, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, F32)
    out = np.empty(x.shape, F32)
    flat_in, flat_out = x.reshape(-1), out.reshape(-1)
    for i in range(0, flat_in.size, _BLOCK):
        flat_out[i:i + _BLOCK] = fn(flat_in[i:i + _BLOCK].astype(np.float64))
    return out


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

    By default the Abramowitz–Stegun formula in plain binary32 operations (each FMA rounded twice, within
    1–2 ulp of ``gelu``), a few times faster; ``GELU_FMA``: the very roundings of ``gelu``.
    ``scratch``: three flat binary32 buffers of ≥ x.size."""
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


def _up2_sep(x: np.ndarray, axis: int) -> np.ndarray:
    """§1b.6 along ``axis`` (1: rows, 2: columns) by strided slices, fl32(fl32(x[i0]·(1−w)) + fl32(x[i1]·w))
    (half-pixel centres, edges clamped): output 2i (i ≥ 1) is x[i−1]·¼ + x[i]·¾, output 2i+1 (i ≤ n−2)
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
    """§1b.6 bilinear ×2 (half-pixel centres, edges clamped), separable in binary32 (columns, then rows):
    [N, h, w, C] -> [N, 2h, 2w, C]."""
    return _up2_sep(_up2_sep(x, 2), 1)


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


# -- the interpreter --------------------------------------------------------------------------------

def _fourier(t: np.ndarray, base: float, levels: int) -> np.ndarray:
    """§2 step 1: f_l = fl32(fl32(base^l)·fl32(π)), then sin and cos of fl32(t·f_l), interleaved."""
    c = np.array([base ** level for level in range(levels)], np.float64).astype(F32)
    freqs = np.multiply(c, F32(math.pi), dtype=F32)
    ang = np.multiply(t[:, None], freqs[None, :], dtype=F32)
    return np.stack([_sin32(ang), _cos32(ang)], axis=-1).reshape(t.shape[0], -1)


def _sinusoid(t: np.ndarray, scale: float, base: float, dim: int) -> np.ndarray:
    """§2b step 3: u = fl32(scale·t), d_i = fl32(base^fl32(2i/dim)), sin and cos of fl32(u/d_i) interleaved."""
    i = np.arange(dim // 2, dtype=F32)
    divisors = np.power(base, np.divide(F32(2) * i, F32(dim), dtype=F32).astype(np.float64)).astype(F32)
    ang = np.divide(np.multiply(F32(scale), t, dtype=F32)[:, None], divisors[None, :], dtype=F32)
    out = np.zeros((t.shape[0], dim), F32)
    out[:, 0:2 * (dim // 2):2] = _sin32(ang)
    out[:, 1:2 * (dim // 2):2] = _cos32(ang)
    return out


def _centroids(grid_h: int, grid_w: int, patch: int, height: int, width: int) -> np.ndarray:
    """§2b step 1: patch centres (x, y) in [-1, 1], row-major, binary32."""
    ys = np.divide((np.arange(grid_h, dtype=F32) + F32(0.5)) * F32(patch), F32(height), dtype=F32)
    xs = np.divide((np.arange(grid_w, dtype=F32) + F32(0.5)) * F32(patch), F32(width), dtype=F32)
    yy, xx = np.meshgrid(ys * F32(2) - F32(1), xs * F32(2) - F32(1), indexing="ij")
    return np.stack([xx.ravel(), yy.ravel()], axis=1).astype(F32)


def _add_tiled(x: np.ndarray, loc: np.ndarray) -> np.ndarray:
    """x [B, H, W, C] plus loc [B, 2, 2, C] repeated over every 2×2 cell."""
    b, h, w, c = x.shape
    return np.add(x.reshape(b, h // 2, 2, w // 2, 2, c), loc[:, None, :, None, :, :], dtype=F32).reshape(b, h, w, c)


def _unpatch(x: np.ndarray, grid_h: int, grid_w: int) -> np.ndarray:
    """[B·P, h, w, K] -> [B, grid_h·h, grid_w·w, K], patch (r, c) at rows r·h …, columns c·w …."""
    n, h, w, k = x.shape
    b = n // (grid_h * grid_w)
    return x.reshape(b, grid_h, grid_w, h, w, k).transpose(0, 1, 3, 2, 4, 5).reshape(b, grid_h * h, grid_w * w, k)


def value_kinds(program: Program) -> dict[str, bool]:
    """Whether each value of ``program`` is a map (True) or a vector."""
    out = {"t": False}
    for op in program.ops:
        if op.kind in ("tensor", "lerp"):
            out[op.out] = op.attrs["is_map"]
        elif op.kind in ("add", "gelu"):
            out[op.out] = out[op.args[0]]
        else:
            out[op.out] = op.kind in MAP_KINDS or op.kind in ("patches", "unpatch")
    return out


def constant_ops(program: Program) -> set[str]:
    """Outputs of the ops that read only weights: computed once a GOP, not once a frame."""
    const: set[str] = set()
    for op in program.ops:
        if all(a in const for a in op.args):
            const.add(op.out)
    return const


class NumpyNetwork:
    """One layer's network: ``load_arrays(weights)`` per GOP, then ``net(t)`` -> [Y, U, V] float32
    planes [B, h, w] before the decoder's rounding. ``offset``: the layer's output offset (§8)."""

    def __init__(self, arch: type[Architecture], width: int, height: int, chroma: str,
                 arch_params: tuple[int, ...], offset: float) -> None:
        self.arch, self.width, self.height = arch, width, height
        self.chroma = chroma_format(chroma)
        self.specs = arch.tensors(width, height, chroma, tuple(arch_params))  # validates
        self.program = arch.program(width, height, chroma, tuple(arch_params))
        self.output_offset = F32(offset)
        self.is_map = value_kinds(self.program)
        const = constant_ops(self.program)
        self._const_ops = [op for op in self.program.ops if op.out in const]
        self._frame_ops = [op for op in self.program.ops if op.out not in const]
        self._w: dict[str, np.ndarray] | None = None
        self._prepared: dict[tuple, object] = {}  # the weights as the kernels take them, made on first use
        self._consts: dict[str, np.ndarray] = {}
        self.band: int | None = None  # heads rows a piece (spec/levels.md §4b); None: whole frames

    def set_band(self, band: int | None) -> None:
        """Render ``band`` heads rows at a time (None: whole frames); before ``load_arrays``."""
        self.band = band
        if band is None:
            return
        kinds = [op.kind for op in self.program.ops]
        if "patches" in kinds:  # nirvana: bands of patch rows; what reads the patch centres is per band
            rows = {op.out for op in self.program.ops if op.kind == "centroids"}
            for op in self.program.ops:
                if any(a in rows for a in op.args):
                    rows.add(op.out)
            self._const_ops = [op for op in self._const_ops if op.out not in rows]
            self._band_ops = [op for op in self.program.ops if op.out in rows or op.out not in
                              {o.out for o in self._const_ops}]
            self._map_bands = None
        else:
            shapes = map_rows(self.program, self.is_map, lambda n: self._spec_shape(n),
                              lambda op: self._conv_outputs(op))
            self._map_bands = MapBands.of(self._frame_ops, self.program.output, self.is_map, shapes)

    def _spec_shape(self, name: str) -> tuple[int, ...]:
        return next(s.shape for s in self.specs if s.name == name)

    def _conv_outputs(self, op: Op) -> int:
        if op.kind == "heads":
            return 4 + (2 if self.chroma is ChromaFormat.YUV420 else 8)
        return self._spec_shape(op.attrs["prefix"] + ".weight")[0]

    @property
    def heads_rows(self) -> int:
        """Heads rows that hold the frame's samples: half its height, rounded up."""
        return -(-self.height // 2)

    def bands(self, t: np.ndarray, edges: list[tuple[int, int]]):
        """For each [lo, hi) of ``edges`` (heads rows), [Y, U, V] float32 planes of those rows of the
        frames at ``t``: luma rows 2·lo .. 2·hi-1 and the chroma rows they hold, cropped to the frame."""
        if self._w is None:
            raise RuntimeError("load_arrays first")
        env = dict(self._consts)
        env["t"] = np.asarray(t, F32).reshape(-1)
        if self._map_bands is not None:
            mb = self._map_bands
            self.run(mb.prefix, env)
            self.run(mb.once, env)
            for lo, hi in edges:
                heads = mb.run_band(env, lo, hi, self.is_map, self.execute, _take_rows)
                yield self.planes(heads, lo)
            return
        for lo, hi in edges:
            yield self.planes(self._patch_rows(env, lo, hi), lo)

    def _patch_rows(self, env: dict, lo: int, hi: int) -> np.ndarray:
        """nirvana: heads rows [lo, hi) from the patch rows that hold them, cropped."""
        half = self._patch_half()
        r0, r1 = lo // half, -(-hi // half)
        part = dict(env)
        ops = []
        for op in self._band_ops:
            if op.kind == "unpatch":
                op = Op(op.kind, op.out, op.args, {**op.attrs, "grid_h": r1 - r0})
            ops.append(op)
        for body, first, last in sections(ops):
            if first is None:
                for op in body:
                    part[op.out] = self.execute(op, part)
                    if op.kind == "centroids":
                        gw = op.attrs["grid_w"]
                        part[op.out] = part[op.out][r0 * gw:r1 * gw]
            else:
                self.run_patches(body, part, first, last)
        heads = part[self.program.output]
        return heads[:, lo - r0 * half:hi - r0 * half]

    def _patch_half(self) -> int:
        op = next(op for op in self.program.ops if op.kind == "patches")
        n_blocks = sum(1 for o in self.program.ops if o.kind == "conv3x3")
        return op.attrs["side"] << n_blocks

    def load_arrays(self, arrays: list[np.ndarray]) -> None:
        """Take the float32 weights in wire order (any shape with the right element count)."""
        if len(arrays) != len(self.specs):
            raise ValueError(f"expected {len(self.specs)} tensors, got {len(arrays)}")
        w = {}
        for spec, arr in zip(self.specs, arrays):
            a = np.asarray(arr, F32)
            if a.size != spec.numel:
                raise ValueError(f"{spec.name}: {a.size} values, the network needs {spec.numel}")
            w[spec.name] = a.reshape(spec.shape)
        self._w = w
        self._prepared = {}
        env: dict[str, np.ndarray] = {}
        for op in self._const_ops:
            env[op.out] = self.execute(op, env)
        self._consts = env

    def __call__(self, t: np.ndarray) -> list[np.ndarray]:
        if self._w is None:
            raise RuntimeError("load_arrays first")
        env = dict(self._consts)
        env["t"] = np.asarray(t, F32).reshape(-1)
        self.run(self._frame_ops, env)
        return self.planes(env[self.program.output])

    def run(self, ops: list[Op], env: dict[str, np.ndarray]) -> None:
        """Run ``ops`` in order into ``env``; the ops after ``patches`` up to ``unpatch`` a bounded
        batch of patches at a time."""
        for body, first, last in sections(ops):
            if first is None:
                for op in body:
                    env[op.out] = self.execute(op, env)
            else:
                self.run_patches(body, env, first, last)

    def run_patches(self, ops: list[Op], env: dict[str, np.ndarray], first: str, last: str) -> None:
        """``ops`` from the value ``first`` to ``last``, PATCH_BATCH patches at a time."""
        x = env[first]
        out = None
        for i in range(0, x.shape[0], PATCH_BATCH):
            part = {**env, first: x[i:i + PATCH_BATCH]}
            for op in ops:
                part[op.out] = self.execute(op, part)
            y = part[last]
            if out is None:
                out = np.empty((x.shape[0], *y.shape[1:]), F32)
            out[i:i + PATCH_BATCH] = y
        env[last] = out

    def _conv(self, prefix: str, shuffle: bool) -> tuple[np.ndarray, np.ndarray]:
        """The conv's weights as ``_conv3x3`` takes them (PixelShuffle folded into the column order)."""
        key = ("conv", prefix)
        if key not in self._prepared:
            if prefix == "heads":
                w = np.concatenate([self._w["head_y.weight"], self._w["head_c.weight"]])
                b = np.concatenate([self._w["head_y.bias"], self._w["head_c.bias"]])
            else:
                w, b = self._w[f"{prefix}.weight"], self._w[f"{prefix}.bias"]
            self._prepared[key] = _conv_matrix(w, b, _shuffle_order(w.shape[0] // 4) if shuffle else None)
        return self._prepared[key]

    def _map_tensor(self, name: str) -> np.ndarray:
        """A coded map [N, C, h, w] channels-last, [N, h, w, C]."""
        key = ("map", name)
        if key not in self._prepared:
            self._prepared[key] = np.ascontiguousarray(self._w[name].transpose(0, 2, 3, 1))
        return self._prepared[key]

    def execute(self, op: Op, env: dict[str, np.ndarray]) -> np.ndarray:
        """One operation of inrcodec.archs.program, channels-last."""
        a, kind = op.attrs, op.kind
        v = [env[x] for x in op.args]
        if kind == "tensor":
            return self._map_tensor(a["name"]) if a["is_map"] else self._w[a["name"]]
        if kind == "fourier":
            return _fourier(v[0], a["base"], a["levels"])
        if kind == "sinusoid":
            return _sinusoid(v[0], a["scale"], a["base"], a["dim"])
        if kind == "centroids":
            return _centroids(a["grid_h"], a["grid_w"], a["patch"], a["height"], a["width"])
        if kind == "linear":
            prefix = a["prefix"]
            return _linear(v[0], self._w[f"{prefix}.weight"], self._w[f"{prefix}.bias"])
        if kind == "gelu":
            return gelu(v[0])
        if kind == "sine":
            return _sin32(np.multiply(F32(a["w0"]), v[0], dtype=F32))
        if kind == "add":
            return np.add(v[0], v[1], dtype=F32)
        if kind == "lerp":
            grid = a["grid"]
            return _lerp(self._map_tensor(grid) if a["is_map"] else self._w[grid], v[0])
        if kind == "instance_norm":
            return _instance_norm(v[0])
        if kind == "modulate":
            c = v[0].shape[-1]
            return _shift(v[0], v[1][:, :c], v[1][:, c:])
        if kind == "up2":
            return _up2(v[0])
        if kind == "add_tiled":
            return _add_tiled(v[0], v[1])
        if kind == "conv3x3":
            y = _conv3x3(v[0], *self._conv(a["prefix"], a["shuffle"]), act=a["gelu"])  # GELU commutes with the shuffle
            return _pixel_shuffle(y) if a["shuffle"] else y
        if kind == "heads":
            return _conv3x3(v[0], *self._conv("heads", False))
        if kind == "patches":
            s, e = v
            feats = np.add(s[None, :, :], e[:, None, :], dtype=F32).reshape(-1, s.shape[1])
            return feats.reshape(-1, a["channels"], a["side"], a["side"]).transpose(0, 2, 3, 1)
        if kind == "unpatch":
            return _unpatch(v[0], a["grid_h"], a["grid_w"])
        raise ValueError(f"the numpy backend has no operation {kind!r}")

    def planes(self, heads: np.ndarray, row0: int = 0) -> list[np.ndarray]:
        """§1b.8: [B, h, w, 4 + k] head outputs (heads rows from ``row0``) -> cropped [Y, U, V] with
        the output offset."""
        hh, ww = self.height - 2 * row0, self.width
        y = _pixel_shuffle(heads[..., :4])[..., 0][:, :hh, :ww]
        c = heads[..., 4:]
        if self.chroma is ChromaFormat.YUV420:
            ch, cw = -(-self.height // 2) - row0, -(-ww // 2)
            u, v = c[:, :ch, :cw, 0], c[:, :ch, :cw, 1]
        else:
            # channels 0-3 (Cb) and 4-7 (Cr), each PixelShuffled: reorder to (dy, dx, plane)
            c = _pixel_shuffle(c[..., _shuffle_order(2)])
            u, v = c[:, :hh, :ww, 0], c[:, :hh, :ww, 1]
        return [np.add(p, self.output_offset, dtype=F32) for p in (y, u, v)]


# -- entry points -----------------------------------------------------------------------------------

def build(arch: str | int | type[Architecture], width: int, height: int, chroma: str, arch_params: tuple[int, ...],
          weights: list[np.ndarray] | None = None, layer: int = 0) -> NumpyNetwork:
    """The numpy network of architecture ``arch`` (a name, a wire id or the class) as layer ``layer``
    of a file, with ``weights`` loaded if given. ValueError for invalid arch_params, InrInputError /
    InrUnsupportedError for an unknown architecture."""
    if isinstance(arch, int):
        arch = ARCHITECTURES.by_id(arch)
    elif isinstance(arch, str):
        arch = ARCHITECTURES.get(arch)
    net = NumpyNetwork(arch, width, height, chroma, tuple(arch_params), output_offset(layer))
    if weights is not None:
        net.load_arrays(weights)
    return net


class NumpySynthesis:
    """The ``numpy`` backend: each layer's NumpyNetwork, summed and rounded (``render_layers``);
    ``band``: heads rows a piece (spec/levels.md §4b), None for whole frames."""

    name = "numpy"

    def __init__(self, header: SequenceHeader, layers: LayerHeader | None, plans: list,
                 band: int | None = None) -> None:
        chroma = ChromaFormat.from_code(header.chroma_format).label
        self.band = band
        self.nets = [(self.network(ARCHITECTURES.by_id(ls.arch_id), header.width, header.height, chroma,
                                   ls.arch_params, plan.output_offset), plan.scale)
                     for ls, plan in zip(layer_specs(header, layers), plans)]
        for net, _ in self.nets:
            net.set_band(band)

    def network(self, arch, width, height, chroma, arch_params, offset) -> NumpyNetwork:
        """One layer's network."""
        return NumpyNetwork(arch, width, height, chroma, arch_params, offset)

    def load(self, weights: list[list[np.ndarray]]) -> None:
        """Take each layer's float32 weights in wire order."""
        for (net, _), w in zip(self.nets, weights):
            net.load_arrays(w)

    def render(self, t: np.ndarray, bit_depth: int) -> list[np.ndarray]:
        """Y, U, V samples [T, h, w] of the frames at float32 time positions ``t`` (one network call)."""
        if self.band is not None:
            return render_bands(self.nets, np.asarray(t, F32), bit_depth, self.band)
        return render_layers(self.nets, np.asarray(t, F32), bit_depth, len(t))


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


def _take_rows(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Rows lo..hi-1 of a channels-last map [N, h, w, C]."""
    return x[:, lo:hi]


def render_bands(layers: list, t: np.ndarray, bit_depth: int, band: int, add=None, round_=None) -> list[np.ndarray]:
    """Y, U, V samples [T, h, w] of the frames at ``t`` (one call), ``band`` heads rows at a time:
    every layer's planes of those rows, summed and rounded as ``render_layers`` does, into the frame.
    ``add``, ``round_``: the backend's add_layer and to_samples (default: numpy's)."""
    add, round_ = add or add_layer, round_ or to_samples
    first = layers[0][0]
    edges = band_starts(first.heads_rows, band)
    gens = [net.bands(t, edges) for net, _ in layers]
    out = None
    for lo, parts in zip((e[0] for e in edges), zip(*gens)):
        planes = parts[0]
        for (_, scale), residual in zip(layers[1:], parts[1:]):
            planes = add(planes, residual, scale)
        samples = [round_(p, bit_depth) for p in planes]
        if out is None:
            b = samples[0].shape[0]
            h, w = first.height, first.width
            ch, cw = first.chroma.chroma_shape(w, h)
            out = [np.empty((b, h, w), samples[0].dtype), np.empty((b, ch, cw), samples[0].dtype),
                   np.empty((b, ch, cw), samples[0].dtype)]
        y0, c0 = 2 * lo, lo if first.chroma is ChromaFormat.YUV420 else 2 * lo
        for o, smp, r0 in zip(out, samples, (y0, c0, c0)):
            o[:, r0:r0 + smp.shape[1]] = smp
    return out


def render_layers(layers: list[tuple[NumpyNetwork, float]], t_pos: np.ndarray, bit_depth: int = 8,
                  batch: int = RENDER_BATCH) -> list[np.ndarray]:
    """Y, U, V samples [T, h, w] of the frames at ``t_pos`` (render.render_layers without torch): the
    base layer's planes plus each residual layer's planes / its scale, in layer order, then the one
    rounding; ``batch`` frames per network call."""
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
