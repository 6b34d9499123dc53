"""Step codes, training-time quantizers and the differentiable rate."""

import math

import numpy as np
import pytest
import torch

from inrcodec.coders import estimate_bits
from inrcodec.quant.entropy import laplace_bits
from inrcodec.quant.quantizer import (MAX_STEP_CODE, MIN_STEP_CODE, code_from_log2_step, quantize_ste,
                                      step_from_code)
from inrcodec.quant.tables import fit_laplace_code, laplace_table


class TestStepCode:
    def test_grid_values_are_exact_powers_and_sixteenths(self):
        assert step_from_code(0) == 1.0
        assert step_from_code(16) == 2.0
        assert step_from_code(1) == 17 / 16
        assert step_from_code(-16) == 0.5
        assert step_from_code(-1) == 31 / 32

    def test_steps_increase_and_are_binary32_exact(self):
        steps = [step_from_code(c) for c in range(MIN_STEP_CODE, MAX_STEP_CODE + 1)]
        assert all(a < b for a, b in zip(steps, steps[1:]))
        assert all(float(np.float32(s)) == s for s in steps)

    def test_nearest_code_round_trips(self):
        for c in range(MIN_STEP_CODE, MAX_STEP_CODE + 1, 7):
            assert code_from_log2_step(math.log2(step_from_code(c))) == c

    def test_step_code_rejects_out_of_range(self):
        with pytest.raises(ValueError):
            step_from_code(MAX_STEP_CODE + 1)


class TestQuantizers:
    def test_ste_rounds_forward_and_passes_gradient(self):
        x = torch.tensor([0.2, 1.7, -2.5], requires_grad=True)
        y = quantize_ste(x)
        assert y.tolist() == [0.0, 2.0, -2.0]
        y.sum().backward()
        assert x.grad.tolist() == [1.0, 1.0, 1.0]


class TestRateEstimate:
    @pytest.mark.parametrize("scale", [0.3, 1.5, 6.0])
    def test_estimate_matches_the_coded_table_within_5_percent(self, scale):
        rng = np.random.default_rng(0)
        q = np.round(rng.laplace(0, scale, 20000)).astype(np.int64)
        est = float(laplace_bits(torch.tensor(q, dtype=torch.float32)))
        table = laplace_table(fit_laplace_code(q), int(np.abs(q).max()))
        real = estimate_bits(q, table)
        assert abs(est - real) / real < 0.05

    def test_rate_gradient_pulls_values_towards_zero(self):
        y = torch.tensor([3.0, -2.0, 0.5, 4.0], requires_grad=True)
        laplace_bits(y).backward()
        assert (y.grad * y.detach() > 0).all()


class TestSegmentRate:
    def test_segment_rate_equals_per_tensor_rates_and_gradients(self):
        from inrcodec.quant.entropy import segment_laplace_bits

        torch.manual_seed(0)
        sizes = [100, 50, 20]
        y = torch.cat([torch.randn(100) * 0.3, torch.randn(50) * 3, torch.rand(20) - 0.5]).requires_grad_()
        seg = torch.repeat_interleave(torch.arange(3), torch.tensor(sizes))
        a = segment_laplace_bits(y, seg, torch.tensor(sizes, dtype=torch.float32))
        b = sum(laplace_bits(p) for p in torch.split(y, sizes))
        assert a.item() == pytest.approx(b.item(), rel=1e-5)
        ga, = torch.autograd.grad(a, y)
        gb, = torch.autograd.grad(b, y)
        assert torch.allclose(ga, gb, atol=1e-5)

    def test_all_zero_tensor_costs_nothing(self):
        from inrcodec.quant.entropy import segment_laplace_bits

        y = torch.cat([torch.zeros(30), torch.tensor([1.0, -2.0])])
        seg = torch.tensor([0] * 30 + [1, 1])
        bits = segment_laplace_bits(y, seg, torch.tensor([30.0, 2.0]))
        assert float(bits) == pytest.approx(float(laplace_bits(y[30:])), rel=1e-6)
