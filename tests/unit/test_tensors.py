"""inrcodec.tensors: each architecture's coded tensors without torch, and the torch networks' parameters."""

from __future__ import annotations

import subprocess
import sys

import pytest

from inrcodec.costs import NETWORK_COSTS
from inrcodec.tensors import tensor_specs

CASES = [("gnerv", 176, 144, "420", (1, 16, 16, 24, 32, 20, 14)),
         ("gnerv", 33, 17, "444", (0, 8, 12, 6, 8, 6)),
         ("nirvana", 176, 144, "420", (16, 64, 3, 16, 16, 12)),
         ("nirvana", 50, 30, "444", (32, 32, 2, 8, 12, 8)),
         ("hinerv", 176, 144, "420", (1, 2, 0, 16, 8, 32, 24, 16)),
         ("hinerv", 40, 24, "444", (2, 2, 3, 4, 6, 8, 5))]


class TestTensorSpecs:
    @pytest.mark.parametrize("name, width, height, chroma, params", CASES)
    def test_match_the_torch_networks_parameters(self, name, width, height, chroma, params):
        torch = pytest.importorskip("torch")
        from inrcodec.models import ARCHITECTURES

        model = ARCHITECTURES.get(name)(width, height, chroma, params)
        specs = tensor_specs(NETWORK_COSTS.id_of(name), width, height, chroma, params)
        assert specs == model.tensor_specs()
        shapes = {n: tuple(p.shape) for n, p in model.named_parameters()}
        assert {s.name: s.shape for s in specs} == shapes
        assert isinstance(model.embedding if name == "gnerv" else model.head_y.weight, torch.nn.Parameter)

    @pytest.mark.parametrize("name", ["gnerv", "nirvana", "hinerv"])
    def test_every_quality_matches_the_torch_network(self, name):
        pytest.importorskip("torch")
        from inrcodec.models import ARCHITECTURES

        cls = ARCHITECTURES.get(name)
        for q, params in cls.QUALITY.items():
            assert tensor_specs(cls.wire_id, 176, 144, "420", params) == cls(176, 144, "420", params).tensor_specs(), q

    def test_an_unknown_wire_id_is_unsupported(self):
        from inrcodec.errors import InrUnsupportedError

        with pytest.raises(InrUnsupportedError):
            tensor_specs(250, 176, 144, "420", (1, 2))

    def test_invalid_arch_params_rejected(self):
        with pytest.raises(ValueError):
            tensor_specs(NETWORK_COSTS.id_of("gnerv"), 176, 144, "420", (2, 16, 16, 8, 8))

    def test_imports_no_torch(self):
        code = ("import sys; sys.modules['torch'] = None; from inrcodec.tensors import tensor_specs; "
                "print(len(tensor_specs(1, 176, 144, '420', (1, 16, 16, 24, 32, 20, 14))))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "19"
