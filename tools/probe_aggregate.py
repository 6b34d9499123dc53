"""Probes (issue 28, a and b1): gnerv whose frames are blended with warped neighbouring frames.

Both run the product's encoder unchanged (``inrcodec enc``: the same training, quantization, rate
term, coder and container); only the network differs. It is registered here as a plug-in
architecture, gnerv plus one 1x1 head on the last features that gives, per neighbour, a flow
(dx, dy in half-resolution samples) and a blend logit, and one logit for the frame's own output:

    frame_t = softmax(logits)[0] * own_t + sum_k softmax(logits)[k] * warp(ref_k, flow_k)

- ``--mode neighbours`` (probe a, FFNeRV): ref_k is the *own output* of frame t+o_k (o_k in
  ``--offsets``, e.g. -1,1). Frames stay independent of the decoded chain.
- ``--mode decoded`` (probe b1): ref_k is the *decoded* frame t-k (rounded samples), so every frame
  predicts from what the decoder really holds; the network's own output is what is new.

Training sees references from a buffer of the network's recent outputs (detached), refreshed as
each frame is trained, as FFNeRV does; the reported quality is rendered closed loop after training:
the decoder's integer weights, every reference recomputed from them (in decode order for b1),
rounded to 8 bits. Bytes are the real file size (the extra head is coded like every tensor).

This is an experiment, not the product: the .inr it writes has a probe architecture (wire id 201)
that the decoder does not know. Usage:
  python tools/probe_aggregate.py gop1.y4m -o /tmp/a.inr --mode neighbours --offsets -1,1 -- -q 4
(arguments after ``--`` go to ``inrcodec enc``).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from inrcodec.archs import ARCHITECTURES  # noqa: E402
from inrcodec.archs.base import NetworkCost, layer  # noqa: E402
from inrcodec.archs.gnerv import Gnerv, gnerv_network  # noqa: E402

PROBE_ID = 201
SELF_BIAS = 2.0  # the own output's logit starts ahead: at first every frame is mostly its own output
SETTINGS = {"mode": "neighbours", "offsets": (-1, 1), "aux": 0.5, "gop": 30}
CURRENT: list = []  # the network being trained (for the auxiliary loss)


def _refs() -> tuple[int, ...]:
    return SETTINGS["offsets"] if SETTINGS["mode"] == "neighbours" else tuple(-k for k in SETTINGS["offsets"])


@functools.cache
def aggregate_network() -> type:
    import torch
    import torch.nn.functional as F

    base = gnerv_network()

    def warp(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        """img [B, h, w] sampled at (x + dx, y + dy), bilinear, edges repeated."""
        b, h, w = img.shape
        ys, xs = torch.meshgrid(torch.arange(h, dtype=img.dtype, device=img.device),
                                torch.arange(w, dtype=img.dtype, device=img.device), indexing="ij")
        gx = (xs + flow[:, 0]) * (2.0 / max(w - 1, 1)) - 1.0
        gy = (ys + flow[:, 1]) * (2.0 / max(h - 1, 1)) - 1.0
        grid = torch.stack([gx, gy], dim=-1)
        return F.grid_sample(img[:, None], grid, mode="bilinear", padding_mode="border", align_corners=True)[:, 0]

    class AggregateNetwork(base):
        def __init__(self, width, height, chroma, arch_params):
            super().__init__(width, height, chroma, arch_params)
            n_refs = len(SETTINGS["offsets"])
            self.head_f = torch.nn.Conv2d(self.channels[-1], 3 * n_refs + 1, 1)
            self._buf: list | None = None
            self._aux = None

        def own(self, t):
            x = self.features(t)
            return self.planes(self.heads(x)), self.head_f(x)

        def blend(self, own, f, refs, valid):
            """own: [Y, U, V]; refs[k]: [Y, U, V] of reference k; valid [B, K] bool."""
            n = len(refs)
            logits = f[:, 2 * n:].clone()
            logits[:, 0] += SELF_BIAS
            logits[:, 1:] = torch.where(valid[:, :, None, None], logits[:, 1:], torch.full_like(logits[:, 1:], -1e4))
            wts = torch.softmax(logits, dim=1)
            out = []
            for p, plane in enumerate(own):
                hp, wp = plane.shape[-2:]
                if p == 0:  # luma: flows and weights up-sampled x2, flows doubled
                    fl = 2.0 * F.interpolate(f[:, :2 * n], scale_factor=2, mode="bilinear", align_corners=False)
                    wp_ = F.interpolate(wts, scale_factor=2, mode="bilinear", align_corners=False)
                else:
                    fl, wp_ = f[:, :2 * n], wts
                fl, wp_ = fl[:, :, :hp, :wp], wp_[:, :, :hp, :wp]
                acc = wp_[:, 0] * plane
                for k in range(n):
                    acc = acc + wp_[:, k + 1] * warp(refs[k][p], fl[:, 2 * k:2 * k + 2])
                out.append(acc)
            return out

        def _all(self, n_frames, device):
            return torch.arange(n_frames, dtype=torch.float32, device=device) / SETTINGS["gop"]

        @torch.no_grad()
        def _refresh(self, n_frames, device):
            """Every frame rendered with the present weights: own outputs (a), or the decoded chain (b1)."""
            t_all = self._all(n_frames, device)
            if SETTINGS["mode"] == "neighbours":
                self._buf = [torch.cat(c) for c in zip(*[self.own(t_all[i:i + 8])[0] for i in range(0, n_frames, 8)])]
                return
            outs = []
            for i in range(n_frames):
                own, f = self.own(t_all[i:i + 1])
                def source(j, own=own):
                    k = int(j[0])
                    return outs[k] if k < len(outs) else own  # frame 0: nothing decoded yet (masked)
                refs, valid = self._gather(torch.tensor([i], device=device), source, n_frames)
                fr = self.blend(own, f, refs, valid)
                outs.append([(p * 255).round().clamp(0, 255) / 255 for p in fr])  # what the decoder holds
            self._buf = [torch.cat([o[p] for o in outs]) for p in range(3)]

        def _gather(self, idx, source, n_frames):
            """References of the frames ``idx``: ``source(j)`` gives frames ``j``'s planes; those outside
            the GOP are masked (valid False) and stand in as the nearest frame."""
            refs, valid = [], []
            for o in _refs():
                j = idx + o
                valid.append((j >= 0) & (j < n_frames))
                refs.append(source(j.clamp(0, n_frames - 1)))
            return refs, torch.stack(valid, dim=1)

        def forward(self, t):
            n_frames = SETTINGS["n_frames"]
            idx = torch.round(t * SETTINGS["gop"]).long()
            if not torch.is_grad_enabled() or self._buf is None:
                self._refresh(n_frames, t.device)
            if not torch.is_grad_enabled() and SETTINGS["mode"] == "decoded":
                return [b[idx] for b in self._buf]
            own, f = self.own(t)
            CURRENT[:] = [self]
            self._aux = own if torch.is_grad_enabled() else None
            refs, valid = self._gather(idx, lambda j: [b[j] for b in self._buf], n_frames)
            if torch.is_grad_enabled() and SETTINGS["mode"] == "neighbours":
                for p in range(3):
                    self._buf[p][idx] = own[p].detach()
            out = self.blend(own, f, refs, valid)
            if torch.is_grad_enabled() and SETTINGS["mode"] == "decoded":
                for p in range(3):
                    self._buf[p][idx] = out[p].detach()
            return out

    return AggregateNetwork


@ARCHITECTURES.register("probe-aggregate", wire_id=PROBE_ID)
class Aggregate(Gnerv):
    network = aggregate_network

    @classmethod
    def cost(cls, width, height, chroma, arch_params):
        c = Gnerv.cost(width, height, chroma, arch_params)
        n, p = len(SETTINGS["offsets"]), cls.parse(arch_params)
        eh, ew = p.embedding_size(width, height)
        half = eh * ew * 4 ** (len(p.channels) - 1)  # samples of the last features (half resolution)
        head = (3 * n + 1) * p.channels[-1]
        # per reference and output sample: a bilinear sample (4 MACs) and its weight (1)
        warp = n * 5 * (width * height * 3 // 2)
        return NetworkCost(c.params + head + 3 * n + 1, c.macs + head * half + warp, c.pixels, c.grid, c.activation)

    @classmethod
    def tensors(cls, width, height, chroma, arch_params):
        n = len(SETTINGS["offsets"])
        c_last = cls.parse(arch_params).channels[-1]
        return Gnerv.tensors(width, height, chroma, arch_params) + layer("head_f", (3 * n + 1, c_last, 1, 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--mode", choices=["neighbours", "decoded"], default="neighbours")
    ap.add_argument("--offsets", default="-1,1", help="neighbours: frame offsets; decoded: how many previous frames")
    ap.add_argument("--aux", type=float, default=0.5, help="weight of the own output's distortion in training")
    ap.add_argument("--frames", type=int, default=30, help="frames of the clip (one GOP)")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    a = ap.parse_args(argv[:cut])
    extra = argv[cut + 1:]
    offs = tuple(int(x) for x in a.offsets.split(","))
    if a.mode == "decoded":
        offs = tuple(range(1, offs[0] + 1))
    SETTINGS.update(mode=a.mode, offsets=offs, aux=a.aux, gop=a.frames, n_frames=a.frames)

    import torch

    from inrcodec.train import gom

    orig = gom.build_loss

    class AuxLoss:
        """The chosen distortion of the blended frames, plus ``aux`` times that of the own outputs."""

        def __init__(self, base):
            self.base = base
            self.lambda_scale = base.lambda_scale

        def __call__(self, pred, target):
            d = self.base(pred, target)
            net = CURRENT[0] if CURRENT else None
            if SETTINGS["aux"] and net is not None and net._aux is not None and torch.is_grad_enabled():
                d = d + SETTINGS["aux"] * self.base(net._aux, target)
            return d

        def deep(self, *args):
            return self.base.deep(*args)

    gom.build_loss = lambda spec, device: AuxLoss(orig(spec, device))

    from inrcodec.cli import main as cli

    sys.argv = ["inrcodec", "enc", a.src, "-o", a.out, "-y", "--model", "probe-aggregate",
                "--gop", str(a.frames), "--gom", "1", *extra]
    cli()


if __name__ == "__main__":
    main()
