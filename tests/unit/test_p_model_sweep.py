"""tools/p_model_sweep.py: variants parse, and a frozen tensor stays exactly at its reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import p_model_sweep as tool  # tools/, on the path through pyproject.toml
from inrcodec.decode.init import init_arrays
from inrcodec.models import ARCHITECTURES
from inrcodec.train.fit import FitConfig, fit_gop


def test_variants_parse():
    assert tool.parse_variant("base") == {"fit": {}, "shift": 0, "eps": None}
    v = tool.parse_variant("freeze=convs.:head_y.weight+lam=150+shift=8+eps=0")
    assert v == {"fit": {"frozen": ("convs.", "head_y.weight"), "lam": 150.0}, "shift": 8, "eps": 0}
    with pytest.raises(KeyError):
        tool.parse_variant("nonsense=1")


def test_frozen_tensors_code_all_zero_residuals_and_the_rest_train():
    model = ARCHITECTURES.get("gnerv")(24, 16, "420", (1, 4, 8, 6, 8, 6))
    specs = model.tensor_specs()
    ref = init_arrays(specs, 3)
    rng = np.random.default_rng(0)
    planes = [torch.from_numpy(rng.random((4, h, w), dtype=np.float32)) for h, w in ((16, 24), (8, 12), (8, 12))]
    t = torch.arange(4, dtype=torch.float32) / 4
    res = fit_gop(model, planes, t, ref, ref, None, FitConfig(iters=40, lam=100.0, frozen=("convs.", "head_c.bias")))
    for spec, sym in zip(specs, res.qmodel.symbols):
        if spec.name.startswith("convs.") or spec.name == "head_c.bias":
            assert not np.any(sym), spec.name
    assert any(np.any(sym) for spec, sym in zip(specs, res.qmodel.symbols) if spec.name == "embedding")
