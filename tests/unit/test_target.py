"""Encoding to a target (train/target.py): the rate model, the allocation and the lambda controller,
with fake reports and a fake fit (no training)."""

import math
from types import SimpleNamespace

import pytest

from inrcodec.container.chunks import SequenceHeader
from inrcodec.errors import InrInputError
from inrcodec.models import ARCHITECTURES
from inrcodec.train.stats import GopReport
from inrcodec.train.target import (CHUNK_BYTES, CONTROL_SWING, LAMBDA_RANGE, FILE_FIXED_BYTES, PSNR_RATIO_PRIOR, W_P_PRIOR, BETA, START_RANGE, GomControl, LambdaControl, Target, allocate,
                                   learn_w_p, model_budget, parse_amount, pick_quality, prior_bpp)


def header(n_frames=120, gop=30, gom=2):
    return SequenceHeader(width=176, height=144, n_frames=n_frames, fps_num=30, fps_den=1, chroma_format=0,
                          bit_depth=8, color_range=0, color_primaries=2, transfer=2, matrix=2, chroma_siting=2,
                          gop_size=gop, gom_size=gom, arch_id=1, arch_params=(1, 16, 16, 16, 24, 16, 12),
                          coder_id=1, seed=1)


def report(g, kind, n_bytes, lam, ctrl=0.0, err=0.0, n=30):
    return GopReport(g, kind, n, n_bytes, n_bytes * 8.0, 0, "", 0.0, 0, lam, 0.0, ctrl, err)


def test_parse_amount():
    assert parse_amount("20k", "--size") == 20000 and parse_amount("1.5M", "--size") == 1.5e6
    for bad in ("", "-3", "20x", "k", "0"):
        with pytest.raises(InrInputError):
            parse_amount(bad, "--size")


def test_pick_quality_follows_the_rate():
    lams = ARCHITECTURES.get("gnerv").LAMBDAS
    qs = [pick_quality(Target("bytes", 0, ""), lams, prior_bpp(lams[q])) for q in lams]
    assert qs == sorted(lams)  # each rung's own prior picks it
    assert pick_quality(Target("bytes", 0, ""), lams, 1e-3) == min(lams)
    assert pick_quality(Target("bytes", 0, ""), lams, 10.0) == max(lams)
    assert pick_quality(Target("psnr", 60.0, ""), lams, None) == max(lams)
    assert pick_quality(Target("psnr", 20.0, ""), lams, None) == min(lams)


def test_w_p_is_learned_at_one_lambda():
    # P at twice the I's lambda spends 2**BETA more than at the I's: its weight at one lambda is 0.4
    r = [report(0, "I", 1000, 300.0), report(1, "P", round(400 * 2 ** 0.6), 600.0)]
    assert learn_w_p(r) == pytest.approx(0.4, rel=1e-3)
    assert learn_w_p([report(0, "I", 1000, 300.0)]) == W_P_PRIOR  # the prior


def test_allocation_spends_the_budget_and_corrects_overspend():
    h = header()  # 4 GOPs, 2 GOMs
    t = Target("bytes", 20000, "--size 20k", lag=1)
    first = allocate(t, h, [], 0)
    assert first.amount == pytest.approx(model_budget(t, 4) / 2)  # two equal GOMs
    # GOM 0 spent 1000 bytes more than its share (at one lambda): GOM 1 gets 1000 less
    spent = [report(0, "I", 6000, 300.0, ctrl=48000.0), report(1, "P", 3000 + round(first.amount) - 9000, 300.0)]
    second = allocate(t, h, spent, 1)
    assert first.amount + second.amount + 0 == pytest.approx(model_budget(t, 4), abs=2)
    assert model_budget(t, 4) == 20000 - FILE_FIXED_BYTES - 4 * CHUNK_BYTES


def test_allocation_reads_no_gom_in_flight():
    """With lag 2 (two workers), GOM 2's share is the same whether GOM 1 has finished or not, and
    the same after a resume (the reports come from the journal): no timing reaches the bytes."""
    h = header(n_frames=180)
    t = Target("bytes", 30000, "--size 30k", lag=2)
    gom0 = [report(0, "I", 7000, 300.0), report(1, "P", 3000, 300.0)]
    gom1 = [report(2, "I", 9000, 250.0), report(3, "P", 2000, 280.0)]
    assert allocate(t, h, gom0, 2) == allocate(t, h, gom0 + gom1, 2)
    assert allocate(t, h, gom0, 2) != allocate(Target("bytes", 30000, "", lag=1), h, gom0 + gom1, 2)


def test_psnr_allocation_keeps_the_clip_average():
    h = header()
    t = Target("psnr", 30.0, "--psnr 30", lag=1)
    assert allocate(t, h, [], 0).amount == pytest.approx(1e-3)
    # before any model is measured, the training distortion held is worth less than the decoded error
    # (the fit improves after the controller's window): the first model aims above the target
    assert allocate(t, h, [], 0).ratio == PSNR_RATIO_PRIOR < 1
    # GOM 0 came out at twice the allowed error: GOM 1 may have none left, clipped at a quarter
    worse = [report(0, "I", 5000, 300.0, ctrl=1e-3, err=2e-3), report(1, "P", 2000, 300.0, ctrl=1e-3, err=2e-3)]
    assert allocate(t, h, worse, 1).amount == pytest.approx(1e-3 / 4)
    better = [report(0, "I", 5000, 300.0, ctrl=1e-3, err=0.5e-3), report(1, "P", 2000, 300.0, ctrl=1e-3, err=0.5e-3)]
    assert allocate(t, h, better, 1).amount == pytest.approx(1.5e-3)


def test_gom_control_absorbs_the_error_of_earlier_models():
    h = header(n_frames=90, gop=30, gom=3)
    c = GomControl(SimpleNamespace(kind="bytes", amount=9000.0, w_p=0.5, ratio=1.0, lam=0.0), h, 0)
    assert c.model_target(0) / 8 == pytest.approx(4500)  # I: 1 of 1 + 0.5 + 0.5
    c.coded(report(0, "I", 6000, 300.0, ctrl=48000.0))  # overspent by 1500
    assert c.model_target(1) / 8 == pytest.approx(1500)  # the rest split between the two P-models


def test_a_model_starts_at_the_lambda_its_share_asks_for():
    """After an I-model that spent 6000 bytes at lambda 300, a P-model whose share is 4000 bytes starts
    where, by w_p and bytes ~ lambda ** BETA, it would spend 4000; within START_RANGE of the last lambda."""
    h = header(n_frames=90, gop=30, gom=3)
    c = GomControl(SimpleNamespace(kind="bytes", amount=14000.0, w_p=1.0, ratio=1.0, lam=0.0), h, 0)
    assert c.start_lam(0, 300.0) == 300.0  # nothing coded yet in this GOM: where it was
    c.coded(report(0, "I", 6000, 300.0, ctrl=48000.0))
    assert c.model_target(1) / 8 == pytest.approx(4000)
    assert c.start_lam(1, 300.0) == pytest.approx(300.0 * (4000 / 6000) ** (1 / BETA))
    c.coded(report(1, "P", 7950, 250.0, ctrl=7950 * 8.0))  # leaves the last P 50 bytes, far below its rate
    assert c.start_lam(2, 250.0) == pytest.approx(250.0 / START_RANGE)
    d = GomControl(SimpleNamespace(kind="psnr", amount=1e-3, w_p=0.8, ratio=1.0, lam=0.0), h, 0)
    d.coded(report(0, "I", 6000, 300.0, ctrl=1e-3, err=1e-3))
    assert d.start_lam(1, 300.0) == 300.0  # a distortion target is steered, not predicted


class FakeFit:
    """A fit whose rate follows lambda with a lag: bits -> a * lam**0.6, approached by 5 % an iteration."""

    def __init__(self, a, bits0):
        self.a, self.bits = a, bits0

    def run(self, control, lam0, iters):
        lam = lam0
        for it in range(iters):
            self.bits += 0.05 * (self.a * lam ** 0.6 - self.bits)
            if it % 5 == 0:
                lam = lam0 * control(it, self.bits, 1.0)
        return self.bits, lam


@pytest.mark.parametrize("iters", [300, 3000, 20000])
def test_lambda_control_moves_the_rate_to_its_target(iters):
    """Started at 2500, 7.8x the lambda that gives the target (3.4x its rate): the controller
    (CONTROL_SWING 3, deliberately slow: faster swings overshot on real fits) closes most of it
    within one fit; the GOPs after it absorb the rest (GomControl, allocate)."""
    target = 8000 * 8.0
    uncontrolled = 2000.0 * 2500.0 ** 0.6
    bits, lam = FakeFit(a=2000.0, bits0=400000.0).run(LambdaControl("bits", target, iters), 2500.0, iters)
    assert abs(math.log(bits / target)) < abs(math.log(uncontrolled / target)) / 4
    assert abs(bits / target - 1) < 0.25 and 322 < lam < 2500


def test_lambda_control_on_distortion_and_its_bounds():
    c = LambdaControl("dist", 1e-3, 1000)
    for it in range(0, 1000, 5):
        f = c(it, 1.0, 4e-3)  # always too much distortion: lambda rises, within its range
    assert f == pytest.approx(min(LAMBDA_RANGE, math.exp(CONTROL_SWING))) and c.last == pytest.approx(4e-3)
    assert math.isclose(LambdaControl("bits", 1.0, 100)(0, float("nan"), 1.0), 1.0)


def test_a_distortion_target_is_held_from_half_way_a_rate_target_from_early_on():
    """Early in a fit the distortion is far above where it ends whatever lambda is: a controller acting
    then raised lambda too far (--psnr 36 on carphone landed at 36.39 dB); the rate is steady sooner."""
    dist, bits = LambdaControl("dist", 1e-3, 1000), LambdaControl("bits", 1.0, 1000)
    for it in range(0, 500, 5):
        assert dist(it, 1.0, 4e-3) == 1.0  # too much distortion, but before half-way: no move
        bits(it, 4.0, 1.0)
    assert bits.factor < 1.0  # the rate was too high from 15 %: lambda fell
    assert dist(500, 1.0, 4e-3) > 1.0  # from half-way the distortion counts


def test_docstring_examples_run():
    """The rate model's and the probe's examples (parse_amount, learn_w_p, probe_iters, ceiling_db)."""
    import doctest

    import inrcodec.train.probe
    import inrcodec.train.target
    for module in (inrcodec.train.target, inrcodec.train.probe):
        assert doctest.testmod(module).failed == 0


def test_the_probe_ceiling_extrapolates_the_last_doubling():
    from inrcodec.train.probe import PROBE_MARGIN_DB, ceiling_db, probe_iters
    # carphone's q9 on its first GOP: 34.36 dB at 400, 36.33 dB at 800 (1.97 dB a doubling): 3 doublings to 6400
    assert ceiling_db((34.36, 36.33), (400, 800), 6400) == pytest.approx(36.33 + 3 * 1.97 + PROBE_MARGIN_DB)
    # the budget below the probe's last fit: that fit is the reach
    assert ceiling_db((20.0, 22.0), (10, 10), 8) == pytest.approx(22.0 + PROBE_MARGIN_DB)
    assert probe_iters(100_000) == (400, 800) and probe_iters(2000) == (250, 500)
