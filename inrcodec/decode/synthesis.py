"""Frame synthesis backends: the decoded float32 weights of a GOP's networks in, rounded samples out.

Everything before synthesis (container, coders, integer weights, dequantisation, P-model
prediction) is one torch-free implementation; only running the networks differs:

- ``ort``: ONNX Runtime graphs built from the weights (``onnx_graph``), the fastest on a CPU;
- ``numpy``: ``numpy_render``, the torch-free reference, and the fallback where onnxruntime is missing;
- ``torch``: the encoder's own networks (``inrcodec.models``), the reference decoder, and the only
  backend for ``--device cuda`` and for architectures registered only as torch classes (plug-ins).

``auto`` takes the first of ort, numpy that is installed and implements every layer's architecture,
else torch. The choice is not written in the file: backends agree within ±1 per sample
(spec/conformance.md), and the integers they start from are the same bits.
"""

from __future__ import annotations

import os

import numpy as np

from ..container.chunks import LayerHeader, SequenceHeader, layer_specs
from ..container.spec import ChromaFormat
from ..costs import NETWORK_COSTS
from ..errors import InrInputError
from ..extras import ENCODE_EXTRA, is_installed
from ..tensors import has_tensor_specs
from .model_io import Layer

BACKENDS = ("auto", "ort", "numpy", "torch")
DEVICES = ("auto", "cpu", "cuda")
F32 = np.float32


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


def _arch_names(header: SequenceHeader, layers: LayerHeader | None, n_layers: int) -> list[str | None]:
    """Each layer's architecture name, None for one with only a torch network (a plug-in)."""
    from .numpy_render import ARCHITECTURES as NUMPY_ARCHITECTURES

    out: list[str | None] = []
    for ls in layer_specs(header, layers)[:n_layers]:
        name = NETWORK_COSTS.name_of(ls.arch_id)  # the level check has found it
        out.append(name if name in NUMPY_ARCHITECTURES and has_tensor_specs(ls.arch_id) else None)
    return out


def choose_backend(backend: str, device: str, archs: list[str | None]) -> tuple[str, str]:
    """(backend, device) for ``backend`` in BACKENDS and ``device`` in DEVICES; InrInputError when the
    combination cannot run here (a missing package, CUDA without torch, a plug-in without torch)."""
    if backend not in BACKENDS:
        raise InrInputError(f"--backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    if device == "cuda" and backend in ("ort", "numpy"):
        raise InrInputError(f"--backend {backend} runs on the CPU; --device cuda needs --backend torch")
    dev = _torch_device(device)
    plugin = any(a is None for a in archs)
    if backend == "auto":
        if dev == "cuda" or plugin:
            backend = "torch"
        else:
            from .onnx_graph import supports

            backend = "ort" if is_installed("onnxruntime") and all(supports(a) for a in archs) else "numpy"
    if backend == "torch" and not is_installed("torch"):
        raise InrInputError(f"--backend torch (needed for --device cuda and plug-in architectures) needs torch: "
                            f"{ENCODE_EXTRA}")
    if backend in ("ort", "numpy") and plugin:
        raise InrInputError(f"--backend {backend}: the file's architecture is a plug-in with only a torch network")
    if backend == "ort":
        if not is_installed("onnxruntime"):
            raise InrInputError("--backend ort needs onnxruntime: pip install onnxruntime")
        from .onnx_graph import supports

        missing = sorted({a for a in archs if not supports(a)})
        if missing:
            raise InrInputError(f"--backend ort has no graph for {', '.join(missing)}")
    return backend, dev


class Synthesis:
    """One backend's networks for a file's layers: ``load(weights)`` per GOP, ``render(t)`` per batch."""

    name = ""

    def load(self, weights: list[list[np.ndarray]]) -> None:
        """Take each layer's float32 weights in wire order."""
        raise NotImplementedError

    def render(self, t: np.ndarray, bit_depth: int) -> list[np.ndarray]:
        """Y, U, V samples [T, h, w] of the frames at float32 time positions ``t`` (one network call)."""
        raise NotImplementedError


class TorchSynthesis(Synthesis):
    """The reference decoder: the torch networks of ``inrcodec.models`` on ``device``."""

    name = "torch"

    def __init__(self, header: SequenceHeader, layers: LayerHeader | None, n_layers: int, device: str) -> None:
        import torch

        from .model_io import build_layers

        self._torch = torch
        self.device = torch.device(device)
        self.layers = build_layers(header, layers, self.device, n_layers)
        for layer in self.layers:
            layer.model.eval()

    def load(self, weights):
        for layer, w in zip(self.layers, weights):
            layer.model.load_arrays(w)

    def render(self, t, bit_depth):
        from .render import render_layers

        t_pos = self._torch.from_numpy(np.asarray(t, F32)).to(self.device)
        return render_layers([(layer.model, layer.scale) for layer in self.layers], t_pos, bit_depth, len(t))


class NumpySynthesis(Synthesis):
    """``numpy_render``: no compiled dependency beyond numpy."""

    name = "numpy"

    def __init__(self, header: SequenceHeader, layers: LayerHeader | None, plans: list[Layer]) -> None:
        from . import numpy_render as nr

        self._nr = nr
        chroma = ChromaFormat.from_code(header.chroma_format).label
        self.nets = [(nr.build(ls.arch_id, header.width, header.height, chroma, ls.arch_params,
                               output_offset=0.5 if k == 0 else 0.0), plan.scale)
                     for k, (ls, plan) in enumerate(zip(layer_specs(header, layers), plans))]

    def load(self, weights):
        for (net, _), w in zip(self.nets, weights):
            net.load_arrays(w)

    def render(self, t, bit_depth):
        return self._nr.render_layers(self.nets, np.asarray(t, F32), bit_depth, len(t))


def make_synthesis(backend: str, device: str, header: SequenceHeader, layers: LayerHeader | None,
                   plans: list[Layer], threads: int | None = None) -> Synthesis:
    """The synthesis of ``plans`` (the file's first layers) on ``backend`` (BACKENDS) and ``device``."""
    backend, dev = choose_backend(backend, device, _arch_names(header, layers, len(plans)))
    if backend == "torch":
        return TorchSynthesis(header, layers, len(plans), dev)
    if backend == "numpy":
        return NumpySynthesis(header, layers, plans)
    from .onnx_graph import OrtSynthesis

    return OrtSynthesis(header, layers, plans, threads)


def default_threads() -> int:
    """CPU threads a backend may use: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)

