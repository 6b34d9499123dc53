"""Each architecture's coded tensors in wire order, from the sequence header alone (stdlib only).

A decoder needs the list of tensors (name, shape, seeded-initialisation bound, whether it travels in
the residual BLOB) before it can read a model body, and it must not need torch for that: the torch
classes of ``inrcodec.models`` return these lists as their ``tensor_specs()`` (one implementation),
and a player reads them here. ``TENSOR_SPECS`` uses the wire ids of ``inrcodec.costs.NETWORK_COSTS``;
an architecture registered only in ``inrcodec.models`` (a plug-in) has its list from its torch class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from .costs import NETWORK_COSTS
from .registry import Registry


@dataclass(frozen=True)
class TensorSpec:
    """One coded tensor: its parameter name, shape and the bound of its seeded initialisation."""

    name: str
    shape: tuple[int, ...]
    init_bound: float  # 0.0: initialised to zeros, no PRNG draws
    # True: quantized like the others, but not arithmetic-coded: its symbols travel zstd/LZMA
    # compressed in the GOP's residual BLOB (nirvana §4.1's conv layers; binary32 residuals in older
    # files), the model body keeping only its step code and max_abs (spec/models.md §3b).
    blob: bool = False

    @property
    def numel(self) -> int:
        """Number of elements."""
        n = 1
        for s in self.shape:
            n *= s
        return n


SpecFunction = Callable[[int, int, str, tuple[int, ...]], list[TensorSpec]]
TENSOR_SPECS: Registry[SpecFunction] = Registry("architecture")


def _k(chroma: str) -> int:
    """Output channels of the chroma head (inrcodec.costs validates ``chroma``)."""
    return 2 if chroma == "420" else 8


def _layer(prefix: str, shape: tuple[int, ...], bound: float, blob: bool = False) -> list[TensorSpec]:
    """A weight and its zero-initialised bias (one per output channel)."""
    return [TensorSpec(f"{prefix}.weight", shape, bound, blob), TensorSpec(f"{prefix}.bias", (shape[0],), 0.0, blob)]


def _fan_in_bound(shape: tuple[int, ...]) -> float:
    """1/√fan_in: a linear layer's inputs, a conv's inputs times its kernel area."""
    return 1.0 / math.sqrt(math.prod(shape[1:]))


def _heads(c: int, chroma: str) -> list[TensorSpec]:
    """Luma head (4 outputs) then chroma head, conv3×3 on ``c`` channels (spec/models.md §2 steps 4-5)."""
    return (_layer("head_y", (4, c, 3, 3), _fan_in_bound((4, c, 3, 3)))
            + _layer("head_c", (_k(chroma), c, 3, 3), _fan_in_bound((_k(chroma), c, 3, 3))))


@TENSOR_SPECS.register("gnerv", wire_id=NETWORK_COSTS.id_of("gnerv"))
def gnerv_tensors(width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> list[TensorSpec]:
    """spec/models.md §2: embedding, time MLP, per block (shift, conv), luma head, chroma head."""
    NETWORK_COSTS.get("gnerv")(width, height, chroma, tuple(arch_params))  # validates
    up_mode, pe_levels, time_dim, *ch = (int(p) for p in arch_params)
    grid = 2 ** len(ch)
    expand = 4 if up_mode == 0 else 1
    out = [TensorSpec("embedding", (1, ch[0], -(-height // grid), -(-width // grid)), 1.0)]
    out += _layer("time_fc", (time_dim, 2 * pe_levels), _fan_in_bound((time_dim, 2 * pe_levels)))
    for j, (a, b) in enumerate(zip(ch[:-1], ch[1:])):
        out += _layer(f"shift.{j}", (2 * a, time_dim), _fan_in_bound((2 * a, time_dim)))
        out += _layer(f"convs.{j}", (expand * b, a, 3, 3), _fan_in_bound((expand * b, a, 3, 3)))
    return out + _heads(ch[-1], chroma)


SIREN_W0 = 30.0  # nirvana's SIREN frequency (spec/models.md §2b)


@TENSOR_SPECS.register("nirvana", wire_id=NETWORK_COSTS.id_of("nirvana"))
def nirvana_tensors(width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> list[TensorSpec]:
    """spec/models.md §2b: MLP layers, to_feature, conv blocks, heads (the convs and heads in the BLOB)."""
    NETWORK_COSTS.get("nirvana")(width, height, chroma, tuple(arch_params))  # validates
    patch, mlp_width, mlp_depth, *ch = (int(p) for p in arch_params)
    h0 = patch // 2 ** len(ch)
    out: list[TensorSpec] = []
    for j in range(mlp_depth):
        fan_in = 2 if j == 0 else mlp_width
        # SIREN initialisation: first layer U(-1/n, 1/n), later ones U(-sqrt(6/n)/w0, sqrt(6/n)/w0)
        out += _layer(f"mlp.{j}", (mlp_width, fan_in), 1.0 / fan_in if j == 0 else math.sqrt(6.0 / fan_in) / SIREN_W0)
    out += _layer("to_feature", (ch[0] * h0 * h0, mlp_width), 1.0 / math.sqrt(mlp_width))
    for j, (a, b) in enumerate(zip(ch[:-1], ch[1:])):
        out += _layer(f"convs.{j}", (4 * b, a, 3, 3), _fan_in_bound((4 * b, a, 3, 3)), blob=True)
    k = _k(chroma)
    return (out + _layer("head_y", (4, ch[-1], 3, 3), _fan_in_bound((4, ch[-1], 3, 3)), blob=True)
            + _layer("head_c", (k, ch[-1], 3, 3), _fan_in_bound((k, ch[-1], 3, 3)), blob=True))


@TENSOR_SPECS.register("hinerv", wire_id=NETWORK_COSTS.id_of("hinerv"))
def hinerv_tensors(width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> list[TensorSpec]:
    """spec/models.md §2c: grid levels (coarse to fine), per stage (local grid, modulation grid, conv), heads.

    The coarsest grid level starts uniform in [-1, 1] (gnerv's embedding); the finer levels and the
    local and modulation grids start at zero."""
    NETWORK_COSTS.get("hinerv")(width, height, chroma, tuple(arch_params))  # validates
    t0, levels, local_t, mod_t, *ch = (int(p) for p in arch_params)
    grid = 2 ** len(ch)
    eh, ew = -(-height // grid), -(-width // grid)
    out = [TensorSpec(f"grids.{level}", (t0 << level, ch[0], eh, ew), 1.0 if level == 0 else 0.0)
           for level in range(levels)]
    for j, (a, b) in enumerate(zip(ch[:-1], ch[1:])):
        if local_t:
            out.append(TensorSpec(f"local.{j}", (local_t, a, 2, 2), 0.0))
        if mod_t:
            out.append(TensorSpec(f"mod.{j}", (mod_t, 2 * a), 0.0))
        out += _layer(f"convs.{j}", (b, a, 3, 3), _fan_in_bound((b, a, 3, 3)))
    return out + _heads(ch[-1], chroma)


def has_tensor_specs(arch_id: int) -> bool:
    """Whether architecture ``arch_id`` has its tensor list here (False: a plug-in's torch class has it)."""
    try:
        TENSOR_SPECS.by_id(arch_id)
    except Exception:
        return False
    return True


def tensor_specs(arch_id: int, width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> list[TensorSpec]:
    """The coded tensors of architecture ``arch_id`` in wire order (InrUnsupportedError for an id
    not registered here, ValueError for invalid arch_params)."""
    return TENSOR_SPECS.by_id(arch_id)(width, height, chroma, tuple(arch_params))
