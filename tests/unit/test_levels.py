"""inrcodec.levels: the level of spec/levels.md, checked on a header by arithmetic alone."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from inrcodec.archs.gnerv import Gnerv
from inrcodec.archs.nirvana import Nirvana
from inrcodec.container.chunks import LayerHeader, LayerSpec, SequenceHeader
from inrcodec.errors import InrFormatError, InrUnsupportedError
from inrcodec.levels import LEVEL, Limits, check_limits, exceeded, option_name

Q1, Q9 = Gnerv.QUALITY[1], Gnerv.QUALITY[9]


def header(width=176, height=144, arch_id=1, arch_params=Q1, chroma_format=0) -> SequenceHeader:
    return SequenceHeader(
        width=width, height=height, n_frames=30, fps_num=25, fps_den=1, chroma_format=chroma_format, bit_depth=8,
        color_range=0, color_primaries=2, transfer=2, matrix=2, chroma_siting=0, gop_size=30, gom_size=1,
        arch_id=arch_id, arch_params=arch_params, coder_id=1, seed=1)


def layered(*specs: tuple[int, tuple[int, ...]], **kw) -> tuple[SequenceHeader, LayerHeader]:
    h = header(**kw)
    return h, LayerHeader(tuple(LayerSpec(a, p, 100, k) for k, (a, p) in enumerate(specs, start=1)))


class TestLimits:
    def test_defaults_are_the_level_of_the_spec(self):
        assert LEVEL == Limits()
        assert LEVEL.as_dict() == {
            "max_pixels": 2**25, "max_layers": 8, "max_params": 2**24, "max_total_params": 2**26,
            "max_macs_per_pixel": 2**19, "max_total_macs_per_pixel": 2**20, "max_frame_macs": 2**38,
            "max_activation": 2**29}

    def test_a_field_is_overridden_and_the_rest_kept(self):
        raised = Limits(max_pixels=1 << 28)
        assert raised.max_pixels == 1 << 28 and raised.max_params == LEVEL.max_params
        with pytest.raises(dataclasses.FrozenInstanceError):
            raised.max_pixels = 1  # type: ignore[misc]

    @pytest.mark.parametrize("bad", [0, -1, 1.5, True, "8"])
    def test_rejects_a_limit_that_is_not_a_positive_integer(self, bad):
        with pytest.raises(ValueError, match="max_pixels"):
            Limits(max_pixels=bad)

    def test_option_names(self):
        assert option_name("max_pixels") == "--max-pixels"
        assert option_name("max_frame_macs") == "--max-frame-macs"

    def test_imports_fast_without_torch_or_numpy(self):
        code = ("import sys, time; sys.modules['torch'] = None; sys.modules['numpy'] = None\n"
                "t = time.perf_counter(); import inrcodec.levels; print(time.perf_counter() - t)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert float(out.stdout) < 1.0


class TestTheLevelAdmits:
    """spec/levels.md §2: every network the encoder makes, at every frame size of the level."""

    SIZES = [(1, 1), (8, 8), (37, 29), (176, 144), (1920, 1080), (7680, 4320), (16384, 2048), (2048, 16384),
             (16383, 2047)]

    @pytest.mark.parametrize("chroma", [0, 1])
    @pytest.mark.parametrize("w,h", SIZES)
    def test_every_quality_preset_of_both_architectures(self, w, h, chroma):
        for q in Gnerv.QUALITY:
            check_limits(header(w, h, 1, Gnerv.QUALITY[q], chroma))
            check_limits(header(w, h, 2, Nirvana.QUALITY[q], chroma))

    @pytest.mark.parametrize("w,h", [(1, 1), (176, 144), (960, 540)])
    def test_the_widest_nirvana_mlps_over_the_smallest_patches(self, w, h):
        # the largest MACs per pixel --patch-size/--mlp-width/--mlp-depth can give under the cap;
        # up to about half a million pixels a frame (at 1080p one frame's work is above the level)
        for params in [(8, 1090, 15, 32, 40, 28), (8, 2048, 4, 32, 40, 28), (8, 1412, 9, 32, 40, 28)]:
            costs = check_limits(header(w, h, 2, params, 1))
            assert costs[0].macs_per_grid_sample > 2**17
        with pytest.raises(InrUnsupportedError, match="max-frame-macs"):
            check_limits(header(1920, 1080, 2, (8, 1090, 15, 32, 40, 28), 1))

    def test_eight_layers_of_the_largest_preset_at_8k_fit_the_parameters(self):
        h, lh = layered(*[(1, Q9)] * 7, width=7680, height=4320, arch_params=Q9)
        costs, message = exceeded(h, lh)
        assert sum(c.params for c in costs) <= LEVEL.max_total_params
        assert "max-frame-macs" in message  # but their work together is above one frame's


class TestRefusals:
    def test_frame_size_first_even_when_the_network_would_be_invalid(self):
        with pytest.raises(InrUnsupportedError) as err:
            check_limits(header(16384, 16384))
        assert str(err.value) == ("frame 16384x16384 has 268435456 samples, above the limit 33554432 "
                                  "(--max-pixels raises it)")

    @pytest.mark.parametrize("make,flag", [
        (lambda: (header(256, 256, 1, (0, 1, 1, 512, 512)), None), "--max-macs-per-pixel"),
        (lambda: (header(7680, 4320, 2, (8, 2048, 1, 24, 32, 24)), None), "--max-activation"),
        (lambda: (header(176, 144, 2, (8, 16, 1, 512, 512)), None), "--max-macs-per-pixel"),
        (lambda: (header(7680, 4320, 1, (1, 16, 16, 8, 64, 64)), None), "--max-frame-macs"),
        (lambda: layered(*[(2, (32, 1200, 12, 8, 8))] * 7, arch_params=(1, 4, 8, 6, 8)), "--max-total-params"),
        (lambda: layered(*[(1, (0, 1, 1, 256, 256))] * 7, width=256, height=256, arch_params=(0, 1, 1, 256, 256)),
         "--max-total-macs-per-pixel"),
    ])
    def test_each_limit_is_named_with_the_value(self, make, flag):
        h, lh = make()
        with pytest.raises(InrUnsupportedError, match=flag) as err:
            check_limits(h, lh)
        assert "above the limit" in str(err.value)

    def test_lowered_limits(self):
        with pytest.raises(InrUnsupportedError, match=r"decoding 3 layers, above the limit 2 \(--max-layers"):
            check_limits(*layered((1, Q1), (1, Q1)), limits=Limits(max_layers=2))
        with pytest.raises(InrUnsupportedError, match=r"layer 0 \(gnerv\) has 13362 parameters, above the limit 1000"):
            check_limits(header(), limits=Limits(max_params=1000))

    def test_a_raised_limit_admits_the_file(self):
        h = header(256, 256, 1, (0, 1, 1, 512, 512))
        costs = check_limits(h, limits=Limits(max_macs_per_pixel=2**20))
        assert costs[0].macs_per_grid_sample > LEVEL.max_macs_per_pixel

    def test_only_the_layers_to_decode_count(self):
        h, lh = layered(*[(2, (8, 1024, 16, 8, 8))] * 5)
        with pytest.raises(InrUnsupportedError, match="max-total-params"):
            check_limits(h, lh)
        assert len(check_limits(h, lh, n_layers=2)) == 2

    def test_invalid_and_unknown_architectures(self):
        with pytest.raises(InrFormatError, match=r"LHDR layer 1: arch_params \(7, 4, 8, 6, 8\) invalid"):
            check_limits(*layered((1, (7, 4, 8, 6, 8))))
        with pytest.raises(InrUnsupportedError, match="unknown architecture id 99"):
            check_limits(header(arch_id=99))

    def test_exceeded_returns_the_message_instead_of_raising(self):
        costs, message = exceeded(header(16384, 16384))
        assert costs == [] and message.startswith("frame 16384x16384")
        costs, message = exceeded(header())
        assert len(costs) == 1 and message is None
