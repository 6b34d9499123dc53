"""--loss through the encoder: a perceptual objective buys the metric it optimises."""

from __future__ import annotations

import pytest

from inrcodec.errors import InrInputError

from .conftest import SAMPLE_48, fast_encode

OPTS = {"gop": 4, "gom": 2, "quality": 2, "channels": None, "iters": 300, "p_iters": 100}


def test_ms_ssim_training_gives_higher_ms_ssim_than_mse_at_a_comparable_size(tmp_path):
    mse = fast_encode(SAMPLE_48, tmp_path / "mse.inr", loss="mse", **OPTS)
    msssim = fast_encode(SAMPLE_48, tmp_path / "msssim.inr", loss="ms-ssim", **OPTS)
    assert msssim.file_bytes <= 1.2 * mse.file_bytes
    assert msssim.ms_ssim_y > mse.ms_ssim_y + 0.05
    assert mse.psnr_yuv > msssim.psnr_yuv  # each objective wins on its own metric


def test_summary_reports_ssim_and_ms_ssim(tmp_path):
    s = fast_encode(SAMPLE_48, tmp_path / "a.inr", gop=4, gom=2)
    assert 0 < s.ssim_y <= 1 and 0 < s.ms_ssim_y <= 1


def test_bad_loss_leaves_nothing(tmp_path):
    with pytest.raises(InrInputError, match="unknown loss"):
        fast_encode(SAMPLE_48, tmp_path / "x.inr", loss="lpips-ish")
    assert list(tmp_path.iterdir()) == []
