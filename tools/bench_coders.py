"""Benchmark every registered entropy coder on rounded Laplacian symbols (the shape of quantised weights).

Reports speed (input counted as int32, 4 bytes per symbol), bits per symbol, and overhead over the
empirical entropy plus the table's cost, for the fitted Laplace table and for an exact-histogram table.

    python tools/bench_coders.py [--n 1000000] [--scale 3] [--seed 2024] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inrcodec.coders import CODERS, FreqTable, get_coder  # noqa: E402
from inrcodec.quant.tables import fit_laplace_code, laplace_table  # noqa: E402

LAPLACE_TABLE_BITS = 32  # what a file stores for the model: a 16-bit code and a 16-bit max_abs


def best_seconds(action, repeat: int) -> float:
    """Shortest wall time of ``repeat`` runs of ``action``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def empirical_entropy_bits(symbols: np.ndarray) -> float:
    """N times the entropy of the histogram of ``symbols``."""
    hist = np.bincount(symbols - symbols.min())
    p = hist[hist > 0] / symbols.size
    return float(-(p * np.log2(p)).sum() * symbols.size)


def bench(n: int, scale: float, seed: int, repeat: int) -> dict:
    """Run every coder on both tables; return the measurements."""
    symbols = np.rint(np.random.default_rng(seed).laplace(0.0, scale, n)).astype(np.int64)
    entropy_bits = empirical_entropy_bits(symbols)
    max_abs = int(np.abs(symbols).max())
    fit_seconds = best_seconds(lambda: fit_laplace_code(symbols), repeat)
    code = fit_laplace_code(symbols)
    tables = {
        "laplace": (laplace_table(code, max_abs), LAPLACE_TABLE_BITS),
        # Not counted: shows the coder's own overhead, apart from the parametric model's mismatch.
        "histogram": (FreqTable(int(symbols.min()), np.bincount(symbols - symbols.min()) + 1), 0),
    }
    input_mb = 4 * n / 1e6
    rows = []
    for table_name, (table, table_bits) in tables.items():
        for name in CODERS.names():
            coder = get_coder(name)
            data = coder.encode([(symbols, table)])
            (decoded,) = coder.decode(data, [(n, table)])
            if not np.array_equal(decoded, symbols):
                raise RuntimeError(f"{name} failed to round-trip")
            encode_s = best_seconds(lambda: coder.encode([(symbols, table)]), repeat)
            decode_s = best_seconds(lambda: coder.decode(data, [(n, table)]), repeat)
            reference_bits = entropy_bits + table_bits
            rows.append(
                {
                    "coder": name,
                    "table": table_name,
                    "encode_MBps": input_mb / encode_s,
                    "decode_MBps": input_mb / decode_s,
                    "encode_Msym_per_s": n / encode_s / 1e6,
                    "decode_Msym_per_s": n / decode_s / 1e6,
                    "coded_bytes": len(data),
                    "bits_per_symbol": 8 * len(data) / n,
                    "table_bits": table_bits,
                    "overhead_pct": 100 * (8 * len(data) - reference_bits) / reference_bits,
                }
            )
    return {
        "n_symbols": n,
        "laplace_scale": scale,
        "seed": seed,
        "entropy_bits_per_symbol": entropy_bits / n,
        "max_abs": max_abs,
        "laplace_code": code,
        "fit_seconds": fit_seconds,
        "rows": rows,
    }


def print_table(result: dict) -> None:
    """Human-readable report."""
    print(
        f"{result['n_symbols']} symbols, rounded Laplace(scale={result['laplace_scale']}), "
        f"seed {result['seed']}: empirical entropy {result['entropy_bits_per_symbol']:.5f} bits/symbol, "
        f"max |k| {result['max_abs']}, fitted code {result['laplace_code']} "
        f"in {1e3 * result['fit_seconds']:.1f} ms"
    )
    header = (
        f"{'table':<10}{'coder':<7}{'enc MB/s':>10}{'dec MB/s':>10}{'enc Msym/s':>12}{'dec Msym/s':>12}"
        f"{'bytes':>10}{'bits/sym':>10}{'table bits':>11}{'overhead %':>12}"
    )
    print(header)
    for row in result["rows"]:
        print(
            f"{row['table']:<10}{row['coder']:<7}{row['encode_MBps']:>10.1f}{row['decode_MBps']:>10.1f}"
            f"{row['encode_Msym_per_s']:>12.2f}{row['decode_Msym_per_s']:>12.2f}{row['coded_bytes']:>10}"
            f"{row['bits_per_symbol']:>10.5f}{row['table_bits']:>11}{row['overhead_pct']:>12.4f}"
        )
    print("MB = 10^6 bytes of int32 input; overhead is over entropy + table bits")
    print("(the histogram table's own cost is not counted).")


def main(argv: list[str] | None = None) -> None:
    """Parse options, run the benchmark, print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of symbols")
    parser.add_argument("--scale", type=float, default=3.0, help="Laplace scale before rounding")
    parser.add_argument("--seed", type=int, default=2024, help="numpy Generator seed")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs; the best counts")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    result = bench(args.n, args.scale, args.seed, args.repeat)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
