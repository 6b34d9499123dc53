"""inrcodec.metrics: PSNR conventions, SSIM / MS-SSIM, YUV -> RGB and bpp against hand-computed values."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from inrcodec.io.video import open_video
from inrcodec.metrics import bpp, ms_ssim, psnr, psnr_rgb, psnr_yuv, psnr_yuv_from_sse, ssim, yuv_to_rgb

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def first_luma(name):
    """Luma of the first frame of a sample, as float64."""
    with open_video(SAMPLES / name, max_frames=1) as src:
        return next(iter(src))[0].astype(np.float64)


class TestPsnr:
    def test_offset_of_one_code_value(self):
        a = np.full((8, 8), 100, np.uint8)
        assert psnr(a, a + 1) == pytest.approx(48.1308, abs=1e-4)
        assert psnr(a, a + 1) == pytest.approx(20 * math.log10(255))

    def test_identical_is_inf(self):
        a = np.arange(12, dtype=np.uint8).reshape(3, 4)
        assert psnr(a, a) == math.inf

    def test_small_array_by_hand(self):
        # MSE = (0 + 10^2) / 2 = 50; 10 * log10(255^2 / 50) = 10 * log10(1300.5) = 31.14110 dB.
        assert psnr([0, 0], [0, 10]) == pytest.approx(31.14110, abs=1e-5)
        # peak 1023 for 10-bit: MSE 1 -> 20 * log10(1023) = 60.19751 dB.
        assert psnr([5], [6], peak=1023) == pytest.approx(60.19751, abs=1e-5)

    def test_rejects_shape_mismatch(self):
        with pytest.raises(ValueError, match="shapes differ"):
            psnr(np.zeros((2, 2)), np.zeros((2, 3)))


class TestPsnrYuv:
    def test_sequence_mse_and_6_1_1_weighting(self):
        z = lambda h, w: np.zeros((h, w), np.uint8)  # noqa: E731
        a = [(z(4, 4), z(2, 2), z(2, 2)), (z(4, 4), z(2, 2), z(2, 2))]
        v_err = z(2, 2)
        v_err[0, 0] = 4
        b = [(z(4, 4) + 1, z(2, 2), v_err), (z(4, 4), z(2, 2) + 1, z(2, 2))]
        got = psnr_yuv(a, b)
        # Y: 16 errors of 1 over 32 samples -> MSE 0.5 (frame 2 alone would be inf: the MSE is pooled first).
        # U: 4 errors of 1 over 8 -> 0.5; V: one error of 4 over 8 -> MSE 2.
        y = u = 10 * math.log10(255**2 / 0.5)
        v = 10 * math.log10(255**2 / 2)
        assert got["psnr_y"] == pytest.approx(y) and got["psnr_u"] == pytest.approx(u)
        assert got["psnr_v"] == pytest.approx(v)
        assert got["psnr_yuv"] == pytest.approx((6 * y + u + v) / 8)
        assert got["psnr_y"] == pytest.approx(51.14111, abs=1e-5) and got["psnr_v"] == pytest.approx(45.12051, abs=1e-5)

    def test_from_sums_matches_frames(self):
        rng = np.random.default_rng(5)
        a = [tuple(rng.integers(0, 256, shape) for shape in ((6, 8), (3, 4), (3, 4))) for _ in range(3)]
        b = [tuple(np.clip(p + rng.integers(-3, 4, p.shape), 0, 255) for p in f) for f in a]
        sse = [sum(float(np.sum((fa[i] - fb[i]) ** 2)) for fa, fb in zip(a, b)) for i in range(3)]
        counts = [3 * a[0][i].size for i in range(3)]
        assert psnr_yuv_from_sse(sse, counts) == pytest.approx(psnr_yuv(a, b))
        with pytest.raises(ValueError, match="positive"):
            psnr_yuv_from_sse([1.0, 1.0, 1.0], [4, 0, 1])

    def test_rejects_different_lengths(self):
        f = (np.zeros((2, 2)), np.zeros((1, 1)), np.zeros((1, 1)))
        with pytest.raises(ValueError, match="ends after"):
            psnr_yuv([f, f], [f])
        with pytest.raises(ValueError, match="ends after"):
            psnr_yuv([f], [f, f])


class TestRgb:
    def test_black_and_white_limited_range(self):
        h, w = 4, 6
        neutral = np.full((2, 3), 128, np.uint8)
        black = (np.full((h, w), 16, np.uint8), neutral, neutral)
        white = (np.full((h, w), 235, np.uint8), neutral, neutral)
        assert np.all(yuv_to_rgb(black) == 0) and np.all(yuv_to_rgb(white) == 255)
        assert psnr_rgb([black], [white]) == pytest.approx(0.0)
        assert psnr_rgb([black], [black]) == math.inf

    def test_red_per_matrix(self):
        # BT.601 and BT.709 limited-range codes of pure red come back as (255, 0, 0) within rounding.
        for matrix, yuv in ((6, (81, 90, 240)), (1, (63, 102, 240))):
            planes = tuple(np.full((2, 2), c, np.uint8) for c in yuv)
            rgb = yuv_to_rgb(planes, matrix=matrix).astype(int)
            assert np.all(np.abs(rgb - [255, 0, 0]) <= 2), (matrix, rgb[0, 0])

    def test_full_range(self):
        planes = (np.full((2, 2), 255, np.uint8), np.full((2, 2), 128, np.uint8), np.full((2, 2), 128, np.uint8))
        assert np.all(yuv_to_rgb(planes, color_range="full") == 255)

    def test_420_chroma_is_replicated_and_cropped_for_odd_sizes(self):
        y = np.full((3, 5), 126, np.uint8)
        u = np.full((2, 3), 128, np.uint8)
        v = u.copy()
        v[1, 2] = 200  # covers only luma sample (2, 4) of a 3x5 frame
        rgb = yuv_to_rgb((y, u, v))
        changed = np.argwhere(np.any(rgb != rgb[0, 0], axis=-1))
        assert rgb.shape == (3, 5, 3) and changed.tolist() == [[2, 4]]


class TestSsim:
    def test_identical_is_one(self):
        a = np.random.default_rng(1).integers(0, 256, (20, 24))
        assert ssim(a, a) == pytest.approx(1.0, abs=1e-12)

    def test_constant_planes_by_hand(self):
        # No variance: SSIM = (2*100*110 + C1) / (100^2 + 110^2 + C1), C1 = (0.01*255)^2 = 6.5025.
        expected = 22006.5025 / 22106.5025
        assert ssim(np.full((11, 11), 100.0), np.full((11, 11), 110.0)) == pytest.approx(expected, abs=1e-12)
        assert expected == pytest.approx(0.995476, abs=1e-6)

    def test_rejects_planes_smaller_than_window(self):
        with pytest.raises(ValueError, match="11x11"):
            ssim(np.zeros((10, 20)), np.zeros((10, 20)))

    def test_noise_lowers_ssim(self):
        a = first_luma("carphone_48x32_8f.y4m")
        noise = np.random.default_rng(0).normal(0, 10, a.shape)
        assert 0 < ssim(a, a + noise) < 0.95


class TestMsSsim:
    def test_identical_is_one(self):
        a = first_luma("carphone_qcif_16f.mp4")
        assert ms_ssim(a, a) == pytest.approx(1.0, abs=1e-12)

    def test_decreases_with_noise(self):
        a = first_luma("carphone_qcif_16f.mp4")
        rng = np.random.default_rng(0)
        values = [ms_ssim(a, np.clip(a + rng.normal(0, s, a.shape), 0, 255)) for s in (1, 4, 16, 64)]
        assert all(x > y for x, y in zip(values, values[1:])), values
        assert values[0] > 0.99 and values[-1] < 0.7

    def test_one_scale_equals_ssim(self):
        # An 11x11 plane fits one scale only: the renormalised weight is 1 and MS-SSIM is SSIM.
        rng = np.random.default_rng(3)
        a = rng.integers(0, 256, (11, 21)).astype(float)
        b = a + rng.normal(0, 8, a.shape)
        assert ms_ssim(a, b) == pytest.approx(ssim(a, b), rel=1e-12)

    def test_constant_planes_by_hand(self):
        # No contrast at any scale: every cs term is 1 and MS-SSIM is the coarsest luminance term
        # l = (2*100*110 + C1) / (100^2 + 110^2 + C1) raised to the fifth weight, 0.1333 as published
        # (176x176 fits all 5 scales: 176, 88, 44, 22, 11).
        lum = 22006.5025 / 22106.5025
        got = ms_ssim(np.full((176, 176), 100.0), np.full((176, 176), 110.0))
        assert got == pytest.approx(lum**0.1333, rel=1e-12)
        assert got == pytest.approx(0.9993958, abs=1e-7)

    def test_renormalised_weights_by_hand(self):
        # 32x32 fits 2 scales (16 >= 11, 8 < 11): weights 0.0448 and 0.2856 rescaled to sum to 1.
        lum = 22006.5025 / 22106.5025
        got = ms_ssim(np.full((32, 32), 100.0), np.full((32, 32), 110.0))
        assert got == pytest.approx(lum ** (0.2856 / (0.0448 + 0.2856)), rel=1e-12)

    def test_finest_scale_contrast_by_hand(self):
        # A +-10 checkerboard about 100 against flat 100: its 2x2 averages are flat 100, so scales 2..5
        # give cs = 1 and l = 1, and MS-SSIM = cs_1 ** 0.0448. At scale 1 every window sees mean
        # 100 +- 10 s^2 and variance 100 (1 - s^4), s being the alternating sum of the normalised
        # Gaussian taps; the covariance with a flat plane is 0, so cs_1 = C2 / (100 (1 - s^4) + C2).
        taps = np.exp(-((np.arange(11) - 5.0) ** 2) / (2 * 1.5**2))
        s = float(np.sum(taps * (-1.0) ** np.arange(11)) / taps.sum())
        c2 = (0.03 * 255) ** 2
        cs1 = c2 / (100 * (1 - s**4) + c2)
        checker = 100 + 10 * (-1.0) ** np.add.outer(np.arange(176), np.arange(176))
        got = ms_ssim(checker, np.full((176, 176), 100.0))
        assert got == pytest.approx(cs1**0.0448, rel=1e-9)
        assert cs1 == pytest.approx(0.369175, abs=1e-6) and got == pytest.approx(0.956339, abs=1e-6)

    def test_small_sample_uses_fewer_scales(self):
        # 48x32 fits two scales (32 -> 16 >= 11, 8 < 11): finite and between 0 and 1.
        a = first_luma("carphone_48x32_8f.y4m")
        value = ms_ssim(a, a + np.random.default_rng(0).normal(0, 5, a.shape))
        assert 0 < value < 1


class TestBpp:
    def test_values(self):
        assert bpp(176 * 144 * 60 // 8, 176, 144, 60) == 1.0
        assert bpp(4500, 176, 144, 60) == pytest.approx(8 * 4500 / (176 * 144 * 60))

    def test_rejects_bad_sizes(self):
        with pytest.raises(ValueError):
            bpp(10, 0, 144, 1)
        with pytest.raises(ValueError):
            bpp(-1, 1, 1, 1)


def test_docstring_examples_run():
    import doctest

    import inrcodec.metrics

    assert doctest.testmod(inrcodec.metrics).failed == 0
