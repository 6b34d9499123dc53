"""What every architecture provides, torch-free: the decoder rebuilds a network from the header alone.

An architecture is a subclass of ``Architecture`` registered in ``inrcodec.archs.ARCHITECTURES``
with its permanent wire id. From (width, height, chroma, arch_params) it gives its validated
parameters (``parse``), its cost (``cost``), its coded tensors in wire order (``tensors``) and its
computation (``program``, run by every synthesis backend); the encoder reads its quality ladder,
lambdas and options, and trains its torch ``network``.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from ..container.spec import ChromaFormat
from .program import Builder, Program

# spec/models.md §2: the most coded parameters of any network; larger arch_params are invalid
MAX_PARAMS = 1 << 24
# quality -> lambda on the 6:1:1 MSE, shared by the architectures that do not tune their own
LAMBDAS: dict[int, float] = {1: 100.0, 2: 150.0, 3: 200.0, 4: 300.0, 5: 450.0, 6: 700.0, 7: 1000.0, 8: 1500.0,
                             9: 2500.0}


def output_offset(layer: int) -> float:
    """What every plane of layer ``layer`` adds (spec/models.md §1b.8, §8): samples on [0, 1] minus
    one half for the base layer, 0 for a residual layer, whose planes are a scaled difference."""
    return 0.5 if layer == 0 else 0.0


def chroma_format(chroma: "str | ChromaFormat") -> ChromaFormat:
    """``chroma`` ("420", "444" or the enum) as the enum; InrInputError (a ValueError) for anything else."""
    return ChromaFormat.of(chroma)


def chroma_channels(chroma: "str | ChromaFormat") -> int:
    """Output channels of the chroma head: 2 at half resolution (4:2:0), 8 PixelShuffled (4:4:4)."""
    return 2 if chroma_format(chroma) is ChromaFormat.YUV420 else 8


@dataclass(frozen=True)
class NetworkCost:
    """One network's size and the work and memory of one frame, counted without building it."""

    params: int  # coded parameters: the elements of every tensor in wire order
    macs: int  # multiply-accumulates to render one frame (convolutions and linear layers)
    pixels: int  # luma samples of the frame (width x height)
    grid: int  # luma samples of the padded frame the network computes (its output grid)
    activation: int  # elements of the largest intermediate tensor while rendering one frame

    @property
    def macs_per_pixel(self) -> float:
        """Multiply-accumulates per luma pixel of the frame (what ``info`` reports)."""
        return self.macs / self.pixels

    @property
    def macs_per_grid_sample(self) -> float:
        """Multiply-accumulates per luma sample of the padded grid: the level's measure, which does
        not grow without bound for frames smaller than the network's grid (spec/levels.md)."""
        return self.macs / self.grid


@dataclass(frozen=True)
class TensorSpec:
    """One coded tensor: its parameter name, shape and the bound of its seeded initialisation."""

    name: str
    shape: tuple[int, ...]
    init_bound: float  # 0.0: initialised to zeros, no PRNG draws
    # True: quantized like the others, but not arithmetic-coded: its symbols travel zstd/LZMA
    # compressed in the GOP's residual BLOB (spec/models.md §3b)
    blob: bool = False

    @property
    def numel(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)


@dataclass(frozen=True)
class ArchOption:
    """One architecture-specific encoder option; the CLI's ``enc`` and ``bench`` make ``--name-with-dashes``
    of it. ``kind`` "int" is one integer, "ints" a comma-separated list."""

    name: str
    kind: str
    help: str
    default: str = "by --quality"  # what None means, as the help shows it

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


# -- pieces the built-in architectures share ------------------------------------------------------

def check_size(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise ValueError(f"frame size {width}x{height} must be at least 1x1")


def check_channels(name: str, channels: tuple[int, ...], most: int) -> None:
    if any(not 1 <= c <= 1024 for c in channels) or len(channels) > most:
        raise ValueError(f"{name} channels must be 1..1024, at most {most} of them")


def check_cap(name: str, params: int) -> None:
    if params > MAX_PARAMS:
        raise ValueError(f"{name} network of {params} parameters exceeds {MAX_PARAMS}")


def trunk_start(width: int, height: int, channels: tuple[int, ...]) -> tuple[int, int]:
    """(h, w) a trunk of len(channels) - 1 x2 up-samplings starts from, so that it and the heads' x2
    cover the frame: the frame over 2^len(channels), rounded up."""
    grid = 2 ** len(channels)
    return -(-height // grid), -(-width // grid)


def heads_params(channels: int, k: int) -> int:
    """Parameters of head_y (4 outputs) and head_c (k outputs), conv3x3 on ``channels``."""
    return (4 + k) * (9 * channels + 1)


def fan_in_bound(shape: tuple[int, ...]) -> float:
    """1/√fan_in: a linear layer's inputs, a conv's inputs times its kernel area."""
    return 1.0 / math.sqrt(math.prod(shape[1:]))


def layer(prefix: str, shape: tuple[int, ...], bound: float | None = None, blob: bool = False) -> list[TensorSpec]:
    """A weight (initialised within ``bound``, default 1/√fan_in) and its zero-initialised bias."""
    bound = fan_in_bound(shape) if bound is None else bound
    return [TensorSpec(f"{prefix}.weight", shape, bound, blob), TensorSpec(f"{prefix}.bias", (shape[0],), 0.0, blob)]


def heads_tensors(c: int, k: int, blob: bool = False) -> list[TensorSpec]:
    """Luma head (4 outputs) then chroma head, conv3×3 on ``c`` channels (spec/models.md §2 steps 4-5)."""
    return layer("head_y", (4, c, 3, 3), blob=blob) + layer("head_c", (k, c, 3, 3), blob=blob)


# -- the base class --------------------------------------------------------------------------------

class Architecture:
    """An architecture: subclass it, set the class attributes, implement ``parse``, ``cost``,
    ``tensors`` and ``build``, and register it: ``@ARCHITECTURES.register("name", wire_id=N)``."""

    name: ClassVar[str] = ""  # stamped by ARCHITECTURES.register
    wire_id: ClassVar[int | None] = None
    QUALITY: ClassVar[dict[int, tuple[int, ...]]] = {}  # quality -> arch_params
    LAMBDAS: ClassVar[dict[int, float]] = LAMBDAS  # quality -> lambda
    OPTIONS: ClassVar[tuple[ArchOption, ...]] = ()  # the overrides ``from_quality`` takes
    # the torch network the encoder trains: a class, "module:Class", or a function returning the class
    # (the last two import torch on first use, so that a player without torch can load the architecture)
    network: ClassVar[Any] = None

    @classmethod
    def parse(cls, arch_params: tuple[int, ...]) -> Any:
        """arch_params as this architecture's named fields; ValueError if invalid."""
        raise NotImplementedError

    @classmethod
    def cost(cls, width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> NetworkCost:
        """Size and work of the network, by arithmetic; ValueError for invalid arch_params or a
        network above MAX_PARAMS. Every other method validates through it."""
        raise NotImplementedError

    @classmethod
    def tensors(cls, width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> list[TensorSpec]:
        """The coded tensors in wire order."""
        raise NotImplementedError

    @classmethod
    def build(cls, b: Builder, width: int, height: int, k: int, p: Any) -> str:
        """Write the computation into ``b`` for parsed params ``p`` and ``k`` chroma-head channels;
        return the heads' value."""
        raise NotImplementedError

    @classmethod
    def program(cls, width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> Program:
        """The computation every synthesis backend runs (inrcodec.archs.program)."""
        cls.cost(width, height, chroma, arch_params)
        b = Builder()
        return b.program(cls.build(b, width, height, chroma_channels(chroma), cls.parse(arch_params)))

    @classmethod
    def from_quality(cls, quality: int, **overrides: Any) -> tuple[int, ...]:
        """The arch_params of ``quality`` with the given OPTIONS overridden (None: the ladder's);
        ValueError for an option this architecture does not have."""
        unknown = set(overrides) - {o.name for o in cls.OPTIONS}
        if unknown:
            raise ValueError(f"{', '.join(sorted(unknown))} is not an option of this architecture")
        given = {k: v for k, v in overrides.items() if v is not None}
        return tuple(int(p) for p in cls.apply_options(tuple(cls.QUALITY[quality]), **given))

    @classmethod
    def apply_options(cls, arch_params: tuple[int, ...], **overrides: Any) -> tuple[int, ...]:
        """arch_params with the given (non-None) OPTIONS applied."""
        return arch_params

    @classmethod
    def network_class(cls) -> type:
        """The torch network (imports torch): stamped with this architecture's name, wire id and settings."""
        net = cls.network
        if isinstance(net, str):
            module, _, attr = net.partition(":")
            net = getattr(importlib.import_module(module), attr)
        elif callable(net) and not isinstance(net, type):
            net = net()
        if net is None:
            raise ValueError(f"architecture {cls.name!r} has no torch network to train")
        net.arch, net.name, net.wire_id = cls, cls.name, cls.wire_id
        net.QUALITY, net.LAMBDAS, net.OPTIONS = cls.QUALITY, cls.LAMBDAS, cls.OPTIONS
        return net
