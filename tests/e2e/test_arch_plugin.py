"""A new architecture is one module: this test registers a toy one (wire id 200) here, and `enc`,
`dec` and `info` take it, with its own --quality ladder and its own option, no other file changed."""

from __future__ import annotations

import json
import math

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from inrcodec.cli import main
from inrcodec.costs import NETWORK_COSTS, NetworkCost
from inrcodec.models import ARCHITECTURES, ArchOption, InrModel, TensorSpec
from inrcodec.models.gnerv import GNeRV
from inrcodec.models.nirvana import Nirvana

from .conftest import SAMPLE_48

TOY_ID = 200


def toy_cost(width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> NetworkCost:
    """arch_params = (C,): a learned C-channel embedding at half resolution, shifted in time, then the heads."""
    if len(arch_params) != 1 or not 1 <= arch_params[0] <= 64:
        raise ValueError("toy needs (C,) with C in 1..64")
    (c,) = arch_params
    k = 2 if chroma == "420" else 8
    eh, ew = -(-height // 2), -(-width // 2)
    params = c * eh * ew + 2 * c + (4 + k) * (9 * c + 1)
    macs = (4 + k) * 9 * c * eh * ew + c
    return NetworkCost(params, macs, width * height, 4 * eh * ew, max(c, 4 + k) * eh * ew)


class Toy(InrModel):
    """Embedding + per-frame shift -> heads."""

    QUALITY = {q: (2 + q,) for q in range(1, 10)}
    OPTIONS = (ArchOption("embed", "int", "embedding channels"),)

    @classmethod
    def apply_options(cls, arch_params, embed=None):
        return arch_params if embed is None else (embed,)

    def __init__(self, width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> None:
        self._cost = toy_cost(width, height, chroma, tuple(arch_params))
        super().__init__(width, height, chroma)
        (self.c,) = arch_params
        self.embedding = nn.Parameter(torch.zeros(1, self.c, -(-height // 2), -(-width // 2)))
        self.time_fc = nn.Linear(1, self.c)
        self.make_heads(self.c)

    def arch_params(self) -> tuple[int, ...]:
        return (self.c,)

    def tensor_specs(self) -> list[TensorSpec]:
        out = [TensorSpec("embedding", tuple(self.embedding.shape), 1.0)]
        for name, mod, bound in (("time_fc", self.time_fc, 1.0), ("head_y", self.head_y, 1 / math.sqrt(9 * self.c)),
                                 ("head_c", self.head_c, 1 / math.sqrt(9 * self.c))):
            out += [TensorSpec(f"{name}.weight", tuple(mod.weight.shape), bound),
                    TensorSpec(f"{name}.bias", tuple(mod.bias.shape), 0.0)]
        return out

    def macs_per_pixel(self) -> float:
        return self._cost.macs_per_pixel

    def forward(self, t: torch.Tensor) -> list[torch.Tensor]:
        x = self.embedding + self.time_fc(t[:, None])[:, :, None, None]
        return self.planes(self.heads(x))


@pytest.fixture
def toy():
    NETWORK_COSTS.register("toy", wire_id=TOY_ID)(toy_cost)
    ARCHITECTURES.register("toy", wire_id=TOY_ID)(Toy)
    try:
        yield Toy
    finally:
        ARCHITECTURES.unregister("toy")
        NETWORK_COSTS.unregister("toy")


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_a_toy_architecture_round_trips_through_enc_dec_and_info(tmp_path, toy):
    inr, y4m = tmp_path / "toy.inr", tmp_path / "toy.y4m"
    run = cli("enc", SAMPLE_48, "-o", inr, "--model", "toy", "--embed", 5, "--gop", 4, "--iters", 40, "--p-iters",
              10, "--device", "cpu", "--threads", 1, "--quiet", "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["n_frames"] == 8
    run = cli("info", inr, "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["architecture"] == "toy"  # not "unknown (id)"
    run = cli("dec", inr, "-o", y4m, "--quiet")
    assert run.exit_code == 0, run.output
    assert y4m.read_bytes().count(b"FRAME") == 8


def test_an_option_of_another_architecture_is_refused(tmp_path, toy):
    run = cli("enc", SAMPLE_48, "-o", tmp_path / "x.inr", "--embed", 5, "--quiet")
    assert run.exit_code == 7 and "--embed applies to --model toy only" in run.output


def test_the_ladders_are_the_architectures_own():
    assert GNeRV.from_quality(4) == (1, 16, 16, 24, 32, 20, 14)
    assert GNeRV.from_quality(1, channels=(8, 8, 8)) == (1, 16, 16, 8, 8, 8)
    assert Nirvana.from_quality(5, patch_size=16, channels=(8, 8)) == (16, 64, 3, 8, 8)
    assert Nirvana.from_quality(2, mlp_depth=4) == (32, 48, 4, 8, 16, 12)
    assert GNeRV.LAMBDAS[5] == Nirvana.LAMBDAS[5] == 450.0
    with pytest.raises(ValueError):
        GNeRV.from_quality(3, patch_size=16)
