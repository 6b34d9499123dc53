"""Named parameter tables for ``--quality`` and ``--preset`` (data, not code paths)."""

from __future__ import annotations

# quality -> (gnerv arch_params (up_mode, pe_levels, time_dim, C0, C1, ...), lambda on the 6:1:1 MSE)
QUALITY: dict[int, tuple[tuple[int, ...], float]] = {
    1: ((1, 16, 16, 16, 24, 16, 12), 100.0),
    2: ((1, 16, 16, 16, 24, 20, 12), 150.0),
    3: ((1, 16, 16, 20, 28, 20, 14), 200.0),
    4: ((1, 16, 16, 24, 32, 20, 14), 300.0),
    5: ((1, 16, 16, 24, 32, 24, 16), 450.0),
    6: ((1, 16, 16, 24, 40, 28, 16), 700.0),
    7: ((1, 16, 16, 32, 48, 32, 20), 1000.0),
    8: ((1, 16, 16, 32, 56, 40, 24), 1500.0),
    9: ((1, 16, 16, 40, 64, 48, 28), 2500.0),
}

# preset -> (iterations of a GOM's I-model, iterations of each P-model), for a 30-frame GOP;
# other GOP lengths scale the counts with the number of frames (spec of nothing: encoder only).
PRESET: dict[str, tuple[int, int]] = {
    "fast": (1500, 750),
    "medium": (10000, 5000),
    "slow": (30000, 15000),
}

# P-models start next to a good solution: Adam's first updates move every weight by about the
# learning rate whatever its gradient, which at the I-model's rate scatters non-zero residuals
# over the whole network. A smaller rate keeps the residual sparse (cheap) where nothing changed.
P_LR_FACTOR = 0.25
