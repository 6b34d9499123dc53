"""Training distortions (inrcodec/train/losses.py): differentiable, zero on identical planes, the
SSIM family equal to the metrics the benchmark reports, and clear errors for bad --loss values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inrcodec.train.losses import LOSSES, make_loss, ms_ssim_torch, ssim_terms
from inrcodec.errors import InrInputError
from inrcodec.metrics import ms_ssim, ssim

NAMES = ["mse", "l1", "l1-ssim", "ms-ssim"]


def planes(seed: int, shape=(2, 48, 64)):
    g = torch.Generator().manual_seed(seed)
    y = torch.rand(shape, generator=g)
    c = torch.rand((shape[0], shape[1] // 2, shape[2] // 2), generator=g)
    return [y, c, c.clone()]


@pytest.mark.parametrize("name", NAMES)
def test_loss_is_zero_on_identical_planes(name):
    a = planes(0)
    assert float(make_loss(name)(a, [p.clone() for p in a])) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_loss_is_positive_and_differentiable(name):
    target = planes(0)
    pred = [(p * 0.8 + 0.1).requires_grad_() for p in planes(1)]
    value = make_loss(name)(pred, target)
    value.backward()
    assert float(value.detach()) > 0
    for p in pred:
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0


def test_ssim_terms_match_the_reported_metrics():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (40, 56)).astype(np.float64)
    b = np.clip(a + rng.normal(0, 25, a.shape), 0, 255)
    ta, tb = (torch.tensor(x / 255, dtype=torch.float32)[None] for x in (a, b))
    assert float(ssim_terms(ta, tb)[0]) == pytest.approx(ssim(a, b), abs=1e-5)
    assert float(ms_ssim_torch(ta, tb)) == pytest.approx(ms_ssim(a, b), abs=1e-5)


def test_weights_are_configurable():
    target, pred = planes(0), planes(1)
    l1_only = make_loss("l1-ssim:l1=1,ssim=0")(pred, target)
    assert float(l1_only) == pytest.approx(float(make_loss("l1")(pred, target)), rel=1e-6)


@pytest.mark.parametrize("spec, message", [
    ("psnr", "unknown loss"),
    ("l1-ssim:l2=1", "unknown weight l2"),
    ("l1-ssim:l1", "expected key=number"),
    ("l1-ssim:l1=x", "expected key=number"),
    ("mse:a=1", "unknown weight a"),
])
def test_bad_loss_specs_are_refused(spec, message):
    with pytest.raises(InrInputError, match=message):
        make_loss(spec)


def test_ssim_losses_refuse_planes_below_the_window():
    with pytest.raises(InrInputError, match="at least 11x11"):
        make_loss("ms-ssim").check_size([(32, 48), (8, 12)])
    make_loss("mse").check_size([(4, 4), (2, 2)])


def test_every_registered_loss_is_tested():
    # perceptual needs backbone weights: tests/e2e/test_losses.py builds a small local one
    assert sorted(LOSSES.names()) == sorted(NAMES + ["perceptual"])
