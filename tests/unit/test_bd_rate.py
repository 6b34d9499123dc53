"""inrcodec.metrics Bjøntegaard deltas: PCHIP interpolation and BD-rate / BD-PSNR against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from inrcodec.metrics import BDResult, Pchip, bd_psnr_result, bd_rate_result


def bd_rate(anchor, test):
    return bd_rate_result(anchor, test).value


def bd_psnr(anchor, test):
    return bd_psnr_result(anchor, test).value

# x265 veryslow on the 60-frame carphone clip (bpp, PSNR-YUV): a realistic four-plus-point curve.
X265 = [(0.024, 31.87), (0.042, 34.49), (0.074, 37.36), (0.136, 40.42), (0.260, 43.34)]


class TestPchip:
    def test_passes_through_the_points(self):
        x, y = [0.0, 1.0, 2.5, 4.0], [1.0, 3.0, 3.5, 7.0]
        assert np.allclose(Pchip(x, y)(x), y)

    def test_collinear_points_give_the_line(self):
        p = Pchip([0.0, 1.0, 3.0, 4.0], [1.0, 3.0, 7.0, 9.0])
        assert np.allclose(p(np.linspace(0, 4, 41)), 1 + 2 * np.linspace(0, 4, 41))
        assert p.integral(0.5, 3.5) == pytest.approx(3.0 * 1 + (3.5**2 - 0.5**2))

    def test_two_points_are_linear(self):
        p = Pchip([1.0, 3.0], [2.0, 6.0])
        assert float(p(2.0)) == pytest.approx(4.0)
        assert p.integral(1.0, 3.0) == pytest.approx(8.0)

    def test_monotone_data_give_a_monotone_curve(self):
        # A step-like curve: an unconstrained cubic spline overshoots here, PCHIP must not.
        x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
        y = np.array([0.0, 0.0, 1.0, 1.0, 1.0])
        values = Pchip(x, y)(np.linspace(0, 4, 401))
        assert np.all(np.diff(values) >= -1e-12)
        assert values.min() >= 0.0 and values.max() <= 1.0

    def test_flat_where_data_turn(self):
        p = Pchip([0.0, 1.0, 2.0], [0.0, 1.0, 0.0])
        assert p.slopes[1] == 0.0

    def test_integral_matches_dense_quadrature(self):
        q = np.array([q for _, q in X265])
        log_r = np.log([r for r, _ in X265])
        p = Pchip(q, log_r)
        grid = np.linspace(33.0, 42.0, 200001)
        vals = p(grid)
        dense = float(np.sum((vals[1:] + vals[:-1]) / 2 * np.diff(grid)))
        assert p.integral(33.0, 42.0) == pytest.approx(dense, rel=1e-9)

    def test_rejects_unsorted_or_repeated_x(self):
        with pytest.raises(ValueError, match="strictly increasing"):
            Pchip([0.0, 2.0, 1.0], [0.0, 1.0, 2.0])
        with pytest.raises(ValueError, match="strictly increasing"):
            Pchip([0.0, 1.0, 1.0], [0.0, 1.0, 2.0])

    def test_rejects_a_single_point(self):
        with pytest.raises(ValueError, match="two or more"):
            Pchip([1.0], [1.0])

    def test_rejects_extrapolation(self):
        with pytest.raises(ValueError, match="extrapolate"):
            Pchip([0.0, 1.0], [0.0, 1.0]).integral(0.0, 1.5)


class TestBdRate:
    def test_identical_curves_are_zero(self):
        assert bd_rate(X265, X265) == pytest.approx(0.0, abs=1e-12)
        assert bd_psnr(X265, X265) == pytest.approx(0.0, abs=1e-12)

    def test_ten_percent_fewer_bits(self):
        test = [(r * 0.9, q) for r, q in X265]
        assert bd_rate(X265, test) == pytest.approx(-10.0, abs=0.1)
        assert bd_rate(test, X265) == pytest.approx(100 / 0.9 - 100, abs=0.1)

    def test_order_of_points_does_not_matter(self):
        test = [(r * 1.2, q + 0.1) for r, q in X265]
        assert bd_rate(X265[::-1], test[2:] + test[:2]) == pytest.approx(bd_rate(X265, test))

    def test_hand_checkable_linear_case(self):
        # Anchor: ln R = (Q - 30) / 5; test: ln R = (Q - 30) / 10, both on Q in [30, 40].
        # Mean of ln R_test - ln R_anchor over [30, 40] is -(Q - 30) / 10 averaged = -0.5.
        anchor = [(1.0, 30.0), (math.exp(2.0), 40.0)]
        test = [(1.0, 30.0), (math.e, 40.0)]
        result = bd_rate_result(anchor, test)
        assert result.value == pytest.approx((math.exp(-0.5) - 1) * 100)  # -39.35 %
        assert (result.low, result.high) == (30.0, 40.0)

    def test_averages_over_the_common_interval_only(self):
        # The test curve covers Q 35..45; only 35..40 is shared, where it needs e^-1 of the anchor's rate.
        anchor = [(1.0, 30.0), (math.exp(2.0), 40.0)]
        test = [(math.exp(0.0), 35.0), (math.exp(2.0), 45.0)]
        result = bd_rate_result(anchor, test)
        assert (result.low, result.high) == (35.0, 40.0)
        assert result.value == pytest.approx((math.exp(-1.0) - 1) * 100)

    def test_no_overlap_gives_a_reason(self):
        high = [(r * 4, q + 20) for r, q in X265]
        result = bd_rate_result(X265, high)
        assert result.value is None and bd_rate(X265, high) is None
        assert result.reason.startswith("no overlap")
        assert str(result).startswith("n/a (no overlap")

    def test_touching_ranges_do_not_overlap(self):
        assert bd_rate([(1, 30), (2, 35)], [(3, 35), (4, 40)]) is None

    def test_three_points_use_pchip(self):
        # 3-point curves are interpolated as they are (no fitting of a global cubic).
        anchor = X265[:3]
        test = [(r * 0.8, q) for r, q in anchor]
        assert bd_rate(anchor, test) == pytest.approx(-20.0, abs=1e-9)

    def test_str_formats_percent(self):
        assert str(BDResult(-12.345, "%")) == "-12.35%"

    def test_rejects_bad_points(self):
        with pytest.raises(ValueError, match="at least 2 points"):
            bd_rate([(1.0, 30.0)], X265)
        with pytest.raises(ValueError, match="positive"):
            bd_rate([(0.0, 30.0), (1.0, 35.0)], X265)
        with pytest.raises(ValueError, match="same quality"):
            bd_rate([(1.0, 30.0), (2.0, 30.0)], X265)
        with pytest.raises(ValueError, match="pairs"):
            bd_rate([(1.0, 30.0, 0.9), (2.0, 35.0, 0.95)], X265)


class TestBdPsnr:
    def test_one_db_better_everywhere(self):
        test = [(r, q + 1.0) for r, q in X265]
        assert bd_psnr(X265, test) == pytest.approx(1.0)

    def test_hand_checkable_linear_case(self):
        # Anchor: Q = 30 + 5 ln R on ln R in [0, 2]; test: Q = 30 + 10 ln R on [0, 1].
        # Common ln R interval [0, 1]; mean of 5 ln R there is 2.5 dB.
        anchor = [(1.0, 30.0), (math.exp(2.0), 40.0)]
        test = [(1.0, 30.0), (math.e, 40.0)]
        result = bd_psnr_result(anchor, test)
        assert result.value == pytest.approx(2.5)
        assert result.unit == "dB" and (result.low, result.high) == (0.0, 1.0)

    def test_no_overlap_in_rate(self):
        result = bd_psnr_result([(1, 30), (2, 35)], [(3, 31), (4, 36)])
        assert result.value is None and "log rate" in result.reason
