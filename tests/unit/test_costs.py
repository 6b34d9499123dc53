"""inrcodec.costs: each architecture's parameters, MACs and activations by arithmetic, equal to the
built network's (spec/levels.md §3), and arch_params validated before anything is allocated."""

from __future__ import annotations

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import FlopCounterMode

from inrcodec.costs import MAX_PARAMS, NETWORK_COSTS, network_cost
from inrcodec.models import ARCHITECTURES

CASES = [
    ("gnerv", 64, 32, "420", (0, 2, 4, 8, 4)),
    ("gnerv", 37, 29, "420", (0, 4, 8, 6, 8, 4)),
    ("gnerv", 37, 29, "444", (1, 4, 8, 6, 8, 4)),
    ("gnerv", 1, 1, "420", (1, 3, 5, 4, 6, 5, 3)),
    ("gnerv", 17, 9, "444", (0, 1, 1, 3, 2, 2, 2, 2, 2, 2, 2)),  # 8 channel counts: a 256 grid
    ("gnerv", 176, 144, "420", (1, 16, 16, 24, 32, 20, 14)),  # quality 4
    ("nirvana", 37, 29, "420", (8, 16, 1, 4, 6, 4)),
    ("nirvana", 100, 60, "444", (16, 32, 2, 8, 12, 8)),
    ("nirvana", 37, 29, "420", (32, 64, 3, 16, 16, 12)),
    ("nirvana", 1, 1, "420", (8, 5, 1, 3, 4)),
    ("nirvana", 65, 33, "444", (128, 7, 2, 2, 3, 2, 3, 2, 3)),  # 6 channel counts, 128 patches
    ("hinerv", 37, 29, "420", (2, 2, 2, 3, 6, 8, 4)),
    ("hinerv", 37, 29, "444", (1, 3, 0, 0, 5, 4)),  # no local or modulation grids
    ("hinerv", 1, 1, "420", (3, 1, 1, 1, 4, 6, 5, 3)),
    ("hinerv", 176, 144, "420", (1, 2, 0, 16, 8, 32, 24, 16)),
    ("hinerv", 17, 9, "444", (1, 1, 2, 2, 3, 2, 2, 2, 2, 2, 2, 2)),  # 8 channel counts: a 256 grid
]


class _LargestTensor(TorchDispatchMode):
    """Records the most elements of any tensor an operator returns."""

    def __init__(self) -> None:
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                self.largest = max(self.largest, t.numel())
        return out


class TestRegistry:
    def test_architectures_use_the_cost_registry_wire_ids(self):
        assert ARCHITECTURES.names() == NETWORK_COSTS.names()
        for name in NETWORK_COSTS.names():
            assert ARCHITECTURES.id_of(name) == NETWORK_COSTS.id_of(name)
        assert [NETWORK_COSTS.id_of(n) for n in ("gnerv", "nirvana", "hinerv")] == [1, 2, 3]

    def test_costs_import_neither_torch_nor_numpy(self):
        import subprocess
        import sys

        code = ("import sys; sys.modules['torch'] = None; sys.modules['numpy'] = None\n"
                "from inrcodec.costs import network_cost\n"
                "print(network_cost(1, 176, 144, '420', (1, 16, 16, 16, 24, 16, 12)).params)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert int(out.stdout) > 0


@pytest.mark.parametrize("name,w,h,chroma,params", CASES)
class TestAgainstTheNetwork:
    def _built(self, name, w, h, chroma, params):
        model = ARCHITECTURES.get(name)(w, h, chroma, params).eval()
        return model, network_cost(ARCHITECTURES.id_of(name), w, h, chroma, params)

    def test_parameters_are_every_coded_tensor(self, name, w, h, chroma, params):
        model, cost = self._built(name, w, h, chroma, params)
        assert cost.params == sum(s.numel for s in model.tensor_specs())
        assert cost.params == sum(p.numel() for p in model.parameters())

    def test_macs_are_the_flop_counters_half_and_the_models_figure(self, name, w, h, chroma, params):
        model, cost = self._built(name, w, h, chroma, params)
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            model(torch.tensor([0.25]))
        assert 2 * cost.macs == counter.get_total_flops()
        assert model.macs_per_pixel() == cost.macs_per_pixel == cost.macs / (w * h)
        assert cost.pixels == w * h <= cost.grid

    def test_activation_bounds_every_tensor_of_a_frame(self, name, w, h, chroma, params):
        model, cost = self._built(name, w, h, chroma, params)
        seen = _LargestTensor()
        with torch.no_grad(), seen:
            model(torch.tensor([0.5]))
        # weights (a transposed matrix, the heads' merged kernel) are bounded by the parameters
        assert seen.largest <= max(cost.activation, cost.params)
        assert cost.activation <= seen.largest  # and it is no looser than the largest activation


class TestValidation:
    @pytest.mark.parametrize("name,params", [
        ("gnerv", (1, 4, 8, 6)), ("gnerv", (1, 0, 8, 6, 8)), ("gnerv", (1, 4, 8, 6, 0)), ("gnerv", (2, 4, 8, 6, 8)),
        ("gnerv", (1, 65, 8, 6, 8)), ("gnerv", (1, 4, 1025, 6, 8)), ("gnerv", (1, 4, 8) + (2,) * 9),
        ("nirvana", (32, 64, 3, 16)), ("nirvana", (24, 64, 3, 16, 8)), ("nirvana", (8, 64, 3, 4, 4, 4, 4)),
        ("nirvana", (32, 2049, 3, 16, 8)), ("nirvana", (32, 64, 17, 16, 8)), ("nirvana", (128, 8, 1) + (2,) * 7),
        ("hinerv", (1, 1, 0, 0, 8)), ("hinerv", (0, 1, 0, 0, 8, 8)), ("hinerv", (1, 5, 0, 0, 8, 8)),
        ("hinerv", (1, 1, 257, 0, 8, 8)), ("hinerv", (1, 1, 0, 257, 8, 8)), ("hinerv", (1, 1, 0, 0, 8, 0)),
        ("hinerv", (1, 1, 0, 0) + (2,) * 9),
    ])
    def test_invalid_arch_params_raise_value_error_in_the_cost_and_the_model(self, name, params):
        with pytest.raises(ValueError):
            network_cost(ARCHITECTURES.id_of(name), 48, 32, "420", params)
        with pytest.raises(ValueError):
            ARCHITECTURES.get(name)(48, 32, "420", params)

    def test_chroma_and_size_are_checked(self):
        with pytest.raises(ValueError, match="chroma"):
            network_cost(1, 48, 32, "422", (1, 4, 8, 6, 8))
        with pytest.raises(ValueError, match="size"):
            network_cost(1, 0, 32, "420", (1, 4, 8, 6, 8))

    def test_gnerv_cap_counts_the_shift_tensors(self):
        """The audit's 19 M-parameter network: embedding and convolutions 14.2 M (under the old cap),
        the time MLP and shift layers another 5 M."""
        params = (1, 64, 1024, 1024, 1024, 512, 1, 1, 1, 1, 1)
        convs = 9 * 1024 * 1024 + 9 * 1024 * 512
        assert convs < MAX_PARAMS
        with pytest.raises(ValueError, match="exceeds 16777216"):
            network_cost(1, 16, 16, "420", params)

    @pytest.mark.parametrize("name,params", [("gnerv", (1, 64, 1024, 1024, 1024, 512, 1, 1, 1, 1, 1)),
                                             ("nirvana", (8, 2048, 16, 1024, 1024)),
                                             ("hinerv", (256, 4, 0, 0, 1024, 8))])
    def test_the_cap_is_checked_before_any_tensor_is_allocated(self, monkeypatch, name, params):
        def allocate(*args, **kwargs):
            raise AssertionError("a tensor was allocated before the parameter cap was checked")

        for what in ("Parameter", "Linear", "Conv2d"):
            monkeypatch.setattr(torch.nn, what, allocate)
        with pytest.raises(ValueError, match="exceeds 16777216"):
            ARCHITECTURES.get(name)(1920, 1080, "420", params)
