"""gnerv's architecture options: --up-mode picks the up-sampling block (spec/models.md §2), the
quality ladder's bilinear one (1) unless given; the conformance suite's UPMODE0_A needs it."""

from __future__ import annotations

import os

import pytest
import torch
from click.testing import CliRunner

from inrcodec.cli import main
from inrcodec.errors import InrInputError
from inrcodec.models import ARCHITECTURES
from inrcodec.train.options import EncodeOptions
from inrcodec.train.plan import resolve

SAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "samples", "carphone_48x32_8f.y4m")
GNeRV = ARCHITECTURES.get("gnerv")  # the torch network, stamped with the architecture's ladder and options


def test_up_mode_replaces_the_first_arch_param_only():
    base = GNeRV.from_quality(4)
    assert base[0] == 1
    assert GNeRV.from_quality(4, up_mode=0) == (0,) + base[1:]
    assert GNeRV.from_quality(4, up_mode=None) == base
    assert GNeRV.from_quality(1, channels=(8, 8, 8), up_mode=0) == (0, 16, 16, 8, 8, 8)
    assert GNeRV.from_quality(1, up_mode=0, channels=(8, 8, 8)) == (0, 16, 16, 8, 8, 8)


def test_up_mode_0_builds_pixelshuffle_blocks():
    model = GNeRV(48, 32, "420", GNeRV.from_quality(1, channels=(8, 8, 8), up_mode=0))
    assert model.up_mode == 0 and model.arch_params()[0] == 0
    assert all(conv.out_channels == 4 * 8 for conv in model.convs)  # conv Cj -> 4*C(j+1), then PixelShuffle(2)
    y, u, v = model(torch.tensor([0.0, 0.5]))
    assert y.shape == (2, 32, 48) and u.shape == v.shape == (2, 16, 24)


def test_encode_options_route_up_mode_to_the_architecture():
    opts = EncodeOptions.build(quality=1, up_mode=0)
    assert opts.arch == {"up_mode": 0}
    assert resolve(opts).arch_params[0] == 0


@pytest.mark.parametrize("args, message", [
    (["--up-mode", "2"], "up_mode must be 0 or 1"),
    (["--model", "nirvana", "--up-mode", "0"], "--up-mode applies to --model gnerv only"),
])
def test_cli_refuses_a_bad_up_mode(tmp_path, args, message):
    result = CliRunner().invoke(main, ["enc", SAMPLE, "-o", str(tmp_path / "x.inr"), "--quiet", *args])
    assert result.exit_code == InrInputError.exit_code == 7, result.output
    assert message in result.output
    assert not (tmp_path / "x.inr").exists()


def test_cli_help_shows_up_mode():
    text = CliRunner().invoke(main, ["enc", "--help"]).output
    assert "--up-mode" in text and "gnerv: up-sampling blocks" in text
