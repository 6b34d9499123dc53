"""fit_gop on a tiny synthetic clip: the divergence guard."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from inrcodec.train.fit import FitConfig, fit_gop
from inrcodec.train.losses import MSELoss
from inrcodec.decode.init import init_arrays
from inrcodec.decode.weights import dequantize
from inrcodec.models import ARCHITECTURES


def clip(n=4, w=32, h=16):
    yy, xx = np.mgrid[0:h, 0:w] / 16.0
    y = np.stack([0.5 + 0.3 * np.sin(xx + 0.3 * t) * np.cos(yy) for t in range(n)])
    c = np.stack([0.5 + 0.1 * np.cos(xx[::2, ::2] - 0.2 * t) for t in range(n)])
    return [torch.tensor(p, dtype=torch.float32) for p in (y, c, 1 - c)]


def fit(lr, iters=150, **recipe):
    torch.set_num_threads(1)
    model = ARCHITECTURES.get("gnerv")(32, 16, "420", (1, 4, 8, 8, 8, 8))
    planes = clip()
    t = torch.arange(4, dtype=torch.float32) / 4
    res = fit_gop(model, planes, t, init_arrays(model.tensor_specs(), 3), None, None,
                  FitConfig(iters=iters, lam=1000.0, lr=lr, batch=2, seed=1, **recipe))
    model.load_arrays(dequantize(res.qmodel, None))
    with torch.no_grad():
        mse = MSELoss()(model(t), planes)
    return res, float(mse)


def test_a_sane_rate_never_rolls_back():
    res, mse = fit(1e-2)
    assert res.stats["rollbacks"] == 0
    assert math.isfinite(mse)


def test_an_exploding_rate_is_caught_and_training_still_converges():
    res, mse = fit(30.0, iters=300)
    assert res.stats["rollbacks"] >= 3  # each halves the rate: 30 -> 3.75 or less
    assert math.isfinite(mse) and mse < 0.05
    assert all(np.all(np.isfinite(s)) for s in res.qmodel.symbols)


def test_a_per_tensor_optimiser_on_views_trains_the_flat_vector():
    # Adam is elementwise: run on shaped views of the flat vector it must give the very same integers
    # as Adam on the flat vector, which also shows the views write through to the weights
    base, _ = fit(1e-2, iters=60)
    made = []

    def adam(views, lr):
        made.append([tuple(v.shape) for v in views])
        return torch.optim.Adam(views, lr=lr)

    res, _ = fit(1e-2, iters=60, make_optimizer=adam)
    assert made and len(made[0]) == len(res.qmodel.symbols) and all(len(s) >= 1 for s in made[0])
    assert res.qmodel.digest() == base.qmodel.digest()


def test_soap_trains_through_the_views_and_unknown_optimisers_are_refused():
    from inrcodec.errors import InrInputError
    from inrcodec.train.optim import make_optimizer

    assert make_optimizer("adam") is None  # fit_gop's own Adam on the flat vector
    with pytest.raises(InrInputError, match="unknown optimizer"):
        make_optimizer("sgd")
    adam, adam_mse = fit(1e-2, iters=100)
    soap, soap_mse = fit(1e-2, iters=100, make_optimizer=make_optimizer("soap"))
    assert soap.qmodel.digest() != adam.qmodel.digest()
    assert math.isfinite(soap_mse) and soap_mse < 0.05 and soap.stats["rollbacks"] == 0
