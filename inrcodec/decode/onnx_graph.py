"""ONNX Runtime graphs of the networks (placeholder until the graphs exist)."""

from __future__ import annotations


def supports(arch: str | None) -> bool:
    """Whether the ort backend has a graph for architecture ``arch``."""
    return False
