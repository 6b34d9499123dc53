#!/usr/bin/env python3
"""How rendering time grows with the number of progressive layers, three ways.

Builds K gnerv networks of the given qualities (random weights: the time of a forward pass does not
depend on the values) and times rendering ``--frames`` frames of ``--size``:

- each layer alone, and the sum of those times (what "linear in K" means);
- ``render_layers`` as the decoder runs it (layers one after another per batch of frames);
- the same with a thread pool (one thread per layer; the decoder dropped this path, see docs/decoder-notes.md);
- when every layer has the same architecture, one grouped network: weights stacked, every
  convolution one ``groups=K`` call and every linear one batched matmul, so each op runs once for
  all K layers (an experiment kept here, not a decoder path: it is slower on CPU, see below).

    python tools/bench_layer_render.py --qualities 2,4,6 --threads 2
    python tools/bench_layer_render.py --qualities 2,2,2 --threads 2     # adds the grouped row

Best of ``--repeats`` runs, milliseconds per frame. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from inrcodec.archs.gnerv import PE_BASE  # noqa: E402
from inrcodec.decode.render import RENDER_BATCH, add_layer, render_layers, to_samples  # noqa: E402
from inrcodec.models import ARCHITECTURES, InrModel  # noqa: E402
from inrcodec.models.ops import fourier  # noqa: E402

GNeRV = ARCHITECTURES.get("gnerv")


def threaded(layers, t_pos: torch.Tensor, pool: ThreadPoolExecutor) -> list:
    """``render_layers`` with the layers of each batch on threads (torch releases the GIL in kernels)."""
    def call(model):
        with torch.no_grad():  # grad mode is per thread
            return model(t)
    outs = []
    for i in range(0, t_pos.shape[0], RENDER_BATCH):
        t = t_pos[i:i + RENDER_BATCH]
        results = list(pool.map(call, [m for m, _ in layers]))
        planes = results[0]
        for (_, scale), out in zip(layers[1:], results[1:]):
            planes = add_layer(planes, out, scale)
        outs.append([to_samples(p) for p in planes])
    return outs


def random_gnerv(width: int, height: int, quality: int, seed: int) -> InrModel:
    """A q-``quality`` gnerv network with N(0, 0.1) weights."""
    torch.manual_seed(seed)
    model = GNeRV(width, height, "420", GNeRV.QUALITY[quality]).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.1)
    return model


class Grouped:
    """K same-architecture gnerv networks run as one: grouped convolutions, batched linears."""

    def __init__(self, models: list[InrModel]) -> None:
        m = models[0]
        self.k, self.pe_levels, self.up_mode, self.n_blocks = len(models), m.pe_levels, m.up_mode, m.n_blocks
        stack = torch.stack
        self.time_w = stack([x.time_fc.weight for x in models])
        self.time_b = stack([x.time_fc.bias for x in models])
        self.shift_w = [stack([x.shift[j].weight for x in models]) for j in range(m.n_blocks)]
        self.shift_b = [stack([x.shift[j].bias for x in models]) for j in range(m.n_blocks)]
        self.conv_w = [torch.cat([x.convs[j].weight for x in models]) for j in range(m.n_blocks)]
        self.conv_b = [torch.cat([x.convs[j].bias for x in models]) for j in range(m.n_blocks)]
        self.head_w = torch.cat([torch.cat([x.head_y.weight, x.head_c.weight]) for x in models])
        self.head_b = torch.cat([torch.cat([x.head_y.bias, x.head_c.bias]) for x in models])
        self.embedding = torch.cat([x.embedding for x in models], 1)

    def __call__(self, t: torch.Tensor) -> torch.Tensor:
        """Stacked head outputs [B, K * (4 + 2), h, w] (the planes step is the same as one layer's)."""
        b = t.shape[0]
        z = F.gelu(torch.einsum("bi,koi->kbo", fourier(t, PE_BASE, self.pe_levels), self.time_w)
                   + self.time_b[:, None])
        x = self.embedding.expand(b, -1, -1, -1).contiguous(memory_format=torch.channels_last)
        for j in range(self.n_blocks):
            scale, bias = (torch.einsum("kbi,koi->kbo", z, self.shift_w[j]) + self.shift_b[j][:, None]).chunk(2, 2)
            scale, bias = (v.permute(1, 0, 2).reshape(b, -1)[:, :, None, None] for v in (scale, bias))
            x = F.instance_norm(x) if x.shape[-1] * x.shape[-2] > 1 else x
            x = x * (1 + scale) + bias
            if self.up_mode == 0:
                x = F.gelu(F.pixel_shuffle(F.conv2d(x, self.conv_w[j], self.conv_b[j], padding=1, groups=self.k), 2))
            else:
                x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
                x = F.gelu(F.conv2d(x, self.conv_w[j], self.conv_b[j], padding=1, groups=self.k))
        return F.conv2d(x, self.head_w, self.head_b, padding=1, groups=self.k)


def best_ms(fn, repeats: int) -> float:
    """Best wall time of ``fn()`` over ``repeats`` runs after one warm-up, in milliseconds."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qualities", default="2,4,6", help="quality of each layer, base first")
    ap.add_argument("--size", default="176x144", help="frame size WxH")
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    qualities = [int(q) for q in args.qualities.split(",")]
    width, height = (int(v) for v in args.size.split("x"))
    torch.set_num_threads(args.threads)
    models = [random_gnerv(width, height, q, seed) for seed, q in enumerate(qualities)]
    layers = [(m, 1.0 if i == 0 else 100.0) for i, m in enumerate(models)]
    t_pos = torch.arange(args.frames, dtype=torch.float32) / args.frames
    per_frame = 1.0 / args.frames

    def alone(model: InrModel):
        return lambda: render_layers([(model, 1.0)], t_pos)

    rows = []
    with torch.no_grad():
        times = [best_ms(alone(m), args.repeats) for m in models]
        for q, ms in zip(qualities, times):
            rows.append((f"layer q{q} alone", ms))
        rows.append(("sum of the layers alone", sum(times)))
        rows.append(("render_layers, one after another", best_ms(lambda: render_layers(layers, t_pos), args.repeats)))
        with ThreadPoolExecutor(len(layers)) as pool:
            rows.append(("render_layers, a thread per layer",
                         best_ms(lambda: threaded(layers, t_pos, pool), args.repeats)))
        if len(set(m.arch_params() for m in models)) == 1 and len(models) > 1:
            grouped = Grouped(models)
            rows.append(("one grouped network (network only)", best_ms(
                lambda: [grouped(t_pos[i:i + RENDER_BATCH]) for i in range(0, args.frames, RENDER_BATCH)],
                args.repeats)))
            rows.append(("the K networks one by one (network only)", best_ms(
                lambda: [[m(t_pos[i:i + RENDER_BATCH]) for m in models] for i in range(0, args.frames, RENDER_BATCH)],
                args.repeats)))
    print(f"{width}x{height}, {args.frames} frames, {args.threads} threads, layers q{','.join(map(str, qualities))}")
    for name, ms in rows:
        print(f"  {name:40s} {ms * per_frame:6.2f} ms/frame")


if __name__ == "__main__":
    main()
