"""Frames <-> tensors, running a network to D-bit planes (shared by encoder and decoder), and the torch
synthesis backend.

Networks see samples normalised to [0, 1] whatever the depth (sample / (2^D - 1)); the decoder's one
rounding maps back to D bits (spec/models.md §7). Frames are uint8 arrays at 8 bits and uint16
arrays holding 0..2^D-1 at 10 and 12 bits (inrcodec.io.video).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..archs import ARCHITECTURES, Architecture, chroma_format
from ..archs.program import PATCH_BATCH, Op, sections
from ..container.chunks import LayerHeader, SequenceHeader, layer_specs
from ..container.spec import ChromaFormat
from ..metrics import sample_peak
from ..models.base import InrModel
from ..models.ops import fourier, sinusoid, temporal_lerp
from .bands import MapBands, map_rows
from .batch import ACTIVATION_BUDGET, RENDER_BATCH, render_batch  # noqa: F401  (torch-free; re-exported)


def samples_to_unit(samples: np.ndarray, device: torch.device | str, bit_depth: int = 8) -> torch.Tensor:
    """Samples of ``bit_depth`` bits as a float tensor on [0, 1] (sample / (2^D - 1))."""
    return torch.from_numpy(np.asarray(samples, np.float32)).to(device=device) / float(sample_peak(bit_depth))


def planes_to_tensors(frames: list[tuple[np.ndarray, ...]], device: torch.device,
                      bit_depth: int = 8) -> list[torch.Tensor]:
    """Stack frames' Y, U, V planes into three [T, h, w] float tensors on [0, 1] (sample / peak)."""
    return [samples_to_unit(np.stack([f[p] for f in frames]), device, bit_depth) for p in range(3)]


def add_layer(planes: list[torch.Tensor], residual: list[torch.Tensor], scale: float) -> list[torch.Tensor]:
    """spec/models.md §8: the planes so far plus a residual layer's planes divided by its scale."""
    return [a + b / scale for a, b in zip(planes, residual)]


def to_samples(x: torch.Tensor, bit_depth: int = 8) -> np.ndarray:
    """The one rounding of the decoder: clamp to [0, 1], scale by 2^D - 1 (binary32, correctly
    rounded), round half to even; uint8 at 8 bits, uint16 above."""
    peak = float(sample_peak(bit_depth))
    samples = torch.round(x.clamp(0.0, 1.0) * peak)
    if bit_depth <= 8:
        return samples.to(torch.uint8).cpu().numpy()
    return samples.to(torch.int32).cpu().numpy().astype(np.uint16)


@torch.no_grad()
def render_planes(model: InrModel, t_pos: torch.Tensor) -> list[torch.Tensor]:
    """Y, U, V float planes [T, h, w] of the frames at ``t_pos``, before the decoder's rounding."""
    outs: list[list[torch.Tensor]] = [[], [], []]
    for i in range(0, t_pos.shape[0], RENDER_BATCH):
        for p, plane in enumerate(model(t_pos[i:i + RENDER_BATCH])):
            outs[p].append(plane)
    return [torch.cat(o) for o in outs]


@torch.no_grad()
def render_layers(layers: list[tuple[InrModel, float]], t_pos: torch.Tensor, bit_depth: int = 8,
                  batch: int = RENDER_BATCH) -> list[np.ndarray]:
    """Y, U, V sample arrays [T, h, w] of the frames at ``t_pos`` (spec/models.md §7-8): the base
    layer's planes plus each residual layer's planes divided by its scale, in layer order, then the
    one rounding; ``batch`` frames per network call (``render_batch``). One layer: [(model, 1.0)]."""
    outs: list[list[np.ndarray]] = [[], [], []]
    for i in range(0, t_pos.shape[0], batch):
        t = t_pos[i:i + batch]
        results = [model(t) for model, _ in layers]
        planes = results[0]
        for (_, scale), out in zip(layers[1:], results[1:]):
            planes = add_layer(planes, out, scale)
        for p, plane in enumerate(planes):
            outs[p].append(to_samples(plane, bit_depth))
    return [np.concatenate(o) for o in outs]


# -- the torch synthesis backend: an architecture's program run with torch ---------------------------

class TorchNetwork:
    """One layer's network for the decoder: the architecture's program (inrcodec.archs.program) run
    with torch on ``device``; ``load_arrays(weights)`` per GOP, then ``net(t)`` -> [Y, U, V] planes."""

    def __init__(self, arch: type[Architecture], width: int, height: int, chroma: str,
                 arch_params: tuple[int, ...], offset: float, device: torch.device) -> None:
        self.width, self.height, self.device = width, height, device
        self.chroma = chroma_format(chroma)
        self.specs = arch.tensors(width, height, chroma, tuple(arch_params))
        self.program = arch.program(width, height, chroma, tuple(arch_params))
        self.output_offset = offset
        self._w: dict[str, torch.Tensor] = {}

    def load_arrays(self, arrays: list[np.ndarray]) -> None:
        """Take the float32 weights in wire order."""
        if len(arrays) != len(self.specs):
            raise ValueError(f"expected {len(self.specs)} tensors, got {len(arrays)}")
        self._w = {s.name: torch.from_numpy(np.asarray(a, np.float32).reshape(s.shape)).to(self.device)
                   for s, a in zip(self.specs, arrays)}
        self._w["heads.weight"] = torch.cat([self._w["head_y.weight"], self._w["head_c.weight"]])
        self._w["heads.bias"] = torch.cat([self._w["head_y.bias"], self._w["head_c.bias"]])

    @torch.no_grad()
    def __call__(self, t: torch.Tensor) -> list[torch.Tensor]:
        env = {"t": t}
        self.run(self.program.ops, env)
        return self.planes(env[self.program.output])

    def run(self, ops, env: dict[str, torch.Tensor], cut: tuple[int, int] | None = None) -> None:
        """Run ``ops`` into ``env``, the ops between ``patches`` and ``unpatch`` PATCH_BATCH patches at a
        time; ``cut``: only the patch rows [r0, r1) (a band, spec/levels.md §4b)."""
        for body, first, last in sections(list(ops)):
            if first is None:
                for op in body:
                    if cut is not None and op.kind == "unpatch":
                        op = Op(op.kind, op.out, op.args, {**op.attrs, "grid_h": cut[1] - cut[0]})
                    env[op.out] = self.execute(op, env)
                    if cut is not None and op.kind == "centroids":
                        gw = op.attrs["grid_w"]
                        env[op.out] = env[op.out][cut[0] * gw:cut[1] * gw]
                continue
            parts = []
            for k in range(0, env[first].shape[0], PATCH_BATCH):
                part = {**env, first: env[first][k:k + PATCH_BATCH]}
                for op in body:
                    part[op.out] = self.execute(op, part)
                parts.append(part[last])
            env[last] = torch.cat(parts)

    band: int | None = None  # heads rows a piece (spec/levels.md §4b); None: whole frames

    def set_band(self, band: int | None) -> None:
        """Render ``band`` heads rows at a time (None: whole frames)."""
        from .numpy_render import value_kinds

        self.band = band
        self.is_map = value_kinds(self.program)
        self._map_bands = None
        if band is not None and not any(op.kind == "patches" for op in self.program.ops):
            shapes = map_rows(self.program, self.is_map, lambda n: self._spec(n).shape, self._conv_outputs)
            self._map_bands = MapBands.of(list(self.program.ops), self.program.output, self.is_map, shapes)

    def _spec(self, name: str):
        return next(s for s in self.specs if s.name == name)

    def _conv_outputs(self, op: Op) -> int:
        if op.kind == "heads":
            return 4 + (2 if self.chroma is ChromaFormat.YUV420 else 8)
        return self._spec(op.attrs["prefix"] + ".weight").shape[0]

    @property
    def heads_rows(self) -> int:
        """Heads rows that hold the frame's samples: half its height, rounded up."""
        return -(-self.height // 2)

    @torch.no_grad()
    def bands(self, t: torch.Tensor, edges: list[tuple[int, int]]):
        """For each [lo, hi) of ``edges`` (heads rows), the [Y, U, V] planes of those rows, cropped."""
        env = {"t": t}
        if self._map_bands is not None:
            mb = self._map_bands
            self.run(mb.prefix, env)
            self.run(mb.once, env)
            for lo, hi in edges:
                yield self.planes(mb.run_band(env, lo, hi, self.is_map, self.execute,
                                              lambda x, a, b: x[:, :, a:b]), lo)
            return
        patches = next(op for op in self.program.ops if op.kind == "patches")
        half = patches.attrs["side"] << sum(1 for op in self.program.ops if op.kind == "conv3x3")
        for lo, hi in edges:
            r0, r1 = lo // half, -(-hi // half)
            part = dict(env)
            self.run(self.program.ops, part, (r0, r1))
            heads = part[self.program.output]
            yield self.planes(heads[:, :, lo - r0 * half:hi - r0 * half], lo)

    def execute(self, op: Op, env: dict[str, torch.Tensor]) -> torch.Tensor:
        """One operation of inrcodec.archs.program, NCHW."""
        a, kind, w = op.attrs, op.kind, self._w
        v = [env[x] for x in op.args]
        if kind == "tensor":
            x = w[a["name"]]
            return x.contiguous(memory_format=torch.channels_last) if a["is_map"] else x
        if kind == "fourier":
            return fourier(v[0], a["base"], a["levels"])
        if kind == "sinusoid":
            return sinusoid(a["scale"] * v[0], a["base"], a["dim"])
        if kind == "centroids":
            gh, gw, p = a["grid_h"], a["grid_w"], a["patch"]
            ys = (torch.arange(gh, dtype=torch.float32, device=self.device) + 0.5) * p / a["height"]
            xs = (torch.arange(gw, dtype=torch.float32, device=self.device) + 0.5) * p / a["width"]
            yy, xx = torch.meshgrid(2 * ys - 1, 2 * xs - 1, indexing="ij")
            return torch.stack([xx.flatten(), yy.flatten()], dim=1)
        if kind == "linear":
            return F.linear(v[0], w[a["prefix"] + ".weight"], w[a["prefix"] + ".bias"])
        if kind == "gelu":
            return F.gelu(v[0])
        if kind == "sine":
            return torch.sin(a["w0"] * v[0])
        if kind == "add":
            return v[0] + v[1]
        if kind == "lerp":
            out = temporal_lerp(w[a["grid"]], v[0])
            return out.contiguous(memory_format=torch.channels_last) if a["is_map"] else out
        if kind == "instance_norm":
            return F.instance_norm(v[0])
        if kind == "modulate":
            scale, shift = v[1].chunk(2, dim=1)
            return v[0] * (1 + scale[:, :, None, None]) + shift[:, :, None, None]
        if kind == "up2":
            return F.interpolate(v[0], scale_factor=2, mode="bilinear", align_corners=False)
        if kind == "add_tiled":
            h, wd = v[0].shape[-2] // 2, v[0].shape[-1] // 2
            return v[0] + v[1].repeat(1, 1, h, wd)
        if kind == "conv3x3":
            x = F.conv2d(v[0], w[a["prefix"] + ".weight"], w[a["prefix"] + ".bias"], padding=1)
            x = F.pixel_shuffle(x, 2) if a["shuffle"] else x
            return F.gelu(x) if a["gelu"] else x
        if kind == "heads":
            return F.conv2d(v[0], w["heads.weight"], w["heads.bias"], padding=1)
        if kind == "patches":
            s, e = v
            return (s[None] + e[:, None]).reshape(-1, a["channels"], a["side"], a["side"])
        if kind == "unpatch":
            n, k, h, wd = v[0].shape
            gh, gw = a["grid_h"], a["grid_w"]
            x = v[0].view(n // (gh * gw), gh, gw, k, h, wd).permute(0, 3, 1, 4, 2, 5)
            return x.reshape(n // (gh * gw), k, gh * h, gw * wd)
        raise ValueError(f"the torch backend has no operation {kind!r}")

    def planes(self, heads: torch.Tensor, row0: int = 0) -> list[torch.Tensor]:
        """§1b.8: [B, 4 + k, h, w] head outputs (heads rows from ``row0``) -> cropped [Y, U, V] with
        the output offset."""
        height = self.height - 2 * row0
        y = F.pixel_shuffle(heads[:, :4], 2)[:, 0, :height, : self.width] + self.output_offset
        c = heads[:, 4:]
        if self.chroma is ChromaFormat.YUV420:
            ch, cw = -(-self.height // 2) - row0, -(-self.width // 2)
        else:
            c = F.pixel_shuffle(c, 2)
            ch, cw = height, self.width
        return [y, c[:, 0, :ch, :cw] + self.output_offset, c[:, 1, :ch, :cw] + self.output_offset]


class TorchSynthesis:
    """The ``torch`` backend: each layer's TorchNetwork on ``device`` (the only one for CUDA)."""

    name = "torch"

    def __init__(self, header: SequenceHeader, layers: LayerHeader | None, plans: list, device: str,
                 band: int | None = None) -> None:
        self.device = torch.device(device)
        self.band = band
        chroma = ChromaFormat.from_code(header.chroma_format).label
        self.nets = [(TorchNetwork(ARCHITECTURES.by_id(ls.arch_id), header.width, header.height, chroma,
                                   ls.arch_params, plan.output_offset, self.device), plan.scale)
                     for ls, plan in zip(layer_specs(header, layers), plans)]
        for net, _ in self.nets:
            net.set_band(band)

    def load(self, weights: list[list[np.ndarray]]) -> None:
        """Take each layer's float32 weights in wire order."""
        for (net, _), w in zip(self.nets, weights):
            net.load_arrays(w)

    def render(self, t: np.ndarray, bit_depth: int) -> list[np.ndarray]:
        """Y, U, V samples [T, h, w] of the frames at float32 time positions ``t`` (one network call)."""
        t_pos = torch.from_numpy(np.asarray(t, np.float32)).to(self.device)
        if self.band is not None:
            from .numpy_render import render_bands

            return render_bands(self.nets, t_pos, bit_depth, self.band, add_layer, to_samples)
        return render_layers(self.nets, t_pos, bit_depth, len(t))
