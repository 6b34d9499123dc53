"""The ``ort`` synthesis backend: an architecture's map operations as one ONNX graph run by ONNX Runtime.

ONNX Runtime's CPU kernels run these small convolutions faster than torch or numpy on a few cores
(docs/decoder-notes.md, "Synthesis backends"). The graph is translated from the architecture's
program (inrcodec.archs.program) and written here directly as protobuf bytes (the handful of
``onnx.proto`` messages it needs), so decoding needs the ``onnxruntime`` wheel but not ``onnx``. One
graph, and one InferenceSession, serves a whole file: every weight is a graph input fed with the
GOP's decoded values, so a new GOP costs no session.

The program's cheap operations (time encodings, MLPs, temporal interpolations, what reads only
weights) and the heads' PixelShuffle, crop and offset stay with the numpy backend, which this one
extends; the graph runs what costs, the operations on maps (``MAP_KINDS``). Samples stay within ±1
of the reference decoder (tests/unit/test_onnx_graph.py, the golden streams).

The web player builds the same graphs in JavaScript (web/src/synth/onnx.js, from the programs of
web/src/synth/program.js, cut as ``OrtNetwork`` cuts them): tests/web/test_web_graphs.py requires
the bytes to be equal for every golden stream and quality ladder, so a change here is made there too.
"""

from __future__ import annotations

import math
import struct

import numpy as np

from ..archs import Architecture
from ..archs.program import MAP_KINDS, PATCH_BATCH, Op
from ..container.bitio import uvarint_bytes
from .numpy_render import NumpyNetwork, NumpySynthesis

F32 = np.float32
OPSET = 17  # Erf, Resize (half_pixel), DepthToSpace (CRD), InstanceNormalization all exist at 17
IR_VERSION = 8

# -- protobuf wire format (the few messages of onnx.proto this module writes) ---------------------


def _varint(n: int) -> bytes:
    # protobuf's varint is the container's LEB128; int64 fields go as two's complement (ten bytes)
    return uvarint_bytes(n + (1 << 64) if n < 0 else n)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _int(field: int, n: int) -> bytes:
    return _key(field, 0) + _varint(n)


def _bytes(field: int, data: bytes) -> bytes:
    return _key(field, 2) + _varint(len(data)) + data


def _str(field: int, text: str) -> bytes:
    return _bytes(field, text.encode())


def _float(field: int, x: float) -> bytes:
    return _key(field, 5) + struct.pack("<f", x)


ELEM_FLOAT, ELEM_INT64 = 1, 7  # TensorProto.DataType


def _tensor(name: str, array: np.ndarray) -> bytes:
    """TensorProto: dims, data_type, name, raw_data (little-endian)."""
    a = np.ascontiguousarray(array)
    elem = ELEM_INT64 if a.dtype == np.int64 else ELEM_FLOAT
    a = a.astype("<i8" if elem == ELEM_INT64 else "<f4", copy=False)
    return b"".join(_int(1, d) for d in a.shape) + _int(2, elem) + _str(8, name) + _bytes(9, a.tobytes())


def _attribute(name: str, value) -> bytes:
    """AttributeProto of an int, a float, a string or a list of ints (field ``type`` set)."""
    if isinstance(value, bool) or isinstance(value, int):
        return _str(1, name) + _int(3, int(value)) + _int(20, 2)
    if isinstance(value, float):
        return _str(1, name) + _float(2, value) + _int(20, 1)
    if isinstance(value, str):
        return _str(1, name) + _bytes(4, value.encode()) + _int(20, 3)
    return _str(1, name) + b"".join(_int(8, int(v)) for v in value) + _int(20, 7)


def _value_info(name: str, shape: tuple) -> bytes:
    """ValueInfoProto of a float tensor; a str dimension is symbolic (the batch)."""
    dims = b"".join(_bytes(1, _str(2, d) if isinstance(d, str) else _int(1, d)) for d in shape)
    tensor_type = _int(1, ELEM_FLOAT) + _bytes(2, dims)
    return _str(1, name) + _bytes(2, _bytes(1, tensor_type))


class Graph:
    """An ONNX graph under construction: ``input``, ``const``, ``op`` (returns the output's name), ``model``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._nodes: list[bytes] = []
        self._inits: list[bytes] = []
        self._inputs: list[bytes] = []
        self._outputs: list[bytes] = []
        self._n = 0

    def _fresh(self, op: str) -> str:
        self._n += 1
        return f"{op.lower()}_{self._n}"

    def input(self, name: str, shape: tuple) -> str:
        """A float graph input of ``shape`` (str dimensions are symbolic)."""
        self._inputs.append(_value_info(name, shape))
        return name

    def const(self, array: np.ndarray, name: str | None = None) -> str:
        """An initializer (a constant the graph holds)."""
        name = name or self._fresh("const")
        self._inits.append(_tensor(name, array))
        return name

    def op(self, op_type: str, *inputs: str, **attrs) -> str:
        """One node of ``op_type`` (default domain); its single output's name."""
        out = self._fresh(op_type)
        node = (b"".join(_str(1, i) for i in inputs) + _str(2, out) + _str(3, out) + _str(4, op_type)
                + b"".join(_bytes(5, _attribute(k, v)) for k, v in sorted(attrs.items())))
        self._nodes.append(node)
        return out

    def output(self, name: str, shape: tuple) -> None:
        """Declare ``name`` a graph output."""
        self._outputs.append(_value_info(name, shape))

    def model(self) -> bytes:
        """The serialized ModelProto."""
        graph = (b"".join(_bytes(1, n) for n in self._nodes) + _str(2, self.name)
                 + b"".join(_bytes(5, t) for t in self._inits) + b"".join(_bytes(11, i) for i in self._inputs)
                 + b"".join(_bytes(12, o) for o in self._outputs))
        opset = _str(1, "") + _int(2, OPSET)
        return _int(1, IR_VERSION) + _str(2, "inrcodec") + _bytes(7, graph) + _bytes(8, opset)

    # -- the operations of spec/models.md §1b, NCHW ------------------------------------------------

    def gelu(self, x: str) -> str:
        """§1b.5 GELU as (x·(1 + erf(x/√2)))·½: in this form (Div by √2, not Mul by 1/√2) ONNX Runtime
        fuses the five nodes into one Gelu kernel, ~20 % faster a frame (docs/decoder-notes.md)."""
        e = self.op("Erf", self.op("Div", x, self.const(np.array(math.sqrt(2), F32))))
        return self.op("Mul", self.op("Mul", x, self.op("Add", e, self.const(np.array(1.0, F32)))),
                       self.const(np.array(0.5, F32)))

    def conv3x3(self, x: str, weight: str, bias: str) -> str:
        """§1b.3, zero padding 1."""
        return self.op("Conv", x, weight, bias, kernel_shape=[3, 3], pads=[1, 1, 1, 1])

    def pixel_shuffle(self, x: str, channels: int) -> str:
        """§1b.4, channel 4c + 2dy + dx of x's ``channels`` to (2y + dy, 2x + dx) of channel c: DepthToSpace
        in CRD order, written as a ConvTranspose of C groups, stride 2, each 4 channels to 1 with a one-hot
        2×2 kernel (exact: a sample is one term, the others × 0), which ONNX Runtime runs several times
        faster than its DepthToSpace (docs/decoder-notes.md)."""
        one_hot = np.zeros((channels, 1, 2, 2), F32)
        for ch in range(channels):
            one_hot[ch, 0, (ch % 4) // 2, ch % 2] = 1
        return self.op("ConvTranspose", x, self.const(one_hot), group=channels // 4, kernel_shape=[2, 2],
                       strides=[2, 2])

    def up2(self, x: str) -> str:
        """§1b.6 bilinear ×2 with half-pixel centres, edges clamped."""
        return self.op("Resize", x, "", self.const(np.array([1, 1, 2, 2], F32)), mode="linear",
                       coordinate_transformation_mode="half_pixel")

    def up2_conv3x3(self, x: str, prefix: str, h: int, w: int, channels: int) -> str:
        """conv3x3(up2(x)) for x [N, Cin, h, w] to ``channels`` channels, folded (fold_up2_conv): the
        middle kernel over the whole map, then the first and last columns, then the first and last rows
        (each from x's samples next to it, zero padding where x ends) written over it (ScatterElements:
        Slice and Concat cost three times as much), then PixelShuffled."""
        kernel, bias = f"{prefix}.up2.{{}}.{{}}.weight", f"{prefix}.up2.bias"

        def conv(row: tuple, col: tuple) -> str:  # the (place, start, stop) region of rows × columns
            (rp, r0, r1), (cp, c0, c1) = row, col
            lo, hi = (max(r0 - 1, 0), max(c0 - 1, 0)), (min(r1 + 1, h), min(c1 + 1, w))
            part = x if lo == (0, 0) and hi == (h, w) else self.op(
                "Slice", x, self.const(np.array(lo, np.int64)), self.const(np.array(hi, np.int64)),
                self.const(np.array([2, 3], np.int64)))
            return self.op("Conv", part, kernel.format(rp, cp), bias, kernel_shape=[3, 3],
                           pads=[int(r0 == 0), int(c0 == 0), int(r1 == h), int(c1 == w)])

        def scatter(into: str, pieces: list[str], at: list[int], axis: int) -> str:
            update = pieces[0] if len(pieces) == 1 else self.op("Concat", *pieces, axis=axis)
            index = np.array(at, np.int64).reshape([1, 1, 1, 1][:axis] + [len(at)] + [1] * (3 - axis))
            return self.op("ScatterElements", into, self.op("Expand", self.const(index), self.op("Shape", update)),
                           update, axis=axis)

        rows, cols = _up2_regions(h), _up2_regions(w)
        every_row = ("middle", 0, h)
        out = conv(every_row, ("middle", 0, w))
        edge_cols = [c for c in cols if c[0] != "middle"]
        out = scatter(out, [conv(every_row, c) for c in edge_cols], [c[1] for c in edge_cols], 3)
        edge_rows = [r for r in rows if r[0] != "middle"]
        pieces = []
        for r in edge_rows:
            row = [conv(r, c) for c in cols]
            pieces.append(row[0] if len(row) == 1 else self.op("Concat", *row, axis=3))
        out = scatter(out, pieces, [r[1] for r in edge_rows], 2)
        return self.pixel_shuffle(out, 4 * channels)

    def slice_channels(self, x: str, start: int, stop: int) -> str:
        """Channels (axis 1) start..stop-1."""
        return self.op("Slice", x, self.const(np.array([start], np.int64)), self.const(np.array([stop], np.int64)),
                       self.const(np.array([1], np.int64)))

    def instance_norm(self, x: str, channels: int) -> str:
        """§1b.7, ε = 1e-5, no affine."""
        return self.op("InstanceNormalization", x, self.const(np.ones(channels, F32)),
                       self.const(np.zeros(channels, F32)), epsilon=1e-5)




# -- up2 then conv3x3 as one convolution at the low resolution (polyphase) -----------------------------
#
# Output sample 2i + p (phase p) of conv3x3(up2(x)) reads up-sampled samples 2i + p - 1 .. 2i + p + 1,
# each a blend of x[i-1], x[i], x[i+1] (¼/¾ weights, x clamped at the edges); the conv's zero padding
# drops the up-sampled samples -1 and 2n. So each phase (py, px) of the output is a 3×3 convolution
# of x with a kernel folded from the conv's, the four phases one convolution to 4·C channels, then
# PixelShuffled (CRD). The fold differs on x's first and last row (column), where the clamp and the
# padding act, and no padding of x makes one kernel right there: the map is convolved with the
# middle kernel, and its first and last columns, then rows, are recomputed with theirs and written
# over it. Resize's ×4 map and the ×4 convolution input are never made (issue 31; the figures in
# docs/decoder-notes.md). Its extra nodes cost more than that on small maps: not below UP2_FOLD_AREA
# samples (up2_folds), nor in bands.

UP2_PLACES = ("first", "middle", "last")  # a row's (column's) place in x: which folded kernel it takes
# up-sampled sample 2i + e (e = -1..2) as weights on x[i-1], x[i], x[i+1]
_UP2_BLEND = {-1: ((0, 0.75), (1, 0.25)), 0: ((0, 0.25), (1, 0.75)), 1: ((1, 0.75), (2, 0.25)),
              2: ((1, 0.25), (2, 0.75))}


def up2_taps(place: str) -> np.ndarray:
    """[phase p, tap k, d]: the weight of x[i + d - 1] in the up-sampled sample that tap k of output
    phase p reads, for a row (column) i at ``place`` (float64; exact quarters)."""
    first, last = place == "first", place == "last"
    a = np.zeros((2, 3, 3))
    for p in range(2):
        for k in range(3):
            e = p + k - 1
            if (first and e == -1) or (last and e == 2):
                continue  # the conv's zero padding
            for d, weight in _UP2_BLEND[e]:
                a[p, k, 1 if (first and d == 0) or (last and d == 2) else d] += weight  # the clamp
    return a


def fold_up2_conv(weight: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
    """conv3x3's weight [C, Cin, 3, 3] folded with up2 for a region of x at each (row, column) place:
    [4·C, Cin, 3, 3], channel 4c + 2py + px the output phase (py, px) of channel c. In float64, the
    columns first (each a sum over kx of exact products), then the rows (a sum over ky), then rounded
    to float32; web/src/synth/network.js computes each value alike."""
    taps = np.stack([up2_taps(p) for p in UP2_PLACES])  # [place, phase, k, d]
    w = weight.astype(np.float64)
    c, cin = w.shape[:2]
    t = np.zeros((3, c, cin, 3, 2, 3))  # [ky, C, Cin, column place, px, dx]
    for kx in range(3):
        t += w[:, :, :, kx].transpose(2, 0, 1)[..., None, None, None] * taps[:, :, kx, :]
    k = np.zeros((3, 2, 3, c, cin, 3, 2, 3))  # [row place, py, dy, C, Cin, column place, px, dx]
    for ky in range(3):
        k += taps[:, :, ky, :, None, None, None, None, None] * t[ky]
    k = k.transpose(0, 5, 3, 1, 6, 4, 2, 7).astype(F32)  # [row, col, C, py, px, Cin, dy, dx]
    return {(r, col): k[i, j].reshape(4 * c, cin, 3, 3) for i, r in enumerate(UP2_PLACES)
            for j, col in enumerate(UP2_PLACES)}


def _up2_regions(n: int) -> list[tuple[str, int, int]]:
    """The (place, start, stop) regions of a map axis of n >= 2 samples."""
    return [("first", 0, 1)] + ([("middle", 1, n - 1)] if n > 2 else []) + [("last", n - 1, n)]


def fused_up2(ops: list[Op], keep: set[str] = frozenset()) -> dict[str, Op]:
    """conv3x3 ops (by output) that read an up2 nobody else reads: the pairs folded into one
    convolution. ``keep``: values needed outside ``ops``."""
    readers: dict[str, int] = {}
    for op in ops:
        for a in op.args:
            readers[a] = readers.get(a, 0) + 1
    ups = {op.out: op for op in ops if op.kind == "up2" and op.out not in keep}
    return {op.out: ups[op.args[0]] for op in ops
            if op.kind == "conv3x3" and not op.attrs.get("shuffle") and op.args[0] in ups
            and readers[op.args[0]] == 1}


UP2_FOLD_AREA = 4096  # x's samples a frame from which the fold pays (below, its extra nodes cost more)


def up2_folds(ops: list[Op], inputs: dict[str, tuple], keep: set[str] = frozenset(),
              min_area: int = UP2_FOLD_AREA) -> set[str]:
    """The conv3x3 ops (by output) of fused_up2 worth folding for these ``inputs`` (graph_model's): x at
    least 2 samples tall and wide and ``min_area`` samples. Measured on 2 cores (docs/decoder-notes.md):
    a folded 24 -> 24 block, 4 frames a call, one thread, native ORT 14.1 -> 13.1 ms at 45×80 and
    59.9 -> 47.9 ms at 90×160 but 0.47 -> 0.90 ms at 9×11; onnxruntime-web's wasm 1.7 -> 4.9 ms at 9×11."""
    size = {v: tuple(d[2:]) for v, d in inputs.items() if len(d) == 4}
    for op in ops:
        if op.args and op.args[0] in size:
            h, w = size[op.args[0]]
            size[op.out] = (2 * h, 2 * w) if op.kind == "up2" or op.attrs.get("shuffle") else (h, w)
    return {out for out, up in fused_up2(ops, keep).items()
            if min(size[up.args[0]]) >= 2 and size[up.args[0]][0] * size[up.args[0]][1] >= min_area}


# -- the program's map operations as a graph --------------------------------------------------------


def _weight_inputs(op: Op) -> tuple[str, str] | None:
    """The (weight, bias) graph inputs of a conv3x3 or heads op."""
    if op.kind == "conv3x3":
        return f"{op.attrs['prefix']}.weight", f"{op.attrs['prefix']}.bias"
    if op.kind == "heads":
        return "heads.weight", "heads.bias"
    return None


def graph_model(ops: list[Op], inputs: dict[str, tuple], weights: dict[str, tuple], outputs: list[str],
                heads: str | None = None, fold: set[str] = frozenset()) -> bytes:
    """The ONNX model of ``ops``: ``inputs`` (value -> NCHW or [N, n] shape, a str dimension symbolic)
    and ``weights`` (name -> shape) in, ``outputs`` out channels-last (maps as numpy lays them out);
    then, if ``heads`` names the heads' map, §1b.8's PixelShuffles of it: ``y`` [N, 1, 2h, 2w] and ``c``
    [N, 2, h, w] (4:2:0) or [N, 2, 2h, 2w] (4:4:4), so that numpy only crops and adds the offset. The
    conv3x3 ops named in ``fold`` (up2_folds) run with the up2 they read folded in (up2_conv3x3)."""
    g = Graph("inrcodec")
    name: dict[str, str] = {}  # program value -> graph tensor
    shape: dict[str, tuple] = {}  # each map's (C, h, w)
    for value, dims in inputs.items():
        name[value] = g.input(value, dims)
        shape[value] = tuple(dims[1:])
    for w, dims in weights.items():
        g.input(w, dims)
    fused = {out: up for out, up in fused_up2(ops, set(outputs) | {heads}).items() if out in fold}
    folded = {up.out for up in fused.values()}
    for op in ops:
        if op.out in folded:  # made by the conv that reads it
            continue
        if op.out in fused:
            up, prefix = fused[op.out], op.attrs["prefix"]
            _, h, w = shape[up.args[0]]
            c = weights[f"{prefix}.up2.bias"][0] // 4
            out = g.up2_conv3x3(name[up.args[0]], prefix, h, w, c)
            if op.attrs.get("gelu"):
                out = g.gelu(out)
            name[op.out], shape[op.out] = out, (c, 2 * h, 2 * w)
            continue
        x, *rest = (name[a] for a in op.args)
        c, h, w = shape[op.args[0]][:3] if len(shape[op.args[0]]) == 3 else (None, None, None)
        if op.kind == "instance_norm":
            out = g.instance_norm(x, c)
        elif op.kind == "modulate":
            s, m = (g.op("Reshape", g.slice_channels(rest[0], a, b), g.const(np.array([0, c, 1, 1], np.int64)))
                    for a, b in ((0, c), (c, 2 * c)))
            out = g.op("Add", g.op("Mul", x, g.op("Add", s, g.const(np.array(1.0, F32)))), m)
        elif op.kind == "up2":
            out, h, w = g.up2(x), 2 * h, 2 * w
        elif op.kind == "add_tiled":
            out = g.op("Add", x, g.op("Tile", rest[0], g.const(np.array([1, 1, h // 2, w // 2], np.int64))))
        elif op.kind in ("conv3x3", "heads"):
            wname, bname = _weight_inputs(op)
            out, c = g.conv3x3(x, wname, bname), weights[wname][0]
            if op.attrs.get("shuffle"):
                out, c, h, w = g.pixel_shuffle(out, c), c // 4, 2 * h, 2 * w
            if op.attrs.get("gelu"):
                out = g.gelu(out)
        elif op.kind == "add":
            out = g.op("Add", x, rest[0])
        elif op.kind == "gelu":
            out = g.gelu(x)
        else:
            raise ValueError(f"the ort backend has no graph for operation {op.kind!r}")
        name[op.out], shape[op.out] = out, (c, h, w)
    for value in outputs:
        c, h, w = shape[value]
        out = g.op("Transpose", name[value], perm=[0, 2, 3, 1])
        g.output(out, ("N", h, w, c))
    if heads is not None:
        k = shape[heads][0] - 4
        g.output(g.pixel_shuffle(g.slice_channels(name[heads], 0, 4), 4), ("N", 1, "Hy", "Wy"))
        chroma = g.slice_channels(name[heads], 4, 4 + k)
        g.output(g.pixel_shuffle(chroma, k) if k == 8 else chroma, ("N", 2, "Hc", "Wc"))
    return g.model()


class OrtNetwork(NumpyNetwork):
    """One layer's network: the numpy backend for the cheap operations, an ONNX Runtime session for the maps."""

    def __init__(self, arch: type[Architecture], width: int, height: int, chroma: str, arch_params: tuple[int, ...],
                 offset: float, session_options) -> None:
        super().__init__(arch, width, height, chroma, arch_params, offset)
        self._session_options = session_options
        self.session = None
        graph: set[str] = set()
        for op in self._frame_ops:
            if op.kind in MAP_KINDS or (op.kind in ("add", "gelu") and any(a in graph for a in op.args)):
                graph.add(op.out)
        self._graph = [op for op in self._frame_ops if op.out in graph]
        self._pre = [op for op in self._frame_ops if op.out not in graph]
        post: set[str] = set()
        for op in self._pre:  # host operations on the graph's results run after it
            if any(a in graph or a in post for a in op.args):
                post.add(op.out)
        self._post = [op for op in self._pre if op.out in post]
        self._pre = [op for op in self._pre if op.out not in post]
        made = {op.out for op in self._graph}
        self._inputs = sorted({a for op in self._graph for a in op.args if a not in made})
        self._outputs = sorted({a for op in self._post for a in op.args if a in made})
        # the heads' map made by the graph: its PixelShuffles in the graph too (numpy's copies cost)
        self._heads = self.program.output if self.program.output in made else None
        self._chunked = {op.out for op in self._pre if op.kind == "patches"}
        self._weights: dict[str, np.ndarray] = {}
        self._fold: set[str] | None = None  # the convs folded with their up2 (up2_folds), from the first weights

    def load_arrays(self, arrays: list[np.ndarray]) -> None:
        """Take the float32 weights in wire order; the first GOP also builds the session. In bands
        (spec/levels.md §4b) the numpy kernels run every piece: no session."""
        super().load_arrays(arrays)
        if self.band is not None:
            self._band_sessions: dict[tuple, object] = {}
            if self._map_bands is not None:
                self._weights = self._conv_feed(self._map_bands.banded)
            return
        if self._fold is None:
            self._fold = up2_folds(self._graph, self._graph_inputs(), {*self._outputs, self._heads})
        self._weights = self._conv_feed(self._graph, self._fold)
        if self.session is None:
            self.session = self._make_session()

    def _conv_feed(self, ops: list[Op], fold: set[str] = frozenset()) -> dict[str, np.ndarray]:
        """The weights and biases of ``ops``' convolutions as graph inputs; those of the convs in ``fold``
        folded with up2 instead (fold_up2_conv): a kernel for each (row, column) place, a bias for each phase."""
        w = self._w
        feed = {}
        for op in ops:
            names = _weight_inputs(op)
            if names is None:
                continue
            if op.out in fold:
                prefix = op.attrs["prefix"]
                for (r, c), kernel in fold_up2_conv(w[names[0]]).items():
                    feed[f"{prefix}.up2.{r}.{c}.weight"] = kernel
                feed[f"{prefix}.up2.bias"] = np.repeat(w[names[1]], 4)
            elif op.kind == "heads":
                feed[names[0]] = np.concatenate([w["head_y.weight"], w["head_c.weight"]])
                feed[names[1]] = np.concatenate([w["head_y.bias"], w["head_c.bias"]])
            else:
                feed[names[0]], feed[names[1]] = (np.ascontiguousarray(w[n]) for n in names)
        return feed

    def bands(self, t: np.ndarray, edges: list[tuple[int, int]]):
        """NumpyNetwork.bands with the banded operations of gnerv and hinerv run by ONNX Runtime: one
        graph of them per band shape, fed each map's needed rows (spec/levels.md §4b)."""
        mb = self._map_bands
        if mb is None:  # nirvana: the numpy kernels
            yield from super().bands(t, edges)
            return
        import onnxruntime as ort

        env = dict(self._consts)
        env["t"] = np.asarray(t, F32).reshape(-1)
        self.run(mb.prefix, env)
        self.run(mb.once, env)
        made = {op.out for op in mb.banded}
        inputs = sorted({a for op in mb.banded for a in op.args if a not in made})
        for lo, hi in edges:
            need = mb.needs(lo, hi, self.is_map)
            feed = {}
            for name in inputs:
                x = env[name]
                if self.is_map[name] and name in need:
                    x = x[:, need[name][0]:need[name][1]]
                feed[name] = self._nchw(name, x)
            key = tuple((n, feed[n].shape) for n in inputs)
            if key not in self._band_sessions:
                shapes = {n: (feed[n].shape if n in self._consts else ("N", *feed[n].shape[1:])) for n in inputs}
                model = graph_model(mb.banded, shapes, {n: a.shape for n, a in self._weights.items()}, [mb.output])
                self._band_sessions[key] = ort.InferenceSession(model, self._session_options,
                                                                providers=["CPUExecutionProvider"])
            heads = self._band_sessions[key].run(None, {**self._weights, **feed})[0]
            start = mb.output_start({n: need.get(n, (0, 0))[0] for n in inputs}, self.is_map)
            yield self.planes(heads[:, lo - start:hi - start], lo)

    def _make_session(self):
        import onnxruntime as ort

        return ort.InferenceSession(self.graph(), self._session_options, providers=["CPUExecutionProvider"])

    def _graph_inputs(self) -> dict[str, tuple]:
        """The graph's inputs' shapes (weights loaded: they come from them), the batch symbolic."""
        env = dict(self._consts)
        env["t"] = np.zeros(1, F32)
        for op in self._pre:  # one frame, for the inputs' shapes
            env[op.out] = self.execute(op, env)
        inputs = {}
        for name in self._inputs:
            dims = np.shape(self._nchw(name, env[name]))
            inputs[name] = dims if name in self._consts else ("N", *dims[1:])
        return inputs

    def graph(self) -> bytes:
        """The serialized ONNX model of the map operations (weights loaded)."""
        weights = {name: a.shape for name, a in self._weights.items()}
        return graph_model(self._graph, self._graph_inputs(), weights, self._outputs, self._heads, self._fold or set())

    def _nchw(self, name: str, value: np.ndarray) -> np.ndarray:
        """A value as the graph takes it: maps channels-first."""
        if self.is_map[name]:
            return np.ascontiguousarray(value.transpose(0, 3, 1, 2))
        return np.ascontiguousarray(value, F32)

    def __call__(self, t: np.ndarray) -> list[np.ndarray]:
        """Planes [Y, U, V] (float32 [B, h, w]) of the frames at time positions ``t``."""
        if self.session is None:
            raise RuntimeError("load_arrays first")
        env = dict(self._consts)
        env["t"] = np.asarray(t, F32).reshape(-1)
        for op in self._pre:
            env[op.out] = self.execute(op, env)
        feed = {name: self._nchw(name, env[name]) for name in self._inputs}
        chunked = [n for n in self._inputs if n in self._chunked]
        if chunked:  # patches: a bounded batch at a time
            total = feed[chunked[0]].shape[0]
            parts = [self.session.run(None, {**self._weights, **feed,
                                             **{n: feed[n][i:i + PATCH_BATCH] for n in chunked}})
                     for i in range(0, total, PATCH_BATCH)]
            results = [np.concatenate(r) for r in zip(*parts)]
        else:
            results = self.session.run(None, {**self._weights, **feed})
        env.update(zip(self._outputs, results))
        if self._heads is not None:
            return self._crop(*results[len(self._outputs):])
        for op in self._post:
            env[op.out] = self.execute(op, env)
        return self.planes(env[self.program.output])

    def _crop(self, y: np.ndarray, c: np.ndarray) -> list[np.ndarray]:
        """§1b.8 from the graph's shuffled heads: cropped [Y, U, V] [B, h, w] with the output offset."""
        ch, cw = self.chroma.chroma_shape(self.width, self.height)
        off = self.output_offset
        return [np.add(y[:, 0, :self.height, :self.width], off, dtype=F32),
                np.add(c[:, 0, :ch, :cw], off, dtype=F32), np.add(c[:, 1, :ch, :cw], off, dtype=F32)]


def session_options(threads: int):
    """ONNX Runtime options: ``threads`` intra-op threads, one inter-op, all graph optimisations."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3  # warnings about unused inputs and the like stay off stderr
    return opts


class OrtSynthesis(NumpySynthesis):
    """The ``ort`` backend: every layer's network an OrtNetwork, summed and rounded as the numpy backend does."""

    name = "ort"

    def __init__(self, header, layers, plans, threads: int, band: int | None = None) -> None:
        self._options = session_options(threads)
        super().__init__(header, layers, plans, band)

    def network(self, arch, width, height, chroma, arch_params, offset) -> OrtNetwork:
        return OrtNetwork(arch, width, height, chroma, arch_params, offset, self._options)
