"""The encode plan: decided once from the options and the video, frozen, and all a GOM job needs."""

from __future__ import annotations

import dataclasses
import pickle
import warnings

import pytest

from inrcodec.train.gom import GomJob
from inrcodec.train.losses import LossSpec, build_loss
from inrcodec.train.options import EncodeOptions
from inrcodec.errors import InrNotice
from inrcodec.train.plan import MIN_ITERS, gop_iterations, make_plan, modelled_iteration_seconds, resolve, structure
from inrcodec.train.presets import PRESET
from inrcodec.train.speed import iteration_seconds
from inrcodec.container.chunks import SequenceHeader
from inrcodec.archs.gnerv import Gnerv
from inrcodec.archs.nirvana import Nirvana
from inrcodec.models import ARCHITECTURES


def header(n_frames: int = 20, gop: int = 4, gom: int = 2, arch_params=Gnerv.QUALITY[4]) -> SequenceHeader:
    return SequenceHeader(width=48, height=32, n_frames=n_frames, fps_num=25, fps_den=1, chroma_format=0,
                          bit_depth=8, color_range=0, color_primaries=2, transfer=2, matrix=2, chroma_siting=0,
                          gop_size=gop, gom_size=gom, arch_id=1, arch_params=arch_params, coder_id=1, seed=7)


def test_resolve_takes_the_architectures_ladder_and_overrides():
    r = resolve(EncodeOptions(quality=4, model="nirvana", arch={"patch_size": 16}, preset="fast"))
    assert r.arch_params == (16,) + Nirvana.QUALITY[4][1:] and r.lam == Nirvana.LAMBDAS[4]
    assert (r.iters, r.p_iters, r.preset) == (None, None, PRESET["fast"])  # iterations come from the time
    # residual layers: the ladder two steps up, without the base layer's overrides
    r = resolve(EncodeOptions(quality=4, layers=3, arch={"channels": (8, 8, 8)}, lam=5.0))
    assert r.arch_params == (1, 16, 16, 8, 8, 8) and r.lam == 5.0
    assert r.residual == ((Gnerv.QUALITY[6], 700.0), (Gnerv.QUALITY[8], 1500.0))


def test_plan_is_frozen_and_a_job_is_plan_index_frames():
    opts = EncodeOptions(quality=4, layers=2, iters=100, preset="fast", seed=7)
    plan = make_plan(opts, resolve(opts), header(), LossSpec(), "cpu", 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.batch = 1
    assert plan.lams == (Gnerv.LAMBDAS[4], Gnerv.LAMBDAS[6])
    assert plan.layers.residual[0].seed == 8 and plan.layers.residual[0].residual_scale == opts.residual_scale
    # GOP 0 and 2 open a GOM (--iters given: taken as it is), the others are P (from the preset's time)
    p_iters = plan.gop_iters[1]
    assert plan.gop_iters[:3] == (100, p_iters, 100) and p_iters >= MIN_ITERS
    job = GomJob(plan, 1, frames=[])
    # and, encoding to a target, its share of it (train/target.py: a function of earlier GOMs' reports),
    # and in a time budget, its clock (train/timing.py)
    assert [f.name for f in dataclasses.fields(job)] == ["plan", "gom_index", "frames", "target", "clock"]
    assert job.target is None and job.clock is None and plan.time_budget is None
    assert [plan.gop_iters[g] for g in plan.header.gops_of_gom(1)] == [100, p_iters] and plan.device_of(1) == "cpu"
    assert plan.n_layers == 2
    assert pickle.loads(pickle.dumps(job)).plan == plan
    assert dataclasses.replace(plan, n_gpus=2).device_of(3) == "cuda:1"


class TestPresetTime:
    """A preset is time per frame-pixel: iterations follow the network's modelled speed."""

    @staticmethod
    def iters(h, preset="medium", **given):
        """(iterations of each GOP, their modelled seconds)."""
        p = PRESET[preset]
        per_iter = modelled_iteration_seconds(h, "gnerv")
        counts = gop_iterations(h, per_iter, p.us_per_frame_pixel, p.p_share, given.get("iters"), given.get("p_iters"))
        return counts, tuple(n * per_iter for n in counts)

    def test_a_gom_takes_its_frames_pixels_time(self):
        h = header(n_frames=60, gop=30, gom=2)
        h = dataclasses.replace(h, width=176, height=144)
        counts, seconds = self.iters(h)
        budget = PRESET["medium"].us_per_frame_pixel * 1e-6 * 60 * 176 * 144
        assert sum(seconds) == pytest.approx(budget, rel=0.01)
        # the I-model trains 1 : p_share of the P-model's iterations per frame
        assert counts[1] / counts[0] == pytest.approx(PRESET["medium"].p_share, rel=0.01)

    def test_a_larger_network_trains_fewer_iterations_in_the_same_time(self):
        small = dataclasses.replace(header(n_frames=30, gop=30, gom=1), width=176, height=144,
                                    arch_params=Gnerv.QUALITY[2])
        large = dataclasses.replace(small, arch_params=Gnerv.QUALITY[8])
        (n_small,), (s_small,) = self.iters(small)
        (n_large,), (s_large,) = self.iters(large)
        assert n_large < n_small and s_large == pytest.approx(s_small, rel=0.01)
        assert iteration_seconds("gnerv", Gnerv.QUALITY[8], 176, 144) > iteration_seconds("gnerv", Gnerv.QUALITY[2],
                                                                                          176, 144)

    def test_slower_presets_train_longer_and_explicit_counts_are_kept(self):
        h = header(n_frames=8, gop=4, gom=2)
        fast, medium, slow = (self.iters(h, p)[0] for p in ("fast", "medium", "slow"))
        assert fast[0] < medium[0] < slow[0]
        assert self.iters(h, iters=7, p_iters=9)[0] == (7, 9)
        tiny = dataclasses.replace(h, width=16, height=16)
        assert min(self.iters(tiny, "fast")[0]) == MIN_ITERS


def test_the_loss_is_built_once_per_process():
    assert build_loss(LossSpec("l1")) is build_loss(LossSpec("l1"))


def test_an_encode_resolves_its_options_once(tmp_path, monkeypatch):
    import numpy as np

    from inrcodec.api import encode
    from inrcodec.train import encoder, plan as plan_module

    calls = []
    monkeypatch.setattr(encoder, "resolve", lambda opts: calls.append(opts) or resolve(opts))
    monkeypatch.setattr(plan_module, "resolve", lambda opts: pytest.fail("the options were resolved again"))
    y = np.zeros((2, 32, 48), np.uint8)
    uv = np.full((2, 16, 24), 128, np.uint8)
    summary = encode(zip(y, uv, uv), tmp_path / "a.inr", quality=1, channels=(8, 8, 8), iters=2, p_iters=2,
                     threads=1)
    assert len(calls) == 1 and summary.n_frames == 2
    # counted by arithmetic (costs), as the network the file holds has it
    params = resolve(calls[0]).arch_params
    assert summary.macs_per_pixel == pytest.approx(ARCHITECTURES.get("gnerv")(48, 32, "420", params).macs_per_pixel())


class TestStructure:
    """--gop/--gom larger than the video shrink to fit it, an asked-for value with one note (issue 29 item 4)."""

    @staticmethod
    def notes(gop, gom, n_frames):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sizes = structure(EncodeOptions(gop=gop, gom=gom), n_frames)
        return sizes, [str(w.message) for w in caught if issubclass(w.category, InrNotice)]

    @pytest.mark.parametrize("gop, gom, n_frames, sizes", [
        (None, None, 16, (16, 1)), (None, None, 100, (30, 4)), (8, None, 16, (8, 2)), (4, 2, 8, (4, 2)),
        (30, 2, 60, (30, 2)), (16, 1, 16, (16, 1)),
    ])
    def test_sizes_that_fit_are_kept_without_a_word(self, gop, gom, n_frames, sizes):
        assert self.notes(gop, gom, n_frames) == (sizes, [])

    def test_a_gop_and_gom_beyond_the_video_shrink_with_one_note(self):
        assert self.notes(30, 5, 16) == ((16, 1), ["--gop 30 --gom 5 is larger than the video (16 frames): "
                                                   "encoding --gop 16 --gom 1"])

    def test_a_gop_beyond_the_video_leaves_the_default_gom_unmentioned(self):
        assert self.notes(9, None, 8) == ((8, 1), ["--gop 9 is larger than the video (8 frames): "
                                                   "encoding --gop 8 --gom 1"])

    def test_a_gom_beyond_the_video_counts_its_gops(self):
        assert self.notes(4, 3, 8) == ((4, 2), ["--gom 3 is larger than the video (2 GOPs of 4 frames): "
                                                "encoding --gop 4 --gom 2"])
