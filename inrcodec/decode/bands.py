"""Rendering frames in bands of rows, so that one piece of work fits the memory a decoder has
(spec/levels.md §4b); torch- and numpy-free: the numpy and torch interpreters pass their own
``execute`` and row slicing.

A network's operations after its last one that reads a whole map (``instance_norm``) are local: a
3×3 convolution needs one row above and below its output rows, a bilinear ×2 half a row, the
others the same rows. A band of the heads' rows is then computed from a band of each value's rows
a little wider (its halo), and the rows kept are the very numbers a whole-frame rendering computes
(the zero padding and clamped edges of a band only touch the halo rows, which are dropped).
nirvana's patches are independent of each other: its bands are whole rows of patches.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Callable

from ..archs.program import Op, Program

# kinds whose output row r reads whole maps (every row): the band planner starts after the last one
GLOBAL_KINDS = frozenset({"instance_norm"})
BANDED_KINDS = frozenset({"conv3x3", "heads", "up2", "add_tiled", "modulate", "gelu", "add", "sine"})
# a piece's working set (values of a batch's frames or of a band of them), 4-byte values; spec/levels.md §4b
PIECE_BYTES = 1 << 30
VALUE_BYTES = 4
HALO_ROWS = 8  # heads rows a band computes beyond its own, at most, for the estimate (a row per 3×3 conv)
# values of the largest size alive at once, per backend (measured on the audit's 16384x2048 files): an
# operation's input, its output and temporaries; ONNX Runtime's convolutions also unfold their input
# (im2col, nine values a value)
LIVE = {"numpy": 4, "torch": 5, "ort": 12}
MEMORY_ENV = "INRCODEC_MEMORY"  # bytes this process may use for decoding (default: what the system says)


def _need_in(op: Op, lo: int, hi: int, rows_in: int) -> tuple[int, int]:
    """The rows of ``op``'s first input that its output rows [lo, hi) read (clipped to the map)."""
    if op.kind == "conv3x3" and op.attrs["shuffle"]:
        lo, hi = lo // 2, -(-hi // 2)
    if op.kind in ("conv3x3", "heads"):
        return max(0, lo - 1), min(rows_in, hi + 1)
    if op.kind == "up2":  # output 2i reads inputs i-1, i; output 2i+1 inputs i, i+1
        return max(0, (lo - 1) // 2), min(rows_in, hi // 2 + 1)
    if op.kind == "add_tiled":  # the tile's row is the row's parity: bands start on an even row
        return lo - lo % 2, min(rows_in, hi + hi % 2)
    return lo, hi


def _out_start(op: Op, lo_in: int) -> int:
    """The output row of ``op`` computed from input row ``lo_in``."""
    doubles = op.kind == "up2" or (op.kind == "conv3x3" and op.attrs["shuffle"])
    return 2 * lo_in if doubles else lo_in


def map_rows(program: Program, is_map: dict[str, bool], map_shape: Callable[[str], tuple[int, ...]],
             out_channels: Callable[[Op], int]) -> dict[str, tuple[int, int, int]]:
    """(channels, rows, columns) of one frame of every map value of a program without patches;
    ``map_shape(name)``: a coded map's shape (T, C, h, w); ``out_channels(op)``: a conv's outputs."""
    shape: dict[str, tuple[int, int, int]] = {}
    for op in program.ops:
        if op.kind in ("tensor", "lerp"):
            if is_map.get(op.out):
                shape[op.out] = tuple(map_shape(op.attrs["name" if op.kind == "tensor" else "grid"])[1:])
            continue
        if not op.args or op.args[0] not in shape:
            continue
        c, h, w = shape[op.args[0]]
        if op.kind == "up2":
            h, w = 2 * h, 2 * w
        elif op.kind in ("conv3x3", "heads"):
            c = out_channels(op)
            if op.attrs.get("shuffle"):
                c, h, w = c // 4, 2 * h, 2 * w
        shape[op.out] = (c, h, w)
    return shape


@dataclass
class MapBands:
    """The band plan of a map network (gnerv, hinerv): ``prefix`` runs on whole maps, ``once`` (the
    tail's operations that read no map of the tail: time MLPs, grids) once a call, ``banded`` a band
    at a time."""

    prefix: list[Op]
    once: list[Op]
    banded: list[Op]
    rows: dict[str, int]  # rows of each map value
    output: str

    @classmethod
    def of(cls, ops: list[Op], output: str, is_map: dict[str, bool],
           shapes: dict[str, tuple[int, int, int]]) -> "MapBands":
        last = max((i for i, op in enumerate(ops) if op.kind in GLOBAL_KINDS), default=-1)
        prefix, tail = list(ops[:last + 1]), ops[last + 1:]
        once, banded = [], []
        for op in tail:
            reads_map = any(is_map.get(a) and a in shapes for a in _sliced(op, is_map))
            if op.kind in BANDED_KINDS and reads_map:
                banded.append(op)
            else:
                once.append(op)
        return cls(prefix, once, banded, {v: s[1] for v, s in shapes.items()}, output)

    def needs(self, lo: int, hi: int, is_map: dict[str, bool]) -> dict[str, tuple[int, int]]:
        """The rows of every value (the banded ops' and the maps they read) that output rows [lo, hi) need."""
        need = {self.output: (lo, hi)}
        for op in reversed(self.banded):
            if op.out not in need:
                continue
            a, b = need[op.out]
            for u in _sliced(op, is_map):
                na, nb = _need_in(op, a, b, self.rows[u])
                need[u] = (min(na, need[u][0]), max(nb, need[u][1])) if u in need else (na, nb)
        return need

    def output_start(self, starts: dict[str, int], is_map: dict[str, bool]) -> int:
        """The output row of the first row a graph of the banded ops computes when each map it reads
        starts at row ``starts[value]`` and nothing is cropped on the way (the ort backend)."""
        start = dict(starts)
        for op in self.banded:
            args = _sliced(op, is_map)
            start[op.out] = _out_start(op, start[args[0]])
        return start[self.output]

    def run_band(self, env: dict, lo: int, hi: int, is_map: dict[str, bool], execute: Callable,
                 take: Callable) -> object:
        """Rows [lo, hi) of the output computed from ``env`` (the prefix's and ``once``'s values, whole);
        ``take(x, a, b)``: rows a..b-1 of map x."""
        need = self.needs(lo, hi, is_map)
        have: dict[str, tuple[int, object]] = {}
        for op in self.banded:
            if op.out not in need:
                continue
            a, b = need[op.out]
            part = dict(env)
            lo_in = a
            for u in _sliced(op, is_map):
                na, nb = _need_in(op, a, b, self.rows[u])
                start, x = have.get(u, (0, env.get(u)))
                part[u] = take(x, na - start, nb - start)
                lo_in = na
            y = execute(op, part)
            s = _out_start(op, lo_in)
            have[op.out] = (a, take(y, a - s, b - s))
        return have[self.output][1]


def _sliced(op: Op, is_map: dict[str, bool]) -> tuple[str, ...]:
    """The arguments of ``op`` cut into bands: its maps, but not add_tiled's 2×2 tile."""
    if op.kind == "add_tiled":
        return op.args[:1]
    return tuple(a for a in op.args if is_map.get(a))


def band_starts(rows: int, band: int) -> list[tuple[int, int]]:
    """[lo, hi) bands of ``band`` rows covering ``rows``."""
    return [(lo, min(rows, lo + band)) for lo in range(0, rows, band)]


# -- how much memory, and how many rows a piece ---------------------------------------------------

@dataclass(frozen=True)
class Pieces:
    """How a file's frames are rendered: ``band`` heads rows a piece (None: whole frames), and the
    bytes that needs (weights and the largest piece)."""

    band: int | None
    piece_bytes: int
    weight_bytes: int

    @property
    def need_bytes(self) -> int:
        return self.piece_bytes + self.weight_bytes


def weight_bytes(total_params: int) -> int:
    """spec/levels.md §2: a few binary32 copies of every layer's weights (θ₀, previous, current, symbols)."""
    return 6 * VALUE_BYTES * total_params


def choose_pieces(batch: int, activation: int, fixed: int, heads_rows: int, unit: int, total_params: int,
                  budget: int = PIECE_BYTES, live: int = 4) -> Pieces:
    """Whole frames when a batch's ``live`` largest values fit ``budget`` bytes, else the tallest
    band of heads rows (a multiple of ``unit``) whose share of the activation fits beside ``fixed``
    (the values a band cannot cut: maps before the last instance norm, per frame); at least one unit."""
    whole = live * VALUE_BYTES * batch * activation
    weights = weight_bytes(total_params)
    if whole <= budget or heads_rows <= unit:
        return Pieces(None, whole, weights)
    per_row = live * VALUE_BYTES * batch * activation / heads_rows
    base = live * VALUE_BYTES * batch * fixed
    halo = HALO_ROWS
    # what a band cannot cut may already pass the budget: bands then still take half of it, never
    # a few rows (1-row bands of a 4-layer 1024^2 file took 6x the time of whole frames)
    room = max(budget - base, budget // 2)
    rows = max(unit, int(room // per_row) - halo) // unit * unit
    rows = max(unit, min(rows, heads_rows))
    if rows >= heads_rows:
        return Pieces(None, whole, weights)
    return Pieces(rows, base + math.ceil(per_row * (rows + halo)), weights)


def available_bytes() -> tuple[int, str]:
    """(bytes this process may still allocate, where that figure comes from): ``INRCODEC_MEMORY``
    when set, else the least of the address-space limit left, the cgroup's memory left and the
    system's available memory."""
    env = os.environ.get(MEMORY_ENV)
    if env:
        try:
            return max(0, int(env)), MEMORY_ENV
        except ValueError:
            pass
    found: list[tuple[int, str]] = []
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            used = _status_kib("VmSize") * 1024
            found.append((max(0, soft - used), "the address-space limit (ulimit -v)"))
    except (ImportError, OSError, ValueError):
        pass
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            cap = f.read().strip()
        if cap != "max":
            with open("/sys/fs/cgroup/memory.current") as f:
                found.append((max(0, int(cap) - int(f.read())), "the cgroup's memory.max"))
    except (OSError, ValueError):
        pass
    try:
        with open("/proc/meminfo") as f:
            kib = next(int(ln.split()[1]) for ln in f if ln.startswith("MemAvailable:"))
        found.append((kib * 1024, "the system's available memory"))
    except (OSError, StopIteration, ValueError):
        pass
    return min(found) if found else (1 << 62, "no limit found")


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        return next((int(ln.split()[1]) for ln in f if ln.startswith(field + ":")), 0)


def plan_pieces(header, layers, n_layers: int, costs: list, batch: int, budget: int | None = None,
                backend: str = "numpy") -> Pieces:
    """How the first ``n_layers`` layers of a file render on ``backend`` (``choose_pieces``), from the
    header alone: ``costs`` their NetworkCost, ``batch`` frames a network call."""
    from ..archs import ARCHITECTURES
    from ..archs.program import PATCH_BATCH
    from ..container.chunks import layer_specs
    from ..container.spec import ChromaFormat
    from .numpy_render import value_kinds

    chroma = ChromaFormat.from_code(header.chroma_format).label
    w, h = header.width, header.height
    fixed, unit = 0, 1
    for ls in layer_specs(header, layers)[:n_layers]:
        arch = ARCHITECTURES.by_id(ls.arch_id)
        params = tuple(ls.arch_params)
        program = arch.program(w, h, chroma, params)
        if any(op.kind == "patches" for op in program.ops):
            patch = arch.parse(params).patch
            unit = math.lcm(unit, patch // 2)
            n = -(-w // patch) * -(-h // patch)
            fixed += min(n, PATCH_BATCH) * arch.cost(patch, patch, chroma, params).activation
            continue
        specs = {s.name: s.shape for s in arch.tensors(w, h, chroma, params)}
        k = 4 + (2 if chroma == "420" else 8)
        is_map = value_kinds(program)
        shapes = map_rows(program, is_map, specs.__getitem__,
                          lambda op: k if op.kind == "heads" else specs[op.attrs["prefix"] + ".weight"][0])
        mb = MapBands.of(list(program.ops), program.output, is_map, shapes)
        fixed += max((math.prod(shapes[op.out]) for op in mb.prefix if op.out in shapes), default=0)
    activation = max(c.activation for c in costs)
    return choose_pieces(batch, activation, fixed, -(-h // 2), unit, sum(c.params for c in costs),
                         PIECE_BYTES if budget is None else budget, LIVE.get(backend, max(LIVE.values())))


def check_memory(pieces: Pieces, header, batch: int) -> None:
    """InrUnsupportedError (exit 6) naming the bytes decoding needs when this process has fewer."""
    from ..errors import InrUnsupportedError

    frames = 2 * batch * header.width * header.height * 3  # the batch's samples, at most 16 bits
    need = pieces.need_bytes + frames
    have, source = available_bytes()
    if need > have:
        how = "whole frames" if pieces.band is None else f"bands of {2 * pieces.band} rows"
        raise InrUnsupportedError(
            f"decoding {header.width}x{header.height} needs about {_mib(need)} MiB of memory ({_mib(pieces.piece_bytes)} "
            f"MiB to render {how}, {_mib(pieces.weight_bytes)} MiB of weights), above the {_mib(have)} MiB "
            f"{source} leaves (spec/levels.md §4b)")


def _mib(n: int) -> int:
    return -(-n // (1 << 20))
