"""After training: choose each tensor's step and nudge integers by rate + λ·distortion (issue 20).

Cool-chic 5 quantizes its networks after training: a per-module search over quantization steps
scored by the real rate-distortion cost, then a greedy pass that moves single integers by ±1 where
that lowers the cost. This module does both on what ``fit_gop`` ends with, measured the way a file
is: the rate is the coded bits of every tensor under the table the encoder will write (the Laplace
code ``fit_laplace_code`` picks, plus its side information), the distortion is the training loss of
the network's planes over every frame of the GOP, and the cost is ``bits + λ · pixels · D`` (the
training loss times the GOP's pixels).

1. **Step search** per tensor: symbols ``round(w / step)`` of the tensor's continuous residual ``w``
   for step codes around the trained one (hill-climbing by strides 4, 2, 1), keeping the cheapest.
2. **Greedy ±1**: the distortion's gradient predicts, to first order, what moving one integer by
   ±1 does; the table gives the rate change exactly. The best-predicted moves are applied together,
   the cost is measured, and the set is kept if it paid, else halved (Cool-chic's RDOQ verifies
   each move; one render per candidate is too slow here, so candidates are verified in sets).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import functional_call

from ..coders.base import fixed_point_pmf
from ..container.bitio import uvarint_bytes
from ..decode.render import add_layer
from ..decode.weights import MAX_ABS_SYMBOL, QuantizedModel, _zigzag
from ..models.base import InrModel
from ..quant.quantizer import MAX_STEP_CODE, MIN_STEP_CODE, step_from_code
from ..quant.tables import fit_laplace_code, laplace_table
from .losses import Loss, MSELoss

PMF_TOTAL_BITS = 24  # fixed_point_pmf sums to 2^24
STEP_STRIDES = (4, 2, 1)


def tensor_bits(symbols: np.ndarray, step_code: int) -> float:
    """Coded bits of one tensor as ``encode_body`` writes it: step code, max_abs, Laplace code and
    the symbols' share of the stream under that table (ideal arithmetic coding)."""
    flat = np.asarray(symbols, np.int64).ravel()
    costs, max_abs = _symbol_bit_costs(flat)
    bits = 8.0 * (len(uvarint_bytes(_zigzag(step_code))) + len(uvarint_bytes(max_abs)))
    if max_abs == 0:
        return bits
    hist = np.bincount(flat + max_abs, minlength=2 * max_abs + 1)
    return bits + 16.0 + float(np.dot(hist, costs))


def _symbol_bit_costs(symbols: np.ndarray) -> tuple[np.ndarray, int]:
    """-log2 p(k) for k = -max_abs..max_abs under the tensor's fitted table, and max_abs."""
    flat = np.asarray(symbols, np.int64).ravel()
    max_abs = int(np.abs(flat).max()) if flat.size else 0
    if max_abs == 0:
        return np.zeros(1), 0
    pmf = fixed_point_pmf(laplace_table(fit_laplace_code(flat), max_abs))
    return PMF_TOTAL_BITS - np.log2(pmf.astype(np.float64)), max_abs


@dataclass
class RefineReport:
    """Costs before and after each stage (bits, distortion, cost) and what changed."""

    start: tuple[float, float, float]
    after_steps: tuple[float, float, float]
    after_greedy: tuple[float, float, float]
    steps_changed: int
    moves: int


class _Problem:
    """The model, the GOP and the cost function shared by both stages."""

    def __init__(self, model: InrModel, planes: list[torch.Tensor], t_pos: torch.Tensor,
                 reference: list[np.ndarray] | None, lam: float, loss: Loss | None,
                 offset: list[torch.Tensor] | None, scale: float, batch: int) -> None:
        self.model, self.planes, self.t_pos = model, planes, t_pos
        self.specs = model.tensor_specs()
        self.reference = reference
        self.loss = loss if loss is not None else MSELoss()
        self.weight = lam * self.loss.lambda_scale * planes[0].numel()  # λ · pixels
        self.offset, self.scale, self.batch = offset, scale, batch

    def weights(self, codes: list[int], symbols: list[np.ndarray]) -> list[torch.Tensor]:
        out = []
        for i, (c, s) in enumerate(zip(codes, symbols)):
            w = torch.from_numpy(s.astype(np.float32)) * step_from_code(c)
            if self.reference is not None:
                w = torch.from_numpy(np.asarray(self.reference[i], np.float32)).reshape(w.shape) + w
            out.append(w)
        return out

    def _dist_batches(self, params: dict) -> torch.Tensor:
        n = self.t_pos.shape[0]
        total = torch.zeros(())
        for i in range(0, n, self.batch):
            idx = slice(i, i + self.batch)
            pred = functional_call(self.model, params, (self.t_pos[idx],))
            if self.offset is not None:
                pred = add_layer([o[idx] for o in self.offset], pred, self.scale)
            total = total + self.loss(pred, [p[idx] for p in self.planes]) * pred[0].shape[0]
        return total / n

    def distortion(self, codes: list[int], symbols: list[np.ndarray]) -> float:
        params = {s.name: w for s, w in zip(self.specs, self.weights(codes, symbols))}
        with torch.no_grad():
            return float(self._dist_batches(params))

    def gradient(self, codes: list[int], symbols: list[np.ndarray]) -> list[np.ndarray]:
        ws = [w.requires_grad_(True) for w in self.weights(codes, symbols)]
        d = self._dist_batches({s.name: w for s, w in zip(self.specs, ws)})
        grads = torch.autograd.grad(d, ws)
        return [g.detach().numpy() for g in grads]


def refine_integers(model: InrModel, qmodel: QuantizedModel, continuous: list[np.ndarray],
                    planes: list[torch.Tensor], t_pos: torch.Tensor, lam: float, *,
                    reference: list[np.ndarray] | None = None, loss: Loss | None = None,
                    offset: list[torch.Tensor] | None = None, scale: float = 1.0,
                    step_search: bool = True, greedy_rounds: int = 12, batch: int = 6,
                    log=None) -> RefineReport:
    """Refine ``qmodel`` (its step codes and symbols, in place) by rate + λ·distortion.

    ``continuous``: each tensor's trained residual ``theta - ref`` before rounding (what the step
    search re-rounds). Blob tensors are left as they are (their bytes are not the table's).
    """
    prob = _Problem(model, planes, t_pos, reference, lam, loss, offset, scale, batch)
    codes, symbols = list(qmodel.step_codes), [np.asarray(s, np.int32).copy() for s in qmodel.symbols]
    coded = [not s.blob for s in prob.specs]
    bits = [tensor_bits(s, c) if k else 0.0 for s, c, k in zip(symbols, codes, coded)]
    dist = prob.distortion(codes, symbols)
    cost = lambda b, d: sum(b) + prob.weight * d
    start = (sum(bits), dist, cost(bits, dist))
    say = log or (lambda *_: None)
    steps_changed = 0

    if step_search:
        order = sorted(range(len(codes)), key=lambda i: -symbols[i].size)
        for i in order:
            if not coded[i] or symbols[i].size <= 1:
                continue
            w = np.asarray(continuous[i], np.float64).reshape(symbols[i].shape)
            best = (cost(bits, dist), codes[i], symbols[i], bits[i], dist)
            for stride in STEP_STRIDES:
                improved = True
                while improved:
                    improved = False
                    for c in (best[1] - stride, best[1] + stride):
                        if not MIN_STEP_CODE <= c <= MAX_STEP_CODE:
                            continue
                        q = np.rint(w / step_from_code(c))
                        if np.abs(q).max() > MAX_ABS_SYMBOL - 1:
                            continue
                        q = q.astype(np.int32)
                        trial_codes = codes[:i] + [c] + codes[i + 1:]
                        trial_syms = symbols[:i] + [q] + symbols[i + 1:]
                        b = tensor_bits(q, c)
                        d = prob.distortion(trial_codes, trial_syms)
                        j = cost(bits[:i] + [b] + bits[i + 1:], d)
                        if j < best[0]:
                            best, improved = (j, c, q, b, d), True
            if best[1] != codes[i]:
                steps_changed += 1
                codes[i], symbols[i], bits[i], dist = best[1], best[2], best[3], best[4]
        say(f"step search: {steps_changed} steps changed")
    after_steps = (sum(bits), dist, cost(bits, dist))

    moves_total = 0
    n_moves = max(8, sum(s.size for s in symbols) // 100)
    for _ in range(greedy_rounds):
        if n_moves < 8:
            break
        grads = prob.gradient(codes, symbols)
        cands = []  # (predicted gain, tensor, flat index, delta)
        for i, (g, s, c) in enumerate(zip(grads, symbols, codes)):
            if not coded[i]:
                continue
            costs_k, max_abs = _symbol_bit_costs(s)
            flat, gflat = s.ravel().astype(np.int64), g.ravel().astype(np.float64)
            step = step_from_code(c)
            for delta in (-1, 1):
                moved = flat + delta
                ok = np.abs(moved) <= max_abs  # a move past max_abs would change the table's range
                rate = np.where(ok, costs_k[np.clip(moved, -max_abs, max_abs) + max_abs] - costs_k[flat + max_abs], np.inf)
                gain = rate + prob.weight * gflat * delta * step
                for j in np.flatnonzero(gain < 0):
                    cands.append((gain[j], i, int(j), delta))
        if not cands:
            break
        cands.sort(key=lambda x: x[0])
        while n_moves >= 8:
            chosen, seen = [], set()
            for g, i, j, delta in cands:
                if (i, j) not in seen:
                    seen.add((i, j))
                    chosen.append((i, j, delta))
                if len(chosen) >= n_moves:
                    break
            trial = [s.copy() for s in symbols]
            for i, j, delta in chosen:
                trial[i].reshape(-1)[j] += delta
            touched = {i for i, _, _ in chosen}
            trial_bits = [tensor_bits(trial[i], codes[i]) if i in touched else b for i, b in enumerate(bits)]
            d = prob.distortion(codes, trial)
            if cost(trial_bits, d) < cost(bits, dist):
                symbols, bits, dist = trial, trial_bits, d
                moves_total += len(chosen)
                say(f"greedy: {len(chosen)} moves kept, cost {cost(bits, dist):.0f}")
                break
            n_moves //= 2
    after = (sum(bits), dist, cost(bits, dist))
    qmodel.step_codes[:] = codes
    qmodel.symbols[:] = symbols
    return RefineReport(start, after_steps, after, steps_changed, moves_total)
