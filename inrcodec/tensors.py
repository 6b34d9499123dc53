"""A file's coded tensors in wire order, by wire id, from the sequence header alone (no torch).

A decoder needs the list of tensors (name, shape, seeded-initialisation bound, whether it travels in
the residual BLOB) before it can read a model body; each architecture gives its own (``tensors`` in
its module of ``inrcodec.archs``), and the torch networks return the same list.
"""

from __future__ import annotations

from .archs import ARCHITECTURES, TensorSpec  # noqa: F401  (TensorSpec re-exported)


def tensor_specs(arch_id: int, width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> list[TensorSpec]:
    """The coded tensors of architecture ``arch_id`` in wire order (InrUnsupportedError for an unknown
    id, ValueError for invalid arch_params)."""
    return ARCHITECTURES.by_id(arch_id).tensors(width, height, chroma, tuple(arch_params))
