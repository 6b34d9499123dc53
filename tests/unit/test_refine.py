"""Post-training step search and greedy ±1 refinement (train/refine.py) on a tiny fit."""

from __future__ import annotations

import copy

import numpy as np
import torch

from inrcodec.decode.init import init_arrays
from inrcodec.decode.weights import dequantize, encode_body
from inrcodec.models import ARCHITECTURES
from inrcodec.train.fit import FitConfig, fit_gop
from inrcodec.train.losses import MSELoss
from inrcodec.train.refine import refine_integers, tensor_bits

from test_fit import clip  # tests/unit is on sys.path (pytest prepends a test file's folder)


def _fit(iters=80):
    torch.set_num_threads(1)
    model = ARCHITECTURES.get("gnerv")(32, 16, "420", (1, 4, 8, 8, 8, 8))
    planes = clip()
    t = torch.arange(4, dtype=torch.float32) / 4
    res = fit_gop(model, planes, t, init_arrays(model.tensor_specs(), 3), None, None,
                  FitConfig(iters=iters, lam=300.0, lr=1e-2, batch=2, seed=1))
    return model, planes, t, res


def _cost(model, qmodel, planes, t, lam):
    model.load_arrays(dequantize(qmodel, None))
    with torch.no_grad():
        d = float(MSELoss()(model(t), planes))
    return 8 * len(encode_body(qmodel, 1, model.tensor_specs())) + lam * planes[0].numel() * d


def test_tensor_bits_is_what_the_body_costs():
    model, _, _, res = _fit(40)
    est = sum(tensor_bits(s, c) for s, c in zip(res.qmodel.symbols, res.qmodel.step_codes))
    real = 8 * len(encode_body(res.qmodel, 1, model.tensor_specs()))
    assert abs(est - real) <= 0.01 * real + 64  # ideal arithmetic coding vs the range coder's flush


def test_refinement_lowers_the_real_cost_and_keeps_a_codable_model():
    model, planes, t, res = _fit()
    lam = 300.0
    before = _cost(model, res.qmodel, planes, t, lam)
    refined = copy.deepcopy(res.qmodel)
    rep = refine_integers(model, refined, res.continuous, planes, t, lam, batch=4)
    after = _cost(model, refined, planes, t, lam)
    assert rep.after_greedy[2] <= rep.after_steps[2] <= rep.start[2]
    assert after < before  # measured with the real coder, not the report's estimate
    assert rep.steps_changed + rep.moves > 0
    assert all(s.dtype == np.int32 for s in refined.symbols)


def test_no_stage_asked_changes_nothing():
    model, planes, t, res = _fit(40)
    refined = copy.deepcopy(res.qmodel)
    rep = refine_integers(model, refined, res.continuous, planes, t, 300.0, step_search=False, greedy_rounds=0)
    assert refined.digest() == res.qmodel.digest() and rep.moves == 0 and rep.steps_changed == 0
