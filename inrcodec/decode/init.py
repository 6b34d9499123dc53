"""The seeded initialisation every I-model starts from, regenerated bit-exactly by the decoder.

torch's RNG streams are not promised across versions or devices, so the initial weights come
from numpy's PCG64 raw 64-bit stream (whose values numpy promises) turned into floats by the
arithmetic spec/models.md ("Seeded initialisation") writes down.
"""

from __future__ import annotations

import numpy as np

from ..tensors import TensorSpec


def init_arrays(specs: list[TensorSpec], seed: int) -> list[np.ndarray]:
    """float32 initial values of every coded tensor, in wire order, from ``seed``."""
    gen = np.random.PCG64(seed)
    out = []
    for spec in specs:
        if spec.init_bound == 0.0:
            out.append(np.zeros(spec.shape, np.float32))
            continue
        raw = gen.random_raw(spec.numel).astype(np.uint64)
        u = (raw >> np.uint64(11)).astype(np.float64) * (2.0**-53)  # exact: 53-bit integers
        out.append(((2.0 * u - 1.0) * spec.init_bound).astype(np.float32).reshape(spec.shape))
    return out


def interpolate_init(theta_init: list[np.ndarray], previous: list[np.ndarray], eps_code: int) -> list[np.ndarray]:
    """uar-nvc eq. 8 in binary32: eps * theta_init + (1 - eps) * previous, eps = eps_code / 256."""
    eps = np.float32(eps_code / 256.0)
    keep = np.float32((256 - eps_code) / 256.0)
    # two correctly rounded products and one correctly rounded sum, in this order: no FMA
    return [np.add(np.multiply(eps, a, dtype=np.float32), np.multiply(keep, b, dtype=np.float32), dtype=np.float32)
            for a, b in zip(theta_init, previous)]


def eps_code_from_mse(mse: float, sharpness: float = 50.0) -> int:
    """uar-nvc eq. 9 with a*e^c = 1: eps = 1 - exp(-b * MSE), MSE on [0, 1] samples; as a code 0..255."""
    eps = 1.0 - float(np.exp(-sharpness * mse))
    return int(min(255, max(0, round(eps * 256))))


def p_reference(theta_init: list[np.ndarray], previous: list[np.ndarray], eps_code: int,
                keep: list[bool] | None = None) -> list[np.ndarray]:
    """A P-model's reference: theta' (eq. 8), except for the tensors flagged in ``keep``, whose
    reference is the previous model itself: the blob tensors of a legacy binary32 residual BLOB
    (spec/models.md §3b), which that layout kept unchanged in P-models."""
    mixed = interpolate_init(theta_init, previous, eps_code)
    if keep is None:
        return mixed
    return [prev if k else m for m, prev, k in zip(mixed, previous, keep)]
