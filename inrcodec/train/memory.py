"""How much memory an encode needs, estimated before it starts, and what this machine can give it.

The encoder holds one GOM's frames per worker (as samples), one GOP's planes several times over
(the float32 target, the float64 copy the metrics read, the decoded planes of each layer) and,
while training, the activations autograd saves for a batch of frames. The activations are not
guessed: the network is built at a small probe size, one training step's saved tensors are
counted, and the count is scaled to the frame's area (every architecture's activations grow with
the number of pixels it renders). The estimate is an upper-leaning figure, not a promise; its one
use is to refuse, in one line, an encode that could not fit instead of dying in an allocator.
"""

from __future__ import annotations

import functools
import math
import os
import resource
from dataclasses import dataclass

import torch

from ..container.chunks import LayerHeader, SequenceHeader, layer_specs
from ..container.spec import ChromaFormat
from ..costs import network_cost
from ..errors import InrInputError
from ..models import ARCHITECTURES

PROCESS_BYTES = 600 << 20  # a worker process's interpreter, torch and PyAV before any frame
RUN_BYTES = 128 << 20  # what an encode adds to an imported process before its frames (~100 MiB seen)
PARAM_BYTES = 64  # per coded parameter in training: weights, reference, grads, Adam moments, snapshots
GRAD_FACTOR = 2.0  # backward holds the saved activations and their gradients at once
PROBE_SIDE = 64  # the probe frame's smaller side, rounded up to the network's grid


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes an encode needs beyond this process's own, by part, each per worker."""

    frames: int  # one GOM's source frames (host memory)
    host_planes: int  # one GOP's float64 copy for the metrics (host memory)
    planes: int  # one GOP's float32 target and decoded planes (on the encoding device)
    training: int  # one training batch's activations and the networks' training state (device)
    workers: int

    def host(self, device: torch.device) -> int:
        """Host bytes: every worker's frames (and, on the CPU, everything), plus the worker processes."""
        per_worker = (RUN_BYTES + self.frames + self.host_planes
                      + (0 if device.type == "cuda" else self.planes + self.training))
        return self.workers * per_worker + (self.workers - 1 if self.workers > 1 else 0) * PROCESS_BYTES

    def device(self, device: torch.device) -> int:
        """Bytes on a CUDA device (0 on the CPU)."""
        return self.workers * (self.planes + self.training) if device.type == "cuda" else 0


def _saved_bytes(model: torch.nn.Module, n_frames: int) -> int:
    """Bytes of the tensors autograd saves for one forward pass of ``n_frames`` frames, plus its output."""
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor):
        storage = t.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
        return t

    t = torch.arange(n_frames, dtype=torch.float32) / max(1, n_frames)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(t)
        loss = sum(((p - 0.5) ** 2).mean() for p in out)
    out_bytes = sum(p.numel() * p.element_size() for p in out)
    del loss, out
    return sum(seen.values()) + out_bytes


@functools.lru_cache(maxsize=16)  # fit_batch asks once per candidate batch; the probe does not depend on it
def training_bytes_per_pixel(arch_id: int, arch_params: tuple[int, ...], chroma: str) -> float:
    """Activation bytes one frame saves for backward, per luma pixel (measured at a probe size)."""
    cls = ARCHITECTURES.by_id(arch_id)
    side = PROBE_SIDE
    model = cls(side, side, chroma, arch_params)
    grid = getattr(model, "grid", None) or getattr(model, "patch", None) or 1
    side = max(side, grid) if side % grid == 0 else -(-side // grid) * grid
    if side != PROBE_SIDE:
        model = cls(side, side, chroma, arch_params)
    return _saved_bytes(model, 1) / (side * side)


def estimate(header: SequenceHeader, layers: LayerHeader | None, batch: int, workers: int) -> MemoryEstimate:
    """The memory an encode of ``header`` with training batches of ``batch`` frames needs."""
    chroma_format = ChromaFormat.from_code(header.chroma_format)
    chroma = chroma_format.label
    luma = header.width * header.height
    chroma_samples = 2 * math.prod(chroma_format.chroma_shape(header.width, header.height))
    samples = luma + chroma_samples
    sample_bytes = 1 if header.bit_depth == 8 else 2
    gop = header.gop_size
    specs = layer_specs(header, layers)
    # the GOM's frames, twice while the next GOM is read ahead
    frames = 2 * min(header.n_frames, gop * header.gom_size) * samples * sample_bytes
    # float32 target + float64 metrics copy + float32 decoded planes of each layer and their sum
    planes = gop * samples * 4 * (len(specs) + 2)
    # training: one layer at a time; its batch's activations, and every layer's weights and state
    per_pixel = max(training_bytes_per_pixel(ls.arch_id, ls.arch_params, chroma) for ls in specs)
    n_params = sum(network_cost(ls.arch_id, header.width, header.height, chroma, ls.arch_params).params
                   for ls in specs)
    training = int(GRAD_FACTOR * min(batch, gop) * per_pixel * luma) + PARAM_BYTES * n_params
    return MemoryEstimate(frames, gop * samples * 8, planes, training, workers)


def available_bytes() -> int:
    """Host memory this process may still take: the smaller of the system's available memory and
    the room left under its address-space limit (ulimit -v), if one is set."""
    avail = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = 1 << 62  # unknown: assume enough
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        avail = min(avail, soft - _address_space_used())
    return avail


def _address_space_used() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def fit_batch(header: SequenceHeader, layers: LayerHeader | None, batch: int, workers: int,
              device: torch.device) -> int:
    """The training batch to use: ``batch`` if the encode fits in memory with it, else 1 if that
    fits; InrInputError, in one line, when not even one frame a step fits."""
    host_room = available_bytes()
    dev_room = torch.cuda.mem_get_info(device)[0] if device.type == "cuda" else 0
    for b in sorted({batch, 1}, reverse=True):
        need = estimate(header, layers, b, workers)
        if need.host(device) <= host_room and need.device(device) <= dev_room:
            return b
    short = need.host(device) > host_room
    where, room = ("memory", host_room) if short else (f"memory on {device}", dev_room)
    n_gom = min(header.n_frames, header.gop_size * header.gom_size)
    raise InrInputError(f"encoding {header.width}x{header.height} needs about "
                        f"{_gib(need.host(device) if short else need.device(device))} of {where} "
                        f"({_gib(need.frames)} for a GOM of {n_gom} frames, {_gib(need.planes + need.host_planes)} "
                        f"for a GOP's planes, {_gib(need.training)} to train on one frame at a time"
                        f"{f', times {workers} workers' if workers > 1 else ''}) and {_gib(max(room, 0))} "
                        f"is available: use a smaller --gop or --gom, fewer --workers, or a smaller picture")
