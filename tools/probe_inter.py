"""Probe (issue 28, b2): predict each frame from the decoded previous one, Cool-chic style.

One GOP: frame 0 is intra (its own latent grids through an intra synthesis network); every later
frame is alpha * warp(decoded previous frame, motion) + residual, with motion, alpha and residual
decoded from that frame's latent grids by one inter synthesis network shared by the GOP. Latents
are integers coded with the project's Laplace tables and range coder; the two networks are
quantized and coded the same way. Bytes are the real coded bytes of those streams plus a few bytes
of framing per stream; PSNR-YUV is measured on the decoded, rounded frames of the closed loop.

This is an experiment, not the product: it writes no .inr file. Usage:
  python tools/probe_inter.py ../shared/data/carphone_qcif_60f.y4m --start 30 --frames 30 --lam 300
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from inrcodec.coders.base import get_coder  # noqa: E402
from inrcodec.io.video import open_video  # noqa: E402
from inrcodec.metrics import psnr_yuv  # noqa: E402
from inrcodec.quant.tables import fit_laplace_code, laplace_table  # noqa: E402

WARP_MODE = "bilinear"
EXACT_COPY = "none"


def block_flow(cur: np.ndarray, ref: np.ndarray, block: int = 8, search: int = 7) -> np.ndarray:
    """Integer block-matching motion (dx, dy) per block, full search by SAD (+ a small length cost): the
    start the learned flow is pulled toward early in training."""
    h, w = cur.shape
    by, bx = -(-h // block), -(-w // block)
    ph, pw = by * block, bx * block
    cur = np.pad(cur.astype(np.int32), ((0, ph - h), (0, pw - w)), mode="edge")
    pad = np.pad(ref.astype(np.int32), ((search, search + ph - h), (search, search + pw - w)), mode="edge")
    best = np.full((by, bx), np.iinfo(np.int64).max)
    flow = np.zeros((2, by, bx), np.float32)
    for dy in range(-search, search + 1):
        for dx in range(-search, search + 1):
            cand = pad[search + dy: search + dy + ph, search + dx: search + dx + pw]
            sad = np.abs(cand - cur).reshape(by, block, bx, block).sum(axis=(1, 3)) + 4 * (abs(dx) + abs(dy))
            better = sad < best
            best = np.where(better, sad, best)
            flow[0][better] = dx
            flow[1][better] = dy
    return flow


def warp(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """img [B,C,H,W] sampled at (x + dx, y + dy), flow [B,2,H,W] in this plane's samples; bilinear, edges clamped."""
    b, _, h, w = img.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=img.dtype), torch.arange(w, dtype=img.dtype), indexing="ij")
    gx = (xs[None] + flow[:, 0] + 0.5) / w * 2 - 1
    gy = (ys[None] + flow[:, 1] + 0.5) / h * 2 - 1
    return F.grid_sample(img, torch.stack([gx, gy], dim=-1), mode=WARP_MODE, padding_mode="border",
                         align_corners=False)


class Synthesis(nn.Module):
    """Upsampled latent stack -> 1x1 MLP (run as matrix products on channels-last samples) -> a 3x3
    refinement conv on the first ``n_refine`` outputs, added; all at half resolution."""

    def __init__(self, n_in: int, width: int, n_out: int, n_refine: int) -> None:
        super().__init__()
        self.l1 = nn.Linear(n_in, width)
        self.l2 = nn.Linear(width, width)
        self.l3 = nn.Linear(width, n_out)
        self.n_refine = n_refine
        self.refine = nn.Conv2d(n_refine, n_refine, 3, padding=1)
        nn.init.zeros_(self.refine.weight)
        nn.init.zeros_(self.refine.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = self.l3(F.gelu(self.l2(F.gelu(self.l1(x))))).permute(0, 3, 1, 2)
        r = self.refine(x[:, : self.n_refine].contiguous(memory_format=torch.channels_last))
        return torch.cat([x[:, : self.n_refine] + r, x[:, self.n_refine:]], dim=1)

    def macs_per_half_pixel(self) -> int:
        return sum(m.weight.numel() for m in (self.l1, self.l2, self.l3, self.refine))


def grid_shapes(h: int, w: int, levels: int) -> list[tuple[int, int]]:
    return [(-(-h // 2 ** k), -(-w // 2 ** k)) for k in range(levels)]


def upsample_stack(grids: list[torch.Tensor], h: int, w: int) -> torch.Tensor:
    """Latent grids [B,1,hk,wk] -> [B,levels,h,w] by bilinear up-sampling."""
    return torch.cat([g if g.shape[-2:] == (h, w) else
                      F.interpolate(g, size=(h, w), mode="bilinear", align_corners=False) for g in grids], dim=1)


def latent_bits(y: torch.Tensor, log_scale: torch.Tensor, mu: torch.Tensor | float = 0.0) -> torch.Tensor:
    """Bits of (noisy or rounded) latents under a Laplace of learned scale integrated over each unit bin;
    unlike an ML fit to noisy values, this goes to zero as the latents settle on zero."""
    b = log_scale.exp()
    a = (y - mu).abs()
    inner = 1 - 0.5 * (torch.exp(-(0.5 - a).clamp(min=0) / b) + torch.exp(-(0.5 + a) / b))
    outer = 0.5 * (torch.exp(-(a - 0.5).clamp(min=0) / b) - torch.exp(-(a + 0.5) / b))
    p = torch.where(a < 0.5, inner, outer)
    return -torch.log2(p.clamp(min=1e-12)).sum()


class ContextModel(nn.Module):
    """Checkerboard + parent context, decodable in two parallel passes per grid: each latent's Laplace
    (mean, scale) comes from the co-located up-sampled coarser grid and, for the second half of the
    checkerboard, from its four neighbours (all first-half, so already decoded)."""

    def __init__(self, levels: int, hidden: int = 8) -> None:
        super().__init__()
        self.anchor = nn.Sequential(nn.Linear(1, hidden), nn.GELU(), nn.Linear(hidden, 2))
        self.other = nn.Sequential(nn.Linear(5, hidden), nn.GELU(), nn.Linear(hidden, 2))
        self.level_bias = nn.Parameter(torch.zeros(levels))

    def params(self, lat: list[torch.Tensor]):
        """For each grid (fine to coarse, [B,1,a,b]): (mean, log_scale) of every latent, same shape."""
        out = []
        for level, g in enumerate(lat):
            if level + 1 < len(lat):
                parent = F.interpolate(lat[level + 1], size=g.shape[-2:], mode="bilinear", align_corners=False)
            else:
                parent = torch.zeros_like(g)
            a, b = g.shape[-2:]
            ii, jj = torch.meshgrid(torch.arange(a), torch.arange(b), indexing="ij")
            first = ((ii + jj) % 2 == 0)[None, None].expand_as(g)
            pad = F.pad(g, (1, 1, 1, 1))
            nbrs = [pad[..., :-2, 1:-1], pad[..., 2:, 1:-1], pad[..., 1:-1, :-2], pad[..., 1:-1, 2:]]
            pa = self.anchor(parent.reshape(-1, 1))
            po = self.other(torch.stack([parent] + nbrs, dim=-1).reshape(-1, 5))
            p = torch.where(first.reshape(-1, 1), pa, po)
            mu = p[:, 0].reshape(g.shape)
            log_s = (p[:, 1] + self.level_bias[level]).reshape(g.shape)
            out.append((mu, log_s))
        return out

    def bits(self, lat: list[torch.Tensor]) -> torch.Tensor:
        return sum(latent_bits(g, ls, mu) for g, (mu, ls) in zip(lat, self.params(lat)))


def quantize(y: torch.Tensor, mode: str) -> torch.Tensor:
    if mode == "noise":
        return y + torch.empty_like(y).uniform_(-0.5, 0.5)
    return y + (torch.round(y) - y).detach()  # straight-through


class GopCodec(nn.Module):
    """Frame 0 intra from its latents; frames 1.. from the decoded previous frame + their latents."""

    def __init__(self, n: int, h: int, w: int, intra_levels: int, inter_levels: int, width: int,
                 shared: bool = False, rho: float = 0.0, context: bool = False, intra_weight: float = 1.0) -> None:
        super().__init__()
        self.n, self.h, self.w = n, h, w
        self.intra_shapes = grid_shapes(h, w, intra_levels)
        self.inter_shapes = grid_shapes(h, w, inter_levels)
        self.intra_lat = nn.ParameterList(nn.Parameter(torch.zeros(1, 1, a, b)) for a, b in self.intra_shapes)
        self.inter_lat = nn.ParameterList(nn.Parameter(torch.zeros(n - 1, 1, a, b)) for a, b in self.inter_shapes)
        self.intra_scale = nn.Parameter(torch.zeros(intra_levels))
        self.inter_scale = nn.Parameter(torch.zeros(inter_levels))
        # one network for both kinds of frame: the intra frame reads its residual outputs on mid-grey
        self.shared = shared
        self.context = ContextModel(max(intra_levels, inter_levels)) if context else None
        self.intra_syn = None if shared else Synthesis(intra_levels, width, 6, 6)
        # distortion weight of frame t: the errors it hands on, each successor keeping rho of them
        self.register_buffer("frame_weight", torch.tensor(
            [(1 - rho ** (n - t)) / (1 - rho) if rho > 0 else 1.0 for t in range(n)]))
        self.frame_weight[0] *= intra_weight
        self.ref_noise = 0.0
        self.unroll = 0
        # inter outputs: 6 residual (Y packed 2x2 + U + V), flow x, flow y, alpha
        self.inter_syn = Synthesis(inter_levels, width, 9, 6)
        with torch.no_grad():
            self.inter_syn.l3.bias[8] = 3.0  # alpha starts at (or near) 1: predict, then correct

    def intra(self, qmode: str) -> tuple[torch.Tensor, torch.Tensor]:
        lat = [quantize(g, qmode) for g in self.intra_lat]
        syn = self.inter_syn if self.shared else self.intra_syn
        out = syn(upsample_stack(lat, self.h, self.w))[:, :6] + 0.5
        if self.context is not None:
            return out, self.context.bits(lat)
        bits = sum(latent_bits(g, s) for g, s in zip(lat, self.intra_scale))
        return out, bits

    def inter_bits(self, lat: list[torch.Tensor]) -> torch.Tensor:
        if self.context is not None:
            return self.context.bits(lat)
        return sum(latent_bits(g, s) for g, s in zip(lat, self.inter_scale))

    def inter_outputs(self, idx, qmode: str):
        lat = [quantize(g[idx], qmode) for g in self.inter_lat]
        out = self.inter_syn(upsample_stack(lat, self.h, self.w))
        return out, lat

    @staticmethod
    def predict(ref6: torch.Tensor, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """ref6 [B,6,h,w] packed reference, out [B,9,h,w] -> (frame [B,6,h,w], flow)."""
        flow = out[:, 6:8] * 4.0  # luma samples
        if EXACT_COPY in ("flow", "both"):
            # quarter-sample motion: a static area is copied, not re-interpolated every frame
            flow = flow + (torch.round(flow * 4) / 4 - flow).detach()
        if EXACT_COPY in ("alpha", "both"):
            # an alpha that reaches exactly 1 (and 0) with a gradient inside: no re-scaling of the copy
            alpha = (1.2 * torch.sigmoid(out[:, 8:9]) - 0.1).clamp(0, 1)
        else:
            alpha = torch.sigmoid(out[:, 8:9])
        y_ref = F.pixel_shuffle(ref6[:, :4], 2)
        flow_full = F.interpolate(flow, scale_factor=2, mode="bilinear", align_corners=False)
        y_pred = F.pixel_unshuffle(warp(y_ref, flow_full), 2)
        uv_pred = warp(ref6[:, 4:], flow / 2)
        pred = torch.cat([y_pred, uv_pred], dim=1)
        return alpha * pred + out[:, :6], flow


def pack(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> torch.Tensor:
    """uint8 planes [T,H,W],[T,h,w] -> [T,6,h,w] floats in [0,1] (even sizes)."""
    yt = torch.from_numpy(y.astype(np.float32) / 255)[:, None]
    return torch.cat([F.pixel_unshuffle(yt, 2), torch.from_numpy(u.astype(np.float32) / 255)[:, None],
                      torch.from_numpy(v.astype(np.float32) / 255)[:, None]], dim=1)


def mse611(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    d = (a - b) ** 2
    return (6 * d[:, :4].mean() + d[:, 4].mean() + d[:, 5].mean()) / 8


def round_ste(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(0, 1) * 255
    return (x + (torch.round(x) - x).detach()) / 255


def closed_loop(model: GopCodec, qmode: str):
    """Decode the GOP in order: [T,6,h,w] frames (rounded to code values), latent bits."""
    frame0, bits = model.intra(qmode)
    frames = [round_ste(frame0)]
    for t in range(1, model.n):
        out, lat = model.inter_outputs(slice(t - 1, t), qmode)
        cur, _ = model.predict(frames[-1], out)
        frames.append(round_ste(cur))
    bits = bits + model.inter_bits([quantize(g, qmode) for g in model.inter_lat])
    return torch.cat(frames), bits


def sequential_closed_loop(model: GopCodec, target: torch.Tensor, lam: float, iters: int, lr: float) -> None:
    """Closed loop without drift: with the networks frozen, fit each inter frame's latents in decode order
    against the frame the decoder will really hold before it (rounded latents, rounded samples)."""
    frame_px = target[0, :4].numel()  # luma samples of one frame
    with torch.no_grad():
        ref = round_ste(model.intra("ste")[0])
    for t in range(1, model.n):
        lat = [nn.Parameter(g.data[t - 1: t].clone()) for g in model.inter_lat]
        opt = torch.optim.Adam(lat, lr=lr)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 0.5 * (1 + math.cos(math.pi * i / iters)))
        for it in range(iters):
            q = [quantize(g, "ste") for g in lat]
            out = model.inter_syn(upsample_stack(q, model.h, model.w))
            cur, _ = model.predict(ref, out)
            bits = model.inter_bits(q)
            loss = bits / frame_px + lam * model.n * model.frame_weight[t] / model.frame_weight.sum() * mse611(
                cur, target[t: t + 1])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        with torch.no_grad():
            for g, new in zip(model.inter_lat, lat):
                g.data[t - 1: t] = new.data
            out, _ = model.inter_outputs(slice(t - 1, t), "ste")
            ref = round_ste(model.predict(ref, out)[0])


def train_step(model: GopCodec, target: torch.Tensor, idx: torch.Tensor, qmode: str,
               bm_flow: torch.Tensor | None, flow_weight: float):
    """Intra frame + the inter frames ``idx`` (1-based), each predicted from source frame ``idx - 1`` (or, with
    ``unroll``, from frames predicted forward), batched; unbiased estimates of the GOP's bits and 6:1:1 MSE."""
    n = model.n
    frame0, bits0 = model.intra(qmode)
    out, lat = model.inter_outputs(idx - 1, qmode)
    ref = target[idx - 1]
    if model.unroll:
        # the reference as the decoder would hold it, ``unroll`` steps deep: start from the source frame
        # (or the intra frame) that many frames back and predict forward, so the network learns to correct
        # its own output; --unroll 2 predicts frame t-1 from source frame t-2
        pos = idx - model.unroll
        f0 = round_ste(frame0).expand(len(idx), -1, -1, -1)
        ref = torch.where((pos <= 0)[:, None, None, None], f0, target[pos.clamp(min=0)])
        pos = pos.clamp(min=0)
        for k in range(model.unroll - 1, 0, -1):
            nxt = idx - k
            active = nxt > pos
            step_out, _ = model.inter_outputs((nxt - 1).clamp(min=0), qmode)
            pred = round_ste(model.predict(ref, step_out)[0])
            ref = torch.where(active[:, None, None, None], pred, ref)
            pos = torch.where(active, nxt, pos)
    if model.ref_noise > 0:  # stand-in for the decoded reference: softened and noisy, as coding leaves it
        ref = 0.5 * (ref + F.avg_pool2d(ref, 3, 1, 1, count_include_pad=False))
        ref = ref + model.ref_noise * torch.randn_like(ref)
    cur, flow = model.predict(ref, out)
    scale = (n - 1) / len(idx)
    bits = bits0 + scale * model.inter_bits(lat)
    fw = model.frame_weight
    d_inter = sum(fw[int(t)] * mse611(cur[k: k + 1], target[int(t): int(t) + 1]) for k, t in enumerate(idx))
    dist = (fw[0] * mse611(frame0, target[:1]) + scale * d_inter) / fw.sum()
    extra = 0.0
    if bm_flow is not None and flow_weight > 0:
        extra = flow_weight * ((flow - bm_flow[idx - 1]) ** 2).mean()
    return bits, dist, extra


def code_ints(arrays: list[np.ndarray]) -> int:
    """Real bytes: one range-coded stream, a Laplace table per array; 3 bytes per table code + max_abs."""
    segments = []
    side = 0
    for a in arrays:
        a = a.astype(np.int64).reshape(-1)
        m = int(np.abs(a).max()) if a.size else 0
        code = fit_laplace_code(a, m)
        segments.append((a.astype(np.int32), laplace_table(code, m)))
        side += 2 + (1 if m < 128 else 2)
    return len(get_coder("range").encode(segments)) + side + 2


def context_bytes(model: GopCodec, lat: list[torch.Tensor]) -> int:
    """Real bytes of integer latents under the context model: one range-coded stream, a quantized Laplace
    per latent (scale floored at 0.05), plus 2 bytes per grid for its symbol range."""
    import constriction

    with torch.no_grad():
        params = model.context.params(lat)
    enc = constriction.stream.queue.RangeEncoder()
    side = 0
    for g, (mu, ls) in zip(lat, params):
        sym = g.reshape(-1).numpy().astype(np.int32)
        m = int(np.abs(sym).max()) if sym.size else 0
        fam = constriction.stream.model.QuantizedLaplace(-m - 1, m + 1)
        enc.encode(sym, fam, mu.reshape(-1).numpy().astype(np.float64),
                   np.maximum(ls.exp().reshape(-1).numpy().astype(np.float64), 0.05))
        side += 2
    return int(enc.get_compressed().nbytes) + side + 2


def quantize_net(net: nn.Module, step_log2: int) -> list[np.ndarray]:
    """Round every parameter to a multiple of 2^-step_log2 in place; return the integers."""
    ints = []
    with torch.no_grad():
        for p in net.parameters():
            q = torch.round(p * 2.0 ** step_log2)
            p.copy_(q / 2.0 ** step_log2)
            ints.append(q.numpy().astype(np.int64))
    return ints


def decoded_uint8(frames: torch.Tensor, height: int, width: int):
    y = F.pixel_shuffle(frames[:, :4], 2)[:, 0]
    to8 = lambda t: np.clip(np.round(t.numpy() * 255), 0, 255).astype(np.uint8)  # noqa: E731
    return to8(y[:, :height, :width]), to8(frames[:, 4]), to8(frames[:, 5])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("--start", type=int, default=30)
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--lam", type=float, default=300.0, help="loss = bits/pixel + lam * 6:1:1 MSE on [0,1]")
    ap.add_argument("--iters", type=int, default=2500, help="open-loop iterations")
    ap.add_argument("--loop-iters", type=int, default=100, help="closed-loop iterations per inter frame after them")
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--batch", type=int, default=8, help="inter frames per iteration")
    ap.add_argument("--intra-levels", type=int, default=6)
    ap.add_argument("--inter-levels", type=int, default=5)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--net-step", type=int, default=8, help="networks quantized to multiples of 2^-N")
    ap.add_argument("--shared", action="store_true", help="one synthesis network for intra and inter frames")
    ap.add_argument("--rho", type=float, default=0.0, help="share of a frame's error its successor inherits")
    ap.add_argument("--context", action="store_true", help="checkerboard + parent context entropy model")
    ap.add_argument("--warp", default="bilinear", choices=("bilinear", "bicubic"))
    ap.add_argument("--intra-weight", type=float, default=1.0, help="extra distortion weight of frame 0")
    ap.add_argument("--loop-lr", type=float, default=2e-2, help="peak learning rate of the closed-loop latents")
    ap.add_argument("--ref-noise", type=float, default=0.0,
                    help="open loop: soften the source reference and add this much Gaussian noise")
    ap.add_argument("--exact-copy", default="none", choices=("none", "flow", "alpha", "both"),
                    help="quarter-sample flow and/or an alpha that reaches exactly 0 and 1")
    ap.add_argument("--unroll", type=int, default=0,
                    help="open loop: references predicted this many frames forward (0: the source frame)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    global WARP_MODE, EXACT_COPY
    WARP_MODE = args.warp
    EXACT_COPY = args.exact_copy
    torch.set_num_threads(args.threads)
    t0 = time.time()
    frames = open_video(args.src).read(args.start, args.frames)  # 8-bit 4:2:0 of even size, as pack() needs
    y, u, v = (np.stack([f[i] for f in frames]) for i in range(3))
    n, height, width = y.shape
    target = pack(y, u, v)
    h, w = target.shape[-2:]
    bm = np.stack([block_flow(y[t], y[t - 1]) for t in range(1, n)])  # [n-1,2,by,bx], luma samples
    bm_flow = F.interpolate(torch.from_numpy(bm), size=(h, w), mode="nearest")
    if args.shared:
        args.intra_levels = args.inter_levels
    model = GopCodec(n, h, w, args.intra_levels, args.inter_levels, args.width, args.shared, args.rho,
                     args.context, args.intra_weight)
    pixels = n * height * width
    lat_params = list(model.intra_lat.parameters()) + list(model.inter_lat.parameters()) + [
        model.intra_scale, model.inter_scale]
    nets = [model.inter_syn] + ([] if args.shared else [model.intra_syn]) + (
        [model.context] if args.context else [])
    net_params = [p for net in nets for p in net.parameters()]
    opt = torch.optim.Adam([{"params": lat_params, "lr": args.lr}, {"params": net_params, "lr": args.lr}])
    total = args.iters
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 0.5 * (1 + math.cos(math.pi * min(i, total) / total)))
    model.ref_noise = args.ref_noise
    model.unroll = args.unroll
    gen = torch.Generator().manual_seed(args.seed)
    total = args.iters
    for it in range(total):
        qmode = "noise" if it < 0.8 * total else "ste"
        idx = torch.randperm(n - 1, generator=gen)[: args.batch] + 1
        fw = max(0.0, 1.0 - it / (0.3 * args.iters)) * 0.01
        bits, dist, extra = train_step(model, target, idx, qmode, bm_flow, fw)
        loss = bits / pixels + args.lam * dist + extra
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if it % 200 == 0 or it == total - 1:
            print(f"it {it} open bpp {float(bits) / pixels:.4f} "
                  f"psnr611 {-10 * math.log10(float(dist)):.2f} {time.time() - t0:.0f}s", file=sys.stderr)
    open_s = time.time() - t0
    model.ref_noise = 0.0

    def loop_psnr() -> float:
        with torch.no_grad():
            fr, _ = closed_loop(model, "ste")
        dy, du, dv = decoded_uint8(fr, height, width)
        return round(psnr_yuv(zip(y, u, v), zip(dy, du, dv))["psnr_yuv"], 2), round(psnr_yuv(
            [(y[0], u[0], v[0])], [(dy[0], du[0], dv[0])])["psnr_yuv"], 2)

    diag = {"closed_loop_float_nets": loop_psnr()}
    net_ints = [a for net in nets for a in quantize_net(net, args.net_step)]
    diag["closed_loop_quant_nets"] = loop_psnr()
    print(json.dumps(diag), file=sys.stderr)
    sequential_closed_loop(model, target, args.lam, args.loop_iters, args.loop_lr)
    train_s = time.time() - t0
    with torch.no_grad():
        frames, _ = closed_loop(model, "ste")
    lat_ints = [torch.round(g).detach().numpy() for g in list(model.intra_lat) + list(model.inter_lat)]
    if args.context:
        lat_bytes = context_bytes(model, [torch.round(g).detach() for g in model.intra_lat]) + context_bytes(
            model, [torch.round(g).detach() for g in model.inter_lat])
    else:
        lat_bytes = code_ints(lat_ints[: len(model.intra_lat)]) + code_ints(lat_ints[len(model.intra_lat):])
    net_bytes = code_ints(net_ints)
    dy, du, dv = decoded_uint8(frames, height, width)
    q = psnr_yuv(zip(y, u, v), zip(dy, du, dv))
    per_frame = [round(psnr_yuv([(y[t], u[t], v[t])], [(dy[t], du[t], dv[t])])["psnr_yuv"], 2) for t in range(n)]
    intra_bytes = (context_bytes(model, [torch.round(g).detach() for g in model.intra_lat]) if args.context
                   else code_ints(lat_ints[: len(model.intra_lat)]))
    row = {"bytes": lat_bytes + net_bytes, "latent_bytes": lat_bytes, "intra_latent_bytes": intra_bytes,
           "net_bytes": net_bytes, "psnr_yuv": round(q["psnr_yuv"], 3), "psnr_y": round(q["psnr_y"], 3),
           "per_frame_psnr": per_frame, "diag": diag}
    half_px = h * w
    macs = (model.inter_syn.macs_per_half_pixel() * half_px) / (height * width)
    row.update({"lam": args.lam, "frames": n, "start": args.start, "bpp": round(row["bytes"] * 8 / pixels, 4),
                "train_s": round(train_s), "open_s": round(open_s), "inter_macs_per_px": round(macs + 2 * 4 + 8),
                "intra_macs_per_px": round(model.inter_syn.macs_per_half_pixel() * half_px / (height * width)),
                "args": vars(args)})
    print(json.dumps(row))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(row, f, indent=1)


if __name__ == "__main__":
    main()
