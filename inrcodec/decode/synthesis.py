"""Frame synthesis backends: the decoded float32 weights of a GOP's networks in, rounded samples out.

Everything before synthesis (container, coders, integer weights, dequantisation, P-model
prediction) is one torch-free implementation; only running the networks differs, and every backend
runs the same description of each network, its architecture's program (inrcodec.archs.program):

- ``ort``: ONNX Runtime graphs of the programs' map operations (``onnx_graph``), the fastest on a CPU;
- ``numpy``: ``numpy_render``, the torch-free reference, and the fallback where onnxruntime is missing;
- ``torch``: ``render.TorchSynthesis``, the only backend for ``--device cuda``.

``auto`` takes ort when onnxruntime is installed, else numpy, and torch for CUDA. The choice is not
written in the file: backends agree within ±1 per sample (spec/conformance.md), and the integers
they start from are the same bits.
"""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np

from ..container.chunks import LayerHeader, SequenceHeader
from ..errors import InrInputError
from ..extras import ENCODE_EXTRA, is_installed
from .model_io import Layer

BACKENDS = ("auto", "ort", "numpy", "torch")
DEVICES = ("auto", "cpu", "cuda")


class Synthesis(Protocol):
    """One backend's networks for a file's layers: ``load(weights)`` per GOP, ``render(t)`` per batch."""

    name: str

    def load(self, weights: list[list[np.ndarray]]) -> None:
        """Take each layer's float32 weights in wire order."""

    def render(self, t: np.ndarray, bit_depth: int) -> list[np.ndarray]:
        """Y, U, V samples [T, h, w] of the frames at float32 time positions ``t`` (one network call)."""


def _torch_device(device: str) -> str:
    """'auto' is CUDA when torch sees one, else the CPU (without torch: the CPU)."""
    if device not in DEVICES:
        raise InrInputError(f"--device {device!r}: expected auto, cpu or cuda")
    if device == "cpu" or (device == "auto" and not is_installed("torch")):
        return "cpu"
    if not is_installed("torch"):
        raise InrInputError(f"--device cuda runs the torch backend, which needs torch: {ENCODE_EXTRA}")
    from .device import pick_device

    return str(pick_device(device))


def choose_backend(backend: str, device: str) -> tuple[str, str]:
    """(backend, device) for ``backend`` in BACKENDS and ``device`` in DEVICES; InrInputError when the
    combination cannot run here (a missing package, CUDA without torch)."""
    if backend not in BACKENDS:
        raise InrInputError(f"--backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    if device == "cuda" and backend in ("ort", "numpy"):
        raise InrInputError(f"--backend {backend} runs on the CPU; --device cuda needs --backend torch")
    dev = _torch_device(device)
    if backend == "auto":
        backend = "torch" if dev == "cuda" else "ort" if is_installed("onnxruntime") else "numpy"
    if backend == "torch" and not is_installed("torch"):
        raise InrInputError(f"--backend torch (needed for --device cuda) needs torch: {ENCODE_EXTRA}")
    if backend == "ort" and not is_installed("onnxruntime"):
        raise InrInputError("--backend ort needs onnxruntime: pip install onnxruntime")
    return backend, dev


def make_synthesis(backend: str, device: str, header: SequenceHeader, layers: LayerHeader | None,
                   plans: list[Layer], threads: int | None = None, band: int | None = None) -> Synthesis:
    """The synthesis of ``plans`` (the file's first layers) on ``backend`` (BACKENDS) and ``device``;
    ``threads``: the ort backend's (None: the cores this process may run on); ``band``: heads rows a
    piece (spec/levels.md §4b; None: whole frames)."""
    backend, dev = choose_backend(backend, device)
    if backend == "torch":
        from .render import TorchSynthesis

        return TorchSynthesis(header, layers, plans, dev, band)
    if backend == "numpy":
        from .numpy_render import NumpySynthesis

        return NumpySynthesis(header, layers, plans, band)
    from .onnx_graph import OrtSynthesis

    return OrtSynthesis(header, layers, plans, threads or default_threads(), band)


def default_threads() -> int:
    """CPU threads a backend may use: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
