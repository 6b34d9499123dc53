"""What a file's network costs, by its wire id and arithmetic on the sequence header (no numpy, no torch).

A decoder must know before it builds anything how large a network is and how much work one frame
takes (spec/levels.md). Each architecture computes and validates its own (``cost`` in its module of
``inrcodec.archs``); this is the by-id entry point the level check and ``info`` use.
"""

from __future__ import annotations

from .archs import ARCHITECTURES, MAX_PARAMS, NetworkCost  # noqa: F401  (re-exported)

NETWORK_COSTS = ARCHITECTURES  # the one registry of architectures, under the name its callers know


def network_cost(arch_id: int, width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> NetworkCost:
    """The cost of architecture ``arch_id``'s network: InrUnsupportedError for an unknown id,
    ValueError for invalid arch_params."""
    return ARCHITECTURES.by_id(arch_id).cost(width, height, chroma, tuple(arch_params))
