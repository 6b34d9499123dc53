#!/usr/bin/env python3
"""What richer entropy models would save on a real file: bits of its decoded integers under each.

Reads an .inr, decodes every model's integer symbols, and prices them (ideal code lengths of the
coder's own fixed-point tables, plus the side information each model would have to store):

- ``tensor``: today's model, one Laplace table per tensor (a 2-byte code and its max_abs);
- ``channel``: one table per output channel (axis 0) of every tensor of two or more dimensions;
- ``best``: per tensor, whichever of the two is cheaper, plus one flag bit per tensor;
- ``ctx``: per tensor two tables, chosen by whether the previous symbol in wire order was zero (a
  one-symbol context; no per-channel side information);
- ``entropy``: each tensor's empirical entropy with no side information at all: the floor of any
  static per-tensor model, however its distribution is shaped (a histogram, a mixture, ...).

Side information is counted as the body would store it: each tensor's step code, and per table a
uvarint max_abs plus 2 bytes of code when it has a non-zero symbol. Usage:

    python tools/entropy_probe.py out.inr [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

from inrcodec.api import open as open_inr
from inrcodec.coders.base import fixed_point_pmf
from inrcodec.container.bitio import uvarint_bytes
from inrcodec.decode.weights import encode_body
from inrcodec.quant.tables import fit_laplace_code, laplace_table

PRECISION = 24


def table_bits(symbols: np.ndarray) -> float:
    """Ideal bits of ``symbols`` under its best Laplace table, plus that table's side information."""
    flat = np.asarray(symbols, np.int64).ravel()
    max_abs = int(np.abs(flat).max()) if flat.size else 0
    side = 8 * len(uvarint_bytes(max_abs))
    if max_abs == 0:
        return float(side)
    code = fit_laplace_code(flat)
    pmf = fixed_point_pmf(laplace_table(code, max_abs))
    return side + 16 + float(-np.log2(pmf[flat + max_abs] / 2.0 ** PRECISION).sum())


def context_bits(symbols: np.ndarray) -> float:
    """Two tables per tensor, selected by whether the previous symbol (wire order) was zero."""
    flat = np.asarray(symbols, np.int64).ravel()
    if flat.size < 2 or not np.any(flat):
        return table_bits(flat)
    prev_zero = np.concatenate(([True], flat[:-1] == 0))
    return table_bits(flat[prev_zero]) + table_bits(flat[~prev_zero])


def empirical_bits(symbols: np.ndarray) -> float:
    """Empirical entropy of ``symbols`` times their count (no side information)."""
    _, counts = np.unique(np.asarray(symbols).ravel(), return_counts=True)
    p = counts / counts.sum()
    return float(-(counts * np.log2(p)).sum())


def probe(path: str) -> list[dict]:
    """One row per model: bits under each entropy model, and ``coded``, the bytes of its body in the file."""
    rows = []
    with open_inr(path) as f:
        h = f.header
        specs = [layer.specs for layer in f._layers]  # each layer's coded tensors (a tool may look inside)
        for gom in range(h.n_goms):
            for gop, models, _ in f.decode_gom(gom):
                for layer, qm in enumerate(models):
                    row = {"gop": gop, "layer": layer, "kind": "P" if qm.kind else "I",
                           "coded": len(encode_body(qm, h.coder_id, specs[layer])),
                           "tensor": 0.0, "channel": 0.0, "best": 0.0, "ctx": 0.0, "entropy": 0.0}
                    for code, sym in zip(qm.step_codes, qm.symbols):
                        step_side = 8 * len(uvarint_bytes(2 * code if code >= 0 else -2 * code - 1))
                        for key in ("tensor", "channel", "best", "ctx", "entropy"):
                            row[key] += step_side  # every model keeps the tensor's step code
                        per_tensor = table_bits(sym)
                        if sym.ndim >= 2 and sym.shape[0] > 1:
                            per_channel = sum(table_bits(ch) for ch in sym)
                        else:
                            per_channel = per_tensor
                        row["tensor"] += per_tensor
                        row["channel"] += per_channel
                        row["best"] += min(per_tensor, per_channel) + 1
                        row["ctx"] += context_bits(sym)
                        row["entropy"] += empirical_bits(sym)
                    rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    rows = probe(a.file)
    if a.json:
        json.dump(rows, sys.stdout, indent=1)
        return
    keys = ("channel", "best", "ctx", "entropy")
    total = {k: sum(r[k] for r in rows) for k in ("tensor",) + keys}
    print("| model | per tensor (B) | per channel | best of both | previous-zero context | empirical entropy |")
    print("|---|--:|--:|--:|--:|--:|")
    for r in rows + [{"gop": "all", "layer": "", "kind": "", **total}]:
        t = r["tensor"]
        cells = [f"{r[k] / 8:.0f} ({100 * (r[k] - t) / t:+.1f} %)" for k in keys]
        print(f"| GOP {r['gop']} {r['kind']} | {t / 8:.0f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
