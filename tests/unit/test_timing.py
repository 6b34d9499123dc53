"""Encoding in a time budget (--time): durations, the GOMs' ends, each model's share, and a fit whose
iteration count follows its clock."""

from __future__ import annotations

import time

import pytest
import torch

from inrcodec.decode.init import init_arrays
from inrcodec.errors import InrInputError
from inrcodec.train import timing
from inrcodec.train.fit import RETIME_FIRST, RETIME_FROM, FitConfig, fit_gop
from inrcodec.train.timing import GomClock, check_budget, gom_ends, parse_duration, process_start


@pytest.mark.parametrize("text, seconds", [("90", 90.0), ("90s", 90.0), (" 2m ", 120.0), ("1.5h", 5400.0),
                                           ("0.5", 0.5), ("3min", 180.0), ("2M", 120.0)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "-5", "5d", "0", "1e9", "5 m s", "nan"])
def test_bad_durations_name_the_option(text):
    with pytest.raises(InrInputError, match="--time"):
        parse_duration(text)


class TestGomEnds:
    def test_one_worker_shares_the_budget_by_planned_time(self):
        assert gom_ends([3.0, 1.0], 10.0, 40.0, 1) == [40.0, 50.0]

    def test_workers_side_by_side_share_the_same_stretch(self):
        ends = gom_ends([1.0, 1.0, 1.0, 1.0, 0.5], 0.0, 5.0, 2)
        assert ends[0] == ends[1] < ends[2] == ends[3] and ends[-1] == pytest.approx(5.0)

    def test_the_last_gom_ends_at_the_budget(self):
        assert gom_ends([2.0, 5.0, 1.0], 7.0, 11.0, 3)[1] == pytest.approx(18.0)


class TestGomClock:
    def test_models_share_what_is_left_by_planned_time(self):
        clock = GomClock(end=100.0, planned=(3.0, 1.0, 1.0), after=(1.0, 1.0, 1.0))
        assert clock.allotment(0, now=53.0) == pytest.approx((100 - 53 - 3) * 3 / 5)
        # a model that starts late (its predecessor ran over) gets what is left, not its plan
        assert clock.allotment(1, now=90.0) == pytest.approx((100 - 90 - 2) / 2)
        assert clock.allotment(2, now=120.0) == 0.0

    def test_the_retimer_ends_the_fit_at_its_allotment(self, monkeypatch):
        now = [1000.0]
        monkeypatch.setattr(timing.time, "time", lambda: now[0])
        monkeypatch.setattr(timing.time, "perf_counter", lambda: now[0])
        clock = GomClock(end=1010.0, planned=(1.0,), after=(0.0,))
        retime = clock.retimer(0)
        now[0] += 2.0  # 20 iterations in 2 s after RETIME_FROM: 0.1 s each; 8 s left: 80 more
        assert retime(20, 2.0) == RETIME_FROM + 20 + 80
        now[0] += 9.0  # past its allotment: no more
        assert retime(110, 11.0) == RETIME_FROM + 110


def test_a_budget_below_the_fewest_iterations_is_refused():
    check_budget(10.0, 50, [0.01, 0.01], after=1.0)
    with pytest.raises(InrInputError, match=r"--time 2s is too short.*2 models"):
        check_budget(2.0, 50, [0.01, 0.01], after=1.0)


def test_the_process_start_is_in_the_past():
    start = process_start()
    assert start is None or 0.0 <= time.time() - start < 24 * 3600


def _fit(retime, iters: int = 400) -> tuple[int, list[int]]:
    from inrcodec.models import ARCHITECTURES

    torch.manual_seed(0)
    model = ARCHITECTURES.get("gnerv")(32, 16, "420", (1, 4, 8, 8, 8, 8))
    gen = torch.Generator().manual_seed(0)
    planes = [torch.rand(2, 16, 32, generator=gen), torch.rand(2, 8, 16, generator=gen),
              torch.rand(2, 8, 16, generator=gen)]
    totals = []
    cfg = FitConfig(iters=iters, lam=100.0, batch=2, seed=1, retime=retime,
                    progress=lambda it, total, values: totals.append(total))
    start = init_arrays(model.tensor_specs(), 3)
    res = fit_gop(model, planes, torch.arange(2, dtype=torch.float32) / 2, start, None, None, cfg)
    return res.stats["iters"], totals


def test_a_fit_runs_as_many_iterations_as_its_clock_allows():
    asked = []

    def retime(n, seconds):
        asked.append((n, seconds))
        return 60

    n_iters, totals = _fit(retime)
    assert n_iters == 60 and totals[-1] == 60 and totals[0] == 400
    assert asked[0][0] == RETIME_FIRST - RETIME_FROM and asked[0][1] > 0
    # and longer than planned when the clock allows it
    n_iters, _ = _fit(lambda n, s: 130, iters=80)
    assert n_iters == 130
    # never fewer than what already ran
    n_iters, _ = _fit(lambda n, s: 0)
    assert n_iters == RETIME_FIRST + 2
