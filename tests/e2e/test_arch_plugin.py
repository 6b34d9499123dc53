"""A new architecture is one module: this test registers a toy one (wire id 200) here, once, and `enc`,
`dec` on every backend and `info` take it, with its own --quality ladder and its own option, no
other file changed. Its computation is a program (inrcodec.archs.program), so the numpy and ort
backends play it without torch, as a player install does."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from inrcodec.archs import (ARCHITECTURES, ArchOption, Architecture, Builder, NetworkCost, TensorSpec,
                            chroma_channels)
from inrcodec.archs.base import heads_params, heads_tensors, layer
from inrcodec.cli import main

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE_48 = os.path.join(os.path.dirname(os.path.dirname(HERE)), "samples", "carphone_48x32_8f.y4m")
TOY_ID = 200


@functools.cache
def toy_network() -> type:
    """The toy's torch network, what the encoder trains (torch imported here, on first use)."""
    import torch
    from torch import nn

    from inrcodec.models.base import InrModel

    class ToyNetwork(InrModel):
        def __init__(self, width, height, chroma, arch_params):
            Toy.cost(width, height, chroma, arch_params)
            super().__init__(width, height, chroma)
            (self.c,) = arch_params
            self.embedding = nn.Parameter(torch.zeros(1, self.c, -(-height // 2), -(-width // 2)))
            self.shift = nn.Linear(2, 2 * self.c)
            self.make_heads(self.c)

        def arch_params(self):
            return (self.c,)

        def forward(self, t):
            pe = torch.stack([(t * torch.pi).sin(), (t * torch.pi).cos()], dim=1)
            scale, shift = self.shift(pe).chunk(2, dim=1)
            x = self.embedding * (1 + scale[:, :, None, None]) + shift[:, :, None, None]
            return self.planes(self.heads(x))

    return ToyNetwork


class Toy(Architecture):
    """arch_params = (C,): a learned C-channel embedding at half resolution, scaled and shifted in time,
    then the heads."""

    QUALITY = {q: (2 + q,) for q in range(1, 10)}
    OPTIONS = (ArchOption("embed", "int", "embedding channels"),)
    network = toy_network

    @classmethod
    def apply_options(cls, arch_params, embed=None):
        return arch_params if embed is None else (embed,)

    @classmethod
    def parse(cls, arch_params):
        if len(arch_params) != 1 or not 1 <= arch_params[0] <= 64:
            raise ValueError("toy needs (C,) with C in 1..64")
        return int(arch_params[0])

    @classmethod
    def cost(cls, width, height, chroma, arch_params):
        c, k = cls.parse(arch_params), chroma_channels(chroma)
        area = -(-height // 2) * -(-width // 2)
        return NetworkCost(c * area + 6 * c + heads_params(c, k), 4 * c + 9 * c * (4 + k) * area, width * height,
                           4 * area, max(c, 4 + k) * area)

    @classmethod
    def tensors(cls, width, height, chroma, arch_params):
        c = cls.parse(arch_params)
        embedding = TensorSpec("embedding", (1, c, -(-height // 2), -(-width // 2)), 1.0)
        return [embedding] + layer("shift", (2 * c, 2)) + heads_tensors(c, chroma_channels(chroma))

    @classmethod
    def build(cls, b: Builder, width, height, k, c):
        sm = b.linear(b.fourier(1.0, 1), "shift")  # (sin πt, cos πt)
        return b.heads(b.modulate(b.tensor("embedding"), sm))


def register_toy() -> None:
    """Register the toy as a plug-in does: once, in its own module."""
    ARCHITECTURES.register("toy", wire_id=TOY_ID)(Toy)


@pytest.fixture(scope="module", autouse=True)
def toy():
    register_toy()
    try:
        yield Toy
    finally:
        ARCHITECTURES.unregister("toy")


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


# a player: no torch; the plug-in's module registers the toy, then `dec` runs the numpy or ort backend
PLAYER = r"""
import importlib.util, sys
sys.modules["torch"] = None
spec = importlib.util.spec_from_file_location("toy_plugin", sys.argv[1])
plugin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plugin)
plugin.register_toy()
from inrcodec.cli import main
main(["dec", sys.argv[2], "-o", sys.argv[3], "--backend", sys.argv[4], "--quiet"], standalone_mode=False)
assert "torch" not in [m.split(".")[0] for m, v in sys.modules.items() if v is not None]
"""


def test_a_toy_architecture_round_trips_through_enc_dec_and_info(tmp_path):
    from inrcodec.metrics import psnr_yuv

    from .conftest import parse_y4m, read_source

    inr = tmp_path / "toy.inr"
    run = cli("enc", SAMPLE_48, "-o", inr, "--model", "toy", "--embed", 5, "--gop", 4, "--iters", 60, "--p-iters",
              20, "--device", "cpu", "--threads", 1, "--quiet", "--json")
    assert run.exit_code == 0, run.output
    summary = json.loads(run.output)
    assert summary["n_frames"] == 8
    run = cli("info", inr, "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["architecture"] == "toy"  # not "unknown (id)"
    source = read_source(SAMPLE_48)
    decoded = {}
    for backend in ("torch", "numpy", "ort"):
        y4m = tmp_path / f"{backend}.y4m"
        run = cli("dec", inr, "-o", y4m, "--backend", backend, "--quiet")
        assert run.exit_code == 0, run.output
        decoded[backend] = y4m.read_bytes()
        frames = parse_y4m(decoded[backend])[1]
        assert len(frames) == 8
        got = psnr_yuv(source, frames)["psnr_yuv"]
        assert abs(got - summary["psnr_yuv"]) < 0.05, (backend, got, summary["psnr_yuv"])
    for backend in ("numpy", "ort"):
        y4m = tmp_path / f"player-{backend}.y4m"
        out = subprocess.run([sys.executable, "-c", PLAYER, __file__, str(inr), str(y4m), backend],
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        assert y4m.read_bytes() == decoded[backend]


def test_an_option_of_another_architecture_is_refused(tmp_path):
    run = cli("enc", SAMPLE_48, "-o", tmp_path / "x.inr", "--embed", 5, "--quiet")
    assert run.exit_code == 7 and "--embed applies to --model toy only" in run.output


def test_the_ladders_are_the_architectures_own():
    gnerv, nirvana = ARCHITECTURES.get("gnerv"), ARCHITECTURES.get("nirvana")
    assert gnerv.from_quality(4) == (1, 16, 16, 24, 32, 20, 14)
    assert gnerv.from_quality(1, channels=(8, 8, 8)) == (1, 16, 16, 8, 8, 8)
    assert nirvana.from_quality(5, patch_size=16, channels=(8, 8)) == (16, 64, 3, 8, 8)
    assert nirvana.from_quality(2, mlp_depth=4) == (32, 48, 4, 8, 16, 12)
    assert gnerv.LAMBDAS[5] == nirvana.LAMBDAS[5] == 450.0
    with pytest.raises(ValueError):
        gnerv.from_quality(3, patch_size=16)
