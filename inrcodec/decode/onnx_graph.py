"""The ``ort`` synthesis backend: each network's convolution stack as an ONNX graph run by ONNX Runtime.

ONNX Runtime's CPU kernels run these small convolutions faster than torch or numpy on a few cores
(docs/decoder-notes.md, "Synthesis backends"). The graph is written here directly as protobuf bytes
(the handful of ``onnx.proto`` messages it needs: ModelProto, GraphProto, NodeProto, AttributeProto,
TensorProto, ValueInfoProto), so decoding needs the ``onnxruntime`` wheel but not the ``onnx``
package. One graph, and one InferenceSession, serves a whole file: every weight is a graph input
fed with the GOP's decoded values, so a new GOP costs no session.

What is cheap and per frame or per GOP stays in numpy, computed by ``numpy_render``'s own
definitions (time encodings and MLPs, the temporal grid interpolations, the instance norm of
gnerv's constant embedding, nirvana's per-patch features, the heads' PixelShuffle, crop and offset,
the layers' sum and the one rounding); the graph runs what costs: conv3×3, GELU, PixelShuffle
(DepthToSpace, CRD order), bilinear ×2 (Resize, half-pixel), instance norm and the distribution shift.
Samples stay within ±1 of the reference decoder (tests/unit/test_onnx_graph.py, the golden streams).
"""

from __future__ import annotations

import math
import struct

import numpy as np

from ..container.bitio import uvarint_bytes
from ..container.chunks import LayerHeader, SequenceHeader, layer_specs
from ..container.spec import ChromaFormat
from ..costs import NIRVANA_PATCH_BATCH
from . import numpy_render as nr
from .model_io import Layer
from .synthesis import Synthesis, default_threads

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

    def pixel_shuffle(self, x: str) -> str:
        """§1b.4, channel 4c + 2dy + dx to (2y + dy, 2x + dx) of channel c: DepthToSpace in CRD order."""
        return self.op("DepthToSpace", x, blocksize=2, mode="CRD")

    def up2(self, x: str) -> str:
        """§1b.6 bilinear ×2 with half-pixel centres, edges clamped."""
        return self.op("Resize", x, "", self.const(np.array([1, 1, 2, 2], F32)), mode="linear",
                       coordinate_transformation_mode="half_pixel")

    def slice_channels(self, x: str, start: int, stop: int) -> str:
        """Channels start..stop-1 of an NCHW map."""
        return self.op("Slice", x, self.const(np.array([start], np.int64)), self.const(np.array([stop], np.int64)),
                       self.const(np.array([1], np.int64)))

    def instance_norm(self, x: str, channels: int) -> str:
        """§1b.7, ε = 1e-5, no affine."""
        return self.op("InstanceNormalization", x, self.const(np.ones(channels, F32)),
                       self.const(np.zeros(channels, F32)), epsilon=1e-5)


# -- the networks' graphs: weights as inputs, one session per file ------------------------------


def _conv_inputs(g: Graph, prefix: str, o: int, i: int) -> tuple[str, str]:
    return g.input(f"{prefix}.weight", (o, i, 3, 3)), g.input(f"{prefix}.bias", (o,))


def _heads(g: Graph, x: str, c: int, k: int, batch: str = "B") -> None:
    """Both heads as one conv (luma's 4 output channels first), then §1b.8's PixelShuffles: outputs
    ``y`` [B, 1, 2h, 2w] and ``c`` [B, 2, h, w] (4:2:0) or [B, 2, 2h, 2w] (4:4:4: channels 0-3 Cb,
    4-7 Cr, each PixelShuffled), before the crop and the offset."""
    w, b = _conv_inputs(g, "heads", 4 + k, c)
    heads = g.conv3x3(x, w, b)
    y = g.pixel_shuffle(g.slice_channels(heads, 0, 4))
    chroma = g.slice_channels(heads, 4, 4 + k)
    if k == 8:
        chroma = g.pixel_shuffle(chroma)
    g.output(y, (batch, 1, "Hy", "Wy"))
    g.output(chroma, (batch, 2, "Hc", "Wc"))


def gnerv_graph(net: "nr.Gnerv") -> bytes:
    """Inputs x0 [1, C0, eh, ew] (the normalised embedding), per block scale_j = 1 + s and shift_j
    [B, Cj, 1, 1], the convs' and heads' weights; output heads [B, 4 + k, H/2, W/2]."""
    g = Graph("gnerv")
    ch, e = net.channels, 4 if net.up_mode == 0 else 1
    x = g.input("x0", (1, ch[0], net.eh, net.ew))
    for j in range(net.n_blocks):
        if j > 0:
            x = g.instance_norm(x, ch[j])
        x = g.op("Add", g.op("Mul", x, g.input(f"scale{j}", ("B", ch[j], 1, 1))), g.input(f"shift{j}", ("B", ch[j], 1, 1)))
        w, b = _conv_inputs(g, f"convs.{j}", e * ch[j + 1], ch[j])
        x = g.gelu(g.pixel_shuffle(g.conv3x3(x, w, b)) if net.up_mode == 0 else g.conv3x3(g.up2(x), w, b))
    _heads(g, x, ch[-1], net.k)
    return g.model()


def hinerv_graph(net: "nr.Hinerv") -> bytes:
    """Inputs x0 [B, C0, eh, ew] (the summed grid levels), per stage the local grid [B, Cj, 2, 2] and
    scale_j/shift_j [B, Cj, 1, 1] where the architecture has them, the weights; output heads."""
    g = Graph("hinerv")
    ch = net.channels
    x = g.input("x0", ("B", ch[0], net.eh, net.ew))
    h, w = net.eh, net.ew
    for j in range(net.n_stages):
        x = g.up2(x)
        h, w = 2 * h, 2 * w
        if net.local_t:
            loc = g.input(f"local{j}", ("B", ch[j], 2, 2))
            x = g.op("Add", x, g.op("Tile", loc, g.const(np.array([1, 1, h // 2, w // 2], np.int64))))
        if net.mod_t:
            x = g.op("Add", g.op("Mul", x, g.input(f"scale{j}", ("B", ch[j], 1, 1))),
                     g.input(f"shift{j}", ("B", ch[j], 1, 1)))
        cw, cb = _conv_inputs(g, f"convs.{j}", ch[j + 1], ch[j])
        x = g.gelu(g.conv3x3(x, cw, cb))
    _heads(g, x, ch[-1], net.k)
    return g.model()


def nirvana_graph(net: "nr.Nirvana") -> bytes:
    """Input feats [N, C0, h0, h0] (patches' features, time embedding added), the weights; output
    heads [N, 4 + k, P/2, P/2]."""
    g = Graph("nirvana")
    ch = net.channels
    x = g.input("x0", ("N", ch[0], net.h0, net.h0))
    for j in range(net.n_blocks):
        w, b = _conv_inputs(g, f"convs.{j}", 4 * ch[j + 1], ch[j])
        x = g.gelu(g.pixel_shuffle(g.conv3x3(x, w, b)))
    _heads(g, x, ch[-1], net.k, "N")
    return g.model()


GRAPHS = {"gnerv": gnerv_graph, "hinerv": hinerv_graph, "nirvana": nirvana_graph}


def supports(arch: str | None) -> bool:
    """Whether the ort backend has a graph for architecture ``arch``."""
    return arch in GRAPHS


# -- running them --------------------------------------------------------------------------------


def _col(v: np.ndarray) -> np.ndarray:
    """[B, C] -> [B, C, 1, 1]."""
    return np.ascontiguousarray(v, F32)[:, :, None, None]


class OrtNetwork:
    """One layer's network: ``numpy_render``'s for the cheap parts, an ONNX Runtime session for the rest."""

    def __init__(self, net: "nr.NumpyNetwork", session_options) -> None:
        import onnxruntime as ort

        self.net = net
        self.arch = net.name
        self.session = ort.InferenceSession(GRAPHS[net.name](net), session_options, providers=["CPUExecutionProvider"])
        self._weights: dict[str, np.ndarray] = {}

    def load_arrays(self, arrays: list[np.ndarray]) -> None:
        """Take the float32 weights in wire order."""
        net = self.net
        net.load_arrays(arrays)
        w = net._w
        feed = {}
        n_convs = net.n_stages if self.arch == "hinerv" else net.n_blocks
        for j in range(n_convs):
            feed[f"convs.{j}.weight"] = np.ascontiguousarray(w[f"convs.{j}.weight"])
            feed[f"convs.{j}.bias"] = np.ascontiguousarray(w[f"convs.{j}.bias"])
        feed["heads.weight"] = np.ascontiguousarray(np.concatenate([w["head_y.weight"], w["head_c.weight"]]))
        feed["heads.bias"] = np.ascontiguousarray(np.concatenate([w["head_y.bias"], w["head_c.bias"]]))
        if self.arch == "gnerv":
            feed["x0"] = np.ascontiguousarray(net._emb.transpose(0, 3, 1, 2))
        self._weights = feed

    def _run(self, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        """The graph's outputs y, c."""
        return self.session.run(None, {**self._weights, **feed})

    def _planes(self, y: np.ndarray, c: np.ndarray) -> list[np.ndarray]:
        """§1b.8: cropped [Y, U, V] [B, h, w] with the output offset, from [B, H, W] maps (one pass each)."""
        net = self.net
        ch, cw = (net.height, net.width) if net.k == 8 else (-(-net.height // 2), -(-net.width // 2))
        off = net.output_offset
        return [np.add(y[..., :net.height, :net.width], off, dtype=F32),
                np.add(c[:, 0, :ch, :cw], off, dtype=F32), np.add(c[:, 1, :ch, :cw], off, dtype=F32)]

    def __call__(self, t: np.ndarray) -> list[np.ndarray]:
        """Planes [Y, U, V] (float32 [B, h, w]) of the frames at time positions ``t``."""
        net = self.net
        t = np.asarray(t, F32).reshape(-1)
        feed: dict[str, np.ndarray] = {}
        if self.arch == "gnerv":
            for j, (s, m) in enumerate(gnerv_shifts(net, t)):
                feed[f"scale{j}"], feed[f"shift{j}"] = _col(np.add(F32(1.0), s, dtype=F32)), _col(m)
        elif self.arch == "hinerv":
            x = nr._lerp(net._grids[0], t)
            for grid in net._grids[1:]:
                x = np.add(x, nr._lerp(grid, t), dtype=F32)
            feed["x0"] = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
            for j in range(net.n_stages):
                cj = net.channels[j]
                if net.local_t:
                    feed[f"local{j}"] = np.ascontiguousarray(nr._lerp(net._local[j], t).transpose(0, 3, 1, 2))
                if net.mod_t:
                    sm = nr._lerp(net._w[f"mod.{j}"], t)
                    feed[f"scale{j}"] = _col(np.add(F32(1.0), sm[:, :cj], dtype=F32))
                    feed[f"shift{j}"] = _col(sm[:, cj:])
        else:
            return self._nirvana(t)
        y, c = self._run(feed)
        return self._planes(y[:, 0], c)

    def _nirvana(self, t: np.ndarray) -> list[np.ndarray]:
        net = self.net
        b, n_p, half = t.shape[0], net._s.shape[0], net.patch // 2
        feats = np.add(net._s[None, :, :], net._embedding(t)[:, None, :], dtype=F32)
        feats = feats.reshape(-1, net.channels[0], net.h0, net.h0)
        p = net.patch
        cp = p if net.k == 8 else half  # chroma patch side
        y = np.empty((b * n_p, p, p), F32)
        c = np.empty((b * n_p, 2, cp, cp), F32)
        for i in range(0, feats.shape[0], NIRVANA_PATCH_BATCH):  # bounded memory at any frame size
            y[i:i + NIRVANA_PATCH_BATCH], c[i:i + NIRVANA_PATCH_BATCH] = (
                o.reshape(-1, *shape) for o, shape in zip(self._run({"x0": feats[i:i + NIRVANA_PATCH_BATCH]}),
                                                          ((p, p), (2, cp, cp))))
        # patch (r, q) of frame f to rows r·side …, columns q·side …: the offset added in the same pass
        # as the rearrangement, then the crop (a view)
        off = net.output_offset
        y = np.add(y.reshape(b, net.gh, net.gw, p, p).transpose(0, 1, 3, 2, 4), off, dtype=F32)
        c = np.add(c.reshape(b, net.gh, net.gw, 2, cp, cp).transpose(0, 3, 1, 4, 2, 5), off, dtype=F32)
        y = y.reshape(b, net.gh * p, net.gw * p)
        c = c.reshape(b, 2, net.gh * cp, net.gw * cp)
        ch, cw = (net.height, net.width) if net.k == 8 else (-(-net.height // 2), -(-net.width // 2))
        return [y[:, :net.height, :net.width], c[:, 0, :ch, :cw], c[:, 1, :ch, :cw]]


def gnerv_shifts(net: "nr.Gnerv", t: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """gnerv's per-block (s, m) [B, Cj] of §2 steps 1-3: positional encoding, time MLP, shift layers."""
    w = net._w
    ang = np.multiply(t[:, None], net.freqs[None, :], dtype=F32)
    gamma = np.stack([nr._sin32(ang), nr._cos32(ang)], axis=-1).reshape(t.shape[0], -1)
    z = nr.gelu(nr._linear(gamma, w["time_fc.weight"], w["time_fc.bias"]))
    out = []
    for j in range(net.n_blocks):
        sm = nr._linear(z, w[f"shift.{j}.weight"], w[f"shift.{j}.bias"])
        cj = net.channels[j]
        out.append((sm[:, :cj], sm[:, cj:]))
    return out


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


class OrtSynthesis(Synthesis):
    """The ``ort`` backend: every layer's network as an OrtNetwork, summed and rounded as numpy_render does."""

    name = "ort"

    def __init__(self, header: SequenceHeader, layers: LayerHeader | None, plans: list[Layer],
                 threads: int | None = None) -> None:
        opts = session_options(threads or default_threads())
        chroma = ChromaFormat.from_code(header.chroma_format).label
        self.nets = [(OrtNetwork(nr.build(ls.arch_id, header.width, header.height, chroma, ls.arch_params,
                                          output_offset=0.5 if k == 0 else 0.0), opts), plan.scale)
                     for k, (ls, plan) in enumerate(zip(layer_specs(header, layers), plans))]

    def load(self, weights: list[list[np.ndarray]]) -> None:
        """Take each layer's float32 weights in wire order."""
        for (net, _), w in zip(self.nets, weights):
            net.load_arrays(w)

    def render(self, t: np.ndarray, bit_depth: int) -> list[np.ndarray]:
        """Y, U, V samples of the frames at ``t`` (one call per layer)."""
        return nr.render_layers(self.nets, np.asarray(t, F32), bit_depth, len(t))
