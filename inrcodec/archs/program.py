"""An architecture's computation as data: a short list of operations every synthesis backend runs.

The decoder has three backends (torch, numpy, ONNX Runtime) and a plug-in must play on a player
without torch, so a network is not written three times: each architecture emits a ``Program``, a
list of ``Op`` naming its inputs and output, and each backend interprets the few kinds below
(spec/models.md §1b defines them; docs/architectures.md says why this form). Maps are [N, C, h, w]
as torch and ONNX lay them out (numpy runs them channels-last), vectors [N, n], ``t`` the frames'
time positions [B].

Kinds (``args``: the values read; ``attrs``: constants, among them the coded tensors' names):

- ``tensor`` (; name, is_map): a coded tensor as a value;
- ``fourier`` (t; base, levels): (sin(t·f_l), cos(t·f_l)) interleaved, f_l = base^l·π -> [B, 2·levels];
- ``sinusoid`` (t; scale, base, dim): (sin(u/d_i), cos(u/d_i)) interleaved, u = scale·t,
  d_i = base^(2i/dim), a last zero for an odd ``dim`` -> [B, dim];
- ``centroids`` (; grid_h, grid_w, patch, height, width): patch centres (x, y) in [-1, 1] -> [P, 2];
- ``linear`` (x; prefix): x·Wᵀ + b with ``prefix.weight``, ``prefix.bias``;
- ``gelu`` (x); ``sine`` (x; w0): sin(w0·x); ``add`` (a, b), broadcasting a batch of one;
- ``lerp`` (t; grid, is_map): linear interpolation in time of the tensor ``grid`` [T, ...] -> [B, ...];
- ``instance_norm`` (x); ``modulate`` (x, sm): x·(1 + s) + m, s and m the halves of sm [B, 2C];
- ``up2`` (x): bilinear ×2; ``add_tiled`` (x, loc): x plus loc [B, C, 2, 2] repeated over the map;
- ``conv3x3`` (x; prefix, shuffle, gelu): zero-padded 3×3 convolution, then PixelShuffle₂ and GELU if set;
- ``heads`` (x): the luma and chroma heads as one conv3×3 -> [N, 4 + k, h, w];
- ``patches`` (s, e; channels, side): every patch feature s [P, F] plus each frame's e [B, F], as
  [B·P, channels, side, side]; the ops up to ``unpatch`` then run per patch, a bounded batch at a time;
- ``unpatch`` (x; grid_h, grid_w): [B·P, K, h, w] -> [B, K, grid_h·h, grid_w·w].

The program's ``output`` is the heads' map [B, 4 + k, H', W'] (H', W' at least half the frame); the
backends turn it into cropped planes with the layer's output offset (§1b.8, §8).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

KINDS = ("tensor", "fourier", "sinusoid", "centroids", "linear", "gelu", "sine", "add", "lerp", "instance_norm",
         "modulate", "up2", "add_tiled", "conv3x3", "heads", "patches", "unpatch")
# kinds that work on maps: ONNX Runtime runs them (unless they read only weights, then numpy does, once)
MAP_KINDS = frozenset({"instance_norm", "modulate", "up2", "add_tiled", "conv3x3", "heads"})
PATCH_BATCH = 1024  # patches run at a time between ``patches`` and ``unpatch``: bounds memory at any frame size


@dataclass(frozen=True)
class Op:
    """One operation: ``out`` = ``kind``(``args``; ``attrs``)."""

    kind: str
    out: str
    args: tuple[str, ...] = ()
    attrs: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown operation {self.kind!r} (known: {', '.join(KINDS)})")


def sections(ops: list[Op]) -> Iterator[tuple[list[Op], str | None, str | None]]:
    """``ops`` cut where patches are batched: (ops, None, None) runs once; (ops, first, last) runs the
    ops between ``patches`` (whose value is ``first``) and ``unpatch`` (which reads ``last``) PATCH_BATCH
    patches at a time. The same walk for every interpreter."""
    i = 0
    while i < len(ops):
        start = next((j for j in range(i, len(ops)) if ops[j].kind == "patches"), len(ops))
        yield ops[i:start + 1], None, None  # up to and including ``patches``
        if start == len(ops):
            return
        end = next(j for j in range(start + 1, len(ops)) if ops[j].kind == "unpatch")
        yield ops[start + 1:end], ops[start].out, ops[end].args[0]
        i = end  # ``unpatch`` itself runs once, at the head of the next section


@dataclass(frozen=True)
class Program:
    """A network's operations in order; ``output`` names the heads' map."""

    ops: tuple[Op, ...]
    output: str


class Builder:
    """Writes a Program: each method appends one op and returns its output's name."""

    def __init__(self) -> None:
        self._ops: list[Op] = []

    def _op(self, kind: str, *args: str, **attrs) -> str:
        out = f"v{len(self._ops)}"
        self._ops.append(Op(kind, out, tuple(args), attrs))
        return out

    def program(self, output: str) -> Program:
        """The program so far, ``output`` its heads."""
        return Program(tuple(self._ops), output)

    def tensor(self, name: str, is_map: bool = True) -> str:
        return self._op("tensor", name=name, is_map=is_map)

    def fourier(self, base: float, levels: int) -> str:
        return self._op("fourier", "t", base=base, levels=levels)

    def sinusoid(self, scale: float, base: float, dim: int) -> str:
        return self._op("sinusoid", "t", scale=scale, base=base, dim=dim)

    def centroids(self, grid_h: int, grid_w: int, patch: int, height: int, width: int) -> str:
        return self._op("centroids", grid_h=grid_h, grid_w=grid_w, patch=patch, height=height, width=width)

    def linear(self, x: str, prefix: str) -> str:
        return self._op("linear", x, prefix=prefix)

    def gelu(self, x: str) -> str:
        return self._op("gelu", x)

    def sine(self, x: str, w0: float) -> str:
        return self._op("sine", x, w0=w0)

    def add(self, a: str, b: str) -> str:
        return self._op("add", a, b)

    def lerp(self, grid: str, is_map: bool) -> str:
        return self._op("lerp", "t", grid=grid, is_map=is_map)

    def instance_norm(self, x: str) -> str:
        return self._op("instance_norm", x)

    def modulate(self, x: str, sm: str) -> str:
        return self._op("modulate", x, sm)

    def up2(self, x: str) -> str:
        return self._op("up2", x)

    def add_tiled(self, x: str, loc: str) -> str:
        return self._op("add_tiled", x, loc)

    def conv3x3(self, x: str, prefix: str, shuffle: bool = False, gelu: bool = False) -> str:
        return self._op("conv3x3", x, prefix=prefix, shuffle=shuffle, gelu=gelu)

    def heads(self, x: str) -> str:
        return self._op("heads", x)

    def patches(self, s: str, e: str, channels: int, side: int) -> str:
        return self._op("patches", s, e, channels=channels, side=side)

    def unpatch(self, x: str, grid_h: int, grid_w: int) -> str:
        return self._op("unpatch", x, grid_h=grid_h, grid_w=grid_w)
