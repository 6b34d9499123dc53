"""--loss through the encoder: a perceptual objective buys the metric it optimises."""

from __future__ import annotations

import pytest

from inrcodec.errors import InrInputError

from .conftest import SAMPLE_48, fast_encode

OPTS = {"gop": 4, "gom": 2, "quality": 2, "channels": None, "iters": 300, "p_iters": 100}


@pytest.mark.slow
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


def tiny_alexnet(folder):
    """A torchvision-layout AlexNet state dict with a few channels (random weights): the layout is
    what the loader needs, not ImageNet training."""
    import torch
    g = torch.Generator().manual_seed(0)
    shapes = {0: (4, 3, 11, 11), 3: (8, 4, 5, 5), 6: (8, 8, 3, 3), 8: (8, 8, 3, 3), 10: (8, 8, 3, 3)}
    state = {}
    for i, shape in shapes.items():
        state[f"features.{i}.weight"] = torch.randn(shape, generator=g) * 0.1
        state[f"features.{i}.bias"] = torch.zeros(shape[0])
    state["classifier.1.weight"] = torch.zeros(2, 2)  # ignored, as torchvision's classifier is
    torch.save(state, folder / "alexnet.pth")
    return folder


def test_perceptual_without_weights_says_what_to_put_where(tmp_path):
    from inrcodec.train.perceptual import MISSING_WEIGHTS
    with pytest.raises(InrInputError) as err:
        fast_encode(SAMPLE_48, tmp_path / "p.inr", loss="perceptual")
    assert str(err.value).startswith(MISSING_WEIGHTS) and "alexnet.pth" in str(err.value)
    empty = tmp_path / "weights"
    empty.mkdir()
    with pytest.raises(InrInputError, match="holds neither alexnet.pth nor vgg16.pth"):
        fast_encode(SAMPLE_48, tmp_path / "p.inr", loss="perceptual", perceptual_weights=str(empty))
    assert not (tmp_path / "p.inr").exists()


def test_perceptual_runs_with_a_local_backbone(tmp_path):
    weights = tiny_alexnet(tmp_path)
    s = fast_encode(SAMPLE_48, tmp_path / "p.inr", gop=4, gom=2, loss="perceptual:deep=0.05",
                    perceptual_weights=str(weights))
    assert s.n_frames == 8 and s.psnr_yuv > 15
    assert s.deep_distance is not None and s.deep_distance > 0
    plain = fast_encode(SAMPLE_48, tmp_path / "m.inr", gop=4, gom=2, perceptual_weights=str(weights))
    assert plain.deep_distance is not None  # the metric is reported whenever the weights are given


def test_perceptual_distance_is_zero_on_identical_frames_and_differentiable(tmp_path):
    import torch
    from inrcodec.train.losses import make_loss
    loss = make_loss("perceptual", perceptual_weights=str(tiny_alexnet(tmp_path)), matrix=6, color_range="limited")
    g = torch.Generator().manual_seed(1)
    a = [torch.rand(2, 32, 48, generator=g), torch.rand(2, 16, 24, generator=g), torch.rand(2, 16, 24, generator=g)]
    assert float(loss(a, [p.clone() for p in a])) == pytest.approx(0.0, abs=1e-6)
    b = [(p * 0.5 + 0.2).requires_grad_() for p in a]
    value = loss(b, a)
    value.backward()
    assert float(value.detach()) > 0 and all(torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0 for p in b)
