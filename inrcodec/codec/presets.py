"""Named parameter tables for ``--quality`` and ``--preset`` (data, not code paths)."""

from __future__ import annotations

# quality -> (gnerv arch_params (pe_levels, time_dim, C0, C1, ...), lambda on the 6:1:1 MSE)
QUALITY: dict[int, tuple[tuple[int, ...], float]] = {
    1: ((16, 16, 12, 16, 12, 8), 200.0),
    2: ((16, 16, 12, 16, 12, 10), 300.0),
    3: ((16, 16, 16, 16, 16, 10), 500.0),
    4: ((16, 16, 16, 20, 16, 12), 800.0),
    5: ((16, 16, 16, 24, 16, 12), 1200.0),
    6: ((16, 16, 16, 24, 20, 14), 2000.0),
    7: ((16, 16, 16, 28, 24, 16), 3000.0),
    8: ((16, 16, 20, 32, 28, 16), 5000.0),
    9: ((16, 16, 24, 40, 32, 20), 8000.0),
}

# preset -> (iterations of a GOM's I-model, iterations of each P-model), for a 30-frame GOP;
# other GOP lengths scale the counts with the number of frames (spec of nothing: encoder only).
PRESET: dict[str, tuple[int, int]] = {
    "fast": (600, 300),
    "medium": (3000, 1500),
    "slow": (8000, 4000),
}

# P-models start next to a good solution: Adam's first updates move every weight by about the
# learning rate whatever its gradient, which at the I-model's rate scatters non-zero residuals
# over the whole network. A smaller rate keeps the residual sparse (cheap) where nothing changed.
P_LR_FACTOR = 0.25
