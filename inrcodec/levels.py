"""The decoder's level: what one decoded frame may cost, checked on the header before anything is built.

spec/levels.md is normative: a decoder compares the sequence header (SHDR, and LHDR's layers) with
``Limits`` before it allocates a network, and refuses a file above any of them with
``InrUnsupportedError`` (exit 6) naming the limit and the value; a user may raise a limit
explicitly. Standard library only, like ``inrcodec.container``: ``inrcodec info`` and a player can
check a file without numpy or torch.

>>> from inrcodec.levels import LEVEL, Limits
>>> LEVEL.max_pixels >= 7680 * 4320  # 2^25 luma samples: 8K UHD fits
True
>>> Limits(max_pixels=1 << 28).max_pixels
268435456
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from fractions import Fraction

from .container import spec
from .container.chunks import LayerHeader, LayerSpec, SequenceHeader, layer_specs
from .archs import ARCHITECTURES, NetworkCost
from .costs import network_cost
from .errors import InrFormatError, InrUnsupportedError


@dataclass(frozen=True)
class Limits:
    """A decoder's limits (spec/levels.md §2); the defaults are the level, ``LEVEL``. Override a
    field to raise or lower one limit: ``Limits(max_pixels=1 << 28)``."""

    max_pixels: int = 1 << 25  # luma samples per frame (width x height): 8K UHD, 16384 x 2048
    max_layers: int = spec.MAX_LAYERS  # progressive layers decoded (the format allows no more)
    max_params: int = 1 << 24  # coded parameters of one network, every tensor (the architectures' cap)
    max_total_params: int = 1 << 26  # coded parameters of all the layers together
    max_macs_per_pixel: int = 1 << 19  # one layer's MACs per frame / luma samples of its padded grid
    max_total_macs_per_pixel: int = 1 << 20  # the same summed over the layers
    max_frame_macs: int = 1 << 38  # MACs to render one frame, all layers together
    max_activation: int = 1 << 29  # values in one network's largest intermediate tensor for one frame

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"limit {f.name} must be a positive integer, not {value!r}")

    def as_dict(self) -> dict[str, int]:
        """The limits by field name (JSON-ready)."""
        return asdict(self)


LEVEL = Limits()


def option_name(field: str) -> str:
    """How an error names the way to raise limit ``field``: ``max_pixels`` -> ``--max-pixels``."""
    return "--" + field.replace("_", "-")


def _above(text: str, field: str, limits: Limits) -> str:
    return f"{text}, above the limit {getattr(limits, field)} ({option_name(field)} raises it)"


def layer_costs(header: SequenceHeader, layers: LayerHeader | None = None,
                n_layers: int | None = None) -> list[NetworkCost]:
    """The cost of each of the first ``n_layers`` layers' networks (all when None), by arithmetic.
    Raises InrUnsupportedError for an unknown architecture, InrFormatError for invalid arch_params."""
    chroma = spec.ChromaFormat.from_code(header.chroma_format).label
    out = []
    for k, ls in enumerate(layer_specs(header, layers)[:n_layers]):
        out.append(_cost(k, ls, header, chroma))
    return out


def _cost(k: int, ls: LayerSpec, header: SequenceHeader, chroma: str) -> NetworkCost:
    try:
        return network_cost(ls.arch_id, header.width, header.height, chroma, ls.arch_params)
    except ValueError as exc:
        where = "SHDR" if k == 0 else f"LHDR layer {k}"
        raise InrFormatError(f"{where}: arch_params {ls.arch_params} invalid: {exc}") from None


def violation(header: SequenceHeader, costs: list[NetworkCost], limits: Limits | None = None,
              names: list[str] | None = None) -> str | None:
    """The first limit of ``limits`` (default: the level) that a file whose layers cost ``costs``
    exceeds, as a message naming the limit and the value; None when it is within them all."""
    lim = LEVEL if limits is None else limits
    w, h = header.width, header.height
    if w * h > lim.max_pixels:
        return _above(f"frame {w}x{h} has {w * h} samples", "max_pixels", lim)
    if len(costs) > lim.max_layers:
        return _above(f"decoding {len(costs)} layers", "max_layers", lim)
    names = names or ["network"] * len(costs)
    for k, (c, name) in enumerate(zip(costs, names)):
        where = f"layer {k} ({name})"
        if c.params > lim.max_params:
            return _above(f"{where} has {c.params} parameters", "max_params", lim)
        if c.macs > lim.max_macs_per_pixel * c.grid:
            return _above(f"{where} needs {_ceil(Fraction(c.macs, c.grid))} MACs per pixel of its padded frame",
                          "max_macs_per_pixel", lim)
        if c.activation > lim.max_activation:
            return _above(f"{where} needs an intermediate tensor of {c.activation} values per frame",
                          "max_activation", lim)
    total_params = sum(c.params for c in costs)
    if total_params > lim.max_total_params:
        return _above(f"the {len(costs)} layers have {total_params} parameters together", "max_total_params", lim)
    per_pixel = sum((Fraction(c.macs, c.grid) for c in costs), Fraction(0))
    if per_pixel > lim.max_total_macs_per_pixel:
        return _above(f"the {len(costs)} layers need {_ceil(per_pixel)} MACs per pixel together",
                      "max_total_macs_per_pixel", lim)
    frame_macs = sum(c.macs for c in costs)
    if frame_macs > lim.max_frame_macs:
        return _above(f"one frame needs {frame_macs} MACs", "max_frame_macs", lim)
    return None


def _ceil(x: Fraction) -> int:
    return -(-x.numerator // x.denominator)


def exceeded(header: SequenceHeader, layers: LayerHeader | None = None, *, limits: Limits | None = None,
             n_layers: int | None = None) -> tuple[list[NetworkCost], str | None]:
    """(each layer's cost, the first limit exceeded as a message or None) for the first ``n_layers``
    layers (all when None) against ``limits`` (default: the level), by arithmetic alone. Raises
    InrFormatError for invalid arch_params and InrUnsupportedError for an unknown architecture."""
    lim = LEVEL if limits is None else limits
    if header.width * header.height > lim.max_pixels:  # first: the networks' validity (their
        return [], violation(header, [], lim)  # parameter cap) depends on the frame size
    costs = layer_costs(header, layers, n_layers)
    names = [ARCHITECTURES.name_of(ls.arch_id) for ls in layer_specs(header, layers)[:len(costs)]]
    return costs, violation(header, costs, lim, names)


def check_limits(header: SequenceHeader, layers: LayerHeader | None = None, *, limits: Limits | None = None,
                 n_layers: int | None = None) -> list[NetworkCost]:
    """Check the header (SHDR + LHDR; the first ``n_layers`` layers, all when None) against
    ``limits`` (default: the level) by arithmetic alone, and return each layer's cost.

    Raises InrFormatError for invalid arch_params, InrUnsupportedError for an unknown architecture
    and for the first limit exceeded, e.g. "frame 16384x16384 has 268435456 samples, above the limit
    33554432 (--max-pixels raises it)".
    """
    costs, message = exceeded(header, layers, limits=limits, n_layers=n_layers)
    if message is not None:
        raise InrUnsupportedError(message)
    return costs
